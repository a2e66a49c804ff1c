//! Flow logs across many accounts and regions (`targets:` in the config): which targets there are
//! (`targets`, from the config or AWS Organizations through `org`), the AWS clients of each
//! (`clients`: an assumed role in a member account), and each target's flow logs read, planned
//! and applied with bounded concurrency (`run`), a target that fails reported beside the others.
//! The hub (the stack's own account and region) keeps every other resource (`crate::planner`).

pub mod clients;
#[cfg(test)]
mod inprocess_tests;
pub mod org;
pub mod resolve;
pub mod run;
pub mod targets;

use serde::Serialize;

/// One account and region flow logs are made in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Target {
    pub account: String,
    pub region: String,
}

impl Target {
    pub fn new(account: &str, region: &str) -> Target {
        Target {
            account: account.to_string(),
            region: region.to_string(),
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.account, self.region)
    }
}

/// A target that could not be read or changed, and what to do about it; the other targets are
/// still done.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetFailure {
    pub account: String,
    pub region: String,
    /// The role assumed there (`None`: the hub's own account, its own credentials).
    pub role: Option<String>,
    /// The AWS action that failed (`sts:AssumeRole`, `ec2:DescribeVpcs`, `ec2:CreateFlowLogs`...).
    pub action: String,
    pub error: String,
    pub fix: String,
}

impl std::fmt::Display for TargetFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "account {} {}", self.account, self.region)?;
        if let Some(role) = &self.role {
            write!(f, " (role {role})")?;
        }
        write!(f, ": {} failed: {}; {}", self.action, self.error, self.fix)
    }
}
