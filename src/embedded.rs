//! The forwarder zips a release binary carries. `.ci/release` appends them to the built `flowlogs`
//! executable (as `deno compile` appends its payload), so the deployer is compiled once and the
//! same executable runs with or without them:
//!
//! ```text
//! [executable][payload: a stored zip holding x86_64.zip, arm64.zip][payload length: u64 LE][MAGIC]
//! ```
//!
//! A build without the trailer (`cargo build`, `cargo install`) carries no forwarder.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::OnceLock;

use anyhow::{bail, Context, Result};

use crate::config::Architecture;

/// The last bytes of a binary that carries forwarder zips (`.ci/pack.py` writes the same).
pub const MAGIC: &[u8; 16] = b"FLOWLOGS-FWD-01\n";
const TRAILER: u64 = 8 + MAGIC.len() as u64;

/// The forwarder zips found in a binary, by architecture.
#[derive(Debug, Default, Clone)]
pub struct Forwarders {
    zips: Vec<(Architecture, Vec<u8>)>,
}

impl Forwarders {
    pub fn get(&self, architecture: Architecture) -> Option<&[u8]> {
        self.zips
            .iter()
            .find(|(a, _)| *a == architecture)
            .map(|(_, zip)| zip.as_slice())
    }

    pub fn is_empty(&self) -> bool {
        self.zips.is_empty()
    }
}

/// The forwarders this running executable carries (read once, on first use). An unreadable or
/// damaged payload is an error: a release binary must never fall back to something else in silence.
pub fn this_binary() -> Result<&'static Forwarders> {
    static FORWARDERS: OnceLock<std::result::Result<Forwarders, String>> = OnceLock::new();
    FORWARDERS
        .get_or_init(|| {
            let exe = std::env::current_exe().map_err(|e| format!("locating flowlogs: {e}"))?;
            read(&exe).map_err(|e| format!("{e:#}"))
        })
        .as_ref()
        .map_err(|e| anyhow::anyhow!("reading the forwarder zips this flowlogs carries: {e}"))
}

/// The forwarders appended to the executable at `path`; none when it has no trailer.
pub fn read(path: &Path) -> Result<Forwarders> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let size = file.metadata()?.len();
    if size < TRAILER {
        return Ok(Forwarders::default());
    }
    let mut trailer = [0u8; TRAILER as usize];
    file.seek(SeekFrom::End(-(TRAILER as i64)))?;
    file.read_exact(&mut trailer)?;
    if &trailer[8..] != MAGIC {
        return Ok(Forwarders::default());
    }
    let length = u64::from_le_bytes(trailer[..8].try_into().expect("8 bytes"));
    if length > size - TRAILER {
        bail!(
            "{}: the forwarder payload says {length} bytes, more than the file holds",
            path.display()
        );
    }
    let mut payload = vec![0u8; length as usize];
    file.seek(SeekFrom::Start(size - TRAILER - length))?;
    file.read_exact(&mut payload)?;
    parse_payload(payload).with_context(|| format!("{}: the forwarder payload", path.display()))
}

/// The payload: a zip whose entries are named `<architecture>.zip` (Lambda's names).
pub fn parse_payload(payload: Vec<u8>) -> Result<Forwarders> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(payload))?;
    let mut zips = Vec::new();
    for architecture in [Architecture::X86_64, Architecture::Arm64] {
        let name = format!("{}.zip", architecture.as_aws());
        let mut entry = match archive.by_name(&name) {
            Ok(entry) => entry,
            Err(zip::result::ZipError::FileNotFound) => continue,
            Err(e) => return Err(e).with_context(|| format!("reading {name}")),
        };
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut bytes)?;
        zips.push((architecture, bytes));
    }
    Ok(Forwarders { zips })
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn payload(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut buffer = std::io::Cursor::new(Vec::new());
        {
            let mut zip = zip::ZipWriter::new(&mut buffer);
            let stored = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored);
            for (name, bytes) in entries {
                zip.start_file(*name, stored).unwrap();
                zip.write_all(bytes).unwrap();
            }
            zip.finish().unwrap();
        }
        buffer.into_inner()
    }

    fn binary_with(payload: &[u8]) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(b"\x7fELF the deployer itself").unwrap();
        file.write_all(payload).unwrap();
        file.write_all(&(payload.len() as u64).to_le_bytes())
            .unwrap();
        file.write_all(MAGIC).unwrap();
        file
    }

    #[test]
    fn a_binary_without_trailer_carries_no_forwarder() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(b"\x7fELF plain cargo build").unwrap();
        assert!(read(file.path()).unwrap().is_empty());
    }

    #[test]
    fn appended_zips_are_found_by_architecture() {
        let p = payload(&[
            ("x86_64.zip", b"zip for x86"),
            ("arm64.zip", b"zip for arm"),
        ]);
        let file = binary_with(&p);
        let f = read(file.path()).unwrap();
        assert_eq!(f.get(Architecture::X86_64), Some(&b"zip for x86"[..]));
        assert_eq!(f.get(Architecture::Arm64), Some(&b"zip for arm"[..]));
    }

    #[test]
    fn one_architecture_only_leaves_the_other_missing() {
        let file = binary_with(&payload(&[("x86_64.zip", b"x")]));
        let f = read(file.path()).unwrap();
        assert!(f.get(Architecture::Arm64).is_none());
        assert!(!f.is_empty());
    }

    #[test]
    fn a_truncated_payload_is_an_error_not_an_empty_set() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(b"short").unwrap();
        file.write_all(&1_000_000u64.to_le_bytes()).unwrap();
        file.write_all(MAGIC).unwrap();
        let err = format!("{:#}", read(file.path()).unwrap_err());
        assert!(err.contains("more than the file holds"), "{err}");
    }
}
