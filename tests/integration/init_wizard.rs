//! `flowlogs init` driven as a user would: the real binary in a pseudo-terminal (expectrl), against
//! a moto server holding two VPCs and a bucket. Keys are sent only once their prompt is on the
//! screen; every wait has a timeout.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::{Service, Stack};
use expectrl::process::unix::WaitStatus;
use expectrl::session::OsSession;
use expectrl::{Eof, Expect, Session};

const ENTER: &str = "\r";
const DOWN: &str = "\x1b[B";
const SPACE: &str = " ";
const ESC: &str = "\x1b";
const CTRL_C: &str = "\x03";

/// The binary in a pseudo-terminal.
struct Wizard {
    session: OsSession,
    /// What was shown so far, for failure messages.
    screen: String,
}

impl Wizard {
    fn start(mut cmd: Command) -> Wizard {
        // The harness gives the command a null stdin; the pseudo-terminal must be its stdin.
        cmd.stdin(Stdio::inherit())
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit());
        let mut session = Session::spawn(cmd).expect("start flowlogs in a pseudo-terminal");
        session.set_expect_timeout(Some(Duration::from_secs(60)));
        Wizard {
            session,
            screen: String::new(),
        }
    }

    /// Waits for `text` on the screen.
    fn wait_for(&mut self, text: &str) {
        match self.session.expect(text) {
            Ok(found) => self
                .screen
                .push_str(&String::from_utf8_lossy(found.as_bytes())),
            Err(e) => panic!(
                "waiting for `{text}`: {e}\n--- screen so far ---\n{}",
                self.screen
            ),
        }
    }

    /// Waits for the prompt, then types `keys`.
    fn answer(&mut self, prompt: &str, keys: &str) {
        self.wait_for(prompt);
        self.session.send(keys).expect("type into the terminal");
    }

    /// Reads to the end and returns the exit code (128 + n for a signal) and the whole screen.
    fn finish(mut self) -> (i32, String) {
        if let Ok(rest) = self.session.expect(Eof) {
            self.screen
                .push_str(&String::from_utf8_lossy(rest.as_bytes()));
        }
        let code = match self.session.get_process().wait() {
            Ok(WaitStatus::Exited(_, code)) => code,
            Ok(WaitStatus::Signaled(_, signal, _)) => 128 + signal as i32,
            other => panic!("flowlogs did not exit normally: {other:?}"),
        };
        (code, self.screen)
    }
}

/// moto with two VPCs of ours (besides moto's default one) and one bucket; returns the VPC ids.
async fn account(stack: &Stack) -> (String, String) {
    let config = stack.sdk_config().await;
    let ec2 = flowlogs_aws_lite::ec2::Ec2::new(&config);
    let mut ids = Vec::new();
    for (cidr, name) in [("10.10.0.0/16", "prod"), ("10.20.0.0/16", "staging")] {
        let id = ec2
            .create_vpc(cidr, &[])
            .await
            .expect("CreateVpc on moto")
            .id;
        ec2.create_tags(
            std::slice::from_ref(&id),
            &[flowlogs_aws_lite::ec2::Tag::new("Name", name)],
        )
        .await
        .expect("CreateTags on moto");
        ids.push(id);
    }
    let s3 = aws_sdk_s3::Client::new(&config);
    s3.create_bucket()
        .bucket("existing-logs")
        .send()
        .await
        .expect("CreateBucket on moto");
    crate::support::settle::bucket_usable(&s3, "existing-logs").await;
    (ids[0].clone(), ids[1].clone())
}

/// Where each VPC sits in the wizard's list (sorted by id, moto's default VPC included).
async fn list_positions(stack: &Stack, wanted: &[&str]) -> Vec<usize> {
    let out = stack
        .ec2()
        .await
        .describe_vpcs(&[])
        .await
        .expect("DescribeVpcs");
    let mut all: Vec<String> = out.into_iter().map(|v| v.id).collect();
    all.sort();
    let mut positions: Vec<usize> = wanted
        .iter()
        .map(|w| {
            all.iter()
                .position(|id| id == w)
                .expect("the VPC is listed")
        })
        .collect();
    positions.sort();
    positions
}

/// The file the answers below must give, byte for byte.
const EXPECTED: &str = r#"# flowlogs.yaml, written by `flowlogs init`: one VPC Flow Logs -> OpenTelemetry pipeline ("stack").
# `flowlogs plan` shows what would change, `flowlogs setup` makes it so and proves it works,
# `flowlogs teardown` removes what flowlogs made. Values such as "${env:NAME}" are read from the
# environment at run time and never written here.
version: 1

# Names and tags every resource: 1-24 lowercase letters, digits and hyphens.
stack: demo

# Leave out to use the region of your AWS profile or environment; --region overrides.
region: us-east-1

flow_log:
  # What to log: VPCs (vpc_ids), subnets (subnet_ids) or network interfaces (eni_ids).
  resources:
    vpc_ids: [VPC_1, VPC_2]
  # ACCEPT | REJECT | ALL
  traffic_type: REJECT
  # default (the 14 fields of version 2) | all (every field of versions 2-8) |
  # custom, for example "${version} ${vpc-id} ${srcaddr} ${dstaddr} ${action}"
  format: "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id}"
  # Seconds over which AWS aggregates a flow into one record: 60 | 600
  max_aggregation_interval: 60
  # plain-text | parquet (parquet needs delivery.mode: lambda)
  file_format: plain-text
  # Hive-style keys (aws-account-id=.../year=...) and one folder per hour.
  hive_compatible_partitions: false
  per_hour_partition: true
  # Any change to the keys above replaces the flow log (the new one first, then the old one goes).

bucket:
  name: existing-logs
  # An existing bucket: flowlogs only adds its own policy statements and notification
  # entry, and never deletes the bucket.
  create: false
  # Optional folder before AWSLogs/.
  prefix: ""
  # Objects expire after this many days (buckets flowlogs creates).
  retention_days: 90

delivery:
  # lambda: the forwarder Lambda sends each new object to an OTLP endpoint.
  mode: lambda
  otlp:
    endpoint: http://127.0.0.1:4318
    # http/protobuf | http/json
    protocol: http/json
    # Sent with every request; the value is read from the environment at run time.
    headers:
      x-api-key: "${env:X_API_KEY}"
    service_name: vpc-flows
  lambda:
    memory_mb: 1024
    timeout_s: 300
    # x86_64 | arm64
    architecture: arm64
"#;

#[tokio::test]
async fn keys_typed_as_a_user_would_write_the_expected_file_that_plan_accepts() {
    let stack = Stack::start(&[Service::Moto]);
    let (prod, staging) = account(&stack).await;
    let positions = list_positions(&stack, &[&prod, &staging]).await;
    let mut sorted = [prod.clone(), staging.clone()];
    sorted.sort();
    let expected = EXPECTED
        .replace("VPC_1", &sorted[0])
        .replace("VPC_2", &sorted[1]);

    // An older file is there: the wizard asks before replacing it.
    let path = stack.dir().join("interactive.yaml");
    std::fs::write(&path, "# an older file\n").unwrap();

    let mut cmd = stack.flowlogs();
    cmd.arg("init")
        .arg("-c")
        .arg(&path)
        .current_dir(stack.dir());
    let mut w = Wizard::start(cmd);
    w.answer("Stack name", "demo\r");
    w.answer("AWS region", ENTER); // us-east-1, from the environment
    w.wait_for("What should be logged?");
    w.wait_for("VPCs of this account, picked from a list");
    w.session.send(ENTER).unwrap();
    // Both of our VPCs, not moto's default one.
    let mut keys = String::new();
    let mut at = 0;
    for p in &positions {
        keys.push_str(&DOWN.repeat(p - at));
        keys.push_str(SPACE);
        at = *p;
    }
    keys.push_str(ENTER);
    w.wait_for("VPCs to log");
    w.wait_for("staging");
    w.session.send(keys).unwrap();
    w.answer("Traffic to log", &format!("{DOWN}{DOWN}{ENTER}")); // REJECT
    w.answer("Record format", &format!("{DOWN}{DOWN}{ENTER}")); // custom
                                                                // The 14 default fields come checked; add vpc-id, the first field of version 3.
    w.answer(
        "Fields, grouped by version",
        &format!("{}{SPACE}{ENTER}", DOWN.repeat(14)),
    );
    w.answer("Put the 15 fields in another order?", "n");
    w.answer("Aggregation interval", &format!("{DOWN}{ENTER}")); // 60 s
    w.answer("File format", ENTER); // plain-text
    w.answer("Hive-compatible partitions", "n");
    w.answer("One folder per hour", "y");
    w.answer(
        "Where should the logs be stored?",
        &format!("{DOWN}{ENTER}"),
    );
    w.wait_for("Existing bucket to use");
    w.answer("existing-logs", ENTER);
    w.answer("How should records reach your collector?", ENTER); // lambda
    w.answer("OTLP/HTTP endpoint", "collector:4318\r"); // no scheme: refused
    w.wait_for("is not an http(s) URL with a host");
    w.answer("OTLP/HTTP endpoint", "http://127.0.0.1:4318\r");
    w.answer("OTLP protocol", &format!("{DOWN}{ENTER}")); // http/json
    w.answer("Auth header name", "x-api-key\r");
    w.answer(
        "Name of the environment variable holding the x-api-key value",
        ENTER,
    );
    w.answer("Service name", "vpc-flows\r");
    w.answer("Lambda memory (MB)", "1024\r");
    w.answer("Lambda timeout (seconds)", ENTER);
    w.answer("Lambda architecture", ENTER); // arm64, the default for new configs
    w.wait_for("Summary:");
    w.answer("already exists. Overwrite it?", "y");
    w.wait_for("export X_API_KEY=...");
    w.wait_for("flowlogs plan -c");
    w.wait_for("flowlogs setup -c");
    let (code, screen) = w.finish();
    assert_eq!(code, 0, "init failed:\n{screen}");
    let written = std::fs::read_to_string(&path).unwrap();
    assert_eq!(written, expected, "the file differs from the expected one");
    assert!(
        !written.contains("test-secret"),
        "only the variable's name is written"
    );
    let leftovers: Vec<_> = std::fs::read_dir(stack.dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".init-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    // `plan` accepts the file as written: 0 (no change) or 2 (changes), never 1.
    let plan = stack
        .flowlogs()
        .args(["plan", "--detailed-exitcode", "-c"])
        .arg(&path)
        .env("X_API_KEY", "test-secret")
        .output()
        .unwrap();
    assert!(
        matches!(plan.status.code(), Some(0 | 2)),
        "plan refused the wizard's file ({}):\n{}\n{}",
        plan.status,
        String::from_utf8_lossy(&plan.stdout),
        String::from_utf8_lossy(&plan.stderr)
    );
    let plan_text = String::from_utf8_lossy(&plan.stdout);
    assert!(plan_text.contains(&prod) && plan_text.contains(&staging));

    // The same answers as flags give the same file.
    let scripted = stack.dir().join("scripted.yaml");
    let out = stack
        .flowlogs()
        .arg("init")
        .arg("--non-interactive")
        .args(["--stack", "demo"])
        .args(["--vpc-id", &sorted[0], "--vpc-id", &sorted[1]])
        .args(["--traffic-type", "REJECT"])
        .args([
            "--format",
            "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id}",
        ])
        .args(["--interval", "60", "--hourly-partitions"])
        .args(["--existing-bucket", "existing-logs"])
        .args(["--endpoint", "http://127.0.0.1:4318", "--protocol", "http/json"])
        .args(["--header-name", "x-api-key", "--header-env", "X_API_KEY"])
        .args(["--service-name", "vpc-flows", "--memory-mb", "1024"])
        .args(["--architecture", "arm64"])
        .arg("-c")
        .arg(&scripted)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "init --non-interactive failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&scripted).unwrap(), written);
}

#[tokio::test]
async fn enter_everywhere_gives_what_the_flags_and_defaults_give() {
    let stack = Stack::start(&[Service::Moto]);
    let (prod, _) = account(&stack).await;
    let positions = list_positions(&stack, &[&prod]).await;

    let path = stack.dir().join("defaults.yaml");
    let mut cmd = stack.flowlogs();
    cmd.arg("init").arg("-c").arg(&path);
    let mut w = Wizard::start(cmd);
    w.answer("Stack name", ENTER); // main
    w.answer("AWS region", ENTER);
    w.answer("What should be logged?", ENTER);
    w.wait_for("VPCs to log");
    w.wait_for("staging");
    // Enter with nothing picked is refused: at least one VPC is needed.
    w.session.send(ENTER).unwrap();
    w.wait_for("Pick at least one VPC");
    w.answer(
        "VPCs to log",
        &format!("{}{SPACE}{ENTER}", DOWN.repeat(positions[0])),
    );
    for prompt in [
        "Traffic to log",
        "Record format",
        "Aggregation interval",
        "File format",
        "Hive-compatible partitions",
        "One folder per hour",
        "Where should the logs be stored?",
        // The proposed name is <stack>-flowlogs-<account>-<region>: written as `name: null`.
        "main-flowlogs-123456789012-us-east-1",
        "Keep logs for how many days?",
        "How should records reach your collector?",
    ] {
        w.answer(prompt, ENTER);
    }
    w.answer("OTLP/HTTP endpoint", "https://otel.example.com:4318\r");
    for prompt in [
        "OTLP protocol",
        "Auth header name",
        "Service name",
        "Lambda memory (MB)",
        "Lambda timeout (seconds)",
        "Lambda architecture",
        "Write ",
    ] {
        w.answer(prompt, ENTER);
    }
    w.wait_for("flowlogs setup");
    let (code, screen) = w.finish();
    assert_eq!(code, 0, "init failed:\n{screen}");

    let scripted = stack.dir().join("scripted.yaml");
    let out = stack
        .flowlogs()
        .args(["init", "--non-interactive", "--vpc-id", &prod])
        .args(["--endpoint", "https://otel.example.com:4318", "-c"])
        .arg(&scripted)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read_to_string(&path).unwrap();
    assert_eq!(std::fs::read_to_string(&scripted).unwrap(), written);
    assert!(
        written.contains("architecture: arm64"),
        "new configs default to arm64:\n{written}"
    );
    assert!(written.contains("  name: null\n") && written.contains("stack: main\n"));
}

fn no_file(path: &Path, screen: &str) {
    assert!(
        !path.exists(),
        "a cancelled run left {}:\n{screen}",
        path.display()
    );
    let dir = path.parent().unwrap();
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".init-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[tokio::test]
async fn ctrl_c_or_esc_at_a_prompt_leaves_no_file_and_exits_130() {
    let stack = Stack::start(&[Service::Moto]);
    account(&stack).await;
    let path = stack.dir().join("cancelled.yaml");
    let wizard = || {
        let mut cmd = stack.flowlogs();
        cmd.arg("init").arg("-c").arg(&path);
        Wizard::start(cmd)
    };

    // Ctrl-C at a list (dialoguer's select, after the account was listed).
    let mut w = wizard();
    w.answer("Stack name", "demo\r");
    w.answer("AWS region", ENTER);
    w.answer("What should be logged?", CTRL_C);
    w.wait_for("Cancelled: nothing was written.");
    let (code, screen) = w.finish();
    assert_eq!(code, 130, "Ctrl-C at a select:\n{screen}");
    no_file(&path, &screen);

    // Ctrl-C in a multi-select.
    let mut w = wizard();
    w.answer("Stack name", "demo\r");
    w.answer("AWS region", ENTER);
    w.answer("What should be logged?", ENTER);
    w.wait_for("VPCs to log");
    w.answer("staging", &format!("{SPACE}{CTRL_C}"));
    let (code, screen) = w.finish();
    assert_eq!(code, 130, "Ctrl-C at a multi-select:\n{screen}");
    no_file(&path, &screen);

    // Esc at a text question, half typed.
    let mut w = wizard();
    w.answer("Stack name", "dem");
    w.session.send(ESC).unwrap();
    w.wait_for("Cancelled: nothing was written.");
    let (code, screen) = w.finish();
    assert_eq!(code, 130, "Esc at a text question:\n{screen}");
    no_file(&path, &screen);

    // Ctrl-C at the very last question.
    let mut w = wizard();
    w.answer("Stack name", "demo\r");
    w.answer("AWS region", ENTER);
    w.answer("What should be logged?", &format!("{DOWN}{ENTER}")); // ids by hand
    w.answer("VPC ids", "vpc-0abc\r");
    for prompt in [
        "Traffic to log",
        "Record format",
        "Aggregation interval",
        "File format",
        "Hive-compatible partitions",
        "One folder per hour",
        "Where should the logs be stored?",
        "Bucket name",
        "Keep logs for how many days?",
        "How should records reach your collector?",
    ] {
        w.answer(prompt, ENTER);
    }
    w.answer("OTLP/HTTP endpoint", "https://otel.example.com:4318\r");
    for prompt in [
        "OTLP protocol",
        "Auth header name",
        "Service name",
        "Lambda memory (MB)",
        "Lambda timeout (seconds)",
        "Lambda architecture",
    ] {
        w.answer(prompt, ENTER);
    }
    w.answer("Write ", CTRL_C);
    let (code, screen) = w.finish();
    assert_eq!(code, 130, "Ctrl-C at the confirmation:\n{screen}");
    no_file(&path, &screen);
}

#[test]
fn without_a_terminal_init_never_prompts_and_says_how_to_run_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_flowlogs"))
        .arg("init")
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no terminal") && stderr.contains("--non-interactive"),
        "{stderr}"
    );
    assert!(!dir.path().join("flowlogs.yaml").exists());

    // --non-interactive names the flags it misses, and never overwrites without --force.
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_flowlogs"))
            .arg("init")
            .arg("--non-interactive")
            .args(args)
            .current_dir(dir.path())
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_DEFAULT_REGION")
            .env("AWS_REGION", "eu-west-1")
            .env("AWS_CONFIG_FILE", dir.path().join("none"))
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let out = run(&["--endpoint", "https://otel.example.com"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--vpc-id"));
    let out = run(&["--vpc-id", "vpc-0abc"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--endpoint"));
    let out = run(&[
        "--vpc-id",
        "vpc-0abc",
        "--endpoint",
        "https://otel.example.com",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first = std::fs::read_to_string(dir.path().join("flowlogs.yaml")).unwrap();
    assert!(first.contains("region: eu-west-1"));
    let out = run(&[
        "--vpc-id",
        "vpc-0def",
        "--endpoint",
        "https://otel.example.com",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("flowlogs.yaml")).unwrap(),
        first
    );
    let out = run(&[
        "--vpc-id",
        "vpc-0def",
        "--endpoint",
        "https://otel.example.com",
        "--force",
    ]);
    assert!(out.status.success());
    assert!(std::fs::read_to_string(dir.path().join("flowlogs.yaml"))
        .unwrap()
        .contains("vpc_ids: [vpc-0def]"));
}
