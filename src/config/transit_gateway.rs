//! Transit Gateway flow logs' own record format: AWS's field list for them (TGW guide, "Transit
//! Gateway Flow Logs", "Available fields"), the `${field} ...` format checked against it, and
//! which fields belong to one kind of flow log only, so that a format of one kind naming a field
//! of the other is refused with the key to move it to.

use flowlogs_forwarder::format as vpc;

/// Every field of a transit gateway flow log record, in AWS's order (the default format): the
/// forwarder's catalogue, which parses them.
pub const FIELDS: [&str; 36] = vpc::TGW_FIELDS;

/// `${version} ${resource-type} ... ${pkt-dst-aws-service}`: every TGW field, what AWS logs
/// when CreateFlowLogs has no `LogFormat`.
pub fn all_format() -> String {
    vpc::tgw_all_format()
}

/// A field of transit gateway flow logs that VPC flow logs do not have (`tgw-id`, ...).
pub fn is_tgw_only(name: &str) -> bool {
    vpc::lookup_tgw(name).is_some() && vpc::lookup(name).is_none()
}

/// Why a transit gateway log format was refused: the problem and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatProblem {
    pub problem: String,
    pub fix: String,
}

/// The fields a TGW log format names, in order; `_` spellings are read as `-`.
pub fn parse_format(spec: &str) -> Result<Vec<&'static str>, FormatProblem> {
    match vpc::parse_tgw_log_format(spec) {
        Ok(fields) => Ok(fields.into_iter().map(|f| f.name).collect()),
        Err(vpc::FormatError::UnknownField { field, .. }) if vpc::lookup(&field).is_some() => {
            Err(FormatProblem {
                problem: format!(
                    "`{field}` is a VPC flow log field, and transit gateway flow logs do not have it (AWS refuses the format)"
                ),
                fix: format!(
                    "remove `${{{field}}}` from `flow_log.transit_gateway_format`; it belongs in `flow_log.format`"
                ),
            })
        }
        Err(vpc::FormatError::UnknownField { field, suggestion }) => Err(FormatProblem {
            problem: format!("`{field}` is not a transit gateway flow log field"),
            fix: match suggestion {
                Some(s) => format!("did you mean `${{{s}}}`?"),
                None => format!("use fields of: {}", FIELDS.join(" ")),
            },
        }),
        Err(vpc::FormatError::Empty) => Err(FormatProblem {
            problem: "the log format names no field".into(),
            fix: "write `default` (every transit gateway field) or fields as `${version} ${tgw-id} ...`".into(),
        }),
        Err(other) => Err(FormatProblem {
            problem: other.to_string(),
            fix: "write fields as `${version} ${tgw-id} ${srcaddr} ...`, or `default`".into(),
        }),
    }
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
        assert!(!is_tgw_only("tcp-flags"), "both kinds have it");
    }

    #[test]
    fn a_typo_gets_the_closest_field() {
        let p = parse_format("${tgw-attachmnt-id}").unwrap_err();
        assert!(p.fix.contains("tgw-attachment-id"), "{p:?}");
    }
}
