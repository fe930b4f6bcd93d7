//! Remediation parameters: their declared [`ParamSpec`]s, defaults, and parsing from
//! `--param key=value` text or JSON.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, bad_param};

/// A parameter's type, as in the catalog YAML.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamKind {
    /// `true` / `false`.
    Bool,
    /// A whole number.
    Integer,
    /// Text.
    String,
    /// A list of whole numbers, written `22,3389` on the command line.
    IntegerList,
}

impl ParamKind {
    /// The catalog name of the type.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bool => "bool",
            Self::Integer => "integer",
            Self::String => "string",
            Self::IntegerList => "integer_list",
        }
    }

    /// Whether `value` has this type.
    fn accepts(self, value: &Value) -> bool {
        match self {
            Self::Bool => value.is_boolean(),
            Self::Integer => value.is_i64() || value.is_u64(),
            Self::String => value.is_string(),
            Self::IntegerList => {
                value.as_array().is_some_and(|a| a.iter().all(|v| v.is_i64() || v.is_u64()))
            }
        }
    }

    /// Parses command-line text into a value of this type.
    fn parse(self, text: &str) -> Option<Value> {
        match self {
            Self::Bool => text.parse::<bool>().ok().map(Value::from),
            Self::Integer => text.trim().parse::<i64>().ok().map(Value::from),
            Self::String => Some(Value::from(text)),
            Self::IntegerList => text
                .split(',')
                .map(|p| p.trim().parse::<i64>().ok().map(Value::from))
                .collect::<Option<Vec<_>>>()
                .map(Value::Array),
        }
    }
}

/// One declared parameter of a remediation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamSpec {
    /// Its name, snake_case.
    pub name: &'static str,
    /// Its type.
    pub kind: ParamKind,
    /// The default as JSON text (`14`, `true`, `"AES256"`, `[22, 3389]`); `None` when the
    /// parameter is required or optional without a value.
    pub default: Option<&'static str>,
    /// Whether it must be given (only when `default` is `None`).
    pub required: bool,
    /// What it does.
    pub description: &'static str,
}

impl ParamSpec {
    /// The default as a JSON value.
    pub fn default_value(&self) -> Option<Value> {
        self.default.and_then(|d| serde_json::from_str(d).ok())
    }
}

/// Checks names and types against `specs` and fills in defaults. Type-correct values are
/// then range-checked by the remediation's own parameters struct.
pub(crate) fn resolve(
    remediation: &'static str,
    specs: &[ParamSpec],
    given: &Map<String, Value>,
) -> Result<Map<String, Value>, Error> {
    let mut out = Map::new();
    for (name, value) in given {
        let Some(spec) = specs.iter().find(|s| s.name == name) else {
            let known: Vec<&str> = specs.iter().map(|s| s.name).collect();
            return Err(bad_param(
                remediation,
                name,
                format!("unknown parameter (known: {})", known_list(&known)),
            ));
        };
        if !spec.kind.accepts(value) {
            return Err(bad_param(
                remediation,
                name,
                format!("{value} is not a valid {}", spec.kind.as_str()),
            ));
        }
        out.insert(name.clone(), value.clone());
    }
    for spec in specs {
        if out.contains_key(spec.name) {
            continue;
        }
        match spec.default_value() {
            Some(v) => {
                out.insert(spec.name.to_owned(), v);
            }
            None if spec.required => {
                return Err(bad_param(remediation, spec.name, "required, and not given"));
            }
            None => {}
        }
    }
    Ok(out)
}

fn known_list(known: &[&str]) -> String {
    if known.is_empty() { "none".to_owned() } else { known.join(", ") }
}

/// Parses `key=value` pairs from the command line into JSON, typed by `specs`.
///
/// Only a pair without `=` is an error here. Unknown names and text that does not parse
/// as the parameter's type are kept as strings, so that the executor refuses them with
/// the bad value named and records the refusal in the audit store.
pub fn parse_pairs(specs: &[ParamSpec], pairs: &[String]) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for pair in pairs {
        let Some((key, text)) = pair.split_once('=') else {
            return Err(format!("parameter {pair:?} is not key=value"));
        };
        let typed = specs.iter().find(|s| s.name == key).and_then(|spec| spec.kind.parse(text));
        out.insert(key.to_owned(), typed.unwrap_or_else(|| Value::from(text)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SPECS: &[ParamSpec] = &[
        ParamSpec {
            name: "ports",
            kind: ParamKind::IntegerList,
            default: Some("[22, 3389]"),
            required: false,
            description: "",
        },
        ParamSpec {
            name: "target",
            kind: ParamKind::String,
            default: None,
            required: true,
            description: "",
        },
    ];

    #[test]
    fn resolve_fills_defaults_and_names_bad_values() {
        let given = parse_pairs(SPECS, &["target=b".into()]).unwrap();
        let out = resolve("X", SPECS, &given).unwrap();
        assert_eq!(Value::Object(out), json!({"ports": [22, 3389], "target": "b"}));
        let given = parse_pairs(SPECS, &["ports=3389, 22".into(), "target=b".into()]).unwrap();
        assert_eq!(given["ports"], json!([3389, 22]));

        let given = parse_pairs(SPECS, &["ports=22,ssh".into(), "target=b".into()]).unwrap();
        let err = resolve("X", SPECS, &given).unwrap_err();
        assert!(err.to_string().contains("\"22,ssh\" is not a valid integer_list"), "{err}");
        assert!(parse_pairs(SPECS, &["ports".into()]).is_err());
        let given = parse_pairs(SPECS, &["colour=red".into(), "target=b".into()]).unwrap();
        let err = resolve("X", SPECS, &given).unwrap_err();
        assert!(err.to_string().contains("bad parameter colour: unknown parameter"), "{err}");
        let err = resolve("X", SPECS, &Map::new()).unwrap_err();
        assert!(err.to_string().contains("target: required"), "{err}");
    }
}
