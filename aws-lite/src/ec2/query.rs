//! The request side of EC2's Query protocol: `Action`, `Version` and the parameters, flattened
//! to `Name.N` / `Name.N.Field` and form-encoded into the POST body.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::ops::{Filter, Tag};

/// EC2's API version, the one every current SDK sends.
pub const VERSION: &str = "2016-11-15";

/// RFC 3986's unreserved characters stay as they are; everything else is percent-encoded (what
/// the SDK's query writer does, and what SigV4 expects of a form body).
const ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The parameters of one request, in the order they were set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn new() -> Params {
        Params::default()
    }

    /// One parameter.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) -> &mut Params {
        self.0.push((name.into(), value.into()));
        self
    }

    /// One parameter when there is a value.
    pub fn opt(&mut self, name: &str, value: Option<impl Into<String>>) -> &mut Params {
        if let Some(value) = value {
            self.set(name, value);
        }
        self
    }

    /// A list: `Name.1`, `Name.2`, ...
    pub fn list<S: AsRef<str>>(&mut self, name: &str, values: &[S]) -> &mut Params {
        for (i, value) in values.iter().enumerate() {
            self.set(format!("{name}.{}", i + 1), value.as_ref());
        }
        self
    }

    /// `Filter.N.Name` and `Filter.N.Value.M`.
    pub fn filters(&mut self, filters: &[Filter]) -> &mut Params {
        for (i, filter) in filters.iter().enumerate() {
            let prefix = format!("Filter.{}", i + 1);
            self.set(format!("{prefix}.Name"), &filter.name);
            self.list(&format!("{prefix}.Value"), &filter.values);
        }
        self
    }

    /// `Prefix.N.Key` and `Prefix.N.Value` (CreateTags' `Tag`, a tag specification's `...Tag`).
    pub fn tags(&mut self, prefix: &str, tags: &[Tag]) -> &mut Params {
        for (i, tag) in tags.iter().enumerate() {
            self.set(format!("{prefix}.{}.Key", i + 1), &tag.key);
            self.set(format!("{prefix}.{}.Value", i + 1), &tag.value);
        }
        self
    }

    /// `TagSpecification.1.ResourceType` and its tags; nothing when there are no tags.
    pub fn tag_specification(&mut self, resource_type: &str, tags: &[Tag]) -> &mut Params {
        if !tags.is_empty() {
            self.set("TagSpecification.1.ResourceType", resource_type);
            self.tags("TagSpecification.1.Tag", tags);
        }
        self
    }

    /// The value of a parameter (the first one of that name).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The form body of `action` with these parameters.
    pub fn encode(&self, action: &str) -> String {
        let mut out = format!("Action={}&Version={VERSION}", encode(action));
        for (name, value) in &self.0 {
            out.push('&');
            out.push_str(&encode(name));
            out.push('=');
            out.push_str(&encode(value));
        }
        out
    }
}

fn encode(s: &str) -> String {
    utf8_percent_encode(s, ENCODE).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_filters_and_tags_are_numbered_from_one_and_values_are_encoded() {
        let mut p = Params::new();
        p.list("FlowLogId", &["fl-1", "fl-2"])
            .filters(&[Filter::new("tag:flowlogs:stack", ["a b", "c/d"])]);
        p.tags("Tag", &[Tag::new("Name", "x=y&z")]);
        assert_eq!(
            p.encode("DescribeFlowLogs"),
            "Action=DescribeFlowLogs&Version=2016-11-15&FlowLogId.1=fl-1&FlowLogId.2=fl-2\
             &Filter.1.Name=tag%3Aflowlogs%3Astack&Filter.1.Value.1=a%20b&Filter.1.Value.2=c%2Fd\
             &Tag.1.Key=Name&Tag.1.Value=x%3Dy%26z"
        );
    }

    #[test]
    fn a_tag_specification_without_tags_is_left_out() {
        let mut p = Params::new();
        p.tag_specification("vpc", &[]);
        assert_eq!(p, Params::new());
    }
}
