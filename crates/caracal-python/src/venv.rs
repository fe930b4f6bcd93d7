//! Third-party packages for packs: a virtualenv whose `site-packages` the engine puts on
//! `sys.path` ([`EngineOptions::python_paths`](crate::EngineOptions::python_paths)), and
//! [`install_requirements`] to pip-install a pack's `requirements.txt` into it.
//!
//! The virtualenv must be of the same Python minor version as the embedded interpreter
//! (the one `PYO3_PYTHON` pinned at build time); [`install_requirements`] checks that.

use std::path::{Path, PathBuf};
use std::process::Command;

use pyo3::prelude::*;
use tracing::info;

use crate::error::Error;

/// The embedded interpreter's `(major, minor)` version.
pub fn embedded_version() -> Result<(u8, u8), Error> {
    Python::attach(|py| {
        let info =
            py.import("sys").and_then(|s| s.getattr("version_info")).map_err(Error::python)?;
        let major: u8 = info.get_item(0).and_then(|v| v.extract()).map_err(Error::python)?;
        let minor: u8 = info.get_item(1).and_then(|v| v.extract()).map_err(Error::python)?;
        Ok((major, minor))
    })
}

/// `VENV/lib/pythonX.Y/site-packages` for the embedded interpreter's version.
pub fn site_packages(venv: &Path) -> Result<PathBuf, Error> {
    let (major, minor) = embedded_version()?;
    Ok(venv.join("lib").join(format!("python{major}.{minor}")).join("site-packages"))
}

/// Creates `venv` with `python` (when it does not exist) and pip-installs
/// `requirements` into it. Returns the `site-packages` folder to put on `sys.path`.
pub fn install_requirements(
    venv: &Path,
    requirements: &Path,
    python: &Path,
) -> Result<PathBuf, Error> {
    let fail = |reason: String| Error::Venv { venv: venv.to_owned(), reason };
    let (major, minor) = embedded_version()?;
    if !venv.join("bin").join("python").exists() {
        info!(venv = %venv.display(), python = %python.display(), "Creating virtualenv.");
        run(Command::new(python).arg("-m").arg("venv").arg(venv)).map_err(fail)?;
    }
    let venv_python = venv.join("bin").join("python");
    let version = Command::new(&venv_python)
        .args(["-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
        .output()
        .map_err(|e| fail(format!("cannot run {}: {e}", venv_python.display())))?;
    let version = String::from_utf8_lossy(&version.stdout).trim().to_owned();
    if version != format!("{major}.{minor}") {
        return Err(fail(format!(
            "python {version} does not match the embedded python {major}.{minor}"
        )));
    }
    info!(requirements = %requirements.display(), "Installing pack requirements.");
    run(Command::new(&venv_python)
        .args(["-m", "pip", "install", "--disable-pip-version-check", "-r"])
        .arg(requirements))
    .map_err(fail)?;
    site_packages(venv)
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let status = cmd.status().map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{cmd:?} exited with {status}")) }
}
