//! One lake table as a DataFusion [`TableProvider`]: the Parquet files under
//! `<root>/<table>/year=YYYY/month=MM/day=DD/hour=HH/`. The schema is the merge of every
//! file's schema, so a column added later reads as null in older files. A scan lists only
//! the hour folders that can hold rows within the bounds that the query's filters put on
//! `p_event_time` (and the session's `--since/--until` window), then reads those files
//! through DataFusion's Parquet reader, which prunes row groups by statistics too.

use std::any::Any;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use caracal_core::event as p;
use chrono::{DateTime, NaiveDate, Utc};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::Session;
use datafusion::common::ScalarValue;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::{Between, BinaryExpr, Expr, Operator, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;

use crate::error::Error;

/// Microseconds in an hour.
const HOUR_MICROS: i64 = 3_600_000_000;

/// Inclusive bounds on `p_event_time` in UTC microseconds; `None` is unbounded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bounds {
    /// No row before this.
    pub lower: Option<i64>,
    /// No row after this.
    pub upper: Option<i64>,
}

impl Bounds {
    /// Bounds from an optional start and end time.
    pub fn new(since: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>) -> Self {
        Bounds {
            lower: since.map(|t| t.timestamp_micros()),
            upper: until.map(|t| t.timestamp_micros()),
        }
    }

    fn tighten(&mut self, lower: Option<i64>, upper: Option<i64>) {
        if let Some(l) = lower {
            self.lower = Some(self.lower.map_or(l, |x| x.max(l)));
        }
        if let Some(u) = upper {
            self.upper = Some(self.upper.map_or(u, |x| x.min(u)));
        }
    }

    /// True when the hour starting at `hour` (microseconds) may hold rows in bounds.
    pub fn overlaps_hour(&self, hour: i64) -> bool {
        self.lower.is_none_or(|l| hour + HOUR_MICROS > l) && self.upper.is_none_or(|u| hour <= u)
    }

    /// The bounds that `filters` (a conjunction) put on `p_event_time`, within `self`.
    pub fn with_filters(mut self, filters: &[Expr]) -> Self {
        for filter in filters {
            self.add_filter(filter);
        }
        self
    }

    fn add_filter(&mut self, filter: &Expr) {
        match filter {
            Expr::BinaryExpr(BinaryExpr { left, op: Operator::And, right }) => {
                self.add_filter(left);
                self.add_filter(right);
            }
            Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
                let (op, value) = match (is_event_time(left), is_event_time(right)) {
                    (true, false) => (*op, micros(right)),
                    (false, true) => match op.swap() {
                        Some(op) => (op, micros(left)),
                        None => return,
                    },
                    _ => return,
                };
                let Some(v) = value else { return };
                match op {
                    Operator::Gt | Operator::GtEq => self.tighten(Some(v), None),
                    Operator::Lt | Operator::LtEq => self.tighten(None, Some(v)),
                    Operator::Eq => self.tighten(Some(v), Some(v)),
                    _ => {}
                }
            }
            Expr::Between(Between { expr, negated: false, low, high }) if is_event_time(expr) => {
                self.tighten(micros(low), micros(high));
            }
            _ => {}
        }
    }
}

fn is_event_time(expr: &Expr) -> bool {
    matches!(expr, Expr::Column(c) if c.name == p::P_EVENT_TIME)
}

/// A literal time as UTC microseconds.
fn micros(expr: &Expr) -> Option<i64> {
    let Expr::Literal(value, _) = expr else { return None };
    match value {
        ScalarValue::TimestampSecond(Some(v), _) => v.checked_mul(1_000_000),
        ScalarValue::TimestampMillisecond(Some(v), _) => v.checked_mul(1_000),
        ScalarValue::TimestampMicrosecond(Some(v), _) => Some(*v),
        ScalarValue::TimestampNanosecond(Some(v), _) => Some(v.div_euclid(1_000)),
        _ => None,
    }
}

/// Where a table's Parquet files are.
#[derive(Debug, Clone)]
enum Files {
    /// A local folder, walked at each scan (it sees files written since).
    Local(PathBuf),
    /// Objects of an object store (the S3 lake), listed once when the table was opened:
    /// each file's URL with the start of its hour.
    Listed(Vec<(i64, String)>),
}

/// A lake table: its files, its merged schema and the session's time window.
#[derive(Debug)]
pub struct LakeTable {
    files: Files,
    schema: SchemaRef,
    window: Bounds,
}

impl LakeTable {
    /// The table in `folder`, reading every file's footer for the merged schema.
    pub async fn open(state: &dyn Session, folder: &Path, window: Bounds) -> Result<Self, Error> {
        let url = ListingTableUrl::parse(format!("{}/", folder.display()))?;
        let schema = with_indicators(options().infer_schema(state, &url).await?);
        Ok(LakeTable { files: Files::Local(folder.to_owned()), schema, window })
    }

    /// The table whose files are `files` (URL and hour start) under `url` (`s3://bucket/
    /// prefix/table/`, through the session's registered object store).
    pub async fn open_listed(
        state: &dyn Session,
        url: &str,
        files: Vec<(i64, String)>,
        window: Bounds,
    ) -> Result<Self, Error> {
        let schema =
            with_indicators(options().infer_schema(state, &ListingTableUrl::parse(url)?).await?);
        Ok(LakeTable { files: Files::Listed(files), schema, window })
    }

    /// The files (paths or URLs) of the hours that `bounds` may hold rows of, sorted.
    pub fn files(&self, bounds: Bounds) -> Result<Vec<String>, Error> {
        let mut files = Vec::new();
        match &self.files {
            Files::Local(folder) => {
                for (hour, dir) in hour_folders(folder)? {
                    if !bounds.overlaps_hour(hour) {
                        continue;
                    }
                    for entry in read_dir(&dir)? {
                        if entry.extension().is_some_and(|x| x == "parquet") {
                            files.push(entry.display().to_string());
                        }
                    }
                }
            }
            Files::Listed(listed) => {
                let kept = listed.iter().filter(|(hour, _)| bounds.overlaps_hour(*hour));
                files.extend(kept.map(|(_, url)| url.clone()));
            }
        }
        files.sort();
        Ok(files)
    }
}

/// The start of the hour of a `.../year=YYYY/month=MM/day=DD/hour=HH/...` key.
pub fn hour_of_key(key: &str) -> Option<i64> {
    let mut parts = [None; 4];
    for segment in key.split('/') {
        for (i, name) in ["year=", "month=", "day=", "hour="].iter().enumerate() {
            if let Some(v) = segment.strip_prefix(name) {
                parts[i] = v.parse::<u32>().ok();
            }
        }
    }
    let [Some(y), Some(m), Some(d), Some(h)] = parts else { return None };
    let date = NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d)?;
    Some(date.and_hms_opt(h, 0, 0)?.and_utc().timestamp_micros())
}

/// `schema` with every indicator column, for a table whose files were all written
/// before one was added (`p_any_sha1_hashes`): the missing ones read as nulls, so
/// `all_logs` and the indicator search still find the table's columns.
fn with_indicators(schema: SchemaRef) -> SchemaRef {
    if !p::INDICATOR_FIELDS.iter().any(|name| schema.field_with_name(name).is_ok()) {
        return schema;
    }
    let list = || DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)));
    let missing: Vec<Field> = p::INDICATOR_FIELDS
        .iter()
        .filter(|name| schema.field_with_name(name).is_err())
        .map(|name| Field::new(*name, list(), true))
        .collect();
    if missing.is_empty() {
        return schema;
    }
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.extend(missing);
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

fn options() -> ListingOptions {
    ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet")
}

fn read_dir(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let io = |source| Error::Io { path: dir.display().to_string(), source };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        out.push(entry.map_err(io)?.path());
    }
    Ok(out)
}

/// The value of a `name=value` folder.
fn part(path: &Path, name: &str) -> Option<u32> {
    path.file_name()?.to_str()?.strip_prefix(name)?.strip_prefix('=')?.parse().ok()
}

/// Every `year=/month=/day=/hour=` folder under `table`, with its hour's start.
fn hour_folders(table: &Path) -> Result<Vec<(i64, PathBuf)>, Error> {
    let mut out = Vec::new();
    for year in read_dir(table)? {
        let Some(y) = part(&year, "year") else { continue };
        for month in read_dir(&year)? {
            let Some(m) = part(&month, "month") else { continue };
            for day in read_dir(&month)? {
                let Some(d) = part(&day, "day") else { continue };
                for hour in read_dir(&day)? {
                    let Some(h) = part(&hour, "hour") else { continue };
                    let start = NaiveDate::from_ymd_opt(y as i32, m, d)
                        .and_then(|date| date.and_hms_opt(h, 0, 0))
                        .map(|t| t.and_utc().timestamp_micros());
                    if let Some(start) = start {
                        out.push((start, hour));
                    }
                }
            }
        }
    }
    Ok(out)
}

#[async_trait]
impl TableProvider for LakeTable {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    /// Every filter reaches [`Self::scan`] (for the hour folders and row-group pruning);
    /// DataFusion still applies them to the rows.
    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let bounds = self.window.with_filters(filters);
        let files = self
            .files(bounds)
            .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))?;
        if files.is_empty() {
            let schema = match projection {
                Some(p) => Arc::new(self.schema.project(p)?),
                None => self.schema.clone(),
            };
            return Ok(Arc::new(EmptyExec::new(schema)));
        }
        let urls = files.iter().map(ListingTableUrl::parse).collect::<DfResult<Vec<_>>>()?;
        let config = ListingTableConfig::new_with_multi_paths(urls)
            .with_listing_options(options())
            .with_schema(self.schema.clone());
        ListingTable::try_new(config)?.scan(state, projection, filters, limit).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::logical_expr::{col, lit};

    fn ts(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).map(|t| t.timestamp_micros()).unwrap_or_default()
    }

    #[test]
    fn filters_on_event_time_bound_the_hours() {
        let t = |s: &str| {
            Expr::Literal(ScalarValue::TimestampMicrosecond(Some(ts(s)), Some("UTC".into())), None)
        };
        let filters = [
            col(p::P_EVENT_TIME).gt_eq(t("2014-07-16T15:10:00Z")),
            t("2014-07-16T15:50:00Z").gt(col(p::P_EVENT_TIME)),
            col("eventName").eq(lit("ConsoleLogin")),
        ];
        let bounds = Bounds::default().with_filters(&filters);
        assert_eq!(bounds.lower, Some(ts("2014-07-16T15:10:00Z")));
        assert_eq!(bounds.upper, Some(ts("2014-07-16T15:50:00Z")));
        assert!(bounds.overlaps_hour(ts("2014-07-16T15:00:00Z")));
        assert!(!bounds.overlaps_hour(ts("2014-07-16T14:00:00Z")));
        assert!(!bounds.overlaps_hour(ts("2014-07-16T16:00:00Z")));
    }

    #[test]
    fn object_keys_give_their_partition_hour() {
        let key = "lake/aws_cloudtrail/year=2014/month=07/day=16/hour=15/part-0.parquet";
        assert_eq!(hour_of_key(key), Some(ts("2014-07-16T15:00:00Z")));
        assert_eq!(
            hour_of_key("lake/aws_cloudtrail/year=2014/month=13/day=1/hour=0/x.parquet"),
            None
        );
        assert_eq!(hour_of_key("lake/aws_cloudtrail/_manifest/x.parquet"), None);
    }
}
