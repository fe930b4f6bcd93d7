//! Lake maintenance use cases: describe the tables of a local or S3 lake (from the Parquet
//! footers, one ranged read per S3 object) as Athena / Glue DDL or CloudFormation, and
//! compact a local lake ([`caracal_logs::compact`]).

use std::path::Path;

use caracal_core::error::chain;
use caracal_logs::compact::{CompactOptions, CompactReport};
use caracal_logs::glue::{self, GlueOptions};
use caracal_logs::lake_tables::{
    FOOTER_GUESS, LakeKey, LakeTable, footer_schema, local_tables, tables_from_footers,
};
use caracal_logs::s3::parse_s3_url;

use crate::context::Context;
use crate::error::{Error, Result};

/// What `lake ddl` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DdlFormat {
    /// `CREATE EXTERNAL TABLE` statements.
    Hive,
    /// A CloudFormation template of `AWS::Glue::Table` resources (JSON).
    CloudFormation,
}

/// The tables of a lake: a local folder or `s3://bucket/prefix`.
pub async fn tables(ctx: &Context, lake: &str) -> Result<Vec<LakeTable>> {
    if !lake.starts_with("s3://") {
        let root = Path::new(lake).to_path_buf();
        return tokio::task::spawn_blocking(move || local_tables(&root))
            .await
            .map_err(|e| Error::Task("reading lake footers", e.to_string()))?
            .map_err(|e| Error::Invalid(format!("lake {lake}: {e}")));
    }
    let (bucket, prefix) = parse_s3_url(lake)
        .ok_or_else(|| Error::Invalid(format!("--lake {lake}: expected s3://bucket/prefix")))?;
    let s3 = ctx.home_clients().await?.s3();
    let list_prefix = if prefix.is_empty() { String::new() } else { format!("{prefix}/") };
    let mut footers = Vec::new();
    let mut token = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix(&list_prefix)
            .set_continuation_token(token.take())
            .send()
            .await
            .map_err(|e| Error::Invalid(format!("listing {lake}: {}", chain(&e))))?;
        for object in page.contents() {
            let Some(key) = object.key() else { continue };
            let rel = &key[list_prefix.len().min(key.len())..];
            if LakeKey::parse(rel).is_none() {
                continue;
            }
            let size = object.size().and_then(|s| usize::try_from(s).ok()).unwrap_or(0);
            let mut want = FOOTER_GUESS.min(size.max(8));
            let schema = loop {
                let out = s3
                    .get_object()
                    .bucket(bucket)
                    .key(key)
                    .range(format!("bytes=-{want}"))
                    .send()
                    .await
                    .map_err(|e| {
                        Error::Invalid(format!("reading s3://{bucket}/{key}: {}", chain(&e)))
                    })?;
                let tail = out
                    .body
                    .collect()
                    .await
                    .map_err(|e| Error::Invalid(format!("reading s3://{bucket}/{key}: {e}")))?
                    .into_bytes();
                match footer_schema(key, &tail) {
                    Ok(schema) => break schema,
                    Err(Ok(needed)) if needed > want && needed <= size => want = needed,
                    Err(Ok(needed)) => {
                        return Err(Error::Invalid(format!(
                            "s3://{bucket}/{key}: footer of {needed} bytes in an object of {size}"
                        )));
                    }
                    Err(Err(e)) => return Err(Error::Invalid(e.to_string())),
                }
            };
            footers.push((rel.to_owned(), schema));
        }
        match page.next_continuation_token() {
            Some(t) if page.is_truncated() == Some(true) => token = Some(t.to_owned()),
            _ => break,
        }
    }
    tables_from_footers(footers).map_err(|e| Error::Invalid(format!("lake {lake}: {e}")))
}

/// The DDL (or CloudFormation template) for every table of `lake`. `location` is the S3
/// location Athena reads (default: the lake itself when it is on S3).
pub async fn ddl(
    ctx: &Context,
    lake: &str,
    database: &str,
    location: Option<&str>,
    format: DdlFormat,
) -> Result<String> {
    let location = match location {
        Some(l) => l.to_owned(),
        None if lake.starts_with("s3://") => lake.to_owned(),
        None => {
            return Err(Error::Invalid(format!(
                "lake {lake} is a local folder: give --location s3://bucket/prefix, where Athena will read it"
            )));
        }
    };
    let tables = tables(ctx, lake).await?;
    if tables.is_empty() {
        return Err(Error::Invalid(format!("lake {lake} holds no Parquet tables")));
    }
    let options = GlueOptions { database: database.to_owned(), location, last_year: None };
    let invalid = |e: glue::UnsupportedType| Error::Invalid(e.to_string());
    match format {
        DdlFormat::Hive => glue::ddl(&tables, &options).map_err(invalid),
        DdlFormat::CloudFormation => {
            let template = glue::cloudformation_template(&tables, &options).map_err(invalid)?;
            serde_json::to_string_pretty(&template).map_err(|e| Error::Invalid(e.to_string()))
        }
    }
}

/// Compacts (and with `retain` prunes) a local lake.
pub async fn compact(lake: &str, options: CompactOptions) -> Result<CompactReport> {
    if lake.starts_with("s3://") {
        return Err(Error::Invalid(format!(
            "lake {lake}: compaction works on a local lake folder only for now"
        )));
    }
    let root = Path::new(lake).to_path_buf();
    tokio::task::spawn_blocking(move || caracal_logs::compact::compact(&root, &options))
        .await
        .map_err(|e| Error::Task("lake compaction", e.to_string()))?
        .map_err(|e| Error::Invalid(format!("compacting {lake}: {e}")))
}
