//! `caracal logs process|poll` (issue #5).

use std::process::ExitCode;

use clap::Subcommand;

use super::Global;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Process log files, folders or s3://bucket/prefix objects
    Process,
}

pub async fn run(_cmd: Command, _global: &Global) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`caracal logs` is not built yet (issue #5)")
}
