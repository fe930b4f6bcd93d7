//! The types added with #14, per unit: an ACM certificate, CloudFormation stacks
//! (`stack-protected` with termination protection, `stack-plain` without), Redshift
//! clusters (`redshift-public`: public, unencrypted, unlogged; `redshift-private`: none of it) and
//! RDS snapshots of the unit's private database (`dbsnap-public`: restorable by anyone;
//! `dbsnap-private`).

use caracal_aws::Clients;

use super::error::call;
use super::{SeedError, SeededResource};

/// Unit `i`'s certificate, stacks, Redshift clusters and RDS snapshots.
pub(super) async fn seed(c: &Clients, i: u32) -> Result<Vec<SeededResource>, SeedError> {
    let (mut out, stacks, clusters) =
        tokio::try_join!(certificate(c, i), stacks(c, i), redshift(c, i))?;
    out.extend(stacks);
    out.extend(clusters);
    Ok(out)
}

async fn certificate(c: &Clients, i: u32) -> Result<Vec<SeededResource>, SeedError> {
    let domain = format!("seed-{i}.caracal.test");
    let arn = c
        .acm()
        .request_certificate()
        .domain_name(&domain)
        .tags(
            aws_sdk_acm::types::Tag::builder().key("caracal:seed").value("true").build().map_err(
                |e| SeedError::Call { what: "certificate tag".into(), reason: e.to_string() },
            )?,
        )
        .send()
        .await
        .map_err(call(format!("certificate {domain}")))?
        .certificate_arn
        .unwrap_or_default();
    Ok(vec![SeededResource::new("AWS.ACM.Certificate", &domain, &arn, false)])
}

/// A template whose only resource makes nothing a scanner sees.
const TEMPLATE: &str =
    r#"{"Resources":{"Handle":{"Type":"AWS::CloudFormation::WaitConditionHandle"}}}"#;

async fn stacks(c: &Clients, i: u32) -> Result<Vec<SeededResource>, SeedError> {
    let cfn = c.cloudformation();
    let mut out = Vec::new();
    for protected in [true, false] {
        let name = format!("seed-{i}-stack-{}", if protected { "protected" } else { "plain" });
        let id = cfn
            .create_stack()
            .stack_name(&name)
            .template_body(TEMPLATE)
            .enable_termination_protection(protected)
            .tags(
                aws_sdk_cloudformation::types::Tag::builder()
                    .key("caracal:seed")
                    .value("true")
                    .build(),
            )
            .send()
            .await
            .map_err(call(format!("stack {name}")))?
            .stack_id
            .unwrap_or_default();
        out.push(SeededResource::new("AWS.CloudFormation.Stack", &name, &id, !protected));
    }
    Ok(out)
}

async fn redshift(c: &Clients, i: u32) -> Result<Vec<SeededResource>, SeedError> {
    let redshift = c.redshift();
    let mut out = Vec::new();
    for public in [true, false] {
        let name = format!("seed-{i}-redshift-{}", if public { "public" } else { "private" });
        redshift
            .create_cluster()
            .cluster_identifier(&name)
            .node_type("dc2.large")
            .master_username("seed")
            .master_user_password("SeedPassw0rdNotSecret")
            .publicly_accessible(public)
            .encrypted(!public)
            .tags(aws_sdk_redshift::types::Tag::builder().key("caracal:seed").value("true").build())
            .send()
            .await
            .map_err(call(format!("Redshift cluster {name}")))?;
        if !public {
            // Audit logs to the unit's log bucket.
            redshift
                .enable_logging()
                .cluster_identifier(&name)
                .bucket_name(format!("caracal-seed-{i}-logs"))
                .s3_key_prefix(format!("redshift/{name}/"))
                .send()
                .await
                .map_err(call(format!("logging of Redshift cluster {name}")))?;
        }
        let arn = format!("arn:aws:redshift:{}:{}:cluster:{name}", c.region(), crate::ACCOUNT_ID);
        out.push(SeededResource::new("AWS.Redshift.Cluster", &name, &arn, public));
    }
    Ok(out)
}

/// Snapshots of unit `i`'s private database: one restorable by anyone, one private.
pub(super) async fn db_snapshots(c: &Clients, i: u32) -> Result<Vec<SeededResource>, SeedError> {
    let rds = c.rds();
    let db = format!("seed-{i}-db-private");
    let mut out = Vec::new();
    for public in [true, false] {
        let name = format!("seed-{i}-dbsnap-{}", if public { "public" } else { "private" });
        let arn = rds
            .create_db_snapshot()
            .db_instance_identifier(&db)
            .db_snapshot_identifier(&name)
            .send()
            .await
            .map_err(call(format!("database snapshot {name}")))?
            .db_snapshot
            .and_then(|s| s.db_snapshot_arn)
            .unwrap_or_default();
        if public {
            rds.modify_db_snapshot_attribute()
                .db_snapshot_identifier(&name)
                .attribute_name("restore")
                .values_to_add("all")
                .send()
                .await
                .map_err(call(format!("sharing of {name}")))?;
        }
        out.push(SeededResource::new("AWS.RDS.Snapshot", &name, &arn, public));
    }
    Ok(out)
}
