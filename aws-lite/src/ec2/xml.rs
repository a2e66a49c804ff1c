//! The response side: an EC2 answer as a small tree of elements (name, text, children), read with
//! `xmlparser`, the tokenizer the SDK's own XML decoder is built on. EC2's answers are small (a
//! page of at most 1,000 items), so a tree costs nothing that matters and keeps each typed reader
//! a few lines of lookups.

use std::fmt;

/// One element: its local name (any namespace prefix dropped), its text (entities resolved,
/// whitespace-only text between child elements dropped) and its child elements in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    pub text: String,
    pub children: Vec<Node>,
}

impl Node {
    /// The first child element named `name`.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The element at a `/`-separated path of child names.
    pub fn path(&self, path: &str) -> Option<&Node> {
        path.split('/')
            .try_fold(self, |node, name| node.child(name))
    }

    /// The text of the element at `path`, when there is one.
    pub fn text_at(&self, path: &str) -> Option<&str> {
        self.path(path).map(|n| n.text.as_str())
    }

    /// The `item` elements of the list at `path` (EC2's lists: `<flowLogSet><item>...`); none when
    /// the list is absent.
    pub fn items<'a>(&'a self, path: &str) -> impl Iterator<Item = &'a Node> + 'a {
        self.path(path)
            .into_iter()
            .flat_map(|list| list.children.iter().filter(|c| c.name == "item"))
    }
}

/// The document could not be read as XML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the answer is not well-formed XML: {}", self.0)
    }
}

impl std::error::Error for ParseError {}

/// The root element of `doc`.
pub fn parse(doc: &str) -> Result<Node, ParseError> {
    use xmlparser::{ElementEnd, Token, Tokenizer};
    let mut stack: Vec<Node> = Vec::new();
    let mut root = None;
    for token in Tokenizer::from(doc) {
        match token.map_err(|e| ParseError(e.to_string()))? {
            Token::ElementStart { local, .. } => {
                if root.is_some() {
                    return Err(ParseError("content after the root element".into()));
                }
                stack.push(Node {
                    name: local.as_str().to_string(),
                    ..Node::default()
                });
            }
            Token::ElementEnd { end, .. } => {
                if let ElementEnd::Open = end {
                    continue;
                }
                if let ElementEnd::Close(_, local) = end {
                    let open = stack.last().map(|n| n.name.as_str());
                    if open != Some(local.as_str()) {
                        return Err(ParseError(format!(
                            "</{}> closes <{}>",
                            local.as_str(),
                            open.unwrap_or_default()
                        )));
                    }
                }
                let mut done = stack
                    .pop()
                    .ok_or_else(|| ParseError("stray end tag".into()))?;
                if !done.children.is_empty() && done.text.trim().is_empty() {
                    done.text.clear();
                }
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Token::Text { text } => {
                if let Some(open) = stack.last_mut() {
                    open.text.push_str(&unescape(text.as_str())?);
                }
            }
            Token::Cdata { text, .. } => {
                if let Some(open) = stack.last_mut() {
                    open.text.push_str(text.as_str());
                }
            }
            _ => {}
        }
    }
    match (root, stack.is_empty()) {
        (Some(root), true) => Ok(root),
        (_, false) => Err(ParseError("the document ends inside an element".into())),
        (None, true) => Err(ParseError("no root element".into())),
    }
}

/// The five predefined entities and character references.
fn unescape(s: &str) -> Result<String, ParseError> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let end = rest[at..]
            .find(';')
            .ok_or_else(|| ParseError(format!("unterminated entity in {s:?}")))?;
        let entity = &rest[at + 1..at + end];
        let c = match entity {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = entity.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(dec) = entity.strip_prefix('#') {
                    dec.parse().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32)
                    .ok_or_else(|| ParseError(format!("unknown entity &{entity};")))?
            }
        };
        out.push(c);
        rest = &rest[at + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_keeps_text_children_and_order_and_resolves_entities() {
        let doc = r#"<?xml version="1.0" encoding="UTF-8"?>
<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r-1</requestId>
    <vpcSet><item><vpcId>vpc-1</vpcId><tagSet/></item>
        <item>
            <vpcId>vpc-2</vpcId>
            <tagSet><item><key>Name</key><value>a &amp; b &#x3C;c&#62;</value></item></tagSet>
        </item>
    </vpcSet>
</DescribeVpcsResponse>"#;
        let root = parse(doc).unwrap();
        assert_eq!(root.name, "DescribeVpcsResponse");
        assert_eq!(root.text, "");
        assert_eq!(root.text_at("requestId"), Some("r-1"));
        let ids: Vec<_> = root
            .items("vpcSet")
            .map(|v| v.text_at("vpcId").unwrap())
            .collect();
        assert_eq!(ids, ["vpc-1", "vpc-2"]);
        let second = root.items("vpcSet").nth(1).unwrap();
        assert_eq!(
            second.items("tagSet").next().unwrap().text_at("value"),
            Some("a & b <c>")
        );
        assert_eq!(root.items("noSuchSet").count(), 0);
    }

    #[test]
    fn broken_documents_are_refused() {
        assert!(parse("<a><b></a>").is_err());
        assert!(parse("<a>").is_err());
        assert!(parse("").is_err());
        assert!(parse("<a>&nope;</a>").is_err());
        assert!(parse("<html>Service Unavailable</html>").is_ok());
    }
}
