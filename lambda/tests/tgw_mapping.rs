//! Transit gateway flow logs through the whole pipeline (parse, map, export request), pinned
//! against the OpenTelemetry Collector's own test of them (`fixtures/collector/`, its
//! `valid_tgw_flow_log.log` and `valid_tgw_flow_log_expected.yaml`), and every transit gateway
//! field of AWS's list (`fixtures/tgw-all-fields-v6.log`) checked for its attribute, body and
//! filter.

use flowlogs_forwarder::export::{request::Body, Compression, ExportConfig};
use flowlogs_forwarder::filter::Filter;
use flowlogs_forwarder::otlp::{BodyMode, ObjectInfo};
use flowlogs_forwarder::pipeline::{self, ObjectStats, Sink};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, KeyValue};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use prost::Message;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

#[derive(Debug, Clone, PartialEq)]
enum V {
    S(String),
    I(i64),
}

fn s(v: &str) -> V {
    V::S(v.to_string())
}

fn attrs(kvs: &[KeyValue]) -> BTreeMap<String, V> {
    let mut m = BTreeMap::new();
    for kv in kvs {
        let v = match kv.value.as_ref().and_then(|v| v.value.clone()) {
            Some(any_value::Value::StringValue(s)) => V::S(s),
            Some(any_value::Value::IntValue(i)) => V::I(i),
            other => panic!("unexpected value {other:?}"),
        };
        assert!(m.insert(kv.key.clone(), v).is_none(), "{} twice", kv.key);
    }
    m
}

/// One record as the export request carries it: resource attributes, record attributes,
/// time and body.
#[derive(Debug)]
struct Sent {
    resource: BTreeMap<String, V>,
    attributes: BTreeMap<String, V>,
    time_unix_nano: u64,
    body: Option<String>,
}

fn forward(name: &str, body: BodyMode, filter: Filter) -> (Vec<Sent>, ObjectStats) {
    let text = std::fs::read(format!("{FIXTURES}/{name}")).unwrap();
    let mut config = ExportConfig::from_lookup(|_| None).unwrap();
    config.compression = Compression::None;
    config.body = body;
    config.filter = filter;
    let object = Arc::new(ObjectInfo::new(
        "b",
        "AWSLogs/123456789012/vpcflowlogs/us-east-1/2023/11/14/tgw.log",
        None,
    ));
    let mut bodies: Vec<Body> = Vec::new();
    let mut emit = |b: Body| {
        bodies.push(b);
        true
    };
    let mut sink = Sink {
        config: &config,
        emit: &mut emit,
        stop: &|| false,
    };
    let stats = pipeline::forward_text(&text[..], &object, 1, &mut sink).unwrap();
    assert_eq!(stats.skipped_lines, 0, "{name}");
    let mut sent = Vec::new();
    for b in &bodies {
        let req = ExportLogsServiceRequest::decode(&b.bytes[..]).unwrap();
        for rl in req.resource_logs {
            let resource = attrs(&rl.resource.unwrap().attributes);
            for lr in rl.scope_logs.into_iter().flat_map(|s| s.log_records) {
                sent.push(sent_record(&resource, lr));
            }
        }
    }
    (sent, stats)
}

fn sent_record(resource: &BTreeMap<String, V>, lr: LogRecord) -> Sent {
    Sent {
        resource: resource.clone(),
        attributes: attrs(&lr.attributes),
        time_unix_nano: lr.time_unix_nano,
        body: lr.body.map(|b| match b.value {
            Some(any_value::Value::StringValue(s)) => s,
            other => panic!("{other:?}"),
        }),
    }
}

/// The collector's expected output, read from its YAML: resource attributes, record
/// attributes and `timeUnixNano` of its one record (a reader for that file's shape only).
fn collector_expected() -> (BTreeMap<String, V>, BTreeMap<String, V>, u64) {
    let yaml = std::fs::read_to_string(format!(
        "{FIXTURES}/collector/valid_tgw_flow_log_expected.yaml"
    ))
    .unwrap();
    let unquote = |v: &str| v.trim().trim_matches('"').to_string();
    let (mut resource, mut record) = (BTreeMap::new(), BTreeMap::new());
    let mut in_record = false;
    let mut in_scope = false;
    let mut key = None;
    let mut time = 0;
    for line in yaml.lines() {
        let t = line.trim_start();
        if t.starts_with("scopeLogs:") || t.starts_with("- logRecords:") {
            in_record = true;
        } else if t.starts_with("scope:") {
            in_scope = true;
        } else if let Some(k) = t.strip_prefix("- key: ") {
            key = Some(k.to_string());
        } else if let Some(v) = t.strip_prefix("timeUnixNano: ") {
            time = unquote(v).parse().unwrap();
        } else if let Some((ty, v)) = t.split_once(": ") {
            let value = match ty {
                "stringValue" => V::S(unquote(v)),
                "intValue" => V::I(unquote(v).parse().unwrap()),
                _ => continue,
            };
            let k = key.take().expect("a value after its key");
            if in_scope {
                continue;
            }
            let map = if in_record {
                &mut record
            } else {
                &mut resource
            };
            map.insert(k, value);
        }
    }
    (resource, record, time)
}

/// The collector's input gives the collector's attributes, name for name and type for type;
/// where this forwarder differs, the difference is the one listed here.
#[test]
fn tgw_record_matches_the_collectors_expected_file() {
    let (want_resource, mut want, want_time) = collector_expected();
    assert_eq!(want.len(), 28, "the expected file read whole");
    assert_eq!(want_resource.len(), 3);
    let (sent, stats) = forward(
        "collector/valid_tgw_flow_log.log",
        BodyMode::Summary,
        Filter::default(),
    );
    assert_eq!((sent.len(), stats.records), (1, 1));
    let got = &sent[0];
    assert_eq!(got.time_unix_nano, want_time);

    // Differences, each decided by the VPC mapping before: the version is the same for the
    // whole object, so it is on the resource; the protocol number is kept beside its name.
    assert_eq!(want.remove("aws.vpc.flow.log.version"), Some(V::I(6)));
    assert_eq!(got.resource["aws.vpc.flow.log.version"], V::I(6));
    for (k, v) in &want_resource {
        assert_eq!(got.resource.get(k), Some(v), "resource {k}");
    }
    for (k, v) in &want {
        assert_eq!(got.attributes.get(k), Some(v), "{k}");
    }
    let extra: BTreeSet<&str> = got
        .attributes
        .keys()
        .map(String::as_str)
        .filter(|k| !want.contains_key(*k))
        .collect();
    assert_eq!(
        extra,
        BTreeSet::from([
            "aws.vpc.flow.protocol",
            "log.record.uid",
            "network.transport"
        ])
    );
    assert_eq!(got.attributes["network.transport"], s("tcp"));
    assert_eq!(got.attributes["aws.vpc.flow.protocol"], V::I(6));
    // The collector's body is empty; ours says what happened, without an action.
    assert_eq!(
        got.body.as_deref(),
        Some(
            "tgw-attach-0abc12345def67890 tcp 10.0.0.1:12345 -> 10.0.1.1:443 10 packets \
             1000 bytes lost 1 no-route 2 blackhole 3 mtu-exceeded 4 ttl-expired"
        )
    );
}

/// Every field of a transit gateway flow log (AWS's default format for them: all 36) has its
/// attribute, typed as the collector types it, or goes to the resource.
#[test]
fn every_tgw_field_has_its_attribute() {
    let (sent, stats) = forward(
        "tgw-all-fields-v6.log",
        BodyMode::Summary,
        Filter::default(),
    );
    assert_eq!((sent.len(), stats.records), (5, 5));
    let first = &sent[0];
    let want: [(&str, V); 36] = [
        ("aws.tgw.id", s("tgw-0a1b2c3d4e5f60718")),
        ("aws.tgw.attachment.id", s("tgw-attach-0a1b2c3d4e5f60001")),
        ("aws.tgw.source.vpc.account.id", s("123456789012")),
        ("aws.tgw.destination.vpc.account.id", s("210987654321")),
        ("aws.tgw.source.vpc.id", s("vpc-0a1b2c3d4e5f61111")),
        ("aws.tgw.destination.vpc.id", s("vpc-0f1e2d3c4b5a62222")),
        (
            "aws.tgw.source.vpc.subnet.id",
            s("subnet-0a1b2c3d4e5f63333"),
        ),
        (
            "aws.tgw.destination.vpc.subnet.id",
            s("subnet-0f1e2d3c4b5a64444"),
        ),
        ("aws.tgw.source.eni.id", s("eni-0a1b2c3d4e5f65555")),
        ("aws.tgw.destination.eni.id", s("eni-0f1e2d3c4b5a66666")),
        ("aws.tgw.source.az.id", s("use1-az1")),
        ("aws.tgw.destination.az.id", s("use1-az2")),
        (
            "aws.tgw.attachment.pair.id",
            s("tgw-attach-0f1e2d3c4b5a60002"),
        ),
        ("source.address", s("10.1.0.15")),
        ("destination.address", s("10.2.0.20")),
        ("source.port", V::I(49152)),
        ("destination.port", V::I(443)),
        ("network.protocol.name", s("tcp")),
        ("network.transport", s("tcp")),
        ("aws.vpc.flow.protocol", V::I(6)),
        ("aws.vpc.flow.packets", V::I(12)),
        ("aws.vpc.flow.bytes", V::I(3456)),
        ("aws.vpc.flow.start", V::I(1718806751)),
        ("aws.vpc.flow.status", s("OK")),
        ("network.type", s("ipv4")),
        ("aws.vpc.flow.packets_lost_no_route", V::I(0)),
        ("aws.vpc.flow.packets_lost_blackhole", V::I(0)),
        ("aws.vpc.flow.packets_lost_mtu_exceeded", V::I(0)),
        ("aws.vpc.flow.packets_lost_ttl_expired", V::I(0)),
        ("network.tcp.flags", s("19")),
        ("network.io.direction", s("receive")),
        // The record's own uid, then the fields of the whole object.
        ("log.record.uid", V::S(String::new())),
        ("resource:cloud.account.id", s("123456789012")),
        ("resource:cloud.region", s("us-east-1")),
        ("resource:aws.vpc.flow.log.version", V::I(6)),
        // `end` is the record's time; `resource-type` is left out, as the collector does.
        ("time", V::I(1718806806)),
    ];
    for (k, v) in &want {
        match *k {
            "log.record.uid" => assert!(first.attributes.contains_key(*k)),
            "time" => assert_eq!(V::I(first.time_unix_nano as i64 / 1_000_000_000), *v),
            k if k.starts_with("resource:") => {
                assert_eq!(first.resource.get(&k["resource:".len()..]), Some(v), "{k}")
            }
            k => assert_eq!(first.attributes.get(k), Some(v), "{k}"),
        }
    }
    assert_eq!(
        first.attributes.len(),
        want.iter()
            .filter(|(k, _)| !k.starts_with("resource:") && *k != "time")
            .count(),
        "{:?}",
        first.attributes.keys()
    );
    // No action is invented, and nothing of the VPC-only fields appears.
    for r in &sent {
        for k in [
            "aws.vpc.flow.action",
            "network.interface.name",
            "aws.vpc.id",
        ] {
            assert!(!r.attributes.contains_key(k), "{k}");
        }
        assert!(!r.attributes.keys().any(|k| k.contains("resource_type")));
    }
    let v6 = &sent[2].attributes;
    assert_eq!(v6["network.transport"], s("ipv6-icmp"));
    assert_eq!(v6["network.type"], s("ipv6"));
    assert_eq!(v6["network.io.direction"], s("transmit"));
    assert_eq!(v6["aws.vpc.flow.destination.service"], s("S3"));
    assert_eq!(sent[3].attributes["network.transport"], s("udp"));
}

/// The summary reads well for a transit gateway record in each of its shapes; `line` holds the
/// line and `none` nothing, with the same attributes.
#[test]
fn tgw_bodies_in_every_mode() {
    let (summary, _) = forward(
        "tgw-all-fields-v6.log",
        BodyMode::Summary,
        Filter::default(),
    );
    let bodies: Vec<&str> = summary.iter().map(|r| r.body.as_deref().unwrap()).collect();
    assert_eq!(
        bodies,
        [
            "tgw-attach-0a1b2c3d4e5f60001 tcp 10.1.0.15:49152 -> 10.2.0.20:443 12 packets 3456 bytes",
            "tgw-attach-0a1b2c3d4e5f60001 tcp 10.1.0.15:53124 -> 10.9.0.7:5432 7 packets 420 bytes \
             lost 5 no-route 2 blackhole",
            "tgw-attach-0f1e2d3c4b5a60002 ipv6-icmp [2600:1f18:4a3:6900::1]:0 -> \
             [2600:1f18:4a3:6a00::7]:0 3 packets 240 bytes lost 1 mtu-exceeded 1 ttl-expired",
            "tgw-attach-0f1e2d3c4b5a60002 udp 10.2.0.31:53 -> 10.1.0.8:60123 40 packets 6200 bytes",
            "SKIPDATA tgw-attach-0a1b2c3d4e5f60001 1718806751-1718806806",
        ]
    );
    let text = std::fs::read_to_string(format!("{FIXTURES}/tgw-all-fields-v6.log")).unwrap();
    let (line, _) = forward("tgw-all-fields-v6.log", BodyMode::Line, Filter::default());
    let (none, _) = forward("tgw-all-fields-v6.log", BodyMode::None, Filter::default());
    for (i, want_line) in text.lines().skip(1).enumerate() {
        assert_eq!(line[i].body.as_deref(), Some(want_line));
        assert_eq!(none[i].body, None);
        assert_eq!(line[i].attributes, summary[i].attributes);
        assert_eq!(none[i].attributes, summary[i].attributes);
    }
}

/// A transit gateway record has no action: a rule with an `action` condition never drops one
/// (a record without the field meets no condition on it), while the rules on what it has
/// (status, addresses, ports) apply as to a VPC record.
#[test]
fn the_filter_on_tgw_records() {
    let filter = |json: &str| Filter::from_json(Some(json)).unwrap();
    let kept = |f: Filter| {
        let (sent, stats) = forward("tgw-all-fields-v6.log", BodyMode::Summary, f);
        assert_eq!(stats.records, 5);
        assert_eq!(stats.filtered as usize, 5 - sent.len());
        sent.iter()
            .map(|r| r.body.clone().unwrap())
            .collect::<Vec<_>>()
    };
    // Accepted internal traffic, the usual rule for VPC flow logs: no TGW record is dropped,
    // even those whose addresses match, since none says it was accepted.
    let internal =
        r#"[{"action":["ACCEPT"],"source":["10.0.0.0/8"],"destination":["10.0.0.0/8"]}]"#;
    assert_eq!(kept(filter(internal)).len(), 5);
    assert_eq!(kept(filter(r#"[{"action":["ACCEPT","REJECT"]}]"#)).len(), 5);
    // The same rule without the action drops the three internal IPv4 records.
    let by_address = r#"[{"source":["10.0.0.0/8"],"destination":["10.0.0.0/8"]}]"#;
    let left = kept(filter(by_address));
    assert_eq!(left.len(), 2);
    assert!(left[0].contains("ipv6-icmp") && left[1].starts_with("SKIPDATA"));
    assert_eq!(kept(filter(r#"[{"log_status":["SKIPDATA"]}]"#)).len(), 4);
    let left = kept(filter(r#"[{"destination_port":["443","5432"]}]"#));
    assert_eq!(left.len(), 3);
}
