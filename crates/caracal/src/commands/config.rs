//! `caracal config check|example`.

use std::process::ExitCode;

use clap::Subcommand;

use super::Global;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load the configuration, validate it and print the effective settings
    ///
    /// Reads --config FILE, else ./caracal.toml, else the defaults, then applies the
    /// CARACAL_* environment overrides. Exits 2 with a one-line error naming the file.
    Check,
    /// Print an annotated example caracal.toml
    Example,
}

pub async fn run(cmd: Command, global: &Global) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Check => {
            let config = global.load_config()?;
            println!("{}", toml_pretty(&config)?);
            eprintln!("caracal: configuration ok");
        }
        Command::Example => {
            print!("{}{}", caracal_core::config::EXAMPLE, caracal_core::config::DETECTION_EXAMPLE)
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn toml_pretty(config: &caracal_core::Config) -> anyhow::Result<String> {
    Ok(toml::to_string_pretty(config)?)
}
