//! Which targets a run covers, pure: the accounts (listed, or found by `super::org`) minus the
//! excluded ones, times the regions (the stack's own by default), narrowed by `--accounts` /
//! `--regions`. Without `targets:` the stack's own account and region is the one target.

use super::Target;
use crate::config::{Config, TargetsConfig};

/// The hub, the stack's own account and region.
pub struct Hub<'a> {
    pub account: &'a str,
    pub region: &'a str,
}

/// `--accounts` / `--regions`: empty means no narrowing.
#[derive(Debug, Clone, Default)]
pub struct Narrow {
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
}

/// The regions of the targets: the configured ones, or the stack's own.
pub fn regions(targets: &TargetsConfig, hub: &Hub) -> Vec<String> {
    if targets.regions.is_empty() {
        vec![hub.region.to_string()]
    } else {
        targets.regions.clone()
    }
}

/// Every account × region, the excluded accounts left out, each once, in order.
pub fn expand(accounts: &[String], exclude: &[String], regions: &[String]) -> Vec<Target> {
    let mut out: Vec<Target> = accounts
        .iter()
        .filter(|a| !exclude.contains(a))
        .flat_map(|a| regions.iter().map(move |r| Target::new(a, r)))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The targets `narrow` keeps; a narrowing that names an account or region outside the targets is
/// refused, so a typo does not silently do nothing.
pub fn narrow(targets: Vec<Target>, narrow: &Narrow) -> anyhow::Result<Vec<Target>> {
    for account in &narrow.accounts {
        if !targets.iter().any(|t| &t.account == account) {
            anyhow::bail!(
                "--accounts {account}: not a target of this stack (see `targets:` in the config and `exclude_accounts`)"
            );
        }
    }
    for region in &narrow.regions {
        if !targets.iter().any(|t| &t.region == region) {
            anyhow::bail!(
                "--regions {region}: not a target region of this stack (see `targets.regions`)"
            );
        }
    }
    Ok(targets
        .into_iter()
        .filter(|t| narrow.accounts.is_empty() || narrow.accounts.contains(&t.account))
        .filter(|t| narrow.regions.is_empty() || narrow.regions.contains(&t.region))
        .collect())
}

/// Whether the config makes flow logs through targets (VPCs found by a selector) rather than on
/// listed resources of the stack's own account.
pub fn fleet_mode(config: &Config) -> bool {
    config.flow_log.selector.is_some()
}

/// An account the Organizations API lists is a target when it is active: its `State` (since
/// 2025) or, from older answers, its `Status`.
pub fn is_active(state: Option<&str>, status: Option<&str>) -> bool {
    state.or(status) == Some("ACTIVE")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn accounts_times_regions_without_the_excluded_each_once() {
        let t = expand(
            &ids(&[
                "222222222222",
                "111111111111",
                "333333333333",
                "111111111111",
            ]),
            &ids(&["333333333333"]),
            &ids(&["us-east-1", "eu-west-1"]),
        );
        assert_eq!(
            t,
            vec![
                Target::new("111111111111", "eu-west-1"),
                Target::new("111111111111", "us-east-1"),
                Target::new("222222222222", "eu-west-1"),
                Target::new("222222222222", "us-east-1"),
            ]
        );
    }

    #[test]
    fn narrowing_keeps_the_named_and_refuses_an_unknown_one() {
        let all = expand(
            &ids(&["111111111111", "222222222222"]),
            &[],
            &ids(&["us-east-1", "eu-west-1"]),
        );
        let one = narrow(
            all.clone(),
            &Narrow {
                accounts: ids(&["222222222222"]),
                regions: ids(&["eu-west-1"]),
            },
        )
        .unwrap();
        assert_eq!(one, vec![Target::new("222222222222", "eu-west-1")]);
        assert_eq!(narrow(all.clone(), &Narrow::default()).unwrap(), all);
        let e = narrow(
            all,
            &Narrow {
                accounts: ids(&["999999999999"]),
                regions: vec![],
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("--accounts 999999999999"), "{e}");
    }

    #[test]
    fn only_active_accounts_are_targets() {
        assert!(is_active(Some("ACTIVE"), None));
        assert!(is_active(None, Some("ACTIVE")));
        assert!(!is_active(Some("SUSPENDED"), Some("ACTIVE")));
        assert!(!is_active(None, Some("PENDING_CLOSURE")));
        assert!(!is_active(None, None));
    }
}
