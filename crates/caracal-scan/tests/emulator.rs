//! The scanner against the emulator (moto on 127.0.0.1) with a seeded, misconfigured
//! account: every seeded resource appears with the attributes a policy reads, for both
//! stores; deletion and failure semantics; targeted rescans.

use std::sync::Arc;

use caracal_aws::{Purpose, Session};
use caracal_core::config::AccountConfig;
use caracal_core::{ChangeKind, ResourceType as T};
use caracal_scan::{ScanOutcome, ScanRequest, Scanner, rescan_resource};
use caracal_store::{DynamoStore, SqliteStore, Store};
use caracal_testkit::{ACCOUNT_ID, Emulator, Manifest, REGION, seed};
use serde_json::Value;

async fn session(emulator: &Emulator) -> Session {
    let aws = emulator.aws().await.expect("aws for the emulator");
    aws.session(None, Purpose::Scan).await.expect("session")
}

async fn scan(store: &Arc<dyn Store>, session: &Session) -> ScanOutcome {
    Scanner::new(Arc::clone(store), 4)
        .scan(std::slice::from_ref(session), &ScanRequest::default(), &())
        .await
        .expect("scan")
}

async fn snapshot(store: &Arc<dyn Store>, id: &str) -> Value {
    store
        .resources()
        .get(id)
        .await
        .expect("store get")
        .unwrap_or_else(|| panic!("{id} was not stored"))
        .to_json()
}

fn parse(doc: &Value) -> Value {
    serde_json::from_str(doc.as_str().unwrap_or("null")).expect("policy JSON")
}

/// Checks every seeded resource's type, id and the key attributes against the manifest.
async fn assert_matches_manifest(store: &Arc<dyn Store>, m: &Manifest) {
    let arn = |service: &str, rest: &str| format!("arn:aws:{service}:{REGION}:{ACCOUNT_ID}:{rest}");
    for b in &m.buckets {
        let v = snapshot(store, &format!("arn:aws:s3:::{}", b.name)).await;
        assert_eq!(v["ResourceType"], T::S3_BUCKET);
        assert_eq!(v["Region"], REGION, "{}", b.name);
        let all_users_read = v["Grants"].as_array().is_some_and(|g| {
            g.iter().any(|g| {
                g["Grantee"]["URI"] == "http://acs.amazonaws.com/groups/global/AllUsers"
                    && g["Permission"] == "READ"
            })
        });
        assert_eq!(all_users_read, b.public_acl, "{}: Grants {}", b.name, v["Grants"]);
        assert_eq!(v["Policy"].is_string(), b.public_policy || b.tls_only, "{}: Policy", b.name);
        if b.public_policy {
            assert_eq!(parse(&v["Policy"])["Statement"][0]["Principal"], "*");
        }
        if b.tls_only {
            let statement = &parse(&v["Policy"])["Statement"][0];
            assert_eq!(statement["Effect"], "Deny", "{}", b.name);
            assert_eq!(statement["Condition"]["Bool"]["aws:SecureTransport"], "false");
        }
        assert_eq!(v["EncryptionRules"].is_array(), b.encrypted, "{}: EncryptionRules", b.name);
        if b.encrypted {
            assert_eq!(
                v["EncryptionRules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"],
                "AES256"
            );
        }
        let versioning = if b.versioned { Value::from("Enabled") } else { Value::Null };
        assert_eq!(v["Versioning"], versioning, "{}: Versioning", b.name);
        assert_eq!(
            v["PublicAccessBlockConfiguration"]["BlockPublicAcls"] == true,
            b.public_access_block,
            "{}",
            b.name
        );
        assert!(v.as_object().is_some_and(|o| o.contains_key("PublicAccessBlockConfiguration")));
        assert_eq!(v["LoggingPolicy"]["TargetBucket"].is_string(), b.logging, "{}", b.name);
        assert!(v["Owner"]["ID"].is_string());
    }
    for g in &m.security_groups {
        let v = snapshot(store, &arn("ec2", &format!("security-group/{}", g.id))).await;
        assert_eq!(v["GroupName"], g.name.as_str());
        let world_ports: Vec<i64> = v["IpPermissions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| {
                p["IpRanges"]
                    .as_array()
                    .is_some_and(|r| r.iter().any(|r| r["CidrIp"] == "0.0.0.0/0"))
            })
            .filter_map(|p| p["FromPort"].as_i64())
            .collect();
        let mut expected: Vec<i64> = g.open_ports.iter().map(|&p| i64::from(p)).collect();
        let mut got = world_ports.clone();
        expected.sort_unstable();
        got.sort_unstable();
        assert_eq!(got, expected, "{}: world-open ports", g.name);
    }
    for id in &m.instances {
        let v = snapshot(store, &arn("ec2", &format!("instance/{id}"))).await;
        assert_eq!(v["Id"], id.as_str());
        assert_eq!(v["State"]["Name"], "running");
        assert!(v["SecurityGroups"].as_array().is_some_and(|g| !g.is_empty()));
        assert!(v["MetadataOptions"].is_object());
    }
    for vol in &m.volumes {
        let v = snapshot(store, &arn("ec2", &format!("volume/{}", vol.id))).await;
        assert_eq!(v["Encrypted"], vol.encrypted, "{}", vol.id);
        assert_eq!(v["Snapshots"], Value::Array(vec![]));
    }
    for s in &m.snapshots {
        let v = snapshot(store, &format!("arn:aws:ec2:{REGION}::snapshot/{}", s.id)).await;
        assert_eq!(v["ResourceType"], "AWS.EC2.Snapshot");
        assert_eq!((v["SnapshotId"].as_str(), v["Id"].as_str()), (Some(&*s.id), Some(&*s.id)));
        assert_eq!(v["VolumeId"], s.volume_id.as_str());
        assert_eq!(v["Encrypted"], true);
        assert_eq!(v["OwnerId"], ACCOUNT_ID);
        let groups: Vec<&str> = v["CreateVolumePermissions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["Group"].as_str())
            .collect();
        let expected: &[&str] = if s.public { &["all"] } else { &[] };
        assert_eq!(groups, expected, "{}: CreateVolumePermissions", s.id);
    }
    for f in &m.functions {
        let v = snapshot(store, &f.arn).await;
        assert_eq!(
            (v["ResourceType"].as_str(), v["Name"].as_str()),
            (Some("AWS.Lambda.Function"), Some(&*f.name))
        );
        assert_eq!(v["FunctionName"], f.name.as_str());
        assert_eq!(v["Runtime"], f.runtime.as_str());
        assert!(v["Role"].as_str().is_some_and(|r| r.ends_with("-lambda")), "{}: Role", f.name);
        assert_eq!(v["Handler"], "index.handler");
        assert_eq!(v["Policy"].is_string(), f.public_policy, "{}: Policy", f.name);
        if f.public_policy {
            let statement = &parse(&v["Policy"])["Statement"][0];
            assert_eq!(statement["Action"], "lambda:InvokeFunction");
            assert_eq!(statement["Principal"], "*", "{statement}");
        } else {
            assert_eq!(v["Policy"], Value::Null);
        }
    }
    for d in &m.databases {
        let v = snapshot(store, &d.arn).await;
        assert_eq!(
            (v["ResourceType"].as_str(), v["Name"].as_str()),
            (Some("AWS.RDS.Instance"), Some(&*d.name))
        );
        assert_eq!(v["DBInstanceIdentifier"], d.name.as_str());
        assert_eq!(v["Engine"], "postgres");
        let bad = d.misconfigured;
        assert_eq!(v["PubliclyAccessible"], bad, "{}", d.name);
        assert_eq!(v["StorageEncrypted"], !bad, "{}", d.name);
        assert_eq!(v["DeletionProtection"], !bad, "{}", d.name);
        assert_eq!(v["BackupRetentionPeriod"], if bad { 0 } else { 7 }, "{}", d.name);
        assert_eq!(v["Tags"]["caracal:seed"], "true");
    }
    for g in &m.log_groups {
        let arn = format!("arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{}", g.name);
        let v = snapshot(store, &arn).await;
        assert_eq!(
            (v["ResourceType"].as_str(), v["Name"].as_str()),
            (Some("AWS.CloudWatch.LogGroup"), Some(&*g.name))
        );
        assert_eq!(v["LogGroupName"], g.name.as_str());
        assert_eq!(v["RetentionInDays"], g.retention_in_days, "{}", g.name);
        assert_eq!(v["KmsKeyId"], Value::Null);
        assert_eq!(v["Tags"]["caracal:seed"], "true", "{}", g.name);
        assert!(v["TimeCreated"].is_string(), "{v}");
    }
    let account_s3 = snapshot(store, &format!("{ACCOUNT_ID}::AWS.S3.AccountSettings")).await;
    assert_eq!(account_s3["Region"], "global");
    // Never seeded: present and null, so the account-level check can fail on absence.
    assert!(
        account_s3.as_object().is_some_and(|o| o.contains_key("PublicAccessBlockConfiguration"))
    );
    assert_eq!(account_s3["PublicAccessBlockConfiguration"], Value::Null);
    for s in &m.secrets {
        let v = snapshot(store, &s.arn).await;
        assert_eq!(
            (v["ResourceType"].as_str(), v["Name"].as_str()),
            (Some("AWS.SecretsManager.Secret"), Some(&*s.name))
        );
        assert_eq!(v["RotationEnabled"], s.rotation, "{}", s.name);
        assert_eq!(v["Tags"]["caracal:seed"], "true", "{}", s.name);
        assert!(v.get("SecretString").is_none(), "secret values are never read");
    }
    for c in &m.ecs_clusters {
        let v = snapshot(store, &c.arn).await;
        assert_eq!(
            (v["ResourceType"].as_str(), v["Name"].as_str()),
            (Some("AWS.ECS.Cluster"), Some(&*c.name))
        );
        assert_eq!(v["ClusterName"], c.name.as_str());
        let insights = if c.container_insights { "enabled" } else { "disabled" };
        assert_eq!(
            v["Settings"],
            serde_json::json!([{"Name": "containerInsights", "Value": insights}]),
            "{}",
            c.name
        );
    }
    for c in &m.clusters {
        let v = snapshot(store, &c.arn).await;
        assert_eq!(
            (v["ResourceType"].as_str(), v["Name"].as_str()),
            (Some("AWS.EKS.Cluster"), Some(&*c.name))
        );
        let vpc = &v["ResourcesVpcConfig"];
        assert_eq!(vpc["EndpointPublicAccess"], c.misconfigured, "{}: {vpc}", c.name);
        assert_eq!(vpc["SubnetIds"].as_array().map(Vec::len), Some(1), "{}", c.name);
        let logging = &v["Logging"]["ClusterLogging"];
        let audit_on = logging.as_array().into_iter().flatten().any(|s| {
            s["Enabled"] == true
                && s["Types"].as_array().is_some_and(|t| t.contains(&Value::from("audit")))
        });
        assert_eq!(audit_on, !c.misconfigured, "{}: {logging}", c.name);
        assert_eq!(v["Tags"]["caracal:seed"], "true", "{}", c.name);
    }
    for t in &m.topics {
        let v = snapshot(store, &t.arn).await;
        assert_eq!(
            (v["ResourceType"].as_str(), v["Name"].as_str()),
            (Some("AWS.SNS.Topic"), Some(&*t.name))
        );
        assert_eq!(v["TopicArn"], t.arn.as_str());
        assert_eq!(v["Owner"], ACCOUNT_ID);
        assert_eq!(v["KmsMasterKeyId"].is_string(), t.encrypted, "{}: KmsMasterKeyId", t.name);
        let policy = parse(&v["Policy"]);
        let open =
            policy["Statement"].as_array().into_iter().flatten().any(|s| s["Principal"] == "*");
        assert_eq!(open, t.public_policy, "{}: Policy {policy}", t.name);
    }
    for q in &m.queues {
        let v = snapshot(store, &q.arn).await;
        assert_eq!(
            (v["ResourceType"].as_str(), v["Name"].as_str()),
            (Some("AWS.SQS.Queue"), Some(&*q.name))
        );
        assert_eq!(v["QueueUrl"], q.url.as_str());
        let sse = if q.encrypted { "true" } else { "false" };
        assert_eq!(v["SqsManagedSseEnabled"], sse, "{}", q.name);
        assert_eq!(v["KmsMasterKeyId"], Value::Null, "{}", q.name);
        assert_eq!(v["Policy"].is_string(), q.public_policy, "{}: Policy", q.name);
        if q.public_policy {
            assert_eq!(parse(&v["Policy"])["Statement"][0]["Principal"], "*");
        }
        assert!(v["CreatedTimestamp"].is_string() && v["TimeCreated"].is_string(), "{v}");
    }
    for id in &m.vpcs {
        let v = snapshot(store, &arn("ec2", &format!("vpc/{id}"))).await;
        assert_eq!(v["FlowLogs"], Value::Array(vec![]), "seeded VPCs have no flow logs");
        assert!(v["DefaultSecurityGroupId"].is_string());
        assert!(v["DefaultNetworkAclId"].is_string());
        let acl = v["DefaultNetworkAclId"].as_str().unwrap_or_default();
        let nacl = snapshot(store, &arn("ec2", &format!("network-acl/{acl}"))).await;
        assert_eq!(nacl["IsDefault"], true);
        assert_eq!(nacl["VpcId"], id.as_str());
        assert!(nacl["Entries"].as_array().is_some_and(|e| !e.is_empty()));
    }
    for u in &m.users {
        let v = snapshot(store, &format!("arn:aws:iam::{ACCOUNT_ID}:user/{}", u.name)).await;
        assert_eq!(v["Region"], "global");
        assert_eq!(v["CredentialReport"]["MfaActive"], u.mfa, "{}: MfaActive", u.name);
        assert_eq!(v["CredentialReport"]["PasswordEnabled"], u.console_password, "{}", u.name);
        assert_eq!(v["VirtualMFA"].is_object(), u.mfa, "{}: VirtualMFA", u.name);
        let keys: Vec<&str> = v["AccessKeys"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|k| k["AccessKeyId"].as_str())
            .collect();
        assert_eq!(keys, u.access_keys, "{}: AccessKeys", u.name);
        if u.admin_inline_policy {
            let doc = parse(&v["InlinePolicies"]["seed-admin"]);
            assert_eq!(doc["Statement"][0]["Action"], "*");
            let group = v["Groups"][0]["GroupName"].as_str().unwrap_or_default();
            assert!(m.groups.iter().any(|g| g == group), "{}: Groups {}", u.name, v["Groups"]);
            assert!(v["Groups"][0]["Arn"].as_str().is_some_and(|a| a.ends_with(group)));
        }
    }
    for role in &m.roles {
        let v = snapshot(store, &format!("arn:aws:iam::{ACCOUNT_ID}:role/{role}")).await;
        let trust = parse(&v["AssumeRolePolicyDocument"]);
        if role.ends_with("cross-account") {
            assert_eq!(trust["Statement"][0]["Principal"]["AWS"], "*");
        }
        assert!(v["MaxSessionDuration"].is_number());
    }
    for (group, policy) in m.groups.iter().zip(&m.policies) {
        let g = snapshot(store, &format!("arn:aws:iam::{ACCOUNT_ID}:group/{group}")).await;
        assert_eq!(g["ManagedPolicyARNs"], Value::from(vec![policy.as_str()]));
        assert_eq!(g["Users"].as_array().map(Vec::len), Some(1));
        let p = snapshot(store, policy).await;
        assert_eq!(parse(&p["PolicyDocument"])["Statement"][0]["Action"], "*");
        assert_eq!(p["Entities"]["PolicyGroups"][0]["GroupName"], group.as_str());
        assert_eq!(p["AttachmentCount"], 1);
    }
    for k in &m.kms_keys {
        let v = snapshot(store, &k.arn).await;
        assert_eq!(v["KeyRotationEnabled"], k.rotation, "{}", k.id);
        assert!(v["Policy"].is_string());
    }
    for t in &m.tables {
        let v = snapshot(store, &arn("dynamodb", &format!("table/{t}"))).await;
        assert_eq!(
            v["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"],
            "DISABLED"
        );
        assert_eq!(v["TableStatus"], "ACTIVE");
    }
    for t in &m.trails {
        let v = snapshot(store, &arn("cloudtrail", &format!("trail/{t}"))).await;
        assert_eq!(v["Status"]["IsLogging"], false);
        assert_eq!(v["LogFileValidationEnabled"], false);
    }
    let meta = snapshot(store, &format!("{ACCOUNT_ID}::AWS.CloudTrail.Meta")).await;
    assert_eq!(meta["Trails"].as_array().map(Vec::len), Some(m.trails.len()));
    // The seeded trail is single-region and stopped: no selector counts.
    assert_eq!(meta["GlobalEventSelectors"], Value::Array(vec![]));
    assert_eq!(meta["Name"], "AWS.CloudTrail.Meta");
    let recorder = snapshot(store, &format!("{ACCOUNT_ID}:{REGION}:AWS.Config.Recorder")).await;
    assert_eq!(recorder["Name"], m.config_recorder.as_str());
    assert_eq!(recorder["Status"]["Recording"], false);
    assert_eq!(recorder["RecordingGroup"]["AllSupported"], true);
    let meta = snapshot(store, &format!("{ACCOUNT_ID}::AWS.Config.Recorder.Meta")).await;
    assert_eq!(meta["Regions"], Value::from(vec![REGION]));
    assert_eq!(meta["GlobalRecorderCount"], 1);
    assert_eq!(
        meta["Recorders"],
        Value::from(vec![format!("{ACCOUNT_ID}:{REGION}:AWS.Config.Recorder")])
    );
    let password = snapshot(store, &format!("{ACCOUNT_ID}::AWS.PasswordPolicy")).await;
    assert_eq!(password["AnyExist"], m.password_policy);
    assert_eq!(password["MinimumPasswordLength"], Value::Null);
    let settings = snapshot(store, &format!("{ACCOUNT_ID}:{REGION}:AWS.EC2.RegionSettings")).await;
    assert_eq!(settings["EbsEncryptionByDefault"], false, "moto's default, never seeded on");
    let root = snapshot(store, &format!("arn:aws:iam::{ACCOUNT_ID}:root")).await;
    // The emulator's credential report has no root row (EMULATOR.md): present and null.
    assert_eq!(root["CredentialReport"], Value::Null);
}

fn assert_clean(outcome: &ScanOutcome) {
    assert!(outcome.report.errors.is_empty(), "scan errors: {:#?}", outcome.report.errors);
    assert!(outcome.report.requests > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_account_is_snapshotted_with_policy_fields_in_both_stores() {
    let emulator = Emulator::start().expect("emulator");
    let session = session(&emulator).await;
    let manifest = seed::seed(&session, 2).await.expect("seed");

    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("caracal.db")).await.expect("sqlite"));
    let first = scan(&sqlite, &session).await;
    assert_clean(&first);
    let totals = first.report.totals();
    assert!(
        totals.seen as usize >= manifest.resource_count(),
        "{totals:?} vs {}",
        manifest.resource_count()
    );
    assert_eq!(totals.new, totals.seen, "a first scan sees only new resources");
    assert_eq!(first.resources.len() as u64, totals.seen);
    for (t, summary) in &first.report.types {
        assert!(summary.seen > 0 || t == T::EC2_AMI, "{t} saw nothing");
        // Requests are counted per type and per operation (#17).
        assert_eq!(summary.operations.values().sum::<u64>(), summary.requests, "{t}");
    }
    // No call another call already answered (#17): IAM's details and the snapshots are
    // read once per scan for every collector that needs them, and a bucket's region comes
    // with the (region-filtered) listing.
    let ops = &totals.operations;
    assert_eq!(ops.get("iam:GetAccountAuthorizationDetails"), Some(&1), "{ops:?}");
    assert_eq!(ops.get("iam:GetCredentialReport"), Some(&1), "{ops:?}");
    assert_eq!(ops.get("iam:ListVirtualMFADevices"), Some(&1), "{ops:?}");
    assert_eq!(ops.get("ec2:DescribeSnapshots"), Some(&1), "{ops:?}");
    assert_eq!(ops.get("s3:GetBucketLocation"), None, "{ops:?}");
    // Every type's requests, plus the session's own (none here: the session was opened
    // before the scan) and the region checks deciding where to scan, are the scan's total.
    assert_eq!(totals.requests + first.report.scope_requests, first.report.requests);
    assert_eq!(first.report.scope_requests, 1, "one region, checked once");
    let s3 = &first.report.types[T::S3_BUCKET].operations;
    assert!(s3.keys().all(|op| op.starts_with("s3:")), "{s3:?}");
    assert_eq!(s3.get("s3:GetBucketAcl"), Some(&(manifest.buckets.len() as u64 + 1)), "{s3:?}");
    // Object lock is asked only of buckets with versioning enabled.
    let versioned = manifest.buckets.iter().filter(|b| b.versioned).count() as u64;
    assert_eq!(s3.get("s3:GetObjectLockConfiguration"), Some(&versioned), "{s3:?}");
    assert_matches_manifest(&sqlite, &manifest).await;
    // Every id a collector wrote traces back to its type through the registry.
    for r in &first.resources {
        let placed = caracal_scan::place(&r.resource_id).map(|p| p.resource_type);
        assert_eq!(placed, Some(r.resource_type.as_str()), "{}", r.resource_id);
    }

    // Nothing changed in the account: a second scan reports everything unchanged.
    let second = scan(&sqlite, &session).await;
    assert_clean(&second);
    let totals = second.report.totals();
    let changed: Vec<_> =
        second.report.types.iter().filter(|(_, s)| s.changed + s.new + s.deleted > 0).collect();
    assert!(changed.is_empty(), "second scan changed: {changed:#?}");
    assert_eq!(totals.unchanged, totals.seen);

    // The same scan into the DynamoDB store, on the same emulator.
    let dynamo: Arc<dyn Store> = Arc::new(DynamoStore::new(session.home().dynamodb(), "scantest"));
    dynamo.create_tables().await.expect("dynamodb tables");
    let outcome = scan(&dynamo, &session).await;
    assert_clean(&outcome);
    assert_matches_manifest(&dynamo, &manifest).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletion_needs_a_complete_listing_and_failures_delete_nothing() {
    let emulator = Emulator::start().expect("emulator");
    let session = session(&emulator).await;
    let manifest = seed::seed(&session, 1).await.expect("seed");
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("caracal.db")).await.expect("sqlite"));
    assert_clean(&scan(&store, &session).await);

    // A deleted bucket disappears from a complete listing: marked deleted, with history.
    let plain = manifest.buckets.iter().find(|b| b.name.ends_with("-plain")).expect("plain bucket");
    let plain_id = format!("arn:aws:s3:::{}", plain.name);
    let verdict = caracal_core::Finding {
        resource_id: plain_id.clone(),
        resource_type: T::S3_BUCKET.into(),
        account_id: manifest.account_id.clone(),
        region: manifest.region.clone(),
        policy_id: "AWS.S3.Bucket.Versioning".into(),
        severity: caracal_core::Severity::Low,
        status: caracal_core::ComplianceStatus::Fail,
        suppressed: false,
        evaluated_at: chrono::Utc::now(),
        first_seen: None,
    };
    store.compliance().set_status(std::slice::from_ref(&verdict)).await.expect("verdict");
    session.home().s3().delete_bucket().bucket(&plain.name).send().await.expect("delete bucket");
    let outcome = scan(&store, &session).await;
    assert_clean(&outcome);
    assert_eq!(outcome.report.types[T::S3_BUCKET].deleted, 1);
    assert!(store.resources().get(&plain_id).await.expect("get").is_none());
    let verdicts = store.compliance().for_resource(&plain_id).await.expect("verdicts");
    assert!(verdicts.is_empty(), "a deleted resource keeps no verdicts: {verdicts:?}");
    let kinds: Vec<ChangeKind> = store
        .resources()
        .history(&plain_id)
        .await
        .expect("history")
        .iter()
        .map(|c| c.kind)
        .collect();
    assert_eq!(kinds, [ChangeKind::Created, ChangeKind::Deleted]);

    // Every call fails (the endpoint is a closed port): errors reported, nothing deleted.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let dead_port = closed.local_addr().expect("addr").port();
    drop(closed);
    let mut settings = emulator.aws_config();
    settings.endpoint_url = Some(format!("http://127.0.0.1:{dead_port}"));
    settings.max_attempts = 1;
    let dead = caracal_aws::Aws::builder(&settings)
        .static_credentials("testing", "testing")
        .region(REGION)
        .build()
        .await
        .expect("aws");
    let account = AccountConfig {
        id: ACCOUNT_ID.into(),
        role_name: None,
        remediation_role_name: None,
        external_id: None,
    };
    let dead_session = dead.session(Some(&account), Purpose::Scan).await.expect("session");
    let live_before = live_count(&store).await;
    let failed = scan(&store, &dead_session).await;
    assert_eq!(failed.report.totals().deleted, 0);
    assert_eq!(live_count(&store).await, live_before);
    let s3_error = failed
        .report
        .errors
        .iter()
        .find(|e| e.resource_type == T::S3_BUCKET)
        .expect("an S3 scan error");
    assert_eq!(s3_error.operation, "s3:ListBuckets");
    assert!(
        s3_error.message.contains("dispatch") || s3_error.message.contains("connect"),
        "{}",
        s3_error.message
    );
    assert_eq!(failed.report.types[T::IAM_USER].errors, 1);

    // Targeted rescans: a changed bucket is refreshed, a vanished one marked deleted.
    let logs = manifest.buckets.iter().find(|b| b.name.ends_with("-compliant")).expect("bucket");
    let logs_id = format!("arn:aws:s3:::{}", logs.name);
    session
        .home()
        .s3()
        .delete_public_access_block()
        .bucket(&logs.name)
        .send()
        .await
        .expect("delete PAB");
    let fresh =
        rescan_resource(&session, store.as_ref(), &logs_id).await.expect("rescan").expect("exists");
    assert_eq!(fresh.to_json()["PublicAccessBlockConfiguration"], Value::Null);
    let stored = snapshot(&store, &logs_id).await;
    assert_eq!(stored["PublicAccessBlockConfiguration"], Value::Null);

    let table = &manifest.tables[0];
    let table_id = format!("arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{table}");
    session.home().dynamodb().delete_table().table_name(table).send().await.expect("delete table");
    assert!(rescan_resource(&session, store.as_ref(), &table_id).await.expect("rescan").is_none());
    assert!(store.resources().get(&table_id).await.expect("get").is_none());

    let err =
        rescan_resource(&session, store.as_ref(), "arn:aws:s3:::never-seen").await.unwrap_err();
    assert!(err.to_string().contains("never-seen"), "{err}");
}

async fn live_count(store: &Arc<dyn Store>) -> usize {
    let filter = caracal_store::ResourceFilter::default();
    let mut page = caracal_store::PageRequest::first(500);
    let mut n = 0;
    loop {
        let p = store.resources().list(&filter, &page).await.expect("list");
        n += p.items.len();
        match p.next {
            Some(token) => page = caracal_store::PageRequest::after(token, 500),
            None => return n,
        }
    }
}

// #11.8c: naming a region (`caracal scan --region us-east-1`) still scans the global types.
#[tokio::test]
async fn naming_a_region_still_scans_the_global_types() {
    let emulator = Emulator::start().expect("emulator");
    let session = session(&emulator).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("caracal.db")).await.expect("sqlite"));
    let request = ScanRequest {
        regions: vec![REGION.to_owned()],
        types: vec![T::PASSWORD_POLICY.to_owned(), T::EC2_REGION_SETTINGS.to_owned()],
    };
    let outcome = Scanner::new(Arc::clone(&store), 4)
        .scan(std::slice::from_ref(&session), &request, &())
        .await
        .expect("scan");
    assert_clean(&outcome);
    assert_eq!(outcome.report.types[T::PASSWORD_POLICY].seen, 1);
    assert_eq!(outcome.report.types[T::EC2_REGION_SETTINGS].seen, 1);
    snapshot(&store, &format!("{ACCOUNT_ID}::AWS.PasswordPolicy")).await;
}

// The account-level S3 public access block goes through S3 Control, whose endpoint rules
// prefix the host with the account id; against the emulator the client must reach it.
#[tokio::test]
async fn account_public_access_block_is_read_through_s3_control() {
    use aws_sdk_s3control::types::PublicAccessBlockConfiguration;
    let emulator = Emulator::start().expect("emulator");
    let session = session(&emulator).await;
    let block = PublicAccessBlockConfiguration::builder()
        .block_public_acls(true)
        .ignore_public_acls(true)
        .block_public_policy(true)
        .restrict_public_buckets(false)
        .build();
    session
        .home()
        .s3control()
        .put_public_access_block()
        .account_id(ACCOUNT_ID)
        .public_access_block_configuration(block)
        .send()
        .await
        .expect("put account public access block");
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("caracal.db")).await.expect("sqlite"));
    let request = ScanRequest { regions: Vec::new(), types: vec!["AWS.S3.AccountSettings".into()] };
    let outcome = Scanner::new(Arc::clone(&store), 4)
        .scan(std::slice::from_ref(&session), &request, &())
        .await
        .expect("scan");
    assert_clean(&outcome);
    let v = snapshot(&store, &format!("{ACCOUNT_ID}::AWS.S3.AccountSettings")).await;
    assert_eq!(
        v["PublicAccessBlockConfiguration"],
        serde_json::json!({
            "BlockPublicAcls": true,
            "IgnorePublicAcls": true,
            "BlockPublicPolicy": true,
            "RestrictPublicBuckets": false,
        })
    );
}
