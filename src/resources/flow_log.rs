//! VPC flow logs, one per listed VPC, subnet or network interface. A flow log cannot be changed after
//! creation, so any difference is a replace: the planner runs the new one's creation before the old
//! one's deletion, so no window goes unlogged.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use flowlogs_aws_lite::ec2::{CreateFlowLogs, DestinationOptions, Filter};
use serde::Serialize;

use super::{Apply, Observe, Resource, Teardown};
use crate::aws::states::{DeliveryStatus, FlowLogStatus};
use crate::aws::{tags, Clients};
use crate::config::{FileFormat, ResourceType};
use crate::desired::{Desired, DesiredFlowLog, Names, TAG_OPTIONS, TAG_SPEC};
use crate::plan::{Action, Change, Kind};
use crate::ui::Progress;

/// This resource's AWS writes, each with everything it needs; in the plan's `ops` as
/// `{"op": "<snake_case name>", ...}`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// With `replacing`: the flow log this one replaces, deleted first only where AWS refuses two
    /// flow logs on one resource and destination.
    CreateFlowLog {
        flow_log: DesiredFlowLog,
        #[serde(skip_serializing_if = "Option::is_none")]
        replacing: Option<String>,
    },
    DeleteFlowLog {
        id: String,
    },
}

type Plan = crate::plan::Plan<Op>;

pub struct FlowLog;

impl Resource for FlowLog {
    const KIND: Kind = Kind::FlowLog;
    type Desired = Vec<DesiredFlowLog>;
    /// Flow logs on the listed resources, and every flow log of our stack wherever it is.
    type Observed = Vec<ObservedFlowLog>;
    type Op = Op;

    fn desired(stack: &Desired) -> Option<&Vec<DesiredFlowLog>> {
        Some(&stack.flow_logs)
    }

    async fn observe(cx: &Observe<'_>) -> Result<Vec<ObservedFlowLog>> {
        observe(cx.clients, cx.names, cx.resource_ids).await
    }

    fn plan(names: &Names, desired: &Vec<DesiredFlowLog>, observed: &Vec<ObservedFlowLog>) -> Plan {
        plan(names, desired, observed)
    }

    fn plan_teardown(cx: Teardown<'_>, observed: &Vec<ObservedFlowLog>) -> Plan {
        plan_teardown(cx.names, observed)
    }

    async fn apply(cx: &Apply<'_>, op: &Op) -> Result<()> {
        let (c, p) = (cx.clients, cx.progress);
        match op {
            Op::CreateFlowLog {
                flow_log,
                replacing,
            } => {
                let id = create(c, flow_log, replacing.as_deref(), p).await?;
                p.detail(&format!("created {id}"));
                Ok(())
            }
            Op::DeleteFlowLog { id } => delete(c, id).await,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedFlowLog {
    pub id: String,
    pub resource_id: String,
    pub traffic_type: String,
    pub log_format: String,
    pub max_aggregation_interval: i32,
    pub destination_type: String,
    pub destination: String,
    pub tags: BTreeMap<String, String>,
    pub status: FlowLogStatus,
    pub deliver_logs_status: DeliveryStatus,
    pub deliver_logs_error: Option<String>,
    /// When it was made (seconds since the epoch): the Athena projection starts on the stack's
    /// first flow log's day.
    #[serde(skip)]
    pub created: Option<i64>,
}

/// Flow logs on the listed resources, and every flow log tagged with our stack wherever it is.
pub async fn observe(
    clients: &Clients,
    names: &Names,
    resource_ids: &[String],
) -> Result<Vec<ObservedFlowLog>> {
    let mut found: BTreeMap<String, ObservedFlowLog> = BTreeMap::new();
    let mut queries = vec![Filter::new(
        format!("tag:{}", crate::desired::TAG_STACK),
        [&names.stack],
    )];
    if !resource_ids.is_empty() {
        queries.push(Filter::new("resource-id", resource_ids));
    }
    for filter in queries {
        let flow_logs = clients
            .ec2
            .describe_flow_logs(&[], &[filter])
            .await
            .context("listing flow logs (ec2:DescribeFlowLogs)")?;
        for f in flow_logs {
            let observed = ObservedFlowLog {
                traffic_type: f.traffic_type.unwrap_or_default(),
                log_format: f.log_format.unwrap_or_default(),
                max_aggregation_interval: f.max_aggregation_interval.unwrap_or(600),
                destination_type: f.log_destination_type.unwrap_or_default(),
                destination: f
                    .log_destination
                    .unwrap_or_default()
                    .trim_end_matches('/')
                    .to_string(),
                tags: tags::from_pairs(f.tags.iter().map(|t| (&t.key, &t.value))),
                status: FlowLogStatus::parse(f.status.as_deref().unwrap_or_default()),
                deliver_logs_status: DeliveryStatus::parse(
                    f.deliver_logs_status.as_deref().unwrap_or_default(),
                ),
                deliver_logs_error: f.deliver_logs_error_message,
                created: f.creation_time,
                id: f.id,
                resource_id: f.resource_id,
            };
            found.insert(observed.id.clone(), observed);
        }
    }
    Ok(found.into_values().collect())
}

/// The fields of `observed` that differ from `desired`, as the user would name them.
pub fn differences(desired: &DesiredFlowLog, observed: &ObservedFlowLog) -> Vec<Change> {
    let mut changes: Vec<Change> = [
        Change::differs(
            "traffic_type",
            observed.traffic_type.as_str(),
            desired.traffic_type_sent().unwrap_or_default(),
        ),
        Change::differs("format", &observed.log_format, &desired.log_format),
        Change::differs(
            "max_aggregation_interval",
            observed.max_aggregation_interval,
            desired.max_aggregation_interval as i32,
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    if observed.destination_type != desired.destination_type
        || !crate::desired::same_destination(&observed.destination, &desired.destination)
    {
        changes.push(Change::new(
            "destination",
            format!("{} {}", observed.destination_type, observed.destination),
            format!("{} {}", desired.destination_type, desired.destination),
        ));
    }
    let observed_options = observed
        .tags
        .get(TAG_OPTIONS)
        .cloned()
        .unwrap_or_else(|| "unknown".into());
    let desired_options = desired.options_tag();
    if observed_options != desired_options {
        let parse = |s: &str| -> BTreeMap<String, String> {
            s.split(';')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let (from, to) = (parse(&observed_options), parse(&desired_options));
        let mut named = false;
        for (key, field) in [
            ("file-format", "file_format"),
            ("hive", "hive_compatible_partitions"),
            ("per-hour", "per_hour_partition"),
        ] {
            if let (Some(a), Some(b)) = (from.get(key), to.get(key)) {
                if let Some(change) = Change::differs(field, a, b) {
                    changes.push(change);
                    named = true;
                }
            }
        }
        if !named {
            changes.push(Change::new(
                "destination options",
                observed_options,
                desired_options,
            ));
        }
    }
    if changes.is_empty() {
        changes.extend(Change::differs_shown(
            "spec",
            observed.tags.get(TAG_SPEC),
            desired.tags.get(TAG_SPEC),
            |tag| tag.map_or("none", String::as_str).to_string(),
        ));
    }
    changes
}

/// Each wanted flow log created, or replaced when any setting differs; ours no longer wanted
/// deleted; others' left alone with a note.
pub fn plan(names: &Names, desired: &[DesiredFlowLog], observed: &[ObservedFlowLog]) -> Plan {
    let mut plan = Plan::default();
    let ours: Vec<&ObservedFlowLog> = observed.iter().filter(|f| names.is_ours(&f.tags)).collect();
    for d in desired {
        let label = d.resource_id.clone();
        let candidates: Vec<&&ObservedFlowLog> = ours
            .iter()
            .filter(|f| f.resource_id == d.resource_id)
            .collect();
        let exact = candidates.iter().find(|f| differences(d, f).is_empty());
        match (exact, candidates.first()) {
            (Some(keep), _) => {
                plan.in_sync(Kind::FlowLog, &format!("{label} ({})", keep.id));
                for extra in candidates.iter().filter(|f| f.id != keep.id) {
                    delete_step(
                        &mut plan,
                        extra,
                        "a second flow log of ours on the same resource",
                    );
                }
            }
            (None, Some(old)) => {
                plan.replace(
                    Kind::FlowLog,
                    &format!("{label} ({})", old.id),
                    differences(d, old),
                    vec![Op::DeleteFlowLog { id: old.id.clone() }],
                    vec![Op::CreateFlowLog {
                        flow_log: d.clone(),
                        replacing: Some(old.id.clone()),
                    }],
                );
                for extra in candidates.iter().skip(1) {
                    delete_step(
                        &mut plan,
                        extra,
                        "a second flow log of ours on the same resource",
                    );
                }
            }
            (None, None) => {
                let mut changes = vec![
                    Change::new(
                        "traffic_type",
                        "",
                        d.traffic_type_sent().unwrap_or("(none: transit gateway)"),
                    ),
                    Change::new("format", "", &d.log_format),
                    Change::new(
                        "destination",
                        "",
                        format!("{} {}", d.destination_type, d.destination),
                    ),
                ];
                if d.file_format.is_some() {
                    changes.push(Change::new("destination options", "", d.options_tag()));
                }
                plan.step(
                    Kind::FlowLog,
                    &label,
                    Action::Create,
                    changes,
                    vec![Op::CreateFlowLog {
                        flow_log: d.clone(),
                        replacing: None,
                    }],
                );
            }
        }
        for foreign in observed
            .iter()
            .filter(|f| f.resource_id == d.resource_id && !names.is_ours(&f.tags))
        {
            plan.note(
                Kind::FlowLog,
                &foreign.id,
                format!(
                    "on {} but not made by flowlogs: left alone",
                    foreign.resource_id
                ),
            );
        }
    }
    for stale in ours
        .iter()
        .filter(|f| !desired.iter().any(|d| d.resource_id == f.resource_id))
    {
        delete_step(&mut plan, stale, "no longer in the config");
    }
    plan
}

fn delete_step(plan: &mut Plan, flow_log: &ObservedFlowLog, why: &str) {
    plan.step(
        Kind::FlowLog,
        &format!("{} ({})", flow_log.resource_id, flow_log.id),
        Action::Delete,
        vec![Change::new("reason", "", why)],
        vec![Op::DeleteFlowLog {
            id: flow_log.id.clone(),
        }],
    );
}

/// Every flow log that carries our tag.
pub fn plan_teardown(names: &Names, observed: &[ObservedFlowLog]) -> Plan {
    let mut plan = Plan::default();
    for f in observed.iter().filter(|f| names.is_ours(&f.tags)) {
        plan.step(
            Kind::FlowLog,
            &format!("{} ({})", f.resource_id, f.id),
            Action::Delete,
            Vec::new(),
            vec![Op::DeleteFlowLog { id: f.id.clone() }],
        );
    }
    plan
}

/// CreateFlowLogs' `ResourceType` values.
fn resource_type(t: ResourceType) -> &'static str {
    match t {
        ResourceType::Vpc => "VPC",
        ResourceType::Subnet => "Subnet",
        ResourceType::NetworkInterface => "NetworkInterface",
        ResourceType::TransitGateway => "TransitGateway",
        ResourceType::TransitGatewayAttachment => "TransitGatewayAttachment",
    }
}

/// Creates the flow log; `Ok(Err(code))` when AWS refused it with a per-resource error code.
async fn create_once(
    clients: &Clients,
    d: &DesiredFlowLog,
    token: &str,
) -> Result<std::result::Result<String, (String, String)>> {
    let request = CreateFlowLogs {
        resource_ids: vec![d.resource_id.clone()],
        resource_type: resource_type(d.resource_type).to_string(),
        // AWS refuses a TrafficType for a transit gateway or attachment.
        traffic_type: d.traffic_type_sent().map(str::to_string),
        log_destination_type: Some(d.destination_type.clone()),
        log_destination: Some(d.destination.clone()),
        log_format: Some(d.log_format.clone()),
        max_aggregation_interval: Some(d.max_aggregation_interval as i32),
        client_token: Some(token.to_string()),
        tags: tags::to_ec2(&d.tags),
        destination_options: d.file_format.map(|format| DestinationOptions {
            file_format: match format {
                FileFormat::PlainText => "plain-text",
                FileFormat::Parquet => "parquet",
            }
            .to_string(),
            hive_compatible_partitions: d.hive_compatible_partitions,
            per_hour_partition: d.per_hour_partition,
        }),
    };
    let out = match clients.ec2.create_flow_logs(&request).await {
        Ok(out) => out,
        Err(e) => {
            if let Some(code) = crate::aws::errors::code(&e) {
                let message = crate::aws::errors::message(&e)
                    .unwrap_or_default()
                    .to_string();
                return Ok(Err((code.to_string(), message)));
            }
            return Err(e).with_context(|| format!("creating the flow log for {}", d.resource_id));
        }
    };
    if let Some(failed) = out.unsuccessful.into_iter().next() {
        let code = if failed.code.is_empty() {
            "Unknown".to_string()
        } else {
            failed.code
        };
        return Ok(Err((code, failed.message)));
    }
    out.flow_log_ids
        .into_iter()
        .next()
        .map(Ok)
        .with_context(|| {
            format!(
                "creating the flow log for {}: AWS returned no flow log id",
                d.resource_id
            )
        })
}

fn refused(d: &DesiredFlowLog, code: &str, message: &str) -> anyhow::Error {
    let hint = match code {
        "FlowLogAlreadyExists" => {
            "a flow log with the same resource and destination exists already"
        }
        "InvalidParameter" if message.contains("Invalid Resource id") => {
            "check that the id is right and the resource is in this account and region: a transit gateway or attachment is logged only by the account that owns it"
        }
        "InvalidParameter" if message.contains("does not exist") => {
            "check that the destination exists and its policy allows delivery.logs.amazonaws.com"
        }
        _ => "see the message above",
    };
    anyhow::anyhow!(
        "AWS refused the flow log for {} ({code}: {message}); {hint}",
        d.resource_id
    )
}

/// Creates the flow log. When it replaces `replacing` and AWS refuses two flow logs on the same
/// resource and destination, the old one has to go first: that is said, since it leaves a gap.
/// (Otherwise the old one is deleted by the step's next operation, after this one.)
pub async fn create(
    clients: &Clients,
    d: &DesiredFlowLog,
    replacing: Option<&str>,
    progress: &Progress,
) -> Result<String> {
    let token = format!("{}-{}", d.client_token(), nonce());
    match (create_once(clients, d, &token).await?, replacing) {
        (Ok(id), _) => Ok(id),
        (Err((code, _)), Some(old_id)) if code == "FlowLogAlreadyExists" => {
            progress.detail(&format!(
                "AWS allows one flow log per resource and destination here: deleting {old_id} before creating its replacement"
            ));
            delete(clients, old_id).await?;
            match create_once(clients, d, &format!("{token}-2")).await? {
                Ok(id) => Ok(id),
                Err((code, message)) => Err(refused(d, &code, &message)),
            }
        }
        (Err((code, message)), _) => Err(refused(d, &code, &message)),
    }
}

/// Deletes the flow log; one already gone is fine, and is not asked to be deleted again (a
/// replace's creation may have had to delete it first).
pub async fn delete(clients: &Clients, id: &str) -> Result<()> {
    let ids = [id.to_string()];
    match clients.ec2.describe_flow_logs(&ids, &[]).await {
        Ok(out) if !out.iter().any(|f| f.id == id) => return Ok(()),
        Err(e) if crate::aws::errors::is_flow_log_not_found(&e) => return Ok(()),
        _ => {}
    }
    let unsuccessful = match clients.ec2.delete_flow_logs(&ids).await {
        Ok(out) => out,
        Err(e) if crate::aws::errors::is_flow_log_not_found(&e) => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("deleting flow log {id}")),
    };
    if let Some(failed) = unsuccessful.first() {
        if failed.code != "InvalidFlowLogId.NotFound" {
            anyhow::bail!("deleting flow log {id}: {} {}", failed.code, failed.message);
        }
    }
    Ok(())
}

fn nonce() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{:x}", nanos & 0xffff_ffff_ffff)
}

#[cfg(test)]
pub mod tests;
