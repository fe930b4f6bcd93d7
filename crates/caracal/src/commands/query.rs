//! `caracal query "SQL"`: SQL over the local data lake with DataFusion (one table per log
//! type, the match tables, the `all_logs` view). A thin shell over `caracal_query`.
//!
//! Exit: 0, or 2 for errors.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use caracal_query::{Bounds, Format, Lake};
use chrono::{DateTime, Duration, Utc};

use super::Global;

/// How rows are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum QueryFormat {
    /// An aligned table
    Table,
    /// One JSON object per line
    Json,
    /// CSV with a header line
    Csv,
}

/// The lake and time window, shared with `caracal search`.
#[derive(Debug, clap::Args)]
pub struct LakeArgs {
    /// The lake: a folder or s3://bucket/prefix (as `caracal logs process --lake` writes it)
    #[arg(
        long,
        env = "CARACAL_LAKE",
        value_name = "DIR|S3_URL",
        default_value = "lake",
        help_heading = "SCOPE"
    )]
    pub lake: String,

    /// Only events at or after this time: RFC 3339 or an age such as 30m, 24h, 7d
    #[arg(long, value_name = "TIME", value_parser = parse_time, help_heading = "SCOPE")]
    pub since: Option<DateTime<Utc>>,

    /// Only events at or before this time: RFC 3339 or an age such as 1h
    #[arg(long, value_name = "TIME", value_parser = parse_time, help_heading = "SCOPE")]
    pub until: Option<DateTime<Utc>>,
}

impl LakeArgs {
    /// Opens the lake with the window: a local folder, or an S3 prefix read with the
    /// configured AWS credentials and endpoint.
    pub async fn open(&self, global: &Global) -> anyhow::Result<Lake> {
        let window = Bounds::new(self.since, self.until);
        let context = || format!("opening the lake {}", self.lake);
        if !self.lake.starts_with("s3://") {
            return Lake::open(Path::new(&self.lake), window).await.with_context(context);
        }
        let Some((bucket, prefix)) = caracal_logs::s3::parse_s3_url(&self.lake) else {
            anyhow::bail!("--lake {}: expected s3://bucket/prefix", self.lake);
        };
        let ctx = caracal_app::Context::from_config(global.load_config()?);
        let s3 = ctx.home_clients().await?.s3();
        Lake::open_s3(s3, bucket, prefix, window).await.with_context(context)
    }
}

/// An RFC 3339 time, or an age (`30m`, `24h`, `7d`) before now.
pub fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    let bad = || format!("{text:?}: expected an RFC 3339 time or an age such as 30m, 24h, 7d");
    let split = text.len().checked_sub(1).ok_or_else(bad)?;
    let (n, unit) = text.split_at(split);
    let n: i64 = n.parse().map_err(|_| bad())?;
    let age = match unit {
        "m" => Duration::try_minutes(n),
        "h" => Duration::try_hours(n),
        "d" => Duration::try_days(n),
        _ => None,
    };
    age.and_then(|age| Utc::now().checked_sub_signed(age)).ok_or_else(bad)
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The SQL statement, such as "SELECT eventName, count(*) FROM aws_cloudtrail GROUP BY 1"
    ///
    /// Tables: one per log type (aws_cloudtrail, aws_vpcflow, ...), rule_matches,
    /// rule_errors, signals, and all_logs (the p_ columns of every log table).
    /// Identifiers keep their case: eventName, not eventname.
    #[arg(value_name = "SQL")]
    sql: String,

    #[command(flatten)]
    lake: LakeArgs,

    /// Print rows in this format
    #[arg(long, value_enum, default_value_t = QueryFormat::Table, help_heading = "OUTPUT")]
    format: QueryFormat,

    /// Print the physical plan instead of running the query
    #[arg(long, help_heading = "OUTPUT")]
    plan: bool,
}

pub async fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let lake = args.lake.open(global).await?;
    let mut out = std::io::stdout().lock();
    if args.plan {
        let plan = lake.physical_plan(&args.sql).await?;
        writeln!(out, "{plan}")?;
        return Ok(ExitCode::SUCCESS);
    }
    let batches = lake.sql(&args.sql).await?;
    let format = match args.format {
        QueryFormat::Table => Format::Table,
        QueryFormat::Json => Format::Json,
        QueryFormat::Csv => Format::Csv,
    };
    caracal_query::output::write(&batches, format, &mut out)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
