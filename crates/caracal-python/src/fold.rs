//! Case-insensitive key lookup, taken only when the exact key is missing (#15.3): the
//! reference event finds `eventSource` for `event.get("eventsource")`, and public
//! detections rely on it. `ImmutableDict` (python/_caracal_runtime/lazy.py) keeps dict's
//! C lookup for hits and calls [`fold_key`] on a miss.
//!
//! A miss is common (`event.get("errorCode")` on a successful call), so this scans the
//! keys in place without allocating: for an ASCII key only keys of the same length are
//! compared, byte by byte ignoring ASCII case. A non-ASCII key is compared through
//! `str.lower()`, as the reference does.

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

/// The first key of `mapping` (in order) equal to `key` but for case; None when there
/// is none or `key` is not a string.
#[pyfunction]
pub(crate) fn fold_key<'py>(
    mapping: &Bound<'py, PyDict>,
    key: &Bound<'py, PyAny>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let Ok(key) = key.cast::<PyString>() else {
        return Ok(None);
    };
    let wanted = key.to_str()?;
    let ascii = wanted.is_ascii();
    let py = mapping.py();
    let mut lowered: Option<Bound<'py, PyAny>> = None;
    let mut pos: ffi::Py_ssize_t = 0;
    let mut k: *mut ffi::PyObject = std::ptr::null_mut();
    let mut v: *mut ffi::PyObject = std::ptr::null_mut();
    loop {
        // SAFETY: the GIL is held (we have a `Bound`) and `mapping` is a dict (a
        // subclass's storage is dict's). `PyDict_Next` hands out borrowed references,
        // which we turn into owned ones before anything below can run Python code.
        let more = unsafe { ffi::PyDict_Next(mapping.as_ptr(), &mut pos, &mut k, &mut v) };
        if more == 0 {
            return Ok(None);
        }
        // SAFETY: `k` is a valid borrowed reference from `PyDict_Next` (see above).
        let candidate = unsafe { Bound::from_borrowed_ptr(py, k) };
        let Ok(candidate) = candidate.cast_into::<PyString>() else {
            continue;
        };
        if ascii {
            // SAFETY: `candidate` is a str; `PyUnicode_GetLength` only reads it.
            let length = unsafe { ffi::PyUnicode_GetLength(candidate.as_ptr()) };
            if usize::try_from(length).ok() != Some(wanted.len()) {
                continue;
            }
            if candidate.to_str()?.eq_ignore_ascii_case(wanted) {
                return Ok(Some(candidate.into_any()));
            }
        } else {
            let low = match &lowered {
                Some(low) => low.clone(),
                None => lowered.insert(key.call_method0("lower")?).clone(),
            };
            if candidate.call_method0("lower")?.eq(&low)? {
                return Ok(Some(candidate.into_any()));
            }
        }
    }
}
