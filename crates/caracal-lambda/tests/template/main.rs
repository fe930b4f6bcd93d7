//! The templates in `infra/` against the code: they agree with the functions' registry,
//! the IAM registries and the store's tables; `cfn-lint` finds nothing; the main
//! template deploys on the emulator's CloudFormation, and the tables it creates pass
//! the store's conformance suite.

mod agreement;
mod deploy;
mod lint;

use std::path::PathBuf;

use serde_norway::Value;

pub fn repo(path: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join(path)
}

/// Every template in `infra/`.
pub fn templates() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(repo("infra"))
        .expect("infra/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    out.sort();
    out
}

/// A template parsed (intrinsic-function tags such as `!Ref` kept as tagged values).
pub fn template(name: &str) -> Value {
    let text = std::fs::read_to_string(repo("infra").join(name)).expect("template");
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// `value[path...]`, through mappings.
pub fn at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, key| v.get(*key))
}

/// A YAML sequence of strings (or one string) as a sorted list.
pub fn strings(value: Option<&Value>) -> Vec<String> {
    let mut out: Vec<String> = match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Sequence(items)) => {
            items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()
        }
        _ => Vec::new(),
    };
    out.sort();
    out
}
