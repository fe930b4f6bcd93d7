//! Links the binary with an rpath to the libpython pyo3 was built against (`PYO3_PYTHON`),
//! so the embedded interpreter at run time is that one and not another libpython with the
//! same soname (on Debian, the system 3.11 instead of pyenv's). See BUILD.md.
fn main() {
    pyo3_build_config::add_libpython_rpath_link_args();
}
