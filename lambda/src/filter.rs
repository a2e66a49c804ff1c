//! `delivery.filter`: the records the forwarder drops instead of sending, and counts as
//! `filtered`. A pure function of a record's fields, shared by the function (which drops) and the
//! deployer (which checks the rules in the config and says in the plan what they drop).
//!
//! A [`Filter`] is a list of rules; a record is dropped when any rule matches it. A rule
//! matches when every condition it has holds, and a condition holds when the record's value is
//! one of the condition's list: `log_status` (`OK`, `NODATA`, `SKIPDATA`), `action` (`ACCEPT`,
//! `REJECT`), `source` / `destination` (CIDR blocks, IPv4 or IPv6; the packet-level address when
//! the format has it, as `source.address` says) and `source_port` / `destination_port` (ports or
//! ranges `a-b`). A record without the field (`-`, or a format without it) does not meet a
//! condition on it: `action: [ACCEPT]` never drops a NODATA record, nor any transit gateway
//! record (transit gateway flow logs have no `action` field), so a rule written for VPC flow
//! logs with an `action` keeps every transit gateway record; a rule without one applies to both.
//!
//! The function reads the rules as JSON from `FLOWLOGS_FILTER`
//! (`[{"action":["ACCEPT"],"source":["10.0.0.0/8"],"destination":["10.0.0.0/8"]}]`).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// The environment variable that carries the filter to the function.
pub const ENV: &str = "FLOWLOGS_FILTER";

pub const LOG_STATUSES: [&str; 3] = ["OK", "NODATA", "SKIPDATA"];
pub const ACTIONS: [&str; 2] = ["ACCEPT", "REJECT"];

/// Why a rule's value is not usable; `field` is its path within the rules
/// (`drop[1].source[0]`), which the deployer prefixes with `delivery.filter.`.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[error("{field}: {value:?} {reason}")]
pub struct FilterError {
    pub field: String,
    pub value: String,
    pub reason: String,
}

/// An IPv4 or IPv6 block, `10.0.0.0/8` or `2001:db8::/32` (a bare address is a block of one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self.network, addr) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - self.prefix as u32).unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX.checked_shl(128 - self.prefix as u32).unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Cidr, String> {
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let network: IpAddr = addr
            .parse()
            .map_err(|_| "is not a CIDR block (like 10.0.0.0/8 or 2001:db8::/32)".to_string())?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => match p.parse::<u8>() {
                Ok(p) if p <= max => p,
                _ => return Err(format!("has a prefix length other than 0 to {max}")),
            },
        };
        Ok(Cidr { network, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// A port or an inclusive range of ports, `53` or `1024-65535`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    pub first: u16,
    pub last: u16,
}

impl PortRange {
    pub fn contains(&self, port: i64) -> bool {
        (self.first as i64..=self.last as i64).contains(&port)
    }
}

impl FromStr for PortRange {
    type Err = String;

    fn from_str(s: &str) -> Result<PortRange, String> {
        let port = |p: &str| p.trim().parse::<u16>().ok();
        let range = match s.trim().split_once('-') {
            Some((a, b)) => port(a).zip(port(b)),
            None => port(s).map(|p| (p, p)),
        };
        match range {
            Some((first, last)) if first <= last => Ok(PortRange { first, last }),
            _ => Err("is not a port (0 to 65535) or a range of ports like 1024-65535".to_string()),
        }
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}-{}", self.first, self.last)
        }
    }
}

/// One rule as written (in the config and in `FLOWLOGS_FILTER`): lists of text, checked by
/// [`Filter::from_rules`]. Ports may be written as numbers.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log_status: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub action: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub destination: Vec<String>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "ports"
    )]
    pub source_port: Vec<String>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "ports"
    )]
    pub destination_port: Vec<String>,
}

/// Ports as numbers or text.
fn ports<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Port {
        Number(i64),
        Text(String),
    }
    Ok(Vec::<Port>::deserialize(d)?
        .into_iter()
        .map(|p| match p {
            Port::Number(n) => n.to_string(),
            Port::Text(t) => t,
        })
        .collect())
}

/// One checked rule.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rule {
    pub log_status: Vec<String>,
    pub action: Vec<String>,
    pub source: Vec<Cidr>,
    pub destination: Vec<Cidr>,
    pub source_port: Vec<PortRange>,
    pub destination_port: Vec<PortRange>,
}

/// A record's fields as the filter sees them (`None`: absent from the record or its format).
#[derive(Debug, Clone, Copy, Default)]
pub struct Flow<'a> {
    pub log_status: Option<&'a str>,
    pub action: Option<&'a str>,
    pub source: Option<&'a str>,
    pub destination: Option<&'a str>,
    pub source_port: Option<i64>,
    pub destination_port: Option<i64>,
}

impl Rule {
    fn matches(&self, flow: &Flow<'_>) -> bool {
        let word = |list: &[String], v: Option<&str>| {
            list.is_empty() || v.is_some_and(|v| list.iter().any(|w| w == v))
        };
        let cidr = |list: &[Cidr], v: Option<&str>| {
            list.is_empty()
                || v.and_then(|v| v.parse::<IpAddr>().ok())
                    .is_some_and(|a| list.iter().any(|c| c.contains(a)))
        };
        let port = |list: &[PortRange], v: Option<i64>| {
            list.is_empty() || v.is_some_and(|p| list.iter().any(|r| r.contains(p)))
        };
        word(&self.log_status, flow.log_status)
            && word(&self.action, flow.action)
            && cidr(&self.source, flow.source)
            && cidr(&self.destination, flow.destination)
            && port(&self.source_port, flow.source_port)
            && port(&self.destination_port, flow.destination_port)
    }

    /// The rule in a line of the plan: `log_status NODATA|SKIPDATA`,
    /// `action ACCEPT, source 10.0.0.0/8, destination 10.0.0.0/8`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        let mut part = |name: &str, values: Vec<String>| {
            if !values.is_empty() {
                parts.push(format!("{name} {}", values.join("|")));
            }
        };
        part("log_status", self.log_status.clone());
        part("action", self.action.clone());
        part("source", self.source.iter().map(Cidr::to_string).collect());
        part(
            "destination",
            self.destination.iter().map(Cidr::to_string).collect(),
        );
        part(
            "source_port",
            self.source_port.iter().map(PortRange::to_string).collect(),
        );
        part(
            "destination_port",
            self.destination_port
                .iter()
                .map(PortRange::to_string)
                .collect(),
        );
        parts.join(", ")
    }
}

/// The records to drop: any rule that matches drops the record. Empty: nothing is dropped.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filter {
    pub rules: Vec<Rule>,
}

impl Filter {
    /// Checks rules as written; errors name the rule and the value (`drop[1].source[0]`).
    pub fn from_rules(raw: &[RawRule]) -> Result<Filter, FilterError> {
        let mut rules = Vec::with_capacity(raw.len());
        for (i, r) in raw.iter().enumerate() {
            let at = |field: &str, j: usize| format!("drop[{i}].{field}[{j}]");
            let words = |field: &str, list: &[String], allowed: &[&str]| {
                list.iter()
                    .enumerate()
                    .map(|(j, v)| {
                        let upper = v.trim().to_ascii_uppercase();
                        if allowed.contains(&upper.as_str()) {
                            Ok(upper)
                        } else {
                            Err(FilterError {
                                field: at(field, j),
                                value: v.clone(),
                                reason: format!("is not one of {}", allowed.join(", ")),
                            })
                        }
                    })
                    .collect::<Result<Vec<_>, _>>()
            };
            fn parsed<T: FromStr<Err = String>>(
                list: &[String],
                at: impl Fn(usize) -> String,
            ) -> Result<Vec<T>, FilterError> {
                list.iter()
                    .enumerate()
                    .map(|(j, v)| {
                        v.parse().map_err(|reason| FilterError {
                            field: at(j),
                            value: v.clone(),
                            reason,
                        })
                    })
                    .collect()
            }
            let rule = Rule {
                log_status: words("log_status", &r.log_status, &LOG_STATUSES)?,
                action: words("action", &r.action, &ACTIONS)?,
                source: parsed(&r.source, |j| at("source", j))?,
                destination: parsed(&r.destination, |j| at("destination", j))?,
                source_port: parsed(&r.source_port, |j| at("source_port", j))?,
                destination_port: parsed(&r.destination_port, |j| at("destination_port", j))?,
            };
            if rule == Rule::default() {
                return Err(FilterError {
                    field: format!("drop[{i}]"),
                    value: "{}".into(),
                    reason: "has no condition, so it would drop every record: give it \
                             log_status, action, source, destination, source_port or \
                             destination_port"
                        .into(),
                });
            }
            rules.push(rule);
        }
        Ok(Filter { rules })
    }

    /// Reads `FLOWLOGS_FILTER`'s JSON (absent or blank: no filter).
    pub fn from_json(json: Option<&str>) -> Result<Filter, FilterError> {
        let Some(json) = json.map(str::trim).filter(|j| !j.is_empty()) else {
            return Ok(Filter::default());
        };
        let raw: Vec<RawRule> = serde_json::from_str(json).map_err(|e| FilterError {
            field: ENV.into(),
            value: json.chars().take(200).collect(),
            reason: format!("is not a JSON list of rules: {e}"),
        })?;
        Filter::from_rules(&raw)
    }

    /// The rules as `FLOWLOGS_FILTER` carries them (the checked values, normalised).
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.to_raw()).expect("rules serialize")
    }

    /// The checked rules written back as text, normalised (`accept` is `ACCEPT`).
    pub fn to_raw(&self) -> Vec<RawRule> {
        self.rules
            .iter()
            .map(|r| RawRule {
                log_status: r.log_status.clone(),
                action: r.action.clone(),
                source: r.source.iter().map(Cidr::to_string).collect(),
                destination: r.destination.iter().map(Cidr::to_string).collect(),
                source_port: r.source_port.iter().map(PortRange::to_string).collect(),
                destination_port: r
                    .destination_port
                    .iter()
                    .map(PortRange::to_string)
                    .collect(),
            })
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether the record is dropped.
    #[inline]
    pub fn drops(&self, flow: &Flow<'_>) -> bool {
        self.rules.iter().any(|r| r.matches(flow))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(json: &str) -> Filter {
        Filter::from_json(Some(json)).unwrap()
    }

    fn flow<'a>(
        status: &'a str,
        action: Option<&'a str>,
        src: Option<&'a str>,
        dst: Option<&'a str>,
        ports: (Option<i64>, Option<i64>),
    ) -> Flow<'a> {
        Flow {
            log_status: Some(status),
            action,
            source: src,
            destination: dst,
            source_port: ports.0,
            destination_port: ports.1,
        }
    }

    #[test]
    fn cidrs_and_ports_parse_and_match() {
        let c: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(c.contains("10.200.1.1".parse().unwrap()));
        assert!(!c.contains("11.0.0.1".parse().unwrap()));
        assert!(!c.contains("::ffff:10.0.0.1".parse().unwrap()));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("203.0.113.9".parse().unwrap()));
        let one: Cidr = "192.0.2.7".parse().unwrap();
        assert_eq!(one.to_string(), "192.0.2.7/32");
        let v6: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains("2001:db8:1::5".parse().unwrap()));
        assert!(!v6.contains("2001:db9::5".parse().unwrap()));
        for bad in [
            "10.0.0.0/33",
            "10.0.0/8",
            "intranet",
            "10.0.0.0/x",
            "::/129",
        ] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
        let r: PortRange = "1024-65535".parse().unwrap();
        assert!(r.contains(1024) && r.contains(65535) && !r.contains(1023));
        assert_eq!("53".parse::<PortRange>().unwrap().to_string(), "53");
        for bad in ["65536", "10-5", "http", "-1", ""] {
            assert!(bad.parse::<PortRange>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_record_is_dropped_when_every_condition_of_one_rule_holds() {
        let f = filter(
            r#"[{"log_status":["NODATA","SKIPDATA"]},
                {"action":["ACCEPT"],"source":["10.0.0.0/8"],"destination":["10.0.0.0/8","172.16.0.0/12"]},
                {"destination_port":[53, "8000-8100"], "action": ["reject"]}]"#,
        );
        let none = (None, None);
        assert!(f.drops(&flow("NODATA", None, None, None, none)));
        assert!(f.drops(&flow("SKIPDATA", None, None, None, none)));
        let internal = flow(
            "OK",
            Some("ACCEPT"),
            Some("10.1.2.3"),
            Some("172.20.0.9"),
            (Some(443), Some(51000)),
        );
        assert!(f.drops(&internal));
        // Every condition of the rule must hold: a REJECT, or a public side, is kept.
        assert!(!f.drops(&Flow {
            action: Some("REJECT"),
            ..internal
        }));
        assert!(!f.drops(&Flow {
            source: Some("203.0.113.9"),
            ..internal
        }));
        // A field the record lacks meets no condition.
        assert!(!f.drops(&Flow {
            source: None,
            ..internal
        }));
        assert!(f.drops(&flow(
            "OK",
            Some("REJECT"),
            Some("203.0.113.9"),
            Some("10.0.0.1"),
            (Some(5), Some(8050))
        )));
        assert!(!f.drops(&flow(
            "OK",
            Some("ACCEPT"),
            Some("203.0.113.9"),
            Some("10.0.0.1"),
            (Some(5), Some(53))
        )));
        assert!(!Filter::default().drops(&flow("NODATA", None, None, None, none)));
    }

    #[test]
    fn bad_values_name_the_rule_and_the_field() {
        let err = |json: &str| Filter::from_json(Some(json)).unwrap_err();
        let e = err(r#"[{"log_status":["NODATA"]},{"source":["10.0.0.0/8","10.0.0.0/40"]}]"#);
        assert_eq!(e.field, "drop[1].source[1]");
        assert_eq!(e.value, "10.0.0.0/40");
        assert!(e.reason.contains("0 to 32"), "{e}");
        let e = err(r#"[{"destination_port":[70000]}]"#);
        assert_eq!(e.field, "drop[0].destination_port[0]");
        let e = err(r#"[{"action":["ALLOW"]}]"#);
        assert!(e.to_string().contains("ACCEPT, REJECT"), "{e}");
        let e = err(r#"[{}]"#);
        assert_eq!(e.field, "drop[0]");
        assert!(e.reason.contains("every record"));
        let e = err(r#"[{"sourceport":[1]}]"#);
        assert_eq!(e.field, ENV);
        assert_eq!(Filter::from_json(None).unwrap(), Filter::default());
    }

    #[test]
    fn the_environment_form_round_trips() {
        let f = filter(
            r#"[{"action":["accept"],"source":["10.0.0.0/8"],"destination_port":[53,"1024-2048"]}]"#,
        );
        assert_eq!(
            f.to_json(),
            r#"[{"action":["ACCEPT"],"source":["10.0.0.0/8"],"destination_port":["53","1024-2048"]}]"#
        );
        assert_eq!(filter(&f.to_json()), f);
        assert_eq!(
            f.rules[0].describe(),
            "action ACCEPT, source 10.0.0.0/8, destination_port 53|1024-2048"
        );
    }
}
