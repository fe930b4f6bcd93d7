//! The progress page: a small shared file a worker publishes what it runs in, read by
//! its engine without any message, so that the engine can tell which item and detection
//! a worker was on when it stopped answering or died.
//!
//! Words (little-endian `i64`): the batch loops store the item index once per item and,
//! in precise mode, the detection index before each call (a memoryview over the page,
//! `python/_caracal_runtime/watchdog.py` `published`); `guarded` stores the sequence
//! number of each call it times (tests, module code); the worker's Rust side stores what
//! it compiles (stage and pack index) while loading, and resets the item before a batch.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The item being evaluated (position in the batch), or -1.
pub(crate) const ITEM: usize = 0;
/// The detection index published before each call in precise mode, or -1.
pub(crate) const DETECTION: usize = 1;
/// The sequence number of the last timed call.
pub(crate) const CALL: usize = 2;
/// What is being compiled: 0 nothing, [`STAGE_MODEL`], [`STAGE_DETECTION`], [`STAGE_GLOBALS`].
pub(crate) const STAGE: usize = 3;
/// The pack index of the data model or detection being compiled.
pub(crate) const POSITION: usize = 4;
/// Words in use.
pub(crate) const WORDS: usize = 5;
/// Stage: a data model.
pub(crate) const STAGE_MODEL: i64 = 1;
/// Stage: a detection.
pub(crate) const STAGE_DETECTION: i64 = 2;
/// Stage: importing every global.
pub(crate) const STAGE_GLOBALS: i64 = 3;
/// Size of the file (one page).
pub(crate) const SIZE: u64 = 4096;

/// The progress page of one worker.
#[derive(Debug)]
pub(crate) struct Progress {
    file: File,
    /// Removed on drop (the engine's side, until the worker has mapped it).
    path: Option<PathBuf>,
}

impl Progress {
    /// Creates a fresh page in `/dev/shm` (else the temporary folder).
    pub(crate) fn create() -> io::Result<Self> {
        static COUNT: AtomicU64 = AtomicU64::new(0);
        let shm = Path::new("/dev/shm");
        let dir = if shm.is_dir() { shm.to_owned() } else { std::env::temp_dir() };
        let name = format!(
            "caracal-worker-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        );
        let path = dir.join(name);
        let file = OpenOptions::new().read(true).write(true).create_new(true).open(&path)?;
        file.set_len(SIZE)?;
        let progress = Self { file, path: Some(path) };
        progress.write(ITEM, &[-1, -1])?;
        progress.write(CALL, &[0, 0, -1])?;
        Ok(progress)
    }

    /// Opens the page the engine created (the worker's side).
    pub(crate) fn open(path: &Path) -> io::Result<Self> {
        let file = OpenOptions::new().read(true).write(true).open(path)?;
        Ok(Self { file, path: None })
    }

    /// Where the page is, while it has a name.
    pub(crate) fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Removes the file's name; the page lives on while open.
    pub(crate) fn unlink(&mut self) {
        if let Some(path) = self.path.take() {
            let _ = std::fs::remove_file(path);
        }
    }

    /// Every word.
    pub(crate) fn read(&self) -> [i64; WORDS] {
        let mut bytes = [0u8; WORDS * 8];
        let mut words = [0i64; WORDS];
        if self.file.read_exact_at(&mut bytes, 0).is_ok() {
            for (word, chunk) in words.iter_mut().zip(bytes.chunks_exact(8)) {
                let mut b = [0u8; 8];
                b.copy_from_slice(chunk);
                *word = i64::from_le_bytes(b);
            }
        }
        words
    }

    /// Stores `values` from word `first` on.
    pub(crate) fn write(&self, first: usize, values: &[i64]) -> io::Result<()> {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.file.write_all_at(&bytes, (first * 8) as u64)
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.unlink();
    }
}
