//! `flowlogs schema`: prints the JSON Schema of flowlogs.yaml (see `config::schema`).

use anyhow::Result;

pub fn run() -> Result<u8> {
    crate::ui::out(crate::config::schema::pretty());
    Ok(0)
}
