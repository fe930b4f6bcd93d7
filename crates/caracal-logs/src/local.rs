//! Local files and folders as a source: `caracal logs process PATH`.

use std::fs::File;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use tracing::warn;

use crate::error::Error;
use crate::process::{ObjectInfo, Processor, Report};
use crate::sink::EventSink;

fn io(p: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io { path: p.display().to_string(), source }
}

/// What a file type is, for errors about paths that are not regular files or folders.
fn kind_name(kind: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_char_device() {
        "character device"
    } else if kind.is_block_device() {
        "block device"
    } else if kind.is_fifo() {
        "FIFO"
    } else if kind.is_socket() {
        "socket"
    } else {
        "special file"
    }
}

/// Every regular file under `path` (or `path` itself), sorted, hidden files skipped;
/// symbolic links are followed. `path` itself must be a regular file or a folder
/// ([`Error::NotAFile`] for a device such as `/dev/zero`, #11.14); inside a folder, other
/// kinds of files are skipped with a warning.
pub fn files_under(path: &Path) -> Result<Vec<PathBuf>, Error> {
    let meta = std::fs::metadata(path).map_err(io(path))?;
    if meta.is_file() {
        return Ok(vec![path.to_owned()]);
    }
    if !meta.is_dir() {
        let path = path.display().to_string();
        return Err(Error::NotAFile { path, kind: kind_name(meta.file_type()) });
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
            let mut kind = entry.file_type().map_err(io(&p))?;
            if kind.is_symlink() {
                kind = std::fs::metadata(&p).map_err(io(&p))?.file_type();
            }
            if kind.is_dir() {
                stack.push(p);
            } else if kind.is_file() {
                out.push(p);
            } else {
                warn!(path = %p.display(), kind = kind_name(kind), "Skipping a file that is not a regular file.");
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

#[cfg(test)]
mod tests {
    use super::*;

    // #11.14: a device is named in a clear error, not "Not a directory".
    #[test]
    fn a_device_is_an_error_naming_it() {
        let err = files_under(Path::new("/dev/zero")).err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("cannot read /dev/zero: it is a character device, not a regular file or a folder")
        );
    }

    #[test]
    fn links_are_followed_and_hidden_files_skipped() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("a.log"), "x\n")?;
        std::fs::write(dir.path().join(".hidden"), "x\n")?;
        std::os::unix::fs::symlink(dir.path().join("a.log"), dir.path().join("b.log"))?;
        let names: Vec<String> = files_under(dir.path())?
            .iter()
            .filter_map(|p| Some(p.file_name()?.to_string_lossy().into_owned()))
            .collect();
        assert_eq!(names, ["a.log", "b.log"]);
        Ok(())
    }
}
