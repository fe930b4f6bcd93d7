//! One module per subcommand.

use std::path::PathBuf;

use caracal_core::Config;

pub mod alerts;
pub mod compliance;
pub mod config;
#[cfg(feature = "demo")]
pub mod demo;
pub mod lake;
pub mod logs;
pub mod query;
pub mod remediate;
pub mod report;
pub mod scan;
pub mod scheduled;
pub mod search;
pub mod serve;
pub mod sources;
pub mod test;
pub mod token;

/// Options shared by every subcommand.
#[derive(Debug, Clone)]
pub struct Global {
    /// `--config FILE`, if given.
    pub config: Option<PathBuf>,
}

impl Global {
    /// Loads the configuration: `--config`, else ./caracal.toml, else defaults; then env.
    pub fn load_config(&self) -> anyhow::Result<Config> {
        Ok(Config::discover(self.config.as_deref())?)
    }
}
