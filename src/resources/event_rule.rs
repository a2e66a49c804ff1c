//! The EventBridge trigger's rule: on the default event bus, it matches S3's Object Created events
//! of the stack's bucket under the flow-log prefix and suffix, and its one target of ours is the
//! forwarder. The rule is ours only with our stack tag; a same-named rule without it is a conflict.
//!
//! AWS's rules (EventBridge API reference): PutRule replaces every argument of an existing rule
//! (so pattern, state and description are always sent) and takes tags only when it creates the
//! rule (TagResource adds missing ones later); a rule with targets cannot be deleted, so its
//! targets go first (RemoveTargets answers per-entry failures in a 200); PutTargets, too, answers
//! `FailedEntryCount` in a 200.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use aws_sdk_eventbridge::types::{RuleState, Tag, Target};
use serde::Serialize;
use serde_json::Value;

use super::{Apply, Observe, Resource, Teardown};
use crate::aws::tags::Tags;
use crate::aws::Clients;
use crate::desired::eventbridge::DesiredEventRule;
use crate::desired::{Desired, Names};
use crate::plan::{Action, Change, Kind};

/// This resource's AWS writes; in the plan's `ops` as `{"op": "<snake_case name>", ...}`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// PutRule: creates the rule with its tags, or sets its pattern, state and description.
    PutRule {
        rule: DesiredEventRule,
        create: bool,
    },
    /// PutTargets: the forwarder as the rule's target (others' targets are kept).
    PutTarget { rule: DesiredEventRule },
    /// TagResource with the tags the rule lacks.
    TagRule { arn: String, tags: Tags },
    /// RemoveTargets (every target of our rule), then DeleteRule.
    DeleteRule {
        name: String,
        target_ids: Vec<String>,
    },
}

type Plan = crate::plan::Plan<Op>;

/// What the default bus holds under the rule's name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedRule {
    pub name: String,
    pub arn: String,
    /// `None`: a rule without a pattern, or one that is not JSON.
    pub pattern: Option<Value>,
    pub state: String,
    pub description: String,
    pub tags: Tags,
    pub targets: Vec<ObservedTarget>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedTarget {
    pub id: String,
    pub arn: String,
}

pub struct EventRule;

impl Resource for EventRule {
    const KIND: Kind = Kind::EventRule;
    type Desired = DesiredEventRule;
    type Observed = Option<ObservedRule>;
    type Op = Op;

    fn desired(stack: &Desired) -> Option<&DesiredEventRule> {
        stack
            .forwarder
            .as_ref()
            .and_then(|f| f.eventbridge.as_ref())
            .map(|e| &e.rule)
    }

    async fn observe(cx: &Observe<'_>) -> Result<Option<ObservedRule>> {
        observe(cx.clients, &cx.names.event_rule()).await
    }

    fn plan(names: &Names, desired: &DesiredEventRule, observed: &Option<ObservedRule>) -> Plan {
        plan(names, desired, observed.as_ref())
    }

    fn plan_teardown(cx: Teardown<'_>, observed: &Option<ObservedRule>) -> Plan {
        plan_teardown(cx.names, observed.as_ref())
    }

    async fn apply(cx: &Apply<'_>, op: &Op) -> Result<()> {
        match op {
            Op::PutRule { rule, create } => put_rule(cx.clients, rule, *create).await,
            Op::PutTarget { rule } => put_target(cx.clients, rule).await,
            Op::TagRule { arn, tags } => tag_rule(cx.clients, arn, tags).await,
            Op::DeleteRule { name, target_ids } => delete_rule(cx.clients, name, target_ids).await,
        }
    }
}

/// The rule, its tags and its targets; `None` when the default bus has no rule of that name.
pub async fn observe(clients: &Clients, name: &str) -> Result<Option<ObservedRule>> {
    let rule = match clients.events.describe_rule().name(name).send().await {
        Ok(rule) => rule,
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            return Ok(None)
        }
        Err(e) => {
            return Err(e).with_context(|| format!("reading EventBridge rule {name}"));
        }
    };
    let arn = rule.arn().unwrap_or_default().to_string();
    let tags = clients
        .events
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .with_context(|| format!("reading the tags of EventBridge rule {name}"))?;
    let mut targets = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = clients
            .events
            .list_targets_by_rule()
            .rule(name)
            .set_next_token(token.take())
            .send()
            .await
            .with_context(|| format!("reading the targets of EventBridge rule {name}"))?;
        targets.extend(page.targets().iter().map(|t| ObservedTarget {
            id: t.id().to_string(),
            arn: t.arn().to_string(),
        }));
        match page.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_string()),
            _ => break,
        }
    }
    Ok(Some(ObservedRule {
        name: name.to_string(),
        arn,
        pattern: rule
            .event_pattern()
            .and_then(|p| serde_json::from_str(p).ok()),
        state: rule
            .state()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        description: rule.description().unwrap_or_default().to_string(),
        tags: crate::aws::tags::from_pairs(tags.tags().iter().map(|t| (t.key(), t.value()))),
        targets,
    }))
}

/// One-line JSON, as a change shows a pattern.
fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Our rule made, brought back to the config, or (not ours) a conflict.
pub fn plan(names: &Names, d: &DesiredEventRule, observed: Option<&ObservedRule>) -> Plan {
    let mut plan = Plan::default();
    let Some(o) = observed else {
        plan.step(
            Kind::EventRule,
            &d.name,
            Action::Create,
            vec![
                Change::new("pattern", "", compact(&d.pattern)),
                Change::new("target", "", &d.function_arn),
            ],
            vec![
                Op::PutRule {
                    rule: d.clone(),
                    create: true,
                },
                Op::PutTarget { rule: d.clone() },
            ],
        );
        return plan;
    };
    if !names.is_ours(&o.tags) {
        plan.conflict(
            Kind::EventRule,
            &d.name,
            format!(
                "an EventBridge rule of this name exists on the default bus without the tag {}={}: it is not this stack's",
                crate::desired::TAG_STACK,
                names.stack
            ),
            format!(
                "delete or rename rule {} if nothing needs it, or choose another `stack` name",
                d.name
            ),
        );
        return plan;
    }
    let mut changes = Vec::new();
    let mut ops = Vec::new();
    let pattern_differs = o.pattern.as_ref() != Some(&d.pattern);
    if pattern_differs {
        changes.push(Change::new(
            "pattern",
            o.pattern.as_ref().map(compact).unwrap_or_default(),
            compact(&d.pattern),
        ));
    }
    changes.extend(Change::differs("state", o.state.as_str(), "ENABLED"));
    changes.extend(Change::differs(
        "description",
        o.description.as_str(),
        d.description.as_str(),
    ));
    if !changes.is_empty() {
        ops.push(Op::PutRule {
            rule: d.clone(),
            create: false,
        });
    }
    let target = o.targets.iter().find(|t| t.id == d.target_id);
    if let Some(change) = Change::differs_shown(
        "target",
        target.map(|t| t.arn.as_str()),
        Some(d.function_arn.as_str()),
        |arn| arn.unwrap_or_default().to_string(),
    ) {
        changes.push(change);
        ops.push(Op::PutTarget { rule: d.clone() });
    }
    let missing: BTreeMap<String, String> = d
        .tags
        .iter()
        .filter(|(k, v)| o.tags.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !missing.is_empty() {
        changes.push(Change::new(
            "tags",
            "",
            missing
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(","),
        ));
        ops.push(Op::TagRule {
            arn: o.arn.clone(),
            tags: missing,
        });
    }
    if ops.is_empty() {
        plan.in_sync(Kind::EventRule, &d.name);
    } else {
        plan.step(Kind::EventRule, &d.name, Action::Update, changes, ops);
    }
    plan
}

/// Our rule removed with its targets; a rule that is not ours is left alone.
pub fn plan_teardown(names: &Names, observed: Option<&ObservedRule>) -> Plan {
    let mut plan = Plan::default();
    if let Some(o) = observed.filter(|o| names.is_ours(&o.tags)) {
        plan.step(
            Kind::EventRule,
            &o.name,
            Action::Delete,
            Vec::new(),
            vec![Op::DeleteRule {
                name: o.name.clone(),
                target_ids: o.targets.iter().map(|t| t.id.clone()).collect(),
            }],
        );
    }
    plan
}

fn eventbridge_tags(tags: &Tags) -> Result<Vec<Tag>> {
    tags.iter()
        .map(|(k, v)| Ok(Tag::builder().key(k).value(v).build()?))
        .collect()
}

pub async fn put_rule(clients: &Clients, d: &DesiredEventRule, create: bool) -> Result<()> {
    let mut request = clients
        .events
        .put_rule()
        .name(&d.name)
        .event_pattern(compact(&d.pattern))
        .state(RuleState::Enabled)
        .description(&d.description);
    if create {
        request = request.set_tags(Some(eventbridge_tags(&d.tags)?));
    }
    request
        .send()
        .await
        .with_context(|| format!("writing EventBridge rule {}", d.name))?;
    Ok(())
}

pub async fn put_target(clients: &Clients, d: &DesiredEventRule) -> Result<()> {
    let out = clients
        .events
        .put_targets()
        .rule(&d.name)
        .targets(
            Target::builder()
                .id(&d.target_id)
                .arn(&d.function_arn)
                .build()?,
        )
        .send()
        .await
        .with_context(|| {
            format!(
                "setting the forwarder as the target of EventBridge rule {}",
                d.name
            )
        })?;
    failed_entries(
        out.failed_entry_count(),
        out.failed_entries()
            .iter()
            .map(|f| (f.target_id(), f.error_code(), f.error_message())),
    )
    .with_context(|| {
        format!(
            "setting the forwarder as the target of EventBridge rule {}",
            d.name
        )
    })
}

/// PutTargets and RemoveTargets answer 200 with the entries they could not take: an error
/// naming each.
pub fn failed_entries<'a>(
    count: i32,
    entries: impl Iterator<Item = (Option<&'a str>, Option<&'a str>, Option<&'a str>)>,
) -> Result<()> {
    if count == 0 {
        return Ok(());
    }
    let why: Vec<String> = entries
        .map(|(id, code, message)| {
            format!(
                "target {}: {}: {}",
                id.unwrap_or("?"),
                code.unwrap_or("?"),
                message.unwrap_or("")
            )
        })
        .collect();
    anyhow::bail!("{count} entries failed ({})", why.join("; "))
}

pub async fn tag_rule(clients: &Clients, arn: &str, tags: &Tags) -> Result<()> {
    clients
        .events
        .tag_resource()
        .resource_arn(arn)
        .set_tags(Some(eventbridge_tags(tags)?))
        .send()
        .await
        .with_context(|| format!("tagging EventBridge rule {arn}"))?;
    Ok(())
}

/// Its targets first (a rule with targets cannot be deleted); a rule already gone is fine.
pub async fn delete_rule(clients: &Clients, name: &str, target_ids: &[String]) -> Result<()> {
    if !target_ids.is_empty() {
        match clients
            .events
            .remove_targets()
            .rule(name)
            .set_ids(Some(target_ids.to_vec()))
            .send()
            .await
        {
            Ok(out) => failed_entries(
                out.failed_entry_count(),
                out.failed_entries()
                    .iter()
                    .map(|f| (f.target_id(), f.error_code(), f.error_message())),
            )
            .with_context(|| format!("removing the targets of EventBridge rule {name}"))?,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                return Ok(())
            }
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("removing the targets of EventBridge rule {name}"))
            }
        }
    }
    match clients.events.delete_rule().name(name).send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            Ok(())
        }
        Err(e) => Err(e).with_context(|| format!("deleting EventBridge rule {name}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::eventbridge;

    fn names() -> Names {
        let text = "version: 1\nstack: s\nflow_log: { resources: { vpc_ids: [vpc-1] } }\ndelivery: { otlp: { endpoint: http://x }, lambda: { trigger: eventbridge } }\n";
        let c = crate::config::parse(text, std::path::Path::new("t.yaml"), &|_| None).unwrap();
        crate::desired::build(&c, "123456789012", "us-east-1", "h")
            .unwrap()
            .names
    }

    fn wanted(n: &Names) -> DesiredEventRule {
        eventbridge::build(n, &[n.log_key_prefix.as_str()], ".log.gz").rule
    }

    fn as_made(n: &Names, d: &DesiredEventRule) -> ObservedRule {
        ObservedRule {
            name: d.name.clone(),
            arn: d.arn.clone(),
            pattern: Some(d.pattern.clone()),
            state: "ENABLED".into(),
            description: d.description.clone(),
            tags: n.tags(),
            targets: vec![ObservedTarget {
                id: d.target_id.clone(),
                arn: d.function_arn.clone(),
            }],
        }
    }

    #[test]
    fn a_missing_rule_is_made_with_its_target() {
        let n = names();
        let p = plan(&n, &wanted(&n), None);
        assert_eq!(p.steps[0].action, Action::Create);
        assert!(matches!(
            &p.steps[0].ops[..],
            [Op::PutRule { create: true, .. }, Op::PutTarget { .. }]
        ));
    }

    #[test]
    fn our_rule_as_made_is_in_sync_even_with_the_delivery_tag_and_a_foreign_target() {
        let n = names();
        let d = wanted(&n);
        let mut o = as_made(&n, &d);
        o.tags.insert(
            eventbridge::TAG_DELIVERY_TURNED_ON.into(),
            eventbridge::DELIVERY_TURNED_ON.into(),
        );
        o.targets.push(ObservedTarget {
            id: "theirs".into(),
            arn: "arn:aws:sqs:us-east-1:123456789012:q".into(),
        });
        let p = plan(&n, &d, Some(&o));
        assert!(p.steps.is_empty() && p.conflicts.is_empty(), "{p}");
        assert_eq!(p.in_sync.len(), 1);
    }

    #[test]
    fn a_changed_pattern_a_disabled_rule_or_a_lost_target_is_put_back() {
        let n = names();
        let d = wanted(&n);
        let mut o = as_made(&n, &d);
        o.pattern = Some(serde_json::json!({"source": ["aws.s3"]}));
        o.state = "DISABLED".into();
        o.targets.clear();
        let p = plan(&n, &d, Some(&o));
        let fields: Vec<&str> = p.steps[0]
            .changes
            .iter()
            .map(|c| c.field.as_str())
            .collect();
        assert_eq!(fields, ["pattern", "state", "target"]);
        assert!(matches!(
            &p.steps[0].ops[..],
            [Op::PutRule { create: false, .. }, Op::PutTarget { .. }]
        ));
    }

    #[test]
    fn a_rule_without_our_tag_is_a_conflict_and_never_deleted() {
        let n = names();
        let d = wanted(&n);
        let mut o = as_made(&n, &d);
        o.tags.clear();
        let p = plan(&n, &d, Some(&o));
        assert_eq!(p.conflicts.len(), 1);
        assert!(p.steps.is_empty());
        assert!(plan_teardown(&n, Some(&o)).steps.is_empty());
        let ours = as_made(&n, &d);
        let t = plan_teardown(&n, Some(&ours));
        assert!(matches!(
            &t.steps[0].ops[..],
            [Op::DeleteRule { target_ids, .. }] if target_ids == &["flowlogs-forwarder".to_string()]
        ));
    }

    #[test]
    fn failed_entries_are_an_error_naming_each() {
        assert!(failed_entries(0, std::iter::empty()).is_ok());
        let err = failed_entries(
            1,
            [(Some("flowlogs-forwarder"), Some("AccessDenied"), Some("no"))].into_iter(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("flowlogs-forwarder: AccessDenied: no"),
            "{err}"
        );
    }
}
