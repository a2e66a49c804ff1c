//! Canned Glue answers on the wire. flowlogs talks to Glue through its own JSON 1.1 client
//! (`flowlogs-aws-lite`), which aws-smithy-mocks' interceptors cannot answer (they mock an SDK
//! crate's typed operations): its HTTP client is replaced instead, by one that reads each
//! request's `X-Amz-Target` and JSON body, finds the rule for its action and members, and answers
//! with the rule's status and JSON, as Glue would.

use aws_smithy_http_client::test_util::infallible_client_fn;
use aws_smithy_types::body::SdkBody;
use flowlogs_aws_lite::glue::{Glue, CONTENT_TYPE};
use serde_json::Value;

use super::wire;

/// The answers to one action's requests that its matcher accepts (over the request's JSON).
pub type Rule = wire::Rule<Value>;

impl Rule {
    /// The next answer: status 200 with this JSON.
    pub fn ok(self, body: Value) -> Rule {
        self.http(200, &body.to_string())
    }

    /// The next answer: Glue's JSON 1.1 error (`__type`, `Message`), status 400.
    pub fn error(self, code: &str, message: &str) -> Rule {
        self.http(400, &error(code, message))
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
        let (status, answer) = wire::answer("Glue", &rules, action, &body);
        http::Response::builder()
            .status(status)
            .header("content-type", CONTENT_TYPE)
            .header("x-amzn-requestid", "5b2f0c5e-1d7a-4c8e-9f3b-example")
            .body(SdkBody::from(answer))
            .unwrap()
    });
    let config = super::sdk_config().to_builder().http_client(http).build();
    Glue::new(&config)
}
