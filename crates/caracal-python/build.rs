//! Links this crate's own test and bench binaries with an rpath to the libpython that
//! pyo3 was built against (`PYO3_PYTHON`), so that `cargo test` does not pick up another
//! libpython of the same soname at run time (on Debian: the system 3.11 instead of
//! pyenv's). Link arguments of a build script apply only to this package's targets: the
//! `caracal` binary needs the same call in its own build script.
fn main() {
    pyo3_build_config::add_libpython_rpath_link_args();
}
