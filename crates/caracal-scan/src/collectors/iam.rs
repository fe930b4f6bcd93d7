//! IAM calls and mappings shared by the user, root user, role, group and policy
//! collectors: GetAccountAuthorizationDetails (one paginated call for every principal's
//! policies), the credential report, and virtual MFA devices. Each is fetched once per
//! scan and account for all of them (`shared.rs`).

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_iam::Client;
use aws_sdk_iam::types::{
    AttachedPermissionsBoundary, AttachedPolicy, EntityType, GroupDetail, ManagedPolicyDetail,
    PolicyDetail, ReportStateType, RoleDetail, Tag, UserDetail,
};
use serde_json::{Map, Value, json};

use crate::error::CollectError;
use crate::sdk::{CallResult, policy_document, ts};

/// The credential report's row name for the root user.
pub(super) const ROOT_ROW: &str = "<root_account>";

/// What GetAccountAuthorizationDetails returned for the requested entity types.
#[derive(Debug, Default)]
pub(super) struct AuthDetails {
    pub users: Vec<UserDetail>,
    pub groups: Vec<GroupDetail>,
    pub roles: Vec<RoleDetail>,
    pub policies: Vec<ManagedPolicyDetail>,
}

impl AuthDetails {
    /// Fetches every page for `filter`, `page_size` entities a page.
    pub(super) async fn fetch(
        iam: &Client,
        filter: &[EntityType],
        page_size: i32,
    ) -> Result<Self, CollectError> {
        let mut out = Self::default();
        let mut pages = iam
            .get_account_authorization_details()
            .set_filter(Some(filter.to_vec()))
            .max_items(page_size)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.op("iam:GetAccountAuthorizationDetails")?;
            out.users.extend(page.user_detail_list().iter().cloned());
            out.groups.extend(page.group_detail_list().iter().cloned());
            out.roles.extend(page.role_detail_list().iter().cloned());
            out.policies.extend(page.policies().iter().cloned());
        }
        Ok(out)
    }
}

/// Inline policies as `{name: policy JSON text}`.
pub(super) fn inline_policies(policies: &[PolicyDetail]) -> Value {
    let map: Map<String, Value> = policies
        .iter()
        .filter_map(|p| {
            Some((
                p.policy_name()?.to_owned(),
                Value::String(policy_document(p.policy_document()?)),
            ))
        })
        .collect();
    Value::Object(map)
}

/// Attached managed policies' names.
pub(super) fn policy_names(policies: &[AttachedPolicy]) -> Value {
    policies.iter().filter_map(|p| p.policy_name()).collect::<Vec<_>>().into()
}

/// Attached managed policies' ARNs.
pub(super) fn policy_arns(policies: &[AttachedPolicy]) -> Value {
    policies.iter().filter_map(|p| p.policy_arn()).collect::<Vec<_>>().into()
}

/// A permissions boundary, or null.
pub(super) fn boundary(b: Option<&AttachedPermissionsBoundary>) -> Value {
    b.map_or(Value::Null, |b| {
        json!({
            "PermissionsBoundaryType": b.permissions_boundary_type().map(|t| t.as_str()),
            "PermissionsBoundaryArn": b.permissions_boundary_arn(),
        })
    })
}

/// IAM tags as the envelope's map.
pub(super) fn tags(tags: &[Tag]) -> std::collections::BTreeMap<String, String> {
    tags.iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect()
}

/// Assigned virtual MFA devices by user ARN, as `{EnableDate, SerialNumber}`.
pub(super) async fn virtual_mfa(iam: &Client) -> Result<HashMap<String, Value>, CollectError> {
    let mut out = HashMap::new();
    let mut pages = iam
        .list_virtual_mfa_devices()
        .assignment_status(aws_sdk_iam::types::AssignmentStatusType::Assigned)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for d in page.op("iam:ListVirtualMFADevices")?.virtual_mfa_devices() {
            if let Some(arn) = d.user().map(|u| u.arn()) {
                out.insert(
                    arn.to_owned(),
                    json!({"EnableDate": ts(d.enable_date()), "SerialNumber": d.serial_number()}),
                );
            }
        }
    }
    Ok(out)
}

/// The credential report's rows by user name (`<root_account>` for the root user),
/// generating the report first. A report still being generated is waited for, briefly.
pub(super) async fn credential_report(
    iam: &Client,
) -> Result<HashMap<String, Value>, CollectError> {
    for attempt in 0..20 {
        let state =
            iam.generate_credential_report().send().await.op("iam:GenerateCredentialReport")?.state;
        if state == Some(ReportStateType::Complete) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100 * (attempt + 1).min(10))).await;
    }
    let report = iam.get_credential_report().send().await.op("iam:GetCredentialReport")?;
    let content = report.content().map(|b| b.as_ref()).unwrap_or_default();
    parse_credential_report(content)
        .map_err(|reason| CollectError::message("iam:GetCredentialReport", reason))
}

/// Parses the credential report CSV into `CredentialReport` objects keyed by user name.
///
/// Columns become PascalCase (`access_key_1_last_used_date` → `AccessKey1LastUsedDate`,
/// `user` → `UserName`, `arn` → `ARN`); `true`/`false` become booleans and the report's
/// placeholders (`N/A`, `no_information`, `not_supported`) become null. Times become UTC
/// with a `Z` (`2020-01-01T00:00:00+00:00` → `2020-01-01T00:00:00Z`), as Panther's
/// snapshots write them and public policies parse them (#15.10).
pub(super) fn parse_credential_report(csv_bytes: &[u8]) -> Result<HashMap<String, Value>, String> {
    let mut reader = csv::Reader::from_reader(csv_bytes);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| format!("credential report header: {e}"))?
        .iter()
        .map(column_name)
        .collect();
    let mut out = HashMap::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("credential report row {}: {e}", line + 2))?;
        let mut row = Map::new();
        for (name, value) in headers.iter().zip(record.iter()) {
            let value = match value {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "N/A" | "no_information" | "not_supported" | "" => Value::Null,
                other => Value::String(report_time(other).unwrap_or_else(|| other.to_owned())),
            };
            row.insert(name.clone(), value);
        }
        if let Some(Value::String(user)) = row.get("UserName").cloned() {
            out.insert(user, Value::Object(row));
        }
    }
    Ok(out)
}

/// A report time (RFC 3339 with an offset) as UTC text ending in `Z`; None otherwise.
fn report_time(text: &str) -> Option<String> {
    let parsed = chrono::DateTime::parse_from_rfc3339(text).ok()?;
    Some(parsed.with_timezone(&chrono::Utc).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}

fn column_name(column: &str) -> String {
    match column {
        "user" => "UserName".to_owned(),
        "arn" => "ARN".to_owned(),
        other => other
            .split('_')
            .map(|part| {
                let mut chars = part.chars();
                chars.next().map_or_else(String::new, |c| {
                    c.to_ascii_uppercase().to_string() + chars.as_str()
                })
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A credential report as AWS returns it (recorded; the emulator's report has no
    /// `<root_account>` row, see EMULATOR.md), with the root row and one user.
    const RECORDED_REPORT: &str = "\
user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated
<root_account>,arn:aws:iam::123456789012:root,2019-02-11T09:12:45+00:00,not_supported,2024-05-02T10:01:13+00:00,not_supported,not_supported,false,true,2019-02-11T09:20:01+00:00,2024-04-30T08:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
alice,arn:aws:iam::123456789012:user/alice,2020-01-01T00:00:00+00:00,true,no_information,2020-01-01T00:00:00+00:00,N/A,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
";

    #[test]
    fn credential_report_rows_become_panther_shaped_objects() {
        let rows = parse_credential_report(RECORDED_REPORT.as_bytes()).unwrap();
        let root = &rows[ROOT_ROW];
        assert_eq!(root["ARN"], "arn:aws:iam::123456789012:root");
        assert_eq!(root["MfaActive"], false);
        assert_eq!(root["AccessKey1Active"], true);
        assert_eq!(root["AccessKey1LastUsedService"], "s3");
        assert_eq!(root["PasswordEnabled"], Value::Null);
        assert_eq!(root["Cert2LastRotated"], Value::Null);
        let alice = &rows["alice"];
        assert_eq!(alice["UserName"], "alice");
        assert_eq!(alice["PasswordEnabled"], true);
        assert_eq!(alice["PasswordLastUsed"], Value::Null);
        // #15.10: Panther's format, which `strptime(..., "%Y-%m-%dT%H:%M:%SZ")` reads.
        assert_eq!(alice["UserCreationTime"], "2020-01-01T00:00:00Z");
        assert_eq!(root["AccessKey1LastUsedDate"], "2024-04-30T08:00:00Z");
        assert_eq!(
            report_time("2024-04-30T10:00:00+02:00").as_deref(),
            Some("2024-04-30T08:00:00Z")
        );
        assert_eq!(report_time("us-east-1"), None);
        assert_eq!(alice.as_object().map(|o| o.len()), Some(22));
    }

    #[test]
    fn a_truncated_report_is_an_error_naming_the_row() {
        let err = parse_credential_report(b"user,arn\nalice\n\"bob").unwrap_err();
        assert!(err.contains("row"), "{err}");
    }
}
