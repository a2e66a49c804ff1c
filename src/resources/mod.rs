//! One module per AWS resource, each the same shape (`Resource`): its desired value (pure, built from
//! the config in `crate::desired`), `observe` (reads only), a pure `plan` and `plan_teardown` over
//! desired and observed, and `apply`, the write calls of one operation. A resource knows the plan's
//! types, the AWS toolkit and the desired values; never the planner, verify or a command.

pub mod bucket;
pub mod bucket_eventbridge;
pub mod bucket_policy;
pub mod event_invoke_config;
pub mod event_permission;
pub mod event_rule;
pub mod failure_bucket;
pub mod flow_log;
pub mod function;
pub mod function_log_group;
pub mod glue_database;
pub mod glue_table;
#[cfg(test)]
pub(crate) mod inprocess_tests;
pub mod named_queries;
pub mod notification;
pub mod permission;
pub mod role;
pub mod secret;
pub mod stream;
pub mod stream_log_group;
pub mod tgw_glue_table;
pub mod tgw_notification;

use anyhow::Result;

use crate::aws::Clients;
use crate::desired::{Desired, Names};
use crate::package::CodeSource;
use crate::plan::{Kind, Plan};
use crate::ui::Progress;

/// What `observe` may use: the clients and the names (plus the resources flow logs are wanted on).
pub struct Observe<'a> {
    pub clients: &'a Clients,
    pub names: &'a Names,
    pub resource_ids: &'a [String],
}

/// What `plan_teardown` is told.
#[derive(Debug, Clone, Copy)]
pub struct Teardown<'a> {
    pub names: &'a Names,
    /// `teardown --delete-data`: the bucket of ours goes too, objects and all.
    pub delete_data: bool,
}

/// What `apply` may use.
pub struct Apply<'a> {
    pub clients: &'a Clients,
    pub code: &'a CodeSource,
    pub progress: &'a Progress,
    /// What earlier steps of this run made, for the steps after them.
    pub made: Made,
}

/// What a step made that a later step names: the ARN of a secret from its CreateSecret, so the
/// function and the stream need not ask AWS for it again.
#[derive(Debug, Default)]
pub struct Made {
    secret_arns: std::sync::Mutex<std::collections::BTreeMap<String, String>>,
}

impl Made {
    pub fn secret_made(&self, name: &str, arn: String) {
        self.secret_arns
            .lock()
            .expect("not poisoned")
            .insert(name.to_string(), arn);
    }

    pub fn secret_arn(&self, name: &str) -> Option<String> {
        self.secret_arns
            .lock()
            .expect("not poisoned")
            .get(name)
            .cloned()
    }
}

/// The shape every resource has. Implemented once per resource (twice for the IAM role, which
/// serves the forwarder and the Firehose stream).
#[allow(async_fn_in_trait)] // used inside this crate only, on one runtime
pub trait Resource {
    /// How the plan names this resource.
    const KIND: Kind;
    /// Its desired value, built purely from the config.
    type Desired;
    /// What AWS holds for it.
    type Observed: Default;
    /// Its AWS writes: only this resource's, so the compiler checks who carries out which.
    type Op;

    /// This resource's part of the desired stack; `None` when the config does not want it.
    fn desired(stack: &Desired) -> Option<&Self::Desired>;

    /// Reads only.
    async fn observe(cx: &Observe<'_>) -> Result<Self::Observed>;

    /// Pure: what setup must do to turn `observed` into `desired`.
    fn plan(names: &Names, desired: &Self::Desired, observed: &Self::Observed) -> Plan<Self::Op>;

    /// Pure: what removes it, when it is ours.
    fn plan_teardown(cx: Teardown<'_>, observed: &Self::Observed) -> Plan<Self::Op>;

    /// The write calls of one operation of this resource's steps.
    async fn apply(cx: &Apply<'_>, op: &Self::Op) -> Result<()>;
}
