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

/// Splits `text` into tokens separated by runs of ASCII whitespace and control bytes
/// (every byte up to `0x20`), writing each token's byte span into `spans`. Returns how many
/// there are, or `None` when there are more than `spans` holds.
///
/// This is the hot loop of VPC Flow parsing, so it reads eight bytes at a time: a byte
/// loop paid a mispredicted branch at every token edge. Separators are ASCII, so spans
/// always fall on char boundaries.
pub fn split_tokens(text: &str, spans: &mut [(u32, u32)]) -> Option<usize> {
    let bytes = text.as_bytes();
    let len = u32::try_from(bytes.len()).ok()?;
    let mut n = 0;
    let mut push = |start: usize, end: usize| {
        *spans.get_mut(n)? = (start as u32, end as u32);
        n += 1;
        Some(())
    };
    // A token that started in an earlier block and has not ended yet.
    let mut open = None;
    // 1 when the byte before the block is a separator (or there is none).
    let mut carry = 1;
    for (b, block) in bytes.chunks(64).enumerate() {
        let base = b * 64;
        let sep = separator_mask(block);
        let before = (sep << 1) | carry;
        carry = sep >> 63;
        // Tokens start where a separator is followed by a token byte and end (exclusive)
        // where a token byte is followed by a separator; starts and ends alternate.
        let mut starts = !sep & before;
        let mut ends = sep & !before;
        if let Some(start) = open {
            if ends == 0 {
                continue;
            }
            push(start, base + ends.trailing_zeros() as usize)?;
            ends &= ends - 1;
            open = None;
        }
        while starts != 0 {
            let start = base + starts.trailing_zeros() as usize;
            starts &= starts - 1;
            if ends == 0 {
                open = Some(start);
                break;
            }
            push(start, base + ends.trailing_zeros() as usize)?;
            ends &= ends - 1;
        }
    }
    if let Some(start) = open {
        push(start, len as usize)?;
    }
    Some(n)
}

/// One bit per byte of `block` (at most 64 bytes): set for separators (bytes up to
/// `0x20`) and for the positions past the end of the block.
fn separator_mask(block: &[u8]) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Adding 0x5f to the low seven bits of a byte carries into its high bit exactly when
    // the byte is 0x21 or more; bytes of 0x80 and up (UTF-8) have the high bit already.
    const ADD: u64 = 0x5f5f_5f5f_5f5f_5f5f;
    // Gathers the lowest bit of each byte into the top byte, byte i to bit 56 + i.
    const GATHER: u64 = 0x0102_0408_1020_4080;
    let separators = |word: u64| {
        let token = ((word & LOW7).wrapping_add(ADD) | word) & HIGH;
        ((!token & HIGH) >> 7).wrapping_mul(GATHER) >> 56
    };
    // Positions past the end count as separators.
    let mut mask = u64::MAX.checked_shl(block.len() as u32).unwrap_or(0);
    let chunks = block.chunks_exact(8);
    let tail = chunks.remainder();
    for (k, chunk) in chunks.enumerate() {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        mask |= separators(u64::from_le_bytes(word)) << (8 * k);
    }
    if !tail.is_empty() {
        let mut word = [b' '; 8];
        word[..tail.len()].copy_from_slice(tail);
        mask |= separators(u64::from_le_bytes(word)) << (8 * (block.len() / 8));
    }
    mask
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

/// A layout as records hold it: a static one (a built-in format, no reference count to
/// touch per record) or a counted one (read from a file's header line).
#[derive(Debug, Clone)]
pub enum SharedLayout {
    /// Lives for the whole process.
    Static(&'static Layout),
    /// Shared by the records of the files that use it.
    Counted(Arc<Layout>),
}

impl std::ops::Deref for SharedLayout {
    type Target = Layout;

    fn deref(&self) -> &Layout {
        match self {
            SharedLayout::Static(layout) => layout,
            SharedLayout::Counted(layout) => layout,
        }
    }
}

/// One delimited record: its text, whose whitespace-separated tokens are the layout's
/// columns (a prefix of them; later ones are absent). `-` values are absent too.
#[derive(Debug, Clone)]
pub struct Record {
    layout: SharedLayout,
    text: Box<str>,
}

impl PartialEq for Record {
    fn eq(&self, other: &Self) -> bool {
        self.to_map() == other.to_map()
    }
}

impl Record {
    /// A record of `text`. Tokens beyond the layout's columns are not part of it.
    pub fn new(layout: SharedLayout, text: &str) -> Self {
        Record { layout, text: text.into() }
    }

    /// The text of column `i`, or `None` when it is absent (missing or `-`).
    pub fn get(&self, i: usize) -> Option<&str> {
        let mut spans = [(0, 0); MAX_COLUMNS];
        let n = split_tokens(&self.text, &mut spans).unwrap_or(MAX_COLUMNS);
        let &(a, b) = spans[..n].get(i)?;
        present(self.text.get(a as usize..b as usize)?)
    }

    /// The value of the column named `name`, as the JSON view has it.
    pub fn value(&self, name: &str) -> Option<Value> {
        let i = self.layout.names.iter().position(|n| n == name)?;
        self.get(i).map(|text| typed(text, self.layout.types[i]).into_value())
    }

    /// The present columns in key order, with their values.
    fn entries(&self) -> impl Iterator<Item = (&str, Typed<'_>)> {
        let mut spans = [(0, 0); MAX_COLUMNS];
        let n = split_tokens(&self.text, &mut spans).unwrap_or(MAX_COLUMNS);
        self.layout.sorted.iter().filter_map(move |&i| {
            let &(a, b) = spans[..n].get(i)?;
            let text = present(self.text.get(a as usize..b as usize)?)?;
            Some((self.layout.names[i].as_str(), typed(text, self.layout.types[i])))
        })
    }

    /// The present columns in layout order: each one's name and text as written (a
    /// typed reader, such as the lake's columns, converts the text itself).
    pub fn texts(&self) -> impl Iterator<Item = (&str, &str)> {
        let mut spans = [(0, 0); MAX_COLUMNS];
        let n = split_tokens(&self.text, &mut spans).unwrap_or(MAX_COLUMNS);
        (0..n.min(self.layout.len())).filter_map(move |i| {
            let (a, b) = spans[i];
            let text = present(self.text.get(a as usize..b as usize)?)?;
            Some((self.layout.names[i].as_str(), text))
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

    fn layout() -> SharedLayout {
        let cols = [("b", ColumnType::Number), ("a", ColumnType::Text), ("c", ColumnType::Number)];
        let layout = Layout::new(cols.map(|(n, t)| (n.to_owned(), t)).to_vec()).expect("distinct");
        SharedLayout::Counted(Arc::new(layout))
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

    fn reference_split(text: &str) -> Vec<&str> {
        text.split(|c: char| c <= ' ').filter(|t| !t.is_empty()).collect()
    }

    #[test]
    fn split_tokens_agrees_with_a_plain_split_on_awkward_lines() {
        let long = format!("{} x", "é".repeat(40));
        let xs = "x".repeat(64);
        let lines = [
            "",
            " ",
            "a",
            " a ",
            "2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 1418530010 1418530070 ACCEPT OK",
            "a\tb\r\nc\x00d  e",
            "01234567 01234567 0123456701234567012345670123456701234567012345670123456789 z",
            xs.as_str(),
            long.as_str(),
            "ü ß\t€ 𝄞 -",
        ];
        for line in lines {
            let mut spans = [(0, 0); 64];
            let n = split_tokens(line, &mut spans).expect("fits");
            let got: Vec<&str> =
                spans[..n].iter().map(|&(a, b)| &line[a as usize..b as usize]).collect();
            assert_eq!(got, reference_split(line), "{line:?}");
        }
        // Every token-length pattern across the 8- and 64-byte block edges.
        for len in 1..140 {
            for gap in 1..3 {
                let line = ["y".repeat(len), "z".repeat(len % 9 + 1)].join(&" ".repeat(gap));
                let mut spans = [(0, 0); 64];
                let n = split_tokens(&line, &mut spans).expect("fits");
                let got: Vec<&str> =
                    spans[..n].iter().map(|&(a, b)| &line[a as usize..b as usize]).collect();
                assert_eq!(got, reference_split(&line), "{line:?}");
            }
        }
    }

    #[test]
    fn split_tokens_reports_overflow() {
        let mut spans = [(0, 0); 2];
        assert_eq!(split_tokens("a b", &mut spans), Some(2));
        assert_eq!(split_tokens("a b c", &mut spans), None);
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
