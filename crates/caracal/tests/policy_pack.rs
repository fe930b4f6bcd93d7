//! The bundled policy pack as a whole (#14): enough policies, each with a passing
//! (compliant) and a failing (non-compliant) test case that both pass; framework
//! controls quoted as strings; every `AutoRemediationID` a catalog entry for one of the
//! policy's resource types.

use std::collections::BTreeSet;
use std::path::PathBuf;

use caracal_python::pack::{self, DetectionKind, DetectionSpec, LoadOptions};
use caracal_python::testing::{self, TestOptions};
use serde_json::Value;

/// The pack size #14 asks for.
const MINIMUM_POLICIES: usize = 70;

/// The frameworks `Reports` may name: explicit versions, so a report never mixes them.
const FRAMEWORKS: &[&str] = &["CIS-AWS-3.0", "CIS-AWS-5.0", "AWS-FSBP"];

fn bundled_policies() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../policies")
}

fn policies() -> Vec<DetectionSpec> {
    let loaded = pack::load(&[bundled_policies()], &LoadOptions::default()).expect("pack loads");
    loaded.detections.into_iter().filter(|d| d.kind == DetectionKind::Policy).collect()
}

/// Policies of the packs in `paths` that lack a passing test of a compliant resource
/// (expected true) or of a non-compliant one (expected false), and how many policies
/// there are. Panics with the runner's report when any test fails.
fn policies_missing_a_case(paths: &[PathBuf]) -> (Vec<String>, usize) {
    let report = testing::run(paths, &TestOptions::default()).expect("tests run");
    let mut text = Vec::new();
    testing::print_text(&report, true, &mut text).expect("report prints");
    assert_eq!(report.exit_code(), 0, "{}", String::from_utf8_lossy(&text));

    let mut missing = Vec::new();
    let mut counted = 0;
    for d in report.detections.iter().filter(|d| d.kind == DetectionKind::Policy) {
        counted += 1;
        // For a policy, expected true means "compliant" and false means "a finding".
        let has = |expected: bool| d.tests.iter().any(|t| t.expected == expected && t.passed);
        if !has(true) {
            missing.push(format!("{}: no passing test of a compliant resource", d.id));
        }
        if !has(false) {
            missing.push(format!("{}: no passing test of a non-compliant resource", d.id));
        }
    }
    (missing, counted)
}

#[test]
fn every_policy_has_a_passing_compliant_and_a_passing_non_compliant_test() {
    let (missing, counted) = policies_missing_a_case(&[bundled_policies()]);
    assert!(missing.is_empty(), "{}", missing.join("\n"));
    assert!(counted >= MINIMUM_POLICIES, "{counted} policies, #14 asks for {MINIMUM_POLICIES}");
}

#[test]
fn a_policy_tested_only_on_compliant_resources_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("only_pass.py"), "def policy(resource):\n    return True\n")
        .expect("write policy");
    std::fs::write(
        dir.path().join("only_pass.yml"),
        "AnalysisType: policy\nPolicyID: Test.OnlyPass\nEnabled: true\nFilename: only_pass.py\n\
         ResourceTypes: [AWS.S3.Bucket]\nSeverity: Low\nTests:\n  - Name: compliant passes\n\
         \x20   ExpectedResult: true\n    Resource: {Name: b}\n",
    )
    .expect("write spec");
    let (missing, counted) = policies_missing_a_case(&[dir.path().to_path_buf()]);
    assert_eq!(counted, 1);
    assert_eq!(missing, ["Test.OnlyPass: no passing test of a non-compliant resource"]);
}

#[test]
fn reports_name_framework_versions_with_string_control_ids() {
    let mut problems = Vec::new();
    for d in policies() {
        let Some(reports) = d.raw.get("Reports") else { continue };
        let Some(reports) = reports.as_object() else {
            problems.push(format!("{}: Reports is not a mapping", d.id));
            continue;
        };
        for (framework, ids) in reports {
            if !FRAMEWORKS.contains(&framework.as_str()) {
                problems.push(format!("{}: framework {framework:?} names no version", d.id));
            }
            let ids = ids.as_array().cloned().unwrap_or_default();
            if ids.is_empty() {
                problems.push(format!("{}: {framework} lists no control", d.id));
            }
            // YAML reads an unquoted 1.10 as the number 1.1: only strings are exact.
            for id in ids.iter().filter(|v| !v.is_string()) {
                problems.push(format!("{}: {framework} control {id} is not quoted", d.id));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn auto_remediations_exist_and_fix_a_type_the_policy_checks() {
    let mut problems = Vec::new();
    let mut named = BTreeSet::new();
    for d in policies() {
        let Some(id) = d.raw.get("AutoRemediationID").and_then(Value::as_str) else { continue };
        named.insert(id.to_owned());
        match caracal_remediate::find(id) {
            None => {
                problems.push(format!("{}: AutoRemediationID {id} is not in the catalog", d.id))
            }
            Some(r) if !d.resource_types.iter().any(|t| t == r.meta().resource_type) => {
                problems.push(format!(
                    "{}: {id} fixes {}, the policy checks {:?}",
                    d.id,
                    r.meta().resource_type,
                    d.resource_types
                ));
            }
            Some(r) => {
                let given = d
                    .raw
                    .get("AutoRemediationParameters")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                let declared = r.meta().parameters;
                for key in given.keys().filter(|k| !declared.iter().any(|p| p.name == k.as_str())) {
                    problems.push(format!("{}: {id} has no parameter {key:?}", d.id));
                }
                for p in declared.iter().filter(|p| p.required && !given.contains_key(p.name)) {
                    problems.push(format!("{}: {id} needs parameter {:?}", d.id, p.name));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        named.len() >= 10,
        "only {} remediations are named by policies: {named:?}",
        named.len()
    );
}
