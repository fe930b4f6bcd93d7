//! `caracal search VALUE`: an IP, domain, ARN, account id, instance id, hash, email or
//! username across every log type of the local lake (the `p_any_*` columns), with counts
//! per log type and each hit's log type and time.
//!
//! Exit: 0 when found, 1 when not, 2 for errors.

use std::io::Write;
use std::process::ExitCode;

use caracal_core::event::format_p_time;

use super::Global;
use super::query::LakeArgs;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The value: 10.0.0.1, example.com, arn:aws:..., 123456789012, i-0abc..., a hash, ...
    #[arg(value_name = "VALUE")]
    value: String,

    #[command(flatten)]
    lake: LakeArgs,

    /// List at most this many hits (the counts cover all)
    #[arg(long, value_name = "N", default_value_t = 50, help_heading = "OUTPUT")]
    limit: usize,

    /// Print JSON instead of text
    #[arg(long, help_heading = "OUTPUT")]
    json: bool,
}

pub async fn run(args: Args, _global: &Global) -> anyhow::Result<ExitCode> {
    let lake = args.lake.open().await?;
    let found = caracal_query::search(&lake, &args.value, args.limit).await?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let hits: Vec<serde_json::Value> = found
            .hits
            .iter()
            .map(|h| {
                serde_json::json!({
                    "log_type": h.log_type,
                    "p_event_time": format_p_time(&h.event_time),
                    "p_row_id": h.row_id,
                })
            })
            .collect();
        let searched: serde_json::Map<String, serde_json::Value> =
            found.searched.iter().map(|(c, v)| ((*c).to_owned(), v.clone().into())).collect();
        let doc = serde_json::json!({ "searched": searched, "counts": found.counts, "hits": hits });
        writeln!(out, "{doc}")?;
    } else {
        let columns: Vec<String> = found.searched.iter().map(|(c, v)| format!("{c}={v}")).collect();
        writeln!(out, "Searched {}", columns.join(", "))?;
        if found.counts.is_empty() {
            writeln!(out, "No events.")?;
        }
        for (log_type, n) in &found.counts {
            writeln!(out, "{n:>8}  {log_type}")?;
        }
        for hit in &found.hits {
            writeln!(
                out,
                "{}  {:<24}  {}",
                format_p_time(&hit.event_time),
                hit.log_type,
                hit.row_id
            )?;
        }
    }
    out.flush()?;
    Ok(if found.counts.is_empty() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
