//! `caracal scan`: owned by the scanner (issue #3).

use std::process::ExitCode;

use super::Global;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub async fn run(_args: Args, _global: &Global) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`caracal scan` is not built yet (issue #3)")
}
