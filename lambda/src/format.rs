//! The flow log field catalogue: VPC Flow Logs (versions 2 to 8) and Transit Gateway Flow Logs
//! (version 6), and the `${field} ...` log format syntax.
//!
//! The deployer validates a user's custom format with this module, and the parser types the
//! values of each record with it, so both agree on what a field is. The two kinds share the
//! fields they have in common (`srcaddr`, `packets`, `tcp-flags`, ...); a VPC format may not name
//! a transit gateway field and the other way round ([`lookup`], [`lookup_tgw`]), while the parser
//! knows them all ([`lookup_any`]): an object's header says which kind it is.

use std::fmt;

/// A field's value type, as AWS documents it (int32, int64 or string; addresses are strings
/// that hold an IPv4 or IPv6 address).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    /// int32
    Int,
    /// int64
    Long,
    /// string
    String,
    /// string holding an IPv4 or IPv6 address
    IpAddress,
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FieldType::Int => "int32",
            FieldType::Long => "int64",
            FieldType::String => "string",
            FieldType::IpAddress => "string (IP address)",
        })
    }
}

/// One field a VPC or transit gateway flow log record can carry.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Field {
    /// The name as written in a log format and a text header, e.g. `pkt-srcaddr`.
    pub name: &'static str,
    /// The flow log version that introduced the field.
    pub version: u8,
    pub kind: FieldType,
    pub description: &'static str,
    /// A valid sample value.
    pub example: &'static str,
}

impl Field {
    /// The Parquet column name: the field name with underscores, e.g. `pkt_srcaddr`.
    pub fn parquet_name(&self) -> String {
        self.name.replace('-', "_")
    }
}

macro_rules! field {
    ($name:literal, $version:literal, $kind:ident, $example:literal, $description:literal) => {
        Field {
            name: $name,
            version: $version,
            kind: FieldType::$kind,
            description: $description,
            example: $example,
        }
    };
}

/// How many of [`CATALOGUE`]'s fields, from its start, are VPC flow log fields.
const VPC_COUNT: usize = 40;

/// The VPC fields (versions 2 to 8), then the fields only transit gateway flow logs have.
static CATALOGUE: [Field; 58] = [
    // Version 2: the default format.
    field!("version", 2, Int, "2",
        "The flow log version: 2 for the default format, else the highest version among the fields of the format."),
    field!("account-id", 2, String, "123456789012",
        "The AWS account ID of the owner of the source network interface."),
    field!("interface-id", 2, String, "eni-1235b8ca123456789",
        "The ID of the network interface for which the traffic is recorded."),
    field!("srcaddr", 2, IpAddress, "172.31.16.139",
        "The source address of incoming traffic, or the IPv4 or IPv6 address of the network interface for outgoing traffic."),
    field!("dstaddr", 2, IpAddress, "172.31.16.21",
        "The destination address of outgoing traffic, or the IPv4 or IPv6 address of the network interface for incoming traffic."),
    field!("srcport", 2, Int, "20641", "The source port of the traffic."),
    field!("dstport", 2, Int, "22", "The destination port of the traffic."),
    field!("protocol", 2, Int, "6", "The IANA protocol number of the traffic."),
    field!("packets", 2, Long, "20", "The number of packets transferred during the flow."),
    field!("bytes", 2, Long, "4249", "The number of bytes transferred during the flow."),
    field!("start", 2, Long, "1418530010",
        "The time, in Unix seconds, when the first packet of the flow was received within the aggregation interval."),
    field!("end", 2, Long, "1418530070",
        "The time, in Unix seconds, when the last packet of the flow was received within the aggregation interval."),
    field!("action", 2, String, "ACCEPT",
        "ACCEPT if the traffic was accepted, REJECT if it was rejected (security groups or network ACLs)."),
    field!("log-status", 2, String, "OK",
        "OK if data is logging normally, NODATA if there was no traffic in the interval, SKIPDATA if records were skipped."),
    // Version 3.
    field!("vpc-id", 3, String, "vpc-1a2b3c4d", "The ID of the VPC that contains the network interface."),
    field!("subnet-id", 3, String, "subnet-aabbcc1122", "The ID of the subnet that contains the network interface."),
    field!("instance-id", 3, String, "i-1234567890abcdef0",
        "The ID of the instance associated with the network interface, if the instance is owned by you."),
    field!("tcp-flags", 3, Int, "19",
        "The bitmask of TCP flags seen in the interval: FIN 1, SYN 2, RST 4, SYN-ACK 18, OR-ed together."),
    field!("type", 3, String, "IPv4", "The type of traffic: IPv4, IPv6 or EFA."),
    field!("pkt-srcaddr", 3, IpAddress, "10.0.1.5",
        "The packet-level (original) source IP address of the traffic."),
    field!("pkt-dstaddr", 3, IpAddress, "10.0.0.220",
        "The packet-level (original) destination IP address of the traffic."),
    // Version 4.
    field!("region", 4, String, "us-east-1", "The Region that contains the network interface."),
    field!("az-id", 4, String, "use1-az1", "The ID of the Availability Zone that contains the network interface."),
    field!("sublocation-type", 4, String, "wavelength",
        "The type of sublocation: wavelength, outpost or localzone."),
    field!("sublocation-id", 4, String, "us-east-1-wl1-bos-wlz-1", "The ID of the sublocation."),
    // Version 5.
    field!("pkt-src-aws-service", 5, String, "S3",
        "The name of the subset of IP address ranges for the pkt-srcaddr field, if it belongs to an AWS service."),
    field!("pkt-dst-aws-service", 5, String, "DYNAMODB",
        "The name of the subset of IP address ranges for the pkt-dstaddr field, if it belongs to an AWS service."),
    field!("flow-direction", 5, String, "ingress",
        "The direction of the flow with respect to the interface: ingress or egress."),
    field!("traffic-path", 5, Int, "8",
        "The path egress traffic takes to the destination (1 through another resource in the VPC ... 8 through a VPC peering connection)."),
    // Version 7.
    field!("ecs-cluster-arn", 7, String, "arn:aws:ecs:us-east-1:123456789012:cluster/web",
        "The ARN of the ECS cluster, if the traffic is from a running ECS task."),
    field!("ecs-cluster-name", 7, String, "web", "The name of the ECS cluster."),
    field!("ecs-container-instance-arn", 7, String,
        "arn:aws:ecs:us-east-1:123456789012:container-instance/web/0a1b2c3d4e5f67890a1b2c3d4e5f6789",
        "The ARN of the ECS container instance, if the task runs on EC2."),
    field!("ecs-container-instance-id", 7, String, "0a1b2c3d4e5f67890a1b2c3d4e5f6789",
        "The ID of the ECS container instance, if the task runs on EC2."),
    field!("ecs-container-id", 7, String, "430b91ed2954ba5cf81e54dd1c0502c6-778016012",
        "The Docker runtime ID of the container, or of the first container if the task has several."),
    field!("ecs-second-container-id", 7, String, "830b91ed2954ba5cf81e54dd1c0502c6-778016013",
        "The Docker runtime ID of the second container of the task."),
    field!("ecs-service-name", 7, String, "checkout", "The name of the ECS service, if the task was started by one."),
    field!("ecs-task-definition-arn", 7, String, "arn:aws:ecs:us-east-1:123456789012:task-definition/checkout:7",
        "The ARN of the ECS task definition."),
    field!("ecs-task-arn", 7, String,
        "arn:aws:ecs:us-east-1:123456789012:task/web/09758340401d68fbfe977c5604a65651",
        "The ARN of the ECS task."),
    field!("ecs-task-id", 7, String, "09758340401d68fbfe977c5604a65651", "The ID of the ECS task."),
    // Version 8.
    field!("reject-reason", 8, String, "BPA",
        "The reason traffic was rejected, e.g. BPA when VPC Block Public Access blocked it."),
    // Transit gateway flow logs only (all of version 6); they share the others with VPC flow
    // logs (TGW guide, "Transit Gateway Flow Log records").
    field!("resource-type", 6, String, "TransitGateway",
        "The type of resource the flow log is on, e.g. TransitGateway."),
    field!("tgw-id", 6, String, "tgw-0abc12345def67890",
        "The ID of the transit gateway for which the traffic is recorded."),
    field!("tgw-attachment-id", 6, String, "tgw-attach-0abc12345def67890",
        "The ID of the transit gateway attachment for which the traffic is recorded."),
    field!("tgw-src-vpc-account-id", 6, String, "123456789012",
        "The AWS account ID of the source VPC."),
    field!("tgw-dst-vpc-account-id", 6, String, "210987654321",
        "The AWS account ID of the destination VPC."),
    field!("tgw-src-vpc-id", 6, String, "vpc-0abc12345def67890", "The ID of the source VPC."),
    field!("tgw-dst-vpc-id", 6, String, "vpc-0def12345abc67890", "The ID of the destination VPC."),
    field!("tgw-src-subnet-id", 6, String, "subnet-0abc12345def67890",
        "The ID of the subnet of the source."),
    field!("tgw-dst-subnet-id", 6, String, "subnet-0def12345abc67890",
        "The ID of the subnet of the destination."),
    field!("tgw-src-eni", 6, String, "eni-0abc12345def67890",
        "The ID of the source transit gateway attachment's network interface."),
    field!("tgw-dst-eni", 6, String, "eni-0def12345abc67890",
        "The ID of the destination transit gateway attachment's network interface."),
    field!("tgw-src-az-id", 6, String, "use1-az1",
        "The ID of the Availability Zone of the source transit gateway attachment's interface."),
    field!("tgw-dst-az-id", 6, String, "use1-az2",
        "The ID of the Availability Zone of the destination transit gateway attachment's interface."),
    field!("tgw-pair-attachment-id", 6, String, "tgw-attach-0def12345abc67890",
        "The ID of the other attachment of the flow: the egress attachment of an ingress flow, and the other way round."),
    field!("packets-lost-no-route", 6, Long, "0",
        "The number of packets dropped because the transit gateway had no route to the destination."),
    field!("packets-lost-blackhole", 6, Long, "0",
        "The number of packets dropped by a blackhole route."),
    field!("packets-lost-mtu-exceeded", 6, Long, "0",
        "The number of packets dropped because they exceeded the MTU."),
    field!("packets-lost-ttl-expired", 6, Long, "0",
        "The number of packets dropped because their time-to-live expired."),
];

/// Every VPC flow log field, versions 2 to 8, in catalogue order.
pub fn fields() -> &'static [Field] {
    &CATALOGUE[..VPC_COUNT]
}

/// Every field of either kind: the VPC fields, then those only transit gateway flow logs have.
/// The parser types a header's columns with it.
pub fn catalogue() -> &'static [Field] {
    &CATALOGUE
}

/// The transit gateway flow log fields, in the order AWS logs them when a flow log names no
/// format: every field, the default format of transit gateway flow logs.
pub const TGW_FIELDS: [&str; 36] = [
    "version",
    "resource-type",
    "account-id",
    "tgw-id",
    "tgw-attachment-id",
    "tgw-src-vpc-account-id",
    "tgw-dst-vpc-account-id",
    "tgw-src-vpc-id",
    "tgw-dst-vpc-id",
    "tgw-src-subnet-id",
    "tgw-dst-subnet-id",
    "tgw-src-eni",
    "tgw-dst-eni",
    "tgw-src-az-id",
    "tgw-dst-az-id",
    "tgw-pair-attachment-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "log-status",
    "type",
    "packets-lost-no-route",
    "packets-lost-blackhole",
    "packets-lost-mtu-exceeded",
    "packets-lost-ttl-expired",
    "tcp-flags",
    "region",
    "flow-direction",
    "pkt-src-aws-service",
    "pkt-dst-aws-service",
];

/// The transit gateway flow log fields, in [`TGW_FIELDS`] order.
pub fn tgw_fields() -> Vec<&'static Field> {
    TGW_FIELDS
        .iter()
        .map(|n| lookup_any(n).expect("transit gateway fields are in the catalogue"))
        .collect()
}

/// `pkt-srcaddr` as written, or in the Parquet spelling `pkt_srcaddr`.
fn same_name(field: &str, name: &str) -> bool {
    field.len() == name.len()
        && field
            .bytes()
            .zip(name.bytes())
            .all(|(a, b)| a == b || (a == b'-' && b == b'_'))
}

/// Finds a VPC flow log field by its name, accepting both `pkt-srcaddr` and the Parquet spelling
/// `pkt_srcaddr`.
pub fn lookup(name: &str) -> Option<&'static Field> {
    fields().iter().find(|f| same_name(f.name, name))
}

/// Finds a transit gateway flow log field by its name (either spelling).
pub fn lookup_tgw(name: &str) -> Option<&'static Field> {
    TGW_FIELDS
        .iter()
        .any(|t| same_name(t, name))
        .then(|| lookup_any(name))
        .flatten()
}

/// Finds a field of either kind by its name (either spelling).
pub fn lookup_any(name: &str) -> Option<&'static Field> {
    CATALOGUE.iter().find(|f| same_name(f.name, name))
}

/// The AWS default format: the 14 fields of version 2.
pub const DEFAULT_FIELDS: [&str; 14] = [
    "version",
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log-status",
];

fn format_of<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names
        .into_iter()
        .map(|n| format!("${{{n}}}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `${version} ${account-id} ... ${log-status}`: the AWS default format.
pub fn default_format() -> String {
    format_of(DEFAULT_FIELDS)
}

/// Every VPC field, in catalogue order.
pub fn all_format() -> String {
    format_of(fields().iter().map(|f| f.name))
}

/// `${version} ${resource-type} ... ${pkt-dst-aws-service}`: every transit gateway field, which
/// is what AWS logs for a transit gateway flow log without a format.
pub fn tgw_all_format() -> String {
    format_of(TGW_FIELDS)
}

/// Why a log format was refused.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum FormatError {
    #[error("unknown field `{field}`{}", suggestion.map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownField {
        field: String,
        suggestion: Option<&'static str>,
    },
    #[error("log format syntax error at character {position}: {message}")]
    Syntax { position: usize, message: String },
    #[error("field `{field}` appears more than once")]
    Duplicate { field: String },
    #[error("the log format names no field")]
    Empty,
}

/// The closest VPC field name to an unknown one, if any is close enough to be a likely typo.
pub fn suggest(unknown: &str) -> Option<&'static str> {
    suggest_among(fields().iter().map(|f| f.name), unknown)
}

/// The closest transit gateway field name to an unknown one, if any is close enough.
pub fn suggest_tgw(unknown: &str) -> Option<&'static str> {
    suggest_among(TGW_FIELDS.into_iter(), unknown)
}

fn suggest_among(names: impl Iterator<Item = &'static str>, unknown: &str) -> Option<&'static str> {
    let wanted = unknown.to_ascii_lowercase().replace('_', "-");
    let (best, distance) = names
        .map(|n| (n, strsim::levenshtein(&wanted, n)))
        .min_by_key(|&(_, d)| d)?;
    let limit = (wanted.chars().count() / 3).clamp(1, 3);
    (distance <= limit).then_some(best)
}

/// Parses a VPC flow log format as AWS takes it, `${a} ${b} ...`, into the fields it names, in
/// order.
///
/// Fields are separated by whitespace. Underscore spellings (`${pkt_srcaddr}`) are accepted and
/// resolved to the catalogue field, whose `name` is the spelling AWS expects.
pub fn parse_log_format(spec: &str) -> Result<Vec<&'static Field>, FormatError> {
    parse_with(spec, lookup, suggest)
}

/// Parses a transit gateway flow log format: the same syntax, the transit gateway fields.
pub fn parse_tgw_log_format(spec: &str) -> Result<Vec<&'static Field>, FormatError> {
    parse_with(spec, lookup_tgw, suggest_tgw)
}

fn parse_with(
    spec: &str,
    lookup: fn(&str) -> Option<&'static Field>,
    suggest: fn(&str) -> Option<&'static str>,
) -> Result<Vec<&'static Field>, FormatError> {
    let mut out: Vec<&'static Field> = Vec::new();
    let bytes = spec.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if !spec[i..].starts_with("${") {
            return Err(FormatError::Syntax {
                position: i,
                message: format!(
                    "expected `${{field}}`, found `{}`",
                    spec[i..].split_whitespace().next().unwrap_or("")
                ),
            });
        }
        let name_start = i + 2;
        let Some(len) = spec[name_start..].find('}') else {
            return Err(FormatError::Syntax {
                position: i,
                message: "`${` is not closed by `}`".into(),
            });
        };
        let name = &spec[name_start..name_start + len];
        if name.is_empty() || name.contains(|c: char| c.is_whitespace() || c == '$' || c == '{') {
            return Err(FormatError::Syntax {
                position: name_start,
                message: format!("`{name}` is not a field name"),
            });
        }
        let field = lookup(name).ok_or_else(|| FormatError::UnknownField {
            field: name.to_string(),
            suggestion: suggest(name),
        })?;
        if out.contains(&field) {
            return Err(FormatError::Duplicate {
                field: field.name.to_string(),
            });
        }
        out.push(field);
        i = name_start + len + 1;
        if i < bytes.len() && !bytes[i].is_ascii_whitespace() {
            return Err(FormatError::Syntax {
                position: i,
                message: "fields must be separated by spaces".into(),
            });
        }
    }
    if out.is_empty() {
        return Err(FormatError::Empty);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_is_complete_and_consistent() {
        assert_eq!(fields().len(), 40);
        let mut versions: Vec<u8> = fields().iter().map(|f| f.version).collect();
        versions.dedup();
        assert_eq!(
            versions,
            [2, 3, 4, 5, 7, 8],
            "catalogue order follows versions"
        );
        for (i, f) in fields().iter().enumerate() {
            assert!(
                fields()[..i].iter().all(|g| g.name != f.name),
                "{} twice",
                f.name
            );
            assert!(!f.description.is_empty() && !f.example.is_empty());
            match f.kind {
                FieldType::Int => assert!(f.example.parse::<i32>().is_ok(), "{}", f.name),
                FieldType::Long => assert!(f.example.parse::<i64>().is_ok(), "{}", f.name),
                FieldType::IpAddress => {
                    assert!(f.example.parse::<std::net::IpAddr>().is_ok(), "{}", f.name)
                }
                FieldType::String => {}
            }
        }
        for name in DEFAULT_FIELDS {
            assert_eq!(lookup(name).unwrap().version, 2);
        }
    }

    #[test]
    fn lookup_accepts_both_spellings() {
        assert_eq!(lookup("pkt-srcaddr").unwrap().name, "pkt-srcaddr");
        assert_eq!(lookup("pkt_srcaddr").unwrap().name, "pkt-srcaddr");
        assert_eq!(lookup("log_status").unwrap().kind, FieldType::String);
        assert!(lookup("pkt-srcaddr ").is_none());
        assert!(lookup("pktsrcaddr").is_none());
        assert_eq!(lookup("ecs_task_id").unwrap().parquet_name(), "ecs_task_id");
    }

    #[test]
    fn named_formats_round_trip() {
        let d = parse_log_format(&default_format()).unwrap();
        assert_eq!(d.iter().map(|f| f.name).collect::<Vec<_>>(), DEFAULT_FIELDS);
        assert!(default_format().starts_with("${version} ${account-id} ${interface-id}"));
        let all = parse_log_format(&all_format()).unwrap();
        assert_eq!(all.len(), fields().len());
    }

    #[test]
    fn custom_formats() {
        let f = parse_log_format("  ${srcaddr}\t${pkt_dstaddr}   ${reject-reason} ").unwrap();
        let names: Vec<_> = f.iter().map(|f| f.name).collect();
        assert_eq!(names, ["srcaddr", "pkt-dstaddr", "reject-reason"]);
    }

    #[test]
    fn errors() {
        let cases: &[(&str, FormatError)] = &[
            ("", FormatError::Empty),
            ("   ", FormatError::Empty),
            (
                "${pkt-srcadr}",
                FormatError::UnknownField {
                    field: "pkt-srcadr".into(),
                    suggestion: Some("pkt-srcaddr"),
                },
            ),
            (
                "${version} ${dstprot}",
                FormatError::UnknownField {
                    field: "dstprot".into(),
                    suggestion: Some("dstport"),
                },
            ),
            (
                "${flow_direction_x}",
                FormatError::UnknownField {
                    field: "flow_direction_x".into(),
                    suggestion: Some("flow-direction"),
                },
            ),
            (
                "${banana}",
                FormatError::UnknownField {
                    field: "banana".into(),
                    suggestion: None,
                },
            ),
            (
                "${srcaddr} ${srcaddr}",
                FormatError::Duplicate {
                    field: "srcaddr".into(),
                },
            ),
            (
                "${srcaddr} ${srcaddr}",
                FormatError::Duplicate {
                    field: "srcaddr".into(),
                },
            ),
            (
                "${srcaddr} ${src_addr}",
                FormatError::UnknownField {
                    field: "src_addr".into(),
                    suggestion: Some("srcaddr"),
                },
            ),
            (
                "${srcaddr} ${pkt_srcaddr} ${pkt-srcaddr}",
                FormatError::Duplicate {
                    field: "pkt-srcaddr".into(),
                },
            ),
        ];
        for (spec, want) in cases {
            assert_eq!(&parse_log_format(spec).unwrap_err(), want, "{spec:?}");
        }
        for (spec, position) in [
            ("srcaddr", 0),
            ("${srcaddr} dstaddr", 11),
            ("${srcaddr", 0),
            ("${srcaddr}${dstaddr}", 10),
            ("${}", 2),
            ("${src addr}", 2),
        ] {
            match parse_log_format(spec) {
                Err(FormatError::Syntax { position: p, .. }) => assert_eq!(p, position, "{spec:?}"),
                other => panic!("{spec:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn transit_gateway_fields_are_their_own_kind() {
        let tgw = tgw_fields();
        assert_eq!(tgw.len(), 36);
        assert_eq!(catalogue().len(), fields().len() + 18);
        // The fields only transit gateways have are all in TGW_FIELDS, and typed as AWS says.
        for f in &catalogue()[fields().len()..] {
            assert!(tgw.contains(&f), "{}", f.name);
            assert_eq!(f.version, 6, "{}", f.name);
            assert!(lookup(f.name).is_none(), "{} is not a VPC field", f.name);
            assert!(!f.description.is_empty() && !f.example.is_empty());
        }
        for name in ["packets-lost-no-route", "packets_lost_ttl_expired"] {
            assert_eq!(lookup_tgw(name).unwrap().kind, FieldType::Long);
        }
        // Shared fields are the same entry for both kinds; VPC-only ones are not TGW fields.
        assert!(std::ptr::eq(
            lookup_tgw("srcaddr").unwrap(),
            lookup("srcaddr").unwrap()
        ));
        for vpc_only in [
            "action",
            "interface-id",
            "vpc-id",
            "pkt-srcaddr",
            "traffic-path",
        ] {
            assert!(lookup_tgw(vpc_only).is_none(), "{vpc_only}");
            assert!(lookup_any(vpc_only).is_some(), "{vpc_only}");
        }
        let all = parse_tgw_log_format(&tgw_all_format()).unwrap();
        assert_eq!(all, tgw);
        assert!(tgw_all_format().starts_with("${version} ${resource-type} ${account-id} ${tgw-id}"));
        // Each kind refuses the other's fields, with a suggestion from its own.
        assert_eq!(
            parse_log_format("${srcaddr} ${tgw-id}").unwrap_err(),
            FormatError::UnknownField {
                field: "tgw-id".into(),
                suggestion: None
            }
        );
        assert_eq!(
            parse_tgw_log_format("${tgw-id} ${action}").unwrap_err(),
            FormatError::UnknownField {
                field: "action".into(),
                suggestion: None
            }
        );
        assert_eq!(suggest_tgw("tgw-atachment-id"), Some("tgw-attachment-id"));
        // The VPC catalogue is what it was: the deployer's `all` format and Athena columns.
        assert!(!all_format().contains("tgw"));
    }

    #[test]
    fn error_messages_name_the_fix() {
        let e = parse_log_format("${pkt-srcadr}").unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown field `pkt-srcadr` (did you mean `pkt-srcaddr`?)"
        );
    }
}
