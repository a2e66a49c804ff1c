//! The stream's plans: what differs, what needs a replace, and the steps that converge it.

use super::*;

/// The tags the stream should carry.
pub fn wanted_tags(d: &DesiredStream) -> BTreeMap<String, String> {
    d.tags.clone()
}

/// How the access key reaches the endpoint, as the plan shows it (never the key).
fn key_source(secret: Option<&(String, String)>, legacy_tag: Option<&str>) -> String {
    match (secret, legacy_tag) {
        (Some((arn, _)), _) => format!("secret {arn}"),
        (None, Some(tag)) if tag != "none" => "in the stream's configuration".into(),
        (None, _) => "(none)".into(),
    }
}

/// The access key's source as the config wants it.
fn wanted_key_source(d: &DesiredStream) -> String {
    match &d.secret {
        Some(r) => format!("secret {}", r.arn.as_deref().unwrap_or(&r.name)),
        None => "(none)".into(),
    }
}

/// Differences that UpdateDestination cannot make: the stream has to be replaced.
pub fn replace_reasons(o: &ObservedStream) -> Vec<Change> {
    let mut changes = Vec::new();
    if matches!(
        o.status,
        DeliveryStreamStatus::CreatingFailed | DeliveryStreamStatus::DeletingFailed
    ) {
        changes.push(Change::new(
            "status",
            format!(
                "{}{}",
                o.status.as_str(),
                o.failure
                    .as_ref()
                    .map(|f| format!(" ({f})"))
                    .unwrap_or_default()
            ),
            DeliveryStreamStatus::Active.as_str(),
        ));
    }
    changes.extend(Change::differs(
        "source",
        o.stream_type.as_str(),
        "DirectPut",
    ));
    match &o.http {
        None => changes.push(Change::new(
            "destination",
            "not an HTTP endpoint",
            "HTTP endpoint",
        )),
        Some(h) => changes.extend(Change::differs(
            "s3_backup_mode",
            h.s3_backup_mode.as_str(),
            "FailedDataOnly",
        )),
    }
    changes
}

/// Destination fields that differ, as the config names them; secrets shown as `<redacted>`.
pub fn differences(d: &DesiredStream, o: &ObservedStream) -> Vec<Change> {
    let Some(h) = &o.http else {
        return Vec::new();
    };
    let mut changes: Vec<Change> = Change::differs("url", &h.url, &d.url).into_iter().collect();
    let legacy_tag = o.tags.get(TAG_ACCESS_KEY).map(String::as_str);
    let wanted_secret = d
        .secret
        .as_ref()
        .map(|r| (r.arn.clone().unwrap_or_default(), d.role_arn.clone()));
    let key_in_configuration = h.secret.is_none() && legacy_tag.is_some_and(|t| t != "none");
    if h.secret != wanted_secret || key_in_configuration {
        changes.push(Change::new(
            "access_key",
            key_source(h.secret.as_ref(), legacy_tag),
            wanted_key_source(d),
        ));
    }
    changes.extend(
        [
            Change::differs("content_encoding", &h.content_encoding, &d.content_encoding),
            Change::differs(
                "buffering.size_mb",
                h.buffering_size_mb,
                d.buffering_size_mb as i32,
            ),
            Change::differs(
                "buffering.interval_s",
                h.buffering_interval_s,
                d.buffering_interval_s as i32,
            ),
            Change::differs(
                "retry_duration_s",
                h.retry_duration_s,
                d.retry_duration_s as i32,
            ),
        ]
        .into_iter()
        .flatten(),
    );
    let names: std::collections::BTreeSet<&String> = h
        .common_attributes
        .keys()
        .chain(d.common_attributes.keys())
        .collect();
    for name in names {
        let wanted = d.common_attributes.get(name);
        let secret = wanted.is_some_and(|w| w.secret);
        changes.extend(Change::differs_shown(
            &format!("common_attributes.{name}"),
            h.common_attributes.get(name),
            wanted.map(|w| &w.value),
            |v| crate::config::shown_value(*v, secret),
        ));
    }
    changes.extend(Change::differs_shown(
        "role",
        (&h.role_arn, &h.backup_role_arn),
        (&d.role_arn, &d.role_arn),
        |(role, _)| role.to_string(),
    ));
    changes.extend(Change::differs_shown(
        "failed data backup",
        (&h.backup_bucket_arn, &h.backup_prefix),
        (&d.backup_bucket_arn, &d.backup_prefix),
        |(bucket, prefix)| format!("{bucket} {prefix}"),
    ));
    changes.extend(Change::differs_shown(
        "error logging",
        h.error_logging.as_ref().map(|(g, s)| (g, s)),
        Some((&d.log_group, &d.log_stream)),
        |logging| logging.map_or("disabled".into(), |(g, s)| format!("{g}:{s}")),
    ));
    changes
}

fn creation_changes(d: &DesiredStream) -> Vec<Change> {
    let mut changes = vec![
        Change::new("url", "", &d.url),
        Change::new("access_key", "", wanted_key_source(d)),
        Change::new("content_encoding", "", &d.content_encoding),
        Change::new(
            "buffering",
            "",
            format!("{} MB / {} s", d.buffering_size_mb, d.buffering_interval_s),
        ),
        Change::new("retry_duration_s", "", d.retry_duration_s),
        Change::new(
            "failed data backup",
            "",
            format!("{} {}", d.backup_bucket_arn, d.backup_prefix),
        ),
        Change::new(
            "error logging",
            "",
            format!("{}:{}", d.log_group, d.log_stream),
        ),
    ];
    for (name, value) in &d.common_attributes {
        changes.push(Change::new(
            &format!("common_attributes.{name}"),
            "",
            value.shown(),
        ));
    }
    changes
}

/// Create the stream, update its destination or tags in place, or replace it where
/// UpdateDestination cannot make the change; a same-named stream that is not ours is a conflict.
pub fn plan(names: &Names, d: &DesiredStream, observed: Option<&ObservedStream>) -> Plan {
    let mut plan = Plan::default();
    let Some(o) = observed else {
        plan.step(
            Kind::DeliveryStream,
            &d.name,
            Action::Create,
            creation_changes(d),
            vec![Op::CreateStream {
                stream: d.clone(),
                tags: wanted_tags(d),
            }],
        );
        return plan;
    };
    if !names.is_ours(&o.tags) {
        plan.conflict(
            Kind::DeliveryStream,
            &d.name,
            format!(
                "a Firehose stream with this name exists and is not tagged {}={}",
                crate::desired::TAG_STACK,
                names.stack
            ),
            "delete or rename that stream, or choose another `stack` name",
        );
        return plan;
    }
    if o.status == DeliveryStreamStatus::Deleting {
        plan.conflict(
            Kind::DeliveryStream,
            &d.name,
            "the stream is being deleted",
            "wait until it is gone, then run setup again",
        );
        return plan;
    }
    let replace = replace_reasons(o);
    if !replace.is_empty() {
        // A replaced stream keeps the tag AWS set for the flow log delivering to it (same ARN).
        let mut tags = wanted_tags(d);
        if let Some(v) = o.tags.get(TAG_LOG_DELIVERY) {
            tags.insert(TAG_LOG_DELIVERY.into(), v.clone());
        }
        plan.replace(
            Kind::DeliveryStream,
            &d.name,
            replace,
            vec![Op::DeleteStream {
                name: d.name.clone(),
            }],
            vec![Op::CreateStream {
                stream: d.clone(),
                tags,
            }],
        );
        return plan;
    }
    let mut changes = differences(d, o);
    let mut ops = Vec::new();
    if !changes.is_empty() {
        ops.push(Op::UpdateStream {
            stream: d.clone(),
            version_id: o.version_id.clone(),
            destination_id: o.destination_id.clone(),
        });
    }
    let tags = wanted_tags(d);
    if tags.iter().any(|(k, v)| o.tags.get(k) != Some(v)) {
        changes.push(Change::new("tags", "incomplete", "flowlogs tags"));
        ops.push(Op::TagStream {
            name: d.name.clone(),
            tags,
        });
    }
    if o.tags.contains_key(TAG_ACCESS_KEY) {
        changes.push(Change::new(
            &format!("tag {TAG_ACCESS_KEY}"),
            "set",
            "(removed)",
        ));
        ops.push(Op::UntagStream {
            name: d.name.clone(),
            keys: vec![TAG_ACCESS_KEY.to_string()],
        });
    }
    if ops.is_empty() {
        plan.in_sync(Kind::DeliveryStream, &d.name);
    } else {
        plan.step(Kind::DeliveryStream, &d.name, Action::Update, changes, ops);
    }
    plan
}

/// The stream goes when it carries our tag.
pub fn plan_teardown(names: &Names, observed: Option<&ObservedStream>) -> Plan {
    let mut plan = Plan::default();
    if let Some(s) = observed.filter(|s| names.is_ours(&s.tags)) {
        plan.step(
            Kind::DeliveryStream,
            &s.name,
            Action::Delete,
            Vec::new(),
            vec![Op::DeleteStream {
                name: s.name.clone(),
            }],
        );
    }
    plan
}
