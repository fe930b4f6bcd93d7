//! The lake as a DataFusion session: one table per folder of the lake root (a log type's
//! `table_name()` such as `aws_cloudtrail`, or a match table such as `rule_matches`), the
//! `all_logs` view over the log tables' `p_` columns, and the `--since/--until` window.
//!
//! Each table's provider ([`LakeTable`]) sits in the `raw` schema; the name users query is
//! a view of it filtered to the window, so the window both prunes hour folders and drops
//! the rows outside it.

use std::path::Path;
use std::sync::Arc;

use caracal_core::event as p;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::MemorySchemaProvider;
use datafusion::common::TableReference;
use datafusion::execution::context::{SQLOptions, SessionConfig, SessionContext};
use datafusion::logical_expr::{col, lit};
use datafusion::physical_plan::displayable;
use datafusion::prelude::DataFrame;
use datafusion::scalar::ScalarValue;

use crate::error::Error;
use crate::table::{Bounds, LakeTable};

/// The match tables: events that rules matched, with the alert's columns.
pub const MATCH_TABLES: &[&str] = &["rule_matches", "rule_errors", "signals"];

/// The view over every log table's `p_` columns.
pub const ALL_LOGS: &str = "all_logs";

const RAW: &str = "raw";

/// A lake opened for queries.
pub struct Lake {
    ctx: SessionContext,
    log_tables: Vec<String>,
    match_tables: Vec<String>,
}

impl std::fmt::Debug for Lake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lake")
            .field("log_tables", &self.log_tables)
            .field("match_tables", &self.match_tables)
            .finish()
    }
}

/// The `p_` columns `all_logs` holds, in table order.
pub fn p_columns() -> Vec<&'static str> {
    let mut columns = vec![
        p::P_LOG_TYPE,
        p::P_ROW_ID,
        p::P_EVENT_TIME,
        p::P_PARSE_TIME,
        p::P_SOURCE_ID,
        p::P_SOURCE_LABEL,
    ];
    columns.extend(p::INDICATOR_FIELDS);
    columns
}

fn is_table_name(name: &str) -> bool {
    !name.is_empty()
        && name != RAW
        && name != ALL_LOGS
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl Lake {
    /// Opens the local lake under `root`; only rows within `window` are seen.
    pub async fn open(root: &Path, window: Bounds) -> Result<Self, Error> {
        let ctx = session()?;
        let io = |source| Error::Io { path: root.display().to_string(), source };
        let mut names = Vec::new();
        for entry in std::fs::read_dir(root).map_err(io)? {
            let entry = entry.map_err(io)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().is_dir() && is_table_name(&name) {
                names.push(name);
            }
        }
        names.sort();
        let mut tables = Vec::new();
        for name in names {
            let table = LakeTable::open(&ctx.state(), &root.join(&name), window).await?;
            tables.push((name, table));
        }
        Self::with_tables(ctx, tables, window).await
    }

    /// Opens the lake under `s3://bucket/prefix` (as `caracal logs process --lake
    /// s3://...` writes it), read through `client`; each table's objects are listed once.
    #[cfg(feature = "s3")]
    pub async fn open_s3(
        client: aws_sdk_s3::Client,
        bucket: &str,
        prefix: &str,
        window: Bounds,
    ) -> Result<Self, Error> {
        use futures::TryStreamExt;
        use object_store::ObjectStore;

        let ctx = session()?;
        let store = Arc::new(crate::s3::S3Store::new(client, bucket));
        let base =
            datafusion::execution::object_store::ObjectStoreUrl::parse(format!("s3://{bucket}"))?;
        ctx.register_object_store(base.as_ref(), store.clone());
        let prefix = prefix.trim_matches('/');
        let root = match prefix {
            "" => None,
            p => Some(object_store::path::Path::parse(p).map_err(|e| Error::Store {
                location: format!("s3://{bucket}/{p}"),
                reason: e.to_string(),
            })?),
        };
        let listed = store.list_with_delimiter(root.as_ref()).await.map_err(|e| Error::Store {
            location: format!("s3://{bucket}/{prefix}"),
            reason: e.to_string(),
        })?;
        let mut folders: Vec<object_store::path::Path> = listed.common_prefixes;
        folders.sort();
        let mut tables = Vec::new();
        for folder in folders {
            let Some(name) = folder.filename().map(str::to_owned) else { continue };
            if !is_table_name(&name) {
                continue;
            }
            let objects: Vec<object_store::ObjectMeta> =
                store.list(Some(&folder)).try_collect().await.map_err(|e| Error::Store {
                    location: format!("s3://{bucket}/{folder}"),
                    reason: e.to_string(),
                })?;
            let files: Vec<(i64, String)> = objects
                .iter()
                .filter(|o| o.location.as_ref().ends_with(".parquet"))
                .filter_map(|o| {
                    let key = o.location.as_ref();
                    crate::table::hour_of_key(key)
                        .map(|hour| (hour, format!("s3://{bucket}/{key}")))
                })
                .collect();
            if files.is_empty() {
                continue;
            }
            let url = format!("s3://{bucket}/{folder}/");
            let table = LakeTable::open_listed(&ctx.state(), &url, files, window).await?;
            tables.push((name, table));
        }
        Self::with_tables(ctx, tables, window).await
    }

    /// Registers `tables` (sorted by name) as the window's views and `all_logs`.
    async fn with_tables(
        ctx: SessionContext,
        tables: Vec<(String, LakeTable)>,
        window: Bounds,
    ) -> Result<Self, Error> {
        let mut lake = Lake { ctx, log_tables: Vec::new(), match_tables: Vec::new() };
        for (name, table) in tables {
            if table.files(Bounds::default())?.is_empty() {
                continue;
            }
            lake.ctx
                .register_table(TableReference::partial(RAW, name.as_str()), Arc::new(table))?;
            let mut df = lake.ctx.table(TableReference::partial(RAW, name.as_str())).await?;
            if let Some(lower) = window.lower {
                df = df.filter(col(p::P_EVENT_TIME).gt_eq(lit(utc(lower))))?;
            }
            if let Some(upper) = window.upper {
                df = df.filter(col(p::P_EVENT_TIME).lt_eq(lit(utc(upper))))?;
            }
            lake.ctx.register_table(name.as_str(), df.into_view())?;
            if MATCH_TABLES.contains(&name.as_str()) {
                lake.match_tables.push(name);
            } else {
                lake.log_tables.push(name);
            }
        }
        lake.register_all_logs().await?;
        Ok(lake)
    }

    async fn register_all_logs(&self) -> Result<(), Error> {
        let mut union: Option<DataFrame> = None;
        for name in &self.log_tables {
            let df = self.ctx.table(name.as_str()).await?.select_columns(&p_columns())?;
            union = Some(match union {
                Some(all) => all.union(df)?,
                None => df,
            });
        }
        if let Some(all) = union {
            self.ctx.register_table(ALL_LOGS, all.into_view())?;
        }
        Ok(())
    }

    /// The log tables found (one per log type with files), sorted.
    pub fn log_tables(&self) -> &[String] {
        &self.log_tables
    }

    /// The match tables found, sorted.
    pub fn match_tables(&self) -> &[String] {
        &self.match_tables
    }

    /// The DataFusion session, for callers that build their own plans.
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// Runs one SQL statement and returns its rows as JSON objects (column → value;
    /// nested columns as objects and lists, times as text).
    pub async fn rows(
        &self,
        sql: &str,
    ) -> Result<Vec<serde_json::Map<String, serde_json::Value>>, Error> {
        crate::output::json_rows(&self.sql(sql).await?)
    }

    /// Runs one SQL query and collects its rows. Only queries: DDL (`CREATE EXTERNAL
    /// TABLE` on any path), DML (`COPY ... TO`, `INSERT`) and `SET` statements are refused,
    /// so a pack's SQL can read the lake and nothing else.
    pub async fn sql(&self, sql: &str) -> Result<Vec<RecordBatch>, Error> {
        Ok(self.ctx.sql_with_options(sql, read_only()).await?.collect().await?)
    }

    /// The physical plan of `sql`, as `EXPLAIN` prints it (file groups included).
    pub async fn physical_plan(&self, sql: &str) -> Result<String, Error> {
        let plan =
            self.ctx.sql_with_options(sql, read_only()).await?.create_physical_plan().await?;
        Ok(displayable(plan.as_ref()).indent(true).to_string())
    }
}

fn read_only() -> SQLOptions {
    SQLOptions::new().with_allow_ddl(false).with_allow_dml(false).with_allow_statements(false)
}

/// A session with the lake's settings and the `raw` schema for the table providers.
fn session() -> Result<SessionContext, Error> {
    let mut config = SessionConfig::new().with_information_schema(true);
    // Log fields are camelCase (`eventName`): keep identifiers as written.
    config.options_mut().sql_parser.enable_ident_normalization = false;
    let ctx = SessionContext::new_with_config(config);
    let catalog = ctx
        .catalog("datafusion")
        .ok_or_else(|| Error::Output("the session has no default catalog".into()))?;
    catalog.register_schema(RAW, Arc::new(MemorySchemaProvider::new()))?;
    Ok(ctx)
}

fn utc(micros: i64) -> ScalarValue {
    ScalarValue::TimestampMicrosecond(Some(micros), Some("UTC".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn queries_read_the_lake_and_statements_that_write_or_define_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::open(dir.path(), Bounds::default()).await.unwrap();
        assert_eq!(lake.sql("SELECT 1 AS one").await.unwrap()[0].num_rows(), 1);
        let target = dir.path().join("out.csv");
        for sql in [
            format!("COPY (SELECT 1) TO '{}'", target.display()),
            "CREATE EXTERNAL TABLE t STORED AS CSV LOCATION '/etc/'".to_owned(),
            "CREATE VIEW v AS SELECT 1".to_owned(),
            "SET datafusion.execution.batch_size = 1".to_owned(),
        ] {
            let err = lake.sql(&sql).await.expect_err(&sql).to_string();
            assert!(err.contains("not supported") || err.contains("not allowed"), "{sql}: {err}");
        }
        assert!(!target.exists());
    }
}
