//! One config for a whole AWS Organization (issue 24): the hub keeps the bucket and the forwarder,
//! the flow logs are made in every member account × region through the member's role, and kept
//! in step. The local stack's member accounts and what it refuses as AWS does (an AssumeRole the
//! role's trust policy does not allow, a cross-account delivery the bucket policy does not allow)
//! are proved first, on their own.

use std::time::Duration;

use crate::support::config::StackConfig;
use crate::support::org::{assume, put_flow_log_object, role_arn, Member, Organisation, ORG_ROLE};
use crate::support::settle::bucket_usable;
use crate::support::{
    assert_exit, printed, recorder, Behaviours, Service, Stack, ACCOUNT_ID, REGION,
};
use serde_json::json;

const STACK: &str = "org";
const BUCKET: &str = "org-flowlogs-123456789012-us-east-1";
const SECOND_REGION: &str = "eu-west-1";
const REGIONS: [&str; 2] = [REGION, SECOND_REGION];
/// An opt-in region: disabled in every account of the stack (`ec2-opt-in-region-disabled`).
const DISABLED_REGION: &str = "af-south-1";

/// CreateFlowLogs of `vpc` in the member's `region` to `destination`: the ids made and the
/// Unsuccessful messages.
async fn create_flow_log(
    member: &Member,
    region: &str,
    vpc: &str,
    destination: &str,
) -> (Vec<String>, Vec<String>) {
    let out = member
        .ec2(region)
        .await
        .create_flow_logs(&crate::support::s3_flow_log(vpc, "ALL", destination))
        .await
        .unwrap_or_else(|e| panic!("CreateFlowLogs in {}: {e:?}", member.account));
    let errors = out.unsuccessful.into_iter().map(|u| u.message).collect();
    (out.flow_log_ids, errors)
}

fn delivery_policy(condition: serde_json::Value) -> String {
    json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Write", "Effect": "Allow", "Principal": {"Service": "delivery.logs.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": format!("arn:aws:s3:::{BUCKET}/AWSLogs/*"),
         "Condition": condition},
        {"Sid": "AclCheck", "Effect": "Allow", "Principal": {"Service": "delivery.logs.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": format!("arn:aws:s3:::{BUCKET}"),
         "Condition": condition}]})
    .to_string()
}

/// The stack itself: member accounts act in their own account through the organisation's role;
/// a cross-account flow log needs the hub bucket's policy to allow that account's delivery; a
/// role whose trust policy does not trust the hub refuses AssumeRole with AWS's answer.
#[tokio::test(flavor = "multi_thread")]
async fn the_stack_has_member_accounts_and_refuses_what_aws_refuses() {
    let stack = Stack::start_with(&[Service::Moto], Behaviours::all());
    let hub = stack.sdk_config().await;
    let (s3, hub_ec2) = (
        aws_sdk_s3::Client::new(&hub),
        flowlogs_aws_lite::ec2::Ec2::new(&hub),
    );
    let org = Organisation::create(&stack, 2).await;
    let [first, second] = &org.members[..] else {
        unreachable!()
    };
    assert_ne!(first.account, ACCOUNT_ID);
    assert_ne!(first.account, second.account);

    // The member's credentials act in the member's account, in any region.
    let who = aws_sdk_sts::Client::new(&first.sdk_config(SECOND_REGION).await)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(who.account(), Some(first.account.as_str()));
    let vpc = first.create_vpc(SECOND_REGION, "10.1.0.0/16").await;
    assert!(first.vpcs(SECOND_REGION).await.contains(&vpc));
    assert!(!second.vpcs(SECOND_REGION).await.contains(&vpc));
    let hub_vpcs = hub_ec2.describe_vpcs(&[]).await.unwrap();
    assert!(hub_vpcs.iter().all(|v| v.id != vpc));

    // Cross-account delivery: refused until the hub's bucket policy allows the account.
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    bucket_usable(&s3, BUCKET).await;
    let destination = format!("arn:aws:s3:::{BUCKET}");
    let refused = format!(
        "Access Denied for LogDestination: {BUCKET}. Please check LogDestination permission"
    );
    let (made, errors) = create_flow_log(first, SECOND_REGION, &vpc, &destination).await;
    assert_eq!((made.len(), errors), (0, vec![refused.clone()]));
    s3.put_bucket_policy()
        .bucket(BUCKET)
        .policy(delivery_policy(json!({
            "StringEquals": {"aws:SourceAccount": second.account},
            "ArnLike": {"aws:SourceArn": format!("arn:aws:logs:{SECOND_REGION}:{}:*", second.account)}})))
        .send()
        .await
        .unwrap();
    let (_, errors) = create_flow_log(first, SECOND_REGION, &vpc, &destination).await;
    assert_eq!(errors, vec![refused.clone()], "another account's statement");
    let other_vpc = second.create_vpc(SECOND_REGION, "10.2.0.0/16").await;
    let (made, errors) = create_flow_log(second, SECOND_REGION, &other_vpc, &destination).await;
    assert_eq!((made.len(), errors.len()), (1, 0), "{errors:?}");
    s3.put_bucket_policy()
        .bucket(BUCKET)
        .policy(delivery_policy(
            json!({"StringEquals": {"aws:SourceOrgID": org.id}}),
        ))
        .send()
        .await
        .unwrap();
    let (made, errors) = create_flow_log(first, SECOND_REGION, &vpc, &destination).await;
    assert_eq!((made.len(), errors.len()), (1, 0), "{errors:?}");
    // The flow log is the member's: the hub does not see it.
    assert_eq!(first.flow_logs_to(SECOND_REGION, BUCKET).await.len(), 1);
    let hub_flow_logs = flowlogs_aws_lite::ec2::Ec2::new(
        &aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(flowlogs_forwarder::aws_http::client())
            .endpoint_url(&stack.aws_endpoint)
            .region(aws_config::Region::new(SECOND_REGION))
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "test", "test", None, None, "hub",
            ))
            .load()
            .await,
    )
    .describe_flow_logs(&[], &[])
    .await
    .unwrap();
    assert!(hub_flow_logs.is_empty());
    // Once the policy no longer allows the account, its flow log fails to deliver.
    let status = |f: &flowlogs_aws_lite::ec2::FlowLog| {
        (
            f.deliver_logs_status.clone().unwrap_or_default(),
            f.deliver_logs_error_message.clone(),
        )
    };
    let [made] = &first.flow_logs_to(SECOND_REGION, BUCKET).await[..] else {
        panic!("one flow log")
    };
    assert_eq!(status(made), ("SUCCESS".to_string(), None));
    s3.put_bucket_policy()
        .bucket(BUCKET)
        .policy(delivery_policy(
            json!({"StringEquals": {"aws:SourceOrgID": "o-someoneelse"}}),
        ))
        .send()
        .await
        .unwrap();
    let [failing] = &first.flow_logs_to(SECOND_REGION, BUCKET).await[..] else {
        panic!("one flow log")
    };
    assert_eq!(
        status(failing),
        ("FAILED".to_string(), Some("Access error".to_string()))
    );

    // A role that does not trust the hub refuses it, as AWS does; the other accounts do not.
    second.refuse_assume_role().await;
    let denied = assume(&stack, &second.account).await.unwrap_err();
    assert_eq!(
        denied,
        format!(
            "AccessDenied: User: arn:aws:sts::{ACCOUNT_ID}:user/moto is not authorized to perform: sts:AssumeRole on resource: {}",
            role_arn(&second.account)
        )
    );
    assert!(assume(&stack, &first.account).await.is_ok());
    second.trust_hub_again().await;
    assert!(assume(&stack, &second.account).await.is_ok());

    // The member role of templates/policies, trusting the hub with an external id: assumed with
    // that id only.
    let templates = crate::support::workspace_root().join("templates/policies");
    let read = |name: &str| std::fs::read_to_string(templates.join(name)).unwrap();
    let iam = aws_sdk_iam::Client::new(&first.sdk_config(REGION).await);
    iam.create_role()
        .role_name("flowlogs-member")
        .assume_role_policy_document(
            read("member-role-trust.json")
                .replace("{{hub_account}}", ACCOUNT_ID)
                .replace("{{external_id}}", "ext-1234"),
        )
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name("flowlogs-member")
        .policy_name("flowlogs-member")
        .policy_document(read("member-role-policy.json"))
        .send()
        .await
        .unwrap();
    let sts = aws_sdk_sts::Client::new(&hub);
    let member_role = format!("arn:aws:iam::{}:role/flowlogs-member", first.account);
    let with = |id: Option<&str>| {
        sts.assume_role()
            .role_arn(&member_role)
            .role_session_name("flowlogs-tests")
            .set_external_id(id.map(str::to_string))
            .send()
    };
    assert!(with(Some("ext-1234")).await.is_ok());
    assert!(with(None).await.is_err(), "no external id");
    assert!(with(Some("guess")).await.is_err(), "another external id");

    // An opt-in region the account has not enabled answers AuthFailure.
    use aws_smithy_types::error::metadata::ProvideErrorMetadata as _;
    let err = first
        .ec2(DISABLED_REGION)
        .await
        .describe_vpcs(&[])
        .await
        .unwrap_err();
    let err = err.as_service_error().expect("a service error");
    assert_eq!(
        (err.code(), err.message()),
        (
            Some("AuthFailure"),
            Some("AWS was not able to validate the provided access credentials")
        )
    );
}

/// The config of the issue: every VPC of three member accounts in two regions, through the
/// organisation's role, delivered to the hub's bucket and forwarder.
fn org_config(stack: &Stack, org: &Organisation) -> StackConfig {
    StackConfig::lambda(STACK, "none", &stack.otlp_endpoint)
        .without("flow_log.resources.vpc_ids")
        .set("flow_log.resources.all_vpcs", true)
        .set("targets.accounts", org.accounts())
        .set("targets.regions", REGIONS)
        .set("targets.role", ORG_ROLE)
        .set("targets.concurrency", 4)
}

/// Every VPC of every member in every region has exactly one flow log to the hub's bucket.
async fn assert_every_vpc_has_one_flow_log(org: &Organisation) {
    for member in &org.members {
        for region in REGIONS {
            let mut vpcs = member.vpcs(region).await;
            let mut logged: Vec<String> = member
                .flow_logs_to(region, BUCKET)
                .await
                .iter()
                .map(|f| f.resource_id.clone())
                .collect();
            vpcs.sort();
            logged.sort();
            assert_eq!(
                logged, vpcs,
                "the flow logs of {} ({}) in {region}: one per VPC",
                member.account, member.name
            );
        }
    }
}

/// The "Done when": setup makes the flow logs in every member account and region; a
/// flow-log object under a member's prefix in the second region reaches the collector with that
/// account and region; a second setup makes no write; a new VPC in a member is picked up by the
/// next setup (one flow log to create); an account whose role refuses AssumeRole is reported
/// while the others converge, and a re-run converges once it trusts the hub again; teardown
/// leaves no flow log in any target.
#[tokio::test(flavor = "multi_thread")]
async fn an_organisation_of_three_accounts_in_two_regions_is_set_up_kept_in_step_and_torn_down() {
    let stack = Stack::start(&[Service::Moto, Service::Rotel, Service::Lambda]);
    let s3 = aws_sdk_s3::Client::new(&stack.sdk_config().await);
    let org = Organisation::create(&stack, 3).await;
    for (i, member) in org.members.iter().enumerate() {
        for (j, region) in REGIONS.iter().enumerate() {
            member
                .create_vpc(region, &format!("10.{}.0.0/16", 10 * (i + 1) + j))
                .await;
        }
    }
    let cfg = org_config(&stack, &org).write(stack.dir());

    // The plan names every target account and the role it assumes there.
    let plan = cfg.run(&stack, &["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 2);
    let shown = printed(&plan);
    for account in org.accounts() {
        assert!(shown.contains(&account), "{account} in the plan:\n{shown}");
    }
    assert!(shown.contains(ORG_ROLE), "the role in the plan:\n{shown}");

    cfg.setup(&stack, &["--no-verify"]);
    assert_every_vpc_has_one_flow_log(&org).await;

    // A flow-log object of a member account in the second region reaches the collector with that
    // account and region.
    let member = &org.members[1];
    let flow_log = member.flow_logs_to(SECOND_REGION, BUCKET).await[0]
        .id
        .clone();
    let key = put_flow_log_object(&s3, BUCKET, &member.account, SECOND_REGION, &flow_log).await;
    let records = stack.wait_for_exactly(2, Duration::from_secs(60));
    for r in &records {
        assert_eq!(r["resource"]["aws.s3.key"], key.as_str(), "{r}");
        assert_eq!(
            r["resource"]["cloud.account.id"],
            member.account.as_str(),
            "{r}"
        );
        assert_eq!(r["resource"]["cloud.region"], SECOND_REGION, "{r}");
    }

    // A second setup makes no write (AssumeRole hands out credentials and changes nothing).
    recorder::start(&stack.moto_endpoint);
    let again = cfg.setup(&stack, &["--no-verify"]);
    let writes: Vec<String> = recorder::writes(&stack.moto_endpoint)
        .into_iter()
        .filter(|w| w != "AssumeRole")
        .collect();
    assert_eq!(writes, Vec::<String>::new(), "second setup must not write");
    assert!(
        printed(&again).contains("No changes"),
        "{}",
        printed(&again)
    );

    // A VPC created since the last run is one flow log to create, made by the next setup.
    let new_vpc = org.members[0]
        .create_vpc(SECOND_REGION, "10.90.0.0/16")
        .await;
    let plan = cfg.run(&stack, &["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 2);
    let shown = printed(&plan);
    assert!(
        shown.contains("Plan: 1 to create, 0 to update, 0 to replace, 0 to delete."),
        "{shown}"
    );
    assert!(shown.contains(&new_vpc), "{shown}");
    cfg.setup(&stack, &["--no-verify"]);
    assert_every_vpc_has_one_flow_log(&org).await;

    // An account whose role refuses AssumeRole is reported; the others still converge.
    let refusing = &org.members[2];
    refusing.refuse_assume_role().await;
    let late_vpc = org.members[1].create_vpc(REGION, "10.91.0.0/16").await;
    let partial = cfg.run(&stack, &["setup", "--yes", "--no-verify"]);
    assert_ne!(partial.status.code(), Some(0), "{}", printed(&partial));
    let shown = printed(&partial);
    assert!(
        shown.contains(&refusing.account) && shown.contains(ORG_ROLE),
        "the refusing account and its role named:\n{shown}"
    );
    let logged: Vec<String> = org.members[1]
        .flow_logs_to(REGION, BUCKET)
        .await
        .iter()
        .map(|f| f.resource_id.clone())
        .collect();
    assert!(
        logged.contains(&late_vpc),
        "the other accounts converge: {logged:?}"
    );
    // Once it trusts the hub again, a re-run converges.
    refusing.trust_hub_again().await;
    cfg.setup(&stack, &["--no-verify"]);
    assert_exit(&cfg.run(&stack, &["plan", "--detailed-exitcode"]), 0);
    assert_every_vpc_has_one_flow_log(&org).await;

    // Teardown leaves no flow log in any target.
    assert_exit(&cfg.run(&stack, &["teardown", "--yes"]), 0);
    for member in &org.members {
        for region in REGIONS {
            assert_eq!(
                member.flow_logs_to(region, BUCKET).await.len(),
                0,
                "no flow log left in {} {region}",
                member.account
            );
        }
    }
}

/// `organization: true` targets every ACTIVE account of the organisation (ListAccounts), less
/// `exclude_accounts`; a closed (SUSPENDED) account is not a target; `--accounts` narrows one run.
#[tokio::test(flavor = "multi_thread")]
async fn organisation_mode_targets_every_active_account_but_the_excluded_ones() {
    let stack = Stack::start(&[Service::Moto]);
    let org = Organisation::create(&stack, 3).await;
    let (status, closed) = crate::support::org::organizations(
        &stack,
        "CloseAccount",
        json!({"AccountId": org.members[2].account}),
    );
    assert_eq!(status, 200, "CloseAccount: {closed}");
    let zip = crate::support::fake_zip(stack.dir());
    let cfg = StackConfig::lambda(STACK, "none", "http://127.0.0.1:4318")
        .without("flow_log.resources.vpc_ids")
        .set("flow_log.resources.all_vpcs", true)
        .set("targets.organization", true)
        .set("targets.exclude_accounts", [ACCOUNT_ID])
        .set("targets.regions", REGIONS)
        .set("targets.role", ORG_ROLE)
        .write(stack.dir());
    let zip_arg = zip.to_str().unwrap();

    let plan = cfg.run(&stack, &["plan", "--forwarder-zip", zip_arg]);
    assert_exit(&plan, 0);
    let shown = printed(&plan);
    for member in &org.members[..2] {
        assert!(
            shown.contains(&member.account),
            "{} a target:\n{shown}",
            member.name
        );
    }
    assert!(
        !shown.contains(&org.members[2].account),
        "a closed account is not a target:\n{shown}"
    );

    let narrowed = cfg.run(
        &stack,
        &[
            "plan",
            "--forwarder-zip",
            zip_arg,
            "--accounts",
            &org.members[0].account,
        ],
    );
    assert_exit(&narrowed, 0);
    let shown = printed(&narrowed);
    assert!(shown.contains(&org.members[0].account), "{shown}");
    assert!(
        !shown.contains(&org.members[1].account),
        "narrowed to one account:\n{shown}"
    );
}

/// A region the member has not enabled is reported, naming it; the account's other region is still
/// done.
#[tokio::test(flavor = "multi_thread")]
async fn a_disabled_region_is_reported_and_the_other_regions_are_done() {
    let stack = Stack::start(&[Service::Moto]);
    let org = Organisation::create(&stack, 1).await;
    let member = &org.members[0];
    let zip = crate::support::fake_zip(stack.dir());
    let cfg = StackConfig::lambda(STACK, "none", "http://127.0.0.1:4318")
        .without("flow_log.resources.vpc_ids")
        .set("flow_log.resources.all_vpcs", true)
        .set("targets.accounts", [&member.account])
        .set("targets.regions", [REGION, DISABLED_REGION])
        .set("targets.role", ORG_ROLE)
        .write(stack.dir());
    let setup = cfg.setup_zip(&stack, &zip);
    assert_ne!(setup.status.code(), Some(0), "{}", printed(&setup));
    let shown = printed(&setup);
    assert!(
        shown.contains(DISABLED_REGION) && shown.contains(&member.account),
        "the disabled region of the account named:\n{shown}"
    );
    let mut vpcs = member.vpcs(REGION).await;
    let mut logged: Vec<String> = member
        .flow_logs_to(REGION, BUCKET)
        .await
        .iter()
        .map(|f| f.resource_id.clone())
        .collect();
    vpcs.sort();
    logged.sort();
    assert_eq!(logged, vpcs, "the enabled region is done");
}

/// The stack's sessions expire as AWS's do (here at once): EC2 refuses a member's expired
/// credentials with RequestExpired, which a long run must avoid by refreshing them.
#[tokio::test(flavor = "multi_thread")]
async fn the_stack_expires_assumed_role_sessions() {
    use aws_smithy_types::error::metadata::ProvideErrorMetadata as _;
    let stack = Stack::start_with(&[Service::Moto], Behaviours::all().session_seconds(0.0));
    let org = Organisation::create(&stack, 1).await;
    let err = org.members[0]
        .ec2(REGION)
        .await
        .describe_vpcs(&[])
        .await
        .unwrap_err();
    let err = err.as_service_error().expect("a service error");
    assert_eq!(
        (err.code(), err.message()),
        (Some("RequestExpired"), Some("Request has expired."))
    );
}

/// A run longer than a member session refreshes the member's credentials: sessions of the stack
/// last 4 s, and the new hub bucket answers NoSuchBucket for 6 s (`consistency-bucket`), which
/// setup waits out between reading the targets and creating their flow logs.
#[tokio::test(flavor = "multi_thread")]
async fn a_run_longer_than_a_session_refreshes_member_credentials() {
    let stack = Stack::start_with(
        &[Service::Moto],
        Behaviours::from_env().session_seconds(4.0).window(6.0),
    );
    let org = Organisation::create(&stack, 2).await;
    let zip = crate::support::fake_zip(stack.dir());
    let cfg = StackConfig::lambda(STACK, "none", "http://127.0.0.1:4318")
        .without("flow_log.resources.vpc_ids")
        .set("flow_log.resources.all_vpcs", true)
        .set("targets.accounts", org.accounts())
        .set("targets.regions", [REGION])
        .set("targets.role", ORG_ROLE)
        .write(stack.dir());
    let started = std::time::Instant::now();
    cfg.setup(
        &stack,
        &["--no-verify", "--forwarder-zip", zip.to_str().unwrap()],
    );
    assert!(
        started.elapsed() > Duration::from_secs(4),
        "the run outlived a session"
    );
    for member in &org.members {
        let mut vpcs = member.vpcs(REGION).await;
        let mut logged: Vec<String> = member
            .flow_logs_to(REGION, BUCKET)
            .await
            .iter()
            .map(|f| f.resource_id.clone())
            .collect();
        vpcs.sort();
        logged.sort();
        assert_eq!(
            logged, vpcs,
            "{}: every VPC's flow log made",
            member.account
        );
    }
}

/// verify summarises the delivery status of every target's flow logs: once the hub's bucket policy
/// no longer lets one member deliver, its flow logs show FAILED ("Access error") and verify fails
/// naming that account.
#[tokio::test(flavor = "multi_thread")]
async fn verify_names_the_account_whose_flow_logs_fail_to_deliver() {
    let stack = Stack::start(&[Service::Moto, Service::Rotel, Service::Lambda]);
    let s3 = aws_sdk_s3::Client::new(&stack.sdk_config().await);
    let org = Organisation::create(&stack, 2).await;
    let cfg = StackConfig::lambda(STACK, "none", &stack.otlp_endpoint)
        .without("flow_log.resources.vpc_ids")
        .set("flow_log.resources.all_vpcs", true)
        .set("targets.accounts", org.accounts())
        .set("targets.regions", [REGION])
        .set("targets.role", ORG_ROLE)
        .write(stack.dir());
    cfg.setup(&stack, &[]);
    assert_exit(&cfg.run(&stack, &["verify"]), 0);

    // Someone rewrites the policy: only the first member may deliver.
    let allowed = &org.members[0].account;
    s3.put_bucket_policy()
        .bucket(BUCKET)
        .policy(delivery_policy(json!({
            "StringEquals": {"aws:SourceAccount": allowed},
            "ArnLike": {"aws:SourceArn": format!("arn:aws:logs:{REGION}:{allowed}:*")}})))
        .send()
        .await
        .unwrap();
    let failing = &org.members[1];
    assert!(failing
        .flow_logs_to(REGION, BUCKET)
        .await
        .iter()
        .all(|f| f.deliver_logs_status.as_deref() == Some("FAILED")));
    let verify = cfg.run(&stack, &["verify"]);
    assert_ne!(verify.status.code(), Some(0), "{}", printed(&verify));
    let shown = printed(&verify);
    assert!(
        shown.contains(&failing.account) && shown.contains("Access error"),
        "the failing account and AWS's reason named:\n{shown}"
    );
}

/// `athena:` with `targets`: the table sits at the bucket's `AWSLogs/`, the account and region are
/// its first partitions (enums of the target accounts and the configured regions), and its
/// projection reads every target's folders by the hour; a second setup writes nothing; an
/// account that joins updates the table in place. (moto's Glue keeps any table parameters: that
/// Athena would accept this projection is the unit tests' `origin::projection_problems`.)
#[tokio::test(flavor = "multi_thread")]
async fn with_athena_the_table_reads_every_target_account_and_region() {
    let stack = Stack::start(&[Service::Moto]);
    let glue = flowlogs_aws_lite::glue::Glue::new(&stack.sdk_config().await);
    let org = Organisation::create(&stack, 3).await;
    let zip = crate::support::fake_zip(stack.dir());
    let zip_arg = zip.to_str().unwrap();
    let two = org.accounts()[..2].to_vec();
    let config = |accounts: &[String]| {
        StackConfig::lambda(STACK, "none", "http://127.0.0.1:4318")
            .without("flow_log.resources.vpc_ids")
            .set("flow_log.resources.all_vpcs", true)
            .flow_log("per_hour_partition", true)
            .set("targets.accounts", accounts)
            .set("targets.regions", REGIONS)
            .set("targets.role", ORG_ROLE)
            .athena()
            .write(stack.dir())
    };
    let cfg = config(&two);
    cfg.setup(&stack, &["--no-verify", "--forwarder-zip", zip_arg]);

    let table = || async {
        glue.get_table("flowlogs", "org_flow_logs")
            .await
            .expect("the Glue table exists")
            .unwrap()
    };
    let t = table().await;
    let keys: Vec<&str> = t.partition_keys.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(keys, ["aws_account_id", "aws_region", "day", "hour"]);
    assert_eq!(
        t.storage_descriptor.as_ref().unwrap().location.as_deref(),
        Some(format!("s3://{BUCKET}/AWSLogs/").as_str())
    );
    let params = &t.parameters;
    let mut sorted = two.clone();
    sorted.sort();
    assert_eq!(params["projection.aws_account_id.type"], "enum");
    assert_eq!(params["projection.aws_account_id.values"], sorted.join(","));
    assert_eq!(params["projection.aws_region.type"], "enum");
    // The configured regions, sorted.
    assert_eq!(
        params["projection.aws_region.values"],
        format!("{SECOND_REGION},{REGION}")
    );
    assert_eq!(
        params["storage.location.template"],
        format!("s3://{BUCKET}/AWSLogs/${{aws_account_id}}/vpcflowlogs/${{aws_region}}/${{day}}/${{hour}}/")
    );
    assert_eq!(params["projection.day.type"], "date");

    // A second setup makes no write.
    recorder::start(&stack.moto_endpoint);
    cfg.setup(&stack, &["--no-verify", "--forwarder-zip", zip_arg]);
    let writes: Vec<String> = recorder::writes(&stack.moto_endpoint)
        .into_iter()
        .filter(|w| w != "AssumeRole")
        .collect();
    assert_eq!(writes, Vec::<String>::new(), "second setup must not write");

    // An account that joins: the table's definition is updated in place (no replace).
    let all = config(&org.accounts());
    let plan = all.run(
        &stack,
        &["plan", "--detailed-exitcode", "--forwarder-zip", zip_arg],
    );
    assert_exit(&plan, 2);
    let shown = printed(&plan);
    assert!(
        shown.contains("~ glue table flowlogs.org_flow_logs"),
        "{shown}"
    );
    all.setup(&stack, &["--no-verify", "--forwarder-zip", zip_arg]);
    let mut every = org.accounts();
    every.sort();
    assert_eq!(
        table().await.parameters["projection.aws_account_id.values"],
        every.join(",")
    );
}

/// A stack that listed `vpc_ids` in the hub and now has `targets:` without the hub's account: its
/// earlier hub flow log is no longer wanted, so setup deletes it (and teardown would), and
/// someone else's flow log on the same VPC stays.
#[tokio::test(flavor = "multi_thread")]
async fn a_switch_from_vpc_ids_to_targets_removes_the_hubs_earlier_flow_logs_and_no_other() {
    let stack = Stack::start(&[Service::Moto]);
    let hub = stack.ec2().await;
    let org = Organisation::create(&stack, 1).await;
    let zip = crate::support::fake_zip(stack.dir());
    let zip_arg = zip.to_str().unwrap();
    let vpc = stack.create_vpc("10.7.0.0/16").await;
    // Someone else's flow log on the same VPC, to a bucket of theirs.
    aws_sdk_s3::Client::new(&stack.sdk_config().await)
        .create_bucket()
        .bucket("someone-elses-bucket")
        .send()
        .await
        .unwrap();
    let theirs = hub
        .create_flow_logs(&crate::support::s3_flow_log(
            &vpc,
            "REJECT",
            "arn:aws:s3:::someone-elses-bucket",
        ))
        .await
        .unwrap()
        .flow_log_ids[0]
        .to_string();
    let hub_flow_logs = || async {
        let mut ids: Vec<String> = hub
            .describe_flow_logs(&[], &[])
            .await
            .unwrap()
            .into_iter()
            .filter(|f| f.resource_id == vpc)
            .map(|f| f.id)
            .collect();
        ids.sort();
        ids
    };
    let listed = StackConfig::lambda(STACK, &vpc, "http://127.0.0.1:4318").write(stack.dir());
    let targets = StackConfig::lambda(STACK, "none", "http://127.0.0.1:4318")
        .without("flow_log.resources.vpc_ids")
        .set("flow_log.resources.all_vpcs", true)
        .set("targets.accounts", org.accounts())
        .set("targets.role", ORG_ROLE)
        .write_as(stack.dir(), "targets.yaml");

    for command in ["setup", "teardown"] {
        listed.setup(&stack, &["--no-verify", "--forwarder-zip", zip_arg]);
        let before = hub_flow_logs().await;
        assert_eq!(before.len(), 2, "ours and theirs: {before:?}");
        let ours: Vec<&String> = before.iter().filter(|id| **id != theirs).collect();
        let plan = targets.run(&stack, &["plan", "--forwarder-zip", zip_arg]);
        assert_exit(&plan, 0);
        let shown = printed(&plan);
        assert!(
            shown.contains(&format!("- flow log {vpc} ({})", ours[0])),
            "the plan deletes our hub flow log:\n{shown}"
        );
        let args = match command {
            "setup" => vec!["setup", "--yes", "--no-verify", "--forwarder-zip", zip_arg],
            _ => vec!["teardown", "--yes"],
        };
        assert_exit(&targets.run(&stack, &args), 0);
        assert_eq!(
            hub_flow_logs().await,
            vec![theirs.clone()],
            "after {command}: theirs only"
        );
    }
}
