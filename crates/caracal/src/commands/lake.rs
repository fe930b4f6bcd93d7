//! `caracal lake ddl|compact` (issue #18 items 4 and 6): Athena / Glue table definitions
//! for the lake, and compaction with retention. The work is `caracal_app::lake_ops`; this
//! module maps flags and prints.

use std::process::ExitCode;

use caracal_app::Context;
use caracal_app::lake_ops::{self, DdlFormat};
use caracal_logs::compact::CompactOptions;
use clap::{Args as ClapArgs, Subcommand, ValueEnum};

use super::Global;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print Athena / Glue table definitions for every table in the lake
    Ddl(DdlArgs),
    /// Merge small files per partition; delete old partitions with --retain
    Compact(CompactArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    /// CREATE EXTERNAL TABLE statements
    Hive,
    /// A CloudFormation template of AWS::Glue::Table resources
    Cloudformation,
}

#[derive(Debug, ClapArgs)]
pub struct DdlArgs {
    /// The lake whose Parquet footers describe the tables: a folder or s3://bucket/prefix
    #[arg(long, value_name = "DIR|S3_URL", default_value = "lake")]
    lake: String,

    /// The Glue database the tables go in
    #[arg(long, value_name = "NAME", default_value = "caracal")]
    database: String,

    /// Where Athena reads the lake (default: --lake when it is s3://)
    #[arg(long, value_name = "S3_URL")]
    location: Option<String>,

    /// What to print
    #[arg(long, value_enum, default_value = "hive")]
    format: Format,
}

#[derive(Debug, ClapArgs)]
pub struct CompactArgs {
    /// The local lake folder
    #[arg(long, value_name = "DIR", default_value = "lake")]
    lake: String,

    /// Delete hour partitions that ended more than DAYS days ago
    #[arg(long, value_name = "DAYS")]
    retain: Option<u32>,

    /// Merge a partition's files into files of up to this many MiB (of input)
    #[arg(long, value_name = "MIB", default_value_t = 128)]
    target_mib: u64,

    /// Report what would be merged and deleted, change nothing
    #[arg(long)]
    dry_run: bool,
}

/// Runs `caracal lake ...`.
pub async fn run(command: Command, global: &Global) -> anyhow::Result<ExitCode> {
    match command {
        Command::Ddl(args) => {
            let ctx = Context::from_config(global.load_config()?);
            let format = match args.format {
                Format::Hive => DdlFormat::Hive,
                Format::Cloudformation => DdlFormat::CloudFormation,
            };
            let text =
                lake_ops::ddl(&ctx, &args.lake, &args.database, args.location.as_deref(), format)
                    .await?;
            println!("{}", text.trim_end());
            Ok(ExitCode::SUCCESS)
        }
        Command::Compact(args) => {
            let options = CompactOptions {
                target_bytes: args.target_mib.saturating_mul(1 << 20),
                retain: args.retain.map(|d| chrono::Duration::days(i64::from(d))),
                dry_run: args.dry_run,
                ..CompactOptions::default()
            };
            let r = lake_ops::compact(&args.lake, options).await?;
            let verb = if args.dry_run { "would merge" } else { "merged" };
            println!(
                "{} partitions: {verb} {} files ({} bytes) into {} ({} rows, {} bytes); \
                 {} partitions ({} files) past retention; {} interrupted merges settled",
                r.partitions,
                r.files_in,
                r.bytes_in,
                r.files_out,
                r.rows,
                r.bytes_out,
                r.partitions_deleted,
                r.files_deleted,
                r.recovered
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
