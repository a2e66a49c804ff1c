//! Transit Gateway flow logs' own record format: AWS's field list for them (TGW guide, "Transit
//! Gateway Flow Logs", "Available fields"), the `${field} ...` format checked against it, and
//! which fields belong to one kind of flow log only, so that a format of one kind naming a field
//! of the other is refused with the key to move it to.

use flowlogs_forwarder::format as vpc;

/// Every field of a transit gateway flow log record, in AWS's order (the default format).
pub const FIELDS: [&str; 36] = [
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

/// `${version} ${resource-type} ... ${pkt-dst-aws-service}`: every TGW field, what AWS logs
/// when CreateFlowLogs has no `LogFormat`.
pub fn all_format() -> String {
    FIELDS
        .iter()
        .map(|f| format!("${{{f}}}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The fields both kinds of flow log have.
const SHARED: [&str; 18] = [
    "version",
    "account-id",
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
    "tcp-flags",
    "region",
    "flow-direction",
    "pkt-src-aws-service",
    "pkt-dst-aws-service",
];

/// A field of transit gateway flow logs that VPC flow logs do not have (`tgw-id`, ...). Listed
/// here rather than read off the forwarder's catalogue, which may hold both kinds.
pub fn is_tgw_only(name: &str) -> bool {
    let name = name.to_ascii_lowercase().replace('_', "-");
    FIELDS.contains(&name.as_str()) && !SHARED.contains(&name.as_str())
}

/// Why a transit gateway log format was refused: the problem and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatProblem {
    pub problem: String,
    pub fix: String,
}

/// The fields a TGW log format names, in order; `_` spellings are read as `-`.
pub fn parse_format(spec: &str) -> Result<Vec<&'static str>, FormatProblem> {
    let mut out: Vec<&'static str> = Vec::new();
    for token in spec.split_whitespace() {
        let Some(name) = token.strip_prefix("${").and_then(|t| t.strip_suffix('}')) else {
            return Err(FormatProblem {
                problem: format!("expected `${{field}}`, found `{token}`"),
                fix: "write fields as `${version} ${tgw-id} ${srcaddr} ...`, or `default`".into(),
            });
        };
        let wanted = name.to_ascii_lowercase().replace('_', "-");
        let Some(field) = FIELDS.iter().copied().find(|f| *f == wanted) else {
            return Err(if vpc::lookup(&wanted).is_some() {
                FormatProblem {
                    problem: format!(
                        "`{name}` is a VPC flow log field, and transit gateway flow logs do not have it (AWS refuses the format)"
                    ),
                    fix: format!(
                        "remove `${{{name}}}` from `flow_log.transit_gateway_format`; it belongs in `flow_log.format`"
                    ),
                }
            } else {
                FormatProblem {
                    problem: format!("`{name}` is not a transit gateway flow log field"),
                    fix: match super::closest(&wanted, FIELDS.iter().copied()) {
                        Some(s) => format!("did you mean `${{{s}}}`?"),
                        None => format!("use fields of: {}", FIELDS.join(" ")),
                    },
                }
            });
        };
        if out.contains(&field) {
            return Err(FormatProblem {
                problem: format!("field `{field}` appears more than once"),
                fix: "name each field once".into(),
            });
        }
        out.push(field);
    }
    if out.is_empty() {
        return Err(FormatProblem {
            problem: "the log format names no field".into(),
            fix: "write `default` (every transit gateway field) or fields as `${version} ${tgw-id} ...`".into(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_every_field_in_awss_order() {
        assert_eq!(parse_format(&all_format()).unwrap(), FIELDS.to_vec());
    }

    #[test]
    fn vpc_only_fields_are_refused_with_the_key_they_belong_in() {
        for field in ["action", "vpc-id", "interface-id"] {
            let p = parse_format(&format!("${{version}} ${{{field}}}")).unwrap_err();
            assert!(p.problem.contains("VPC flow log field"), "{p:?}");
            assert!(p.fix.contains("flow_log.format"), "{p:?}");
        }
    }

    #[test]
    fn tgw_only_fields_are_known_as_such() {
        assert!(is_tgw_only("tgw-id"));
        assert!(is_tgw_only("packets-lost-no-route"));
        assert!(!is_tgw_only("srcaddr"));
        assert!(!is_tgw_only("action"));
        for shared in SHARED {
            assert!(FIELDS.contains(&shared), "{shared}");
            assert!(vpc::lookup(shared).is_some(), "{shared}");
        }
    }

    #[test]
    fn a_typo_gets_the_closest_field() {
        let p = parse_format("${tgw-attachmnt-id}").unwrap_err();
        assert!(p.fix.contains("tgw-attachment-id"), "{p:?}");
    }
}
