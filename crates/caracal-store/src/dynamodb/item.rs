//! Items and attribute values: small constructors and readers.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

/// One DynamoDB item.
pub(crate) type Item = HashMap<String, AttributeValue>;

/// A string attribute.
pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// A number attribute.
pub(crate) fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// A string attribute of an item, if present.
pub(crate) fn get_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}

/// A number attribute of an item, if present and integral.
pub(crate) fn get_n(item: &Item, name: &str) -> Option<i64> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|t| t.parse().ok())
}

/// A key of string attributes.
pub(crate) fn key<const N: usize>(parts: [(&str, &str); N]) -> Item {
    parts.into_iter().map(|(k, v)| (k.to_owned(), s(v))).collect()
}
