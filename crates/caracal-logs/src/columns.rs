//! Delimited records (VPC Flow lines and the like) kept as their text, read through a
//! [`Layout`] shared by every record of a file: columns are the whitespace-separated
//! tokens of the text. Parsing such a line allocates once (the text) instead of once per
//! field; the JSON view is written straight from the text ([`Record`] implements
//! `Serialize`) or built on demand ([`Record::to_map`]).

use std::sync::Arc;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

/// How a column's text becomes a JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// A string, as written.
    Text,
    /// A number when the text is one (integers exactly), otherwise the string.
    Number,
}

/// The most columns a layout may have.
pub const MAX_COLUMNS: usize = 64;

fn present(token: &str) -> Option<&str> {
    (token != "-").then_some(token)
}

/// The output names and types of a record's columns. Names must be distinct.
#[derive(Debug)]
pub struct Layout {
    names: Vec<String>,
    types: Vec<ColumnType>,
    /// Column indexes in the order of their names: the key order of a JSON object.
    sorted: Vec<usize>,
}

impl Layout {
    /// A layout of `(name, type)` columns, or `None` when two columns share a name or
    /// there are more than [`MAX_COLUMNS`].
    pub fn new(columns: Vec<(String, ColumnType)>) -> Option<Self> {
        if columns.len() > MAX_COLUMNS {
            return None;
        }
        let (names, types): (Vec<String>, Vec<ColumnType>) = columns.into_iter().unzip();
        let mut sorted: Vec<usize> = (0..names.len()).collect();
        sorted.sort_by(|&a, &b| names[a].cmp(&names[b]));
        if sorted.windows(2).any(|w| names[w[0]] == names[w[1]]) {
            return None;
        }
        Some(Layout { names, types, sorted })
    }

    /// How many columns the layout names.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when the layout has no columns.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The output name of column `i`.
    pub fn name(&self, i: usize) -> &str {
        &self.names[i]
    }
}

/// One delimited record: its text, whose whitespace-separated tokens are the layout's
/// columns (a prefix of them; later ones are absent). `-` values are absent too.
#[derive(Debug, Clone)]
pub struct Record {
    layout: Arc<Layout>,
    text: Box<str>,
}

impl PartialEq for Record {
    fn eq(&self, other: &Self) -> bool {
        self.to_map() == other.to_map()
    }
}

impl Record {
    /// A record of `text`. Tokens beyond the layout's columns are not part of it.
    pub fn new(layout: Arc<Layout>, text: &str) -> Self {
        Record { layout, text: text.into() }
    }

    /// The text of column `i`, or `None` when it is absent (missing or `-`).
    pub fn get(&self, i: usize) -> Option<&str> {
        present(self.text.split_ascii_whitespace().nth(i)?)
    }

    /// The value of the column named `name`, as the JSON view has it.
    pub fn value(&self, name: &str) -> Option<Value> {
        let i = self.layout.names.iter().position(|n| n == name)?;
        self.get(i).map(|text| typed(text, self.layout.types[i]).into_value())
    }

    /// The present columns in key order, with their values.
    fn entries(&self) -> impl Iterator<Item = (&str, Typed<'_>)> {
        let mut tokens = [""; MAX_COLUMNS];
        let mut n = 0;
        for (slot, token) in tokens.iter_mut().zip(self.text.split_ascii_whitespace()) {
            *slot = token;
            n += 1;
        }
        self.layout.sorted.iter().filter_map(move |&i| {
            let text = present(tokens.get(i).copied().filter(|_| i < n)?)?;
            Some((self.layout.names[i].as_str(), typed(text, self.layout.types[i])))
        })
    }

    /// The record as a JSON object (the present columns only).
    pub fn to_map(&self) -> Map<String, Value> {
        self.entries().map(|(name, v)| (name.to_owned(), v.into_value())).collect()
    }
}

impl Serialize for Record {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (name, value) in self.entries() {
            map.serialize_entry(name, &value)?;
        }
        map.end()
    }
}

/// A column value, typed without allocating.
#[derive(Debug, Clone, Copy)]
enum Typed<'a> {
    Int(i64),
    Float(f64),
    Text(&'a str),
}

fn typed(text: &str, ty: ColumnType) -> Typed<'_> {
    if ty == ColumnType::Number {
        if let Ok(n) = text.parse::<i64>() {
            return Typed::Int(n);
        }
        if let Ok(f) = text.parse::<f64>()
            && f.is_finite()
        {
            return Typed::Float(f);
        }
    }
    Typed::Text(text)
}

impl Typed<'_> {
    fn into_value(self) -> Value {
        match self {
            Typed::Int(n) => n.into(),
            Typed::Float(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
            Typed::Text(s) => s.into(),
        }
    }
}

impl Serialize for Typed<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match *self {
            Typed::Int(n) => serializer.serialize_i64(n),
            Typed::Float(f) => serializer.serialize_f64(f),
            Typed::Text(s) => serializer.serialize_str(s),
        }
    }
}

/// The log's own fields of an event: a JSON object, or a delimited [`Record`] that
/// becomes one when read.
#[derive(Debug, Clone, PartialEq)]
pub enum Fields {
    /// A JSON object (most log types).
    Object(Map<String, Value>),
    /// A delimited record.
    Record(Record),
}

impl Default for Fields {
    fn default() -> Self {
        Fields::Object(Map::new())
    }
}

impl From<Map<String, Value>> for Fields {
    fn from(map: Map<String, Value>) -> Self {
        Fields::Object(map)
    }
}

impl Fields {
    /// The value of top-level field `name`.
    pub fn get(&self, name: &str) -> Option<Value> {
        match self {
            Fields::Object(map) => map.get(name).cloned(),
            Fields::Record(record) => record.value(name),
        }
    }

    /// The fields as a JSON object.
    pub fn into_map(self) -> Map<String, Value> {
        match self {
            Fields::Object(map) => map,
            Fields::Record(record) => record.to_map(),
        }
    }

    /// The fields as a JSON object, copied.
    pub fn to_map(&self) -> Map<String, Value> {
        match self {
            Fields::Object(map) => map.clone(),
            Fields::Record(record) => record.to_map(),
        }
    }
}

impl Serialize for Fields {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Fields::Object(map) => map.serialize(serializer),
            Fields::Record(record) => record.serialize(serializer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> Arc<Layout> {
        let cols = [("b", ColumnType::Number), ("a", ColumnType::Text), ("c", ColumnType::Number)];
        Arc::new(Layout::new(cols.map(|(n, t)| (n.to_owned(), t)).to_vec()).expect("distinct"))
    }

    #[test]
    fn a_record_serializes_like_the_object_it_stands_for() {
        let record = Record::new(layout(), "007  x\"y\t1.5");
        let map = record.to_map();
        assert_eq!(Value::Object(map.clone()), serde_json::json!({"a": "x\"y", "b": 7, "c": 1.5}));
        assert_eq!(
            serde_json::to_string(&record).expect("serializes"),
            Value::Object(map).to_string()
        );
        assert_eq!(record.value("b"), Some(Value::from(7)));
    }

    #[test]
    fn dashes_and_missing_columns_are_absent() {
        let record = Record::new(layout(), "- abc");
        assert_eq!(Value::Object(record.to_map()), serde_json::json!({"a": "abc"}));
        assert_eq!(record.get(0), None);
        assert_eq!(record.get(2), None);
        assert_eq!(serde_json::to_string(&record).expect("serializes"), r#"{"a":"abc"}"#);
    }

    #[test]
    fn extra_tokens_are_ignored_and_duplicate_names_refused() {
        let record = Record::new(layout(), "1 2 3 4");
        assert_eq!(Value::Object(record.to_map()), serde_json::json!({"a": "2", "b": 1, "c": 3}));
        let dup = vec![("a".to_owned(), ColumnType::Text), ("a".to_owned(), ColumnType::Text)];
        assert!(Layout::new(dup).is_none());
    }

    #[test]
    fn numbers_that_are_not_numbers_stay_text() {
        let record = Record::new(layout(), "12x y NaN");
        assert_eq!(
            Value::Object(record.to_map()),
            serde_json::json!({"a": "y", "b": "12x", "c": "NaN"})
        );
    }
}
