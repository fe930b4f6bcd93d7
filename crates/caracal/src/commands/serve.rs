//! `caracal serve`: API, scheduler, queue poller.

use std::process::ExitCode;

use super::Global;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub async fn run(_args: Args, _global: &Global) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`caracal serve` is not built yet (issue #3 brings the scheduler)")
}
