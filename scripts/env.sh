# Sourced by the scripts: where caracal keeps its build cache and Python venv.
# Everything lives outside the clone so CI and fresh clones reuse it.
export CARACAL_HOME="${CARACAL_HOME:-$HOME/.cache/caracal}"
export CARACAL_VENV="${CARACAL_VENV:-$CARACAL_HOME/venv}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CARACAL_HOME/target}"
# pyo3 builds against this interpreter; the venv is made from the same one so build and
# run agree (BUILD.md). Resolve through pyenv shims to the real executable.
if [ -z "${PYO3_PYTHON:-}" ]; then
  PYO3_PYTHON="$(python3 -c 'import sys; print(sys.executable)')"
  export PYO3_PYTHON
fi
export PYTHONUNBUFFERED=1
