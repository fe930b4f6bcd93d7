//! Indicator search across the lake, as the CLI (`caracal search`) and the API
//! (`GET /v1/search`) answer it. The search itself is the caller's ([`LakeSearch`]):
//! DataFusion lives in `caracal-query` and the binary, not in this crate or the Lambdas.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// What to look for, where in time, and how many hits to list.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    /// An IP, domain, ARN, account id, instance id, hash, email or username.
    pub value: String,
    /// Only events at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only events at or before this time.
    pub until: Option<DateTime<Utc>>,
    /// At most this many hits are listed (the counts cover every event).
    pub limit: usize,
}

/// Where a value was found.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct SearchResult {
    /// The value as asked.
    pub value: String,
    /// The `p_any_*` columns searched, each with the value as stored there.
    pub searched: BTreeMap<String, String>,
    /// Events per log type.
    pub counts: BTreeMap<String, u64>,
    /// The first hits by time.
    pub hits: Vec<SearchHit>,
}

/// One event holding the value.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SearchHit {
    /// The event's log type.
    pub log_type: String,
    /// The event's `p_event_time`, as the lake writes it.
    pub p_event_time: String,
    /// The event's `p_row_id`.
    pub p_row_id: String,
}

/// Why a search did not answer.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// No indicator column can hold the value.
    #[error("{0:?} is not an IP, domain, ARN, account id, instance id, hash, email or username")]
    NotAnIndicator(String),
    /// The lake could not be read or queried.
    #[error("{0}")]
    Failed(String),
}

/// Searches the lake's indicator columns.
#[async_trait]
pub trait LakeSearch: Send + Sync + std::fmt::Debug {
    /// The events holding `request.value` in the window, counted per log type.
    async fn search(&self, request: &SearchRequest) -> Result<SearchResult, SearchError>;
}
