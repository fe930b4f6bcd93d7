//! The resource types and fields added with #14, against the emulator (moto on 127.0.0.1
//! through the testkit's launcher): the seeder's compliant and misconfigured instances of
//! each are scanned and their fields checked under Panther's names (or, for caracal's own
//! types, the names RESOURCES.md gives). Where the emulator lacks the service, a recorded
//! AWS answer covers the mapping. Also the scan's scope: regions from DescribeRegions,
//! excluded types and regions, and a region denied by a service control policy.

use std::sync::Arc;

use caracal_aws::{Purpose, Session};
use caracal_scan::{ScanOutcome, ScanRequest, Scanner};
use caracal_store::{SqliteStore, Store};
use caracal_testkit::{ACCOUNT_ID, Emulator, Fault, FaultProxy, Matcher, REGION, seed};
use serde_json::{Value, json};

/// Every type added with #14.
const NEW_TYPES: &[&str] = &[
    "AWS.ACM.Certificate",
    "AWS.AccessAnalyzer.Analyzer",
    "AWS.CloudFormation.Stack",
    "AWS.CloudWatch.MetricFilters",
    "AWS.ELBV2.ApplicationLoadBalancer",
    "AWS.GuardDuty.Detector",
    "AWS.GuardDuty.Detector.Meta",
    "AWS.RDS.Snapshot",
    "AWS.Redshift.Cluster",
    "AWS.SecurityHub.Hub",
    "AWS.WAF.Regional.WebACL",
    "AWS.WAF.WebACL",
];

async fn session_with(emulator: &Emulator, endpoint: &str, regions: &[&str]) -> Session {
    let mut settings = emulator.aws_config();
    settings.endpoint_url = Some(endpoint.to_owned());
    settings.regions = regions.iter().map(|r| (*r).to_owned()).collect();
    let aws = caracal_aws::Aws::builder(&settings)
        .static_credentials("testing", "testing")
        .region(REGION)
        .build()
        .await
        .expect("aws for the emulator");
    aws.session(None, Purpose::Scan).await.expect("session")
}

async fn store() -> (tempfile::TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("caracal.db")).await.expect("sqlite"));
    (dir, store)
}

async fn scan_into(store: &Arc<dyn Store>, session: &Session, types: &[&str]) -> ScanOutcome {
    let request =
        ScanRequest { regions: Vec::new(), types: types.iter().map(|t| (*t).to_owned()).collect() };
    Scanner::new(Arc::clone(store), 4)
        .scan(std::slice::from_ref(session), &request, &())
        .await
        .expect("scan")
}

fn find(outcome: &ScanOutcome, id: &str) -> Value {
    outcome
        .resources
        .iter()
        .find(|r| r.resource_id == id)
        .unwrap_or_else(|| panic!("{id} not in the scan"))
        .to_json()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_new_type_is_scanned_with_its_fields() {
    let emulator = Emulator::start().expect("emulator");
    let session = session_with(&emulator, &emulator.endpoint(), &[REGION]).await;
    let manifest = seed::seed(&session, 1).await.expect("seed");
    let (_dir, store) = store().await;
    let outcome = scan_into(&store, &session, NEW_TYPES).await;
    assert!(outcome.report.errors.is_empty(), "{:#?}", outcome.report.errors);
    for t in NEW_TYPES {
        assert!(outcome.report.types[*t].seen > 0, "{t} saw nothing");
    }
    // Every seeded resource of a new type is in the scan, under its type and id.
    for seeded in &manifest.resources {
        let doc = find(&outcome, &seeded.id);
        assert_eq!(doc["ResourceType"], seeded.resource_type.as_str(), "{seeded:?}");
    }
    let by_name = |t: &str, name: &str| {
        let s = manifest
            .resources
            .iter()
            .find(|s| s.resource_type == t && s.name == name)
            .unwrap_or_else(|| panic!("seeded {t} {name}"));
        find(&outcome, &s.id)
    };

    let cert = by_name("AWS.ACM.Certificate", "seed-0.caracal.test");
    assert_eq!(cert["DomainName"], "seed-0.caracal.test");
    assert_eq!(cert["Status"], "PENDING_VALIDATION");
    assert_eq!(cert["Tags"]["caracal:seed"], "true");
    assert!(cert["NotAfter"].is_null() || cert["NotAfter"].is_string());

    let plain = by_name("AWS.CloudFormation.Stack", "seed-0-stack-plain");
    let protected = by_name("AWS.CloudFormation.Stack", "seed-0-stack-protected");
    assert_eq!(plain["EnableTerminationProtection"], false);
    assert_eq!(protected["EnableTerminationProtection"], true);
    assert_eq!(plain["StackStatus"], "CREATE_COMPLETE");
    assert_eq!(plain["Tags"]["caracal:seed"], "true");

    let public = by_name("AWS.Redshift.Cluster", "seed-0-redshift-public");
    let private = by_name("AWS.Redshift.Cluster", "seed-0-redshift-private");
    assert_eq!(
        (public["PubliclyAccessible"].clone(), public["Encrypted"].clone()),
        (json!(true), json!(false))
    );
    assert_eq!(
        (private["PubliclyAccessible"].clone(), private["Encrypted"].clone()),
        (json!(false), json!(true))
    );
    assert_eq!(public["LoggingStatus"]["LoggingEnabled"], false);

    let shared = by_name("AWS.RDS.Snapshot", "seed-0-dbsnap-public");
    let kept = by_name("AWS.RDS.Snapshot", "seed-0-dbsnap-private");
    let restore = |doc: &Value| {
        doc["DBSnapshotAttributes"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["AttributeName"] == "restore").cloned())
            .map(|x| x["AttributeValues"].clone())
    };
    assert_eq!(restore(&shared), Some(json!(["all"])));
    assert_ne!(restore(&kept), Some(json!(["all"])));
    assert_eq!(shared["DBInstanceIdentifier"], "seed-0-db-private");
    assert_eq!(shared["SnapshotType"], "manual");

    let http = by_name("AWS.ELBV2.ApplicationLoadBalancer", "caracal-seed-alb-http");
    let https = by_name("AWS.ELBV2.ApplicationLoadBalancer", "caracal-seed-alb-https");
    assert_eq!(http["Listeners"][0]["Protocol"], "HTTP");
    assert_eq!(https["Listeners"][0]["Protocol"], "HTTPS");
    assert_eq!(https["Listeners"][0]["SslPolicy"], "ELBSecurityPolicy-TLS13-1-2-2021-06");
    assert_eq!(http["Attributes"]["deletion_protection.enabled"], "false");
    assert_eq!(https["Attributes"]["deletion_protection.enabled"], "true");
    assert_eq!(https["Attributes"]["access_logs.s3.enabled"], "true");
    assert_eq!(http["Type"], "application");
    assert_eq!(http["Tags"]["caracal:seed"], "true");

    let detector =
        manifest.resources.iter().find(|s| s.resource_type == "AWS.GuardDuty.Detector").unwrap();
    let d = find(&outcome, &detector.id);
    assert_eq!(d["Status"], "ENABLED");
    assert!(d["FindingPublishingFrequency"].is_string());
    let meta = find(&outcome, &format!("{ACCOUNT_ID}::AWS.GuardDuty.Detector.Meta"));
    assert_eq!(meta["Detectors"], json!([detector.id]));
    assert_eq!(meta["Regions"], json!([REGION]));
    assert_eq!(meta["Region"], "global");
    // The detectors are read once per scan for both collectors.
    let ops = outcome.report.totals().operations;
    assert_eq!(ops.get("guardduty:ListDetectors"), Some(&1), "{ops:?}");

    let global = by_name("AWS.WAF.WebACL", "caracal-seed-cloudfront");
    let regional = by_name("AWS.WAF.Regional.WebACL", "caracal-seed-regional");
    assert_eq!(global["Region"], "global");
    assert_eq!(global["DefaultAction"], json!({"Type": "ALLOW"}));
    assert_eq!(regional["DefaultAction"], json!({"Type": "BLOCK"}));
    assert_eq!(regional["Region"], REGION);
    assert_eq!(global["Rules"], json!([]));
    assert_eq!(global["LoggingConfiguration"], Value::Null);
    assert_eq!(regional["MetricName"], "caracal-seed-regional");

    let analyzer = by_name("AWS.AccessAnalyzer.Analyzer", "caracal-seed-analyzer");
    assert_eq!(
        (analyzer["Type"].clone(), analyzer["Status"].clone()),
        (json!("ACCOUNT"), json!("ACTIVE"))
    );

    let hub = find(&outcome, &format!("{ACCOUNT_ID}:{REGION}:AWS.SecurityHub.Hub"));
    assert_eq!(hub["Enabled"], false);
    assert_eq!(hub["HubArn"], Value::Null);

    let monitoring = find(&outcome, &format!("{ACCOUNT_ID}:{REGION}:AWS.CloudWatch.MetricFilters"));
    let filter = &monitoring["MetricFilters"][0];
    assert_eq!(filter["LogGroupName"], "/caracal/seed/trail");
    assert!(filter["FilterPattern"].as_str().unwrap_or_default().contains("UnauthorizedOperation"));
    assert_eq!(filter["MetricTransformations"][0]["MetricName"], "UnauthorizedAPICalls");
    let alarm = &monitoring["MetricAlarms"][0];
    assert_eq!(alarm["MetricName"], "UnauthorizedAPICalls");
    let topic = alarm["AlarmActions"][0].as_str().unwrap_or_default().to_owned();
    assert!(topic.ends_with(":caracal-seed-alarms"), "{alarm}");
    let subscribed = monitoring["Subscriptions"].as_array().is_some_and(|s| {
        s.iter().any(|x| x["TopicArn"] == topic.as_str() && x["Protocol"] == "email")
    });
    assert!(subscribed, "{monitoring}");

    // Security Hub turned on: the same hub resource says so.
    session.home().securityhub().enable_security_hub().send().await.expect("enable hub");
    let outcome = scan_into(&store, &session, &["AWS.SecurityHub.Hub"]).await;
    let hub = find(&outcome, &format!("{ACCOUNT_ID}:{REGION}:AWS.SecurityHub.Hub"));
    assert_eq!(hub["Enabled"], true);
    assert_eq!(hub["HubArn"], format!("arn:aws:securityhub:{REGION}:{ACCOUNT_ID}:hub/default"));
}

/// An answer of AWS's ListAnalyzers, recorded (ids changed): the emulator has no Access
/// Analyzer of its own, and the launcher's stand-in could share a mistake with the
/// collector, so the mapping is also checked against what AWS sends.
const RECORDED_ANALYZERS: &str = r#"{"analyzers":[{"arn":"arn:aws:access-analyzer:us-east-1:123456789012:analyzer/ConsoleAnalyzer-0a1b2c3d","createdAt":"2024-03-18T09:41:07Z","lastResourceAnalyzed":"arn:aws:s3:::example-bucket","lastResourceAnalyzedAt":"2024-05-02T11:02:44Z","name":"ConsoleAnalyzer-0a1b2c3d","status":"ACTIVE","tags":{"team":"security"},"type":"ACCOUNT"},{"arn":"arn:aws:access-analyzer:us-east-1:123456789012:analyzer/org-unused","createdAt":"2024-06-01T00:00:00Z","name":"org-unused","status":"FAILED","statusReason":{"code":"AWS_SERVICE_ACCESS_DISABLED"},"tags":{},"type":"ORGANIZATION_UNUSED_ACCESS"}]}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_analyzer_maps_a_recorded_aws_answer() {
    let emulator = Emulator::start().expect("emulator");
    let proxy = FaultProxy::start(&emulator.endpoint()).expect("proxy");
    proxy.inject(
        Matcher::Path("/analyzer".into()),
        Fault::Respond {
            status: 200,
            content_type: "application/json".into(),
            body: RECORDED_ANALYZERS.into(),
        },
    );
    let session = session_with(&emulator, &proxy.endpoint(), &[REGION]).await;
    let (_dir, store) = store().await;
    let outcome = scan_into(&store, &session, &["AWS.AccessAnalyzer.Analyzer"]).await;
    assert!(outcome.report.errors.is_empty(), "{:#?}", outcome.report.errors);
    let console = find(
        &outcome,
        "arn:aws:access-analyzer:us-east-1:123456789012:analyzer/ConsoleAnalyzer-0a1b2c3d",
    );
    assert_eq!(console["Name"], "ConsoleAnalyzer-0a1b2c3d");
    assert_eq!(console["Type"], "ACCOUNT");
    assert_eq!(console["Status"], "ACTIVE");
    assert_eq!(console["Tags"], json!({"team": "security"}));
    assert_eq!(console["TimeCreated"], "2024-03-18T09:41:07Z");
    assert_eq!(console["LastResourceAnalyzed"], "arn:aws:s3:::example-bucket");
    let failed =
        find(&outcome, "arn:aws:access-analyzer:us-east-1:123456789012:analyzer/org-unused");
    assert_eq!(failed["Status"], "FAILED");
    assert_eq!(failed["StatusReason"], json!({"Code": "AWS_SERVICE_ACCESS_DISABLED"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attached_aws_managed_policies_and_the_root_account_summary() {
    let emulator =
        Emulator::start_with(&[("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")]).expect("emulator");
    let session = session_with(&emulator, &emulator.endpoint(), &[REGION]).await;
    let iam = session.home().iam();
    iam.create_user().user_name("admin").send().await.expect("user");
    iam.attach_user_policy()
        .user_name("admin")
        .policy_arn("arn:aws:iam::aws:policy/AdministratorAccess")
        .send()
        .await
        .expect("attach admin");
    iam.create_role()
        .role_name("support")
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[]}"#)
        .send()
        .await
        .expect("role");
    iam.attach_role_policy()
        .role_name("support")
        .policy_arn("arn:aws:iam::aws:policy/AWSSupportAccess")
        .send()
        .await
        .expect("attach support");
    let (_dir, store) = store().await;
    let outcome = scan_into(&store, &session, &["AWS.IAM.Policy", "AWS.IAM.RootUser"]).await;
    assert!(outcome.report.errors.is_empty(), "{:#?}", outcome.report.errors);
    let admin =
        find(&outcome, &format!("{ACCOUNT_ID}:arn:aws:iam::aws:policy/AdministratorAccess"));
    assert_eq!(admin["Scope"], "AWS");
    assert_eq!(admin["Name"], "AdministratorAccess");
    assert_eq!(admin["Arn"], "arn:aws:iam::aws:policy/AdministratorAccess");
    assert_eq!(admin["AttachmentCount"], 1);
    assert_eq!(admin["Entities"]["PolicyUsers"][0]["UserName"], "admin");
    let support = find(&outcome, &format!("{ACCOUNT_ID}:arn:aws:iam::aws:policy/AWSSupportAccess"));
    assert_eq!(support["Entities"]["PolicyRoles"][0]["RoleName"], "support");
    assert_eq!(support["Entities"]["PolicyUsers"], json!([]));
    // Only attached AWS managed policies become resources, not the ~1,000 that exist.
    let aws_managed = outcome
        .resources
        .iter()
        .filter(|r| r.attributes.get("Scope") == Some(&json!("AWS")))
        .count();
    assert_eq!(aws_managed, 2);

    let root = find(&outcome, &format!("arn:aws:iam::{ACCOUNT_ID}:root"));
    assert_eq!(root["AccountSummary"]["AccountMFAEnabled"], 0);
    assert_eq!(root["AccountSummary"]["AccountAccessKeysPresent"], 0);
    assert!(root["AccountSummary"].get("Users").is_none(), "{root}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regions_come_from_describe_regions_minus_excluded_and_denied_ones() {
    let emulator = Emulator::start().expect("emulator");
    let proxy = FaultProxy::start(&emulator.endpoint()).expect("proxy");
    // No `[aws] regions`: the account's enabled regions are scanned.
    let session = session_with(&emulator, &proxy.endpoint(), &[]).await;
    let listed = session.home().ec2().describe_regions().send().await.expect("regions");
    let opted_in =
        |s: Option<&str>| s.is_none_or(|s| s == "opt-in-not-required" || s == "opted-in");
    let enabled: Vec<String> = listed
        .regions()
        .iter()
        .filter(|r| opted_in(r.opt_in_status()))
        .filter_map(|r| r.region_name().map(str::to_owned))
        .collect();
    let not_opted_in: Vec<String> = listed
        .regions()
        .iter()
        .filter(|r| !opted_in(r.opt_in_status()))
        .filter_map(|r| r.region_name().map(str::to_owned))
        .collect();
    assert!(enabled.len() > 3, "{enabled:?}");
    // The emulator reports some regions as not opted in (ap-east-1, me-south-1, ...).
    assert!(!not_opted_in.is_empty(), "{:?}", listed.regions());
    let (_dir, store) = store().await;
    let hubs = |o: &ScanOutcome| -> Vec<String> {
        let mut r: Vec<String> = o.resources.iter().map(|r| r.region.clone()).collect();
        r.sort();
        r
    };
    let first = scan_into(&store, &session, &["AWS.SecurityHub.Hub"]).await;
    assert!(first.report.errors.is_empty(), "{:#?}", first.report.errors);
    let mut want = enabled.clone();
    want.sort();
    assert_eq!(hubs(&first), want);
    assert!(not_opted_in.iter().all(|r| !hubs(&first).contains(r)));

    // A service control policy denying eu-west-1: every call there is refused. The region
    // is reported, not an error, and its stored resources stay live.
    proxy.inject(
        Matcher::Region("eu-west-1".into()),
        Fault::Respond {
            status: 403,
            content_type: "text/xml".into(),
            body: "<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation. User: arn:aws:sts::123456789012:assumed-role/CaracalAudit/caracal-scan is not authorized to perform: ec2:DescribeAvailabilityZones with an explicit deny in a service control policy</Message></Error></Errors><RequestID>recorded</RequestID></Response>".into(),
        },
    );
    let request = ScanRequest { regions: Vec::new(), types: vec!["AWS.SecurityHub.Hub".into()] };
    let second = Scanner::new(Arc::clone(&store), 4)
        .excluding(&[], &["ap-south-1".to_owned()])
        .expect("excludes")
        .scan(std::slice::from_ref(&session), &request, &())
        .await
        .expect("scan");
    assert!(second.report.errors.is_empty(), "{:#?}", second.report.errors);
    assert_eq!(second.report.blocked_regions.len(), 1, "{:?}", second.report.blocked_regions);
    assert_eq!(second.report.blocked_regions[0].region, "eu-west-1");
    assert!(second.report.blocked_regions[0].reason.contains("UnauthorizedOperation"));
    let scanned = hubs(&second);
    assert!(
        !scanned.contains(&"eu-west-1".to_owned()) && !scanned.contains(&"ap-south-1".to_owned())
    );
    assert_eq!(scanned.len(), want.len() - 2);
    assert_eq!(second.report.types["AWS.SecurityHub.Hub"].deleted, 0);
    let kept = store
        .resources()
        .get(&format!("{ACCOUNT_ID}:eu-west-1:AWS.SecurityHub.Hub"))
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(kept.to_json()["Enabled"], false);
    // One DescribeRegions and one check per candidate region, outside every type's count.
    assert_eq!(second.report.scope_requests, want.len() as u64);

    // An excluded type is not scanned, even when named.
    let excluded = Scanner::new(Arc::clone(&store), 4)
        .excluding(&["AWS.SecurityHub.Hub".to_owned()], &[])
        .expect("excludes")
        .scan(std::slice::from_ref(&session), &request, &())
        .await
        .expect("scan");
    assert!(excluded.resources.is_empty());
    assert!(Scanner::new(store, 4).excluding(&["AWS.Nope".to_owned()], &[]).is_err());
}
