//! The bundled `policies/` and `rules/` packs load cleanly and pass their own tests.

use std::path::PathBuf;

use caracal_python::testing::{self, TestOptions};

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

fn assert_all_pass(paths: &[PathBuf], minimum_detections: usize) {
    let options = TestOptions { minimum_tests: 2, ..TestOptions::default() };
    let report = testing::run(paths, &options).unwrap();
    let mut text = Vec::new();
    testing::print_text(&report, true, &mut text).unwrap();
    let text = String::from_utf8_lossy(&text);
    assert_eq!(report.exit_code(), 0, "{text}");
    assert!(
        report.passed >= minimum_detections,
        "only {} detections passed:\n{text}",
        report.passed
    );
}

#[test]
fn bundled_policies_pass_their_tests() {
    assert_all_pass(&[repo("policies")], 10);
}

#[test]
fn bundled_rules_pass_their_tests() {
    assert_all_pass(&[repo("rules")], 10);
}
