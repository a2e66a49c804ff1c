//! Tags as flowlogs holds them (a sorted map) to and from each SDK's own tag type.

use std::collections::{BTreeMap, HashMap};

use anyhow::Result;

pub type Tags = BTreeMap<String, String>;

/// Any list of key/value pairs, as a map.
pub fn from_pairs<K: ToString, V: ToString>(pairs: impl IntoIterator<Item = (K, V)>) -> Tags {
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn to_s3(tags: &Tags) -> Result<Vec<aws_sdk_s3::types::Tag>> {
    tags.iter()
        .map(|(k, v)| Ok(aws_sdk_s3::types::Tag::builder().key(k).value(v).build()?))
        .collect()
}

pub fn to_iam(tags: &Tags) -> Result<Vec<aws_sdk_iam::types::Tag>> {
    tags.iter()
        .map(|(k, v)| Ok(aws_sdk_iam::types::Tag::builder().key(k).value(v).build()?))
        .collect()
}

pub fn to_firehose(tags: &Tags) -> Result<Vec<aws_sdk_firehose::types::Tag>> {
    tags.iter()
        .map(|(k, v)| {
            Ok(aws_sdk_firehose::types::Tag::builder()
                .key(k)
                .value(v)
                .build()?)
        })
        .collect()
}

pub fn to_ec2(tags: &Tags) -> Vec<flowlogs_aws_lite::ec2::Tag> {
    tags.iter()
        .map(|(k, v)| flowlogs_aws_lite::ec2::Tag::new(k, v))
        .collect()
}

/// Lambda and CloudWatch Logs take a plain map.
pub fn to_map(tags: &Tags) -> HashMap<String, String> {
    tags.clone().into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_keeps_every_pair() {
        let tags = from_pairs([("flowlogs:stack", "s"), ("managed-by", "flowlogs")]);
        assert_eq!(to_s3(&tags).unwrap().len(), 2);
        assert_eq!(to_iam(&tags).unwrap()[0].key(), "flowlogs:stack");
        assert_eq!(to_firehose(&tags).unwrap()[1].value(), Some("flowlogs"));
        assert_eq!(to_ec2(&tags)[1].key, "managed-by");
        assert_eq!(to_map(&tags)["flowlogs:stack"], "s");
    }
}
