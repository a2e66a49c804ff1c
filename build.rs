//! Hashes the forwarder's sources (lambda/) so `--forwarder-from-source` can tag the function with
//! the sources it was built from and build and upload only when that hash changes. (A release
//! binary's forwarder is appended after the build: src/embedded.rs.)

use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            if !matches!(name.as_ref(), "target" | "fuzz" | "benches" | "tests") {
                collect(&path, out);
            }
        } else if name.ends_with(".rs") || name == "Cargo.toml" {
            out.push(path);
        }
    }
}

/// FNV-1a over path and content: no dependency needed in a build script, and stable across builds.
fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let lambda = root.join("lambda");
    let mut files = Vec::new();
    collect(&lambda, &mut files);
    files.push(root.join("Cargo.lock"));
    files.sort();
    let mut hash: u64 = 0xcbf29ce484222325;
    for file in &files {
        let rel = file
            .strip_prefix(&root)
            .unwrap_or(file)
            .to_string_lossy()
            .into_owned();
        let content = std::fs::read(file).unwrap_or_default();
        for byte in rel.as_bytes().iter().chain(&[0u8]).chain(&content) {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x100000001b3);
        }
    }
    println!("cargo:rustc-env=FLOWLOGS_FORWARDER_SOURCE_HASH={hash:016x}");
    println!(
        "cargo:rustc-env=FLOWLOGS_FORWARDER_DIR={}",
        lambda.display()
    );
    println!("cargo:rerun-if-changed=lambda/src");
    println!("cargo:rerun-if-changed=lambda/Cargo.toml");
    println!("cargo:rerun-if-changed=Cargo.lock");
}
