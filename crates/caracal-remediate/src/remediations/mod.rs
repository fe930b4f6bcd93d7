//! The remediation registry: the [`Remediation`] trait and [`REMEDIATIONS`], one module per
//! remediation. A new remediation is a module implementing [`Fix`], a line in
//! [`REMEDIATIONS`] and `remediations/<ID>.yml`; the tests below keep all three in step.

use async_trait::async_trait;
use caracal_aws::Clients;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, bad_param};
use crate::params::ParamSpec;
use crate::plan::{ApiCall, Planned};
use crate::target::Target;

mod cloudtrail_enable_log_file_validation;
mod cloudtrail_start_logging;
mod cloudwatch_set_log_group_retention;
mod config_start_recorder;
mod dynamodb_enable_point_in_time_recovery;
mod ec2_enable_ebs_encryption_by_default;
mod ec2_enable_snapshot_block_public_access;
mod ec2_enable_vpc_flow_logs;
mod ec2_make_ami_private;
mod ec2_make_snapshot_private;
mod ec2_make_volume_snapshots_private;
mod ec2_require_imdsv2;
mod ec2_revoke_world_admin_ingress;
mod ec2_stop_instance;
mod guardduty_enable_detector;
mod iam_deactivate_unused_access_keys;
mod iam_delete_unused_login_profile;
mod iam_detach_user_admin_policy;
mod iam_set_password_policy;
mod kms_enable_key_rotation;
mod lambda_remove_public_permissions;
mod rds_instance_settings;
mod rds_make_snapshot_private;
mod s3_block_account_public_access;
mod s3_block_bucket_public_access;
mod s3_enable_bucket_access_logging;
mod s3_enable_bucket_default_encryption;
mod s3_enable_bucket_versioning;
mod s3_make_bucket_acl_private;
mod sns_remove_public_policy_statements;
mod sqs_remove_public_policy_statements;

/// Every remediation, sorted by id; `caracal remediate list` prints it.
pub static REMEDIATIONS: &[&dyn Remediation] = &[
    &cloudtrail_enable_log_file_validation::EnableLogFileValidation,
    &cloudtrail_start_logging::StartLogging,
    &cloudwatch_set_log_group_retention::SetLogGroupRetention,
    &config_start_recorder::StartRecorder,
    &dynamodb_enable_point_in_time_recovery::EnablePointInTimeRecovery,
    &ec2_enable_ebs_encryption_by_default::EnableEbsEncryptionByDefault,
    &ec2_enable_snapshot_block_public_access::EnableSnapshotBlockPublicAccess,
    &ec2_enable_vpc_flow_logs::EnableVpcFlowLogs,
    &ec2_make_ami_private::MakeAmiPrivate,
    &ec2_make_snapshot_private::MakeSnapshotPrivate,
    &ec2_make_volume_snapshots_private::MakeVolumeSnapshotsPrivate,
    &ec2_require_imdsv2::RequireImdsV2,
    &ec2_revoke_world_admin_ingress::RevokeWorldAdminIngress,
    &ec2_stop_instance::StopInstance,
    &guardduty_enable_detector::EnableDetector,
    &iam_deactivate_unused_access_keys::DeactivateUnusedAccessKeys,
    &iam_delete_unused_login_profile::DeleteUnusedLoginProfile,
    &iam_detach_user_admin_policy::DetachUserAdminPolicy,
    &iam_set_password_policy::SetPasswordPolicy,
    &kms_enable_key_rotation::EnableKeyRotation,
    &lambda_remove_public_permissions::RemovePublicPermissions,
    &rds_instance_settings::SetInstance::<rds_instance_settings::PubliclyAccessible>::NEW,
    &rds_instance_settings::SetInstance::<rds_instance_settings::AutoMinorVersionUpgrade>::NEW,
    &rds_instance_settings::SetInstance::<rds_instance_settings::DeletionProtection>::NEW,
    &rds_make_snapshot_private::MakeSnapshotPrivate,
    &s3_block_account_public_access::BlockAccountPublicAccess,
    &s3_block_bucket_public_access::BlockBucketPublicAccess,
    &s3_enable_bucket_access_logging::EnableBucketAccessLogging,
    &s3_enable_bucket_default_encryption::EnableBucketDefaultEncryption,
    &s3_enable_bucket_versioning::EnableBucketVersioning,
    &s3_make_bucket_acl_private::MakeBucketAclPrivate,
    &sns_remove_public_policy_statements::RemovePublicPolicyStatements,
    &sqs_remove_public_policy_statements::RemovePublicPolicyStatements,
];

/// The remediation with this id.
pub fn find(id: &str) -> Option<&'static dyn Remediation> {
    REMEDIATIONS.iter().copied().find(|r| r.id() == id)
}

/// How much a remediation can disturb a workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    /// Tightens a setting nothing legitimate should depend on.
    Low,
    /// Can break a client that relied on the old setting (revoked access, IMDSv1).
    Medium,
    /// Interrupts a workload or a person (stops an instance, removes console access).
    High,
}

impl Risk {
    /// The catalog name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }
}

/// What the catalog says about a remediation.
#[derive(Debug, Clone, Copy)]
pub struct Meta {
    /// Id such as `AWS.S3.BlockBucketPublicAccess`.
    pub id: &'static str,
    /// The resource type it fixes.
    pub resource_type: &'static str,
    /// One line: what it changes.
    pub description: &'static str,
    /// How disruptive it is.
    pub risk: Risk,
    /// IAM actions it needs, reads included.
    pub permissions: &'static [&'static str],
    /// Its parameters.
    pub parameters: &'static [ParamSpec],
}

/// One remediation, as the executor sees it (parameters as JSON).
///
/// Implemented through [`Fix`]; callers use [`REMEDIATIONS`] and [`crate::Executor`].
#[async_trait]
pub trait Remediation: Send + Sync {
    /// Catalog facts: id, resource type, risk, permissions, parameters.
    fn meta(&self) -> &'static Meta;

    /// The id, such as `AWS.S3.BlockBucketPublicAccess`.
    fn id(&self) -> &'static str {
        self.meta().id
    }

    /// Range-checks parameters already type-checked and defaulted.
    fn validate(&self, params: &Value) -> Result<(), Error>;

    /// Reads the snapshot fields this remediation decides on, fresh from AWS.
    async fn check(&self, clients: &Clients, target: &Target) -> Result<Value, Error>;

    /// Pure: the calls that fix `state` (none when it complies) and the expected changes.
    fn plan(
        &self,
        target: &Target,
        state: &Value,
        params: &Value,
        now: DateTime<Utc>,
    ) -> Result<Planned, Error>;

    /// Makes one call of a plan this remediation made.
    async fn apply(&self, clients: &Clients, target: &Target, call: &ApiCall) -> Result<(), Error>;
}

/// The parameters of a remediation that takes none: `{}` and nothing else.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoParams {}

/// A remediation with typed parameters; every module implements this and gets
/// [`Remediation`] for free.
#[async_trait]
pub trait Fix: Send + Sync {
    /// Catalog facts.
    const META: Meta;
    /// Its parameters: a `deny_unknown_fields` struct whose fields match `META.parameters`.
    type Params: DeserializeOwned + Send + Sync;

    /// Checks parameter values beyond their types: `Err((name, reason))`.
    fn validate(_params: &Self::Params) -> Result<(), (&'static str, String)> {
        Ok(())
    }

    /// See [`Remediation::check`].
    async fn check(&self, clients: &Clients, target: &Target) -> Result<Value, Error>;

    /// See [`Remediation::plan`].
    fn plan(
        &self,
        target: &Target,
        state: &Value,
        params: &Self::Params,
        now: DateTime<Utc>,
    ) -> Result<Planned, Error>;

    /// See [`Remediation::apply`].
    async fn apply(&self, clients: &Clients, target: &Target, call: &ApiCall) -> Result<(), Error>;
}

fn typed<F: Fix>(params: &Value) -> Result<F::Params, Error> {
    let p: F::Params = serde_json::from_value(params.clone())
        .map_err(|e| bad_param(F::META.id, "parameters", e.to_string()))?;
    F::validate(&p).map_err(|(name, reason)| bad_param(F::META.id, name, reason))?;
    Ok(p)
}

#[async_trait]
impl<F: Fix> Remediation for F {
    fn meta(&self) -> &'static Meta {
        &F::META
    }

    fn validate(&self, params: &Value) -> Result<(), Error> {
        typed::<F>(params).map(drop)
    }

    async fn check(&self, clients: &Clients, target: &Target) -> Result<Value, Error> {
        Fix::check(self, clients, target).await
    }

    fn plan(
        &self,
        target: &Target,
        state: &Value,
        params: &Value,
        now: DateTime<Utc>,
    ) -> Result<Planned, Error> {
        Fix::plan(self, target, state, &typed::<F>(params)?, now)
    }

    async fn apply(&self, clients: &Clients, target: &Target, call: &ApiCall) -> Result<(), Error> {
        Fix::apply(self, clients, target, call).await
    }
}

/// `true` when `state[field]` is JSON `true`.
pub(crate) fn is_true(state: &Value, pointer: &str) -> bool {
    state.pointer(pointer) == Some(&Value::Bool(true))
}

#[cfg(test)]
mod tests;
