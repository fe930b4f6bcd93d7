//! `AWS.IAM.RootUser`: the credential report's `<root_account>` row and the root's virtual
//! MFA device. The root user always exists; a report without its row (the emulator's)
//! gives `CredentialReport: null`.
//!
//! `AccountSummary` holds GetAccountSummary's account-level flags (`AccountMFAEnabled`,
//! `AccountAccessKeysPresent`, `AccountSigningCertificatesPresent`, 0 or 1), the source
//! CIS's own audit commands use for root MFA and root keys (the map's entity counts and
//! quotas are left out: they would make every IAM change a root user change); it is present even where the credential report has no root row. When it cannot
//! be read the root user is kept without it, the failure under `caracal:errors`.

use async_trait::async_trait;
use caracal_core::resource::GLOBAL_REGION;
use caracal_core::{Resource, ResourceType};
use serde_json::Value;

use super::iam::ROOT_ROW;
use super::{Collected, Collector, DetailErrors, IdShape, ListingScope, Scope};
use crate::error::CollectError;
use crate::sdk::CallResult;

pub(crate) struct RootUser;

#[async_trait]
impl Collector for RootUser {
    fn resource_type(&self) -> &'static str {
        ResourceType::IAM_ROOT_USER
    }

    fn id_shape(&self) -> IdShape {
        IdShape::Arn { service: "iam", prefix: "root" }
    }

    fn permissions(&self) -> &'static [&'static str] {
        &[
            "iam:GenerateCredentialReport",
            "iam:GetCredentialReport",
            "iam:ListVirtualMFADevices",
            "iam:GetAccountSummary",
        ]
    }

    fn listing_scope(&self) -> ListingScope {
        ListingScope::Global
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let report = scope.shared().credential_report(scope).await?;
        let mfa = scope.shared().virtual_mfa(scope).await?;
        let arn = format!("arn:aws:iam::{}:root", scope.account_id());
        let row = report.get(ROOT_ROW).cloned();
        let mut failed = DetailErrors::default();
        let summary = failed.keep(
            scope
                .clients()
                .iam()
                .get_account_summary()
                .send()
                .await
                .op("iam:GetAccountSummary")
                .map(|o| {
                    o.summary_map()
                        .map(|m| {
                            m.iter()
                                .filter(|(k, _)| k.as_str().starts_with("Account"))
                                .map(|(k, v)| (k.as_str().to_owned(), Value::from(*v)))
                                .collect::<serde_json::Map<_, _>>()
                        })
                        .unwrap_or_default()
                }),
        );
        let mut r = root(scope.account_id(), row, mfa.get(&arn).cloned());
        if let Some(summary) = summary {
            r = r.with("AccountSummary", Value::Object(summary));
        }
        Ok(Collected::from_described([Ok(failed.finish(r))]))
    }
}

fn root(account_id: &str, row: Option<Value>, mfa: Option<Value>) -> Resource {
    let arn = format!("arn:aws:iam::{account_id}:root");
    let mut r = Resource::new(&arn, ResourceType::IAM_ROOT_USER, account_id, GLOBAL_REGION);
    r.arn = Some(arn);
    r.name = Some("root".to_owned());
    r.time_created = row
        .as_ref()
        .and_then(|row| row["UserCreationTime"].as_str())
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&chrono::Utc));
    r.with("CredentialReport", row.unwrap_or(Value::Null))
        .with("VirtualMFA", mfa.unwrap_or(Value::Null))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::iam::parse_credential_report;

    /// The emulator has no root row (EMULATOR.md): this recorded report has one.
    const RECORDED: &str = "\
user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated
<root_account>,arn:aws:iam::123456789012:root,2019-02-11T09:12:45+00:00,not_supported,2024-05-02T10:01:13+00:00,not_supported,not_supported,false,true,2019-02-11T09:20:01+00:00,2024-04-30T08:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
";

    #[test]
    fn root_user_from_a_recorded_report_has_keys_and_no_mfa() {
        let mut rows = parse_credential_report(RECORDED.as_bytes()).unwrap();
        let r = root("123456789012", rows.remove(ROOT_ROW), None);
        let v = r.to_json();
        assert_eq!(v["ResourceId"], "arn:aws:iam::123456789012:root");
        assert_eq!(v["Region"], "global");
        assert_eq!(v["CredentialReport"]["MfaActive"], false);
        assert_eq!(v["CredentialReport"]["AccessKey1Active"], true);
        assert_eq!(v["VirtualMFA"], Value::Null);
        assert_eq!(v["TimeCreated"], "2019-02-11T09:12:45Z");
    }
}
