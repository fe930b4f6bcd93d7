//! A worker process for `caracal_python` engines (`CARACAL_PYTHON_WORKER`): what the
//! crate's own tests run detections in. The `caracal` binary is its own worker.

fn main() -> std::process::ExitCode {
    caracal_python::worker::serve()
}
