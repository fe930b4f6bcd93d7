//! End to end: the binary scans a seeded, emulated account, evaluates the bundled
//! policies and reports the seeded misconfigurations, and only those.

use std::path::PathBuf;
use std::process::{Command, Output};

use caracal_aws::Purpose;
use caracal_testkit::{Emulator, seed};
use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn caracal(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_caracal"));
    cmd.args(args).current_dir(repo());
    for var in ["CARACAL_CONFIG", "CARACAL_STORE", "AWS_PROFILE", "AWS_ENDPOINT_URL"] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    cmd.output().expect("the binary runs")
}

/// (policy id, resource id suffix) pairs the seeded account must fail.
const SEEDED_FAILURES: &[(&str, &str)] = &[
    ("AWS.S3.Bucket.NoPublicACL", ":::caracal-seed-0-public-acl"),
    ("AWS.S3.Bucket.DefaultEncryption", ":::caracal-seed-0-plain"),
    ("AWS.S3.Bucket.Versioning", ":::caracal-seed-0-plain"),
    ("AWS.IAM.User.ConsoleMFA", ":user/seed-0-console-nomfa"),
    ("AWS.PasswordPolicy.Strength", "::AWS.PasswordPolicy"),
    ("AWS.DynamoDB.Table.PointInTimeRecovery", ":table/seed-0-table"),
    ("AWS.CloudTrail.MultiRegionValidated", ":trail/caracal-seed-trail"),
    ("AWS.EC2.RegionSettings.EBSEncryptionByDefault", ":us-east-1:AWS.EC2.RegionSettings"),
    // The CIS / FSBP pack of #14 on the seeded types.
    ("AWS.CloudTrail.Enabled", "::AWS.CloudTrail.Meta"),
    ("AWS.CloudTrail.LogEncryption", ":trail/caracal-seed-trail"),
    ("AWS.S3.AccountSettings.PublicAccessBlock", "::AWS.S3.AccountSettings"),
    ("AWS.IAM.Policy.NoFullAdminPrivileges", ":policy/seed-0-policy"),
    ("AWS.IAM.User.PermissionsThroughGroupsOnly", ":user/seed-0-keys-admin"),
    ("AWS.RDS.Instance.NotPublic", ":db:seed-0-db-public"),
    ("AWS.RDS.Instance.DeletionProtection", ":db:seed-0-db-public"),
    ("AWS.Lambda.Function.NotPublic", ":function:seed-0-function-public"),
    ("AWS.SNS.Topic.NotPublic", ":seed-0-topic-public"),
    ("AWS.SQS.Queue.NotPublic", ":seed-0-queue-public"),
    ("AWS.CloudWatch.LogGroup.Retention", ":log-group:/caracal/seed-0/short"),
];

/// (policy id, resource id suffix) pairs the seeded account's compliant twins pass: for
/// each misconfiguration the seeder plants, the resource it made without it.
const SEEDED_PASSES: &[(&str, &str)] = &[
    ("AWS.RDS.Instance.NotPublic", ":db:seed-0-db-private"),
    ("AWS.RDS.Instance.Encrypted", ":db:seed-0-db-private"),
    ("AWS.RDS.Instance.Backups", ":db:seed-0-db-private"),
    ("AWS.RDS.Instance.DeletionProtection", ":db:seed-0-db-private"),
    ("AWS.Lambda.Function.NotPublic", ":function:seed-0-function-private"),
    ("AWS.Lambda.Function.SupportedRuntime", ":function:seed-0-function-private"),
    ("AWS.SNS.Topic.NotPublic", ":seed-0-topic-private"),
    ("AWS.SQS.Queue.NotPublic", ":seed-0-queue-private"),
    ("AWS.CloudWatch.LogGroup.Retention", ":log-group:/caracal/seed-0/kept"),
    ("AWS.IAM.User.PermissionsThroughGroupsOnly", ":user/seed-0-mfa-ok"),
    ("AWS.IAM.User.OneActiveAccessKey", ":user/seed-0-keys-admin"),
    ("AWS.EKS.Cluster.EndpointNotPublic", ":cluster/seed-0-eks-private"),
    ("AWS.S3.Bucket.PublicAccessBlock", ":::caracal-seed-0-compliant"),
];

#[test]
fn demo_prints_findings_for_the_seeded_misconfigurations() {
    let out = caracal(&["demo"], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "demo failed: {}", String::from_utf8_lossy(&out.stderr));
    for (policy, resource) in SEEDED_FAILURES {
        assert!(
            stdout
                .lines()
                .any(|l| l.contains("FAIL") && l.contains(policy) && l.contains(resource)),
            "demo reports {policy} on {resource}:\n{stdout}"
        );
    }
    assert!(stdout.contains("AWS.EC2.SecurityGroup.NoOpenSSH"), "{stdout}");
    assert!(stdout.contains("(0 errors)"), "the scan had no errors:\n{stdout}");
    // The detection stage parsed the CloudTrail samples without loss and the bundled rules
    // caught the detonations in them.
    assert!(stdout.contains(" 0 unparsed"), "{stdout}");
    for rule in ["AWS.CloudTrail.LoggingStopped", "AWS.CloudTrail.ConsoleLoginWithoutMFA"] {
        assert!(stdout.lines().any(|l| l.contains(rule)), "demo detects {rule}:\n{stdout}");
    }
    // Compliant resources are not reported.
    assert!(!stdout.contains("seed-0-mfa-ok"), "{stdout}");
    assert!(!stdout.lines().any(|l| l.contains("NoPublicACL") && l.contains("compliant")));
}

#[tokio::test]
async fn scan_reports_failing_findings_as_json_and_exits_1() {
    let emulator = Emulator::start().unwrap();
    let aws = emulator.aws().await.unwrap();
    let session = aws.session(None, Purpose::Scan).await.unwrap();
    let manifest = seed::seed(&session, 1).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let owned = scan_env(&emulator.endpoint(), dir.path());
    let env: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = caracal(&["scan", "--output", "json", "--policies", "policies"], &env);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "findings exit 1: {stderr}");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["report"]["errors"], Value::Array(vec![]), "no scan errors");
    let findings = json["findings"].as_array().unwrap();
    let status = |policy: &str, suffix: &str| {
        findings
            .iter()
            .find(|f| {
                f["policy_id"] == policy && f["resource_id"].as_str().unwrap().ends_with(suffix)
            })
            .map(|f| f["status"]["status"].as_str().unwrap().to_owned())
    };
    for (policy, resource) in SEEDED_FAILURES {
        assert_eq!(status(policy, resource).as_deref(), Some("FAIL"), "{policy} on {resource}");
    }
    for (policy, resource) in SEEDED_PASSES {
        assert_eq!(status(policy, resource).as_deref(), Some("PASS"), "{policy} on {resource}");
    }
    // The compliant twins fail no policy at all. MFA delete is the one exception: the
    // emulator ignores `MfaDelete` in PutBucketVersioning, so no bucket can have it.
    let twins = [
        ":::caracal-seed-0-compliant",
        ":db:seed-0-db-private",
        ":cluster/seed-0-eks-private",
        ":cluster:seed-0-redshift-private",
        ":function:seed-0-function-private",
        ":seed-0-topic-private",
        ":seed-0-queue-private",
        ":log-group:/caracal/seed-0/kept",
    ];
    let twin_failures: Vec<String> = findings
        .iter()
        .filter(|f| f["status"]["status"] == "FAIL" && f["policy_id"] != "AWS.S3.Bucket.MFADelete")
        .filter(|f| twins.iter().any(|t| f["resource_id"].as_str().unwrap().ends_with(t)))
        .map(|f| format!("{} {}", f["policy_id"], f["resource_id"]))
        .collect();
    assert!(twin_failures.is_empty(), "compliant twins fail: {twin_failures:#?}");
    // Seeded resources whose ids the emulator picks.
    let instance = format!("instance/{}", manifest.instances[0]);
    assert_eq!(status("AWS.EC2.Instance.IMDSv2", &instance).as_deref(), Some("FAIL"));
    let vpc = format!("vpc/{}", manifest.vpcs[0]);
    assert_eq!(status("AWS.VPC.FlowLogs", &vpc).as_deref(), Some("FAIL"));
    for snapshot in &manifest.snapshots {
        let want = if snapshot.public { "FAIL" } else { "PASS" };
        let id = format!("snapshot/{}", snapshot.id);
        assert_eq!(status("AWS.EC2.Snapshot.NotPublic", &id).as_deref(), Some(want), "{id}");
    }
    // The bundled pack gives no ERROR on the seeded account.
    let errors: Vec<&Value> =
        findings.iter().filter(|f| f["status"]["status"] == "ERROR").collect();
    assert!(errors.is_empty(), "{errors:?}");
    let compliant = manifest.buckets.iter().find(|b| b.public_access_block).unwrap();
    let suffix = format!(":::{}", compliant.name);
    assert_eq!(status("AWS.S3.Bucket.NoPublicACL", &suffix).as_deref(), Some("PASS"));
    assert_eq!(status("AWS.S3.Bucket.Versioning", &suffix).as_deref(), Some("PASS"));
    assert_eq!(status("AWS.IAM.User.ConsoleMFA", ":user/seed-0-mfa-ok").as_deref(), Some("PASS"));

    // The verdicts were stored: a second run with no policies still exits cleanly and the
    // store file is a real SQLite database that survived the first process.
    let again = caracal(&["scan", "--no-policies", "--output", "json"], &env);
    assert_eq!(again.status.code(), Some(0), "{}", String::from_utf8_lossy(&again.stderr));
    let json: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(json["findings"], Value::Null);
    let unchanged = json["report"]["types"]["AWS.S3.Bucket"]["unchanged"].as_u64().unwrap();
    assert_eq!(unchanged as usize, manifest.buckets.len() + 1, "rescan sees the same buckets");

    // The first scan's verdicts are the first transitions (#16).
    let policy = "AWS.S3.Bucket.Versioning";
    let history = |env: &[(&str, &str)]| -> Vec<Value> {
        let out = caracal(&["compliance", "history", "--policy", policy, "--json"], env);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let plain =
        |t: &&Value| t["resource_id"].as_str().unwrap().ends_with(":::caracal-seed-0-plain");
    let before = history(&env);
    let first = before.iter().find(plain).expect("plain bucket's history");
    assert_eq!(
        (first["from"].clone(), first["to"]["status"].clone()),
        (Value::Null, "FAIL".into())
    );
    // Bulk fixes by hand need --yes, then fix every failing bucket, audited as the user.
    let bulk =
        ["remediate", "apply", "--policy", policy, "--all-failing", "--policies", "policies"];
    let refused = caracal(&bulk, &env);
    assert_ne!(refused.status.code(), Some(0), "bulk apply without --yes must refuse");
    let mut with_yes = bulk.to_vec();
    with_yes.extend(["--yes", "--json"]);
    let mut user_env = env.clone();
    user_env.push(("USER", "alice"));
    let fixed = caracal(&with_yes, &user_env);
    let stderr = String::from_utf8_lossy(&fixed.stderr);
    assert_eq!(fixed.status.code(), Some(0), "{stderr}");
    let report: Value = serde_json::from_slice(&fixed.stdout).unwrap();
    let attempts = report["attempts"].as_array().unwrap();
    assert!(!attempts.is_empty() && attempts.iter().all(|a| a["outcome"] == "fixed"), "{report}");
    let after = history(&env);
    let latest = after.iter().find(plain).unwrap();
    assert_eq!(
        (latest["from"]["status"].clone(), latest["to"]["status"].clone()),
        ("FAIL".into(), "PASS".into())
    );
    let audit = caracal(&["remediate", "history", "--json"], &env);
    let audit: Value = serde_json::from_slice(&audit.stdout).unwrap();
    assert!(
        audit.as_array().unwrap().iter().any(|r| {
            // The login and the AWS principal behind the credentials (#11.9).
            let actor = r["actor"].as_str().unwrap_or_default();
            actor.starts_with("alice as arn:aws:") && r["outcome"] == "fixed"
        }),
        "{audit}"
    );
}

#[test]
fn scan_honours_aws_endpoint_url_and_names_a_dead_endpoint() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("caracal.db");
    let endpoint = format!("http://127.0.0.1:{port}");
    let out = caracal(
        &["scan", "--no-policies"],
        &[
            // The SDK's own variable, not caracal's: aws-config must pick it up.
            ("AWS_ENDPOINT_URL", endpoint.as_str()),
            ("CARACAL_DB", db.to_str().unwrap()),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_REGION", "us-east-1"),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&endpoint), "names the endpoint: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[tokio::test]
async fn scan_works_with_the_dynamodb_store() {
    let emulator = Emulator::start().unwrap();
    let aws = emulator.aws().await.unwrap();
    let session = aws.session(None, Purpose::Scan).await.unwrap();
    seed::seed(&session, 1).await.unwrap();
    let endpoint = emulator.endpoint();
    let env = [
        ("CARACAL_ENDPOINT_URL", endpoint.as_str()),
        ("CARACAL_STORE", "dynamodb"),
        ("CARACAL_DYNAMODB_TABLE_PREFIX", "caracal-e2e"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
    ];
    let first = caracal(&["scan", "--policies", "policies", "--output", "json"], &env);
    assert_eq!(first.status.code(), Some(1), "{}", String::from_utf8_lossy(&first.stderr));
    let second = caracal(&["scan", "--no-policies", "--output", "json"], &env);
    assert_eq!(second.status.code(), Some(0), "{}", String::from_utf8_lossy(&second.stderr));
    let json: Value = serde_json::from_slice(&second.stdout).unwrap();
    let totals = &json["report"]["types"]["AWS.IAM.User"];
    assert_eq!(totals["new"], 0, "users were stored in DynamoDB by the first run: {totals}");
    assert_eq!(totals["unchanged"], 3, "{totals}");
    let tables = session.home().dynamodb().list_tables().send().await.unwrap();
    assert!(tables.table_names().iter().any(|t| t == "caracal-e2e-resources"), "{tables:?}");
}

/// The environment that points the binary at `emulator` with its own SQLite file in `dir`.
fn scan_env(endpoint: &str, dir: &std::path::Path) -> Vec<(&'static str, String)> {
    vec![
        ("CARACAL_ENDPOINT_URL", endpoint.to_owned()),
        ("CARACAL_DB", dir.join("caracal.db").display().to_string()),
        ("CARACAL_REGIONS", "us-east-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
    ]
}

/// Writes a policy on S3 buckets, `id` with Python `body`, into `pack`.
fn write_bucket_policy(pack: &std::path::Path, id: &str, body: &str) {
    std::fs::create_dir_all(pack).unwrap();
    let file = id.replace('.', "_");
    std::fs::write(pack.join(format!("{file}.py")), body).unwrap();
    std::fs::write(
        pack.join(format!("{file}.yml")),
        format!(
            "AnalysisType: policy\nPolicyID: {id}\nEnabled: true\nFilename: {file}.py\n\
             ResourceTypes: [AWS.S3.Bucket]\nSeverity: Low\n"
        ),
    )
    .unwrap();
}

#[tokio::test]
async fn scan_policies_import_third_party_modules_from_the_configured_venv() {
    let emulator = Emulator::start().unwrap();
    let aws = emulator.aws().await.unwrap();
    let session = aws.session(None, Purpose::Scan).await.unwrap();
    let s3 = session.home().s3();
    s3.create_bucket().bucket("vendored-ok").send().await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let pack = dir.path().join("pack");
    write_bucket_policy(
        &pack,
        "Test.Vendored",
        "from caracal_fixture_vendor import name_ends_ok\n\n\
         def policy(resource):\n    return name_ends_ok(resource.get('Name') or '')\n",
    );
    // A virtualenv layout for whichever Python minor version caracal embeds.
    let venv = dir.path().join("venv");
    for minor in 8..=15 {
        let site = venv.join(format!("lib/python3.{minor}/site-packages"));
        std::fs::create_dir_all(&site).unwrap();
        std::fs::write(
            site.join("caracal_fixture_vendor.py"),
            "def name_ends_ok(name):\n    return name.endswith('-ok')\n",
        )
        .unwrap();
    }

    let owned = scan_env(&emulator.endpoint(), dir.path());
    let env: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let base = ["scan", "--output", "json", "--type", "AWS.S3.Bucket", "--policies"];
    let pack_arg = pack.to_str().unwrap();

    let without = caracal(&[&base[..], &[pack_arg]].concat(), &env);
    let stderr = String::from_utf8_lossy(&without.stderr);
    assert!(stderr.contains("ModuleNotFoundError"), "no venv, no module: {stderr}");

    let with = caracal(&[&base[..], &[pack_arg, "--venv", venv.to_str().unwrap()]].concat(), &env);
    let stderr = String::from_utf8_lossy(&with.stderr);
    assert_eq!(with.status.code(), Some(0), "the policy passes: {stderr}");
    let json: Value = serde_json::from_slice(&with.stdout).unwrap();
    let finding = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["policy_id"] == "Test.Vendored")
        .cloned()
        .unwrap_or_default();
    assert_eq!(finding["resource_id"], "arn:aws:s3:::vendored-ok", "{finding}");
    assert_eq!(finding["status"]["status"], "PASS", "{finding}");

    let missing = caracal(&[&base[..], &[pack_arg, "--venv", "/no/such/venv"]].concat(), &env);
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert_eq!(missing.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("/no/such/venv"), "names the virtualenv: {stderr}");
}

#[tokio::test]
async fn scan_policies_look_up_stored_snapshots_through_the_public_helper_names() {
    let emulator = Emulator::start().unwrap();
    let aws = emulator.aws().await.unwrap();
    let session = aws.session(None, Purpose::Scan).await.unwrap();
    session.home().s3().create_bucket().bucket("looked-up").send().await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let pack = dir.path().join("pack");
    for (id, body) in [
        (
            "Test.LookupSelf",
            "from panther_oss_helpers import resource_lookup\n\n\
             def policy(r):\n    me = resource_lookup(r['ResourceId'])\n    \
             return me['ResourceType'] == 'AWS.S3.Bucket' and me['Name'] == r['Name']\n",
        ),
        (
            "Test.LookupMissing",
            "from caracal_posture import resource_lookup\n\n\
             def policy(r):\n    return resource_lookup('arn:aws:s3:::never-created') is None\n",
        ),
    ] {
        write_bucket_policy(&pack, id, body);
    }
    let owned = scan_env(&emulator.endpoint(), dir.path());
    let env: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = caracal(
        &[
            "scan",
            "--output",
            "json",
            "--type",
            "AWS.S3.Bucket",
            "--policies",
            pack.to_str().unwrap(),
        ],
        &env,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let verdict = |policy: &str| {
        json["findings"]
            .as_array()
            .and_then(|f| f.iter().find(|f| f["policy_id"] == policy))
            .map(|f| f["status"].clone())
            .unwrap_or_default()
    };
    assert_eq!(verdict("Test.LookupSelf")["status"], "PASS", "{stderr}\n{json}");
    assert_eq!(verdict("Test.LookupMissing")["status"], "ERROR", "{json}");
    let message = verdict("Test.LookupMissing")["message"].as_str().unwrap_or_default().to_owned();
    assert!(message.contains("BadLookup") && message.contains("never-created"), "{message}");

    // A pack definition selects what a scan evaluates.
    std::fs::write(
        pack.join("only_self.yml"),
        "AnalysisType: pack\nPackID: OnlySelf\nPackDefinition:\n  IDs: [Test.LookupSelf]\n",
    )
    .unwrap();
    let pack_arg = pack.to_str().unwrap();
    let args = ["scan", "--output", "json", "--type", "AWS.S3.Bucket", "--policies", pack_arg];
    let out = caracal(&[&args[..], &["--pack", "OnlySelf"]].concat(), &env);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let policies: Vec<&str> = json["findings"]
        .as_array()
        .map(|f| f.iter().filter_map(|f| f["policy_id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(policies, ["Test.LookupSelf"], "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_the_api_with_a_token_made_by_the_cli_and_stops_on_sigterm() {
    // #13: `token create` prints a token once; `serve` binds loopback, answers with it,
    // refuses without it, and drains and exits 0 on SIGTERM.
    let emulator = Emulator::start().expect("emulator");
    let dir = tempfile::tempdir().unwrap();
    let env = scan_env(&emulator.endpoint(), dir.path());
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let session = emulator.aws().await.unwrap().session(None, Purpose::Scan).await.unwrap();
    seed::seed(&session, 1).await.expect("seed");
    let scan = caracal(&["scan"], &env);
    assert_eq!(scan.status.code(), Some(1), "{}", String::from_utf8_lossy(&scan.stderr));
    let created = caracal(&["token", "create", "--name", "ci", "--scope", "read"], &env);
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let token = String::from_utf8_lossy(&created.stdout).trim().to_owned();
    assert!(token.starts_with("cct_"), "{token}");
    let listed = caracal(&["token", "list", "--json"], &env);
    assert!(!String::from_utf8_lossy(&listed.stdout).contains(&token[17..]), "no secret listed");

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = format!("127.0.0.1:{port}");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_caracal"));
    cmd.args(["serve", "--listen", &listen]).current_dir(repo()).envs(env.iter().copied());
    cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped());
    let child = cmd.spawn().expect("serve starts");
    let base = format!("http://{listen}");
    let http = reqwest::Client::new();
    let mut up = false;
    for _ in 0..200 {
        if http.get(format!("{base}/health")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(up, "serve did not come up");
    let denied = http.get(format!("{base}/v1/compliance")).send().await.unwrap();
    assert_eq!(denied.status(), reqwest::StatusCode::UNAUTHORIZED);
    let overview: Value = http
        .get(format!("{base}/v1/compliance"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        overview["by_policy"]["AWS.S3.Bucket.NoPublicACL"]["fail"].as_u64() >= Some(1),
        "{overview}"
    );

    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().expect("serve exits");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("serve: stopped"), "{stderr}");
}
