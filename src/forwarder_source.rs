//! Where `--forwarder-from-source` finds the forwarder's sources (`lambda/` of a flowlogs
//! checkout), and the hash of those sources that tags a function built from them
//! (`flowlogs:code-hash`). Both are worked out at run time from the directory found, never baked
//! in at build time, so a flowlogs binary copied elsewhere builds (and compares) the checkout it is
//! run in or pointed at.

use std::path::{Path, PathBuf};

/// The package name `lambda/Cargo.toml` declares: tells the forwarder's manifest from any other.
const PACKAGE: &str = "flowlogs-forwarder";

/// The forwarder's source directory (the one holding its `Cargo.toml`), absolute.
/// - `explicit` (`--forwarder-source DIR`, `FLOWLOGS_FORWARDER_SOURCE`): a flowlogs checkout or
///   its `lambda/` directory;
/// - otherwise `cwd` or the nearest directory above it that is a flowlogs checkout (or `lambda/`
///   itself), as cargo finds its manifest.
pub fn locate(explicit: Option<&Path>, cwd: &Path) -> Result<PathBuf, String> {
    if let Some(dir) = explicit {
        let dir = absolute(dir, cwd);
        return forwarder_in(&dir).ok_or_else(|| {
            format!(
                "--forwarder-source {}: no forwarder sources there (neither lambda/Cargo.toml \
                 nor a Cargo.toml of the {PACKAGE} package): name a flowlogs checkout or its \
                 lambda/ directory",
                dir.display()
            )
        });
    }
    let cwd = absolute(cwd, cwd);
    cwd.ancestors().find_map(forwarder_in).ok_or_else(|| {
        format!(
            "--forwarder-from-source builds lambda/ of a flowlogs checkout, and neither {} nor a \
             directory above it holds lambda/Cargo.toml: run flowlogs inside the checkout, or \
             name it with --forwarder-source DIR (or FLOWLOGS_FORWARDER_SOURCE), or deploy a \
             prebuilt forwarder (--forwarder-zip, or a release binary, which carries one)",
            cwd.display()
        )
    })
}

/// `dir/lambda` when `dir` is a checkout, `dir` when it is the forwarder's directory itself.
fn forwarder_in(dir: &Path) -> Option<PathBuf> {
    [dir.join("lambda"), dir.to_path_buf()]
        .into_iter()
        .find(|candidate| is_forwarder_manifest(&candidate.join("Cargo.toml")))
}

fn is_forwarder_manifest(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|text| {
        text.lines().any(|line| {
            let mut parts = line.splitn(2, '=').map(str::trim);
            parts.next() == Some("name") && parts.next() == Some(&format!("\"{PACKAGE}\""))
        })
    })
}

fn absolute(path: &Path, cwd: &Path) -> PathBuf {
    let joined = cwd.join(path);
    joined.canonicalize().unwrap_or(joined)
}

/// FNV-1a over the relative path and content of the forwarder's `.rs` files and `Cargo.toml`s and
/// the workspace's `Cargo.lock` (beside `lambda/`), in path order: the same tree gives the same
/// hash on any machine and in any directory, and a function built from it needs no new build.
pub fn source_hash(forwarder_dir: &Path) -> String {
    let root = forwarder_dir.parent().unwrap_or(forwarder_dir);
    let mut files = Vec::new();
    collect(forwarder_dir, &mut files);
    files.push(root.join("Cargo.lock"));
    files.sort();
    let mut hash: u64 = 0xcbf29ce484222325;
    for file in &files {
        let rel = file.strip_prefix(root).unwrap_or(file).to_string_lossy();
        let content = std::fs::read(file).unwrap_or_default();
        for byte in rel.as_bytes().iter().chain(&[0u8]).chain(&content) {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x100000001b3);
        }
    }
    format!("{hash:016x}")
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            // Build output and what the function's build leaves out.
            if !matches!(name.as_ref(), "target" | "fuzz" | "benches" | "tests") {
                collect(&path, out);
            }
        } else if name.ends_with(".rs") || name == "Cargo.toml" {
            out.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A checkout's shape: lambda/Cargo.toml of the forwarder, a source file, the lock file.
    fn checkout() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let lambda = dir.path().join("lambda");
        std::fs::create_dir_all(lambda.join("src")).unwrap();
        std::fs::write(
            lambda.join("Cargo.toml"),
            "[package]\nname = \"flowlogs-forwarder\"\nversion = \"0.1.0\"\n",
        )
        .unwrap();
        std::fs::write(lambda.join("src/main.rs"), "fn main() {}\n").unwrap();
        std::fs::write(dir.path().join("Cargo.lock"), "# lock\n").unwrap();
        dir
    }

    fn lambda_of(dir: &tempfile::TempDir) -> PathBuf {
        dir.path().join("lambda").canonicalize().unwrap()
    }

    #[test]
    fn found_from_the_checkout_from_a_directory_inside_it_and_from_lambda_itself() {
        let dir = checkout();
        let deep = dir.path().join("docs/examples");
        std::fs::create_dir_all(&deep).unwrap();
        for cwd in [
            dir.path().to_path_buf(),
            deep,
            dir.path().join("lambda/src"),
        ] {
            assert_eq!(locate(None, &cwd).unwrap(), lambda_of(&dir), "from {cwd:?}");
        }
    }

    #[test]
    fn an_explicit_directory_wins_over_the_current_one_and_may_be_relative() {
        let dir = checkout();
        let elsewhere = tempfile::tempdir().unwrap();
        assert_eq!(
            locate(Some(dir.path()), elsewhere.path()).unwrap(),
            lambda_of(&dir)
        );
        assert_eq!(
            locate(Some(&dir.path().join("lambda")), elsewhere.path()).unwrap(),
            lambda_of(&dir)
        );
        assert_eq!(
            locate(Some(Path::new("lambda")), dir.path()).unwrap(),
            lambda_of(&dir)
        );
    }

    #[test]
    fn outside_a_checkout_the_error_names_the_directory_and_the_options() {
        let elsewhere = tempfile::tempdir().unwrap();
        let err = locate(None, elsewhere.path()).unwrap_err();
        assert!(err.contains(
            &elsewhere
                .path()
                .canonicalize()
                .unwrap()
                .display()
                .to_string()
        ));
        assert!(err.contains("lambda/Cargo.toml"), "{err}");
        assert!(err.contains("--forwarder-source DIR"), "{err}");
        assert!(err.contains("FLOWLOGS_FORWARDER_SOURCE"), "{err}");
        assert!(err.contains("--forwarder-zip"), "{err}");
    }

    #[test]
    fn an_explicit_directory_without_the_forwarder_is_refused_by_name() {
        let elsewhere = tempfile::tempdir().unwrap();
        let err = locate(Some(elsewhere.path()), Path::new("/")).unwrap_err();
        assert!(err.starts_with("--forwarder-source "), "{err}");
        assert!(err.contains("lambda/Cargo.toml"), "{err}");
    }

    #[test]
    fn another_crates_lambda_directory_is_not_taken_for_the_forwarder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("lambda")).unwrap();
        std::fs::write(
            dir.path().join("lambda/Cargo.toml"),
            "[package]\nname = \"some-other-function\"\n",
        )
        .unwrap();
        assert!(locate(None, dir.path()).is_err());
        assert!(locate(Some(dir.path()), dir.path()).is_err());
    }

    #[test]
    fn the_hash_follows_the_sources_and_the_lock_file_and_ignores_build_output() {
        let dir = checkout();
        let lambda = lambda_of(&dir);
        let first = source_hash(&lambda);
        assert_eq!(first.len(), 16);
        assert_eq!(source_hash(&lambda), first);

        // Build output and files that are not sources change nothing.
        std::fs::create_dir_all(lambda.join("target/release")).unwrap();
        std::fs::write(lambda.join("target/release/x.rs"), "junk").unwrap();
        std::fs::write(lambda.join("src/notes.txt"), "notes").unwrap();
        assert_eq!(source_hash(&lambda), first);

        // The same tree in another directory: the same hash.
        let copy = checkout();
        assert_eq!(source_hash(&lambda_of(&copy)), first);

        std::fs::write(lambda.join("src/main.rs"), "fn main() { }\n").unwrap();
        let edited = source_hash(&lambda);
        assert_ne!(edited, first);
        std::fs::write(dir.path().join("Cargo.lock"), "# lock 2\n").unwrap();
        assert_ne!(source_hash(&lambda), edited);
    }

    /// This repository's own forwarder, from a directory inside the checkout. (Its hash is the
    /// one build.rs baked in before, the same files hashed the same way: functions deployed by
    /// earlier builds need no new upload.)
    #[test]
    fn this_repositorys_forwarder_is_found_and_hashed() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let lambda = locate(None, &root.join("src")).unwrap();
        assert_eq!(lambda, root.join("lambda").canonicalize().unwrap());
        assert_eq!(source_hash(&lambda).len(), 16);
    }
}
