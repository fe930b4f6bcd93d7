//! What tables a lake holds and their Arrow schemas, read from the Parquet footers.
//!
//! Nothing here assumes the writer's schema: a table's schema is the merge of the schemas
//! of its files (a column that only later files carry is nullable), so whatever columns
//! the [`LakeWriter`](crate::LakeWriter) writes today or tomorrow are described.
//!
//! A lake file's key is `<table>/year=YYYY/month=MM/day=DD/hour=HH/<name>.parquet`
//! ([`LakeKey::parse`]). Footers are decoded from the file's tail alone
//! ([`footer_schema`]), so an S3 lake needs one ranged read per file.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_schema::{Field, Schema, SchemaRef};
use chrono::{DateTime, TimeZone, Utc};
use parquet::arrow::parquet_to_arrow_schema;
use parquet::file::metadata::{FooterTail, ParquetMetaDataReader};

/// The Hive partition columns of every lake table, outermost first.
pub const PARTITION_COLUMNS: [&str; 4] = ["year", "month", "day", "hour"];

/// Bytes read from a file's end on the first try: most footers fit.
pub const FOOTER_GUESS: usize = 64 << 10;

/// Why a lake's tables cannot be described.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LakeTablesError {
    /// A file or folder cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A file's footer is not a valid Parquet footer.
    #[error("{key}: not a readable Parquet footer: {reason}")]
    Footer {
        /// The file.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// Two files of one table give a column different types.
    #[error("table {table}: files disagree on a column's type ({key}): {reason}")]
    Conflict {
        /// The table.
        table: String,
        /// The file whose schema did not merge.
        key: String,
        /// The merge error.
        reason: String,
    },
}

/// A lake file's place: its table and hour partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LakeKey {
    /// The table (first path segment).
    pub table: String,
    /// The partition folder, `<table>/year=…/month=…/day=…/hour=…`.
    pub partition: String,
    /// The start of the partition's hour.
    pub hour: DateTime<Utc>,
    /// The file name.
    pub file: String,
}

impl LakeKey {
    /// Parses a `/`-separated key relative to the lake root; `None` for anything that is
    /// not a finished lake file (temporary files, manifests, other layouts).
    pub fn parse(key: &str) -> Option<LakeKey> {
        let parts: Vec<&str> = key.split('/').collect();
        let [table, year, month, day, hour, file] = parts.as_slice() else { return None };
        if table.is_empty() || !file.ends_with(".parquet") || file.starts_with(['.', '_']) {
            return None;
        }
        let value = |part: &str, name: &str| -> Option<u32> {
            part.strip_prefix(name)?.strip_prefix('=')?.parse().ok()
        };
        let hour_start = partition_hour(
            value(year, "year")?,
            value(month, "month")?,
            value(day, "day")?,
            value(hour, "hour")?,
        )?;
        Some(LakeKey {
            table: (*table).to_owned(),
            partition: parts[..5].join("/"),
            hour: hour_start,
            file: (*file).to_owned(),
        })
    }
}

/// The start of an hour partition, `None` for an impossible date.
pub fn partition_hour(year: u32, month: u32, day: u32, hour: u32) -> Option<DateTime<Utc>> {
    let year = i32::try_from(year).ok()?;
    Utc.with_ymd_and_hms(year, month, day, hour, 0, 0).single()
}

/// Decodes the Arrow schema from the last bytes of a Parquet file. `Err(Ok(n))`: the
/// footer is longer, read the last `n` bytes and call again.
pub fn footer_schema(key: &str, tail: &[u8]) -> Result<SchemaRef, Result<usize, LakeTablesError>> {
    let bad = |reason: String| Err(LakeTablesError::Footer { key: key.to_owned(), reason });
    let Some(last8) = tail.len().checked_sub(8).map(|at| &tail[at..]) else {
        return Err(bad("shorter than a footer".into()));
    };
    let footer = FooterTail::try_from(last8).map_err(|e| bad(e.to_string()))?;
    let needed = footer.metadata_length() + 8;
    if tail.len() < needed {
        return Err(Ok(needed));
    }
    let meta = &tail[tail.len() - needed..tail.len() - 8];
    let meta = ParquetMetaDataReader::decode_metadata(meta).map_err(|e| bad(e.to_string()))?;
    let file = meta.file_metadata();
    let schema = parquet_to_arrow_schema(file.schema_descr(), file.key_value_metadata())
        .map_err(|e| bad(e.to_string()))?;
    Ok(Arc::new(schema))
}

/// Reads a local Parquet file's Arrow schema from its footer.
pub fn local_footer_schema(path: &Path) -> Result<SchemaRef, LakeTablesError> {
    let io = |source| LakeTablesError::Io { path: path.display().to_string(), source };
    let mut file = fs::File::open(path).map_err(io)?;
    let len = usize::try_from(file.metadata().map_err(io)?.len()).unwrap_or(usize::MAX);
    let mut want = FOOTER_GUESS.min(len);
    loop {
        let back = i64::try_from(want).unwrap_or(i64::MAX);
        file.seek(SeekFrom::End(-back)).map_err(io)?;
        let mut tail = vec![0; want];
        file.read_exact(&mut tail).map_err(io)?;
        match footer_schema(&path.display().to_string(), &tail) {
            Ok(schema) => return Ok(schema),
            Err(Ok(needed)) if needed > want && needed <= len => want = needed,
            Err(Ok(needed)) => {
                return Err(LakeTablesError::Footer {
                    key: path.display().to_string(),
                    reason: format!("footer of {needed} bytes in a file of {len}"),
                });
            }
            Err(Err(err)) => return Err(err),
        }
    }
}

/// Merges schemas: columns in first-seen order, nested struct fields merged alike, and a
/// column missing from any schema made nullable.
pub fn merge_schemas(schemas: &[SchemaRef]) -> Result<Schema, arrow_schema::ArrowError> {
    let merged = Schema::try_merge(schemas.iter().map(|s| s.as_ref().clone()))?;
    let fields: Vec<Field> = merged
        .fields()
        .iter()
        .map(|f| {
            let everywhere = schemas.iter().all(|s| s.field_with_name(f.name()).is_ok());
            f.as_ref().clone().with_nullable(f.is_nullable() || !everywhere)
        })
        .collect();
    Ok(Schema::new_with_metadata(fields, merged.metadata().clone()))
}

/// One table of a lake.
#[derive(Debug, Clone)]
pub struct LakeTable {
    /// The table name (its folder).
    pub name: String,
    /// The merged schema of its files.
    pub schema: SchemaRef,
    /// Its files' keys.
    pub files: Vec<String>,
    /// The earliest hour partition.
    pub first_hour: DateTime<Utc>,
}

/// A file's key and its schema.
type KeyedSchema = (String, SchemaRef);

/// Builds tables from `(key, schema)` pairs of lake files; keys that are not lake files
/// are ignored.
pub fn tables_from_footers(
    files: impl IntoIterator<Item = (String, SchemaRef)>,
) -> Result<Vec<LakeTable>, LakeTablesError> {
    let mut by_table: BTreeMap<String, (Vec<KeyedSchema>, DateTime<Utc>)> = BTreeMap::new();
    for (key, schema) in files {
        let Some(parsed) = LakeKey::parse(&key) else { continue };
        let entry = by_table.entry(parsed.table).or_insert_with(|| (Vec::new(), parsed.hour));
        entry.1 = entry.1.min(parsed.hour);
        entry.0.push((key, schema));
    }
    let mut tables = Vec::new();
    for (name, (mut files, first_hour)) in by_table {
        files.sort_by(|a, b| a.0.cmp(&b.0));
        let mut schema: Option<SchemaRef> = None;
        for (key, next) in &files {
            // Merge file by file so a conflict names the file that brought it.
            schema = Some(match schema {
                None => next.clone(),
                Some(acc) => Arc::new(merge_schemas(&[acc, next.clone()]).map_err(|e| {
                    LakeTablesError::Conflict {
                        table: name.clone(),
                        key: key.clone(),
                        reason: e.to_string(),
                    }
                })?),
            });
        }
        let schema = schema.unwrap_or_else(|| Arc::new(Schema::empty()));
        tables.push(LakeTable {
            name,
            schema,
            files: files.into_iter().map(|(k, _)| k).collect(),
            first_hour,
        });
    }
    Ok(tables)
}

/// Every finished Parquet file under a local lake root, as `(relative key, path)`, sorted.
pub fn local_lake_files(root: &Path) -> Result<Vec<(String, PathBuf)>, LakeTablesError> {
    let mut out = Vec::new();
    walk(root, root, &mut out)?;
    out.sort();
    Ok(out)
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> Result<(), LakeTablesError> {
    let io = |source| LakeTablesError::Io { path: dir.display().to_string(), source };
    for entry in fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            walk(root, &path, out)?;
        } else if let Ok(rel) = path.strip_prefix(root) {
            let key: Vec<String> =
                rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            let key = key.join("/");
            if LakeKey::parse(&key).is_some() {
                out.push((key, path));
            }
        }
    }
    Ok(())
}

/// The tables of a local lake, from every file's footer.
pub fn local_tables(root: &Path) -> Result<Vec<LakeTable>, LakeTablesError> {
    let mut footers = Vec::new();
    for (key, path) in local_lake_files(root)? {
        footers.push((key, local_footer_schema(&path)?));
    }
    tables_from_footers(footers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_schema::DataType;

    #[test]
    fn keys_parse_only_for_finished_files_in_hour_partitions() {
        let k = LakeKey::parse("aws_alb/year=2024/month=03/day=09/hour=07/abc.parquet")
            .expect("lake key");
        assert_eq!(k.table, "aws_alb");
        assert_eq!(k.partition, "aws_alb/year=2024/month=03/day=09/hour=07");
        assert_eq!(k.hour, Utc.with_ymd_and_hms(2024, 3, 9, 7, 0, 0).single().expect("time"));
        for bad in [
            "aws_alb/year=2024/month=03/day=09/hour=07/abc.parquet.tmp",
            "aws_alb/year=2024/month=03/day=09/hour=07/_compact-1.json",
            "aws_alb/year=2024/month=13/day=09/hour=07/abc.parquet",
            "aws_alb/year=2024/month=03/day=09/abc.parquet",
            "aws_alb/y=2024/month=03/day=09/hour=07/abc.parquet",
        ] {
            assert_eq!(LakeKey::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn merged_schema_makes_a_column_missing_from_some_files_nullable() {
        let a = Arc::new(Schema::new(vec![Field::new("x", DataType::Utf8, false)]));
        let b = Arc::new(Schema::new(vec![
            Field::new("x", DataType::Utf8, false),
            Field::new("y", DataType::Int64, false),
        ]));
        let m = merge_schemas(&[a.clone(), b]).expect("merge");
        assert!(!m.field_with_name("x").expect("x").is_nullable());
        assert!(m.field_with_name("y").expect("y").is_nullable());
        let c = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, false)]));
        assert!(merge_schemas(&[a, c]).is_err(), "conflicting types do not merge");
    }
}
