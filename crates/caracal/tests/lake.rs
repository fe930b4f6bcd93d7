//! `caracal lake ddl|compact` through the binary, on a lake `caracal logs process` wrote.

use std::path::Path;
use std::process::{Command, Output};

fn caracal(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_caracal"))
        .args(args)
        .current_dir(dir)
        .env_remove("CARACAL_CONFIG")
        .env_remove("CARACAL_STORE")
        .output()
        .expect("the binary runs")
}

fn samples(log_type: &str) -> String {
    format!("{}/../caracal-logs/tests/data/{log_type}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn ddl_describes_and_compact_merges_the_lake_the_cli_wrote() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lake = dir.path().join("lake");
    let lake_arg = lake.to_str().expect("utf-8 path");
    // CloudTrail twice: its partitions then hold two files each, for compact to merge.
    for log_type in ["AWS.CloudTrail", "AWS.VPCFlow", "AWS.ALB", "AWS.CloudTrail"] {
        let out = caracal(
            dir.path(),
            &["logs", "process", "--no-rules", "--lake", lake_arg, &samples(log_type)],
        );
        assert!(
            out.status.code().is_some_and(|c| c <= 1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let out = caracal(dir.path(), &["lake", "ddl", "--lake", lake_arg]);
    assert_eq!(out.status.code(), Some(2), "a local lake needs --location");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--location"));

    let ddl = caracal(
        dir.path(),
        &["lake", "ddl", "--lake", lake_arg, "--location", "s3://logs/lake", "--database", "sec"],
    );
    assert!(ddl.status.success(), "{}", String::from_utf8_lossy(&ddl.stderr));
    let text = String::from_utf8_lossy(&ddl.stdout);
    for table in ["aws_cloudtrail", "aws_vpcflow", "aws_alb"] {
        assert!(
            text.contains(&format!("CREATE EXTERNAL TABLE IF NOT EXISTS `sec`.`{table}` (")),
            "{text}"
        );
        assert!(text.contains(&format!("LOCATION 's3://logs/lake/{table}/'")), "{text}");
    }

    let cfn = caracal(
        dir.path(),
        &[
            "lake",
            "ddl",
            "--lake",
            lake_arg,
            "--location",
            "s3://logs/lake",
            "--format",
            "cloudformation",
        ],
    );
    assert!(cfn.status.success(), "{}", String::from_utf8_lossy(&cfn.stderr));
    let template: serde_json::Value = serde_json::from_slice(&cfn.stdout).expect("JSON template");
    assert_eq!(template["Resources"]["GlueTableAwsCloudtrail"]["Type"], "AWS::Glue::Table");

    let out = caracal(dir.path(), &["lake", "compact", "--lake", lake_arg, "--dry-run"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("would merge"));
    let out = caracal(dir.path(), &["lake", "compact", "--lake", lake_arg]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("merged") && !said.contains("merged 0 files"), "{said}");
    assert!(!dir.path().join("caracal.db").exists(), "an ad-hoc run keeps no store");
}
