//! The fleet's AWS edge in-process (canned answers: `aws-smithy-mocks`, EC2's on the wire): a member account whose
//! role cannot be assumed is reported while the other targets converge, a disabled region is
//! reported with its fix, EC2 throttling is retried, at most `concurrency` targets are worked on at
//! once, and Organizations' pages and child OUs are all read.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_organizations::operation::list_accounts::ListAccountsOutput;
use aws_sdk_organizations::operation::list_accounts_for_parent::ListAccountsForParentOutput;
use aws_sdk_organizations::operation::list_organizational_units_for_parent::ListOrganizationalUnitsForParentOutput;
use aws_sdk_organizations::types::{Account, AccountStatus, OrganizationalUnit};
use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput;
use aws_smithy_mocks::{mock, Rule};

use super::clients::{checked, Connect, TargetClients};
use super::run::{plan_target, Fleet};
use super::{org, Target, TargetFailure};
use crate::aws::Clients;
use crate::config::Config;
use crate::desired::Names;
use crate::resources::inprocess_tests::ec2_wire::{self, item, set, Rule as Ec2Rule};
use crate::resources::inprocess_tests::{client, ec2_error, http, no_calls, ACCOUNT, REGION};
use crate::ui::Progress;

const MEMBER: &str = "222222222222";
const REFUSING: &str = "333333333333";

fn config() -> Config {
    let text = format!(
        "version: 1\nstack: s\nflow_log:\n  resources: {{ all_vpcs: true }}\ndelivery: {{ otlp: {{ endpoint: http://x }} }}\ntargets:\n  accounts: [\"{ACCOUNT}\", \"{MEMBER}\", \"{REFUSING}\"]\n  regions: [{REGION}, eu-west-1]\n"
    );
    crate::config::parse(&text, Path::new("t.yaml"), &|_| None).unwrap()
}

fn names(config: &Config) -> Names {
    Names::new(config, ACCOUNT, REGION).unwrap()
}

fn role(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/OrganizationAccountAccessRole")
}

/// Hands out canned clients per target, through the product's own check of assumed credentials.
struct Canned(BTreeMap<Target, TargetClients>);

impl Connect for Canned {
    async fn connect(&self, target: &Target) -> Result<TargetClients, TargetFailure> {
        checked(self.0[target].clone(), ACCOUNT).await
    }
}

fn target_clients(account: &str, region: &str, clients: Clients) -> (Target, TargetClients) {
    let target = Target::new(account, region);
    let role_arn = (account != ACCOUNT).then(|| role(account));
    (
        target.clone(),
        TargetClients {
            target,
            clients,
            role_arn,
        },
    )
}

fn sts_is(account: &'static str) -> Rule {
    mock!(aws_sdk_sts::Client::get_caller_identity)
        .then_output(move || GetCallerIdentityOutput::builder().account(account).build())
}

fn sts_refuses() -> Rule {
    mock!(aws_sdk_sts::Client::get_caller_identity).then_http_response(|| {
        http(
            403,
            &[("content-type", "text/xml")],
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/ops is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::333333333333:role/OrganizationAccountAccessRole</Message></Error><RequestId>r</RequestId></ErrorResponse>",
        )
    })
}

fn vpc_set(vpc: &str) -> String {
    set("vpcSet", &[item(&[("vpcId", vpc)])], None)
}

fn one_vpc(vpc: &'static str) -> Ec2Rule {
    Ec2Rule::new("DescribeVpcs").ok(&vpc_set(vpc))
}

fn no_flow_logs() -> Ec2Rule {
    Ec2Rule::new("DescribeFlowLogs").ok("<flowLogSet/>")
}

fn creates(id: &'static str) -> Ec2Rule {
    Ec2Rule::new("CreateFlowLogs").ok(&set("flowLogIdSet", &[format!("<item>{id}</item>")], None))
}

#[tokio::test]
async fn a_role_that_cannot_be_assumed_is_reported_and_the_other_targets_converge() {
    let config = config();
    let names = names(&config);
    let mut rules: Vec<(Rule, Ec2Rule, Ec2Rule, Ec2Rule)> = Vec::new();
    let mut canned = BTreeMap::new();
    for (account, region, vpc, id) in [
        (ACCOUNT, REGION, "vpc-0a", "fl-a"),
        (MEMBER, REGION, "vpc-0b", "fl-b"),
        (MEMBER, "eu-west-1", "vpc-0c", "fl-c"),
    ] {
        let (sts, vpcs, flow_logs, create) =
            (sts_is(MEMBER), one_vpc(vpc), no_flow_logs(), creates(id));
        let clients = Clients {
            sts: client!(aws_sdk_sts, &[&sts]),
            ec2: ec2_wire::client(&[&vpcs, &flow_logs, &create], None),
            ..no_calls()
        };
        let (t, c) = target_clients(account, region, clients);
        canned.insert(t, c);
        rules.push((sts, vpcs, flow_logs, create));
    }
    for region in [REGION, "eu-west-1"] {
        let refuses = sts_refuses();
        let clients = Clients {
            sts: client!(aws_sdk_sts, &[&refuses]),
            ..no_calls()
        };
        let (t, c) = target_clients(REFUSING, region, clients);
        canned.insert(t, c);
    }
    let connector = Canned(canned);
    let targets: Vec<Target> = connector.0.keys().cloned().collect();
    let progress = Progress::quiet();
    let fleet = Fleet {
        connector: &connector,
        targets: &targets,
        concurrency: 8,
        progress: &progress,
    };
    let (reads, failed) = fleet.read(&names, config.flow_log.selector.as_ref()).await;

    assert_eq!(failed.len(), 2, "{failed:?}");
    for f in &failed {
        assert_eq!(f.account, REFUSING);
        assert_eq!(f.action, "sts:AssumeRole");
        assert_eq!(f.role.as_deref(), Some(role(REFUSING).as_str()));
        assert!(f.error.contains("AccessDenied"), "{}", f.error);
        assert!(
            f.fix.contains("trust account 123456789012") && f.fix.contains("exclude_accounts"),
            "{}",
            f.fix
        );
    }
    assert_eq!(reads.len(), 3);
    let plans: Vec<_> = reads
        .iter()
        .map(|r| plan_target(&names, &config, &r.observed))
        .collect();
    for plan in &plans {
        assert_eq!(plan.steps.len(), 1, "one flow log to create: {plan}");
    }
    let work: Vec<_> = reads.iter().zip(&plans).collect();
    let (applied, apply_failed) = fleet.apply(&work).await;
    assert_eq!((applied, apply_failed.len()), (3, 0));
    for (_, _, _, create) in &rules {
        assert_eq!(create.num_calls(), 1);
    }
}

#[tokio::test]
async fn a_disabled_region_is_reported_with_its_fix() {
    let config = config();
    let vpcs = Ec2Rule::new("DescribeVpcs").http(
        401,
        &ec2_error(
            "AuthFailure",
            "AWS was not able to validate the provided access credentials",
        ),
    );
    let sts = sts_is(MEMBER);
    let clients = Clients {
        sts: client!(aws_sdk_sts, &[&sts]),
        ec2: ec2_wire::client(&[&vpcs], None),
        ..no_calls()
    };
    let (t, c) = target_clients(MEMBER, "ap-east-1", clients);
    let connector = Canned([(t.clone(), c)].into());
    let progress = Progress::quiet();
    let targets = [t];
    let fleet = Fleet {
        connector: &connector,
        targets: &targets,
        concurrency: 1,
        progress: &progress,
    };
    let (reads, failed) = fleet
        .read(&names(&config), config.flow_log.selector.as_ref())
        .await;
    assert!(reads.is_empty());
    assert_eq!(failed[0].action, "ec2:DescribeVpcs");
    assert_eq!(failed[0].region, "ap-east-1");
    assert!(
        failed[0].fix.contains("enable the region"),
        "{}",
        failed[0].fix
    );
}

#[tokio::test]
async fn ec2_throttling_is_retried_by_the_sdk() {
    let config = config();
    let vpcs = Ec2Rule::new("DescribeVpcs")
        .http(
            503,
            &ec2_error("RequestLimitExceeded", "Request limit exceeded."),
        )
        .ok(&vpc_set("vpc-0a"));
    let flow_logs = no_flow_logs();
    let clients = Clients {
        ec2: ec2_wire::client(&[&vpcs, &flow_logs], None),
        ..no_calls()
    };
    let (t, c) = target_clients(ACCOUNT, REGION, clients);
    let connector = Canned([(t.clone(), c)].into());
    let progress = Progress::quiet();
    let targets = [t];
    let fleet = Fleet {
        connector: &connector,
        targets: &targets,
        concurrency: 1,
        progress: &progress,
    };
    let (reads, failed) = fleet
        .read(&names(&config), config.flow_log.selector.as_ref())
        .await;
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(reads[0].observed.vpcs, ["vpc-0a"]);
    assert_eq!(vpcs.num_calls(), 2);
}

/// Counts the targets being connected at once.
struct Slow {
    now: AtomicUsize,
    most: AtomicUsize,
}

impl Connect for Slow {
    async fn connect(&self, target: &Target) -> Result<TargetClients, TargetFailure> {
        let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(n, Ordering::SeqCst);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        self.now.fetch_sub(1, Ordering::SeqCst);
        Err(TargetFailure {
            account: target.account.clone(),
            region: target.region.clone(),
            role: None,
            action: "test".into(),
            error: String::new(),
            fix: String::new(),
        })
    }
}

#[tokio::test]
async fn at_most_concurrency_targets_are_worked_on_at_once() {
    let slow = Slow {
        now: AtomicUsize::new(0),
        most: AtomicUsize::new(0),
    };
    let targets: Vec<Target> = (0..20)
        .map(|i| Target::new(&format!("{:012}", i), REGION))
        .collect();
    let progress = Progress::quiet();
    let fleet = Fleet {
        connector: &slow,
        targets: &targets,
        concurrency: 4,
        progress: &progress,
    };
    let config = config();
    let (_, failed) = fleet.read(&names(&config), None).await;
    assert_eq!(failed.len(), 20);
    assert_eq!(slow.most.load(Ordering::SeqCst), 4);
}

fn account(id: &str, status: AccountStatus) -> Account {
    Account::builder().id(id).status(status).build()
}

#[tokio::test]
async fn every_page_of_the_organisations_accounts_is_read_and_only_active_ones_kept() {
    let page_1 = mock!(aws_sdk_organizations::Client::list_accounts)
        .match_requests(|r| r.next_token().is_none())
        .then_output(|| {
            ListAccountsOutput::builder()
                .accounts(account("111111111111", AccountStatus::Active))
                .accounts(account("222222222222", AccountStatus::Suspended))
                .next_token("2")
                .build()
        });
    let page_2 = mock!(aws_sdk_organizations::Client::list_accounts)
        .match_requests(|r| r.next_token() == Some("2"))
        .then_output(|| {
            ListAccountsOutput::builder()
                .accounts(account("333333333333", AccountStatus::Active))
                .accounts(account("444444444444", AccountStatus::PendingClosure))
                .build()
        });
    let client = client!(aws_sdk_organizations, &[&page_1, &page_2]);
    let accounts = org::active_accounts(&client).await.unwrap();
    assert_eq!(accounts, ["111111111111", "333333333333"]);
}

#[tokio::test]
async fn an_ous_accounts_include_those_of_its_child_ous_on_every_page() {
    let parent = |id: &'static str| {
        move |r: &aws_sdk_organizations::operation::list_accounts_for_parent::ListAccountsForParentInput| {
            r.parent_id() == Some(id)
        }
    };
    let top_1 = mock!(aws_sdk_organizations::Client::list_accounts_for_parent)
        .match_requests(move |r| parent("ou-ab12-top00000")(r) && r.next_token().is_none())
        .then_output(|| {
            ListAccountsForParentOutput::builder()
                .accounts(account("111111111111", AccountStatus::Active))
                .next_token("2")
                .build()
        });
    let top_2 = mock!(aws_sdk_organizations::Client::list_accounts_for_parent)
        .match_requests(move |r| parent("ou-ab12-top00000")(r) && r.next_token() == Some("2"))
        .then_output(|| {
            ListAccountsForParentOutput::builder()
                .accounts(account("222222222222", AccountStatus::Active))
                .build()
        });
    let child = mock!(aws_sdk_organizations::Client::list_accounts_for_parent)
        .match_requests(move |r| parent("ou-ab12-child000")(r))
        .then_output(|| {
            ListAccountsForParentOutput::builder()
                .accounts(account("333333333333", AccountStatus::Active))
                .accounts(account("444444444444", AccountStatus::Suspended))
                .build()
        });
    let top_ous = mock!(aws_sdk_organizations::Client::list_organizational_units_for_parent)
        .match_requests(|r| r.parent_id() == Some("ou-ab12-top00000"))
        .then_output(|| {
            ListOrganizationalUnitsForParentOutput::builder()
                .organizational_units(OrganizationalUnit::builder().id("ou-ab12-child000").build())
                .build()
        });
    let child_ous = mock!(aws_sdk_organizations::Client::list_organizational_units_for_parent)
        .match_requests(|r| r.parent_id() == Some("ou-ab12-child000"))
        .then_output(|| ListOrganizationalUnitsForParentOutput::builder().build());
    let client = client!(
        aws_sdk_organizations,
        &[&top_1, &top_2, &child, &top_ous, &child_ous]
    );
    let mut accounts = org::accounts_under(&client, &["ou-ab12-top00000".into()])
        .await
        .unwrap();
    accounts.sort();
    assert_eq!(accounts, ["111111111111", "222222222222", "333333333333"]);
}
