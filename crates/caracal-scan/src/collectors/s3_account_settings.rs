//! `AWS.S3.AccountSettings`: the account-level S3 public access block (S3 Control
//! GetPublicAccessBlock). An account without one (`NoSuchPublicAccessBlockConfiguration`)
//! is a snapshot with `PublicAccessBlockConfiguration: null`, so "not configured" fails.

use async_trait::async_trait;
use caracal_core::Resource;
use caracal_core::resource::GLOBAL_REGION;
use serde_json::{Value, json};

use super::{Collected, Collector, IdShape, ListingScope, Scope};
use crate::error::CollectError;
use crate::sdk::CallResult;

const TYPE: &str = "AWS.S3.AccountSettings";

pub(crate) struct AccountSettings;

#[async_trait]
impl Collector for AccountSettings {
    fn resource_type(&self) -> &'static str {
        TYPE
    }

    fn id_shape(&self) -> IdShape {
        IdShape::AccountSingleton
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["s3:GetAccountPublicAccessBlock"]
    }

    fn listing_scope(&self) -> ListingScope {
        ListingScope::Global
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let block = scope
            .clients()
            .s3control()
            .get_public_access_block()
            .account_id(scope.account_id())
            .send()
            .await
            .absent("s3:GetAccountPublicAccessBlock", &["NoSuchPublicAccessBlockConfiguration"])?
            .and_then(|o| o.public_access_block_configuration);
        let id = format!("{}::{TYPE}", scope.account_id());
        let r = Resource::new(id, TYPE, scope.account_id(), GLOBAL_REGION).with(
            "PublicAccessBlockConfiguration",
            block.map_or(Value::Null, |b| {
                json!({
                    "BlockPublicAcls": b.block_public_acls(),
                    "IgnorePublicAcls": b.ignore_public_acls(),
                    "BlockPublicPolicy": b.block_public_policy(),
                    "RestrictPublicBuckets": b.restrict_public_buckets(),
                })
            }),
        );
        Ok(Collected { resources: vec![r], ..Default::default() })
    }
}
