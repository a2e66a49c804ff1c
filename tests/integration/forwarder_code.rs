//! Where the function's code comes from, and how status knows it (issues 28 and 22 item 8).
//!
//! - The release archive, made the way `.ci/release` makes it but from the test build's deployer
//!   and forwarder (`.ci/release --package`, seconds), unpacked into an empty directory, deploys
//!   with no cargo, cargo-lambda or zig on `PATH`: verify passes, the function's `CodeSha256` is
//!   the embedded zip's, a second setup writes nothing, status is in sync.
//! - A build that carries no forwarder refuses, before any write and without compiling, and says
//!   how to get one; `--forwarder-from-source` outside a checkout says how to name one, and
//!   `--forwarder-source DIR` plans from that checkout wherever flowlogs runs.
//! - After `setup --forwarder-zip` (the demo's path), status is in sync; code changed behind
//!   flowlogs' back shows as a difference.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::config::StackConfig;
use crate::support::{
    assert_exit, fake_zip, fake_zip_bytes, printed, recorder, workspace_root, Service, Stack,
};
use sha2::{Digest, Sha256};

fn code_sha256(bytes: &[u8]) -> String {
    aws_smithy_types::base64::encode(Sha256::digest(bytes))
}

fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// Runs `program args -c config` against the stack with `PATH` = `path` only, in `cwd`.
fn run_in(
    stack: &Stack,
    program: &Path,
    cwd: &Path,
    path: &Path,
    args: &[&str],
) -> std::process::Output {
    let out = stack
        .command(program)
        .args(args)
        .current_dir(cwd)
        .env("PATH", path)
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .expect("flowlogs runs");
    eprintln!(
        "$ {} {} -> {:?}\n{}",
        program.display(),
        args.join(" "),
        out.status.code(),
        printed(&out)
    );
    out
}

async fn function_code_sha256(stack: &Stack, name: &str) -> String {
    let lambda = aws_sdk_lambda::Client::new(&stack.sdk_config().await);
    let f = lambda
        .get_function()
        .function_name(name)
        .send()
        .await
        .unwrap();
    f.configuration()
        .unwrap()
        .code_sha256()
        .unwrap()
        .to_string()
}

/// `.ci/release --package`: the debug deployer with the forwarder's x86_64 build appended.
fn release_archive(dist: &Path) -> PathBuf {
    let target = "x86_64-unknown-linux-gnu";
    let out = Command::new(workspace_root().join(".ci/release"))
        .args(["--package", target, env!("CARGO_BIN_EXE_flowlogs")])
        .arg(crate::support::forwarder_bootstrap())
        .env("FLOWLOGS_DIST", dist)
        .env("FLOWLOGS_RELEASE_GZIP_LEVEL", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run .ci/release --package");
    assert_exit(&out, 0);
    let archive = dist.join(format!("flowlogs-{}-{target}.tar.gz", version()));
    assert!(archive.is_file(), "{}", printed(&out));
    archive
}

#[tokio::test(flavor = "multi_thread")]
async fn the_release_archive_deploys_with_no_rust_toolchain_on_the_path() {
    let stack = Stack::start(&[Service::Moto, Service::Rotel, Service::Lambda]);
    let dist = tempfile::tempdir().unwrap();
    let archive = release_archive(dist.path());

    // The checksum file covers the archive and the forwarder zip.
    let sums = std::fs::read_to_string(dist.path().join("SHA256SUMS")).unwrap();
    let archive_sum = hex::encode(Sha256::digest(std::fs::read(&archive).unwrap()));
    let archive_name = archive.file_name().unwrap().to_str().unwrap();
    assert!(
        sums.contains(&format!("{archive_sum}  {archive_name}")),
        "{sums}"
    );
    let zip = std::fs::read(
        dist.path()
            .join(format!("flowlogs-forwarder-{}-x86_64.zip", version())),
    )
    .unwrap();
    let embedded = code_sha256(&zip);

    // Unpacked into an empty directory; PATH holds nothing (no cargo, cargo-lambda, zig).
    let home = tempfile::tempdir().unwrap();
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(home.path())
        .status()
        .unwrap();
    assert!(status.success());
    let unpacked = home
        .path()
        .join(format!("flowlogs-{}-x86_64-unknown-linux-gnu", version()));
    for file in [
        "flowlogs",
        "README.md",
        "LICENSE",
        "templates/flowlogs.yaml",
    ] {
        assert!(
            unpacked.join(file).is_file(),
            "{file} is not in the archive"
        );
    }
    let empty_path = home.path().join("bin");
    std::fs::create_dir(&empty_path).unwrap();
    let flowlogs = unpacked.join("flowlogs");

    let shown = run_in(&stack, &flowlogs, home.path(), &empty_path, &["--version"]);
    assert_exit(&shown, 0);
    let text = String::from_utf8_lossy(&shown.stdout).to_string();
    assert!(
        text.starts_with(&format!("flowlogs {}", version())),
        "{text}"
    );
    assert!(
        text.contains(&format!("forwarder x86_64 CodeSha256 {embedded}")),
        "{text}"
    );
    assert!(text.contains("forwarder arm64  none embedded"), "{text}");

    let vpc = stack.create_vpc("10.28.0.0/16").await;
    let cfg = StackConfig::lambda("rel", &vpc, &stack.otlp_endpoint).write(home.path());
    let cfg = cfg.to_str().unwrap();
    let setup = run_in(
        &stack,
        &flowlogs,
        home.path(),
        &empty_path,
        &["setup", "--yes", "-c", cfg],
    );
    assert_exit(&setup, 0);
    assert!(!printed(&setup).contains("cargo"), "{}", printed(&setup));
    assert_eq!(
        function_code_sha256(&stack, "flowlogs-rel-forwarder").await,
        embedded
    );

    recorder::start(&stack.moto_endpoint);
    let again = run_in(
        &stack,
        &flowlogs,
        home.path(),
        &empty_path,
        &["setup", "--yes", "--no-verify", "-c", cfg],
    );
    assert_exit(&again, 0);
    assert_eq!(
        recorder::writes(&stack.moto_endpoint),
        Vec::<String>::new(),
        "second setup must not write"
    );

    let status = run_in(
        &stack,
        &flowlogs,
        home.path(),
        &empty_path,
        &["status", "-c", cfg],
    );
    assert!(
        printed(&status).contains("In sync with the config."),
        "{}",
        printed(&status)
    );

    assert_exit(
        &run_in(
            &stack,
            &flowlogs,
            home.path(),
            &empty_path,
            &["teardown", "--yes", "-c", cfg],
        ),
        0,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_build_without_a_forwarder_says_how_to_get_one_and_writes_nothing() {
    let stack = Stack::start(&[Service::Moto]);
    let vpc = stack.create_vpc("10.29.0.0/16").await;
    let cfg = StackConfig::lambda("nofwd", &vpc, "http://127.0.0.1:4318").write(stack.dir());
    let empty_path = stack.dir().join("bin");
    std::fs::create_dir(&empty_path).unwrap();
    let flowlogs = Path::new(env!("CARGO_BIN_EXE_flowlogs"));

    let version = run_in(&stack, flowlogs, stack.dir(), &empty_path, &["--version"]);
    assert!(
        printed(&version).contains("forwarder: none embedded"),
        "{}",
        printed(&version)
    );

    recorder::start(&stack.moto_endpoint);
    let setup = run_in(
        &stack,
        flowlogs,
        stack.dir(),
        &empty_path,
        &["setup", "--yes", "-c", cfg.to_str().unwrap()],
    );
    assert_exit(&setup, 1);
    let said = printed(&setup);
    for hint in [
        "carries no forwarder",
        "--forwarder-zip",
        &format!(
            "flowlogs-forwarder-{}-x86_64.zip",
            env!("CARGO_PKG_VERSION")
        ),
        "--forwarder-from-source",
    ] {
        assert!(said.contains(hint), "missing {hint:?}: {said}");
    }
    assert!(!said.contains("building the forwarder"), "{said}");

    // --forwarder-from-source outside a checkout (the stack's directory): the sources are looked
    // for from the current directory, not where flowlogs was built, and the error says how to
    // name them.
    let from_source = run_in(
        &stack,
        flowlogs,
        stack.dir(),
        &empty_path,
        &[
            "setup",
            "--yes",
            "--forwarder-from-source",
            "-c",
            cfg.to_str().unwrap(),
        ],
    );
    assert_exit(&from_source, 1);
    let said = printed(&from_source);
    for hint in [
        "lambda/Cargo.toml",
        "--forwarder-source DIR",
        "--forwarder-zip",
    ] {
        assert!(said.contains(hint), "missing {hint:?}: {said}");
    }
    assert!(!said.contains("building the forwarder"), "{said}");
    assert_eq!(
        recorder::writes(&stack.moto_endpoint),
        Vec::<String>::new(),
        "nothing may be written"
    );

    // Named from elsewhere, the checkout is the one the plan builds from (known by its sources'
    // hash, so the plan compiles nothing).
    let plan = run_in(
        &stack,
        flowlogs,
        stack.dir(),
        &empty_path,
        &[
            "plan",
            "--forwarder-source",
            workspace_root().to_str().unwrap(),
            "-c",
            cfg.to_str().unwrap(),
        ],
    );
    assert_exit(&plan, 0);
    assert!(
        printed(&plan).contains("built from lambda/ ("),
        "{}",
        printed(&plan)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn after_setup_with_a_forwarder_zip_status_is_in_sync_until_the_code_changes_behind_it() {
    let stack = Stack::start(&[Service::Moto]);
    let vpc = stack.create_vpc("10.30.0.0/16").await;
    let cfg = StackConfig::lambda("zipped", &vpc, "http://127.0.0.1:4318").write(stack.dir());
    let zip = fake_zip(stack.dir());
    let setup = cfg.setup_zip(&stack, &zip);
    assert_exit(&setup, 0);

    // As the demo runs it: no flag, no forwarder in this build.
    let flowlogs = Path::new(env!("CARGO_BIN_EXE_flowlogs"));
    let cfg_arg = cfg.to_str().unwrap();
    let status = run_in(
        &stack,
        flowlogs,
        stack.dir(),
        stack.dir(),
        &["status", "-c", cfg_arg],
    );
    let shown = printed(&status);
    assert!(shown.contains("In sync with the config."), "{shown}");
    assert!(!shown.contains("differs"), "{shown}");

    // Someone uploads other code: status names the function and what setup uploaded.
    let lambda = aws_sdk_lambda::Client::new(&stack.sdk_config().await);
    lambda
        .update_function_code()
        .function_name("flowlogs-zipped-forwarder")
        .zip_file(fake_zip_bytes(b"not flowlogs' code").into())
        .send()
        .await
        .unwrap();
    let status = run_in(
        &stack,
        flowlogs,
        stack.dir(),
        stack.dir(),
        &["status", "-c", cfg_arg],
    );
    let shown = printed(&status);
    assert!(shown.contains("Out of sync"), "{shown}");
    let row = shown
        .lines()
        .position(|l| l.contains("lambda function"))
        .unwrap_or_else(|| panic!("{shown}"));
    assert!(
        shown
            .lines()
            .nth(row + 1)
            .unwrap()
            .contains("differs (code)"),
        "{shown}"
    );
    let plan = run_in(
        &stack,
        flowlogs,
        stack.dir(),
        stack.dir(),
        &["plan", "-c", cfg_arg],
    );
    let zip_sha = code_sha256(&std::fs::read(&zip).unwrap());
    assert!(
        printed(&plan).contains(&format!("{zip_sha} (what setup uploaded last)")),
        "{}",
        printed(&plan)
    );
}

/// Two builds of the forwarder from the same sources, in two fresh target directories, give the
/// same zip bytes (`.ci/release --reproducible`). Two release builds of the forwarder, minutes
/// each: on demand, `cargo test --test integration forwarder_code -- --ignored`.
#[test]
#[ignore = "two release builds of the forwarder: run on demand"]
fn two_builds_of_the_forwarder_give_the_same_zip() {
    let out = Command::new(workspace_root().join(".ci/release"))
        .arg("--reproducible")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run .ci/release --reproducible");
    assert_exit(&out, 0);
    assert!(
        printed(&out).contains("give the same zip"),
        "{}",
        printed(&out)
    );
}
