//! Issue #15: packs written for panther-analysis-tool pass unchanged. The corpus in
//! `tests/data/compat/` (public format, every event method and helper module public
//! detections use) passes with the function results the reference prints
//! (`scripts/compare-pat.sh` checks the same corpus under panther-analysis-tool); small
//! packs below pin one difference each.

use std::fs;
use std::path::{Path, PathBuf};

use caracal_python::testing::{self, TestOptions, TestReport};

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/compat")
}

fn text(report: &TestReport) -> String {
    let mut out = Vec::new();
    testing::print_text(report, false, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn write(dir: &Path, name: &str, body: &str) {
    fs::write(dir.join(name), body).unwrap();
}

#[test]
fn the_compatibility_corpus_passes_with_the_references_function_results() {
    let options = TestOptions { strict_keys: true, minimum_tests: 2, ..TestOptions::default() };
    let report = testing::run(&[corpus()], &options).unwrap();
    let text = text(&report);
    assert_eq!(report.exit_code(), 0, "{text}");
    assert_eq!((report.passed, report.test_cases), (8, 20), "{text}");
    assert_eq!(report.queries_validated, 1, "{text}");
    assert!(report.warnings.is_empty(), "{text}");
    // What panther-analysis-tool 1.11.1 prints for these functions (#15.9).
    for line in [
        "\t\t[PASS] [title] alice from 198.51.100.1 via userAgent",
        "\t\t[PASS] [alertContext] {\"ip_path\": \"sourceIPAddress\", \"resource_path\": \"resources.[0].ARN\", \"resource\": \"arn:aws:s3:::b\", \"actor_method\": \"get_actor_user\"}",
        "\t\t[PASS] [dedup] defaultDedupString:Compat.Policy.Lookup",
        "\t\t[PASS] [title] iam.roles.create .. iam.roles.create",
        "\t\t[PASS] [severity] CRITICAL",
        "\t\t[PASS] [title] PutBucketPolicy on prod-data",
        "\t\t[PASS] [title] ImmutableList(('a', 'b')) 2",
        "\t\t[PASS] [alertContext] {\"names\": [\"a\", \"b\"], \"tags\": [\"x\"]}",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
}

/// #15.7: a rule returning a non-bool fails its own test; the run goes on and reports
/// every other detection.
#[test]
fn a_non_bool_result_fails_only_its_test() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "bad.py", "def rule(e):\n    return e.get('answer')\n");
    write(dir.path(), "good.py", "def rule(e):\n    return True\n");
    for (id, file) in [("Bad", "bad.py"), ("Good", "good.py")] {
        write(
            dir.path(),
            &format!("{id}.yml"),
            &format!(
                "AnalysisType: rule\nRuleID: {id}\nEnabled: true\nFilename: {file}\nLogTypes: [AWS.CloudTrail]\nSeverity: Low\nTests:\n  - Name: yes\n    ExpectedResult: true\n    Log: {{answer: 'yes'}}\n  - Name: dict\n    ExpectedResult: true\n    Log: {{answer: {{a: 1}}}}\n"
            ),
        );
    }
    let report = testing::run(&[dir.path().to_owned()], &TestOptions::default()).unwrap();
    let text = text(&report);
    assert_eq!((report.passed, report.failed), (1, 1), "{text}");
    assert_eq!(report.exit_code(), 1);
    assert!(text.contains("[rule] TypeError: rule() returned str 'yes', not bool"), "{text}");
    assert!(text.contains("Good\n\t[PASS] yes"), "{text}");
}

/// #15.8: a scheduled rule's tests run like a rule's; `--skip-disabled` leaves out
/// disabled detections.
#[test]
fn scheduled_rules_run_their_tests_and_disabled_ones_can_be_skipped() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.py", "def rule(row):\n    return row.get('n', default=0) > 1\n");
    write(
        dir.path(),
        "s.yml",
        "AnalysisType: scheduled_rule\nRuleID: S\nEnabled: false\nFilename: s.py\nScheduledQueries: [Q]\nSeverity: Low\nTests:\n  - Name: many\n    ExpectedResult: true\n    Log: {n: 3}\n  - Name: few\n    ExpectedResult: false\n    Log: {n: 1}\n",
    );
    let report = testing::run(&[dir.path().to_owned()], &TestOptions::default()).unwrap();
    assert_eq!((report.passed, report.test_cases), (1, 2), "{}", text(&report));
    let skip = TestOptions { skip_disabled: true, ..TestOptions::default() };
    let report = testing::run(&[dir.path().to_owned()], &skip).unwrap();
    assert_eq!((report.test_cases, report.filtered_out), (0, 1));
}

/// #15.3 through the embedded interpreter (src/fold.rs): a miss finds the key in another
/// case, on events and nested objects, for `get`, `[]` and `in`; ASCII and not.
#[test]
fn lookups_fall_back_to_another_case_in_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "r.py",
        "def rule(e):\n    assert e.get('eventsource') == 's3'\n    assert e['EventSource'] == 's3'\n    assert 'EVENTSOURCE' in e\n    assert e.get('errorcode') is None and 'errorCode' not in e\n    assert e.deep_get('useridentity', 'ARN') == 'a'\n    assert e.get('straße', default=0) == 1 and e.get('STRASSE') is None\n    assert e.get('ÉTÉ') == 2\n    return e.get('missing', default=True)\n",
    );
    write(
        dir.path(),
        "r.yml",
        "AnalysisType: rule\nRuleID: R\nEnabled: true\nFilename: r.py\nLogTypes: [AWS.CloudTrail]\nSeverity: Low\nTests:\n  - Name: folds\n    ExpectedResult: true\n    Log: {eventSource: s3, userIdentity: {arn: a}, Straße: 1, été: 2}\n",
    );
    let report = testing::run(&[dir.path().to_owned()], &TestOptions::default()).unwrap();
    assert_eq!(report.passed, 1, "{}", text(&report));
}

/// A `CreateAlert: false` rule makes signals: like panther-analysis-tool, its tests show
/// the rule's result and alert context only (no title, dedup or severity).
#[test]
fn signal_only_rules_print_their_alert_context_only() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "s.py",
        "def rule(e):\n    return True\n\ndef title(e):\n    return 'T'\n\ndef alert_context(e):\n    return {'k': 1}\n",
    );
    write(
        dir.path(),
        "s.yml",
        "AnalysisType: rule\nRuleID: Signal\nEnabled: true\nFilename: s.py\nLogTypes: [AWS.CloudTrail]\nSeverity: Low\nCreateAlert: false\nTests:\n  - Name: one\n    ExpectedResult: true\n    Log: {a: 1}\n",
    );
    let report = testing::run(&[dir.path().to_owned()], &TestOptions::default()).unwrap();
    let text = text(&report);
    assert_eq!(report.exit_code(), 0, "{text}");
    assert!(
        text.contains("\t\t[PASS] [rule] true\n\t\t[PASS] [alertContext] {\"k\": 1}"),
        "{text}"
    );
    assert!(!text.contains("[title]") && !text.contains("[dedup]"), "{text}");
}

/// An alert context holding part of the test event prints its keys in the order the
/// test's YAML wrote them, as panther-analysis-tool prints them (not sorted).
#[test]
fn event_objects_keep_the_yaml_key_order() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "o.py",
        "def rule(e):\n    return True\n\ndef alert_context(e):\n    return {'who': e.get('userIdentity')}\n",
    );
    write(
        dir.path(),
        "o.yml",
        "AnalysisType: rule\nRuleID: Order\nEnabled: true\nFilename: o.py\nLogTypes: [AWS.CloudTrail]\nSeverity: Low\nTests:\n  - Name: one\n    ExpectedResult: true\n    Log:\n      userIdentity: {type: IAMUser, principalId: P, arn: 'arn:aws:iam::1:user/a', accountId: '1'}\n",
    );
    let report = testing::run(&[dir.path().to_owned()], &TestOptions::default()).unwrap();
    let text = text(&report);
    assert!(
        text.contains(r#"[alertContext] {"who": {"type": "IAMUser", "principalId": "P", "arn": "arn:aws:iam::1:user/a", "accountId": "1"}}"#),
        "{text}"
    );
}
