//! The registry and the catalog (`remediations/<ID>.yml`) agree; every remediation is
//! complete. `CARACAL_BLESS=1 cargo test -p caracal-remediate catalog` writes missing
//! catalog files from the registry (then review and commit them).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{REMEDIATIONS, Remediation, Risk};
use crate::params::ParamKind;

/// One catalog file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    id: String,
    resource_type: String,
    description: String,
    risk: Risk,
    permissions: Vec<String>,
    parameters: Vec<EntryParam>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryParam {
    name: String,
    #[serde(rename = "type")]
    kind: ParamKind,
    #[serde(default)]
    default: Option<serde_norway::Value>,
    required: bool,
    description: String,
}

fn catalog_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../remediations")
}

fn entry_of(r: &dyn Remediation) -> Entry {
    let m = r.meta();
    Entry {
        id: m.id.into(),
        resource_type: m.resource_type.into(),
        description: m.description.into(),
        risk: m.risk,
        permissions: m.permissions.iter().map(|p| (*p).to_owned()).collect(),
        parameters: m
            .parameters
            .iter()
            .map(|p| EntryParam {
                name: p.name.into(),
                kind: p.kind,
                default: p.default_value().map(|v| serde_norway::to_value(v).unwrap()),
                required: p.required,
                description: p.description.into(),
            })
            .collect(),
    }
}

#[test]
fn registry_is_sorted_unique_and_declares_permissions() {
    assert!(REMEDIATIONS.len() >= 20);
    assert!(REMEDIATIONS.windows(2).all(|w| w[0].id() < w[1].id()), "sorted by id, no duplicates");
    for r in REMEDIATIONS {
        let m = r.meta();
        assert!(m.id.starts_with("AWS."), "{}", m.id);
        assert!(!m.permissions.is_empty(), "{} declares no permissions", m.id);
        assert!(m.permissions.iter().all(|p| p.contains(':')), "{}", m.id);
        for p in m.parameters {
            assert!(
                !(p.required && p.default.is_some()),
                "{}.{}: required with a default",
                m.id,
                p.name
            );
            assert!(
                p.default.is_none() || p.default_value().is_some(),
                "{}.{}: default is not JSON",
                m.id,
                p.name
            );
        }
    }
}

#[test]
fn catalog_and_registry_agree() {
    let dir = catalog_dir();
    let bless = std::env::var_os("CARACAL_BLESS").is_some();
    let mut on_disk = BTreeSet::new();
    for file in std::fs::read_dir(&dir).expect("remediations/ exists") {
        let path = file.unwrap().path();
        if path.extension().is_some_and(|e| e == "yml") {
            on_disk.insert(path.file_stem().unwrap().to_string_lossy().into_owned());
        }
    }
    let registered: BTreeSet<String> = REMEDIATIONS.iter().map(|r| r.id().to_owned()).collect();
    for r in REMEDIATIONS {
        let path = dir.join(format!("{}.yml", r.id()));
        if bless && !path.exists() {
            std::fs::write(&path, serde_norway::to_string(&entry_of(*r)).unwrap()).unwrap();
            on_disk.insert(r.id().to_owned());
        }
    }
    assert_eq!(on_disk, registered, "catalog files vs registry ids");

    for r in REMEDIATIONS {
        let path = dir.join(format!("{}.yml", r.id()));
        let text = std::fs::read_to_string(&path).unwrap();
        let entry: Entry =
            serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let want = entry_of(*r);
        assert_eq!(entry.id, want.id, "{}", path.display());
        assert_eq!(entry.resource_type, want.resource_type, "{}", r.id());
        assert_eq!(entry.risk, want.risk, "{}", r.id());
        assert!(!entry.description.trim().is_empty(), "{}", r.id());
        let perms = |v: &[String]| v.iter().cloned().collect::<BTreeSet<_>>();
        assert_eq!(perms(&entry.permissions), perms(&want.permissions), "{} permissions", r.id());
        let params = |v: &[EntryParam]| {
            v.iter()
                .map(|p| (p.name.clone(), p.kind, p.default.clone(), p.required))
                .collect::<Vec<_>>()
        };
        assert_eq!(params(&entry.parameters), params(&want.parameters), "{} parameters", r.id());
    }
}

#[test]
fn defaults_pass_each_remediations_own_validation() {
    for r in REMEDIATIONS {
        let m = r.meta();
        // Required parameters get a plausible value; everything else its default.
        let mut given = Map::new();
        for p in m.parameters.iter().filter(|p| p.required) {
            let v = match p.name {
                "target_bucket" => Value::from("log-bucket"),
                "log_destination" => Value::from("arn:aws:s3:::flow-logs"),
                other => panic!("{}: no example for required parameter {other}", m.id),
            };
            given.insert(p.name.to_owned(), v);
        }
        let resolved = crate::params::resolve(m.id, m.parameters, &given).unwrap();
        r.validate(&Value::Object(resolved)).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn parameter_structs_reject_unknown_fields() {
    for r in REMEDIATIONS {
        let mut given = Map::new();
        given.insert("surprise".into(), Value::Bool(true));
        let err = r.validate(&Value::Object(given)).unwrap_err();
        assert!(
            err.to_string().contains("surprise") || err.to_string().contains("missing"),
            "{}: {err}",
            r.id()
        );
    }
}
