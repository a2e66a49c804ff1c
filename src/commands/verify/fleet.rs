//! Verify across the targets: the delivery status of every flow log of the stack in every target
//! account and region, summed up in one check (how many are active and delivering, the failing
//! ones named with their fix), and where the canary goes (under a member account's prefix, as a
//! member's flow log writes).

use super::{flow_log_check, Check};
use crate::config::Config;
use crate::desired::Desired;
use crate::fleet::{Target, TargetFailure};
use crate::resources::flow_log::ObservedFlowLog;

pub const NAME: &str = "flow logs in the targets";

/// One check over every target's flow logs of ours (`names.is_ours`), and the targets that could
/// not be read.
pub fn summary(
    desired: &Desired,
    targets: &[(Target, Vec<ObservedFlowLog>)],
    failed: &[TargetFailure],
) -> Check {
    let mut total = 0;
    let mut failing: Vec<(String, Check)> = Vec::new();
    for (target, flow_logs) in targets {
        for f in flow_logs.iter().filter(|f| desired.names.is_ours(&f.tags)) {
            total += 1;
            let check = flow_log_check(f);
            if !check.ok {
                failing.push((format!("{target} {}", check.name), check));
            }
        }
    }
    let good = total - failing.len();
    let mut detail = format!(
        "{good} of {total} flow log(s) ACTIVE and delivering in {} target(s)",
        targets.len()
    );
    for (name, check) in &failing {
        detail.push_str(&format!("; ✗ {name}: {}", check.detail));
    }
    for f in failed {
        detail.push_str(&format!("; ✗ {f}"));
    }
    if failing.is_empty() && failed.is_empty() {
        return Check::pass(NAME, detail);
    }
    let fix = failing
        .first()
        .map(|(_, c)| c.fix.clone())
        .or_else(|| failed.first().map(|f| f.fix.clone()))
        .unwrap_or_default();
    Check::fail(NAME, detail, fix)
}

/// The desired stack as the canary sees it: with targets, its key and its record under the first
/// member account's prefix (the hub's own when it is the only target), as that account's flow
/// logs would write them.
pub fn canary_desired(desired: &Desired, config: &Config, targets: &[Target]) -> Desired {
    let hub = (&desired.names.account, &desired.names.region);
    let Some(member) = targets
        .iter()
        .find(|t| (&t.account, &t.region) != hub)
        .or(targets.first())
    else {
        return desired.clone();
    };
    let mut d = desired.clone();
    d.names.account = member.account.clone();
    d.names.region = member.region.clone();
    d.names.log_key_prefix =
        crate::desired::log_key_prefix(config, &member.account, &member.region);
    d
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::resources::flow_log::tests::observed_from;

    fn desired() -> (Config, Desired) {
        let text = "version: 1\nstack: s\nflow_log:\n  resources: { all_vpcs: true }\ndelivery: { otlp: { endpoint: http://x } }\ntargets: { accounts: [\"222222222222\"], regions: [us-east-1, eu-west-1] }\n";
        let c = crate::config::parse(text, Path::new("t.yaml"), &|_| None).unwrap();
        let d = crate::desired::build(&c, "111111111111", "us-east-1", "h").unwrap();
        (c, d)
    }

    #[test]
    fn every_flow_log_is_counted_and_the_failing_ones_named() {
        let (c, d) = desired();
        let wanted = crate::desired::flow_log(&d.names, &c, "vpc-0a");
        let good = observed_from(&wanted, "fl-a");
        let mut bad = observed_from(&wanted, "fl-b");
        bad.deliver_logs_status = crate::aws::states::DeliveryStatus::parse("FAILED");
        bad.deliver_logs_error = Some("Access error".into());
        let targets = vec![
            (Target::new("222222222222", "us-east-1"), vec![good.clone()]),
            (
                Target::new("222222222222", "eu-west-1"),
                vec![good.clone(), bad],
            ),
        ];
        let check = summary(&d, &targets, &[]);
        assert!(!check.ok);
        assert!(
            check
                .detail
                .starts_with("2 of 3 flow log(s) ACTIVE and delivering in 2 target(s)"),
            "{}",
            check.detail
        );
        assert!(check.detail.contains("222222222222 eu-west-1 flow log vpc-0a (fl-b): DeliverLogsStatus FAILED: Access error"), "{}", check.detail);
        assert!(check.fix.contains("bucket policy"), "{}", check.fix);
        let all_good = summary(&d, &targets[..1], &[]);
        assert!(all_good.ok, "{}", all_good.detail);
    }

    #[test]
    fn a_target_not_read_fails_the_check_with_its_fix() {
        let (_, d) = desired();
        let failed = TargetFailure {
            account: "222222222222".into(),
            region: "eu-west-1".into(),
            role: Some("arn:aws:iam::222222222222:role/R".into()),
            action: "sts:AssumeRole".into(),
            error: "AccessDenied".into(),
            fix: "let the caller assume it".into(),
        };
        let check = summary(&d, &[], &[failed]);
        assert!(!check.ok);
        assert!(check.detail.contains("sts:AssumeRole"), "{}", check.detail);
        assert_eq!(check.fix, "let the caller assume it");
    }

    #[test]
    fn the_canary_goes_under_a_member_accounts_prefix() {
        let (c, d) = desired();
        let targets = [
            Target::new("111111111111", "us-east-1"),
            Target::new("222222222222", "eu-west-1"),
        ];
        let canary = canary_desired(&d, &c, &targets);
        assert_eq!(
            canary.names.log_key_prefix,
            "AWSLogs/222222222222/vpcflowlogs/eu-west-1/"
        );
        assert_eq!(canary.names.account, "222222222222");
        assert_eq!(canary.names.bucket, d.names.bucket, "the hub's bucket");
        assert_eq!(
            canary_desired(&d, &c, &targets[..1]).names.log_key_prefix,
            d.names.log_key_prefix
        );
    }
}
