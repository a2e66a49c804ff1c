//! The forwarder's asynchronous-invocation settings (Lambda's "event invoke config"): how often
//! Lambda retries an S3 event the function failed on, how old an event may grow, and where the
//! event goes when it still fails: the stack's failure bucket (an S3 on-failure destination), where
//! Lambda writes an invocation record under `aws/lambda/async/<function>/` and `flowlogs replay`
//! finds it. It belongs to the function: it is ours when the function is, and goes with it.

use anyhow::{Context, Result};
use serde::Serialize;

use super::{Apply, Observe, Resource, Teardown};
use crate::aws::errors::{
    is_destination_permission_not_yet_granted, is_not_found, is_update_in_progress,
};
use crate::aws::wait::{self, Patience};
use crate::aws::{tags, Clients};
use crate::desired::{Desired, DesiredEventInvoke, Names};
use crate::plan::{Action, Change, Kind};
use crate::ui::Progress;

/// This resource's AWS writes, each with everything it needs; in the plan's `ops` as
/// `{"op": "<snake_case name>", ...}`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// Sets the function's retries, event age and S3 on-failure destination (PutFunctionEventInvokeConfig).
    PutEventInvokeConfig {
        event_invoke: DesiredEventInvoke,
    },
    DeleteEventInvokeConfig {
        function: String,
    },
}

type Plan = crate::plan::Plan<Op>;

pub struct EventInvokeConfig;

impl Resource for EventInvokeConfig {
    const KIND: Kind = Kind::EventInvokeConfig;
    type Desired = DesiredEventInvoke;
    type Observed = Option<ObservedEventInvoke>;
    type Op = Op;

    fn desired(stack: &Desired) -> Option<&DesiredEventInvoke> {
        stack
            .forwarder
            .as_ref()
            .and_then(|f| f.event_invoke.as_ref())
    }

    async fn observe(cx: &Observe<'_>) -> Result<Option<ObservedEventInvoke>> {
        observe(cx.clients, cx.names).await
    }

    fn plan(
        names: &Names,
        desired: &DesiredEventInvoke,
        observed: &Option<ObservedEventInvoke>,
    ) -> Plan {
        plan(names, desired, observed.as_ref())
    }

    fn plan_teardown(cx: Teardown<'_>, observed: &Option<ObservedEventInvoke>) -> Plan {
        plan_teardown(cx.names, observed.as_ref())
    }

    async fn apply(cx: &Apply<'_>, op: &Op) -> Result<()> {
        match op {
            Op::PutEventInvokeConfig { event_invoke } => {
                put(cx.clients, event_invoke, cx.progress).await
            }
            Op::DeleteEventInvokeConfig { function } => delete(cx.clients, function).await,
        }
    }
}

/// The settings as Lambda holds them, on a function that exists.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedEventInvoke {
    pub function: String,
    /// The function carries our stack tag.
    pub function_ours: bool,
    /// `None`: the function has no event invoke config (Lambda's defaults: 2 retries, 6 hours,
    /// no destination).
    pub current: Option<CurrentEventInvoke>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CurrentEventInvoke {
    pub max_retry_attempts: Option<i32>,
    pub max_event_age_s: Option<i32>,
    pub on_failure_destination: Option<String>,
}

pub async fn observe(clients: &Clients, names: &Names) -> Result<Option<ObservedEventInvoke>> {
    let name = &names.function;
    let Some(function) = super::function::get(clients, name).await? else {
        return Ok(None);
    };
    let function_ours = names.is_ours(&function.tags().map(tags::from_pairs).unwrap_or_default());
    let current = match clients
        .lambda
        .get_function_event_invoke_config()
        .function_name(name)
        .send()
        .await
    {
        Ok(out) => Some(CurrentEventInvoke {
            max_retry_attempts: out.maximum_retry_attempts(),
            max_event_age_s: out.maximum_event_age_in_seconds(),
            on_failure_destination: out
                .destination_config()
                .and_then(|d| d.on_failure())
                .and_then(|f| f.destination())
                .map(str::to_string),
        }),
        Err(e) if is_not_found(&e) => None,
        Err(e) => {
            return Err(e).with_context(|| {
                format!("reading the asynchronous invocation settings of Lambda function {name}")
            })
        }
    };
    Ok(Some(ObservedEventInvoke {
        function: name.clone(),
        function_ours,
        current,
    }))
}

fn shown<T: std::fmt::Display>(value: Option<T>, default: &str) -> String {
    value.map_or_else(|| default.to_string(), |v| v.to_string())
}

/// Missing (or the function not made yet): put. Differs: put again (Put replaces the whole
/// config). A function that is not ours is the function's conflict, not this one's.
pub fn plan(names: &Names, d: &DesiredEventInvoke, observed: Option<&ObservedEventInvoke>) -> Plan {
    let mut plan = Plan::default();
    let kind = Kind::EventInvokeConfig;
    if observed.is_some_and(|o| !o.function_ours) {
        return plan;
    }
    let want = |retries: &str, age: &str, dest: &str| {
        vec![
            Change::new("max_retry_attempts", retries, d.max_retry_attempts),
            Change::new("max_event_age_s", age, d.max_event_age_s),
            Change::new(
                "on_failure",
                dest,
                format!(
                    "{}/{}",
                    d.on_failure_destination,
                    names.failure_prefix().trim_end_matches('/')
                ),
            ),
        ]
    };
    let put = vec![Op::PutEventInvokeConfig {
        event_invoke: d.clone(),
    }];
    let Some(current) = observed.and_then(|o| o.current.as_ref()) else {
        plan.step(kind, &d.function, Action::Create, want("", "", ""), put);
        return plan;
    };
    let changes: Vec<Change> = [
        Change::differs_shown(
            "max_retry_attempts",
            current.max_retry_attempts,
            Some(d.max_retry_attempts as i32),
            |n| shown(*n, "default (2)"),
        ),
        Change::differs_shown(
            "max_event_age_s",
            current.max_event_age_s,
            Some(d.max_event_age_s as i32),
            |s| shown(*s, "default (21600)"),
        ),
        Change::differs_shown(
            "on_failure",
            current.on_failure_destination.as_deref(),
            Some(d.on_failure_destination.as_str()),
            |arn| shown(*arn, "none"),
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    if changes.is_empty() {
        plan.in_sync(kind, &d.function);
    } else {
        plan.step(kind, &d.function, Action::Update, changes, put);
    }
    plan
}

/// The config goes when the function is ours and has one (also when `on_failure.enabled` is
/// turned off: Lambda's defaults come back, and failed events are dropped again).
pub fn plan_teardown(_names: &Names, observed: Option<&ObservedEventInvoke>) -> Plan {
    let mut plan = Plan::default();
    if let Some(o) = observed.filter(|o| o.function_ours && o.current.is_some()) {
        plan.step(
            Kind::EventInvokeConfig,
            &o.function,
            Action::Delete,
            Vec::new(),
            vec![Op::DeleteEventInvokeConfig {
                function: o.function.clone(),
            }],
        );
    }
    plan
}

async fn put(clients: &Clients, d: &DesiredEventInvoke, progress: &Progress) -> Result<()> {
    use aws_sdk_lambda::types::{DestinationConfig, OnFailure};
    let destination = DestinationConfig::builder()
        .on_failure(
            OnFailure::builder()
                .destination(&d.on_failure_destination)
                .build(),
        )
        .build();
    wait::retry(
        progress,
        Patience::iam(&format!(
            "Lambda to accept {} as the on-failure destination of {} (the role's new permission propagating, or an update of the function in progress)",
            d.on_failure_destination, d.function
        )),
        || {
            clients
                .lambda
                .put_function_event_invoke_config()
                .function_name(&d.function)
                .maximum_retry_attempts(d.max_retry_attempts as i32)
                .maximum_event_age_in_seconds(d.max_event_age_s as i32)
                .destination_config(destination.clone())
                .send()
        },
        |e| is_destination_permission_not_yet_granted(e) || is_update_in_progress(e),
    )
    .await
    .map(|_| ())
    .with_context(|| {
        format!(
            "setting the retries and on-failure destination of Lambda function {}",
            d.function
        )
    })
}

async fn delete(clients: &Clients, function: &str) -> Result<()> {
    match clients
        .lambda
        .delete_function_event_invoke_config()
        .function_name(function)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        Err(e) => Err(e).with_context(|| {
            format!("removing the asynchronous invocation settings of Lambda function {function}")
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        crate::resources::stream::tests::desired().names
    }

    fn desired(names: &Names) -> DesiredEventInvoke {
        DesiredEventInvoke {
            function: names.function.clone(),
            max_retry_attempts: 2,
            max_event_age_s: 21600,
            on_failure_destination: names.failure_bucket_arn(),
        }
    }

    fn observed(d: &DesiredEventInvoke) -> ObservedEventInvoke {
        ObservedEventInvoke {
            function: d.function.clone(),
            function_ours: true,
            current: Some(CurrentEventInvoke {
                max_retry_attempts: Some(d.max_retry_attempts as i32),
                max_event_age_s: Some(d.max_event_age_s as i32),
                on_failure_destination: Some(d.on_failure_destination.clone()),
            }),
        }
    }

    #[test]
    fn a_function_without_settings_gets_them_and_the_plan_says_where_failures_go() {
        let names = names();
        let d = desired(&names);
        for observed in [
            None,
            Some(ObservedEventInvoke {
                current: None,
                ..observed(&d)
            }),
        ] {
            let plan = plan(&names, &d, observed.as_ref());
            assert_eq!(plan.steps.len(), 1);
            assert_eq!(plan.steps[0].action, Action::Create);
            let dest = &plan.steps[0].changes[2].to;
            assert!(
                dest.ends_with(&format!("/aws/lambda/async/{}", names.function)),
                "{dest}"
            );
            assert!(matches!(
                plan.steps[0].ops[..],
                [Op::PutEventInvokeConfig { .. }]
            ));
        }
    }

    #[test]
    fn settings_as_wanted_are_in_sync_and_a_changed_retry_count_is_an_update_of_that_field() {
        let names = names();
        let d = desired(&names);
        let same = plan(&names, &d, Some(&observed(&d)));
        assert!(same.steps.is_empty());
        assert_eq!(same.in_sync.len(), 1);

        let mut o = observed(&d);
        o.current.as_mut().unwrap().max_retry_attempts = Some(0);
        let changed = plan(&names, &d, Some(&o));
        assert_eq!(changed.steps[0].action, Action::Update);
        assert_eq!(changed.steps[0].changes.len(), 1);
        assert_eq!(changed.steps[0].changes[0].field, "max_retry_attempts");
        assert_eq!(
            (
                changed.steps[0].changes[0].from.as_str(),
                changed.steps[0].changes[0].to.as_str()
            ),
            ("0", "2")
        );
    }

    #[test]
    fn a_function_that_is_not_ours_keeps_its_settings() {
        let names = names();
        let d = desired(&names);
        let mut o = observed(&d);
        o.function_ours = false;
        o.current.as_mut().unwrap().max_retry_attempts = Some(0);
        assert!(plan(&names, &d, Some(&o)).steps.is_empty());
        assert!(plan_teardown(&names, Some(&o)).steps.is_empty());
    }

    #[test]
    fn teardown_removes_our_settings_and_nothing_when_there_are_none() {
        let names = names();
        let d = desired(&names);
        let torn = plan_teardown(&names, Some(&observed(&d)));
        assert!(matches!(
            torn.steps[0].ops[..],
            [Op::DeleteEventInvokeConfig { .. }]
        ));
        let bare = ObservedEventInvoke {
            current: None,
            ..observed(&d)
        };
        assert!(plan_teardown(&names, Some(&bare)).steps.is_empty());
        assert!(plan_teardown(&names, None).steps.is_empty());
    }
}
