//! `AWS.PasswordPolicy`: GetAccountPasswordPolicy; no policy (`NoSuchEntity`) is a snapshot
//! with `AnyExist: false` and null settings, so "no policy" can fail a check.

use async_trait::async_trait;
use caracal_core::resource::GLOBAL_REGION;
use caracal_core::{Resource, ResourceType};

use super::{Collected, Collector, IdShape, ListingScope, Scope};
use crate::error::CollectError;
use crate::sdk::CallResult;

pub(crate) struct PasswordPolicy;

#[async_trait]
impl Collector for PasswordPolicy {
    fn resource_type(&self) -> &'static str {
        ResourceType::PASSWORD_POLICY
    }

    fn id_shape(&self) -> IdShape {
        IdShape::AccountSingleton
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["iam:GetAccountPasswordPolicy"]
    }

    fn listing_scope(&self) -> ListingScope {
        ListingScope::Global
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let policy = scope
            .clients()
            .iam()
            .get_account_password_policy()
            .send()
            .await
            .absent("iam:GetAccountPasswordPolicy", &["NoSuchEntity"])?
            .and_then(|o| o.password_policy);
        let id = format!("{}::{}", scope.account_id(), ResourceType::PASSWORD_POLICY);
        let r = Resource::new(id, ResourceType::PASSWORD_POLICY, scope.account_id(), GLOBAL_REGION);
        let p = policy.as_ref();
        let r = r
            .with("AnyExist", p.is_some())
            .with("AllowUsersToChangePassword", p.map(|p| p.allow_users_to_change_password()))
            .with("ExpirePasswords", p.map(|p| p.expire_passwords()))
            .with("HardExpiry", p.and_then(|p| p.hard_expiry()))
            .with("MaxPasswordAge", p.and_then(|p| p.max_password_age()))
            .with("MinimumPasswordLength", p.and_then(|p| p.minimum_password_length()))
            .with("PasswordReusePrevention", p.and_then(|p| p.password_reuse_prevention()))
            .with("RequireLowercaseCharacters", p.map(|p| p.require_lowercase_characters()))
            .with("RequireNumbers", p.map(|p| p.require_numbers()))
            .with("RequireSymbols", p.map(|p| p.require_symbols()))
            .with("RequireUppercaseCharacters", p.map(|p| p.require_uppercase_characters()));
        Ok(Collected { resources: vec![r], ..Default::default() })
    }
}
