//! The export request (`ExportLogsServiceRequest`) of a batch, as protobuf or OTLP/JSON.
//!
//! Protobuf is written piece by piece around the records the mapper already encoded. OTLP/JSON
//! goes through `opentelemetry_proto`'s serde support (camelCase names, hex ids, enums as
//! integers, 64-bit integers as strings), which is the encoding collectors accept.

use super::batch::{Batch, Group};
use super::config::ExportConfig;
use crate::otlp::{wire, SCOPE_NAME};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;
use std::io::{self, Write};

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_string())),
        }),
        ..Default::default()
    }
}

/// The resource of a group: who sent the records and where they came from.
pub fn resource(group: &Group, config: &ExportConfig) -> Resource {
    let mut attributes = vec![
        kv("cloud.provider", "aws"),
        kv("service.name", &config.service_name),
    ];
    if let Some(a) = &group.account {
        attributes.push(kv("cloud.account.id", a));
    }
    if let Some(r) = &group.region {
        attributes.push(kv("cloud.region", r));
    }
    if let Some(v) = group.version {
        attributes.push(KeyValue {
            key: "aws.vpc.flow.log.version".to_string(),
            value: Some(AnyValue {
                value: Some(any_value::Value::IntValue(v)),
            }),
            ..Default::default()
        });
    }
    attributes.push(kv("aws.s3.bucket", &group.object.bucket));
    attributes.push(kv("aws.s3.key", &group.object.key));
    for (k, v) in &config.resource_attributes {
        if !attributes.iter().any(|a| &a.key == k) {
            attributes.push(kv(k, v));
        }
    }
    Resource {
        attributes,
        ..Default::default()
    }
}

pub fn scope() -> InstrumentationScope {
    InstrumentationScope {
        name: SCOPE_NAME.to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        ..Default::default()
    }
}

/// Writes the batch as a protobuf `ExportLogsServiceRequest`.
pub fn write_protobuf(
    batch: &Batch,
    config: &ExportConfig,
    out: &mut impl Write,
) -> io::Result<()> {
    let scope = scope().encode_to_vec();
    let mut head = Vec::with_capacity(1024);
    for (index, group) in batch.groups.iter().enumerate() {
        let resource = resource(group, config).encode_to_vec();
        let scope_field = 1 + wire::varint_len(scope.len() as u64) + scope.len();
        let scope_logs = scope_field + group.len;
        let resource_field = 1 + wire::varint_len(resource.len() as u64) + resource.len();
        let resource_logs = resource_field + 1 + wire::varint_len(scope_logs as u64) + scope_logs;
        head.clear();
        wire::key(&mut head, 1, 2); // ExportLogsServiceRequest.resource_logs
        wire::varint(&mut head, resource_logs as u64);
        wire::bytes(&mut head, 1, &resource); // ResourceLogs.resource
        wire::key(&mut head, 2, 2); // ResourceLogs.scope_logs
        wire::varint(&mut head, scope_logs as u64);
        wire::bytes(&mut head, 1, &scope); // ScopeLogs.scope
        out.write_all(&head)?;
        for piece in batch.pieces(index) {
            out.write_all(piece)?; // ScopeLogs.log_records, already framed
        }
    }
    Ok(())
}

/// The batch as an `ExportLogsServiceRequest` message (for JSON and for tests).
pub fn to_message(batch: &Batch, config: &ExportConfig) -> ExportLogsServiceRequest {
    let mut buf = Vec::with_capacity(batch.bytes + 1024);
    write_protobuf(batch, config, &mut buf).expect("writing to a Vec cannot fail");
    ExportLogsServiceRequest::decode(&buf[..]).expect("we encode valid protobuf")
}

/// Writes the batch as OTLP/JSON.
pub fn write_json(batch: &Batch, config: &ExportConfig, out: &mut impl Write) -> io::Result<()> {
    serde_json::to_writer(out, &to_message(batch, config)).map_err(io::Error::other)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::export::Batcher;
    use crate::otlp::{Mapper, ObjectInfo};
    use crate::parse::Reader;
    use std::sync::Arc;

    pub(crate) fn batch_of(text: &str, key: &str) -> Batch {
        let object = Arc::new(ObjectInfo::new("bkt", key, Some("us-east-1")));
        let mut r = Reader::new(text.as_bytes(), key);
        let mut batcher = Batcher::new(1 << 20);
        let mut mapper = None;
        let mut buf = Vec::new();
        while let Some(rec) = r.next_record().unwrap() {
            let m = mapper.get_or_insert_with(|| Mapper::new(rec.header(), &object, 1));
            buf.clear();
            let k = m.encode(&rec, &mut buf);
            assert!(batcher.push(&object, k, &buf).is_none());
        }
        batcher.finish().unwrap()
    }

    fn config() -> ExportConfig {
        ExportConfig::from_lookup(|k| {
            (k == "OTEL_RESOURCE_ATTRIBUTES").then(|| "deployment.environment=test".to_string())
        })
        .unwrap()
    }

    const TEXT: &str = "version account-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status region\n\
        2 111111111111 1.1.1.1 10.0.0.1 5 22 6 1 40 100 160 ACCEPT OK us-east-1\n\
        2 222222222222 1.1.1.2 10.0.0.1 5 22 6 1 40 100 160 REJECT OK eu-west-1\n\
        2 111111111111 1.1.1.3 10.0.0.1 5 22 6 1 40 100 160 ACCEPT OK us-east-1\n\
        2 unknown 1.1.1.4 10.0.0.1 5 22 6 1 40 100 160 ACCEPT OK -\n";

    #[test]
    fn protobuf_groups_records_by_account_and_region() {
        let cfg = config();
        let msg = to_message(
            &batch_of(TEXT, "AWSLogs/333333333333/vpcflowlogs/ap-south-1/x.log"),
            &cfg,
        );
        let summary: Vec<(String, usize)> = msg
            .resource_logs
            .iter()
            .map(|rl| {
                let attrs = &rl.resource.as_ref().unwrap().attributes;
                let get = |k: &str| {
                    attrs
                        .iter()
                        .find(|a| a.key == k)
                        .map(|a| format!("{:?}", a.value.as_ref().unwrap().value))
                };
                assert_eq!(
                    get("cloud.provider").unwrap(),
                    r#"Some(StringValue("aws"))"#
                );
                assert!(get("deployment.environment").is_some());
                assert_eq!(rl.scope_logs[0].scope.as_ref().unwrap().name, SCOPE_NAME);
                (
                    format!(
                        "{} {}",
                        get("cloud.account.id").unwrap(),
                        get("cloud.region").unwrap()
                    ),
                    rl.scope_logs[0].log_records.len(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    r#"Some(StringValue("111111111111")) Some(StringValue("us-east-1"))"#
                        .to_string(),
                    2
                ),
                (
                    r#"Some(StringValue("222222222222")) Some(StringValue("eu-west-1"))"#
                        .to_string(),
                    1
                ),
                (
                    r#"Some(StringValue("333333333333")) Some(StringValue("ap-south-1"))"#
                        .to_string(),
                    1
                ),
            ]
        );
    }

    #[test]
    fn json_is_otlp_json() {
        let cfg = config();
        let mut out = Vec::new();
        write_json(&batch_of(TEXT, "k"), &cfg, &mut out).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let rec = &v["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0];
        assert_eq!(rec["timeUnixNano"], "160000000000");
        assert_eq!(
            rec["body"]["stringValue"],
            "ACCEPT tcp 1.1.1.1:5 -> 10.0.0.1:22 1 packets 40 bytes"
        );
        let attrs = rec["attributes"].as_array().unwrap();
        let port = attrs.iter().find(|a| a["key"] == "source.port").unwrap();
        assert_eq!(port["value"]["intValue"], "5");
        assert!(rec.get("traceId").is_none_or(|t| t == ""));
        assert!(v["resourceLogs"][0]["resource"]["attributes"].is_array());
    }
}
