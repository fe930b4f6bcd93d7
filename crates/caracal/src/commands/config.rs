//! `caracal config check|example`.

use std::process::ExitCode;

use clap::Subcommand;

use super::Global;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load the configuration, validate it and print the effective settings
    Check,
    /// Print an annotated example caracal.toml
    Example,
}

pub async fn run(cmd: Command, global: &Global) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Check => {
            let config = global.load_config()?;
            let text = toml_pretty(&config)?;
            println!("{text}");
            eprintln!("configuration ok");
        }
        Command::Example => print!("{}", caracal_core::config::EXAMPLE),
    }
    Ok(ExitCode::SUCCESS)
}

fn toml_pretty(config: &caracal_core::Config) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(config)?)
}
