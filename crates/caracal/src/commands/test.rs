//! `caracal test PATH...`: runs the embedded tests of analysis packs (issue #4).

use std::process::ExitCode;

use super::Global;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub async fn run(_args: Args, _global: &Global) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`caracal test` is not built yet (issue #4)")
}
