//! `AWS.EC2.RegionSettings`: the account's EC2 settings in one region, one snapshot per
//! scanned region (id `<account>:<region>:AWS.EC2.RegionSettings`): GetEbsEncryptionByDefault.
//! CIS checks "EBS encryption by default" on it, and the remediation
//! `AWS.EC2.EnableEbsEncryptionByDefault` targets it.
//!
//! The default KMS key (GetEbsDefaultKmsKeyId) and snapshot / image block public access
//! (GetSnapshotBlockPublicAccessState, GetImageBlockPublicAccessState) belong here too;
//! the emulator answers the first with an empty body and does not implement the others
//! (EMULATOR.md), so they wait until a launcher correction or a recorded response covers
//! them.

use async_trait::async_trait;
use caracal_core::{Resource, ResourceType};

use super::{Collected, Collector, IdShape, ListingScope, Scope};
use crate::error::CollectError;
use crate::sdk::CallResult;

pub(crate) struct RegionSettings;

#[async_trait]
impl Collector for RegionSettings {
    fn resource_type(&self) -> &'static str {
        ResourceType::EC2_REGION_SETTINGS
    }

    fn id_shape(&self) -> IdShape {
        IdShape::RegionSingleton
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["ec2:GetEbsEncryptionByDefault"]
    }

    fn listing_scope(&self) -> ListingScope {
        ListingScope::Regional
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let encryption = scope
            .clients()
            .ec2()
            .get_ebs_encryption_by_default()
            .send()
            .await
            .op("ec2:GetEbsEncryptionByDefault")?
            .ebs_encryption_by_default;
        let id = format!(
            "{}:{}:{}",
            scope.account_id(),
            scope.region(),
            ResourceType::EC2_REGION_SETTINGS
        );
        let r = Resource::new(
            id,
            ResourceType::EC2_REGION_SETTINGS,
            scope.account_id(),
            scope.region(),
        )
        .with("EbsEncryptionByDefault", encryption.unwrap_or(false));
        Ok(Collected { resources: vec![r], ..Default::default() })
    }
}
