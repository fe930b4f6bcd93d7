//! Rows of one log type's table into Arrow arrays: each declared [`Column`] gets its
//! field's value, converted to the column's type; every field the table does not declare,
//! and every value that does not fit its column (a word where a number is declared, a
//! struct with keys the declaration lacks), also goes whole to the `extra` column as JSON,
//! so nothing is lost. A value that half fits keeps what fits in its column.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Float64Builder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, ListArray, StructArray};
use arrow_buffer::{NullBufferBuilder, OffsetBuffer, ScalarBuffer};
use arrow_schema::{
    ArrowError, DataType, Field, FieldRef, Fields as ArrowFields, Schema, SchemaRef,
};
use serde::Serializer;
use serde_json::Value;

use super::columns::{Column, LakeType};
use crate::columns::Fields;
use crate::parsers::util::{epoch, parse_time};

/// The name of the column holding the fields a table does not declare, as a JSON object.
pub const EXTRA: &str = "extra";

/// The typed layout of one log type's table: the `p_` columns, its declared columns and
/// [`EXTRA`].
#[derive(Debug)]
pub struct TableLayout {
    log_type: String,
    columns: Vec<Column>,
    index: HashMap<String, usize>,
    /// Column positions sorted by name, to walk beside a JSON object's sorted keys.
    by_name: Vec<usize>,
    schema: SchemaRef,
}

impl TableLayout {
    /// The layout of `log_type` with these declared columns after `p_columns`. Declared
    /// columns named like a `p_` field or [`EXTRA`] are left out (their values go to
    /// `extra`).
    pub fn new(log_type: &str, declared: &[Column], p_columns: &[Field]) -> Self {
        let columns: Vec<Column> = declared
            .iter()
            .filter(|c| !c.name.starts_with("p_") && c.name != EXTRA)
            .cloned()
            .collect();
        let index = columns.iter().enumerate().map(|(i, c)| (c.name.clone(), i)).collect();
        let mut by_name: Vec<usize> = (0..columns.len()).collect();
        by_name.sort_by(|&a, &b| columns[a].name.cmp(&columns[b].name));
        // The sorted walk fills one column per key: names must be unique (parsers and
        // schemas refuse duplicates).
        debug_assert!(by_name.windows(2).all(|w| columns[w[0]].name != columns[w[1]].name));
        let mut fields = p_columns.to_vec();
        fields.extend(columns.iter().map(Column::arrow));
        fields.push(Field::new(EXTRA, DataType::Utf8, true));
        TableLayout {
            log_type: log_type.to_owned(),
            columns,
            index,
            by_name,
            schema: Arc::new(Schema::new(fields)),
        }
    }

    /// The log type.
    pub fn log_type(&self) -> &str {
        &self.log_type
    }

    /// The declared columns, in table order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The table's Arrow schema.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

/// The builders of one table's typed columns and `extra`.
pub(crate) struct TypedRows {
    layout: Arc<TableLayout>,
    builders: Vec<Builder>,
    extra: StringBuilder,
    /// Reused for each row's `extra` JSON.
    scratch: Vec<u8>,
    /// Which columns a delimited record filled.
    filled: Vec<bool>,
    /// The column of each field name delimited records produced, in their order: rows of
    /// one file repeat it, so a name is compared with the next expected one instead of
    /// hashed.
    record_names: Vec<(Box<str>, Option<usize>)>,
}

impl TypedRows {
    pub(crate) fn new(layout: Arc<TableLayout>) -> Self {
        let builders = layout.columns.iter().map(|c| Builder::new(&c.kind)).collect();
        let filled = vec![false; layout.columns.len()];
        TypedRows {
            layout,
            builders,
            extra: StringBuilder::new(),
            scratch: Vec::new(),
            filled,
            record_names: Vec::new(),
        }
    }

    /// The column of a delimited record's field `name`, `cursor` being where the next
    /// field is expected in `record_names`.
    fn record_column(&mut self, name: &str, cursor: &mut usize) -> Option<usize> {
        if let Some((known, i)) = self.record_names.get(*cursor)
            && **known == *name
        {
            *cursor += 1;
            return *i;
        }
        if let Some(at) = self.record_names.iter().position(|(known, _)| **known == *name) {
            *cursor = at + 1;
            return self.record_names[at].1;
        }
        let i = self.layout.index.get(name).copied();
        // Bounded: a source whose names keep changing falls back to hashing.
        if self.record_names.len() < 512 {
            self.record_names.push((name.into(), i));
            *cursor = self.record_names.len();
        }
        i
    }

    /// Appends one row; returns about how many bytes it added.
    pub(crate) fn push(&mut self, fields: &Fields) -> usize {
        match fields {
            Fields::Object(map) => self.push_object(map),
            Fields::Record(record) => {
                let mut bytes = 0;
                let mut extra: Vec<(&str, Value)> = Vec::new();
                let mut cursor = 0;
                for (name, text) in record.texts() {
                    let Some(i) = self.record_column(name, &mut cursor) else {
                        extra.extend(record.value(name).map(|v| (name, v)));
                        continue;
                    };
                    let mut lossy = false;
                    bytes += self.builders[i].append_text(text, &mut lossy);
                    self.filled[i] = true;
                    if lossy {
                        extra.extend(record.value(name).map(|v| (name, v)));
                    }
                }
                for (builder, filled) in self.builders.iter_mut().zip(&mut self.filled) {
                    if !std::mem::take(filled) {
                        builder.append_null();
                    }
                }
                bytes + write_extra(&mut self.extra, &mut self.scratch, &extra)
            }
        }
    }

    fn push_object(&mut self, map: &serde_json::Map<String, Value>) -> usize {
        // serde_json's map iterates in key order: one walk beside the sorted columns
        // instead of a lookup per column.
        if map.keys().is_sorted() {
            return self.push_sorted_object(map);
        }
        self.push_object_by_lookup(map)
    }

    /// [`Self::push_object`] by one lookup per column (maps that keep insertion order).
    fn push_object_by_lookup(&mut self, map: &serde_json::Map<String, Value>) -> usize {
        let mut bytes = 0;
        let mut matched = 0;
        let mut extra: Vec<(&str, &Value)> = Vec::new();
        for (column, builder) in self.layout.columns.iter().zip(&mut self.builders) {
            match map.get(&column.name) {
                Some(v) => {
                    matched += 1;
                    let mut lossy = false;
                    bytes += builder.append(v, &mut lossy);
                    if lossy {
                        extra.push((column.name.as_str(), v));
                    }
                }
                None => builder.append_null(),
            }
        }
        if matched < map.len() {
            extra.extend(
                map.iter()
                    .filter(|(k, _)| !self.layout.index.contains_key(k.as_str()))
                    .map(|(k, v)| (k.as_str(), v)),
            );
        }
        extra.sort_by(|a, b| a.0.cmp(b.0));
        bytes + write_extra(&mut self.extra, &mut self.scratch, &extra)
    }

    /// [`Self::push_object`] for a map whose keys iterate in order.
    fn push_sorted_object(&mut self, map: &serde_json::Map<String, Value>) -> usize {
        let mut bytes = 0;
        let mut extra: Vec<(&str, &Value)> = Vec::new();
        let by_name = &self.layout.by_name;
        let mut next = 0;
        for (key, v) in map {
            while next < by_name.len()
                && self.layout.columns[by_name[next]].name.as_str() < key.as_str()
            {
                next += 1;
            }
            match by_name.get(next) {
                Some(&i) if self.layout.columns[i].name == *key => {
                    next += 1;
                    let mut lossy = false;
                    bytes += self.builders[i].append(v, &mut lossy);
                    self.filled[i] = true;
                    if lossy {
                        extra.push((key.as_str(), v));
                    }
                }
                _ => extra.push((key.as_str(), v)),
            }
        }
        for (builder, filled) in self.builders.iter_mut().zip(&mut self.filled) {
            if !std::mem::take(filled) {
                builder.append_null();
            }
        }
        // Keys came in order, so `extra` is sorted as the other path sorts it.
        bytes + write_extra(&mut self.extra, &mut self.scratch, &extra)
    }

    /// The typed columns and `extra` of the rows pushed so far; the builders start over.
    pub(crate) fn finish(&mut self, columns: &mut Vec<ArrayRef>) -> Result<(), ArrowError> {
        for builder in &mut self.builders {
            columns.push(builder.finish()?);
        }
        columns.push(Arc::new(self.extra.finish()));
        Ok(())
    }

    pub(crate) fn schema(&self) -> SchemaRef {
        self.layout.schema()
    }
}

/// Appends `extra` as a JSON object, or null when it is empty; returns its length.
fn write_extra<V: std::borrow::Borrow<Value>>(
    builder: &mut StringBuilder,
    scratch: &mut Vec<u8>,
    extra: &[(&str, V)],
) -> usize {
    if extra.is_empty() {
        builder.append_null();
        return 0;
    }
    scratch.clear();
    let mut serializer = serde_json::Serializer::new(&mut *scratch);
    let entries = extra.iter().map(|(k, v)| (k, v.borrow()));
    if serializer.collect_map(entries).is_err() {
        // JSON values with text keys always serialize; this keeps the row whole regardless.
        let map: serde_json::Map<String, Value> =
            extra.iter().map(|(k, v)| ((*k).to_owned(), v.borrow().clone())).collect();
        scratch.clear();
        scratch.extend_from_slice(Value::Object(map).to_string().as_bytes());
    }
    // serde_json writes UTF-8.
    let text = String::from_utf8_lossy(scratch);
    builder.append_value(&text);
    text.len()
}

/// One column's builder, by type.
enum Builder {
    String(StringBuilder),
    Bigint(Int64Builder),
    Double(Float64Builder),
    Boolean(BooleanBuilder),
    Timestamp(TimestampMicrosecondBuilder),
    Json(StringBuilder, Vec<u8>),
    Array { item: FieldRef, offsets: Vec<i32>, nulls: NullBufferBuilder, values: Box<Builder> },
    Struct { fields: ArrowFields, children: Vec<(String, Builder)>, nulls: NullBufferBuilder },
}

impl Builder {
    fn new(kind: &LakeType) -> Self {
        match kind {
            LakeType::String => Builder::String(StringBuilder::new()),
            LakeType::Bigint => Builder::Bigint(Int64Builder::new()),
            LakeType::Double => Builder::Double(Float64Builder::new()),
            LakeType::Boolean => Builder::Boolean(BooleanBuilder::new()),
            LakeType::Timestamp => {
                Builder::Timestamp(TimestampMicrosecondBuilder::new().with_timezone("UTC"))
            }
            LakeType::Json => Builder::Json(StringBuilder::new(), Vec::new()),
            LakeType::Array(item) => Builder::Array {
                item: Arc::new(Field::new("item", item.arrow(), true)),
                offsets: vec![0],
                nulls: NullBufferBuilder::new(0),
                values: Box::new(Builder::new(item)),
            },
            LakeType::Struct(fields) => Builder::Struct {
                fields: fields.iter().map(Column::arrow).collect(),
                children: fields.iter().map(|c| (c.name.clone(), Builder::new(&c.kind))).collect(),
                nulls: NullBufferBuilder::new(0),
            },
        }
    }

    fn append_null(&mut self) {
        match self {
            Builder::String(b) | Builder::Json(b, _) => b.append_null(),
            Builder::Bigint(b) => b.append_null(),
            Builder::Double(b) => b.append_null(),
            Builder::Boolean(b) => b.append_null(),
            Builder::Timestamp(b) => b.append_null(),
            Builder::Array { offsets, nulls, .. } => {
                offsets.push(offsets.last().copied().unwrap_or(0));
                nulls.append_null();
            }
            Builder::Struct { children, nulls, .. } => {
                children.iter_mut().for_each(|(_, c)| c.append_null());
                nulls.append_null();
            }
        }
    }

    /// Appends `v` converted to this type; what does not fit is left null and sets
    /// `lossy`. Returns about how many bytes it added.
    fn append(&mut self, v: &Value, lossy: &mut bool) -> usize {
        if v.is_null() {
            self.append_null();
            return 1;
        }
        match (&mut *self, v) {
            (Builder::String(b), Value::String(s)) => {
                b.append_value(s);
                s.len() + 4
            }
            (Builder::String(b), Value::Bool(x)) => {
                b.append_value(if *x { "true" } else { "false" });
                8
            }
            (Builder::String(b), other) => {
                // Numbers as text, objects and arrays as JSON text: nothing is lost.
                let text = other.to_string();
                b.append_value(&text);
                text.len() + 4
            }
            (Builder::Json(b, scratch), other) => {
                scratch.clear();
                match serde_json::to_writer(&mut *scratch, other) {
                    Ok(()) => {
                        let text = String::from_utf8_lossy(scratch);
                        b.append_value(&text);
                        text.len() + 4
                    }
                    Err(_) => {
                        *lossy = true;
                        b.append_null();
                        1
                    }
                }
            }
            (Builder::Array { offsets, nulls, values, .. }, Value::Array(items)) => {
                let mut bytes = 4;
                for item in items {
                    bytes += values.append(item, lossy);
                }
                let end = offsets.last().copied().unwrap_or(0);
                offsets.push(end.saturating_add(i32::try_from(items.len()).unwrap_or(i32::MAX)));
                nulls.append_non_null();
                bytes
            }
            (Builder::Struct { children, nulls, .. }, Value::Object(map)) => {
                let mut bytes = 1;
                let mut matched = 0;
                for (name, child) in children.iter_mut() {
                    match map.get(name.as_str()) {
                        Some(v) => {
                            matched += 1;
                            bytes += child.append(v, lossy);
                        }
                        None => child.append_null(),
                    }
                }
                if matched < map.len() {
                    *lossy = true;
                }
                nulls.append_non_null();
                bytes
            }
            (Builder::Array { .. } | Builder::Struct { .. }, _) => {
                *lossy = true;
                self.append_null();
                1
            }
            (_, Value::String(s)) => self.append_text(s, lossy),
            (Builder::Bigint(b), Value::Number(n)) => {
                match n.as_i64().or_else(|| {
                    n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9e15).map(|f| f as i64)
                }) {
                    Some(x) => b.append_value(x),
                    None => {
                        *lossy = true;
                        b.append_null();
                    }
                }
                8
            }
            (Builder::Double(b), Value::Number(n)) => {
                b.append_option(n.as_f64());
                8
            }
            (Builder::Boolean(b), Value::Bool(x)) => {
                b.append_value(*x);
                1
            }
            (Builder::Timestamp(b), Value::Number(n)) => {
                let t = match n.as_i64() {
                    Some(i) => epoch(i),
                    None => n
                        .as_f64()
                        .and_then(|f| chrono::DateTime::from_timestamp_micros((f * 1e6) as i64)),
                };
                match t {
                    Some(t) => b.append_value(t.timestamp_micros()),
                    None => {
                        *lossy = true;
                        b.append_null();
                    }
                }
                8
            }
            _ => {
                *lossy = true;
                self.append_null();
                1
            }
        }
    }

    /// Appends text read from a delimited record (or a JSON string) converted to this
    /// type; as [`Builder::append`].
    fn append_text(&mut self, s: &str, lossy: &mut bool) -> usize {
        let ok = match self {
            Builder::String(b) => {
                b.append_value(s);
                true
            }
            Builder::Json(b, scratch) => {
                scratch.clear();
                let written = serde_json::to_writer(&mut *scratch, s).is_ok();
                b.append_value(String::from_utf8_lossy(scratch));
                written
            }
            Builder::Bigint(b) => match s.trim().parse::<i64>() {
                Ok(x) => {
                    b.append_value(x);
                    true
                }
                Err(_) => {
                    b.append_null();
                    false
                }
            },
            Builder::Double(b) => match s.trim().parse::<f64>() {
                Ok(x) => {
                    b.append_value(x);
                    true
                }
                Err(_) => {
                    b.append_null();
                    false
                }
            },
            Builder::Boolean(b) => {
                let x = match s.trim() {
                    t if t.eq_ignore_ascii_case("true") => Some(true),
                    t if t.eq_ignore_ascii_case("false") => Some(false),
                    _ => None,
                };
                b.append_option(x);
                x.is_some()
            }
            Builder::Timestamp(b) => match parse_time(s) {
                Some(t) => {
                    b.append_value(t.timestamp_micros());
                    true
                }
                None => {
                    b.append_null();
                    false
                }
            },
            Builder::Array { .. } | Builder::Struct { .. } => {
                self.append_null();
                false
            }
        };
        if !ok {
            *lossy = true;
        }
        s.len() + 4
    }

    fn finish(&mut self) -> Result<ArrayRef, ArrowError> {
        Ok(match self {
            Builder::String(b) | Builder::Json(b, _) => Arc::new(b.finish()),
            Builder::Bigint(b) => Arc::new(b.finish()),
            Builder::Double(b) => Arc::new(b.finish()),
            Builder::Boolean(b) => Arc::new(b.finish()),
            Builder::Timestamp(b) => Arc::new(b.finish()),
            Builder::Array { item, offsets, nulls, values } => {
                let offsets = std::mem::replace(offsets, vec![0]);
                let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
                Arc::new(ListArray::try_new(
                    item.clone(),
                    offsets,
                    values.finish()?,
                    nulls.finish(),
                )?)
            }
            Builder::Struct { fields, children, nulls } => {
                let len = nulls.len();
                let arrays =
                    children.iter_mut().map(|(_, c)| c.finish()).collect::<Result<Vec<_>, _>>()?;
                if fields.is_empty() {
                    Arc::new(StructArray::new_empty_fields(len, nulls.finish()))
                } else {
                    Arc::new(StructArray::try_new(fields.clone(), arrays, nulls.finish())?)
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::Array;

    use super::*;
    use crate::lake::columns::parse_columns;

    #[test]
    fn the_sorted_walk_and_the_lookups_fill_the_same_columns_and_extra() {
        let declared = parse_columns(
            "a string\nb bigint\nc struct<x:string,y:bigint>\nd array<string>\nz boolean",
        )
        .expect("valid");
        let layout = Arc::new(TableLayout::new("Test.Log", &declared, &[]));
        let rows = [
            r#"{"a":"x","b":3,"c":{"x":"in","y":2},"d":["p","q"],"z":true}"#,
            r#"{"b":"not a number","c":{"x":"in","extra key":1},"p_log_type":"no","extra":"mine","zz":[1]}"#,
            r#"{}"#,
            r#"{"a":null,"d":"not a list","m":{"k":"v"}}"#,
        ];
        let (mut walked, mut looked) = (TypedRows::new(layout.clone()), TypedRows::new(layout));
        for row in rows {
            let Value::Object(map) = serde_json::from_str(row).expect("json") else { panic!() };
            assert_eq!(
                walked.push_sorted_object(&map),
                looked.push_object_by_lookup(&map),
                "{row}"
            );
        }
        let (mut a, mut b) = (Vec::new(), Vec::new());
        walked.finish(&mut a).expect("arrays");
        looked.finish(&mut b).expect("arrays");
        assert_eq!(a.len(), 6);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.to_data(), y.to_data());
        }
        let extra = a[5].as_any().downcast_ref::<arrow_array::StringArray>().expect("text");
        assert_eq!(
            extra.value(1),
            r#"{"b":"not a number","c":{"extra key":1,"x":"in"},"extra":"mine","p_log_type":"no","zz":[1]}"#
        );
        assert!(extra.is_null(2));
    }
}
