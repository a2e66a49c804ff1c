//! Record encoding: one flow log record written straight to an encoded `LogRecord`, with its
//! body (as [`BodyMode`] says), its attributes and its `log.record.uid`. What is the same for
//! a whole object (account, region, the format's version) goes to the resource instead, through
//! the record's [`ResourceKey`].

use super::attributes::{action_for, protocol_name, Action, DerivedKeys};
use super::object::ObjectInfo;
use super::wire;
use crate::parse::{Header, Record, Value};
use sha2::{Digest, Sha256};

/// The columns that need more than a plain attribute.
#[derive(Debug, Default, Clone, Copy)]
struct Special {
    srcaddr: Option<usize>,
    dstaddr: Option<usize>,
    pkt_srcaddr: Option<usize>,
    pkt_dstaddr: Option<usize>,
    srcport: Option<usize>,
    dstport: Option<usize>,
    protocol: Option<usize>,
    packets: Option<usize>,
    bytes: Option<usize>,
    start: Option<usize>,
    end: Option<usize>,
    action: Option<usize>,
    log_status: Option<usize>,
    interface_id: Option<usize>,
    tgw_attachment_id: Option<usize>,
    /// `packets-lost-no-route`, `-blackhole`, `-mtu-exceeded`, `-ttl-expired`.
    packets_lost: [Option<usize>; 4],
    account_id: Option<usize>,
    region: Option<usize>,
    version: Option<usize>,
}

/// What the body of a record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BodyMode {
    /// The flow log line as AWS wrote it.
    Line,
    /// A readable line that says what happened
    /// (`REJECT tcp 203.0.113.9:51234 -> 10.0.1.5:22 3 packets 180 bytes`; for a transit
    /// gateway, the attachment instead of the action and the packets lost, by reason, after).
    #[default]
    Summary,
    /// No body: the attributes hold everything.
    None,
}

impl BodyMode {
    pub const NAMES: [&'static str; 3] = ["line", "summary", "none"];

    pub fn parse(name: &str) -> Option<BodyMode> {
        Some(match name {
            "line" => BodyMode::Line,
            "summary" => BodyMode::Summary,
            "none" => BodyMode::None,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            BodyMode::Line => "line",
            BodyMode::Summary => "summary",
            BodyMode::None => "none",
        }
    }
}

/// What a record shares with the others of its resource: the account and region it belongs to
/// (`None` means "the object's"), and the version of its format (the same for a whole object
/// in practice; a record of another version goes to a resource of its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResourceKey<'a> {
    pub account: Option<&'a str>,
    pub region: Option<&'a str>,
    pub version: Option<i64>,
}

/// Turns the records of one object into encoded `LogRecord`s.
pub struct Mapper {
    actions: Vec<Action>,
    special: Special,
    keys: DerivedKeys,
    uid_prefix: String,
    observed_nanos: u64,
    body_mode: BodyMode,
    body: String,
    uid: String,
}

impl Mapper {
    pub fn new(header: &Header, object: &ObjectInfo, observed_nanos: u64) -> Mapper {
        let mut special = Special::default();
        let mut actions = Vec::with_capacity(header.columns().len());
        for (i, c) in header.columns().iter().enumerate() {
            let name = c.field.map_or(c.name.as_str(), |f| f.name);
            let slot = match name {
                "srcaddr" => Some(&mut special.srcaddr),
                "dstaddr" => Some(&mut special.dstaddr),
                "pkt-srcaddr" => Some(&mut special.pkt_srcaddr),
                "pkt-dstaddr" => Some(&mut special.pkt_dstaddr),
                "srcport" => Some(&mut special.srcport),
                "dstport" => Some(&mut special.dstport),
                "protocol" => Some(&mut special.protocol),
                "packets" => Some(&mut special.packets),
                "bytes" => Some(&mut special.bytes),
                "start" => Some(&mut special.start),
                "end" => Some(&mut special.end),
                "action" => Some(&mut special.action),
                "log-status" => Some(&mut special.log_status),
                "interface-id" => Some(&mut special.interface_id),
                "tgw-attachment-id" => Some(&mut special.tgw_attachment_id),
                "packets-lost-no-route" => Some(&mut special.packets_lost[0]),
                "packets-lost-blackhole" => Some(&mut special.packets_lost[1]),
                "packets-lost-mtu-exceeded" => Some(&mut special.packets_lost[2]),
                "packets-lost-ttl-expired" => Some(&mut special.packets_lost[3]),
                "account-id" => Some(&mut special.account_id),
                "region" => Some(&mut special.region),
                "version" => Some(&mut special.version),
                _ => None,
            };
            let duplicate = match slot {
                Some(s) if s.is_some() => true,
                Some(s) => {
                    *s = Some(i);
                    false
                }
                None => header.columns()[..i].iter().any(|p| p.name == c.name),
            };
            // Attribute keys must be unique: a repeated column keeps its first value only.
            // The version goes to the resource.
            actions.push(if duplicate || name == "version" {
                Action::Skip
            } else {
                action_for(name)
            });
        }
        let digest = Sha256::digest(format!("s3://{}/{}", object.bucket, object.key));
        Mapper {
            actions,
            special,
            keys: DerivedKeys::new(),
            uid_prefix: format!("{}-", hex::encode(&digest[..16])),
            observed_nanos,
            body_mode: BodyMode::default(),
            body: String::with_capacity(128),
            uid: String::with_capacity(48),
        }
    }

    /// The same mapper, writing bodies as `mode` says.
    pub fn with_body(mut self, mode: BodyMode) -> Mapper {
        self.body_mode = mode;
        self
    }

    /// The `log.record.uid` of the record on a line: the same object and line always give the
    /// same id, so a backend can drop the duplicates of at-least-once delivery.
    pub fn uid(&self, line_no: u64) -> String {
        format!("{}{line_no}", self.uid_prefix)
    }

    /// Writes the record as an encoded `LogRecord` message (no tag or length prefix) to `out`
    /// and says which account and region it belongs to.
    pub fn encode<'r>(&mut self, rec: &Record<'r>, out: &mut Vec<u8>) -> ResourceKey<'r> {
        // Borrowed, not copied: the table is a few hundred bytes, and this runs per record.
        let sp = &self.special;
        let str_of = |c: Option<usize>| c.and_then(|c| rec.get(c)).and_then(Value::as_str);
        let int_of = |c: Option<usize>| c.and_then(|c| rec.get(c)).and_then(Value::as_int);

        let seconds = int_of(sp.end).or_else(|| int_of(sp.start));
        if let Some(s) = seconds.and_then(|s| u64::try_from(s).ok()) {
            wire::fixed64(out, 1, s.saturating_mul(1_000_000_000));
        }
        wire::fixed64(out, 11, self.observed_nanos);

        match self.body_mode {
            BodyMode::Summary => {
                write_body(sp, &mut self.body, rec);
                wire::any_string_field(out, 5, &self.body);
            }
            BodyMode::Line => wire::any_string_field(out, 5, rec.line()),
            BodyMode::None => {}
        }

        let keys = &self.keys;

        for (col, action) in self.actions.iter().enumerate() {
            let Some(v) = rec.get(col) else { continue };
            match (action, v) {
                (Action::Skip, _) => {}
                (Action::Attr(k), Value::Int(i)) => wire::attr_int(out, k, i),
                (Action::Attr(k), Value::Str(s)) => wire::attr_str(out, k, s),
                (Action::IntAsString(k), Value::Int(i)) => {
                    wire::attr_str(out, k, itoa::Buffer::new().format(i))
                }
                (Action::IntAsString(k), Value::Str(s)) => wire::attr_str(out, k, s),
                (Action::Protocol, Value::Int(n)) => {
                    if let Some(name) = protocol_name(n) {
                        // The semantic conventions' place for tcp and udp (the transport
                        // layer), and the collector's (`network.protocol.name`, the
                        // application layer), which its users' queries expect.
                        wire::attr_str(out, &keys.transport, name);
                        wire::attr_str(out, &keys.protocol_name, name);
                    }
                    wire::attr_int(out, &keys.protocol, n);
                }
                (Action::Protocol, Value::Str(s)) => wire::attr_str(out, &keys.protocol, s),
                (Action::NetworkType, Value::Str(s)) => {
                    let t = match s {
                        "IPv4" => "ipv4",
                        "IPv6" => "ipv6",
                        "EFA" => "efa",
                        other => other,
                    };
                    wire::attr_str(out, &keys.network_type, t);
                }
                (Action::Direction, Value::Str(s)) => {
                    let d = match s {
                        "ingress" => "receive",
                        "egress" => "transmit",
                        other => other,
                    };
                    wire::attr_str(out, &keys.direction, d);
                }
                // Both are string fields: the parser never types them as ints.
                (Action::NetworkType | Action::Direction, Value::Int(_)) => {}
            }
        }

        // Addresses as awslogsencoding writes them: the packet-level address is the peer when
        // present; an interface address that differs from it is the local (middle-box) one.
        let (src, pkt_src) = (str_of(sp.srcaddr), str_of(sp.pkt_srcaddr));
        let (dst, pkt_dst) = (str_of(sp.dstaddr), str_of(sp.pkt_dstaddr));
        if let Some(a) = pkt_src.or(src) {
            wire::attr_str(out, &keys.source, a);
        }
        if let Some(a) = pkt_dst.or(dst) {
            wire::attr_str(out, &keys.destination, a);
        }
        let local = match (src, pkt_src, dst, pkt_dst) {
            (Some(s), Some(p), _, _) if s != p => Some(s),
            (_, _, Some(d), Some(p)) if d != p => Some(d),
            _ => None,
        };
        if let Some(l) = local {
            wire::attr_str(out, &keys.local, l);
        }

        self.uid.clear();
        self.uid.push_str(&self.uid_prefix);
        self.uid.push_str(itoa::Buffer::new().format(rec.line_no));
        wire::attr_str(out, &keys.uid, &self.uid);

        ResourceKey {
            account: str_of(sp.account_id).filter(|a| *a != "unknown"),
            region: str_of(sp.region),
            version: int_of(sp.version),
        }
    }
}

/// The `summary` body: `REJECT tcp 203.0.113.9:51234 -> 10.0.1.5:22 3 packets 180 bytes`, or
/// `NODATA eni-0123 1431280876-1431280934` when the record carries no traffic. A transit
/// gateway record has no action: its attachment takes the action's place, and the packets it
/// lost follow, by reason (`tgw-attach-0abc tcp 10.0.0.1:12345 -> 10.0.1.1:443 10 packets 1000
/// bytes lost 1 no-route 2 blackhole`; reasons without a loss are left out).
fn write_body(sp: &Special, body: &mut String, rec: &Record<'_>) {
    let get = |c: Option<usize>| c.and_then(|c| rec.get(c));
    // Numbers are written as the line has them, which saves formatting them again.
    let number = |c: Option<usize>| {
        c.filter(|&c| matches!(rec.get(c), Some(Value::Int(_))))
            .map(|c| rec.text(c))
    };
    let b = body;
    b.clear();
    let status = get(sp.log_status).and_then(Value::as_str);
    if let Some(s) = status.filter(|s| *s != "OK") {
        b.push_str(s);
        if let Some(Value::Str(eni)) = get(sp.interface_id).or_else(|| get(sp.tgw_attachment_id)) {
            b.push(' ');
            b.push_str(eni);
        }
        if let (Some(s), Some(e)) = (number(sp.start), number(sp.end)) {
            b.push(' ');
            b.push_str(s);
            b.push('-');
            b.push_str(e);
        }
        return;
    }
    let sep = |b: &mut String| {
        if !b.is_empty() {
            b.push(' ')
        }
    };
    if let Some(Value::Str(a)) = get(sp.action) {
        b.push_str(a);
    }
    if let Some(Value::Str(a)) = get(sp.tgw_attachment_id) {
        sep(b);
        b.push_str(a);
    }
    match get(sp.protocol) {
        Some(Value::Int(n)) => {
            sep(b);
            match protocol_name(n) {
                Some(name) => b.push_str(name),
                None => {
                    b.push_str("proto-");
                    b.push_str(number(sp.protocol).unwrap_or_default());
                }
            }
        }
        Some(Value::Str(s)) => {
            sep(b);
            b.push_str(s);
        }
        None => {}
    }
    let endpoint = |b: &mut String, addr: Option<Value<'_>>, port: Option<&str>| {
        match addr {
            Some(Value::Str(a)) if a.contains(':') => {
                b.push('[');
                b.push_str(a);
                b.push(']');
            }
            Some(Value::Str(a)) => b.push_str(a),
            _ => b.push('-'),
        }
        if let Some(p) = port {
            b.push(':');
            b.push_str(p);
        }
    };
    let src = get(sp.pkt_srcaddr).or_else(|| get(sp.srcaddr));
    let dst = get(sp.pkt_dstaddr).or_else(|| get(sp.dstaddr));
    if src.is_some() || dst.is_some() {
        sep(b);
        endpoint(b, src, number(sp.srcport));
        b.push_str(" -> ");
        endpoint(b, dst, number(sp.dstport));
    }
    if let Some(p) = number(sp.packets) {
        sep(b);
        b.push_str(p);
        b.push_str(" packets");
    }
    if let Some(n) = number(sp.bytes) {
        sep(b);
        b.push_str(n);
        b.push_str(" bytes");
    }
    const REASONS: [&str; 4] = [" no-route", " blackhole", " mtu-exceeded", " ttl-expired"];
    let mut lost = false;
    for (&c, reason) in sp.packets_lost.iter().zip(REASONS) {
        if let Some(c) = c.filter(|&c| matches!(rec.get(c), Some(Value::Int(n)) if n != 0)) {
            sep(b);
            if !lost {
                b.push_str("lost ");
                lost = true;
            }
            b.push_str(rec.text(c));
            b.push_str(reason);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otlp::ObjectInfo;
    use crate::parse::Reader;
    use opentelemetry_proto::tonic::common::v1::{any_value, KeyValue};
    use opentelemetry_proto::tonic::logs::v1::LogRecord;
    use prost::Message;
    use std::collections::BTreeMap;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

    #[derive(Debug, PartialEq)]
    enum V {
        S(String),
        I(i64),
    }

    fn attrs(kvs: &[KeyValue]) -> BTreeMap<String, V> {
        let mut m = BTreeMap::new();
        for kv in kvs {
            let v = match kv.value.as_ref().and_then(|v| v.value.clone()) {
                Some(any_value::Value::StringValue(s)) => V::S(s),
                Some(any_value::Value::IntValue(i)) => V::I(i),
                other => panic!("unexpected value {other:?}"),
            };
            assert!(
                m.insert(kv.key.clone(), v).is_none(),
                "duplicate key {}",
                kv.key
            );
        }
        m
    }

    fn map_file(name: &str) -> Vec<(LogRecord, Option<String>, Option<String>)> {
        map_file_with(name, BodyMode::Summary)
            .into_iter()
            .map(|(lr, key)| (lr, key.0, key.1))
            .collect()
    }

    type Key = (Option<String>, Option<String>, Option<i64>);

    fn map_file_with(name: &str, body: BodyMode) -> Vec<(LogRecord, Key)> {
        let data = std::fs::read(format!("{FIXTURES}/{name}")).unwrap();
        let object = ObjectInfo::new("b", "k", Some("eu-west-1"));
        let mut r = Reader::new(&data[..], name);
        let mut mapper = None;
        let mut out = Vec::new();
        let mut buf = Vec::new();
        while let Some(rec) = r.next_record().unwrap() {
            let m =
                mapper.get_or_insert_with(|| Mapper::new(rec.header(), &object, 7).with_body(body));
            buf.clear();
            let key = m.encode(&rec, &mut buf);
            let lr = LogRecord::decode(&buf[..]).expect("valid LogRecord");
            out.push((
                lr,
                (
                    key.account.map(str::to_string),
                    key.region.map(str::to_string),
                    key.version,
                ),
            ));
        }
        out
    }

    #[test]
    fn default_record_maps_to_awslogsencoding_names() {
        let recs = map_file("default-v2.log");
        assert_eq!(recs.len(), 7);
        let (lr, account, region) = &recs[0];
        assert_eq!(lr.time_unix_nano, 1_718_806_806_000_000_000);
        assert_eq!(lr.observed_time_unix_nano, 7);
        let body = match lr.body.as_ref().unwrap().value.as_ref().unwrap() {
            any_value::Value::StringValue(s) => s.clone(),
            _ => panic!(),
        };
        assert_eq!(
            body,
            "REJECT udp 74.82.47.48:34888 -> 10.0.12.216:123 1 packets 40 bytes"
        );
        let a = attrs(&lr.attributes);
        let want = [
            (
                "network.interface.name",
                V::S("eni-00257d510cfc77a72".into()),
            ),
            ("source.address", V::S("74.82.47.48".into())),
            ("destination.address", V::S("10.0.12.216".into())),
            ("source.port", V::I(34888)),
            ("destination.port", V::I(123)),
            ("network.protocol.name", V::S("udp".into())),
            ("network.transport", V::S("udp".into())),
            ("aws.vpc.flow.protocol", V::I(17)),
            ("aws.vpc.flow.packets", V::I(1)),
            ("aws.vpc.flow.bytes", V::I(40)),
            ("aws.vpc.flow.start", V::I(1718806751)),
            ("aws.vpc.flow.action", V::S("REJECT".into())),
            ("aws.vpc.flow.status", V::S("OK".into())),
        ];
        for (k, v) in &want {
            assert_eq!(a.get(*k), Some(v), "{k}");
        }
        let uid = match a.get("log.record.uid") {
            Some(V::S(s)) => s.clone(),
            _ => panic!(),
        };
        assert!(uid.ends_with("-2") && uid.len() == 34, "{uid}");
        // The format's version goes to the resource, through the record's key.
        assert_eq!(a.len(), want.len() + 1);
        assert!(!a.contains_key("aws.vpc.flow.log.version"));
        assert_eq!(account.as_deref(), Some("901660615925"));
        assert_eq!(region, &None);

        let (nodata, _, _) = &recs[5];
        let a = attrs(&nodata.attributes);
        assert_eq!(a.get("aws.vpc.flow.status"), Some(&V::S("NODATA".into())));
        assert!(!a.contains_key("source.address") && !a.contains_key("aws.vpc.flow.action"));
        assert_eq!(
            nodata.body.as_ref().unwrap().value,
            Some(any_value::Value::StringValue(
                "NODATA eni-1235b8ca123456789 1431280876-1431280934".into()
            ))
        );
    }

    #[test]
    fn body_modes_hold_the_line_a_summary_or_nothing() {
        let data = std::fs::read_to_string(format!("{FIXTURES}/default-v2.log")).unwrap();
        let first_line = data.lines().nth(1).unwrap();
        let body_of = |mode| {
            let (lr, key) = map_file_with("default-v2.log", mode).swap_remove(0);
            assert_eq!(key.2, Some(2), "the version, for the resource");
            let body = lr.body.clone().map(|b| match b.value {
                Some(any_value::Value::StringValue(s)) => s,
                other => panic!("{other:?}"),
            });
            (body, attrs(&lr.attributes), lr.encoded_len())
        };
        let (line, line_attrs, line_len) = body_of(BodyMode::Line);
        let (summary, summary_attrs, summary_len) = body_of(BodyMode::Summary);
        let (none, none_attrs, none_len) = body_of(BodyMode::None);
        assert_eq!(line.as_deref(), Some(first_line));
        assert_eq!(
            summary.as_deref(),
            Some("REJECT udp 74.82.47.48:34888 -> 10.0.12.216:123 1 packets 40 bytes")
        );
        assert_eq!(none, None);
        // The body changes nothing else.
        assert_eq!(line_attrs, summary_attrs);
        assert_eq!(none_attrs, summary_attrs);
        assert!(none_len < summary_len && summary_len < line_len);
    }

    #[test]
    fn all_fields_map_without_duplicates_or_unknowns() {
        let recs = map_file("all-fields-v8.log");
        let mut seen = std::collections::BTreeSet::new();
        for (lr, account, region) in &recs {
            let a = attrs(&lr.attributes);
            seen.extend(a.into_keys());
            assert!(matches!(account.as_deref(), Some("123456789012") | None));
            assert!(matches!(region.as_deref(), Some("us-east-1") | None));
        }
        // Two records say "unknown": they belong to the object's account.
        assert_eq!(recs.iter().filter(|r| r.1.is_none()).count(), 2);
        for k in [
            "aws.vpc.id",
            "aws.vpc.subnet.id",
            "host.id",
            "network.tcp.flags",
            "network.type",
            "aws.az.id",
            "aws.vpc.flow.source.service",
            "network.io.direction",
            "aws.vpc.flow.traffic_path",
            "aws.ecs.cluster.arn",
            "aws.ecs.task.id",
            "aws.ecs.container.id",
        ] {
            assert!(seen.contains(k), "{k} never set");
        }
        let first = attrs(&recs[0].0.attributes);
        assert_eq!(
            first.get("network.io.direction"),
            Some(&V::S("receive".into()))
        );
        assert_eq!(first.get("network.type"), Some(&V::S("ipv4".into())));
        assert_eq!(first.get("network.tcp.flags"), Some(&V::S("0".into())));
    }

    #[test]
    fn pkt_addresses_win_and_local_address_is_the_middle_box() {
        let input = "srcaddr dstaddr pkt-srcaddr pkt-dstaddr srcport dstport protocol\n\
                     10.0.1.5 10.0.0.220 10.0.1.5 203.0.113.5 1 2 6\n\
                     2001:db8::1 10.0.0.220 - - 1 2 250\n";
        let object = ObjectInfo::new("b", "k", None);
        let mut r = Reader::new(input.as_bytes(), "t");
        let mut out = Vec::new();
        for _ in 0..2 {
            let rec = r.next_record().unwrap().unwrap();
            let mut m = Mapper::new(rec.header(), &object, 0);
            let mut buf = Vec::new();
            m.encode(&rec, &mut buf);
            out.push(LogRecord::decode(&buf[..]).unwrap());
        }
        let a = attrs(&out[0].attributes);
        assert_eq!(a["destination.address"], V::S("203.0.113.5".into()));
        assert_eq!(a["network.local.address"], V::S("10.0.0.220".into()));
        let body = format!("{:?}", out[1].body);
        assert!(
            body.contains("proto-250 [2001:db8::1]:1 -> 10.0.0.220:2"),
            "{body}"
        );
        // A protocol without an IANA keyword has its number only.
        let unnamed = attrs(&out[1].attributes);
        assert!(!unnamed.contains_key("network.protocol.name"));
        assert!(!unnamed.contains_key("network.transport"));
        assert_eq!(unnamed["aws.vpc.flow.protocol"], V::I(250));
    }

    #[test]
    fn unknown_columns_become_string_attributes() {
        // A short key, and one longer than the block attribute keys are usually copied in.
        let input = "version future-field srcaddr srcaddr a-field-name-from-a-much-later-version-of-flow-logs\n\
                     2 17 1.1.1.1 2.2.2.2 x\n";
        let object = ObjectInfo::new("b", "k", None);
        let mut r = Reader::new(input.as_bytes(), "t");
        let rec = r.next_record().unwrap().unwrap();
        let mut buf = Vec::new();
        Mapper::new(rec.header(), &object, 0).encode(&rec, &mut buf);
        let a = attrs(&LogRecord::decode(&buf[..]).unwrap().attributes);
        assert_eq!(a["aws.vpc.flow.future_field"], V::S("17".into()));
        assert_eq!(
            a["aws.vpc.flow.a_field_name_from_a_much_later_version_of_flow_logs"],
            V::S("x".into())
        );
        assert_eq!(a["source.address"], V::S("1.1.1.1".into()));
    }

    #[test]
    fn uids_differ_by_object_and_line() {
        let h = crate::parse::Header::default_format();
        let a = Mapper::new(&h, &ObjectInfo::new("b", "k1", None), 0);
        let b = Mapper::new(&h, &ObjectInfo::new("b", "k2", None), 0);
        assert_ne!(a.uid(2), b.uid(2));
        assert_ne!(a.uid(2), a.uid(3));
        assert_eq!(
            a.uid(2),
            Mapper::new(&h, &ObjectInfo::new("b", "k1", None), 9).uid(2)
        );
    }
}
