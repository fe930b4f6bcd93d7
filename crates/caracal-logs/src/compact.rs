//! Compaction and retention of a local lake (`caracal lake compact`).
//!
//! **Compaction** merges the Parquet files of each hour partition into files of up to
//! [`CompactOptions::target_bytes`] (input bytes). Files of differing schemas merge under
//! the merged schema ([`merge_schemas`]): a column an older file lacks reads as null.
//!
//! Crash safety: each merge of inputs `I` is named by a hash of their names and sizes,
//! `h`, and goes through four steps, each a single rename or delete:
//!
//! 1. write the manifest `_compact-h.json` naming `I` and the output (temporary name,
//!    then rename);
//! 2. write `compact-h.parquet.tmp`, then rename it to `compact-h.parquet`;
//! 3. delete every file of `I`;
//! 4. delete the manifest.
//!
//! Before touching a partition, leftovers are settled ([`recover`]): a manifest whose
//! output exists rolls forward (its remaining inputs are deleted, they are in the output);
//! one whose output does not exist rolls back (the temporary output is deleted, the inputs
//! were never touched). So a crash between any two steps leaves at worst the inputs and
//! the output side by side until the next run, which never counts a row twice. Readers
//! skip `_` and `.` names and `.tmp` files (as Hive and Athena do).
//!
//! **Retention** deletes the hour partitions that ended more than
//! [`CompactOptions::retain`] ago: the folder is renamed to a hidden `.trash-` name first
//! (readers see all of it or none), then removed; a rerun removes a leftover trash folder.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, new_null_array};
use arrow_schema::{DataType, FieldRef, Schema, SchemaRef};
use chrono::{DateTime, Duration, Utc};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use serde::{Deserialize, Serialize};
use tracing::{info, warn};

use crate::lake_tables::{LakeKey, local_footer_schema, merge_schemas};

/// Why compaction stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CompactError {
    /// A file or folder cannot be read, written, renamed or deleted.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A Parquet file cannot be read or written, or its rows not fitted to the merged
    /// schema.
    #[error("{path}: {reason}")]
    Parquet {
        /// The file.
        path: String,
        /// What failed.
        reason: String,
    },
    /// A manifest left by an earlier run is not readable.
    #[error("{path}: not a compaction manifest: {reason}")]
    Manifest {
        /// The manifest.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

/// What `compact` does.
#[derive(Debug, Clone)]
pub struct CompactOptions {
    /// Merge a partition's files into outputs of up to this many input bytes.
    pub target_bytes: u64,
    /// Delete hour partitions that ended longer ago than this; `None` keeps everything.
    pub retain: Option<Duration>,
    /// Report what would be done, change nothing.
    pub dry_run: bool,
    /// "Now" for retention (tests pass a fixed time).
    pub now: DateTime<Utc>,
}

impl Default for CompactOptions {
    fn default() -> Self {
        CompactOptions { target_bytes: 128 << 20, retain: None, dry_run: false, now: Utc::now() }
    }
}

/// What `compact` did (or, with `dry_run`, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CompactReport {
    /// Hour partitions looked at.
    pub partitions: u64,
    /// Files merged away.
    pub files_in: u64,
    /// Files written in their place.
    pub files_out: u64,
    /// Rows in the merged files.
    pub rows: u64,
    /// Bytes of the merged inputs.
    pub bytes_in: u64,
    /// Bytes of the outputs.
    pub bytes_out: u64,
    /// Partitions deleted by retention.
    pub partitions_deleted: u64,
    /// Files deleted by retention.
    pub files_deleted: u64,
    /// Interrupted merges settled (rolled forward or back) from an earlier run.
    pub recovered: u64,
}

/// A merge in progress, as its manifest records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    /// Input file names, in the partition folder.
    inputs: Vec<String>,
    /// The output file name.
    output: String,
}

/// The step after which a simulated crash stops a merge (tests only pass `Some`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Manifest,
    Output,
    Deletes,
}

/// Compacts and applies retention to every hour partition under `root`.
pub fn compact(root: &Path, options: &CompactOptions) -> Result<CompactReport, CompactError> {
    compact_until(root, options, None)
}

fn compact_until(
    root: &Path,
    options: &CompactOptions,
    stop: Option<Stop>,
) -> Result<CompactReport, CompactError> {
    let mut report = CompactReport::default();
    for dir in partitions(root)? {
        report.partitions += 1;
        if !options.dry_run {
            report.recovered += recover(&dir.path)?;
        }
        if let Some(retain) = options.retain
            && dir.hour + Duration::hours(1) + retain <= options.now
        {
            delete_partition(&dir.path, options.dry_run, &mut report)?;
            continue;
        }
        compact_partition(&dir.path, options, stop, &mut report)?;
    }
    Ok(report)
}

/// An hour partition folder.
struct PartitionDir {
    path: PathBuf,
    hour: DateTime<Utc>,
}

/// Every `<table>/year=/month=/day=/hour=` folder under `root`, sorted; trash left by an
/// interrupted retention is removed on the way.
fn partitions(root: &Path) -> Result<Vec<PartitionDir>, CompactError> {
    let mut out = Vec::new();
    let mut stack = vec![(root.to_path_buf(), 0usize)];
    while let Some((dir, depth)) = stack.pop() {
        for entry in read_dir(&dir)? {
            if !entry.is_dir() {
                continue;
            }
            let name = file_name(&entry);
            if name.starts_with(".trash-") {
                fs::remove_dir_all(&entry).map_err(io(&entry))?;
                continue;
            }
            if name.starts_with(['.', '_']) {
                continue;
            }
            if depth < 4 {
                stack.push((entry, depth + 1));
                continue;
            }
            // depth 4: `<table>/year/month/day/hour`; parse through a file key.
            let rel = entry.strip_prefix(root).unwrap_or(&entry);
            let key: Vec<String> =
                rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            if let Some(parsed) = LakeKey::parse(&format!("{}/x.parquet", key.join("/"))) {
                out.push(PartitionDir { path: entry, hour: parsed.hour });
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Settles the merges an earlier run left in `dir`; returns how many.
fn recover(dir: &Path) -> Result<u64, CompactError> {
    let mut settled = 0;
    for path in read_dir(dir)? {
        let name = file_name(&path);
        if name.starts_with("compact-") && name.ends_with(".parquet.tmp") {
            // An output never renamed into place: its manifest (if any) rolls back below.
            remove(&path)?;
            continue;
        }
        if name.starts_with("_compact-") && name.ends_with(".json.tmp") {
            remove(&path)?;
            continue;
        }
        if !(name.starts_with("_compact-") && name.ends_with(".json")) {
            continue;
        }
        let text = fs::read_to_string(&path).map_err(io(&path))?;
        let manifest: Manifest = serde_json::from_str(&text).map_err(|e| {
            CompactError::Manifest { path: path.display().to_string(), reason: e.to_string() }
        })?;
        if dir.join(&manifest.output).exists() {
            for input in &manifest.inputs {
                let input = dir.join(input);
                if input.exists() {
                    remove(&input)?;
                }
            }
            info!(partition = %dir.display(), output = %manifest.output, "Interrupted compaction completed.");
        } else {
            info!(partition = %dir.display(), output = %manifest.output, "Interrupted compaction rolled back.");
        }
        remove(&path)?;
        settled += 1;
    }
    Ok(settled)
}

fn delete_partition(
    dir: &Path,
    dry_run: bool,
    report: &mut CompactReport,
) -> Result<(), CompactError> {
    let files = read_dir(dir)?.iter().filter(|p| p.is_file()).count() as u64;
    report.partitions_deleted += 1;
    report.files_deleted += files;
    if dry_run {
        return Ok(());
    }
    let Some(parent) = dir.parent() else { return Ok(()) };
    let trash = parent.join(format!(".trash-{}", file_name(dir)));
    fs::rename(dir, &trash).map_err(io(dir))?;
    fs::remove_dir_all(&trash).map_err(io(&trash))?;
    info!(partition = %dir.display(), files, "Partition deleted by retention.");
    // Drop emptied day / month / year folders (never the table folder or the root).
    let mut up = parent.to_path_buf();
    for _ in 0..3 {
        if read_dir(&up)?.is_empty() {
            fs::remove_dir(&up).map_err(io(&up))?;
        }
        match up.parent() {
            Some(p) => up = p.to_path_buf(),
            None => break,
        }
    }
    Ok(())
}

/// The Parquet files of a partition with their sizes, sorted by name.
fn partition_files(dir: &Path) -> Result<Vec<(String, u64)>, CompactError> {
    let mut files = Vec::new();
    for path in read_dir(dir)? {
        let name = file_name(&path);
        if !path.is_file() || !name.ends_with(".parquet") || name.starts_with(['.', '_']) {
            continue;
        }
        let size = fs::metadata(&path).map_err(io(&path))?.len();
        files.push((name, size));
    }
    files.sort();
    Ok(files)
}

/// Groups files, in name order, into runs of up to `target` bytes; only runs of two or
/// more files are merged.
fn groups(files: &[(String, u64)], target: u64) -> Vec<Vec<(String, u64)>> {
    let mut out: Vec<Vec<(String, u64)>> = Vec::new();
    let mut current: Vec<(String, u64)> = Vec::new();
    let mut bytes = 0;
    for file in files {
        if !current.is_empty() && bytes + file.1 > target {
            out.push(std::mem::take(&mut current));
            bytes = 0;
        }
        bytes += file.1;
        current.push(file.clone());
    }
    out.push(current);
    out.retain(|g| g.len() > 1);
    out
}

/// The merge's name: FNV-1a (64 bit) over the inputs' names and sizes, so the same
/// inputs always give the same output name.
fn merge_hash(inputs: &[(String, u64)]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (name, size) in inputs {
        for byte in name.bytes().chain([0]).chain(size.to_le_bytes()) {
            h ^= u64::from(byte);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

fn compact_partition(
    dir: &Path,
    options: &CompactOptions,
    stop: Option<Stop>,
    report: &mut CompactReport,
) -> Result<(), CompactError> {
    let files = partition_files(dir)?;
    for group in groups(&files, options.target_bytes) {
        let hash = merge_hash(&group);
        let output = format!("compact-{hash}.parquet");
        let bytes_in: u64 = group.iter().map(|f| f.1).sum();
        report.files_in += group.len() as u64;
        report.files_out += 1;
        report.bytes_in += bytes_in;
        if options.dry_run {
            continue;
        }
        let manifest = Manifest {
            inputs: group.iter().map(|f| f.0.clone()).collect(),
            output: output.clone(),
        };
        // 1. The manifest.
        let manifest_path = dir.join(format!("_compact-{hash}.json"));
        let text = serde_json::to_vec_pretty(&manifest).map_err(|e| CompactError::Manifest {
            path: manifest_path.display().to_string(),
            reason: e.to_string(),
        })?;
        write_then_rename(&manifest_path, &text)?;
        if stop == Some(Stop::Manifest) {
            return Ok(());
        }
        // 2. The merged file.
        let inputs: Vec<PathBuf> = manifest.inputs.iter().map(|n| dir.join(n)).collect();
        let out_path = dir.join(&output);
        let rows = merge_files(&inputs, &out_path)?;
        report.rows += rows;
        report.bytes_out += fs::metadata(&out_path).map_err(io(&out_path))?.len();
        if stop == Some(Stop::Output) {
            return Ok(());
        }
        // 3. The inputs.
        for input in &inputs {
            remove(input)?;
        }
        if stop == Some(Stop::Deletes) {
            return Ok(());
        }
        // 4. Done.
        remove(&manifest_path)?;
        info!(partition = %dir.display(), files = inputs.len(), rows, output = %output, "Partition files merged.");
    }
    Ok(())
}

/// Merges `inputs` into `output` (through `output.tmp`) under their merged schema;
/// returns the rows written.
fn merge_files(inputs: &[PathBuf], output: &Path) -> Result<u64, CompactError> {
    let parquet_err = |path: &Path| {
        let path = path.display().to_string();
        move |e: String| CompactError::Parquet { path: path.clone(), reason: e }
    };
    let mut schemas = Vec::new();
    for input in inputs {
        schemas.push(local_footer_schema(input).map_err(|e| CompactError::Parquet {
            path: input.display().to_string(),
            reason: e.to_string(),
        })?);
    }
    let schema: SchemaRef =
        Arc::new(merge_schemas(&schemas).map_err(|e| parquet_err(output)(e.to_string()))?);
    let tmp = output.with_extension("parquet.tmp");
    let file = fs::File::create(&tmp).map_err(io(&tmp))?;
    let level = ZstdLevel::try_new(3).map_err(|e| parquet_err(&tmp)(e.to_string()))?;
    let props = WriterProperties::builder().set_compression(Compression::ZSTD(level)).build();
    let mut writer = ArrowWriter::try_new(file, schema.clone(), Some(props))
        .map_err(|e| parquet_err(&tmp)(e.to_string()))?;
    let mut rows = 0u64;
    for input in inputs {
        let file = fs::File::open(input).map_err(io(input))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .and_then(|b| b.build())
            .map_err(|e| parquet_err(input)(e.to_string()))?;
        for batch in reader {
            let batch = batch.map_err(|e| parquet_err(input)(e.to_string()))?;
            let batch = conform(&batch, &schema).map_err(parquet_err(input))?;
            rows += batch.num_rows() as u64;
            writer.write(&batch).map_err(|e| parquet_err(&tmp)(e.to_string()))?;
        }
    }
    let file = writer.into_inner().map_err(|e| parquet_err(&tmp)(e.to_string()))?;
    file.sync_all().map_err(io(&tmp))?;
    fs::rename(&tmp, output).map_err(io(output))?;
    Ok(rows)
}

/// The batch's columns in `schema`'s order: missing columns as nulls, others cast to the
/// merged type where it differs (a nested struct that gained a field).
fn conform(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch, String> {
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let column = match batch.column_by_name(field.name()) {
            None => new_null_array(field.data_type(), batch.num_rows()),
            Some(c) if c.data_type() == field.data_type() => c.clone(),
            Some(c) => arrow_cast::cast(c, field.data_type())
                .map_err(|e| format!("column {}: {e}", field.name()))?,
        };
        columns.push(column);
    }
    RecordBatch::try_new(schema.clone(), columns).map_err(|e| e.to_string())
}

fn write_then_rename(path: &Path, bytes: &[u8]) -> Result<(), CompactError> {
    let tmp = PathBuf::from(format!("{}.tmp", path.display()));
    fs::write(&tmp, bytes).map_err(io(&tmp))?;
    fs::rename(&tmp, path).map_err(io(path))
}

fn remove(path: &Path) -> Result<(), CompactError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        // Already gone (a concurrent run, or a retry): the goal is reached.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            warn!(path = %path.display(), "File already deleted.");
            Ok(())
        }
        Err(e) => Err(io(path)(e)),
    }
}

fn read_dir(dir: &Path) -> Result<Vec<PathBuf>, CompactError> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(io(dir))? {
        out.push(entry.map_err(io(dir))?.path());
    }
    out.sort();
    Ok(out)
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> CompactError + '_ {
    move |source| CompactError::Io { path: path.display().to_string(), source }
}

/// Every row of the lake's Parquet files per table, for tests and `--dry-run` checks:
/// rows as `column=value` lists (nulls left out), sorted.
pub fn rows_by_table(root: &Path) -> Result<BTreeMap<String, Vec<String>>, CompactError> {
    use arrow_cast::display::{ArrayFormatter, FormatOptions};
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let files = crate::lake_tables::local_lake_files(root).map_err(|e| CompactError::Parquet {
        path: root.display().to_string(),
        reason: e.to_string(),
    })?;
    for (key, path) in files {
        let Some(parsed) = LakeKey::parse(&key) else { continue };
        let file = fs::File::open(&path).map_err(io(&path))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .and_then(|b| b.build())
            .map_err(|e| CompactError::Parquet { path: key.clone(), reason: e.to_string() })?;
        let rows = out.entry(parsed.table).or_default();
        for batch in reader {
            let batch = batch
                .map_err(|e| CompactError::Parquet { path: key.clone(), reason: e.to_string() })?;
            let schema: &Schema = &batch.schema();
            let options = FormatOptions::default();
            // Named time zones need chrono-tz to print; UTC instants print the same bare.
            let columns = batch
                .columns()
                .iter()
                .map(|c| arrow_cast::cast(c, &without_time_zones(c.data_type())))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| CompactError::Parquet { path: key.clone(), reason: e.to_string() })?;
            let formatters = columns
                .iter()
                .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| CompactError::Parquet { path: key.clone(), reason: e.to_string() })?;
            for row in 0..batch.num_rows() {
                let mut cells: Vec<String> = schema
                    .fields()
                    .iter()
                    .zip(batch.columns())
                    .zip(&formatters)
                    .filter(|((_, c), _)| c.is_valid(row))
                    .map(|((f, _), fmt)| format!("{}={}", f.name(), fmt.value(row)))
                    .collect();
                cells.sort();
                rows.push(cells.join("\u{1f}"));
            }
        }
        rows.sort();
    }
    Ok(out)
}

/// `data_type` with every timestamp's time zone dropped, nested ones included.
fn without_time_zones(data_type: &DataType) -> DataType {
    let field = |f: &FieldRef| -> FieldRef {
        Arc::new(f.as_ref().clone().with_data_type(without_time_zones(f.data_type())))
    };
    match data_type {
        DataType::Timestamp(unit, Some(_)) => DataType::Timestamp(*unit, None),
        DataType::List(f) => DataType::List(field(f)),
        DataType::LargeList(f) => DataType::LargeList(field(f)),
        DataType::Struct(fields) => DataType::Struct(fields.iter().map(field).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Int64Array, StringArray};
    use arrow_schema::Field;

    const PART: &str = "t/year=2024/month=01/day=02/hour=03";

    fn write(root: &Path, name: &str, ids: &[&str], with_new_column: bool) {
        let dir = root.join(PART);
        fs::create_dir_all(&dir).expect("dir");
        let mut fields = vec![Field::new("p_row_id", DataType::Utf8, false)];
        let mut cols: Vec<ArrayRef> = vec![Arc::new(StringArray::from(ids.to_vec()))];
        if with_new_column {
            fields.push(Field::new("n", DataType::Int64, true));
            cols.push(Arc::new(Int64Array::from_iter_values((0..ids.len() as i64).map(|i| i * 7))));
        }
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).expect("batch");
        let file = fs::File::create(dir.join(name)).expect("file");
        let mut w = ArrowWriter::try_new(file, batch.schema(), None).expect("writer");
        w.write(&batch).expect("write");
        w.close().expect("close");
    }

    fn lake() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "a.parquet", &["a1", "a2"], false);
        write(dir.path(), "b.parquet", &["b1"], true);
        write(dir.path(), "c.parquet", &["c1", "c2", "c3"], false);
        dir
    }

    fn names(root: &Path) -> Vec<String> {
        read_dir(&root.join(PART)).expect("ls").iter().map(|p| file_name(p)).collect()
    }

    #[test]
    fn a_crash_between_any_two_steps_is_settled_by_the_next_run_without_doubling() {
        for stop in [Stop::Manifest, Stop::Output, Stop::Deletes] {
            let dir = lake();
            let before = rows_by_table(dir.path()).expect("rows");
            let options = CompactOptions::default();
            compact_until(dir.path(), &options, Some(stop)).expect("crashed run");
            if stop == Stop::Output {
                // Inputs and output side by side: the state the recovery exists for.
                assert_eq!(names(dir.path()).len(), 5, "{:?}", names(dir.path()));
            }
            let report = compact(dir.path(), &options).expect("rerun");
            assert_eq!(report.recovered, 1, "{stop:?}");
            let files = names(dir.path());
            assert_eq!(files.len(), 1, "{stop:?}: {files:?}");
            assert!(files[0].starts_with("compact-"), "{files:?}");
            assert_eq!(rows_by_table(dir.path()).expect("rows"), before, "{stop:?}");
        }
    }

    #[test]
    fn same_inputs_give_the_same_output_name() {
        let a = [("x.parquet".to_owned(), 10), ("y.parquet".to_owned(), 20)];
        let b = [("x.parquet".to_owned(), 10), ("y.parquet".to_owned(), 21)];
        assert_eq!(merge_hash(&a), merge_hash(&a));
        assert_ne!(merge_hash(&a), merge_hash(&b));
    }

    #[test]
    fn groups_stop_at_the_target_and_skip_single_files() {
        let files: Vec<(String, u64)> = (0..5).map(|i| (format!("{i}.parquet"), 40)).collect();
        let g = groups(&files, 100);
        assert_eq!(g.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2]);
    }
}
