//! `caracal remediate list|plan|apply|history` (issue #6).

use std::process::ExitCode;

use clap::Subcommand;

use super::Global;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the remediations caracal knows
    List,
}

pub async fn run(_cmd: Command, _global: &Global) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`caracal remediate` is not built yet (issue #6)")
}
