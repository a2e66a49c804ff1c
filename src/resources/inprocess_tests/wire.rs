//! What the on-the-wire fakes (`ec2_wire`, `glue_wire`) share: a rule per action, with a matcher
//! over the request as the fake reads it (`R`: EC2's form, Glue's JSON), its answers in turn, and
//! a count of the requests it answered.

use std::fmt::Debug;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

type Matcher<R> = Arc<dyn Fn(&R) -> bool + Send + Sync>;

/// The answers to one action's requests that `matching` accepts: `answers` in turn, the last one
/// again once they are used up.
pub struct Rule<R> {
    action: String,
    matching: Matcher<R>,
    answers: Vec<(u16, String)>,
    calls: Arc<AtomicUsize>,
}

impl<R> Clone for Rule<R> {
    fn clone(&self) -> Self {
        Rule {
            action: self.action.clone(),
            matching: self.matching.clone(),
            answers: self.answers.clone(),
            calls: self.calls.clone(),
        }
    }
}

impl<R> Rule<R> {
    /// A rule for every request of `action` (`DescribeFlowLogs`, `GetTable`...), without answers
    /// yet.
    pub fn new(action: &str) -> Rule<R> {
        Rule {
            action: action.to_string(),
            matching: Arc::new(|_| true),
            answers: Vec::new(),
            calls: Arc::default(),
        }
    }

    /// Only the requests `f` accepts.
    pub fn matching(mut self, f: impl Fn(&R) -> bool + Send + Sync + 'static) -> Rule<R> {
        self.matching = Arc::new(f);
        self
    }

    /// The next answer, as it is on the wire.
    pub fn http(mut self, status: u16, body: &str) -> Rule<R> {
        self.answers.push((status, body.to_string()));
        self
    }

    /// How many requests this rule answered.
    pub fn num_calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    pub fn action(&self) -> &str {
        &self.action
    }
}

/// The next answer of the first rule of `action` that accepts `request`. A request no rule
/// accepts panics, naming it, so a test sees every call it did not expect.
pub fn answer<R: Debug>(
    service: &str,
    rules: &[Rule<R>],
    action: &str,
    request: &R,
) -> (u16, String) {
    let rule = rules
        .iter()
        .find(|r| r.action == action && (r.matching)(request))
        .unwrap_or_else(|| panic!("no canned {service} answer for {action} {request:?}"));
    let n = rule.calls.fetch_add(1, Ordering::SeqCst);
    rule.answers
        .get(n)
        .or(rule.answers.last())
        .cloned()
        .unwrap_or_else(|| panic!("the rule for {action} has no answer"))
}
