//! The embedded interpreter: installs the Python package `python/_caracal_runtime` (and
//! the helper modules beside it, [`MODULES`], carried in the binary) once, and runs the
//! watchdog thread that interrupts detections past their time limit.
//!
//! Each detection call stores a fresh sequence number in its thread's slot (one list store,
//! no clock read: that per-call cost is what the benchmark's ratio is made of). The
//! watchdog sleeps without touching the GIL unless some thread is inside a [`Busy`]
//! section. Then, every [`TICK`], it asks the runtime which slots have held the same
//! number for longer than the time limit and raises `DetectionTimeout` in those threads
//! with `PyThreadState_SetAsyncExc`,
//! which the eval loop of the looping thread picks up within a few bytecodes. Code stuck
//! inside one C call (a long `time.sleep`) is interrupted when that call returns.

use std::ffi::{CString, c_long};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::sync::{MutexExt, OnceLockExt};
use pyo3::types::{PyDict, PyModule};
use tracing::{debug, error, warn};

use crate::error::Error;

/// Serves [`MODULES`] to `import` from memory (`python/_caracal_embedded.py`).
const BOOTSTRAP: &str = include_str!("../python/_caracal_embedded.py");

/// `(path under python/, source)` of one embedded module.
macro_rules! embed {
    ($path:literal) => {
        ($path, include_str!(concat!("../python/", $path)))
    };
}

/// Every module of `python/` but the bootstrap: the runtime package and the helper
/// modules detections import (a test checks that none is missing).
const MODULES: &[(&str, &str)] = &[
    embed!("_caracal_runtime/__init__.py"),
    embed!("_caracal_runtime/alerts.py"),
    embed!("_caracal_runtime/backends.py"),
    embed!("_caracal_runtime/baseline.py"),
    embed!("_caracal_runtime/engine.py"),
    embed!("_caracal_runtime/event.py"),
    embed!("_caracal_runtime/gates.py"),
    embed!("_caracal_runtime/imports.py"),
    embed!("_caracal_runtime/lazy.py"),
    embed!("_caracal_runtime/output.py"),
    embed!("_caracal_runtime/partial.py"),
    embed!("_caracal_runtime/testing.py"),
    embed!("_caracal_runtime/watchdog.py"),
    embed!("caracal_posture.py"),
    embed!("panther_analysis_tool/__init__.py"),
    embed!("panther_analysis_tool/enriched_event.py"),
    embed!("panther_core/__init__.py"),
    embed!("panther_core/data_model.py"),
    embed!("panther_core/enriched_event.py"),
    embed!("panther_core/exceptions.py"),
    embed!("panther_core/immutable.py"),
    embed!("panther_detection_helpers/__init__.py"),
    embed!("panther_detection_helpers/caching.py"),
];
const TICK: Duration = Duration::from_millis(20);

static RUNTIME: OnceLock<Result<Py<PyModule>, String>> = OnceLock::new();
static BUSY: AtomicUsize = AtomicUsize::new(0);
static ABORT_WHEN_STUCK: AtomicBool = AtomicBool::new(false);
/// Interrupts (one per 100 ms past the deadline) before a detection counts as stuck.
const STUCK_AFTER: u32 = 30;

/// Makes the process exit with status 2 when a detection ignores ~3 s of repeated
/// interrupts (it catches `BaseException` in a loop). A thread cannot be killed, so a
/// command like `caracal test` prefers ending to hanging; long-running services keep
/// the default (off) and keep interrupting.
pub fn abort_when_stuck(on: bool) {
    ABORT_WHEN_STUCK.store(on, Ordering::Release);
}
static LOADING: Mutex<()> = Mutex::new(());

/// Serializes engine loading: globals are process-wide (`sys.modules`), so one pack's
/// globals must stay installed while its detections import them.
pub(crate) fn loading_lock(py: Python<'_>) -> MutexGuard<'static, ()> {
    LOADING.lock_py_attached(py).unwrap_or_else(PoisonError::into_inner)
}

/// The runtime module, installed on first use.
pub(crate) fn runtime(py: Python<'_>) -> Result<Bound<'_, PyModule>, Error> {
    // Installing runs Python code, which may let another thread take the GIL and wait
    // here: wait detached so that neither blocks the other.
    let module = RUNTIME.get_or_init_py_attached(py, || install(py).map_err(|e| e.to_string()));
    match module {
        Ok(m) => Ok(m.bind(py).clone()),
        Err(e) => Err(Error::Python(e.clone())),
    }
}

fn install(py: Python<'_>) -> PyResult<Py<PyModule>> {
    let code = CString::new(BOOTSTRAP)?;
    let bootstrap =
        PyModule::from_code(py, &code, c"<caracal>/_caracal_embedded.py", c"_caracal_embedded")?;
    let files = PyDict::new(py);
    for (path, source) in MODULES {
        files.set_item(path, source)?;
    }
    bootstrap.call_method1("install", (files,))?;
    let module = py.import("_caracal_runtime")?;
    module.call_method1("set_fill", (wrap_pyfunction!(crate::decode::fill_lazy, &module)?,))?;
    module.call_method1("set_fold", (wrap_pyfunction!(crate::fold::fold_key, &module)?,))?;
    // The fields of alerts, by name: checked once here rather than on every batch.
    crate::outcome::Layout::of(&module)?;
    let version: String = py.import("sys")?.getattr("version")?.extract()?;
    debug!(python = %version, "Embedded interpreter ready.");
    let overdue = module.getattr("overdue")?.unbind();
    let timeout = module.getattr("DetectionTimeout")?.unbind();
    let spawned = std::thread::Builder::new()
        .name("caracal-python-watchdog".into())
        .spawn(move || watchdog(overdue, timeout));
    if let Err(err) = spawned {
        warn!(error = %err, "Cannot start the detection watchdog; time limits are off.");
    }
    Ok(module.unbind())
}

fn watchdog(overdue: Py<PyAny>, timeout: Py<PyAny>) {
    loop {
        std::thread::sleep(TICK);
        if BUSY.load(Ordering::Acquire) == 0 {
            continue;
        }
        Python::attach(|py| {
            let late: Vec<(u64, u32)> = match overdue.call0(py).and_then(|v| v.extract(py)) {
                Ok(late) => late,
                Err(err) => {
                    warn!(error = %err, "Watchdog check failed.");
                    return;
                }
            };
            for (thread_id, fired) in late {
                if fired > STUCK_AFTER && ABORT_WHEN_STUCK.load(Ordering::Acquire) {
                    error!(
                        thread_id,
                        "A detection swallows every interrupt and cannot be stopped."
                    );
                    eprintln!(
                        "caracal: a detection keeps running past its time limit and catches every \
                         interrupt (bare `except:` in a loop?); aborting"
                    );
                    std::process::exit(2);
                }
                debug!(thread_id, fired, "Interrupting a detection past its time limit.");
                // SAFETY: we hold the GIL; the id comes from threading.get_ident(), which
                // CPython defines as the same unsigned long this function takes (the
                // binding declares it signed, hence the bit-preserving cast).
                unsafe {
                    pyo3::ffi::PyThreadState_SetAsyncExc(thread_id as c_long, timeout.as_ptr());
                }
            }
        });
    }
}

/// Marks a section that runs detection code, so the watchdog watches it.
pub(crate) struct Busy;

impl Busy {
    pub(crate) fn enter() -> Self {
        BUSY.fetch_add(1, Ordering::AcqRel);
        Busy
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        BUSY.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Adds a folder (a virtualenv's `site-packages`) to the front of `sys.path`.
pub(crate) fn add_sys_path(py: Python<'_>, path: &Path) -> Result<(), Error> {
    let rt = runtime(py)?;
    rt.call_method1("add_sys_path", (path.to_string_lossy().into_owned(),))
        .map_err(Error::python)?;
    Ok(())
}

/// Formats a Python exception as `Type: message`.
pub(crate) fn describe(py: Python<'_>, err: &PyErr) -> String {
    let name =
        err.get_type(py).name().map(|n| n.to_string()).unwrap_or_else(|_| "Exception".to_owned());
    let value = err.value(py);
    if let Ok(text) = value.getattr("msg").and_then(|m| m.extract::<String>()) {
        // SyntaxError and friends: include where.
        let line = value.getattr("lineno").and_then(|l| l.extract::<i64>()).ok();
        let file = value.getattr("filename").and_then(|f| f.extract::<String>()).ok();
        if let (Some(line), Some(file)) = (line, file) {
            return format!("{name}: {text} ({file}, line {line})");
        }
    }
    let text = value.to_string();
    if name == "DetectionTimeout" && text.is_empty() {
        return format!("{name}: ran longer than the time limit");
    }
    format!("{name}: {text}")
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Every Python file of `python/` is embedded: the binary never reads the source
    /// tree, so a module left out of [`super::MODULES`] would fail only at run time (#10.3).
    #[test]
    fn every_python_module_is_embedded() {
        fn walk(dir: &Path, root: &Path, found: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, root, found);
                } else if path.extension().is_some_and(|e| e == "py") {
                    let relative = path.strip_prefix(root).unwrap();
                    found.push(relative.to_string_lossy().replace('\\', "/"));
                }
            }
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("python");
        let mut found = Vec::new();
        walk(&root, &root, &mut found);
        found.retain(|p| p != "_caracal_embedded.py");
        found.sort();
        let embedded: Vec<&str> = super::MODULES.iter().map(|(path, _)| *path).collect();
        assert_eq!(found, embedded);
    }
}
