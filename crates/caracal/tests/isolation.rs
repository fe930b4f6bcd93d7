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

/// `caracal scan`: a policy that exits the process, one stuck in a regex and one past
/// the memory limit get ERROR verdicts on their resources; the scan stores and prints
/// every other verdict and exits 1 (findings).
#[tokio::test]
async fn scan_with_policies_that_exit_hang_or_exhaust_memory_reports_every_verdict() {
    use caracal_aws::Purpose;
    use caracal_testkit::Emulator;
    use serde_json::Value;

    let emulator = Emulator::start().unwrap();
    let aws = emulator.aws().await.unwrap();
    let session = aws.session(None, Purpose::Scan).await.unwrap();
    let s3 = session.home().s3();
    for bucket in ["iso-a", "iso-b", "iso-c"] {
        s3.create_bucket().bucket(bucket).send().await.unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let pack = dir.path().join("pack");
    std::fs::create_dir_all(&pack).unwrap();
    let bucket_policy = |id: &str, body: &str| {
        let file = id.to_lowercase();
        std::fs::write(pack.join(format!("{file}.py")), body).unwrap();
        std::fs::write(
            pack.join(format!("{file}.yml")),
            format!(
                "AnalysisType: policy\nPolicyID: {id}\nEnabled: true\nFilename: {file}.py\n\
                 ResourceTypes: [AWS.S3.Bucket]\nSeverity: Low\n"
            ),
        )
        .unwrap();
    };
    bucket_policy("Fine", "def policy(resource):\n    return True\n");
    bucket_policy(
        "Exits",
        "import os\n\ndef policy(resource):\n    if resource['Name'] == 'iso-b':\n        os._exit(0)\n    return True\n",
    );
    bucket_policy(
        "Regex",
        "import re\n\ndef policy(resource):\n    if resource['Name'] == 'iso-c':\n        return re.match(r'(a+)+$', 'a' * 40 + 'b') is None\n    return True\n",
    );
    bucket_policy(
        "Hungry",
        "def policy(resource):\n    return len(bytearray(3 * 1024 ** 3)) > 0\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_caracal"))
        .args(["scan", "--output", "json", "--type", "AWS.S3.Bucket", "--policies"])
        .arg(&pack)
        .env_remove("CARACAL_CONFIG")
        .env_remove("CARACAL_PYTHON_WORKER")
        .env("CARACAL_ENDPOINT_URL", emulator.endpoint())
        .env("CARACAL_DB", dir.path().join("caracal.db"))
        .env("CARACAL_REGIONS", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = json["findings"].as_array().cloned().unwrap_or_default();
    let status = |policy: &str, bucket: &str| {
        findings
            .iter()
            .find(|f| {
                f["policy_id"] == policy && f["resource_id"] == format!("arn:aws:s3:::{bucket}")
            })
            .map(|f| f["status"].clone())
            .unwrap_or_else(|| panic!("no verdict of {policy} on {bucket}: {findings:#?}"))
    };
    for bucket in ["iso-a", "iso-b", "iso-c"] {
        assert_eq!(status("Fine", bucket)["status"], "PASS", "{bucket}");
        let hungry = status("Hungry", bucket);
        assert!(
            hungry["message"].as_str().unwrap_or_default().starts_with("MemoryError"),
            "{hungry}"
        );
    }
    assert_eq!(status("Exits", "iso-a")["status"], "PASS");
    let exit = status("Exits", "iso-b");
    assert!(
        exit["message"].as_str().unwrap_or_default().contains("exited with status 0"),
        "{exit}"
    );
    let regex = status("Regex", "iso-c");
    assert!(
        regex["message"].as_str().unwrap_or_default().starts_with("DetectionTimeout"),
        "{regex}"
    );
}
