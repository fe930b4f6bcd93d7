//! `caracal scheduled list|run`: the packs' scheduled queries and the scheduled rules on
//! their rows. `caracal serve --lake DIR` runs them on their schedules; `run` runs them
//! now, once, through the same use case.
//!
//! Exit: 0; 1 when a query or its rules failed; 2 for other errors.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use async_trait::async_trait;
use caracal_app::Context;
use caracal_app::scheduled::{QueryEngine, ScheduledRules};
use caracal_core::Config;
use caracal_detect::RuleSource;
use caracal_query::{Bounds, Lake};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::Global;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List the scheduled queries that scheduled rules use, with their next run
    List(CommonArgs),
    /// Run scheduled queries now (all, or the named ones) and their rules on the rows
    Run(RunArgs),
}

#[derive(Debug, clap::Args)]
pub struct CommonArgs {
    /// Rule pack folders (default: `[rules] paths` of caracal.toml)
    #[arg(long = "rules", value_name = "DIR")]
    rules: Vec<PathBuf>,

    /// Run only the rules this pack names (a PackID; repeatable)
    #[arg(long = "pack", value_name = "ID")]
    packs: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    common: CommonArgs,

    /// The lake folder the queries read
    #[arg(long, env = "CARACAL_LAKE", value_name = "DIR", default_value = "lake")]
    lake: PathBuf,

    /// Print each run as a JSON line instead of text
    #[arg(long)]
    json: bool,

    /// Only these queries (their QueryName; repeatable)
    #[arg(value_name = "NAME")]
    names: Vec<String>,
}

impl CommonArgs {
    fn source(&self, config: &Config) -> anyhow::Result<RuleSource> {
        let paths =
            if self.rules.is_empty() { config.rules.paths.clone() } else { self.rules.clone() };
        if let Some(missing) = paths.iter().find(|p| !p.is_dir()) {
            anyhow::bail!("rule folder {} does not exist", missing.display());
        }
        let mut source = RuleSource::configured(paths, &config.rules);
        if !self.packs.is_empty() {
            source.packs = self.packs.clone();
        }
        Ok(source)
    }
}

/// The local lake as the scheduled queries' SQL engine: opened afresh for each run (so
/// it sees the files written since), the pack format's macros expanded at run time.
#[derive(Debug, Clone)]
pub struct LakeQueries {
    root: PathBuf,
}

impl LakeQueries {
    /// Queries over the lake folder `root`.
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }
}

#[async_trait]
impl QueryEngine for LakeQueries {
    async fn rows(&self, sql: &str, at: DateTime<Utc>) -> Result<Vec<Map<String, Value>>, String> {
        let sql = caracal_query::macros::expand(sql, at).map_err(|e| e.to_string())?;
        let lake = Lake::open(&self.root, Bounds::default())
            .await
            .map_err(|e| format!("opening the lake {}: {e}", self.root.display()))?;
        lake.rows(&sql).await.map_err(|e| e.to_string())
    }
}

pub async fn run(command: Command, global: &Global) -> anyhow::Result<ExitCode> {
    let config = global.load_config()?;
    let common = match &command {
        Command::List(common) => common,
        Command::Run(args) => &args.common,
    };
    let source = common.source(&config)?;
    let ctx = Context::from_config(config);
    let scheduled = ScheduledRules::open(&ctx, &source).await?;
    let mut out = std::io::stdout().lock();
    match command {
        Command::List(_) => {
            let now = Utc::now();
            for query in scheduled.queries() {
                let schedule = query.describe();
                let next = query.next_run(now).map(|t| t.to_rfc3339()).unwrap_or_default();
                writeln!(out, "{}\t{schedule}\tnext {next}", query.name)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Run(args) => {
            for name in &args.names {
                if !scheduled.queries().iter().any(|q| &q.name == name) {
                    anyhow::bail!(
                        "no enabled scheduled query {name:?} is used by a scheduled rule"
                    );
                }
            }
            if args.lake.to_string_lossy().starts_with("s3://") {
                anyhow::bail!(
                    "--lake {}: scheduled queries read a local lake folder (caracal query and \
                     caracal search also read s3:// lakes)",
                    args.lake.display()
                );
            }
            let engine = LakeQueries::new(args.lake.clone());
            let mut failed = false;
            for query in scheduled.queries() {
                if !args.names.is_empty() && !args.names.contains(&query.name) {
                    continue;
                }
                let run = scheduled.run(query, &engine, Utc::now()).await;
                failed |= run.error.is_some();
                if args.json {
                    writeln!(out, "{}", serde_json::to_string(&run)?)?;
                } else if let Some(error) = &run.error {
                    writeln!(out, "{}: failed: {error}", run.query)?;
                } else {
                    writeln!(
                        out,
                        "{}: {} rows, {} matches; alerts: {} opened, {} updated",
                        run.query,
                        run.rows,
                        run.matches,
                        run.opened.len(),
                        run.updated.len()
                    )?;
                }
            }
            Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
    }
}
