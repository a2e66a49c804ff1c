//! Canned EC2 answers on the wire. flowlogs talks to EC2 through its own Query client
//! (`flowlogs_aws_lite::ec2`), which aws-smithy-mocks' interceptors cannot answer (they mock an SDK
//! crate's typed operations): its HTTP client is replaced instead, by one that reads the form
//! body of each request, finds the rule for its `Action` and parameters, and answers with the
//! rule's status and XML, as EC2 would.

use std::sync::{Arc, Mutex};

use aws_smithy_http_client::test_util::infallible_client_fn;
use aws_smithy_types::body::SdkBody;

use super::wire;

/// A request's form parameters (`Action`, `Version` and the rest), decoded.
#[derive(Debug, Clone, Default)]
pub struct Form(Vec<(String, String)>);

impl Form {
    fn parse(body: &[u8]) -> Form {
        let text = String::from_utf8_lossy(body);
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(&s.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        };
        Form(
            text.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (decode(k), decode(v))
                })
                .collect(),
        )
    }

    /// The value of parameter `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The values of list `name` (`name.1`, `name.2`...), in order.
    pub fn list(&self, name: &str) -> Vec<String> {
        (1..)
            .map_while(|i| self.get(&format!("{name}.{i}")).map(str::to_string))
            .collect()
    }

    /// The values of the filter named `name`, when the request has one.
    pub fn filter(&self, name: &str) -> Option<Vec<String>> {
        (1..)
            .map_while(|i| self.get(&format!("Filter.{i}.Name")).map(|n| (i, n)))
            .find(|(_, n)| *n == name)
            .map(|(i, _)| self.list(&format!("Filter.{i}.Value")))
    }
}

/// The answers to one action's requests that its matcher accepts (over the request's form).
pub type Rule = wire::Rule<Form>;

impl Rule {
    /// The next answer: EC2's `<{Action}Response>` around `body`, status 200.
    pub fn ok(self, body: &str) -> Rule {
        let answer = answer(self.action(), body);
        self.http(200, &answer)
    }
}

/// An EC2 success answer: `<{action}Response>` with a request id around `body`.
pub fn answer(action: &str, body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{action}Response xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">\n    <requestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</requestId>\n{body}\n</{action}Response>"
    )
}

/// `<item>` with these child elements (`(name, XML content)`).
pub fn item(fields: &[(&str, &str)]) -> String {
    let inner: String = fields
        .iter()
        .map(|(k, v)| format!("<{k}>{v}</{k}>"))
        .collect();
    format!("<item>{inner}</item>")
}

/// A `tagSet` of these pairs.
pub fn tag_set<K: AsRef<str>, V: AsRef<str>>(tags: impl IntoIterator<Item = (K, V)>) -> String {
    tags.into_iter()
        .map(|(k, v)| item(&[("key", k.as_ref()), ("value", v.as_ref())]))
        .collect()
}

/// A list element `name` of these items, and a `nextToken` when there is one.
pub fn set(name: &str, items: &[String], next_token: Option<&str>) -> String {
    let token = next_token
        .map(|t| format!("<nextToken>{t}</nextToken>"))
        .unwrap_or_default();
    format!("<{name}>{}</{name}>{token}", items.concat())
}

/// An EC2 client answering from `rules` (the first rule of the request's action that accepts it);
/// a request no rule accepts panics, naming it, so a test sees every call it did not expect. The
/// requests' forms are kept in `sent` when it is given.
pub fn client(rules: &[&Rule], sent: Option<Arc<Mutex<Vec<Form>>>>) -> flowlogs_aws_lite::ec2::Ec2 {
    let rules: Vec<Rule> = rules.iter().map(|r| (*r).clone()).collect();
    let http = infallible_client_fn(move |request: http::Request<SdkBody>| {
        let form = Form::parse(request.body().bytes().unwrap_or_default());
        if let Some(sent) = &sent {
            sent.lock().unwrap().push(form.clone());
        }
        let action = form.get("Action").unwrap_or_default();
        let (status, body) = wire::answer("EC2", &rules, action, &form);
        http::Response::builder()
            .status(status)
            .header("content-type", "text/xml;charset=UTF-8")
            .body(SdkBody::from(body))
            .unwrap()
    });
    let config = super::sdk_config().to_builder().http_client(http).build();
    flowlogs_aws_lite::ec2::Ec2::new(&config)
}
