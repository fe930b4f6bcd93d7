//! Local files and folders as a source: `caracal logs process PATH`.

use std::fs::File;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::error::Error;
use crate::process::{ObjectInfo, Processor, Report};
use crate::sink::EventSink;

fn io(p: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io { path: p.display().to_string(), source }
}

/// Every regular file under `path` (or `path` itself), sorted, hidden files skipped.
pub fn files_under(path: &Path) -> Result<Vec<PathBuf>, Error> {
    let meta = std::fs::metadata(path).map_err(io(path))?;
    if meta.is_file() {
        return Ok(vec![path.to_owned()]);
    }
    let mut out = Vec::new();
    let mut stack = vec![path.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).map_err(io(&dir))? {
            let entry = entry.map_err(io(&dir))?;
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let p = entry.path();
            let kind = entry.file_type().map_err(io(&p))?;
            if kind.is_dir() {
                stack.push(p);
            } else if kind.is_file() {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Processes every file under `path`. A file that cannot be opened stops with `Err`;
/// problems inside a file are record errors in the report.
pub fn process_path(
    processor: &mut Processor<'_>,
    path: &Path,
    sink: &mut dyn EventSink,
) -> Result<Report, Error> {
    let mut report = Report::default();
    for file in files_under(path)? {
        let handle = File::open(&file).map_err(io(&file))?;
        let mtime = handle
            .metadata()
            .and_then(|m| m.modified())
            .map(DateTime::<Utc>::from)
            .unwrap_or_else(|_| Utc::now());
        let object = ObjectInfo { name: file.display().to_string(), reference_time: mtime };
        report.merge(processor.process(&object, handle, sink)?);
    }
    Ok(report)
}
