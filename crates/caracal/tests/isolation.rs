//! #11.1-3 at the binary's edge: `caracal test` runs detections in worker processes
//! (`caracal __python-worker`), so a detection that exits the process or hangs in C
//! fails its own tests and the run ends with the right exit code.

use std::path::Path;
use std::process::{Command, Output};

fn caracal(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_caracal"))
        .args(args)
        .env_remove("CARACAL_CONFIG")
        .env_remove("CARACAL_PYTHON_WORKER")
        .output()
        .expect("the binary runs")
}

fn policy(dir: &Path, id: &str, source: &str, expected: bool) {
    let stem = id.to_lowercase();
    std::fs::write(dir.join(format!("{stem}.py")), source).unwrap();
    std::fs::write(
        dir.join(format!("{stem}.yml")),
        format!(
            "AnalysisType: policy\nPolicyID: {id}\nEnabled: true\nFilename: {stem}.py\nSeverity: Low\n\
             Tests:\n  - Name: {stem} test\n    ExpectedResult: {expected}\n    Resource: {{}}\n"
        ),
    )
    .unwrap();
}

#[test]
fn test_names_a_detection_that_exits_and_a_failing_test_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    policy(dir.path(), "Exits", "import os\n\ndef policy(resource):\n    os._exit(0)\n", true);
    policy(dir.path(), "Wrong", "def policy(resource):\n    return True\n", false);
    policy(dir.path(), "Fine", "def policy(resource):\n    return True\n", true);
    let out = caracal(&["test", dir.path().to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let failed = stdout.split("Failed detections:").nth(1).unwrap_or_default();
    assert!(failed.contains("Exits") && failed.contains("Wrong"), "{stdout}");
    assert!(!failed.contains("Fine"), "{stdout}");
    assert!(stdout.contains("WorkerDied: its worker process exited with status 0"), "{stdout}");
    assert!(stdout.contains("Passed: 1") && stdout.contains("Failed: 2"), "{stdout}");
}

#[test]
fn test_of_a_pack_stuck_in_c_finishes_with_those_tests_failed() {
    let dir = tempfile::tempdir().unwrap();
    policy(
        dir.path(),
        "Regex",
        "import re\n\ndef policy(resource):\n    return re.match(r'(a+)+$', 'a' * 40 + 'b') is None\n",
        true,
    );
    policy(
        dir.path(),
        "Sleeps",
        "import time\n\ndef policy(resource):\n    time.sleep(60)\n    return True\n",
        true,
    );
    policy(dir.path(), "Fine", "def policy(resource):\n    return True\n", true);
    let out = caracal(&["test", dir.path().to_str().unwrap(), "--timeout-ms", "500"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert_eq!(
        stdout.matches("DetectionTimeout: ran longer than the 0.5 s").count(),
        2,
        "{stdout}"
    );
    assert!(stdout.contains("Passed: 1") && stdout.contains("Failed: 2"), "{stdout}");
}
