//! Each deliberately broken spec under `tests/data/broken/` gives the right failure line,
//! a non-zero exit code, and never hangs.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use caracal_python::Isolation;
use caracal_python::testing::{self, TestOptions, TestReport};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/broken").join(name)
}

fn run(name: &str) -> (TestReport, String) {
    run_with(name, TestOptions::default())
}

fn run_with(name: &str, options: TestOptions) -> (TestReport, String) {
    let options = TestOptions { time_limit: Duration::from_millis(300), ..options };
    let report = testing::run(&[fixture(name)], &options).unwrap();
    let mut out = Vec::new();
    testing::print_text(&report, false, &mut out).unwrap();
    (report, String::from_utf8(out).unwrap())
}

#[test]
fn bad_yaml_is_invalid() {
    let (report, text) = run("bad_yaml");
    assert_eq!(report.exit_code(), 1);
    assert!(text.contains("[INVALID]") && text.contains("spec.yml: invalid YAML"), "{text}");
}

/// #15.5: an unknown key warns, naming it, and the spec still runs; `strict_keys` makes
/// it invalid.
#[test]
fn unknown_key_warns_and_is_invalid_only_when_strict() {
    let (report, text) = run("unknown_key");
    assert_eq!(report.exit_code(), 0, "{text}");
    assert!(text.contains("[WARN]") && text.contains("spec.yml: unknown key Severty"), "{text}");
    assert_eq!(report.passed, 1, "{text}");
    let strict = TestOptions { strict_keys: true, ..TestOptions::default() };
    let report = testing::run(&[fixture("unknown_key")], &strict).unwrap();
    assert_eq!(report.exit_code(), 1);
    assert!(report.invalid[0].message.contains("unknown key Severty"), "{:?}", report.invalid);
}

#[test]
fn missing_filename_is_invalid() {
    let (report, text) = run("missing_filename");
    assert_eq!(report.exit_code(), 1);
    assert!(text.contains("spec.yml: missing required key Filename"), "{text}");
}

#[test]
fn python_syntax_error_is_invalid_with_its_line() {
    let (report, text) = run("syntax_error");
    assert_eq!(report.exit_code(), 1);
    assert!(text.contains("bad.py: SyntaxError:") && text.contains("line 1"), "{text}");
}

/// #11.3: a detection whose module fails to import is an invalid spec, named with the
/// missing module, and fails the run; its tests are not run.
#[test]
fn missing_import_is_invalid_and_named() {
    let (report, text) = run("missing_import");
    assert_eq!(report.exit_code(), 1, "{text}");
    assert_eq!(report.invalid.len(), 1, "{text}");
    assert!(report.detections.is_empty(), "{text}");
    assert!(
        text.contains("rule.py: ModuleNotFoundError: No module named 'caracal_no_such_module'"),
        "{text}"
    );
    assert!(text.contains("\tInvalid: 1"), "{text}");
}

/// #11.3: a global that fails to import is invalid even when no detection imports it
/// (panther-analysis-tool loads every global); the detections still run.
#[test]
fn missing_import_in_a_global_is_invalid_and_named() {
    let (report, text) = run("missing_import_in_global");
    assert_eq!(report.exit_code(), 1, "{text}");
    assert_eq!(report.passed, 1, "{text}");
    assert!(
        text.contains(
            "helper.py: ModuleNotFoundError: No module named 'caracal_no_such_dependency'"
        ),
        "{text}"
    );
}

#[test]
fn wrong_expectation_and_exception_fail_their_tests() {
    let (report, text) = run("wrong_expectation");
    assert_eq!(report.exit_code(), 1);
    assert_eq!(report.failed, 1);
    assert!(text.contains("[PASS] right expectation"), "{text}");
    assert!(
        text.contains("[FAIL] wrong expectation\n\t\t[FAIL] [policy] false\n")
            && !text.contains("expected true, got false"),
        "{text}"
    );
    assert!(text.contains("[FAIL] raises\n\t\t[FAIL] [policy] KeyError: 'Grants'"), "{text}");
}

#[test]
fn a_raising_alert_function_fails_its_test_and_the_others_still_print() {
    let (report, text) = run("raising_severity");
    assert_eq!(report.failed, 1, "{text}");
    // As panther-analysis-tool prints it: every function that ran, then the one that raised.
    assert!(
        text.contains(
            "[FAIL] no score\n\t\t[PASS] [rule] true\n\t\t[PASS] [title] Login by bob\n\t\t\
             [PASS] [dedup] Login by bob\n\t\t[FAIL] [severity] TypeError: '>' not supported \
             between instances of 'NoneType' and 'NoneType'\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("[PASS] scored\n\t\t[PASS] [rule] true\n\t\t[PASS] [title] Login by alice")
    );
}

#[test]
fn infinite_loop_is_interrupted_and_fails() {
    let (report, text) = run("infinite_loop");
    assert_eq!(report.exit_code(), 1);
    assert!(text.contains("[FAIL] loops forever\n\t\t[FAIL] [rule] DetectionTimeout:"), "{text}");
}

#[test]
fn loop_at_import_is_invalid() {
    let (report, text) = run("loop_at_import");
    assert_eq!(report.exit_code(), 1);
    assert!(text.contains("loop.py: DetectionTimeout:"), "{text}");
}

/// A detection that catches every interrupt cannot be stopped in-process: with
/// `abort_when_stuck` the run ends with status 2 instead of hanging. Runs in a child
/// process (this test binary, re-executed) because it ends the process. (In a worker
/// process, the worker is killed instead: `tests/isolation.rs`.)
#[test]
fn swallowed_interrupts_end_the_process_instead_of_hanging() {
    if std::env::var_os("CARACAL_STUCK_CHILD").is_some() {
        caracal_python::abort_when_stuck(true);
        let in_process = TestOptions { isolation: Isolation::InProcess, ..TestOptions::default() };
        let _ = run_with("swallowed_timeout", in_process);
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let output = Command::new(exe)
        .args(["--exact", "swallowed_interrupts_end_the_process_instead_of_hanging", "--nocapture"])
        .env("CARACAL_STUCK_CHILD", "1")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("catches every"), "{output:?}");
}
