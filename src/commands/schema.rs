//! `flowlogs schema`: prints the JSON Schema of flowlogs.yaml (see `config::schema`).

use anyhow::Result;

pub fn run() -> Result<u8> {
    print!("{}", crate::config::schema::pretty());
    Ok(0)
}
