//! Canned Glue answers on the wire. flowlogs talks to Glue through its own JSON 1.1 client
//! (`flowlogs-aws-lite`), which aws-smithy-mocks' interceptors cannot answer (they mock an SDK
//! crate's typed operations): its HTTP client is replaced instead, by one that reads each
//! request's `X-Amz-Target` and JSON body, finds the rule for its action and members, and answers
//! with the rule's status and JSON, as Glue would.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use aws_smithy_http_client::test_util::infallible_client_fn;
use aws_smithy_types::body::SdkBody;
use flowlogs_aws_lite::glue::{Glue, CONTENT_TYPE};
use serde_json::Value;

type Matcher = Arc<dyn Fn(&Value) -> bool + Send + Sync>;

/// The answers to one action's requests that `matching` accepts: `answers` in turn, the last one
/// again once they are used up.
#[derive(Clone)]
pub struct Rule {
    action: String,
    matching: Matcher,
    answers: Vec<(u16, String)>,
    calls: Arc<AtomicUsize>,
}

impl Rule {
    /// A rule for every request of `action` (`GetTable`...), without answers yet.
    pub fn new(action: &str) -> Rule {
        Rule {
            action: action.to_string(),
            matching: Arc::new(|_| true),
            answers: Vec::new(),
            calls: Arc::default(),
        }
    }

    /// Only the requests whose JSON body `f` accepts.
    pub fn matching(mut self, f: impl Fn(&Value) -> bool + Send + Sync + 'static) -> Rule {
        self.matching = Arc::new(f);
        self
    }

    /// The next answer: status 200 with this JSON.
    pub fn ok(self, body: Value) -> Rule {
        self.http(200, &body.to_string())
    }

    /// The next answer: Glue's JSON 1.1 error (`__type`, `Message`), status 400.
    pub fn error(self, code: &str, message: &str) -> Rule {
        self.http(400, &error(code, message))
    }

    /// The next answer, as it is on the wire.
    pub fn http(mut self, status: u16, body: &str) -> Rule {
        self.answers.push((status, body.to_string()));
        self
    }

    /// How many requests this rule answered.
    pub fn num_calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

/// Glue's JSON 1.1 error document.
pub fn error(code: &str, message: &str) -> String {
    serde_json::json!({ "__type": code, "Message": message }).to_string()
}

/// A Glue client answering from `rules` (the first rule of the request's action that accepts
/// it); a request no rule accepts panics, naming it, so a test sees every call it did not expect.
pub fn client(rules: &[&Rule]) -> Glue {
    let rules: Vec<Rule> = rules.iter().map(|r| (*r).clone()).collect();
    let http = infallible_client_fn(move |request: http::Request<SdkBody>| {
        let target = request
            .headers()
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let action = target.strip_prefix("AWSGlue.").unwrap_or(&target);
        let body: Value =
            serde_json::from_slice(request.body().bytes().unwrap_or_default()).unwrap_or_default();
        let rule = rules
            .iter()
            .find(|r| r.action == action && (r.matching)(&body))
            .unwrap_or_else(|| panic!("no canned Glue answer for {target} {body}"));
        let n = rule.calls.fetch_add(1, Ordering::SeqCst);
        let (status, answer) = rule
            .answers
            .get(n)
            .or(rule.answers.last())
            .unwrap_or_else(|| panic!("the rule for {action} has no answer"));
        http::Response::builder()
            .status(*status)
            .header("content-type", CONTENT_TYPE)
            .header("x-amzn-requestid", "5b2f0c5e-1d7a-4c8e-9f3b-example")
            .body(SdkBody::from(answer.clone()))
            .unwrap()
    });
    let config = super::sdk_config().to_builder().http_client(http).build();
    Glue::new(&config)
}
