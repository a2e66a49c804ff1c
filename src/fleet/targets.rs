//! Which targets a run covers, pure: the accounts (listed, or found by `super::org`) minus the
//! excluded ones, times the regions (the stack's own by default), narrowed by `--accounts` /
//! `--regions`. Without `targets:` the stack's own account and region is the one target.

use super::Target;
use crate::config::{Config, TargetsConfig};
use crate::desired::athena::Origins;
use crate::desired::Names;
use crate::resources::flow_log::ObservedFlowLog;

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

/// The hub's own flow logs the hub's planner plans, in a stack whose flow logs are the fleet's:
/// none while the hub (its account and region) is a target (`origins` covers it, or there is no
/// `targets:` and the hub is the one target), since the fleet plans them there; else only ours
/// (by the stack tag), which the config then no longer wants: those an earlier config of the stack
/// made (`vpc_ids` before `targets:`), deleted by setup and teardown. Flow logs we do not own are
/// never kept for planning.
pub fn hub_flow_logs(
    observed: &mut Vec<ObservedFlowLog>,
    names: &Names,
    origins: Option<&Origins>,
    hub: &Hub,
) {
    let hub_is_target = origins.is_none_or(|o| o.covers(hub.account, hub.region));
    if hub_is_target {
        observed.clear();
    } else {
        observed.retain(|f| names.is_ours(&f.tags));
    }
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

    /// A stack that listed `vpc_ids` and now has `targets:` without the hub's account: its earlier
    /// hub flow log is planned for deletion (setup) and removed (teardown); a flow log on the same
    /// VPC that is not ours is never kept for planning; with the hub a target, the fleet plans
    /// the hub's flow logs and the hub's planner none.
    #[test]
    fn our_flow_logs_left_in_a_hub_that_is_no_longer_a_target_are_deleted_and_no_other() {
        use crate::plan::Action;
        use crate::resources::flow_log::{self, tests::observed_from};
        use std::path::Path;

        let parse =
            |text: &str| crate::config::parse(text, Path::new("t.yaml"), &|_| None).unwrap();
        let delivery = "delivery: { otlp: { endpoint: http://127.0.0.1:4318 } }\n";
        let before = parse(&format!(
            "version: 1\nstack: s\nflow_log: {{ resources: {{ vpc_ids: [vpc-0abc] }} }}\n{delivery}"
        ));
        let after = parse(&format!(
            "version: 1\nstack: s\nflow_log: {{ resources: {{ all_vpcs: true }} }}\n{delivery}targets: {{ accounts: [\"111111111111\"], regions: [us-east-1] }}\n"
        ));
        let hub = Hub {
            account: "123456789012",
            region: "us-east-1",
        };
        let earlier = crate::desired::build(&before, hub.account, hub.region, "h").unwrap();
        let ours = observed_from(&earlier.flow_logs[0], "fl-ours");
        let mut foreign = observed_from(&earlier.flow_logs[0], "fl-theirs");
        foreign.tags.clear();
        let now = crate::desired::build(&after, hub.account, hub.region, "h").unwrap();
        assert!(now.flow_logs.is_empty());
        let observed = vec![ours, foreign];

        let members = Origins::new(&ids(&["111111111111"]), &ids(&["us-east-1"]));
        let mut kept = observed.clone();
        hub_flow_logs(&mut kept, &now.names, Some(&members), &hub);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].id, "fl-ours");
        let setup = flow_log::plan(&now.names, &now.flow_logs, &kept);
        assert_eq!(setup.steps.len(), 1, "{setup:?}");
        assert_eq!(setup.steps[0].action, Action::Delete);
        assert!(
            matches!(&setup.steps[0].ops[..], [flow_log::Op::DeleteFlowLog { id }] if id == "fl-ours")
        );
        let teardown = flow_log::plan_teardown(&now.names, &kept);
        assert_eq!(teardown.steps.len(), 1, "{teardown:?}");

        // The hub a target (listed, or the one target without `targets:`): the fleet's to plan.
        let with_hub = Origins::new(&ids(&["111111111111", hub.account]), &ids(&["us-east-1"]));
        for origins in [Some(&with_hub), None] {
            let mut kept = observed.clone();
            hub_flow_logs(&mut kept, &now.names, origins, &hub);
            assert!(kept.is_empty(), "{origins:?}");
        }
        // The hub's account listed, but not the hub's region: its flow logs there are orphans too.
        let other_region = Origins::new(&ids(&[hub.account]), &ids(&["eu-west-1"]));
        let mut kept = observed.clone();
        hub_flow_logs(&mut kept, &now.names, Some(&other_region), &hub);
        assert_eq!(kept.len(), 1);
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
