//! `eval_rules`' results (Python lists, see runtime.py `_alert_fields`) → [`RuleOutcome`]s,
//! read while the GIL is held instead of going through `json.dumps` and a JSON parse.
//!
//! Alert contexts become JSON values as `json.dumps(value, default=str)` would write
//! them (tuples as arrays, keys as strings, any other object as its `str()`), with
//! these differences, all cases where `json.dumps` failed the whole batch: non-finite
//! floats become `null`, keys of other types their `str()`, and a context that is
//! circular, nested deeper than [`MAX_DEPTH`], or raises while being read (a `__str__`
//! or `items()` that fails) is dropped with an error on that alert alone.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Number, Value};

use crate::engine::RuleOutcome;
use crate::error::Error;

/// Deeper alert contexts are dropped (`json.dumps` stops near Python's recursion limit).
pub(crate) const MAX_DEPTH: usize = 200;

/// Positions in an alert list (runtime.py `_ALERT_SLOTS`).
const TITLE: usize = 2;
const DEDUP: usize = 3;
const SEVERITY: usize = 4;
const ALERT_CONTEXT: usize = 5;
const DESCRIPTION: usize = 6;
const REFERENCE: usize = 7;
const RUNBOOK: usize = 8;
const DESTINATIONS: usize = 9;
const ERRORS: usize = 10;
const ALERT_LEN: usize = 11;
/// An error entry: [event, rule, message].
const ERROR_LEN: usize = 3;

/// Reads `eval_rules`' list of outcomes.
pub(crate) fn read_outcomes(out: &Bound<'_, PyAny>) -> Result<Vec<RuleOutcome>, Error> {
    let list = out.cast::<PyList>().map_err(Error::python)?;
    let mut outcomes = Vec::with_capacity(list.len());
    for entry in list.iter() {
        let entry = entry.cast_into::<PyList>().map_err(Error::python)?;
        outcomes.push(read_entry(&entry).map_err(Error::python)?);
    }
    Ok(outcomes)
}

fn read_entry(entry: &Bound<'_, PyList>) -> PyResult<RuleOutcome> {
    let field = |i: usize| entry.get_item(i);
    let text = |i: usize| -> PyResult<Option<String>> { opt_string(&field(i)?) };
    let mut outcome = RuleOutcome {
        event: field(0)?.extract()?,
        rule: field(1)?.extract()?,
        error: None,
        title: None,
        dedup: None,
        severity: None,
        alert_context: None,
        description: None,
        reference: None,
        runbook: None,
        destinations: None,
        errors: Vec::new(),
    };
    match entry.len() {
        ERROR_LEN => outcome.error = text(2)?,
        ALERT_LEN => {
            outcome.title = text(TITLE)?;
            outcome.dedup = text(DEDUP)?;
            outcome.severity = text(SEVERITY)?;
            outcome.description = text(DESCRIPTION)?;
            outcome.reference = text(REFERENCE)?;
            outcome.runbook = text(RUNBOOK)?;
            let destinations = field(DESTINATIONS)?;
            if !destinations.is_none() {
                let items = destinations.cast::<PyList>()?;
                let mut names = Vec::with_capacity(items.len());
                for item in items.iter() {
                    names.push(string(&item)?);
                }
                outcome.destinations = Some(names);
            }
            let errors = field(ERRORS)?;
            if !errors.is_none() {
                for item in errors.cast::<PyList>()?.iter() {
                    outcome.errors.push(string(&item)?);
                }
            }
            let context = field(ALERT_CONTEXT)?;
            if !context.is_none() {
                match to_json(&context, &mut Vec::new()) {
                    Ok(value) => outcome.alert_context = Some(value),
                    Err(Convert::TooDeep) => outcome.errors.push(format!(
                        "alert_context: ValueError: nested deeper than {MAX_DEPTH} levels"
                    )),
                    Err(Convert::Circular) => outcome
                        .errors
                        .push("alert_context: ValueError: Circular reference detected".into()),
                    Err(Convert::Python(err)) => outcome.errors.push(format!(
                        "alert_context: {}",
                        crate::interp::describe(context.py(), &err)
                    )),
                }
            }
        }
        n => {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "eval_rules returned an outcome of {n} fields"
            )));
        }
    }
    Ok(outcome)
}

fn opt_string(value: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
    if value.is_none() { Ok(None) } else { string(value).map(Some) }
}

/// A `str`'s text; lone surrogates (which `json.dumps` escapes) become U+FFFD.
fn string(value: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(value.cast::<PyString>()?.to_string_lossy().into_owned())
}

enum Convert {
    TooDeep,
    Circular,
    Python(PyErr),
}

impl From<PyErr> for Convert {
    fn from(err: PyErr) -> Self {
        Self::Python(err)
    }
}

/// A Python value as `json.dumps(value, default=str)` would write it (see the module doc).
/// `path` holds the containers being converted (their addresses), to catch cycles.
fn to_json(value: &Bound<'_, PyAny>, path: &mut Vec<usize>) -> Result<Value, Convert> {
    if value.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(Value::String(s.to_string_lossy().into_owned()));
    }
    if let Ok(b) = value.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if value.is_instance_of::<PyInt>() {
        if let Ok(n) = value.extract::<i64>() {
            return Ok(Value::Number(n.into()));
        }
        if let Ok(n) = value.extract::<u64>() {
            return Ok(Value::Number(n.into()));
        }
        // Beyond 64 bits: what a JSON parser without arbitrary precision reads.
        let f = value.extract::<f64>().unwrap_or(f64::NAN);
        return Ok(Number::from_f64(f).map_or(Value::Null, Value::Number));
    }
    if let Ok(f) = value.cast::<PyFloat>() {
        return Ok(Number::from_f64(f.value()).map_or(Value::Null, Value::Number));
    }
    let container = value.is_instance_of::<PyDict>()
        || value.is_instance_of::<PyList>()
        || value.is_instance_of::<PyTuple>();
    if !container {
        return Ok(Value::String(value.str()?.to_string_lossy().into_owned()));
    }
    let address = value.as_ptr() as usize;
    if path.contains(&address) {
        return Err(Convert::Circular);
    }
    if path.len() >= MAX_DEPTH {
        return Err(Convert::TooDeep);
    }
    path.push(address);
    let converted = container_to_json(value, path);
    path.pop();
    converted
}

/// A dict, list or tuple (see [`to_json`]).
fn container_to_json(value: &Bound<'_, PyAny>, path: &mut Vec<usize>) -> Result<Value, Convert> {
    if let Ok(dict) = value.cast::<PyDict>() {
        let mut map = Map::new();
        if value.is_exact_instance_of::<PyDict>() {
            for (k, v) in dict.iter() {
                map.insert(key(&k)?, to_json(&v, path)?);
            }
        } else {
            // Subclasses (lazy objects, events) through their own items(), as json.dumps.
            for pair in value.call_method0("items")?.try_iter()? {
                let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = pair?.extract()?;
                map.insert(key(&k)?, to_json(&v, path)?);
            }
        }
        return Ok(Value::Object(map));
    }
    if let Ok(list) = value.cast::<PyList>() {
        let mut items = Vec::with_capacity(list.len());
        for item in list.iter() {
            items.push(to_json(&item, path)?);
        }
        return Ok(Value::Array(items));
    }
    let tuple = value.cast::<PyTuple>().map_err(PyErr::from)?;
    let mut items = Vec::with_capacity(tuple.len());
    for item in tuple.iter() {
        items.push(to_json(&item, path)?);
    }
    Ok(Value::Array(items))
}

/// An object key as `json.dumps` writes it (`str()` for types it rejects).
fn key(k: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(s) = k.cast::<PyString>() {
        return Ok(s.to_string_lossy().into_owned());
    }
    if let Ok(b) = k.cast::<PyBool>() {
        return Ok(if b.is_true() { "true" } else { "false" }.to_owned());
    }
    if k.is_none() {
        return Ok("null".to_owned());
    }
    Ok(k.str()?.to_string_lossy().into_owned())
}
