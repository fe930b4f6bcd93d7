//! `eval_rules`' results (Python lists, see python/_caracal_runtime/alerts.py) →
//! [`RuleOutcome`]s, read while the GIL is held instead of going through `json.dumps` and
//! a JSON parse. Fields are found by name ([`Layout`]).
//!
//! Alert contexts become JSON values as `json.dumps(value, default=str)` would write
//! them (tuples as arrays, keys as strings, any other object as its `str()`), with
//! these differences, all cases where `json.dumps` failed the whole batch: non-finite
//! floats become `null`, keys of other types their `str()`, and a context that is
//! circular, nested deeper than [`MAX_DEPTH`], or raises while being read (a `__str__`
//! or `items()` that fails) is dropped with an error on that alert alone.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyModule, PyString, PyTuple};
use serde_json::{Map, Number, Value};

use crate::engine::RuleOutcome;
use crate::error::Error;

/// Deeper alert contexts are dropped (`json.dumps` stops near Python's recursion limit).
pub(crate) const MAX_DEPTH: usize = 200;

/// Where each field of an outcome list is, found by name in the runtime's `ALERT_FIELDS`
/// and `ERROR_FIELDS` (python/_caracal_runtime/alerts.py) once per process: the two
/// sides share field names, not positions kept in step by hand.
#[derive(Debug, PartialEq)]
pub(crate) struct Layout {
    alert_len: usize,
    event: usize,
    rule: usize,
    title: usize,
    dedup: usize,
    severity: usize,
    alert_context: usize,
    description: usize,
    reference: usize,
    runbook: usize,
    destinations: usize,
    errors: usize,
    error_len: usize,
    error_event: usize,
    error_rule: usize,
    error_message: usize,
}

static LAYOUT: PyOnceLock<Layout> = PyOnceLock::new();

impl Layout {
    /// The layout of the runtime's outcome lists; an error names a field this side
    /// expects and the runtime lacks, or one it does not know.
    pub(crate) fn of<'a>(runtime: &Bound<'a, PyModule>) -> PyResult<&'a Layout> {
        LAYOUT.get_or_try_init(runtime.py(), || {
            let alert: Vec<String> = runtime.getattr("ALERT_FIELDS")?.extract()?;
            let error: Vec<String> = runtime.getattr("ERROR_FIELDS")?.extract()?;
            Self::from_names(&alert, &error).map_err(PyValueError::new_err)
        })
    }

    fn from_names(alert: &[String], error: &[String]) -> Result<Self, String> {
        const ALERT: [&str; 11] = [
            "event",
            "rule",
            "title",
            "dedup",
            "severity",
            "alert_context",
            "description",
            "reference",
            "runbook",
            "destinations",
            "errors",
        ];
        const ERROR: [&str; 3] = ["event", "rule", "error"];
        let check = |what: &str, names: &[String], known: &[&str]| -> Result<(), String> {
            match names.iter().find(|n| !known.contains(&n.as_str())) {
                Some(unknown) => Err(format!("{what} has a field {unknown:?} caracal cannot read")),
                None if names.len() != known.len() => {
                    Err(format!("{what} has {} fields, not {}", names.len(), known.len()))
                }
                None => Ok(()),
            }
        };
        check("ALERT_FIELDS", alert, &ALERT)?;
        check("ERROR_FIELDS", error, &ERROR)?;
        if alert.len() == error.len() {
            return Err("alerts and errors must differ in length".into());
        }
        let at = |names: &[String], name: &str| -> Result<usize, String> {
            names.iter().position(|n| n == name).ok_or_else(|| format!("no field {name:?}"))
        };
        Ok(Self {
            alert_len: alert.len(),
            event: at(alert, "event")?,
            rule: at(alert, "rule")?,
            title: at(alert, "title")?,
            dedup: at(alert, "dedup")?,
            severity: at(alert, "severity")?,
            alert_context: at(alert, "alert_context")?,
            description: at(alert, "description")?,
            reference: at(alert, "reference")?,
            runbook: at(alert, "runbook")?,
            destinations: at(alert, "destinations")?,
            errors: at(alert, "errors")?,
            error_len: error.len(),
            error_event: at(error, "event")?,
            error_rule: at(error, "rule")?,
            error_message: at(error, "error")?,
        })
    }
}

/// Reads `eval_rules`' list of outcomes.
pub(crate) fn read_outcomes(out: &Bound<'_, PyAny>) -> Result<Vec<RuleOutcome>, Error> {
    let runtime = crate::interp::runtime(out.py())?;
    let layout = Layout::of(&runtime).map_err(Error::python)?;
    let list = out.cast::<PyList>().map_err(Error::python)?;
    let mut outcomes = Vec::with_capacity(list.len());
    for entry in list.iter() {
        let entry = entry.cast_into::<PyList>().map_err(Error::python)?;
        outcomes.push(read_entry(&entry, layout).map_err(Error::python)?);
    }
    Ok(outcomes)
}

fn read_entry(entry: &Bound<'_, PyList>, at: &Layout) -> PyResult<RuleOutcome> {
    let field = |i: usize| entry.get_item(i);
    let text = |i: usize| -> PyResult<Option<String>> { opt_string(&field(i)?) };
    let mut outcome = RuleOutcome {
        event: 0,
        rule: 0,
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
    let n = entry.len();
    if n == at.error_len {
        outcome.event = field(at.error_event)?.extract()?;
        outcome.rule = field(at.error_rule)?.extract()?;
        outcome.error = text(at.error_message)?;
    } else if n == at.alert_len {
        outcome.event = field(at.event)?.extract()?;
        outcome.rule = field(at.rule)?.extract()?;
        outcome.title = text(at.title)?;
        outcome.dedup = text(at.dedup)?;
        outcome.severity = text(at.severity)?;
        outcome.description = text(at.description)?;
        outcome.reference = text(at.reference)?;
        outcome.runbook = text(at.runbook)?;
        let destinations = field(at.destinations)?;
        if !destinations.is_none() {
            let items = destinations.cast::<PyList>()?;
            let mut names = Vec::with_capacity(items.len());
            for item in items.iter() {
                names.push(string(&item)?);
            }
            outcome.destinations = Some(names);
        }
        let errors = field(at.errors)?;
        if !errors.is_none() {
            for item in errors.cast::<PyList>()?.iter() {
                outcome.errors.push(string(&item)?);
            }
        }
        let context = field(at.alert_context)?;
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
    } else {
        return Err(PyValueError::new_err(format!("eval_rules returned an outcome of {n} fields")));
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
    // An event's list (the runtime's ImmutableList) is written as its tuple of items.
    let items = crate::decode::immutable_list_items(value);
    let value = items.as_ref().map_or(value, |items| items.as_any());
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

#[cfg(test)]
mod tests {
    use super::Layout;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    /// The runtime's alert fields are read by name, in whatever order it lists them, and
    /// a field either side does not know stops the start-up (#10.3).
    #[test]
    fn layout_is_read_by_name() {
        let error = names(&["event", "rule", "error"]);
        let mut alert = names(&[
            "event",
            "rule",
            "title",
            "dedup",
            "severity",
            "alert_context",
            "description",
            "reference",
            "runbook",
            "destinations",
            "errors",
        ]);
        alert.reverse();
        let layout = Layout::from_names(&alert, &error).unwrap();
        assert_eq!((layout.event, layout.errors, layout.title), (10, 0, 8));
        assert_eq!(layout.error_message, 2);
        let mut extra = alert.clone();
        extra.push("severity_override".into());
        let err = Layout::from_names(&extra, &error).unwrap_err();
        assert!(err.contains("severity_override"), "{err}");
        let err = Layout::from_names(&alert[1..], &error).unwrap_err();
        assert!(err.contains("10 fields, not 11"), "{err}");
    }

    /// The runtime installed in this process passes the check.
    #[test]
    fn runtime_layout_matches() {
        pyo3::Python::attach(|py| {
            let runtime = crate::interp::runtime(py).unwrap();
            assert!(Layout::of(&runtime).is_ok());
        });
    }
}
