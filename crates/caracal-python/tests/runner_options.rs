//! `caracal test` options: filters, minimum tests, JSON report, virtualenv imports.

use std::fs;
use std::path::PathBuf;

use caracal_python::testing::{self, Filter, TestOptions};

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

#[test]
fn filter_keeps_only_matching_detections() {
    let filter: Filter = "Severity=critical,Nope".parse().unwrap();
    let options = TestOptions { filters: vec![filter], ..TestOptions::default() };
    let report = testing::run(&[repo("rules")], &options).unwrap();
    let ids: Vec<&str> = report.detections.iter().map(|d| d.id.as_str()).collect();
    assert!(ids.contains(&"AWS.CloudTrail.LeaveOrganization"), "{ids:?}");
    let pack = caracal_python::pack::load(&[repo("rules")], &Default::default()).unwrap();
    for id in &ids {
        let spec = pack.detections.iter().find(|d| d.id == *id).unwrap();
        assert_eq!(spec.severity, caracal_core::Severity::Critical, "{id}");
    }
    assert!(report.filtered_out >= 10);
}

#[test]
fn filter_matches_any_element_of_a_list_key() {
    let filter: Filter = "Tags=Encryption".parse().unwrap();
    let options = TestOptions { filters: vec![filter], ..TestOptions::default() };
    let report = testing::run(&[repo("policies")], &options).unwrap();
    assert!(report.detections.len() >= 3);
    assert_eq!(report.exit_code(), 0);
}

#[test]
fn filter_without_equals_is_rejected() {
    assert!("Severity".parse::<Filter>().is_err());
}

#[test]
fn minimum_tests_fails_detections_with_too_few() {
    let options = TestOptions { minimum_tests: 3, ..TestOptions::default() };
    let report = testing::run(&[repo("policies")], &options).unwrap();
    assert_eq!(report.exit_code(), 1);
    let short = report.detections.iter().find(|d| d.id == "AWS.EC2.Volume.Encrypted").unwrap();
    assert!(!short.passed && short.problems[0].contains("insufficient test coverage"));
    let full = report.detections.iter().find(|d| d.id == "AWS.S3.Bucket.Versioning").unwrap();
    assert!(full.passed);
}

#[test]
fn json_report_carries_per_test_results() {
    let report = testing::run(&[repo("policies")], &TestOptions::default()).unwrap();
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["failed"], 0);
    let first = &json["detections"][0];
    assert!(first["id"].is_string() && first["tests"][0]["passed"].as_bool() == Some(true));
}

#[test]
fn detections_import_from_configured_site_packages() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("venv/lib/python3.11/site-packages");
    fs::create_dir_all(&site).unwrap();
    fs::write(site.join("caracal_fake_dep.py"), "ANSWER = 42\n").unwrap();
    let pack = dir.path().join("pack");
    fs::create_dir_all(&pack).unwrap();
    fs::write(
        pack.join("p.py"),
        "import caracal_fake_dep\n\ndef policy(r):\n    return caracal_fake_dep.ANSWER == 42\n",
    )
    .unwrap();
    fs::write(
        pack.join("p.yml"),
        "AnalysisType: policy\nPolicyID: T.Dep\nEnabled: true\nFilename: p.py\nSeverity: Low\nTests:\n  - Name: imports\n    ExpectedResult: true\n    Resource: {}\n",
    )
    .unwrap();
    let options = TestOptions { python_paths: vec![site], ..TestOptions::default() };
    let report = testing::run(&[pack], &options).unwrap();
    assert_eq!(report.exit_code(), 0, "{report:?}");
    assert_eq!(report.passed, 1);
}
