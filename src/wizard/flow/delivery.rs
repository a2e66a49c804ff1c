//! The questions of how records leave the bucket: Lambda or Firehose, the OTLP endpoint and its
//! protocol, the function's architecture, and (when another consumer's notification already
//! reads the flow-log keys of an existing bucket) what triggers the function.

use anyhow::Result;

use super::{ask_into, number};
use crate::config::{Architecture, DeliveryMode, FileFormat, OtlpProtocol, RawConfig, Trigger};
use crate::desired::DesiredNotification;
use crate::resources::notification::{self, NotificationEntry};
use crate::wizard::draft::{self, Draft};
use crate::wizard::prompt::Ask;

/// The id of a notification entry of the bucket that S3 would not let ours stand beside: object
/// creations under the flow-log prefix the config gives (the account's, when known; else any
/// `AWSLogs/` key) with a suffix that can end ours.
pub(super) fn overlapping(
    raw: &RawConfig,
    account: Option<&str>,
    region: &str,
    entries: &[NotificationEntry],
) -> Option<String> {
    let prefix = &raw.bucket.prefix;
    let keys = match (account, raw.flow_log.hive_compatible_partitions) {
        (Some(a), true) => format!(
            "{prefix}AWSLogs/aws-account-id={a}/aws-service=vpcflowlogs/aws-region={region}/"
        ),
        (Some(a), false) => format!("{prefix}AWSLogs/{a}/vpcflowlogs/{region}/"),
        (None, _) => format!("{prefix}AWSLogs/"),
    };
    let suffix = match raw.flow_log.file_format {
        FileFormat::PlainText => ".log.gz",
        FileFormat::Parquet => ".log.parquet",
    };
    let ours = DesiredNotification {
        bucket: String::new(),
        id: format!("flowlogs-{}", raw.stack),
        function_arn: String::new(),
        events: vec!["s3:ObjectCreated:*".into()],
        prefix: crate::aws::keys::encode(&keys),
        suffix: suffix.into(),
    };
    entries
        .iter()
        .find(|e| e.id != ours.id && notification::collides(&ours, e))
        .map(|e| e.id.clone())
}

/// `taken_by`: the bucket's notification entry that already reads the flow-log keys.
pub(super) fn ask_delivery<Q: Ask>(
    q: &mut Q,
    raw: &mut RawConfig,
    start: &Draft,
    taken_by: Option<&str>,
) -> Result<()> {
    let mode = if raw.flow_log.file_format == FileFormat::Parquet {
        q.say("Delivery: lambda (Firehose takes plain text only, not parquet).");
        DeliveryMode::Lambda
    } else if raw.targets.is_some() {
        q.say("Delivery: lambda (other accounts' flow logs deliver to this stack's bucket, not to its Firehose stream).");
        DeliveryMode::Lambda
    } else {
        let modes = [DeliveryMode::Lambda, DeliveryMode::Firehose];
        modes[q.select(
            "How should records reach your collector?",
            &[
                "lambda: a forwarder Lambda sends each new log file over OTLP/HTTP".to_string(),
                "firehose: Kinesis Data Firehose posts the records to an HTTP endpoint".to_string(),
            ],
            usize::from(raw.delivery.mode == DeliveryMode::Firehose),
        )?]
    };
    raw.delivery.mode = mode;
    if mode == DeliveryMode::Firehose {
        let url = start
            .has_firehose_url
            .then(|| draft::firehose(raw).url.clone());
        ask_into(q, raw, "Firehose HTTP endpoint URL", url, false, &|r, t| {
            draft::firehose(r).url = t.to_string();
            Ok(())
        })?;
        let env = draft::firehose(raw)
            .access_key
            .as_deref()
            .and_then(draft::env_of);
        ask_into(
            q,
            raw,
            "Name of the environment variable holding the access key (Enter for none)",
            env,
            true,
            &|r, t| {
                draft::firehose(r).access_key = (!t.is_empty()).then(|| draft::env_ref(t));
                Ok(())
            },
        )?;
        return Ok(());
    }
    let endpoint = start
        .has_endpoint
        .then(|| draft::otlp(raw).endpoint.clone());
    ask_into(
        q,
        raw,
        "OTLP/HTTP endpoint (base URL; /v1/logs is added)",
        endpoint,
        false,
        &|r, t| {
            draft::otlp(r).endpoint = t.to_string();
            Ok(())
        },
    )?;
    let protocols = [OtlpProtocol::HttpProtobuf, OtlpProtocol::HttpJson];
    let otlp = draft::otlp(raw);
    otlp.protocol = protocols[q.select(
        "OTLP protocol",
        &["http/protobuf".to_string(), "http/json".to_string()],
        usize::from(otlp.protocol == OtlpProtocol::HttpJson),
    )?];
    let flagged_header = draft::header(raw);
    // The header's name first (its value's variable is proposed from it), then the variable.
    let header_name = ask_into(
        q,
        raw,
        "Auth header name, for example signoz-ingestion-key (Enter for none)",
        flagged_header.as_ref().map(|(name, _)| name.clone()),
        true,
        &|r, t| {
            let env = draft::env_name_for(t);
            draft::set_header(r, (!t.is_empty()).then_some((t, env.as_str())));
            Ok(())
        },
    )?;
    if !header_name.is_empty() {
        let env = match &flagged_header {
            Some((name, Some(env))) if *name == header_name => env.clone(),
            _ => draft::env_name_for(&header_name),
        };
        ask_into(
            q,
            raw,
            &format!(
                "Name of the environment variable holding the {header_name} value (the name, not the secret)"
            ),
            Some(env),
            false,
            &|r, t| {
                draft::set_header(r, Some((&header_name, t)));
                Ok(())
            },
        )?;
    }
    let service_name = draft::otlp(raw).service_name.clone();
    ask_into(
        q,
        raw,
        "Service name (service.name of every record)",
        Some(service_name),
        false,
        &|r, t| {
            draft::otlp(r).service_name = t.to_string();
            Ok(())
        },
    )?;
    let memory = raw.delivery.lambda.memory_mb.to_string();
    ask_into(
        q,
        raw,
        "Lambda memory (MB)",
        Some(memory),
        false,
        &|r, t| {
            r.delivery.lambda.memory_mb = number(t)?;
            Ok(())
        },
    )?;
    let timeout = raw.delivery.lambda.timeout_s.to_string();
    ask_into(
        q,
        raw,
        "Lambda timeout (seconds)",
        Some(timeout),
        false,
        &|r, t| {
            r.delivery.lambda.timeout_s = number(t)?;
            Ok(())
        },
    )?;
    let architectures = [Architecture::X86_64, Architecture::Arm64];
    let lambda = &mut raw.delivery.lambda;
    lambda.architecture = architectures[q.select(
        "Lambda architecture",
        &["x86_64".to_string(), "arm64".to_string()],
        usize::from(lambda.architecture == Architecture::Arm64),
    )?];
    if let Some(id) = taken_by {
        q.say(&format!(
            "The bucket's notification `{id}` already reads the flow-log keys, and S3 allows one notification per prefix."
        ));
        let triggers = [Trigger::EventBridge, Trigger::S3Notification];
        lambda.trigger = triggers[q.select(
            "How should new log files reach the forwarder?",
            &[
                format!("eventbridge: an EventBridge rule, beside `{id}` (both read the files)"),
                format!("s3-notification: a notification entry (setup refuses it until `{id}` is narrowed or removed)"),
            ],
            0,
        )?];
    }
    Ok(())
}
