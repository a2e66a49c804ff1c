//! `flowlogs init`: the wizard (being built in its own issue).

use anyhow::Result;

use crate::cli::{Global, InitArgs};

pub async fn run(_global: &Global, _args: &InitArgs) -> Result<u8> {
    anyhow::bail!("`flowlogs init` is not available yet: copy templates/flowlogs.yaml and edit it")
}
