//! Shared harness of the integration tests: the local stack (`devstack/stack.py`) and the
//! `flowlogs` binary pointed at it (`crate::support` of the one integration binary); `config`
//! builds a test's `flowlogs.yaml` and runs `flowlogs` with it.
//!
//! ```ignore
//! let stack = Stack::start(&[Service::Moto, Service::Rotel, Service::Lambda]);
//! let out = stack.flowlogs().args(["setup", "--yes", "-c"]).arg(&config).output().unwrap();
//! let records = stack.wait_for_captured(3, Duration::from_secs(30));
//! ```
//!
//! The Python venv with moto, rotel and cargo-lambda comes from `FLOWLOGS_VENV` (default
//! `~/.cache/flowlogs/venv`, made by `.ci/install`). Set `FLOWLOGS_KEEP_STACK=1` to keep a
//! stack's directory (state, logs, capture) after the test.
#![allow(dead_code)]

pub mod config;
pub mod firehose_endpoint;
pub mod org;
pub mod recorder;
pub mod settle;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

/// moto's fixed account id.
pub const ACCOUNT_ID: &str = "123456789012";
/// The region every test uses.
pub const REGION: &str = "us-east-1";

/// A service of the local stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// moto server: the AWS APIs.
    Moto,
    /// rotel: an OpenTelemetry collector whose OTLP/HTTP receiver writes `capture_file`.
    Rotel,
    /// The forwarder under `cargo lambda watch`, behind a router that sends Lambda Invoke to
    /// it and every other call to moto (implies `Moto`; builds the forwarder once per run).
    Lambda,
    /// A front before rotel that records every request's headers (`devstack/otlp_front.py`):
    /// `otlp_endpoint` is then the front, `state()["otlp_requests_file"]` what it recorded
    /// (implies `Rotel`).
    OtlpHeaders,
    /// An HTTPS front before the AWS endpoint (`devstack/tls_front.py`): `state()["aws_tls_endpoint"]`,
    /// with a certificate signed by the authority in `state()["aws_tls_ca_file"]` (implies `Moto`).
    AwsTls,
    /// An HTTPS front before rotel (`devstack/tls_front.py`): `state()["otlp_tls_endpoint"]`, with
    /// a certificate signed by the authority in `state()["otlp_tls_ca_file"]` (implies `Rotel`).
    OtlpTls,
    /// A front before rotel that answers 415 to zstd requests (`devstack/otlp_front.py
    /// --refuse-encoding zstd`): `state()["otlp_no_zstd_endpoint"]`, each request recorded in
    /// `state()["otlp_no_zstd_requests_file"]` (implies `Rotel`).
    OtlpNoZstd,
}

impl Service {
    fn name(self) -> &'static str {
        match self {
            Service::Moto => "moto",
            Service::Rotel => "rotel",
            Service::Lambda => "lambda",
            Service::OtlpHeaders => "otlp-headers",
            Service::AwsTls => "aws-tls",
            Service::OtlpTls => "otlp-tls",
            Service::OtlpNoZstd => "otlp-no-zstd",
        }
    }
}

/// Which AWS behaviours the stack's AWS front shows (`devstack/behaviours.py`, described in
/// `devstack/README.md`), and how quickly: the eventual-consistency window and the delays
/// before an asynchronous invocation's retries.
///
/// ```ignore
/// let stack = Stack::start_with(&[Service::Moto], Behaviours::only(&["consistency-bucket"]).window(2.0));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Behaviours {
    /// `None`: whatever `FLOWLOGS_DEVSTACK_BEHAVIOURS` says, else the stack's default set.
    spec: Option<String>,
    window_secs: Option<f64>,
    retry_delays_secs: Option<Vec<f64>>,
    secret_deletion_window_secs: Option<f64>,
    session_secs: Option<f64>,
}

impl Behaviours {
    /// Every behaviour the stack knows.
    pub fn all() -> Behaviours {
        Behaviours::spec("all")
    }

    /// moto as it is (plus the fixes that are always on).
    pub fn none() -> Behaviours {
        Behaviours::spec("none")
    }

    /// What `FLOWLOGS_DEVSTACK_BEHAVIOURS` says, else the stack's default (what the product
    /// handles today). This is what `Stack::start` uses.
    pub fn from_env() -> Behaviours {
        Behaviours::default()
    }

    /// Exactly these behaviours (names of `devstack/behaviours.py`).
    pub fn only(names: &[&str]) -> Behaviours {
        Behaviours::spec(if names.is_empty() {
            "none".to_string()
        } else {
            names.join(",")
        })
    }

    /// A spec as `stack.py up --aws-behaviours` takes it (`all,-s3-events`, `default,name`).
    pub fn spec(spec: impl Into<String>) -> Behaviours {
        Behaviours {
            spec: Some(spec.into()),
            ..Behaviours::default()
        }
    }

    /// How long an eventual-consistency error lasts after its cause (default 2.5 s).
    pub fn window(mut self, seconds: f64) -> Behaviours {
        self.window_secs = Some(seconds);
        self
    }

    /// Delays before the two retries of a failed asynchronous invocation (Lambda: 60 s, 120 s).
    pub fn retry_delays(mut self, seconds: &[f64]) -> Behaviours {
        self.retry_delays_secs = Some(seconds.to_vec());
        self
    }

    /// How long a force-deleted secret lingers (`secrets-deletion-window`; default 10 s).
    pub fn secret_deletion_window(mut self, seconds: f64) -> Behaviours {
        self.secret_deletion_window_secs = Some(seconds);
        self
    }

    /// How long an assumed role's credentials last (`sts-session-expiry`; default: as asked).
    pub fn session_seconds(mut self, seconds: f64) -> Behaviours {
        self.session_secs = Some(seconds);
        self
    }

    fn apply(&self, cmd: &mut Command) {
        if let Some(seconds) = self.session_secs {
            cmd.env("FLOWLOGS_DEVSTACK_SESSION_SECONDS", seconds.to_string());
        }
        if let Some(window) = self.secret_deletion_window_secs {
            cmd.env(
                "FLOWLOGS_DEVSTACK_SECRET_DELETION_WINDOW",
                window.to_string(),
            );
        }
        if let Some(spec) = &self.spec {
            cmd.arg("--aws-behaviours").arg(spec);
        }
        if let Some(window) = self.window_secs {
            cmd.env("FLOWLOGS_DEVSTACK_CONSISTENCY_WINDOW", window.to_string());
        }
        if let Some(delays) = &self.retry_delays_secs {
            let text: Vec<String> = delays.iter().map(f64::to_string).collect();
            cmd.env("FLOWLOGS_DEVSTACK_RETRY_DELAYS", text.join(","));
        }
    }
}

/// The function's invocations as the router saw them (see [`Stack::invocations`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Invocations {
    /// Events queued for the function asynchronously (S3's, EventBridge's, `InvocationType:
    /// Event`).
    pub dispatched: usize,
    /// Of those, the ones that ended (succeeded, failed without another attempt, or dropped).
    pub finished: usize,
    /// Synchronous invocations (`RequestResponse`: verify's, backfill's, replay's) that ended.
    pub synchronous: usize,
}

/// A running local stack; stopped (every process) when dropped.
pub struct Stack {
    /// What the product talks to (`AWS_ENDPOINT_URL`): the router when Lambda is on, else moto.
    pub aws_endpoint: String,
    /// moto itself.
    pub moto_endpoint: String,
    /// rotel's OTLP/HTTP receiver, a base URL (clients append `/v1/logs`); empty without Rotel.
    pub otlp_endpoint: String,
    /// One JSON object per log record rotel received.
    pub capture_file: PathBuf,
    dir: Option<tempfile::TempDir>,
    state_dir: PathBuf,
    logs_dir: PathBuf,
    state: Value,
}

/// The workspace root (where `devstack/`, `lambda/` and `Cargo.toml` are).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Python venv with moto, rotel and cargo-lambda.
pub fn venv() -> PathBuf {
    match std::env::var_os("FLOWLOGS_VENV") {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => {
            let home = std::env::var_os("HOME").expect("HOME is not set");
            PathBuf::from(home).join(".cache/flowlogs/venv")
        }
    }
}

/// The venv's python, which runs `devstack/*.py`.
pub fn python() -> PathBuf {
    let python = venv().join("bin/python");
    assert!(
        python.exists(),
        "no Python venv at {} (FLOWLOGS_VENV): run .ci/install first",
        venv().display()
    );
    python
}

/// Cargo's target directory for this run.
pub fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        return if dir.is_absolute() {
            dir
        } else {
            workspace_root().join(dir)
        };
    }
    // <target>/<profile>/deps/<test binary>
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(Path::to_path_buf))
        .filter(|dir| dir.join("CACHEDIR.TAG").exists())
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// `PATH` with the venv's `bin` first (cargo-lambda and its zig live there).
pub fn path_with_venv() -> std::ffi::OsString {
    let mut paths = vec![venv().join("bin")];
    if let Some(path) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(paths).expect("PATH entries")
}

/// The forwarder's release `bootstrap` for x86_64, built with cargo-lambda once per test
/// process (cargo's own lock serialises builds of parallel test binaries; a second build is a
/// no-op). `FLOWLOGS_FORWARDER_BOOTSTRAP=path` uses a prebuilt binary instead.
pub fn forwarder_bootstrap() -> PathBuf {
    static BOOTSTRAP: OnceLock<PathBuf> = OnceLock::new();
    BOOTSTRAP
        .get_or_init(|| {
            if let Some(path) = std::env::var_os("FLOWLOGS_FORWARDER_BOOTSTRAP") {
                let path = PathBuf::from(path);
                assert!(
                    path.is_file(),
                    "FLOWLOGS_FORWARDER_BOOTSTRAP={}: no such file",
                    path.display()
                );
                return path;
            }
            let target = target_dir();
            let started = Instant::now();
            let mut cmd = Command::new(venv().join("bin/cargo-lambda"));
            drop_cargo_run_vars(&mut cmd);
            let out = cmd
                .args([
                    "lambda",
                    "build",
                    "--release",
                    "--x86-64",
                    "--manifest-path",
                ])
                .arg(workspace_root().join("lambda/Cargo.toml"))
                .env("CARGO_TARGET_DIR", &target)
                .env("PATH", path_with_venv())
                .stdin(std::process::Stdio::null())
                .output()
                .unwrap_or_else(|e| {
                    panic!(
                        "cannot run cargo-lambda from {} ({e}): run .ci/install",
                        venv().display()
                    )
                });
            assert!(
                out.status.success(),
                "cargo lambda build of the forwarder failed ({}):\n{}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            let path = target.join("lambda/bootstrap/bootstrap");
            assert!(
                path.is_file(),
                "cargo lambda build succeeded but {} is missing",
                path.display()
            );
            eprintln!(
                "forwarder built in {:.1?}: {}",
                started.elapsed(),
                path.display()
            );
            path
        })
        .clone()
}

/// Drops from `cmd` what `cargo test` sets for this process (`CARGO_MANIFEST_DIR`,
/// `CARGO_PKG_*`, `OUT_DIR`, ...; the deployer's `package::set_by_cargo_for_a_run` drops the same
/// set). ring's build script declares `rerun-if-env-changed` on several of them, so with them the
/// forwarder's release build here and `.ci/build`'s, run from a shell with the same arguments,
/// rebuilt ring, rustls, reqwest and the forwarder each after the other (112 s on 2 cores).
fn drop_cargo_run_vars(cmd: &mut Command) {
    const EXACT: [&str; 9] = [
        "CARGO",
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_CRATE_NAME",
        "CARGO_BIN_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "CARGO_RUSTC_CURRENT_DIR",
        "OUT_DIR",
    ];
    for (name, _) in std::env::vars_os() {
        if let Some(n) = name.to_str() {
            if EXACT.contains(&n) || n.starts_with("CARGO_PKG_") || n.starts_with("CARGO_BIN_EXE_")
            {
                cmd.env_remove(n);
            }
        }
    }
}

impl Stack {
    /// Starts the given services on free loopback ports and waits until each answers, with the
    /// AWS behaviours `FLOWLOGS_DEVSTACK_BEHAVIOURS` names (else the stack's default set).
    /// Panics with the failing service's log on failure.
    pub fn start(services: &[Service]) -> Stack {
        Stack::start_with(services, Behaviours::from_env())
    }

    /// `start` with a chosen set of AWS behaviours.
    pub fn start_with(services: &[Service], behaviours: Behaviours) -> Stack {
        let bootstrap = services
            .contains(&Service::Lambda)
            .then(forwarder_bootstrap);
        let dir = tempfile::Builder::new()
            .prefix("flowlogs-stack-")
            .tempdir()
            .expect("create a temporary directory for the stack");
        let names: Vec<&str> = services.iter().map(|s| s.name()).collect();
        let mut cmd = Command::new(python());
        cmd.arg(workspace_root().join("devstack/stack.py"))
            .args(["up", "--state"])
            .arg(dir.path())
            .arg("--services")
            .arg(names.join(","))
            .stdin(std::process::Stdio::null());
        if let Some(bootstrap) = &bootstrap {
            cmd.arg("--bootstrap").arg(bootstrap);
        }
        behaviours.apply(&mut cmd);
        let out = cmd.output().expect("run devstack/stack.py up");
        if !out.status.success() {
            panic!(
                "devstack up --services {} failed ({}):\n{}{}",
                names.join(","),
                out.status,
                String::from_utf8_lossy(&out.stderr),
                String::from_utf8_lossy(&out.stdout)
            );
        }
        let state: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "devstack up printed no state JSON ({e}):\n{}",
                String::from_utf8_lossy(&out.stdout)
            )
        });
        let text = |key: &str| state[key].as_str().unwrap_or_default().to_string();
        Stack {
            aws_endpoint: text("aws_endpoint"),
            moto_endpoint: text("moto_endpoint"),
            otlp_endpoint: text("otlp_endpoint"),
            capture_file: PathBuf::from(text("capture_file")),
            state_dir: dir.path().to_path_buf(),
            logs_dir: PathBuf::from(text("logs_dir")),
            dir: Some(dir),
            state,
        }
    }

    /// The stack's own temporary directory: a good place for config files of the test.
    pub fn dir(&self) -> &Path {
        &self.state_dir
    }

    /// The AWS behaviours this stack shows (`aws_behaviours` of state.json).
    pub fn aws_behaviours(&self) -> Vec<String> {
        self.state["aws_behaviours"]
            .as_array()
            .map(|names| {
                names
                    .iter()
                    .filter_map(|n| n.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The parsed `state.json` (pids, endpoints, logs_dir, ...).
    pub fn state(&self) -> &Value {
        &self.state
    }

    /// The log records rotel received so far (complete lines of the capture file), without the
    /// harness's own markers (see [`Stack::wait_for_collector`]).
    pub fn captured(&self) -> Vec<Value> {
        self.captured_with_markers()
            .into_iter()
            .filter(|r| r["scope"] != MARKER_SCOPE)
            .collect()
    }

    fn captured_with_markers(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(&self.capture_file).unwrap_or_default();
        let complete = match text.rfind('\n') {
            Some(end) => &text[..end],
            None => "",
        };
        complete
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                serde_json::from_str(line).unwrap_or_else(|e| {
                    panic!(
                        "bad capture line in {}: {e}: {line}",
                        self.capture_file.display()
                    )
                })
            })
            .collect()
    }

    /// Waits until at least `n` records arrived; panics with what did arrive and rotel's log.
    pub fn wait_for_captured(&self, n: usize, timeout: Duration) -> Vec<Value> {
        let started = Instant::now();
        loop {
            let records = self.captured();
            if records.len() >= n {
                return records;
            }
            if started.elapsed() > timeout {
                panic!(
                    "expected at least {n} log records in the collector within {timeout:?}, got {}:\n{}\n{}",
                    records.len(),
                    records.iter().map(Value::to_string).collect::<Vec<_>>().join("\n"),
                    self.log_tails()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for `n` records, then until the forwarder has finished every invocation S3 events
    /// started (`wait_until_idle`), and checks that no more than `n` arrived.
    pub fn wait_for_exactly(&self, n: usize, timeout: Duration) -> Vec<Value> {
        let started = Instant::now();
        self.wait_for_captured(n, timeout);
        self.wait_until_idle(timeout.saturating_sub(started.elapsed()));
        self.wait_for_collector(timeout.saturating_sub(started.elapsed()));
        let records = self.captured();
        assert_eq!(
            records.len(),
            n,
            "expected exactly {n} log records in the collector once the forwarder finished, got {}:\n{}",
            records.len(),
            records
                .iter()
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        );
        records
    }

    /// What the router's log says of the function's invocations so far: async events queued
    /// (`async invoke of F: queued`), the async attempts that ended (`invoke F (Event) ->
    /// status`, less the attempts retried, plus the events dropped because the function was
    /// gone), and apart from them the synchronous invokes that ended (`invoke F
    /// (RequestResponse) -> status`), which end inside the `flowlogs` command that made them.
    /// The lines are written by `devstack/async_invoke.py` (`queued_line`) and
    /// `devstack/lambda_runtime.py` (`invoke_line`).
    pub fn invocations(&self) -> Invocations {
        let text = std::fs::read_to_string(self.logs_dir.join("router.log")).unwrap_or_default();
        let mut seen = Invocations::default();
        for line in text.lines() {
            // "HH:MM:SS message"
            let message = line.split_once(' ').map_or(line, |(_, m)| m);
            if message.starts_with("async invoke of ") && message.ends_with(": queued") {
                seen.dispatched += 1;
            } else if message.starts_with("invoke ") && message.contains(" (Event) -> ") {
                seen.finished += 1;
            } else if message.starts_with("invoke ") && message.contains(" (RequestResponse) -> ") {
                seen.synchronous += 1;
            } else if message.starts_with("async invoke of ") && message.ends_with("retrying") {
                seen.finished = seen.finished.saturating_sub(1);
            } else if message.starts_with("async invoke: ") && message.ends_with("event dropped") {
                seen.finished += 1;
            }
        }
        seen
    }

    /// Waits until no async event is left unfinished (see [`Stack::invocations`]); panics, with the
    /// counts and the logs, after `timeout`. A stack without the Lambda service is always idle.
    pub fn wait_until_idle(&self, timeout: Duration) -> Invocations {
        let started = Instant::now();
        loop {
            let seen = self.invocations();
            if seen.finished >= seen.dispatched {
                return seen;
            }
            if started.elapsed() > timeout {
                panic!(
                    "the forwarder did not finish the invocations S3 events started within {timeout:?}: {} dispatched, {} finished\n{}",
                    seen.dispatched,
                    seen.finished,
                    self.log_tails()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends the collector a marker record and waits until it is in the capture file: rotel
    /// writes what it received in order, so every record sent before now is there too. The
    /// marker (scope [`MARKER_SCOPE`]) is left out of [`Stack::captured`].
    pub fn wait_for_collector(&self, timeout: Duration) {
        if self.otlp_endpoint.is_empty() {
            return;
        }
        static MARKERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let id = format!(
            "marker-{}-{}",
            std::process::id(),
            MARKERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let body = serde_json::json!({"resourceLogs": [{"resource": {"attributes": []},
            "scopeLogs": [{"scope": {"name": MARKER_SCOPE},
                "logRecords": [{"body": {"stringValue": id}}]}]}]})
        .to_string();
        let status = post_json(&format!("{}/v1/logs", self.otlp_endpoint), &body);
        assert!(
            status.starts_with("HTTP/1.1 200"),
            "the collector refused the harness's marker: {status}"
        );
        let started = Instant::now();
        while !self
            .captured_with_markers()
            .iter()
            .any(|r| r["scope"] == MARKER_SCOPE && r["body"] == id.as_str())
        {
            assert!(
                started.elapsed() < timeout,
                "the collector did not write the harness's marker within {timeout:?}\n{}",
                self.log_tails()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// An EC2 client of the stack.
    pub async fn ec2(&self) -> flowlogs_aws_lite::ec2::Ec2 {
        flowlogs_aws_lite::ec2::Ec2::new(&self.sdk_config().await)
    }

    /// A new VPC in the stack's EC2 (flow logs need one), its id.
    pub async fn create_vpc(&self, cidr: &str) -> String {
        flowlogs_aws_lite::ec2::Ec2::new(&self.sdk_config().await)
            .create_vpc(cidr, &[])
            .await
            .unwrap()
            .id
    }

    /// The `flowlogs` binary with the stack's endpoint and dummy credentials; the venv's
    /// `bin` is first on `PATH` (cargo-lambda) and no AWS profile or config file is read.
    /// The test build carries no forwarder (a release binary does: `.ci/release`), so `setup`
    /// builds it from `lambda/` as `--forwarder-from-source` asks (`FLOWLOGS_FORWARDER_FROM_SOURCE`;
    /// cargo-lambda finds the tests' own release build of it, a no-op); a `--forwarder-zip` wins.
    pub fn flowlogs(&self) -> Command {
        let mut cmd = self.command(Path::new(env!("CARGO_BIN_EXE_flowlogs")));
        cmd.env("FLOWLOGS_FORWARDER_FROM_SOURCE", "true")
            .env("CARGO_TARGET_DIR", target_dir())
            .env("PATH", path_with_venv());
        cmd
    }

    /// `program` with the stack's endpoint and dummy credentials, no AWS profile or config file,
    /// and nothing else of the test's environment that would choose the forwarder's code.
    pub fn command(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        for var in [
            "AWS_PROFILE",
            "AWS_DEFAULT_PROFILE",
            "AWS_SESSION_TOKEN",
            "AWS_DEFAULT_REGION",
            "AWS_ROLE_ARN",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("AWS_ENDPOINT_URL", &self.aws_endpoint)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", REGION)
            .env("AWS_CONFIG_FILE", self.state_dir.join("no-aws-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.state_dir.join("no-aws-credentials"),
            )
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("FLOWLOGS_FORWARDER_FROM_SOURCE")
            .env_remove("FLOWLOGS_FORWARDER_SOURCE")
            .stdin(std::process::Stdio::null());
        cmd
    }

    /// Runs `flowlogs ARGS -c CONFIG` with `env` added, and echoes what it printed to the test
    /// log (shown when the test fails).
    pub fn run(&self, config: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = self.flowlogs();
        cmd.args(args).arg("-c").arg(config);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let started = Instant::now();
        let out = cmd.output().expect("flowlogs runs");
        eprintln!(
            "$ flowlogs {} -> {:?} in {:.1?}\n{}",
            args.join(" "),
            out.status.code(),
            started.elapsed(),
            printed(&out)
        );
        out
    }

    /// SDK configuration for reading back what `flowlogs` did (same endpoint and credentials).
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(flowlogs_forwarder::aws_http::client())
            .endpoint_url(&self.aws_endpoint)
            .region(aws_config::Region::new(REGION))
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "test", "test", None, None, "devstack",
            ))
            .load()
            .await
    }

    /// Every error the stack's AWS front injected so far, in order, as `"<status> <operation or
    /// method> <path>"` (from the router's log, e.g. `404 PUT /bucket?tagging`,
    /// `409 AddPermission /2015-03-31/functions/f/policy`): proof that a behaviour fired, and so
    /// that the product got past it.
    pub fn injected(&self) -> Vec<String> {
        let text = std::fs::read_to_string(self.logs_dir.join("router.log")).unwrap_or_default();
        text.lines()
            .filter_map(|line| line.split_once(" injected ").map(|(_, rest)| rest))
            .map(|rest| rest.replacen(" for ", " ", 1))
            .collect()
    }

    /// Whether an injected error starts with `prefix` (see [`Stack::injected`]).
    pub fn was_injected(&self, prefix: &str) -> bool {
        self.injected().iter().any(|line| line.starts_with(prefix))
    }

    /// The tail of every service log (moto, rotel, router, lambda-watch, forwarder).
    pub fn log_tails(&self) -> String {
        let mut out = String::new();
        let Ok(entries) = std::fs::read_dir(&self.logs_dir) else {
            return out;
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let tail = &lines[lines.len().saturating_sub(40)..];
            out.push_str(&format!(
                "--- {} (last {} lines) ---\n{}\n",
                path.display(),
                tail.len(),
                tail.join("\n")
            ));
        }
        out
    }

    /// Stops every process of the stack (also done on drop).
    pub fn stop(&mut self) {
        let Some(python) = Some(venv().join("bin/python")).filter(|p| p.exists()) else {
            return;
        };
        let out = Command::new(python)
            .arg(workspace_root().join("devstack/stack.py"))
            .args(["down", "--state"])
            .arg(&self.state_dir)
            .stdin(std::process::Stdio::null())
            .output();
        match out {
            Ok(out) if out.status.success() => {}
            Ok(out) => eprintln!(
                "devstack down failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(e) => eprintln!("devstack down could not run: {e}"),
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let _ = writeln!(std::io::stderr(), "local stack logs:\n{}", self.log_tails());
        }
        self.stop();
        if std::env::var_os("FLOWLOGS_KEEP_STACK").is_some() {
            if let Some(dir) = self.dir.take() {
                let kept = dir.keep();
                eprintln!("kept the stack directory {}", kept.display());
            }
        }
    }
}

/// The scope of the harness's marker records (see [`Stack::wait_for_collector`]).
pub const MARKER_SCOPE: &str = "flowlogs-tests-marker";

/// POSTs a JSON body to an `http://` URL on loopback; the response's status line.
fn post_json(url: &str, body: &str) -> String {
    use std::io::Read as _;
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut stream = std::net::TcpStream::connect(host)
        .unwrap_or_else(|e| panic!("cannot connect to {host}: {e}"));
    stream.set_read_timeout(Some(Duration::from_secs(30))).ok();
    write!(
        stream,
        "POST /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.lines().next().unwrap_or_default().to_string()
}

/// Puts SSE-KMS default encryption on `bucket` with `key` (a key id or a key ARN) as its
/// `KMSMasterKeyID`.
/// The keys under `prefix` in `bucket` (the first page of ListObjectsV2: a test's few objects).
pub async fn keys_under(s3: &aws_sdk_s3::Client, bucket: &str, prefix: &str) -> Vec<String> {
    s3.list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .send()
        .await
        .unwrap()
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_string))
        .collect()
}

/// The whole body of the object `key` in `bucket`.
pub async fn object_bytes(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Vec<u8> {
    s3.get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .to_vec()
}

pub async fn encrypt_with_kms(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) {
    use aws_sdk_s3::types::{
        ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
        ServerSideEncryptionRule,
    };
    let by_default = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::AwsKms)
        .kms_master_key_id(key)
        .build()
        .unwrap();
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(by_default)
        .build();
    s3.put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(rule)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `data` gzip-compressed, as flow logs are delivered.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

/// A stand-in deployment package holding a `bootstrap` with `contents`: moto stores code
/// without running it.
pub fn fake_zip_bytes(contents: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut bytes = Vec::new();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(&mut bytes));
    zip.start_file("bootstrap", zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(contents).unwrap();
    zip.finish().unwrap();
    bytes
}

/// [`fake_zip_bytes`] written to `dir/forwarder.zip`, for `--forwarder-zip`.
pub fn fake_zip(dir: &Path) -> PathBuf {
    let path = dir.join("forwarder.zip");
    std::fs::write(&path, fake_zip_bytes(b"#!/bin/sh\n")).unwrap();
    path
}

/// An OTLP endpoint on loopback that refuses every request with 400 (a bad request is never
/// retried by the forwarder); serves up to 200 connections.
pub fn refusing_endpoint() -> String {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten().take(200) {
            stream
                .set_read_timeout(Some(std::time::Duration::from_secs(5)))
                .ok();
            let mut buffer = [0u8; 65536];
            let _ = stream.read(&mut buffer);
            let body = "{\"message\":\"refused by test\"}";
            let _ = write!(
                stream,
                "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{address}")
}

/// What a command printed: stdout, then stderr.
pub fn printed(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Asserts a command's exit code, showing what it printed when the code differs.
pub fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "unexpected exit:\n{}",
        printed(out)
    );
}

/// A CreateFlowLogs of one VPC's `traffic` (`ALL`, `REJECT`...) to an S3 `destination` (an ARN),
/// as someone other than flowlogs would make it.
pub fn s3_flow_log(
    vpc: &str,
    traffic: &str,
    destination: &str,
) -> flowlogs_aws_lite::ec2::CreateFlowLogs {
    flowlogs_aws_lite::ec2::CreateFlowLogs {
        resource_ids: vec![vpc.to_string()],
        resource_type: "VPC".into(),
        traffic_type: Some(traffic.into()),
        log_destination_type: Some("s3".into()),
        log_destination: Some(destination.into()),
        ..Default::default()
    }
}
