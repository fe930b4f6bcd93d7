//! A batch's JSON text → Python objects, for the engine: the same objects as the
//! runtime's `loads` (`json.loads` with `ImmutableDict` objects), built in one pass
//! instead of a dict per object copied by the object hook. Keys and short values are
//! shared, as `json`'s memo shares keys, but from one batch to the next ([`Strings`]).
//!
//! One difference, invisible to detections: a nested object of an item (an item's
//! direct value) whose text is at least [`LAZY_MIN`] bytes stays text, in a lazy
//! `ImmutableDict` (python/_caracal_runtime/lazy.py `LazyDict`) that decodes itself on
//! first use. Events
//! carry large objects (`userIdentity`, `requestParameters`, `responseElements`) that
//! most rules never open; decoding them was most of a batch's cost. A lazy object is
//! opened by [`fill_lazy`], this decoder again (Python's `json` for text outside it).
//!
//! Items are decoded as events (rules) or as resources (policies): an event's arrays
//! become the runtime's `ImmutableList` (neither a `list` nor a `tuple`, as in Panther),
//! a resource's stay lists, as panther-analysis-tool hands resources to policies.
//!
//! Everything is validated here, lazy text included. Anything outside this fast path
//! (invalid JSON, `NaN`/`Infinity`, lone surrogate escapes, deep nesting, a batch that
//! is not an array) gives `None`: the caller hands the text to `loads`, so errors and
//! edge cases stay exactly Python's.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Mutex, PoisonError};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple, PyType};

/// Nested objects of an item at least this long (bytes of JSON) are decoded lazily.
pub(crate) const LAZY_MIN: usize = 256;
/// Value strings up to this many bytes are shared (longer ones are ids,
/// timestamps and messages, which rarely repeat).
const SHARED_VALUE_MAX: usize = 32;
/// At most this many distinct strings are shared (keys always are, within a batch);
/// a larger set is not kept for the next batch (see [`Strings`]).
const SHARED_MAX: usize = 1 << 14;
/// Nor is a set holding more text than this (keys have no length limit).
const SHARED_BYTES: usize = 1 << 20;
/// Deeper nesting is left to Python (which raises `RecursionError` somewhere deeper).
const MAX_DEPTH: usize = 200;

/// What an item is decoded as: which arrays and lazy objects it is made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Items {
    /// Events, for rules: arrays become `ImmutableList`s, lazy objects `LazyEventDict`s.
    Events,
    /// Resources, for policies: arrays stay lists, lazy objects are `LazyDict`s.
    Resources,
}

/// The runtime's classes the decoder instantiates.
pub(crate) struct Types<'py> {
    /// `ImmutableDict`.
    pub(crate) dict: Bound<'py, PyAny>,
    /// `LazyDict`, a resource's lazy object.
    pub(crate) lazy: Bound<'py, PyAny>,
    /// `LazyEventDict`, an event's lazy object.
    lazy_event: Bound<'py, PyAny>,
    /// `ImmutableList`, an event's array.
    list: Bound<'py, PyAny>,
    /// `RAW`, the key of a lazy object's text.
    pub(crate) raw_key: Bound<'py, PyAny>,
    /// The dict classes take dict's `__new__` and `__init__`, and `ImmutableList`
    /// object's `__new__` (checked once): objects can be made by the `tp_new` alone,
    /// without a generic type call.
    plain: bool,
    empty: Bound<'py, PyTuple>,
    /// `"_items"`, the attribute holding an `ImmutableList`'s tuple.
    items: Bound<'py, PyString>,
}

/// [`Types`] as looked up once (the runtime module is installed once per process):
/// `ImmutableDict`, `LazyDict`, `LazyEventDict`, `ImmutableList`, `RAW` and whether
/// the classes are plain.
struct Classes {
    dict: Py<PyAny>,
    lazy: Py<PyAny>,
    lazy_event: Py<PyAny>,
    list: Py<PyAny>,
    raw_key: Py<PyAny>,
    plain: bool,
}
static TYPES: PyOnceLock<Classes> = PyOnceLock::new();

impl<'py> Types<'py> {
    /// The classes of the runtime module.
    pub(crate) fn of(runtime: &Bound<'py, PyModule>) -> PyResult<Self> {
        let py = runtime.py();
        let classes = TYPES.get_or_try_init(py, || -> PyResult<_> {
            let dict = runtime.getattr("ImmutableDict")?;
            let lazy = runtime.getattr("LazyDict")?;
            let lazy_event = runtime.getattr("LazyEventDict")?;
            let list = runtime.getattr("ImmutableList")?;
            let base = py.get_type::<PyDict>();
            let mut plain = true;
            for class in [&dict, &lazy, &lazy_event] {
                plain &= class.cast::<PyType>()?.is_subclass(&base)?
                    && class.getattr("__new__")?.is(&base.getattr("__new__")?)
                    && class.getattr("__init__")?.is(&base.getattr("__init__")?);
            }
            let object = py.get_type::<pyo3::types::PyAny>();
            plain &= list.getattr("__new__")?.is(&object.getattr("__new__")?);
            Ok(Classes {
                dict: dict.unbind(),
                lazy: lazy.unbind(),
                lazy_event: lazy_event.unbind(),
                list: list.unbind(),
                raw_key: runtime.getattr("RAW")?.unbind(),
                plain,
            })
        })?;
        Ok(Self {
            dict: classes.dict.bind(py).clone(),
            lazy: classes.lazy.bind(py).clone(),
            lazy_event: classes.lazy_event.bind(py).clone(),
            list: classes.list.bind(py).clone(),
            raw_key: classes.raw_key.bind(py).clone(),
            plain: classes.plain,
            empty: PyTuple::empty(py),
            items: pyo3::intern!(py, "_items").clone(),
        })
    }

    /// Whether `value` is an event's array (an `ImmutableList`).
    #[cfg(test)]
    fn is_list(&self, value: &Bound<'py, PyAny>) -> bool {
        value.get_type().is(&self.list)
    }

    /// The items of an `ImmutableList`.
    #[cfg(test)]
    fn list_items(&self, value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyTuple>> {
        Ok(value.getattr(&self.items)?.cast_into::<PyTuple>()?)
    }

    /// A new, empty instance of `class` (a dict class, or `ImmutableList` before its
    /// items are set), as `class()` makes it.
    fn new_object(&self, class: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        if !self.plain {
            return class.call0();
        }
        let py = class.py();
        let tp = class.as_ptr().cast::<pyo3::ffi::PyTypeObject>();
        // SAFETY: `class` is a dict subclass whose `__new__` and `__init__` are dict's, or
        // ImmutableList, whose `__new__` is object's (checked in `of`). `class()` would
        // call its `tp_new` (inherited) with an empty tuple and then `__init__`, which
        // does nothing without arguments for a dict; we call `tp_new` the same way,
        // holding the GIL, and own the returned reference (an ImmutableList gets its
        // `_items` next, in `immutable_list`).
        unsafe {
            match (*tp).tp_new {
                Some(new) => Bound::from_owned_ptr_or_err(
                    py,
                    new(tp, self.empty.as_ptr(), std::ptr::null_mut()),
                ),
                None => class.call0(),
            }
        }
    }

    /// An `ImmutableList` of `list`'s items, as `ImmutableList(list)` makes it.
    fn immutable_list(&self, list: &Bound<'py, PyList>) -> PyResult<Bound<'py, PyAny>> {
        let items = list.to_tuple();
        if !self.plain {
            return self.list.call1((items,));
        }
        let object = self.new_object(&self.list)?;
        object.setattr(&self.items, items)?;
        Ok(object)
    }
}

/// The items of `value` when it is an event's array (the runtime's `ImmutableList`):
/// what writing it as JSON reads. `None` for anything else.
pub(crate) fn immutable_list_items<'py>(value: &Bound<'py, PyAny>) -> Option<Bound<'py, PyTuple>> {
    let py = value.py();
    let classes = TYPES.get(py)?;
    if !value.get_type().is(classes.list.bind(py)) {
        return None;
    }
    value.getattr(pyo3::intern!(py, "_items")).ok()?.cast_into::<PyTuple>().ok()
}

/// Decodes a JSON array of items; `Ok(None)` when the text is outside the fast path
/// (see the module doc), an error only when Python itself fails (out of memory).
pub(crate) fn batch<'py>(
    py: Python<'py>,
    text: &str,
    types: &Types<'py>,
    items: Items,
) -> PyResult<Option<Bound<'py, PyList>>> {
    let mut parser = Parser {
        py,
        text,
        bytes: text.as_bytes(),
        pos: 0,
        keys: Strings::take(),
        scratch: String::new(),
        types,
        items,
    };
    match parser.batch() {
        Ok(list) => Ok(Some(list)),
        Err(Stop::Fallback) => Ok(None),
        Err(Stop::Python(err)) => Err(err),
    }
}

/// Opens a lazy object (lazy.py `LazyDict._load`): decodes its text (an event's with
/// `events`) and replaces `target`'s content (the text under `RAW`) with the members.
/// `False`, with `target` untouched, when the text is outside the fast path (lone
/// surrogate escapes): Python decodes it then. Runs no Python code, so a time-limit
/// interrupt cannot cut it short.
#[pyfunction]
pub(crate) fn fill_lazy(target: &Bound<'_, PyDict>, text: &str, events: bool) -> PyResult<bool> {
    let py = target.py();
    let runtime = crate::interp::runtime(py)
        .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
    let types = Types::of(&runtime)?;
    let mut parser = Parser {
        py,
        text,
        bytes: text.as_bytes(),
        pos: 0,
        keys: Strings::take(),
        scratch: String::new(),
        types: &types,
        items: if events { Items::Events } else { Items::Resources },
    };
    let object = match parser.whole_object() {
        Ok(object) => object,
        Err(Stop::Fallback) => return Ok(false),
        Err(Stop::Python(err)) => return Err(err),
    };
    target.del_item(&types.raw_key)?;
    target.update(object.cast::<PyDict>()?.as_mapping())?;
    Ok(true)
}

/// FxHash (rustc's): keys are short and trusted to be batch data, so SipHash's
/// flooding resistance buys nothing and costs a tenth of the decoding time.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        for &b in chunks.remainder() {
            self.add(u64::from(b));
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl KeyHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// Python strings shared by every decoding in the process, as `json`'s memo shares keys
/// within one call: object keys and short value strings without escapes. Field names
/// and enum-like values (regions, account ids, event names) repeat from batch to batch,
/// so most are found here instead of being made, hashed into a fresh map and freed again
/// with each batch.
///
/// A parser takes the set when it starts and gives it back when dropped; a parser that
/// finds it taken (another thread decoding) starts an empty one. A set that has grown
/// past [`SHARED_MAX`] strings or [`SHARED_BYTES`] of text is dropped instead of given
/// back, so what it keeps between batches stays bounded.
struct Strings {
    map: HashMap<Box<str>, Py<PyString>, BuildHasherDefault<KeyHasher>>,
    /// Bytes of text in `map`.
    bytes: usize,
}

/// The set between decodings; `None` while a parser holds it.
static SHARED: Mutex<Option<Strings>> = Mutex::new(None);

impl Strings {
    /// The shared set, or an empty one when another parser holds it.
    fn take() -> Self {
        let shared = SHARED.lock().unwrap_or_else(PoisonError::into_inner).take();
        shared.unwrap_or_else(|| Strings { map: HashMap::default(), bytes: 0 })
    }

    fn insert(&mut self, text: &str, string: &Bound<'_, PyString>) {
        self.bytes += text.len();
        self.map.insert(text.into(), string.clone().unbind());
    }
}

impl Drop for Strings {
    /// Gives the set back (the parser holds the GIL, so dropping it here is immediate).
    fn drop(&mut self) {
        if self.map.is_empty() || self.map.len() >= SHARED_MAX || self.bytes > SHARED_BYTES {
            return;
        }
        let mut shared = SHARED.lock().unwrap_or_else(PoisonError::into_inner);
        // Another parser may have given its set back first: then this one is freed.
        if shared.is_none() {
            *shared = Some(Strings { map: std::mem::take(&mut self.map), bytes: self.bytes });
        }
    }
}

enum Stop {
    /// Not for this parser: let Python decode (and report) the text.
    Fallback,
    /// Python failed to build an object.
    Python(PyErr),
}

impl From<PyErr> for Stop {
    fn from(err: PyErr) -> Self {
        Self::Python(err)
    }
}

type Parsed<T> = Result<T, Stop>;

/// Bytes that end a run of plain string content.
static STRING_SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// A mask whose lowest set bit is the high bit of the first byte of `word` (little
/// endian) that is `"`, `\\` or below 0x20; 0 when there is none. Higher bits may be
/// false positives (borrows), so only the lowest one is meaningful.
fn special_bytes(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGH;
    control | zero(word ^ (ONES * u64::from(b'"'))) | zero(word ^ (ONES * u64::from(b'\\')))
}

struct Parser<'t, 'py, 'a> {
    py: Python<'py>,
    text: &'t str,
    bytes: &'t [u8],
    pos: usize,
    /// Object keys without escapes and short value strings, one Python string each
    /// (see [`Strings`], [`Parser::key`] and [`Parser::string`]).
    keys: Strings,
    scratch: String,
    types: &'a Types<'py>,
    items: Items,
}

impl<'t, 'py> Parser<'t, 'py, '_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Parsed<()> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(Stop::Fallback)
        }
    }

    fn batch(&mut self) -> Parsed<Bound<'py, PyList>> {
        let list = PyList::empty(self.py);
        self.ws();
        self.eat(b'[')?;
        self.ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
        } else {
            loop {
                self.ws();
                let item =
                    if self.peek() == Some(b'{') { self.object(1, true)? } else { self.value(1)? };
                list.append(item)?;
                self.ws();
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(b']') => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(Stop::Fallback),
                }
            }
        }
        self.ws();
        if self.pos != self.bytes.len() {
            return Err(Stop::Fallback);
        }
        Ok(list)
    }

    /// The text is one object (a lazy object's).
    fn whole_object(&mut self) -> Parsed<Bound<'py, PyAny>> {
        self.ws();
        if self.peek() != Some(b'{') {
            return Err(Stop::Fallback);
        }
        let object = self.object(1, false)?;
        self.ws();
        if self.pos != self.bytes.len() {
            return Err(Stop::Fallback);
        }
        Ok(object)
    }

    fn value(&mut self, depth: usize) -> Parsed<Bound<'py, PyAny>> {
        if depth > MAX_DEPTH {
            return Err(Stop::Fallback);
        }
        let py = self.py;
        Ok(match self.peek() {
            Some(b'{') => self.object(depth, false)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => self.string()?.into_any(),
            Some(b't') => {
                self.literal(b"true")?;
                PyBool::new(py, true).to_owned().into_any()
            }
            Some(b'f') => {
                self.literal(b"false")?;
                PyBool::new(py, false).to_owned().into_any()
            }
            Some(b'n') => {
                self.literal(b"null")?;
                py.None().into_bound(py)
            }
            Some(b'-' | b'0'..=b'9') => self.number()?,
            _ => return Err(Stop::Fallback),
        })
    }

    /// An object at `pos` (`{`). With `lazy_children`, large object values stay text.
    fn object(&mut self, depth: usize, lazy_children: bool) -> Parsed<Bound<'py, PyAny>> {
        if depth > MAX_DEPTH {
            return Err(Stop::Fallback);
        }
        self.pos += 1;
        let object = self.types.new_object(&self.types.dict)?;
        let dict = object.cast::<PyDict>().map_err(PyErr::from)?;
        self.ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(object);
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(Stop::Fallback);
            }
            let key = self.key()?;
            self.ws();
            self.eat(b':')?;
            self.ws();
            let value = if lazy_children && self.peek() == Some(b'{') {
                let start = self.pos;
                self.skip(depth + 1)?;
                if self.pos - start >= LAZY_MIN {
                    self.lazy(start)?
                } else {
                    self.pos = start;
                    self.object(depth + 1, false)?
                }
            } else {
                self.value(depth + 1)?
            };
            dict.set_item(key, value)?;
            self.ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(object);
                }
                _ => return Err(Stop::Fallback),
            }
        }
    }

    /// A `LazyDict` (`LazyEventDict`) holding the (already validated) text from `start`
    /// to `pos`.
    fn lazy(&mut self, start: usize) -> Parsed<Bound<'py, PyAny>> {
        let class = match self.items {
            Items::Events => &self.types.lazy_event,
            Items::Resources => &self.types.lazy,
        };
        let object = self.types.new_object(class)?;
        let text = PyString::new(self.py, &self.text[start..self.pos]);
        object.cast::<PyDict>().map_err(PyErr::from)?.set_item(&self.types.raw_key, text)?;
        Ok(object)
    }

    fn array(&mut self, depth: usize) -> Parsed<Bound<'py, PyAny>> {
        self.pos += 1;
        let list = PyList::empty(self.py);
        self.ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return self.finish_array(list);
        }
        loop {
            self.ws();
            list.append(self.value(depth + 1)?)?;
            self.ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return self.finish_array(list);
                }
                _ => return Err(Stop::Fallback),
            }
        }
    }

    /// A decoded array as the items want it: a list, or an event's `ImmutableList`.
    fn finish_array(&self, list: Bound<'py, PyList>) -> Parsed<Bound<'py, PyAny>> {
        Ok(match self.items {
            Items::Events => self.types.immutable_list(&list)?,
            Items::Resources => list.into_any(),
        })
    }

    fn literal(&mut self, word: &[u8]) -> Parsed<()> {
        if self.bytes[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(Stop::Fallback)
        }
    }

    /// The span of a number at `pos` and whether it is an integer (Python's grammar:
    /// `-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?`).
    fn number_span(&mut self) -> Parsed<(&'t str, bool)> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(Stop::Fallback),
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(Stop::Fallback);
            }
            self.digits();
            integer = false;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(Stop::Fallback);
            }
            self.digits();
            integer = false;
        }
        Ok((&self.text[start..self.pos], integer))
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    fn number(&mut self) -> Parsed<Bound<'py, PyAny>> {
        let (text, integer) = self.number_span()?;
        let py = self.py;
        if integer {
            if let Ok(n) = text.parse::<i64>() {
                return Ok(PyInt::new(py, n).into_any());
            }
            // Beyond 64 bits: Python's int() is exact at any size, as json.loads.
            return Ok(py.get_type::<PyInt>().call1((text,))?);
        }
        // Correctly rounded like Python's float(); overflow is inf in both.
        let value: f64 = text.parse().map_err(|_| Stop::Fallback)?;
        Ok(PyFloat::new(py, value).into_any())
    }

    /// A key: shared ([`Strings`]) when it has no escapes.
    fn key(&mut self) -> Parsed<Bound<'py, PyString>> {
        match self.string_text()? {
            Some(text) => {
                if let Some(key) = self.keys.map.get(text) {
                    return Ok(key.bind(self.py).clone());
                }
                let key = PyString::new(self.py, text);
                self.keys.insert(text, &key);
                Ok(key)
            }
            None => Ok(PyString::new(self.py, &self.scratch)),
        }
    }

    /// A value string: short ones without escapes shared like keys (enum-like values
    /// such as regions, account ids and event sources repeat across events).
    fn string(&mut self) -> Parsed<Bound<'py, PyString>> {
        Ok(match self.string_text()? {
            Some(text) if text.len() <= SHARED_VALUE_MAX => {
                if let Some(value) = self.keys.map.get(text) {
                    return Ok(value.bind(self.py).clone());
                }
                let value = PyString::new(self.py, text);
                // Values take at most half the set: near-unique short values (times,
                // addresses) would otherwise fill it, and a full set is not kept, which
                // would cost every batch its keys too.
                if self.keys.map.len() < SHARED_MAX / 2 {
                    self.keys.insert(text, &value);
                }
                value
            }
            Some(text) => PyString::new(self.py, text),
            None => PyString::new(self.py, &self.scratch),
        })
    }

    /// Reads a string at `pos` (`"`): `Some(text)` when it has no escapes, else `None`
    /// with the decoded text in `scratch`.
    fn string_text(&mut self) -> Parsed<Option<&'t str>> {
        self.pos += 1;
        let start = self.pos;
        self.plain_run();
        match self.peek() {
            Some(b'"') => {
                self.pos += 1;
                return Ok(Some(&self.text[start..self.pos - 1]));
            }
            Some(b'\\') => {}
            _ => return Err(Stop::Fallback),
        }
        self.scratch.clear();
        self.scratch.push_str(&self.text[start..self.pos]);
        loop {
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(None);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let c = self.escape()?;
                    self.scratch.push(c);
                }
                _ => return Err(Stop::Fallback),
            }
            let run = self.pos;
            self.plain_run();
            self.scratch.push_str(&self.text[run..self.pos]);
        }
    }

    /// Advances over string content without quotes, backslashes or control characters
    /// (all ASCII, so the run ends on a character boundary). Eight bytes at a time.
    fn plain_run(&mut self) {
        while let Some(chunk) = self.bytes.get(self.pos..self.pos + 8) {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            let special = special_bytes(u64::from_le_bytes(word));
            if special != 0 {
                self.pos += (special.trailing_zeros() / 8) as usize;
                return;
            }
            self.pos += 8;
        }
        while let Some(&b) = self.bytes.get(self.pos) {
            if STRING_SPECIAL[b as usize] {
                break;
            }
            self.pos += 1;
        }
    }

    /// The character of an escape after its backslash. Lone surrogates (which Python
    /// keeps, and a Rust string cannot hold) fall back.
    fn escape(&mut self) -> Parsed<char> {
        let byte = self.peek().ok_or(Stop::Fallback)?;
        self.pos += 1;
        Ok(match byte {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let high = self.hex4()?;
                let code = match high {
                    0xD800..=0xDBFF => {
                        if !self.bytes[self.pos..].starts_with(b"\\u") {
                            return Err(Stop::Fallback);
                        }
                        self.pos += 2;
                        let low = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return Err(Stop::Fallback);
                        }
                        0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                    }
                    0xDC00..=0xDFFF => return Err(Stop::Fallback),
                    _ => high,
                };
                char::from_u32(code).ok_or(Stop::Fallback)?
            }
            _ => return Err(Stop::Fallback),
        })
    }

    fn hex4(&mut self) -> Parsed<u32> {
        let digits = self.bytes.get(self.pos..self.pos + 4).ok_or(Stop::Fallback)?;
        let mut code = 0;
        for &d in digits {
            let v = (d as char).to_digit(16).ok_or(Stop::Fallback)?;
            code = code * 16 + v;
        }
        self.pos += 4;
        Ok(code)
    }

    /// Validates the value at `pos` and moves past it without building anything. Lone
    /// surrogate escapes are fine here: Python decodes lazy text.
    fn skip(&mut self, depth: usize) -> Parsed<()> {
        if depth > MAX_DEPTH {
            return Err(Stop::Fallback);
        }
        match self.peek() {
            Some(b'{') => {
                self.pos += 1;
                self.ws();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                    return Ok(());
                }
                loop {
                    self.ws();
                    if self.peek() != Some(b'"') {
                        return Err(Stop::Fallback);
                    }
                    self.skip_string()?;
                    self.ws();
                    self.eat(b':')?;
                    self.ws();
                    self.skip(depth + 1)?;
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(());
                        }
                        _ => return Err(Stop::Fallback),
                    }
                }
            }
            Some(b'[') => {
                self.pos += 1;
                self.ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    return Ok(());
                }
                loop {
                    self.ws();
                    self.skip(depth + 1)?;
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(());
                        }
                        _ => return Err(Stop::Fallback),
                    }
                }
            }
            Some(b'"') => self.skip_string(),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number_span().map(|_| ()),
            _ => Err(Stop::Fallback),
        }
    }

    fn skip_string(&mut self) -> Parsed<()> {
        self.pos += 1;
        loop {
            self.plain_run();
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.pos += 1
                        }
                        Some(b'u') => {
                            self.pos += 1;
                            self.hex4()?;
                        }
                        _ => return Err(Stop::Fallback),
                    }
                }
                _ => return Err(Stop::Fallback),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use pyo3::prelude::*;

    use super::special_bytes;

    /// The runtime's classes keep dict's constructor, so the decoder's direct `tp_new`
    /// path (not the generic call) is the one the engine runs.
    #[test]
    fn runtime_classes_take_the_direct_constructor() {
        pyo3::Python::attach(|py| {
            let runtime = crate::interp::runtime(py).unwrap();
            let types = super::Types::of(&runtime).unwrap();
            assert!(types.plain);
            let object = types.new_object(&types.dict).unwrap();
            assert_eq!(object.get_type().name().unwrap(), "ImmutableDict");
            assert_eq!(object.len().unwrap(), 0);
        });
    }

    /// An event's arrays, in lazy objects too, are ImmutableLists (not lists, as in
    /// Panther); a resource's stay lists.
    #[test]
    fn events_get_immutable_lists_and_resources_lists() {
        pyo3::Python::attach(|py| {
            let runtime = crate::interp::runtime(py).unwrap();
            let types = super::Types::of(&runtime).unwrap();
            let nested =
                format!(r#"{{"tags": [1, [2]], "pad": "{}"}}"#, "x".repeat(super::LAZY_MIN));
            let text = format!(r#"[{{"l": ["a", {{"b": []}}], "big": {nested}}}]"#);
            let type_name = |v: &Bound<'_, PyAny>| v.get_type().name().unwrap().to_string();
            let events = super::batch(py, &text, &types, super::Items::Events).unwrap().unwrap();
            let event = events.get_item(0).unwrap();
            let list = event.get_item("l").unwrap();
            assert!(types.is_list(&list));
            assert!(!list.is_instance_of::<pyo3::types::PyList>());
            assert_eq!(types.list_items(&list).unwrap().len(), 2);
            assert_eq!(list.get_item(0).unwrap().extract::<String>().unwrap(), "a");
            let inner = list.get_item(1).unwrap().get_item("b").unwrap();
            assert!(types.is_list(&inner) && inner.len().unwrap() == 0);
            let big = event.get_item("big").unwrap();
            assert_eq!(big.get_type().qualname().unwrap().to_string(), "ImmutableDict");
            // Opening the lazy object (through the runtime's fill) keeps event lists.
            let tags = big.get_item("tags").unwrap();
            assert!(types.is_list(&tags), "{}", type_name(&tags));
            assert!(types.is_list(&tags.get_item(1).unwrap()));

            let resources =
                super::batch(py, &text, &types, super::Items::Resources).unwrap().unwrap();
            let resource = resources.get_item(0).unwrap();
            assert!(resource.get_item("l").unwrap().is_instance_of::<pyo3::types::PyList>());
            let tags = resource.get_item("big").unwrap().get_item("tags").unwrap();
            assert!(tags.is_instance_of::<pyo3::types::PyList>(), "{}", type_name(&tags));
        });
    }

    /// Keys and short values decoded in one batch are the same Python objects in the
    /// next batch (and in lazy objects); long values are not shared.
    #[test]
    fn strings_are_shared_from_batch_to_batch() {
        pyo3::Python::attach(|py| {
            let runtime = crate::interp::runtime(py).unwrap();
            let types = super::Types::of(&runtime).unwrap();
            let long = "x".repeat(super::SHARED_VALUE_MAX + 1);
            let text = format!(r#"[{{"eventName": "ConsoleLogin", "long": "{long}"}}]"#);
            let decode = || {
                let list =
                    super::batch(py, &text, &types, super::Items::Resources).unwrap().unwrap();
                let item = list.get_item(0).unwrap();
                let (key, value) = item
                    .call_method0("items")
                    .unwrap()
                    .try_iter()
                    .unwrap()
                    .next()
                    .unwrap()
                    .unwrap()
                    .extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>()
                    .unwrap();
                (key, value, item.get_item("long").unwrap())
            };
            let (key, value, long_value) = decode();
            let (key2, value2, long_value2) = decode();
            assert_eq!(key.extract::<String>().unwrap(), "eventName");
            assert_eq!(value.extract::<String>().unwrap(), "ConsoleLogin");
            assert!(key.is(&key2) && value.is(&value2));
            assert!(!long_value.is(&long_value2));
            assert_eq!(long_value2.extract::<String>().unwrap(), long);
            let lazy = pyo3::types::PyDict::new(py);
            let lazy_text = r#"{"eventName": 1}"#;
            lazy.set_item(&types.raw_key, lazy_text).unwrap();
            assert!(super::fill_lazy(&lazy, lazy_text, false).unwrap());
            assert!(lazy.keys().get_item(0).unwrap().is(&key));
        });
    }

    /// What the shared set keeps between batches is bounded in strings and in bytes.
    #[test]
    fn the_shared_set_stays_bounded() {
        pyo3::Python::attach(|py| {
            let runtime = crate::interp::runtime(py).unwrap();
            let types = super::Types::of(&runtime).unwrap();
            let kept = || super::SHARED.lock().unwrap().as_ref().map(|s| (s.map.len(), s.bytes));
            let values: Vec<String> =
                (0..super::SHARED_MAX + 10).map(|i| format!("\"v{i}\"")).collect();
            let text = format!(r#"[{{"k": [{}]}}, {{"k": "v5"}}]"#, values.join(","));
            let list = super::batch(py, &text, &types, super::Items::Resources).unwrap().unwrap();
            assert_eq!(list.len(), 2);
            let strings = list.get_item(0).unwrap().get_item("k").unwrap();
            assert_eq!(strings.len().unwrap(), super::SHARED_MAX + 10);
            let last = format!("v{}", super::SHARED_MAX + 9);
            assert_eq!(
                strings.get_item(super::SHARED_MAX + 9).unwrap().extract::<String>().unwrap(),
                last
            );
            // Values stopped at half the set, so it is kept, keys included.
            let (kept_strings, _) = kept().expect("kept");
            assert_eq!(kept_strings, super::SHARED_MAX / 2);
            let small = super::batch(py, r#"[{"k2": "v"}]"#, &types, super::Items::Resources)
                .unwrap()
                .unwrap();
            assert_eq!(small.len(), 1);
            assert_eq!(kept().map(|k| k.0), Some(super::SHARED_MAX / 2 + 1), "new keys still join");
            let key = "k".repeat(super::SHARED_BYTES + 1);
            let big =
                super::batch(py, &format!(r#"[{{"{key}": 1}}]"#), &types, super::Items::Resources)
                    .unwrap()
                    .unwrap();
            assert_eq!(big.len(), 1);
            assert_eq!(kept(), None);
        });
    }

    /// The word-at-a-time scan finds the same first special byte as a byte loop.
    #[test]
    fn special_bytes_finds_the_first_quote_backslash_or_control_byte() {
        let samples: [&[u8; 8]; 7] = [
            b"abcdefgh",
            b"abc\"efgh",
            b"\\bcdefgh",
            b"abcdefg\x1f",
            b"\xc3\xa9\xa2\xdc\"xyz",
            b"a\x00\"\\\x01bcd",
            b"\x7f\x80\xff\x20!#[]",
        ];
        for word in samples {
            let expected = word.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
            let mask = special_bytes(u64::from_le_bytes(*word));
            let found = (mask != 0).then(|| (mask.trailing_zeros() / 8) as usize);
            assert_eq!(found, expected, "{word:?}");
        }
        // Every byte value in every position.
        for b in 0..=255u8 {
            for at in 0..8 {
                let mut word = *b"abcdefgh";
                word[at] = b;
                let special = b == b'"' || b == b'\\' || b < 0x20;
                let mask = special_bytes(u64::from_le_bytes(word));
                let found = (mask != 0).then(|| (mask.trailing_zeros() / 8) as usize);
                assert_eq!(found, special.then_some(at), "{b:#x} at {at}");
            }
        }
    }
}
