//! The summary of the answers, shown before the file is written.

use crate::config::{DeliveryMode, RawConfig, ResourceType};
use crate::wizard::draft::{self};

/// The summary shown before the file is written.
pub fn summary(a: &RawConfig) -> Vec<String> {
    let (kind, ids) = draft::resources(a);
    let what = match kind {
        ResourceType::Vpc => "VPC",
        ResourceType::Subnet => "subnet",
        ResourceType::NetworkInterface => "network interface",
        ResourceType::TransitGateway => "transit gateway",
        ResourceType::TransitGatewayAttachment => "transit gateway attachment",
    };
    let f = &a.flow_log;
    let format = match f.format.as_str() {
        "default" => "default format".to_string(),
        "all" => "all fields".to_string(),
        custom => format!("{} fields", custom.split_whitespace().count()),
    };
    let mut partitions = Vec::new();
    if f.hive_compatible_partitions {
        partitions.push(", hive partitions");
    }
    if f.per_hour_partition {
        partitions.push(", hourly folders");
    }
    let days = a.bucket.retention_days;
    let bucket = match (&a.bucket.name, a.bucket.create) {
        (None, _) => {
            format!("a new bucket named <stack>-flowlogs-<account>-<region>; logs kept {days} days")
        }
        (Some(name), true) => format!("a new bucket {name}; logs kept {days} days"),
        (Some(name), false) => format!("the existing bucket {name}"),
    };
    let d = &a.delivery;
    let delivery = match (d.mode, &d.otlp, &d.firehose) {
        (DeliveryMode::Lambda, Some(otlp), _) => {
            let header = match draft::header(a) {
                Some((name, Some(env))) => format!(", header {name} from ${env}"),
                Some((name, None)) => format!(", header {name}"),
                None => String::new(),
            };
            format!(
                "Lambda ({} MB, {} s, {}) -> {} ({}{header}), service {}",
                d.lambda.memory_mb,
                d.lambda.timeout_s,
                d.lambda.architecture.as_aws(),
                otlp.endpoint,
                otlp.protocol.as_env(),
                otlp.service_name
            )
        }
        (DeliveryMode::Firehose, _, Some(fh)) => {
            match fh.access_key.as_deref().and_then(draft::env_of) {
                Some(env) => format!("Firehose -> {}, access key from ${env}", fh.url),
                None => format!("Firehose -> {}", fh.url),
            }
        }
        (mode, _, _) => format!("{mode:?}"),
    };
    vec![
        "Summary:".to_string(),
        format!(
            "  stack     {} in {}",
            a.stack,
            a.region.as_deref().unwrap_or("the profile's region")
        ),
        format!(
            "  log       {} {}: {} traffic",
            what,
            ids.join(", "),
            f.traffic_type.as_aws()
        ),
        format!(
            "  records   {format}, {} s interval, {}{}",
            f.max_aggregation_interval,
            f.file_format.as_aws(),
            partitions.concat()
        ),
        format!("  bucket    {bucket}"),
        format!("  delivery  {delivery}"),
    ]
}
