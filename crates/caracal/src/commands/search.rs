//! `caracal search VALUE`: an IP, domain, ARN, account id, instance id, hash, email or
//! username across every log type of the local lake (the `p_any_*` columns), with counts
//! per log type and each hit's log type and time.
//!
//! Exit: 0 when found, 1 when not, 2 for errors.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use async_trait::async_trait;
use caracal_app::search::{LakeSearch, SearchError, SearchHit, SearchRequest, SearchResult};
use caracal_core::event::format_p_time;
use caracal_query::{Bounds, Found, Lake};
use tokio::sync::Semaphore;

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

/// The local lake as the API's search (`GET /v1/search` under `caracal serve --lake`):
/// opened for each request, so it sees the files written since.
#[derive(Debug, Clone)]
pub struct LocalSearch {
    root: PathBuf,
    /// Searches at once: each reads every file's footer and scans the indicator columns.
    permits: Arc<Semaphore>,
}

impl LocalSearch {
    /// Searches over the lake folder `root`, two at a time (others wait their turn).
    pub fn new(root: PathBuf) -> Self {
        Self { root, permits: Arc::new(Semaphore::new(2)) }
    }
}

#[async_trait]
impl LakeSearch for LocalSearch {
    async fn search(&self, request: &SearchRequest) -> Result<SearchResult, SearchError> {
        let searched = caracal_query::search::columns_for(&request.value);
        if searched.is_empty() {
            return Err(SearchError::NotAnIndicator(request.value.clone()));
        }
        if !self.root.exists() {
            // Nothing written yet: no events, not a failure.
            let found = Found { searched, ..Found::default() };
            return Ok(result(&request.value, found));
        }
        let _permit =
            self.permits.acquire().await.map_err(|e| SearchError::Failed(e.to_string()))?;
        let window = Bounds::new(request.since, request.until);
        let failed = |e: caracal_query::Error| SearchError::Failed(e.to_string());
        let lake = Lake::open(&self.root, window).await.map_err(failed)?;
        let found =
            caracal_query::search(&lake, &request.value, request.limit).await.map_err(failed)?;
        Ok(result(&request.value, found))
    }
}

/// The answer shared by `--json` and the API.
fn result(value: &str, found: Found) -> SearchResult {
    SearchResult {
        value: value.to_owned(),
        searched: found.searched.into_iter().map(|(c, v)| (c.to_owned(), v)).collect(),
        counts: found.counts,
        hits: found
            .hits
            .into_iter()
            .map(|h| SearchHit {
                log_type: h.log_type,
                p_event_time: format_p_time(&h.event_time),
                p_row_id: h.row_id,
            })
            .collect(),
    }
}

pub async fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let lake = args.lake.open(global).await?;
    let found = caracal_query::search(&lake, &args.value, args.limit).await?;
    let mut out = std::io::stdout().lock();
    let empty = found.counts.is_empty();
    if args.json {
        writeln!(out, "{}", serde_json::to_string(&result(&args.value, found))?)?;
    } else {
        let columns: Vec<String> = found.searched.iter().map(|(c, v)| format!("{c}={v}")).collect();
        writeln!(out, "Searched {}", columns.join(", "))?;
        if empty {
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
    Ok(if empty { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
