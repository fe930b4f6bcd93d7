//! Remediations that set one boolean of an RDS instance with one ModifyDBInstance call,
//! applied immediately; none of them restarts the instance.
//!
//! - `AWS.RDS.DisablePublicAccess`: turns off PubliclyAccessible, so the instance's DNS
//!   name resolves to its private address only. Clients outside the VPC lose access.
//! - `AWS.RDS.EnableDeletionProtection`: turns on deletion protection, so
//!   DeleteDBInstance fails until someone turns it off on purpose.
//! - `AWS.RDS.EnableAutoMinorVersionUpgrade`: turns on automatic minor engine upgrades in
//!   the maintenance window, so security patches arrive without a ticket.
//!
//! ```yaml
//! AutoRemediationID: AWS.RDS.EnableDeletionProtection
//! AutoRemediationParameters: {}
//! ```
//!
//! A new setting is a [`Setting`] impl here and a line in the registry.

use std::marker::PhantomData;

use async_trait::async_trait;
use aws_sdk_rds::operation::modify_db_instance::builders::ModifyDBInstanceFluentBuilder;
use aws_sdk_rds::types::DbInstance;
use caracal_aws::Clients;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{Fix, Meta, NoParams, Risk};
use crate::error::Error;
use crate::plan::{ApiCall, Planned};
use crate::sdk::{aws_err, not_found};
use crate::target::Target;

/// One boolean instance setting: its catalog entry, its DescribeDBInstances field and the
/// value that complies.
pub(crate) trait Setting: Send + Sync + 'static {
    /// Catalog facts.
    const META: Meta;
    /// The field's name in DescribeDBInstances and ModifyDBInstance.
    const FIELD: &'static str;
    /// The compliant value.
    const WANT: bool;
    /// The field's current value (absent reads as `false`).
    fn read(db: &DbInstance) -> Option<bool>;
    /// Sets the field on a ModifyDBInstance request.
    fn write(call: ModifyDBInstanceFluentBuilder, value: bool) -> ModifyDBInstanceFluentBuilder;
}

const PERMISSIONS: &[&str] = &["rds:DescribeDBInstances", "rds:ModifyDBInstance"];

/// `AWS.RDS.DisablePublicAccess`.
pub(crate) struct PubliclyAccessible;

impl Setting for PubliclyAccessible {
    const META: Meta = Meta {
        id: "AWS.RDS.DisablePublicAccess",
        resource_type: "AWS.RDS.Instance",
        description: "Turn off public accessibility of the RDS instance",
        risk: Risk::Medium,
        permissions: PERMISSIONS,
        parameters: &[],
    };
    const FIELD: &'static str = "PubliclyAccessible";
    const WANT: bool = false;
    fn read(db: &DbInstance) -> Option<bool> {
        db.publicly_accessible
    }
    fn write(call: ModifyDBInstanceFluentBuilder, value: bool) -> ModifyDBInstanceFluentBuilder {
        call.publicly_accessible(value)
    }
}

/// `AWS.RDS.EnableDeletionProtection`.
pub(crate) struct DeletionProtection;

impl Setting for DeletionProtection {
    const META: Meta = Meta {
        id: "AWS.RDS.EnableDeletionProtection",
        resource_type: "AWS.RDS.Instance",
        description: "Turn on deletion protection of the RDS instance",
        risk: Risk::Low,
        permissions: PERMISSIONS,
        parameters: &[],
    };
    const FIELD: &'static str = "DeletionProtection";
    const WANT: bool = true;
    fn read(db: &DbInstance) -> Option<bool> {
        db.deletion_protection
    }
    fn write(call: ModifyDBInstanceFluentBuilder, value: bool) -> ModifyDBInstanceFluentBuilder {
        call.deletion_protection(value)
    }
}

/// `AWS.RDS.EnableAutoMinorVersionUpgrade`.
pub(crate) struct AutoMinorVersionUpgrade;

impl Setting for AutoMinorVersionUpgrade {
    const META: Meta = Meta {
        id: "AWS.RDS.EnableAutoMinorVersionUpgrade",
        resource_type: "AWS.RDS.Instance",
        description: "Turn on automatic minor version upgrades of the RDS instance",
        risk: Risk::Low,
        permissions: PERMISSIONS,
        parameters: &[],
    };
    const FIELD: &'static str = "AutoMinorVersionUpgrade";
    const WANT: bool = true;
    fn read(db: &DbInstance) -> Option<bool> {
        db.auto_minor_version_upgrade
    }
    fn write(call: ModifyDBInstanceFluentBuilder, value: bool) -> ModifyDBInstanceFluentBuilder {
        call.auto_minor_version_upgrade(value)
    }
}

/// The remediation that brings setting `S` to its compliant value.
pub(crate) struct SetInstance<S>(PhantomData<S>);

impl<S> SetInstance<S> {
    /// For the registry.
    pub(crate) const NEW: Self = Self(PhantomData);
}

#[async_trait]
impl<S: Setting> Fix for SetInstance<S> {
    const META: Meta = S::META;
    type Params = NoParams;

    async fn check(&self, c: &Clients, t: &Target) -> Result<Value, Error> {
        let out = c
            .rds()
            .describe_db_instances()
            .db_instance_identifier(&t.name)
            .send()
            .await
            .map_err(aws_err("rds:DescribeDBInstances", t))?;
        let db = out.db_instances.unwrap_or_default().into_iter().next().ok_or_else(|| {
            not_found("rds:DescribeDBInstances", t, "DBInstanceNotFound", "DB instance")
        })?;
        Ok(json!({ "DBInstanceIdentifier": t.name, S::FIELD: S::read(&db).unwrap_or(false) }))
    }

    fn plan(
        &self,
        t: &Target,
        state: &Value,
        _: &NoParams,
        _: DateTime<Utc>,
    ) -> Result<Planned, Error> {
        if state[S::FIELD] == S::WANT {
            return Ok(Planned::compliant());
        }
        Ok(Planned::compliant()
            .call(
                "rds:ModifyDBInstance",
                json!({ "DBInstanceIdentifier": t.name, S::FIELD: S::WANT, "ApplyImmediately": true }),
            )
            .change(state, S::FIELD, json!(S::WANT)))
    }

    async fn apply(&self, c: &Clients, t: &Target, call: &ApiCall) -> Result<(), Error> {
        let request = c
            .rds()
            .modify_db_instance()
            .db_instance_identifier(call.str("DBInstanceIdentifier")?)
            .apply_immediately(true);
        S::write(request, call.get(S::FIELD)?)
            .send()
            .await
            .map_err(aws_err("rds:ModifyDBInstance", t))?;
        Ok(())
    }
}
