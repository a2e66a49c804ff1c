//! The forwarder's deployment package: the zip this release binary carries for the function's
//! architecture (`crate::embedded`), or a `--forwarder-zip`, or built from `lambda/` with
//! cargo-lambda (`--forwarder-from-source`, the checkout found by `crate::forwarder_source`) and zipped with fixed timestamps and mode so the same
//! binary always gives the same `CodeSha256`. A build that carries none compiles nothing unasked.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use tokio::sync::Mutex;

use crate::config::Architecture;
use crate::desired::WantedCode;
use crate::embedded::Forwarders;
use crate::ui::Progress;

/// Where the function's code comes from, chosen once per run (see `cli::CodeArgs`).
enum Origin {
    /// The zips this release binary carries (`crate::embedded`).
    Embedded(&'static Forwarders),
    /// `--forwarder-zip`: one zip, whatever the architecture.
    Zip { path: PathBuf, bytes: Vec<u8> },
    /// `--forwarder-from-source`: built from this `lambda/` with cargo-lambda; known until then
    /// by the hash of its sources (`crate::forwarder_source::source_hash`).
    Source { dir: PathBuf, hash: String },
    /// A build without embedded zips and no flag: only what is deployed can be compared.
    Unavailable,
}

/// The function's code for this run: its identity for the plan, and its bytes for apply (built at
/// most once per run and architecture, only when needed).
pub struct CodeSource {
    origin: Origin,
    built: Mutex<Vec<(Architecture, Vec<u8>)>>,
}

/// Lambda's identity of a deployment package: `CodeSha256`, the base64 SHA-256 of the zip.
pub fn code_sha256(zip: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    aws_smithy_types::base64::encode(Sha256::digest(zip))
}

/// What `flowlogs --version` prints: the deployer's version, then the forwarder each architecture
/// would get, by the `CodeSha256` Lambda will report for it.
pub fn version_text() -> String {
    let mut text = env!("CARGO_PKG_VERSION").to_string();
    match crate::embedded::this_binary() {
        Ok(f) if f.is_empty() => text.push_str(
            "\nforwarder: none embedded (a build from source: setup takes --forwarder-zip or --forwarder-from-source)",
        ),
        Ok(f) => {
            for architecture in [Architecture::X86_64, Architecture::Arm64] {
                let identity = f
                    .get(architecture)
                    .map(|zip| format!("CodeSha256 {}", code_sha256(zip)))
                    .unwrap_or_else(|| "none embedded".into());
                text.push_str(&format!(
                    "\nforwarder {:<6} {identity}",
                    architecture.as_aws()
                ));
            }
        }
        Err(e) => text.push_str(&format!("\nforwarder: {e}")),
    }
    text
}

impl CodeSource {
    /// The source `--forwarder-zip` / `--forwarder-from-source` name, else the zips this binary
    /// carries, else none (status, verify and teardown take no flag: they get the binary's own).
    pub fn new(
        zip: Option<PathBuf>,
        from_source: bool,
        source_dir: Option<PathBuf>,
    ) -> Result<CodeSource> {
        let origin = if let Some(path) = zip {
            let bytes = std::fs::read(&path)
                .with_context(|| format!("reading the forwarder zip {}", path.display()))?;
            Origin::Zip { path, bytes }
        } else if from_source || source_dir.is_some() {
            let cwd = std::env::current_dir().context("reading the current directory")?;
            let dir = crate::forwarder_source::locate(source_dir.as_deref(), &cwd)
                .map_err(anyhow::Error::msg)?;
            let hash = crate::forwarder_source::source_hash(&dir);
            Origin::Source { dir, hash }
        } else {
            let embedded = crate::embedded::this_binary()?;
            if embedded.is_empty() {
                Origin::Unavailable
            } else {
                Origin::Embedded(embedded)
            }
        };
        Ok(CodeSource {
            origin,
            built: Mutex::new(Vec::new()),
        })
    }

    /// No code at all: for teardown, which uploads none.
    pub fn none() -> CodeSource {
        CodeSource {
            origin: Origin::Unavailable,
            built: Mutex::new(Vec::new()),
        }
    }

    /// The code the function should run on `architecture`, as the plan compares it.
    pub fn wanted(&self, architecture: Architecture) -> WantedCode {
        match &self.origin {
            Origin::Embedded(f) => match f.get(architecture) {
                Some(zip) => WantedCode::Zip {
                    sha256: code_sha256(zip),
                },
                None => WantedCode::Deployed,
            },
            Origin::Zip { bytes, .. } => WantedCode::Zip {
                sha256: code_sha256(bytes),
            },
            Origin::Source { hash, .. } => WantedCode::Source {
                source_hash: format!("{hash}-{}", architecture.as_aws()),
            },
            Origin::Unavailable => WantedCode::Deployed,
        }
    }

    /// Fails, before anything is written, when setup must upload code for `architecture` and
    /// this run has none to upload; says how to get it.
    pub fn require(&self, architecture: Architecture) -> Result<()> {
        let arch = architecture.as_aws();
        let version = env!("CARGO_PKG_VERSION");
        match &self.origin {
            Origin::Embedded(f) if f.get(architecture).is_none() => bail!(
                "the Lambda function needs new code for {arch}, and this flowlogs carries a \
                 forwarder for other architectures only: pass --forwarder-zip with \
                 flowlogs-forwarder-{version}-{arch}.zip from the release, or change \
                 `delivery.lambda.architecture` in the config"
            ),
            Origin::Unavailable => bail!(
                "the Lambda function needs new code for {arch}, and this flowlogs carries no \
                 forwarder (a build from source: `cargo build` and `cargo install` embed none). \
                 Pass --forwarder-zip with flowlogs-forwarder-{version}-{arch}.zip from the \
                 release, or --forwarder-from-source to build lambda/ here (needs cargo-lambda \
                 and zig: pip install cargo-lambda), or use a release binary (`flowlogs \
                 --version` lists the forwarders a binary carries)"
            ),
            _ => Ok(()),
        }
    }

    /// The zip to upload, checked against Lambda's direct-upload limit.
    pub async fn zip(&self, architecture: Architecture, progress: &Progress) -> Result<Vec<u8>> {
        self.require(architecture)?;
        let zip = self.zip_unchecked(architecture, progress).await?;
        let origin = match &self.origin {
            Origin::Zip { path, .. } => format!("the forwarder zip {}", path.display()),
            Origin::Embedded(_) => format!(
                "the forwarder this flowlogs carries for {}",
                architecture.as_aws()
            ),
            _ => format!("the forwarder built for {}", architecture.as_aws()),
        };
        check_direct_upload_size(zip.len(), &origin)?;
        Ok(zip)
    }

    async fn zip_unchecked(
        &self,
        architecture: Architecture,
        progress: &Progress,
    ) -> Result<Vec<u8>> {
        let dir = match &self.origin {
            Origin::Zip { bytes, .. } => return Ok(bytes.clone()),
            Origin::Embedded(f) => {
                return f
                    .get(architecture)
                    .map(<[u8]>::to_vec)
                    .context("no embedded forwarder for this architecture")
            }
            Origin::Unavailable => bail!("no forwarder to upload"),
            Origin::Source { dir, .. } => dir.clone(),
        };
        let mut built = self.built.lock().await;
        if let Some((_, zip)) = built.iter().find(|(a, _)| *a == architecture) {
            return Ok(zip.clone());
        }
        let spinner = progress.spinner(&format!(
            "building the forwarder for {} with cargo-lambda (the first build takes a few minutes)",
            architecture.as_aws()
        ));
        let result = tokio::task::spawn_blocking(move || build(&dir, architecture)).await?;
        match result {
            Ok(binary) => {
                spinner.finish("✓");
                let zip = zip_bootstrap(
                    &std::fs::read(&binary)
                        .with_context(|| format!("reading {}", binary.display()))?,
                )?;
                built.push((architecture, zip.clone()));
                Ok(zip)
            }
            Err(e) => {
                spinner.finish("✗");
                Err(e)
            }
        }
    }
}

/// Runs `cargo lambda build --release` and returns the path of the `bootstrap` binary.
fn build(forwarder_dir: &Path, architecture: Architecture) -> Result<PathBuf> {
    let manifest = forwarder_dir.join("Cargo.toml");
    if !manifest.exists() {
        bail!(
            "the forwarder sources are not at {}: pass --forwarder-zip with a prebuilt zip",
            forwarder_dir.display()
        );
    }
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| forwarder_dir.join("..").join("target"));
    let lambda_dir = target_dir
        .join("flowlogs-lambda")
        .join(architecture.as_aws());
    let arch_flag = match architecture {
        Architecture::X86_64 => "--x86-64",
        Architecture::Arm64 => "--arm64",
    };
    let mut command = Command::new("cargo");
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(set_by_cargo_for_a_run) {
            command.env_remove(name);
        }
    }
    let output = command
        .args(["lambda", "build", "--release", arch_flag, "--bin", "bootstrap", "--manifest-path"])
        .arg(&manifest)
        .arg("--lambda-dir")
        .arg(&lambda_dir)
        .output()
        .context("running `cargo lambda build`: install cargo-lambda (pip install cargo-lambda), or pass --forwarder-zip")?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr
            .lines()
            .rev()
            .take(20)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let hint = if stderr.contains("no such command") || stderr.contains("no such subcommand") {
            "\ncargo-lambda is not installed: pip install cargo-lambda (it brings zig), or pass --forwarder-zip"
        } else if architecture == Architecture::Arm64
            && stderr.contains("target may not be installed")
        {
            "\nrun `rustup target add aarch64-unknown-linux-gnu` for arm64 builds"
        } else {
            ""
        };
        bail!("building the forwarder failed:\n{}{hint}", tail.join("\n"));
    }
    let binary = lambda_dir.join("bootstrap").join("bootstrap");
    if !binary.exists() {
        bail!(
            "cargo lambda build succeeded but {} is missing",
            binary.display()
        );
    }
    Ok(binary)
}

/// The variables cargo sets for a program it runs (`cargo run`, `cargo test`), none of which the
/// forwarder's build should see. ring's build script declares `rerun-if-env-changed` on some
/// (`CARGO_MANIFEST_DIR`, `CARGO_PKG_NAME`, `OUT_DIR`, ...), which cargo compares with its own
/// environment: inherited, they make this build and `cargo lambda build` run from a shell
/// (`.ci/build`) rebuild ring, rustls and everything above them (minutes) each after the other.
/// The integration tests' harness drops the same set (`support::forwarder_bootstrap`).
fn set_by_cargo_for_a_run(name: &str) -> bool {
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
    EXACT.contains(&name) || name.starts_with("CARGO_PKG_") || name.starts_with("CARGO_BIN_EXE_")
}

/// Lambda takes a zip of at most 50 MB in the CreateFunction / UpdateFunctionCode request itself
/// ("Lambda quotas": deployment package, zipped, for direct upload).
pub const DIRECT_UPLOAD_LIMIT_BYTES: usize = 50 * 1024 * 1024;

/// Refuses, before any upload, a zip Lambda would refuse: flowlogs uploads the code directly and
/// has no S3 upload path.
pub fn check_direct_upload_size(bytes: usize, origin: &str) -> Result<()> {
    if bytes <= DIRECT_UPLOAD_LIMIT_BYTES {
        return Ok(());
    }
    let mib = |b: usize| b as f64 / (1024.0 * 1024.0);
    bail!(
        "{origin} is {:.1} MB zipped, above the {:.0} MB Lambda accepts in a direct upload; \
         flowlogs uploads the code directly (uploading it through S3 is not implemented): \
         build a smaller zip (a release build, stripped: `cargo lambda build --release`) \
         and pass it with --forwarder-zip",
        mib(bytes),
        mib(DIRECT_UPLOAD_LIMIT_BYTES)
    )
}

/// A zip with the single entry `bootstrap`, mode 755, timestamp 1980-01-01: same binary, same bytes.
pub fn zip_bootstrap(binary: &[u8]) -> Result<Vec<u8>> {
    let mut buffer = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buffer);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default())
            .unix_permissions(0o755);
        zip.start_file("bootstrap", options)?;
        zip.write_all(binary)?;
        zip.finish()?;
    }
    Ok(buffer.into_inner())
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn same_binary_gives_the_same_zip() {
        let a = zip_bootstrap(b"\x7fELF binary").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let b = zip_bootstrap(b"\x7fELF binary").unwrap();
        assert_eq!(a, b);
        assert_ne!(a, zip_bootstrap(b"\x7fELF other").unwrap());
    }

    #[test]
    fn a_zip_above_the_direct_upload_limit_is_refused_with_what_to_do() {
        assert!(check_direct_upload_size(DIRECT_UPLOAD_LIMIT_BYTES, "z").is_ok());
        let err =
            check_direct_upload_size(DIRECT_UPLOAD_LIMIT_BYTES + 1, "the forwarder zip f.zip")
                .unwrap_err()
                .to_string();
        assert!(err.contains("the forwarder zip f.zip is 50.0 MB"), "{err}");
        assert!(err.contains("50 MB"), "{err}");
        assert!(err.contains("through S3 is not implemented"), "{err}");
        assert!(err.contains("--forwarder-zip"), "{err}");
    }

    #[tokio::test]
    async fn a_prebuilt_zip_too_large_is_refused_before_any_upload() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.zip");
        let file = std::fs::File::create(&path).unwrap();
        file.set_len(DIRECT_UPLOAD_LIMIT_BYTES as u64 + 4096)
            .unwrap();
        let code = CodeSource::new(Some(path), false, None).unwrap();
        let err = code
            .zip(Architecture::Arm64, &Progress::quiet())
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("big.zip is 50.0 MB zipped"), "{err}");
    }

    #[test]
    fn the_forwarder_build_drops_what_cargo_sets_for_a_run_and_keeps_the_users_cargo_settings() {
        for name in [
            "CARGO",
            "CARGO_MANIFEST_DIR",
            "CARGO_PKG_NAME",
            "CARGO_PKG_VERSION_MAJOR",
            "CARGO_BIN_EXE_flowlogs",
            "CARGO_TARGET_TMPDIR",
            "OUT_DIR",
        ] {
            assert!(set_by_cargo_for_a_run(name), "{name}");
        }
        for name in [
            "CARGO_HOME",
            "CARGO_TARGET_DIR",
            "CARGO_BUILD_JOBS",
            "CARGO_INCREMENTAL",
            "CARGO_NET_OFFLINE",
            "RUSTFLAGS",
            "PATH",
        ] {
            assert!(!set_by_cargo_for_a_run(name), "{name}");
        }
    }

    #[test]
    fn zip_holds_an_executable_bootstrap() {
        let bytes = zip_bootstrap(b"payload").unwrap();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(archive.len(), 1);
        let mut entry = archive.by_name("bootstrap").unwrap();
        assert_eq!(entry.unix_mode().unwrap() & 0o777, 0o755);
        let mut content = Vec::new();
        entry.read_to_end(&mut content).unwrap();
        assert_eq!(content, b"payload");
    }
}
