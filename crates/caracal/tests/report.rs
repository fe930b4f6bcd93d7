//! End to end: `caracal report` and `caracal scan --output` on the seeded, emulated
//! account; the framework's HTML page opened in real headless Chromium.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use caracal_aws::Purpose;
use caracal_testkit::{Emulator, seed};
use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn caracal(args: &[&str], env: &[(&str, String)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_caracal"));
    cmd.args(args).current_dir(repo());
    for var in ["CARACAL_CONFIG", "CARACAL_STORE", "AWS_PROFILE", "AWS_ENDPOINT_URL"] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v.as_str())));
    cmd.output().expect("the binary runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The environment that points the binary at `emulator` with its own SQLite file in `dir`.
fn env(endpoint: &str, dir: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("CARACAL_ENDPOINT_URL", endpoint.to_owned()),
        ("CARACAL_DB", dir.join("caracal.db").display().to_string()),
        ("CARACAL_REGIONS", "us-east-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
    ]
}

/// The seeded emulator, scanned by the binary with the bundled policies.
async fn seeded_and_scanned(dir: &Path) -> (Emulator, Vec<(&'static str, String)>) {
    let emulator = Emulator::start().expect("emulator starts (run scripts/setup first)");
    let aws = emulator.aws().await.unwrap();
    let session = aws.session(None, Purpose::Scan).await.unwrap();
    seed::seed(&session, 1).await.unwrap();
    let env = env(&emulator.endpoint(), dir);
    let out = caracal(&["scan", "--policies", "policies", "--no-progress"], &env);
    assert_eq!(out.status.code(), Some(1), "the seeded account fails policies: {}", stderr(&out));
    (emulator, env)
}

/// Chromium from scripts/setup (the Debian package).
fn chromium() -> PathBuf {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
            let path = dir.join(name);
            if path.is_file() {
                return path;
            }
        }
    }
    panic!("no chromium on PATH: scripts/setup installs it (apt-get install chromium)");
}

fn headless(profile: &Path, args: &[&str], page: &Path) -> Output {
    Command::new(chromium())
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs")
}

/// The text of the element with `id` in a DOM dump: `<b id="total-pass">12</b>` → `12`.
fn by_id<'a>(dom: &'a str, id: &str) -> &'a str {
    let start = dom.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("#{id} in the DOM"));
    let after = &dom[start..];
    let open = after.find('>').expect("tag ends") + 1;
    let close = after[open..].find('<').expect("text ends");
    &after[open..open + close]
}

#[tokio::test]
async fn framework_report_counts_match_the_findings_and_chromium_renders_the_html() {
    let dir = tempfile::tempdir().unwrap();
    let (_emulator, env) = seeded_and_scanned(dir.path()).await;
    let framework = "CIS-AWS-3.0";

    // Expected counts per control, from the plain finding list and the policies' Reports.
    let out = caracal(&["report", "--format", "json"], &env);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let findings: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let mut expected: BTreeMap<String, [u64; 3]> = BTreeMap::new();
    let mut worst_fail = None;
    for f in &findings {
        let Some(controls) = f["reports"][framework].as_array() else { continue };
        if f["suppressed"] == true {
            continue;
        }
        let slot = match f["status"].as_str().unwrap() {
            "PASS" => 0,
            "FAIL" => 1,
            _ => 2,
        };
        if slot == 1 {
            let sev: caracal_core::Severity = f["severity"].as_str().unwrap().parse().unwrap();
            worst_fail = worst_fail.max(Some(sev));
        }
        for c in controls {
            expected.entry(c.as_str().unwrap().to_owned()).or_default()[slot] += 1;
        }
    }
    assert!(expected.values().any(|c| c[0] > 0) && expected.values().any(|c| c[1] > 0));

    let out = caracal(&["report", "--framework", framework, "--format", "json"], &env);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut got: BTreeMap<String, [u64; 3]> = BTreeMap::new();
    for section in report["sections"].as_array().unwrap() {
        for c in section["controls"].as_array().unwrap() {
            let n = |k: &str| c["counts"][k].as_u64().unwrap();
            got.insert(c["id"].as_str().unwrap().to_owned(), [n("pass"), n("fail"), n("error")]);
            assert_eq!(c["failing"].as_array().unwrap().len() as u64, n("fail") + n("error"));
        }
    }
    assert_eq!(got, expected, "per-control counts");
    let total = |i: usize| expected.values().map(|c| c[i]).sum::<u64>();

    // --fail-on: exit 1 exactly when a FAIL at or above the severity is in the framework.
    for sev in ["info", "low", "medium", "high", "critical"] {
        let out = caracal(&["report", "--framework", framework, "--fail-on", sev], &env);
        let min: caracal_core::Severity = sev.parse().unwrap();
        let want = if worst_fail.is_some_and(|w| w >= min) { 1 } else { 0 };
        assert_eq!(out.status.code(), Some(want), "--fail-on {sev}: {}", stderr(&out));
    }

    // The HTML page, rendered by Chromium: the DOM it builds carries the same counts.
    let page = dir.path().join("report.html");
    let out = caracal(
        &["report", "--framework", framework, "--format", "html", "-o", page.to_str().unwrap()],
        &env,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let profile = dir.path().join("chromium-profile");
    let dump = headless(&profile, &["--dump-dom"], &page);
    assert!(dump.status.success(), "chromium: {}", stderr(&dump));
    let dom = String::from_utf8_lossy(&dump.stdout);
    assert!(dom.contains(&format!("{framework} compliance report")), "{dom}");
    assert_eq!(by_id(&dom, "total-pass"), total(0).to_string());
    assert_eq!(by_id(&dom, "total-fail"), total(1).to_string());
    assert_eq!(by_id(&dom, "total-error"), total(2).to_string());
    assert_eq!(by_id(&dom, "controls"), expected.len().to_string());
    assert_eq!(dom.matches("<svg").count(), report["sections"].as_array().unwrap().len());
    for control in expected.keys() {
        assert!(dom.contains(&format!("id=\"control-{control}\"")), "row for {control}");
    }

    // And a screenshot of it: a PNG of the requested size with more than a blank page.
    let shot = dir.path().join("report.png");
    let out = headless(
        &profile,
        &[&format!("--screenshot={}", shot.display()), "--window-size=1200,1600"],
        &page,
    );
    assert!(out.status.success(), "chromium: {}", stderr(&out));
    let png = std::fs::read(&shot).expect("screenshot written");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((width, height), (1200, 1600));
    assert!(png.len() > 20_000, "a page with text and charts, not a blank one: {}", png.len());
    if let Some(keep) = std::env::var_os("CARACAL_KEEP_REPORT_SCREENSHOT") {
        std::fs::copy(&shot, keep).unwrap();
    }
}

#[tokio::test]
async fn scan_output_and_report_formats_cover_the_same_findings() {
    let dir = tempfile::tempdir().unwrap();
    let (_emulator, env) = seeded_and_scanned(dir.path()).await;
    let out = caracal(&["report", "--format", "json"], &env);
    let findings: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!findings.is_empty());

    let csv = caracal(&["report", "--format", "csv"], &env);
    let text = String::from_utf8(csv.stdout).unwrap();
    assert!(text.starts_with("resource_id,resource_type,"), "{text}");
    assert_eq!(text.lines().count(), findings.len() + 1, "a header and a line per finding");

    let ocsf = caracal(&["report", "--format", "ocsf"], &env);
    let records: Vec<Value> = String::from_utf8(ocsf.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), findings.len());
    assert!(records.iter().all(|r| r["class_uid"] == 2003 && r["category_uid"] == 2));

    // `scan --output` writes the same formats for the scan's own findings.
    for (format, count) in [("csv", findings.len() + 1), ("ocsf", findings.len())] {
        let out =
            caracal(&["scan", "--policies", "policies", "--no-progress", "--output", format], &env);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), count, "{format}");
    }
    let out =
        caracal(&["scan", "--policies", "policies", "--no-progress", "--output", "asff"], &env);
    let asff: Value = serde_json::from_slice(&out.stdout).unwrap();
    let asff = asff["Findings"].as_array().unwrap();
    assert_eq!(asff.len(), findings.len());
    assert!(
        asff.iter().all(|f| f["ProductArn"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:securityhub:us-east-1:"))
    );

    // `--send-to securityhub` imports into the emulator's Security Hub.
    let out = caracal(
        &["report", "--format", "csv", "-o", "/dev/null", "--send-to", "securityhub"],
        &env,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let n = findings.len();
    // Security Hub takes at most 100 findings a call.
    let calls = n.div_ceil(100);
    assert!(
        stderr(&out)
            .contains(&format!("imported {n} of {n} findings; BatchImportFindings calls: {calls}")),
        "{}",
        stderr(&out)
    );

    // Errors: html without a framework, an unknown framework.
    let out = caracal(&["report", "--format", "html"], &env);
    assert_eq!(out.status.code(), Some(2));
    let out = caracal(&["report", "--framework", "NO-SUCH"], &env);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("CIS-AWS-3.0"), "names the known frameworks: {}", stderr(&out));
}
