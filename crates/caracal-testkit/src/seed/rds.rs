//! RDS: per unit a `db-public` instance (publicly accessible, unencrypted, no automated
//! backups, no deletion protection) and a `db-private` one that has none of those faults.

use caracal_aws::Clients;

use super::error::call;
use super::{SeedError, SeededDatabase};

/// Unit `i`'s database instances.
pub(super) async fn seed(c: &Clients, i: u32) -> Result<Vec<SeededDatabase>, SeedError> {
    let rds = c.rds();
    let mut out = Vec::new();
    for public in [true, false] {
        let kind = if public { "public" } else { "private" };
        let name = format!("seed-{i}-db-{kind}");
        let db = rds
            .create_db_instance()
            .db_instance_identifier(&name)
            .db_instance_class("db.t3.micro")
            .engine("postgres")
            .master_username("seed")
            .master_user_password("seed-password-not-secret")
            .allocated_storage(20)
            .publicly_accessible(public)
            .storage_encrypted(!public)
            .backup_retention_period(if public { 0 } else { 7 })
            .deletion_protection(!public)
            .multi_az(!public)
            .tags(aws_sdk_rds::types::Tag::builder().key("caracal:seed").value("true").build())
            .send()
            .await
            .map_err(call(format!("database {name}")))?
            .db_instance
            .ok_or_else(|| SeedError::Call {
                what: format!("database {name}"),
                reason: "no instance".into(),
            })?;
        out.push(SeededDatabase {
            name,
            arn: db.db_instance_arn.unwrap_or_default(),
            misconfigured: public,
        });
    }
    Ok(out)
}
