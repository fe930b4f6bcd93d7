//! The binary's contract at its edges: help, configuration errors, exit codes.

use std::path::Path;
use std::process::{Command, Output};

fn caracal(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_caracal"))
        .args(args)
        .env_remove("CARACAL_CONFIG")
        .env_remove("CARACAL_STORE")
        .output()
        .expect("the binary runs")
}

#[test]
fn help_lists_every_command() {
    let out = caracal(&["--help"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in ["scan", "remediate", "logs", "alerts", "test", "serve", "demo", "config"] {
        assert!(text.contains(cmd), "help mentions {cmd}:\n{text}");
    }
}

#[test]
fn invalid_config_is_one_line_naming_the_file_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("caracal.toml");
    std::fs::write(&path, "[store]\nbackend = \"postgres\"\n").unwrap();
    let out = caracal(&["config", "check", "--config", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("caracal: "), "{err}");
    assert!(err.contains(path.to_str().unwrap()), "names the file: {err}");
    assert!(err.contains("postgres"), "names the bad value: {err}");
}

#[test]
fn missing_config_file_is_an_error_not_the_defaults() {
    let out = caracal(&["config", "check", "--config", "/nonexistent/caracal.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/caracal.toml"));
}

#[test]
fn example_config_passes_config_check() {
    let out = caracal(&["config", "example"]);
    assert!(out.status.success());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("caracal.toml");
    std::fs::write(&path, &out.stdout).unwrap();
    let check = caracal(&["config", "check", "--config", path.to_str().unwrap()]);
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    assert!(String::from_utf8_lossy(&check.stdout).contains("backend = \"sqlite\""));
}

#[test]
fn test_and_scan_select_detections_by_pack() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write("p.py", "def policy(r):\n    return True\n");
    for id in ["In.Pack", "Out.Of.Pack"] {
        write(
            &format!("{id}.yml"),
            &format!(
                "AnalysisType: policy\nPolicyID: {id}\nEnabled: true\nFilename: p.py\nSeverity: Low\n\
                 Tests:\n  - Name: passes\n    ExpectedResult: true\n    Resource: {{}}\n"
            ),
        );
    }
    write("pack.yml", "AnalysisType: pack\nPackID: Mine\nPackDefinition:\n  IDs: [In.Pack]\n");
    let path = dir.path().to_str().unwrap();

    let out = caracal(&["test", path, "--pack", "Mine"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("In.Pack") && !stdout.contains("Out.Of.Pack"), "{stdout}");

    let out = caracal(&["test", path, "--pack", "Nope"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("\"Nope\"") && stderr.contains("Mine"), "names what exists: {stderr}");
}

#[test]
fn serve_refuses_to_start_without_its_policy_folders() {
    // #11.8: a scheduler whose policies folder is missing used to scan and log
    // `failing=0` forever; it must fail at start like `caracal scan` does.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("caracal.toml");
    let missing = dir.path().join("no-such-policies");
    std::fs::write(
        &config,
        format!("[scan]\nschedule = \"0 * * * *\"\n[policies]\npaths = [{:?}]\n", missing),
    )
    .unwrap();
    let out = caracal(&["serve", "--scheduler-only", "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no-such-policies") && err.contains("does not exist"), "{err}");
}

#[test]
fn alerts_commands_work_on_an_empty_store_and_name_a_missing_alert() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("caracal.db");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_caracal"))
            .args(args)
            .env_remove("CARACAL_CONFIG")
            .env_remove("CARACAL_STORE")
            .env("CARACAL_DB", &db)
            .output()
            .expect("the binary runs")
    };
    let list = run(&["alerts", "list", "--json"]);
    assert!(list.status.success(), "{}", String::from_utf8_lossy(&list.stderr));
    assert_eq!(String::from_utf8_lossy(&list.stdout).trim(), "[]");
    let show = run(&["alerts", "show", "nope"]);
    assert_eq!(show.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&show.stderr).contains("no alert nope"));
    let update = run(&["alerts", "update", "nope", "--status", "closed"]);
    assert_eq!(update.status.code(), Some(2));
    let bad = run(&["alerts", "update", "nope", "--status", "done"]);
    assert_eq!(bad.status.code(), Some(2), "clap rejects an unknown status");
}

/// The bundled pack's sign-in rules name the user: an Entra ID sign-in (now part of
/// `Azure.Audit`, as Panther names it) dedups per user through the merged data model,
/// not as `Azure.Audit:None` for the whole tenant.
#[test]
fn bundled_brute_force_rule_dedups_entra_sign_ins_per_user() {
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
    let out =
        caracal(&["test", rules.to_str().unwrap(), "--filter", "RuleID=Standard.BruteForceLogins"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("[dedup] Azure.Audit:alice@contoso.com"), "{stdout}");
    assert!(!stdout.contains(":None"), "{stdout}");
}
