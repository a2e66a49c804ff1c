//! What AWS requires of an adopted bucket and of the deployment, on the local stack (issue 12,
//! items 5 and 7; issue 22 item 4): an SSE-KMS bucket gets its key granted to the forwarder's role
//! and the key policy statement shown, and one whose key is named by id is a conflict; AddPermission
//! while the function is still being created is waited for; a zip above Lambda's direct-upload
//! limit is refused. A bucket in another region and a flow log into a folder are the bucket's and
//! the flow log's own AWS answers: in-process (`src/resources/inprocess_tests`).

use std::path::Path;
use std::process::Output;

use crate::support::config::StackConfig;
use crate::support::{
    assert_exit, fake_zip, printed, Behaviours, Service, Stack, ACCOUNT_ID, REGION,
};
use serde_json::Value;

const STACK: &str = "rules";
const FUNCTION: &str = "flowlogs-rules-forwarder";
const KEY_ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";

fn config(vpc: &str) -> StackConfig {
    StackConfig::lambda(STACK, vpc, "https://collector.example.com:4318")
}

fn flowlogs(stack: &Stack, config: &Path, args: &[&str], zip: &Path) -> Output {
    let mut args: Vec<&str> = args.to_vec();
    args.extend(["--forwarder-zip", zip.to_str().unwrap()]);
    stack.run(config, &args, &[])
}

fn parliament(dir: &Path, name: &str, policy: &Value) {
    let file = dir.join(format!("{name}.json"));
    std::fs::write(&file, serde_json::to_string_pretty(policy).unwrap()).unwrap();
    let out = std::process::Command::new(crate::support::venv().join("bin/parliament"))
        .stdin(std::fs::File::open(&file).unwrap())
        .output()
        .expect("parliament from the venv (.ci/install)");
    let findings = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && findings.trim().is_empty(),
        "parliament on {name}:\n{findings}\n{policy:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_sse_kms_bucket_gets_its_key_granted_and_the_key_policy_statement_shown() {
    let stack = Stack::start(&[Service::Moto]);
    let sdk = stack.sdk_config().await;
    let s3 = aws_sdk_s3::Client::new(&sdk);
    let vpc = stack.create_vpc("10.0.0.0/16").await;
    let key_arn = format!("arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/{KEY_ID}");
    // The key named by its ARN, as log delivery requires.
    kms_bucket(&s3, "kms-logs", &key_arn).await;
    let cfg = config(&vpc).existing_bucket("kms-logs").write(stack.dir());
    let zip = fake_zip(stack.dir());

    let plan = flowlogs(&stack, &cfg, &["plan"], &zip);
    assert_exit(&plan, 0);
    let text = printed(&plan);
    assert!(
        text.contains(&key_arn) && text.contains("kms:Decrypt"),
        "{text}"
    );
    assert!(
        text.contains("delivery.logs.amazonaws.com") && text.contains("kms:GenerateDataKey*"),
        "the plan shows the key policy statement to add:\n{text}"
    );

    // The policy the plan shows carries the grant and passes parliament.
    let json = flowlogs(&stack, &cfg, &["plan", "--output", "json"], &zip);
    assert_exit(&json, 0);
    let report: Value = serde_json::from_slice(&json.stdout).unwrap();
    let shown = &report["documents"]["identity_policies"][FUNCTION];
    assert!(shown.to_string().contains(&key_arn), "{shown:#}");
    parliament(stack.dir(), FUNCTION, shown);

    assert_exit(
        &flowlogs(&stack, &cfg, &["setup", "--yes", "--no-verify"], &zip),
        0,
    );
    let iam = aws_sdk_iam::Client::new(&sdk);
    let written = iam
        .get_role_policy()
        .role_name(FUNCTION)
        .policy_name("flowlogs-forwarder")
        .send()
        .await
        .unwrap();
    let document = urlencoding_decode(written.policy_document());
    let policy: Value = serde_json::from_str(&document).unwrap();
    let grants: Vec<&Value> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s.to_string().contains("kms:"))
        .collect();
    // Reading flow-log objects needs kms:Decrypt. Failed events go to the stack's own failure
    // bucket (SSE-S3), so the role never writes with this key: no kms:GenerateDataKey.
    let actions: Vec<&str> = grants.iter().filter_map(|g| g["Action"].as_str()).collect();
    assert_eq!(actions, ["kms:Decrypt"], "{policy:#}");
    for grant in &grants {
        assert_eq!(grant["Resource"], key_arn.as_str(), "{policy:#}");
        assert_eq!(
            grant["Condition"]["StringEquals"]["kms:ViaService"],
            format!("s3.{REGION}.amazonaws.com")
        );
    }
    // Converged: the grants read back in sync.
    assert_exit(
        &flowlogs(&stack, &cfg, &["plan", "--detailed-exitcode"], &zip),
        0,
    );
}

/// A bucket whose default encryption is SSE-KMS with `key` (a key id or a key ARN).
async fn kms_bucket(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) {
    s3.create_bucket().bucket(bucket).send().await.unwrap();
    crate::support::settle::bucket_usable(s3, bucket).await;
    crate::support::encrypt_with_kms(s3, bucket, key).await;
}

/// Issue 22 item 4: log delivery refuses a bucket whose default encryption names its KMS key by
/// id ("LogDestination <bucket> is undeliverable", behaviour `flow-log-kms-key-id`). The plan
/// shows the conflict with the key id and the fix, and setup writes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_bucket_whose_kms_key_is_named_by_id_is_a_conflict_found_before_any_write() {
    let stack = Stack::start(&[Service::Moto]);
    let s3 = aws_sdk_s3::Client::new(&stack.sdk_config().await);
    let vpc = stack.create_vpc("10.0.0.0/16").await;
    kms_bucket(&s3, "kms-id-logs", KEY_ID).await;
    let key_arn = format!("arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/{KEY_ID}");
    let cfg = config(&vpc)
        .existing_bucket("kms-id-logs")
        .write(stack.dir());
    let zip = fake_zip(stack.dir());

    let plan = flowlogs(&stack, &cfg, &["plan"], &zip);
    assert_exit(&plan, 1);
    let text = printed(&plan);
    let line = text
        .lines()
        .find(|l| l.contains(KEY_ID) && l.contains("key ID"))
        .unwrap_or_else(|| panic!("no line names the key id:\n{text}"));
    assert!(line.contains("kms-id-logs"), "{text}");
    assert!(
        text.contains(&format!("\"KMSMasterKeyID\":\"{key_arn}\"")),
        "the fix sets the key's ARN as the bucket's default:\n{text}"
    );

    crate::support::recorder::start(&stack.moto_endpoint);
    let setup = flowlogs(&stack, &cfg, &["setup", "--yes", "--no-verify"], &zip);
    assert_ne!(setup.status.code(), Some(0), "{}", printed(&setup));
    assert!(printed(&setup).contains(KEY_ID), "{}", printed(&setup));
    let writes = crate::support::recorder::writes(&stack.moto_endpoint);
    assert!(writes.is_empty(), "setup wrote {writes:?}");
}

/// IAM returns policy documents URL-encoded.
fn urlencoding_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .unwrap()
        .into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn add_permission_while_the_function_is_still_being_created_is_waited_for() {
    let stack = Stack::start_with(
        &[Service::Moto],
        Behaviours::only(&["consistency-function-update"]).window(3.0),
    );
    let vpc = stack.create_vpc("10.0.0.0/16").await;
    let cfg = config(&vpc).bucket("retention_days", 9).write(stack.dir());
    let zip = fake_zip(stack.dir());
    let setup = flowlogs(&stack, &cfg, &["setup", "--yes", "--no-verify"], &zip);
    assert_exit(&setup, 0);
    let lambda = aws_sdk_lambda::Client::new(&stack.sdk_config().await);
    let policy = lambda
        .get_policy()
        .function_name(FUNCTION)
        .send()
        .await
        .unwrap();
    assert!(
        policy.policy().unwrap().contains("flowlogs-rules-s3"),
        "{policy:?}"
    );
    assert!(
        printed(&setup).contains("update of the function in progress"),
        "the wait is shown"
    );
}

/// A role made seconds ago cannot be assumed by Lambda yet: CreateFunction answers
/// InvalidParameterValueException until IAM has propagated it, and setup waits, saying so. The
/// window is long enough that CreateFunction always falls in it.
#[tokio::test(flavor = "multi_thread")]
async fn create_function_while_the_new_role_propagates_is_waited_for() {
    let stack = Stack::start_with(
        &[Service::Moto],
        Behaviours::only(&["consistency-role-lambda"]).window(6.0),
    );
    let vpc = stack.create_vpc("10.0.0.0/16").await;
    let cfg = config(&vpc).bucket("retention_days", 9).write(stack.dir());
    let zip = fake_zip(stack.dir());
    let setup = flowlogs(&stack, &cfg, &["setup", "--yes", "--no-verify"], &zip);
    assert_exit(&setup, 0);
    assert!(
        stack.was_injected("400 CreateFunction"),
        "CreateFunction fell in the window: {:?}",
        stack.injected()
    );
    assert!(
        printed(&setup).contains("to be assumable by Lambda"),
        "the wait is shown: {}",
        printed(&setup)
    );
    let lambda = aws_sdk_lambda::Client::new(&stack.sdk_config().await);
    lambda
        .get_function()
        .function_name(FUNCTION)
        .send()
        .await
        .expect("the function was made once the role could be assumed");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_zip_above_the_direct_upload_limit_is_refused_before_upload() {
    let stack = Stack::start(&[Service::Moto]);
    let vpc = stack.create_vpc("10.0.0.0/16").await;
    let cfg = config(&vpc).bucket("retention_days", 9).write(stack.dir());
    let big = stack.dir().join("big.zip");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(51 * 1024 * 1024)
        .unwrap();
    let setup = flowlogs(&stack, &cfg, &["setup", "--yes", "--no-verify"], &big);
    assert_ne!(setup.status.code(), Some(0));
    let text = printed(&setup);
    assert!(
        text.contains("51.0 MB zipped") && text.contains("through S3 is not implemented"),
        "{text}"
    );
    let lambda = aws_sdk_lambda::Client::new(&stack.sdk_config().await);
    assert!(lambda
        .get_function()
        .function_name(FUNCTION)
        .send()
        .await
        .is_err());
}

/// The stack itself: moto refuses a folder destination; with `flow-log-folder` it accepts it, as
/// AWS does, and echoes it as given.
#[tokio::test(flavor = "multi_thread")]
async fn the_stack_accepts_a_folder_destination_only_with_flow_log_folder() {
    for (behaviours, accepted) in [
        (Behaviours::none(), false),
        (Behaviours::only(&["flow-log-folder"]), true),
    ] {
        let stack = Stack::start_with(&[Service::Moto], behaviours);
        let sdk = stack.sdk_config().await;
        aws_sdk_s3::Client::new(&sdk)
            .create_bucket()
            .bucket("folder-logs")
            .send()
            .await
            .unwrap();
        let vpc = stack.create_vpc("10.0.0.0/16").await;
        let ec2 = flowlogs_aws_lite::ec2::Ec2::new(&sdk);
        let created = ec2
            .create_flow_logs(&crate::support::s3_flow_log(
                &vpc,
                "ALL",
                "arn:aws:s3:::folder-logs/team-a/",
            ))
            .await
            .unwrap();
        assert_eq!(created.unsuccessful.is_empty(), accepted, "{created:?}");
        let described = ec2.describe_flow_logs(&[], &[]).await.unwrap();
        let destinations: Vec<&str> = described
            .iter()
            .filter_map(|f| f.log_destination.as_deref())
            .collect();
        if accepted {
            assert_eq!(destinations, ["arn:aws:s3:::folder-logs/team-a/"]);
        } else {
            assert!(destinations.is_empty(), "{destinations:?}");
        }
    }
}
