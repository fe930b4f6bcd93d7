//! Remediations for RDS, Lambda, SNS, SQS, CloudWatch Logs, EBS snapshots and the
//! account-level S3 public access block (#14), against the emulator: each plans the exact
//! calls on the seeded misconfiguration, applies them, verifies, and is then a no-op.

mod common;

use aws_sdk_ec2::types::SnapshotAttributeName;
use aws_sdk_sqs::types::QueueAttributeName;
use caracal_remediate::Error;
use common::{ACCOUNT, Harness, REGION, actions};
use serde_json::{Value, json};

/// The statements of a policy document in JSON text.
fn statements(text: &str) -> Vec<Value> {
    let doc: Value = serde_json::from_str(text).expect("policy is JSON");
    match &doc["Statement"] {
        Value::Array(s) => s.clone(),
        one => vec![one.clone()],
    }
}

/// The database as RDS describes it now.
async fn db_state(rds: &aws_sdk_rds::Client, name: &str) -> aws_sdk_rds::types::DbInstance {
    let out = rds.describe_db_instances().db_instance_identifier(name).send().await;
    out.expect("describe").db_instances.unwrap_or_default().remove(0)
}

fn anyone(statement: &Value) -> bool {
    statement["Principal"] == "*" || statement["Principal"]["AWS"] == "*"
}

#[tokio::test(flavor = "multi_thread")]
async fn rds_remediations_fix_the_seeded_public_database_once() {
    let h = Harness::start().await;
    let rds = h.clients().rds();
    let db = h.manifest.databases.iter().find(|d| d.misconfigured).expect("a public database");

    h.fix(&db.arn, "AWS.RDS.DisablePublicAccess", &[], |plan| {
        assert_eq!(actions(plan), ["rds:ModifyDBInstance"]);
        assert_eq!(
            plan.calls[0].params,
            json!({"DBInstanceIdentifier": db.name, "PubliclyAccessible": false, "ApplyImmediately": true})
        );
        assert_eq!(plan.changes[0].field, "PubliclyAccessible");
    })
    .await;
    assert_eq!(db_state(&rds, &db.name).await.publicly_accessible, Some(false));

    h.fix(&db.arn, "AWS.RDS.EnableDeletionProtection", &[], |plan| {
        assert_eq!(plan.calls[0].params["DeletionProtection"], true);
    })
    .await;
    assert_eq!(db_state(&rds, &db.name).await.deletion_protection, Some(true));

    // The seeder leaves minor upgrades at the engine default; turn them off to have
    // something to fix.
    rds.modify_db_instance()
        .db_instance_identifier(&db.name)
        .auto_minor_version_upgrade(false)
        .apply_immediately(true)
        .send()
        .await
        .unwrap();
    h.fix(&db.arn, "AWS.RDS.EnableAutoMinorVersionUpgrade", &[], |plan| {
        assert_eq!(plan.calls[0].params["AutoMinorVersionUpgrade"], true);
    })
    .await;
    assert_eq!(db_state(&rds, &db.name).await.auto_minor_version_upgrade, Some(true));

    // The compliant database plans nothing.
    let private = h.manifest.databases.iter().find(|d| !d.misconfigured).unwrap();
    let req = h.request(&private.arn, "AWS.RDS.DisablePublicAccess", &[]);
    assert!(h.exec.plan(&req).await.unwrap().is_noop());
}

#[tokio::test(flavor = "multi_thread")]
async fn public_resource_policies_lose_only_their_public_statements() {
    let h = Harness::start().await;
    let c = h.clients();

    // Lambda: the seeded anyone-may-invoke permission goes; a named account's stays.
    let function = h.manifest.functions.iter().find(|f| f.public_policy).unwrap();
    c.lambda()
        .add_permission()
        .function_name(&function.name)
        .statement_id("partner-invokes")
        .action("lambda:InvokeFunction")
        .principal("210987654321")
        .send()
        .await
        .unwrap();
    h.fix(&function.arn, "AWS.Lambda.RemovePublicPermissions", &[], |plan| {
        assert_eq!(actions(plan), ["lambda:RemovePermission"]);
        assert_eq!(
            plan.calls[0].params,
            json!({"FunctionName": function.name, "StatementId": "seed-anyone-invokes"})
        );
    })
    .await;
    let policy = c.lambda().get_policy().function_name(&function.name).send().await.unwrap();
    let left = statements(policy.policy.as_deref().unwrap());
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["Sid"], "partner-invokes");

    // SQS: the public statement is the whole policy, so the policy goes.
    let queue = h.manifest.queues.iter().find(|q| q.public_policy).unwrap();
    h.fix(&queue.arn, "AWS.SQS.RemovePublicPolicyStatements", &[], |plan| {
        assert_eq!(actions(plan), ["sqs:SetQueueAttributes"]);
        assert_eq!(plan.calls[0].params["QueueUrl"], queue.url.as_str());
        assert_eq!(plan.changes[0].after, Value::Null);
    })
    .await;
    let attrs = c
        .sqs()
        .get_queue_attributes()
        .queue_url(&queue.url)
        .attribute_names(QueueAttributeName::Policy)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap_or_default();
    let policy = attrs.get(&QueueAttributeName::Policy).map(String::as_str).unwrap_or("");
    assert!(policy.is_empty() || !statements(policy).iter().any(anyone), "{policy}");

    // SNS: a topic keeps a policy; with every statement public it becomes owner-only.
    let topic = h.manifest.topics.iter().find(|t| t.public_policy).unwrap();
    h.fix(&topic.arn, "AWS.SNS.RemovePublicPolicyStatements", &[], |plan| {
        assert_eq!(actions(plan), ["sns:SetTopicAttributes"]);
        assert_eq!(plan.calls[0].params["AttributeName"], "Policy");
    })
    .await;
    let attrs = c.sns().get_topic_attributes().topic_arn(&topic.arn).send().await.unwrap();
    let policy = attrs.attributes.unwrap_or_default().remove("Policy").unwrap_or_default();
    let left = statements(&policy);
    assert!(!left.is_empty() && !left.iter().any(anyone), "{policy}");
    assert_eq!(left[0]["Principal"]["AWS"], format!("arn:aws:iam::{ACCOUNT}:root"));

    // The private ones plan nothing.
    for (id, remediation) in [
        (
            &h.manifest.queues.iter().find(|q| !q.public_policy).unwrap().arn,
            "AWS.SQS.RemovePublicPolicyStatements",
        ),
        (
            &h.manifest.topics.iter().find(|t| !t.public_policy).unwrap().arn,
            "AWS.SNS.RemovePublicPolicyStatements",
        ),
        (
            &h.manifest.functions.iter().find(|f| !f.public_policy).unwrap().arn,
            "AWS.Lambda.RemovePublicPermissions",
        ),
    ] {
        let plan = h.exec.plan(&h.request(id, remediation, &[])).await.unwrap();
        assert!(plan.is_noop(), "{remediation} on {id}: {:?}", plan.calls);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn log_retention_snapshot_and_account_block_are_fixed_once() {
    let h = Harness::start().await;
    let c = h.clients();

    // Log group kept 7 days → 365 by default; a bad period is refused before any call.
    let short = h.manifest.log_groups.iter().find(|g| g.retention_in_days < 365).unwrap();
    let arn = format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{}", short.name);
    let bad = h.request(
        &arn,
        "AWS.CloudWatch.SetLogGroupRetention",
        &[("retention_in_days", json!(100))],
    );
    assert!(matches!(h.exec.plan(&bad).await, Err(Error::BadParameter { .. })));
    h.fix(&arn, "AWS.CloudWatch.SetLogGroupRetention", &[], |plan| {
        assert_eq!(actions(plan), ["logs:PutRetentionPolicy"]);
        assert_eq!(
            plan.calls[0].params,
            json!({"LogGroupName": short.name, "RetentionInDays": 365})
        );
        assert_eq!(plan.changes[0].before, json!(short.retention_in_days));
    })
    .await;
    let groups =
        c.logs().describe_log_groups().log_group_name_prefix(&short.name).send().await.unwrap();
    assert_eq!(groups.log_groups.unwrap()[0].retention_in_days, Some(365));

    // The public EBS snapshot.
    let snapshot = h.manifest.snapshots.iter().find(|s| s.public).unwrap();
    let snapshot_arn = format!("arn:aws:ec2:{REGION}::snapshot/{}", snapshot.id);
    h.fix(&snapshot_arn, "AWS.EC2.MakeSnapshotPrivate", &[], |plan| {
        assert_eq!(actions(plan), ["ec2:ModifySnapshotAttribute"]);
        assert_eq!(plan.calls[0].params["GroupNames"], json!(["all"]));
    })
    .await;
    let attr = c
        .ec2()
        .describe_snapshot_attribute()
        .snapshot_id(&snapshot.id)
        .attribute(SnapshotAttributeName::CreateVolumePermission)
        .send()
        .await
        .unwrap();
    assert!(attr.create_volume_permissions().iter().all(|p| p.group().is_none()));

    // The account-level S3 public access block, absent on the seeded account.
    let account = format!("{ACCOUNT}::AWS.S3.AccountSettings");
    h.fix(&account, "AWS.S3.BlockAccountPublicAccess", &[], |plan| {
        assert_eq!(actions(plan), ["s3:PutAccountPublicAccessBlock"]);
        assert_eq!(plan.changes[0].before, Value::Null);
    })
    .await;
    let block = c.s3control().get_public_access_block().account_id(ACCOUNT).send().await.unwrap();
    let block = block.public_access_block_configuration.unwrap();
    assert_eq!(
        (
            block.block_public_acls,
            block.ignore_public_acls,
            block.block_public_policy,
            block.restrict_public_buckets
        ),
        (Some(true), Some(true), Some(true), Some(true))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_public_rds_snapshot_is_unshared_and_a_suspended_detector_enabled() {
    let h = Harness::start().await;
    let c = h.clients();
    let seeded = |kind: &str, misconfigured: bool| {
        h.manifest
            .resources
            .iter()
            .find(|r| r.resource_type == kind && r.misconfigured == misconfigured)
            .unwrap_or_else(|| panic!("the seeder made a {kind} (misconfigured: {misconfigured})"))
    };

    // Restorable by anyone; an account it is shared with by id keeps its access.
    let snapshot = seeded("AWS.RDS.Snapshot", true);
    let rds = c.rds();
    rds.modify_db_snapshot_attribute()
        .db_snapshot_identifier(&snapshot.name)
        .attribute_name("restore")
        .values_to_add("210987654321")
        .send()
        .await
        .unwrap();
    let restore = || async {
        let out = rds
            .describe_db_snapshot_attributes()
            .db_snapshot_identifier(&snapshot.name)
            .send()
            .await
            .unwrap();
        let mut values: Vec<String> = out
            .db_snapshot_attributes_result
            .and_then(|r| r.db_snapshot_attributes)
            .unwrap_or_default()
            .into_iter()
            .flat_map(|a| a.attribute_values.unwrap_or_default())
            .collect();
        values.sort();
        values
    };
    assert_eq!(restore().await, ["210987654321", "all"]);
    h.fix(&snapshot.id, "AWS.RDS.MakeSnapshotPrivate", &[], |plan| {
        assert_eq!(actions(plan), ["rds:ModifyDBSnapshotAttribute"]);
        assert_eq!(plan.calls[0].params["ValuesToRemove"], json!(["all"]));
        assert_eq!(plan.changes[0].after, json!(["210987654321"]));
    })
    .await;
    assert_eq!(restore().await, ["210987654321"]);
    let private = seeded("AWS.RDS.Snapshot", false);
    let req = h.request(&private.id, "AWS.RDS.MakeSnapshotPrivate", &[]);
    assert!(h.exec.plan(&req).await.unwrap().is_noop());

    // The seeded detector is on: plan nothing; suspend it and the fix turns it back on.
    let detector = seeded("AWS.GuardDuty.Detector", false);
    let req = h.request(&detector.id, "AWS.GuardDuty.EnableDetector", &[]);
    assert!(h.exec.plan(&req).await.unwrap().is_noop());
    let gd = c.guardduty();
    gd.update_detector().detector_id(&detector.name).enable(false).send().await.unwrap();
    let status = || async {
        let out = gd.get_detector().detector_id(&detector.name).send().await.unwrap();
        out.status.map(|s| s.as_str().to_owned())
    };
    assert_eq!(status().await.as_deref(), Some("DISABLED"));
    h.fix(&detector.id, "AWS.GuardDuty.EnableDetector", &[], |plan| {
        assert_eq!(actions(plan), ["guardduty:UpdateDetector"]);
        assert_eq!(plan.calls[0].params["Enable"], true);
    })
    .await;
    assert_eq!(status().await.as_deref(), Some("ENABLED"));
}
