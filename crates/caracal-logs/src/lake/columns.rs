//! The typed columns of a log type's table, declared by its parser ([`Parser::columns`]):
//! scalar types, nested structs and lists, times as timestamps and free-form JSON. Native
//! parsers write theirs in a short Hive-like text ([`parse_columns`]), one column a line:
//!
//! ```text
//! eventTime timestamp
//! userIdentity struct<type:string, arn:string, sessionContext:struct<mfaAuthenticated:string>>
//! resources array<struct<ARN:string, accountId:string, type:string>>
//! requestParameters json
//! ```
//!
//! Custom YAML schemas map their declared fields ([`from_schema_fields`]); a dotted name
//! becomes a struct field.
//!
//! [`Parser::columns`]: crate::parsers::Parser::columns

use std::sync::Arc;

use arrow_schema::{DataType, Field, TimeUnit};

use crate::schema::{FieldSpec, FieldType};

/// The type of one typed column.
#[derive(Debug, Clone, PartialEq)]
pub enum LakeType {
    /// UTF-8 text; numbers and booleans are written as text, objects as JSON text.
    String,
    /// A 64-bit signed integer.
    Bigint,
    /// A 64-bit float.
    Double,
    /// A boolean.
    Boolean,
    /// A UTC time in microseconds (RFC 3339 text and epoch numbers are read).
    Timestamp,
    /// Any JSON value, stored as its JSON text (free-form maps such as CloudTrail's
    /// `requestParameters`).
    Json,
    /// A list of items of one type.
    Array(Box<LakeType>),
    /// A nested object with declared fields.
    Struct(Vec<Column>),
}

/// One named column (or struct field).
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The field's name as the parser writes it.
    pub name: String,
    /// Its type.
    pub kind: LakeType,
}

impl LakeType {
    /// The Arrow type the lake stores it as.
    pub fn arrow(&self) -> DataType {
        match self {
            LakeType::String | LakeType::Json => DataType::Utf8,
            LakeType::Bigint => DataType::Int64,
            LakeType::Double => DataType::Float64,
            LakeType::Boolean => DataType::Boolean,
            LakeType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            LakeType::Array(item) => {
                DataType::List(Arc::new(Field::new("item", item.arrow(), true)))
            }
            LakeType::Struct(fields) => {
                DataType::Struct(fields.iter().map(Column::arrow).collect())
            }
        }
    }
}

impl Column {
    /// A column of this name and type.
    pub fn new(name: impl Into<String>, kind: LakeType) -> Self {
        Column { name: name.into(), kind }
    }

    /// The nullable Arrow field of this column.
    pub fn arrow(&self) -> Field {
        Field::new(&self.name, self.kind.arrow(), true)
    }
}

/// Reads a column declaration: one `name type` a line (blank lines and `#` comments
/// skipped), types `string`, `bigint`, `double`, `boolean`, `timestamp`, `json`,
/// `array<T>` and `struct<name:T, ...>`.
pub fn parse_columns(text: &str) -> Result<Vec<Column>, String> {
    let mut columns: Vec<Column> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (name, kind) = line
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("{line:?}: expected `name type`"))?;
        let kind = parse_type(kind.trim())?;
        if columns.iter().any(|c| c.name == name) {
            return Err(format!("column {name:?} is declared twice"));
        }
        columns.push(Column::new(name, kind));
    }
    Ok(columns)
}

fn parse_type(text: &str) -> Result<LakeType, String> {
    let mut rest = text;
    let kind = type_at(&mut rest)?;
    if !rest.trim().is_empty() {
        return Err(format!("{text:?}: unexpected {rest:?} after the type"));
    }
    Ok(kind)
}

/// Reads one type from the front of `rest`, advancing it.
fn type_at(rest: &mut &str) -> Result<LakeType, String> {
    *rest = rest.trim_start();
    let end = rest.find(|c: char| !c.is_ascii_alphanumeric() && c != '_').unwrap_or(rest.len());
    let (word, tail) = rest.split_at(end);
    *rest = tail;
    let kind = match word {
        "string" => LakeType::String,
        "bigint" => LakeType::Bigint,
        "double" => LakeType::Double,
        "boolean" => LakeType::Boolean,
        "timestamp" => LakeType::Timestamp,
        "json" => LakeType::Json,
        "array" => {
            expect(rest, '<')?;
            let item = type_at(rest)?;
            expect(rest, '>')?;
            LakeType::Array(Box::new(item))
        }
        "struct" => {
            expect(rest, '<')?;
            let mut fields: Vec<Column> = Vec::new();
            loop {
                *rest = rest.trim_start();
                let colon = rest
                    .find(':')
                    .ok_or_else(|| format!("struct field without `:` at {rest:?}"))?;
                let name = rest[..colon].trim().to_owned();
                *rest = &rest[colon + 1..];
                if name.is_empty() || fields.iter().any(|f| f.name == name) {
                    return Err(format!("struct field {name:?} is empty or repeated"));
                }
                let kind = type_at(rest)?;
                fields.push(Column::new(name, kind));
                *rest = rest.trim_start();
                if let Some(tail) = rest.strip_prefix(',') {
                    *rest = tail;
                    continue;
                }
                expect(rest, '>')?;
                break;
            }
            LakeType::Struct(fields)
        }
        other => return Err(format!("unknown type {other:?}")),
    };
    Ok(kind)
}

fn expect(rest: &mut &str, c: char) -> Result<(), String> {
    *rest = rest.trim_start();
    match rest.strip_prefix(c) {
        Some(tail) => {
            *rest = tail;
            Ok(())
        }
        None => Err(format!("expected {c:?} at {rest:?}")),
    }
}

/// The columns of a custom schema's declared fields: dotted names become nested structs,
/// fields built `from` others are columns like the rest.
pub fn from_schema_fields(fields: &[FieldSpec]) -> Vec<Column> {
    let mut columns = Vec::new();
    for field in fields {
        let kind = match field.kind {
            FieldType::String => LakeType::String,
            FieldType::Bigint => LakeType::Bigint,
            FieldType::Float => LakeType::Double,
            FieldType::Boolean => LakeType::Boolean,
            FieldType::Timestamp => LakeType::Timestamp,
            FieldType::Json | FieldType::JsonString | FieldType::KvString => LakeType::Json,
            FieldType::Array => LakeType::Array(Box::new(LakeType::String)),
        };
        let path: Vec<&str> = field.name.split('.').collect();
        insert(&mut columns, &path, kind);
    }
    columns
}

/// Puts `kind` at `path` in `columns`, making structs on the way. A path that runs into a
/// scalar declared earlier (or a scalar declared where a struct is) keeps the earlier
/// declaration: the value then lands in `extra`.
fn insert(columns: &mut Vec<Column>, path: &[&str], kind: LakeType) {
    let Some((head, rest)) = path.split_first() else { return };
    let existing = columns.iter().position(|c| c.name == *head);
    if rest.is_empty() {
        if existing.is_none() {
            columns.push(Column::new(*head, kind));
        }
        return;
    }
    let i = match existing {
        Some(i) => i,
        None => {
            columns.push(Column::new(*head, LakeType::Struct(Vec::new())));
            columns.len() - 1
        }
    };
    if let LakeType::Struct(fields) = &mut columns[i].kind {
        insert(fields, rest, kind);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_declarations_parse_to_arrow_types() {
        let columns = parse_columns(
            "# comment\n a string\nb array<struct<x:bigint, y:array<string>>>\n\nc struct<t:timestamp,j:json>",
        )
        .expect("valid");
        assert_eq!(columns.len(), 3);
        assert_eq!(columns[0], Column::new("a", LakeType::String));
        let want = LakeType::Array(Box::new(LakeType::Struct(vec![
            Column::new("x", LakeType::Bigint),
            Column::new("y", LakeType::Array(Box::new(LakeType::String))),
        ])));
        assert_eq!(columns[1].kind, want);
        let want = DataType::Struct(
            vec![
                Field::new(
                    "t",
                    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                    true,
                ),
                Field::new("j", DataType::Utf8, true),
            ]
            .into(),
        );
        assert_eq!(columns[2].arrow().data_type(), &want);
    }

    #[test]
    fn bad_declarations_are_errors() {
        for text in ["a", "a strin", "a array<string", "a struct<x bigint>", "a string\na bigint"] {
            assert!(parse_columns(text).is_err(), "{text}");
        }
    }
}
