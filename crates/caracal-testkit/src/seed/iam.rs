//! IAM: per unit three users (console without MFA, access key with an admin inline
//! policy, MFA), two roles (one trusting any principal), and a group with an admin policy.

use caracal_aws::Clients;

use super::error::call;
use super::{SeedError, SeededUser};

const ADMIN_POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
const EC2_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const ANY_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#;

/// What one unit made in IAM.
pub(super) struct IamUnit {
    /// The users.
    pub(super) users: Vec<SeededUser>,
    /// The role names.
    pub(super) roles: Vec<String>,
    /// The group name.
    pub(super) group: String,
    /// The customer managed policy's ARN.
    pub(super) policy: String,
}

/// Unit `i`'s IAM resources.
pub(super) async fn seed(c: &Clients, i: u32) -> Result<IamUnit, SeedError> {
    let iam = c.iam();
    let mut users = Vec::new();

    let nomfa = format!("seed-{i}-console-nomfa");
    iam.create_user().user_name(&nomfa).send().await.map_err(call(format!("user {nomfa}")))?;
    iam.create_login_profile()
        .user_name(&nomfa)
        .password("Seeded-Passw0rd!")
        .send()
        .await
        .map_err(call(format!("login profile of {nomfa}")))?;
    users.push(SeededUser {
        name: nomfa,
        console_password: true,
        mfa: false,
        access_keys: vec![],
        admin_inline_policy: false,
    });

    let admin = format!("seed-{i}-keys-admin");
    iam.create_user().user_name(&admin).send().await.map_err(call(format!("user {admin}")))?;
    let key = iam
        .create_access_key()
        .user_name(&admin)
        .send()
        .await
        .map_err(call(format!("access key of {admin}")))?
        .access_key
        .map(|k| k.access_key_id)
        .unwrap_or_default();
    iam.put_user_policy()
        .user_name(&admin)
        .policy_name("seed-admin")
        .policy_document(ADMIN_POLICY)
        .send()
        .await
        .map_err(call(format!("inline policy of {admin}")))?;
    users.push(SeededUser {
        name: admin.clone(),
        console_password: false,
        mfa: false,
        access_keys: vec![key],
        admin_inline_policy: true,
    });

    let mfa = format!("seed-{i}-mfa-ok");
    iam.create_user().user_name(&mfa).send().await.map_err(call(format!("user {mfa}")))?;
    iam.create_login_profile()
        .user_name(&mfa)
        .password("Seeded-Passw0rd!")
        .send()
        .await
        .map_err(call(format!("login profile of {mfa}")))?;
    let serial = iam
        .create_virtual_mfa_device()
        .virtual_mfa_device_name(&mfa)
        .send()
        .await
        .map_err(call(format!("MFA device of {mfa}")))?
        .virtual_mfa_device
        .map(|d| d.serial_number)
        .unwrap_or_default();
    iam.enable_mfa_device()
        .user_name(&mfa)
        .serial_number(serial)
        .authentication_code1("123456")
        .authentication_code2("654321")
        .send()
        .await
        .map_err(call(format!("MFA of {mfa}")))?;
    users.push(SeededUser {
        name: mfa,
        console_password: true,
        mfa: true,
        access_keys: vec![],
        admin_inline_policy: false,
    });

    let mut roles = Vec::new();
    for (kind, trust) in [("ec2", EC2_TRUST), ("cross-account", ANY_TRUST)] {
        let role = format!("seed-{i}-{kind}");
        iam.create_role()
            .role_name(&role)
            .assume_role_policy_document(trust)
            .send()
            .await
            .map_err(call(format!("role {role}")))?;
        roles.push(role);
    }

    let group = format!("seed-{i}-group");
    iam.create_group().group_name(&group).send().await.map_err(call(format!("group {group}")))?;
    iam.add_user_to_group()
        .group_name(&group)
        .user_name(&admin)
        .send()
        .await
        .map_err(call(format!("membership of {admin} in {group}")))?;
    let policy_name = format!("seed-{i}-policy");
    let policy = iam
        .create_policy()
        .policy_name(&policy_name)
        .policy_document(ADMIN_POLICY)
        .send()
        .await
        .map_err(call(format!("policy {policy_name}")))?
        .policy
        .and_then(|p| p.arn)
        .unwrap_or_default();
    iam.attach_group_policy()
        .group_name(&group)
        .policy_arn(&policy)
        .send()
        .await
        .map_err(call(format!("attachment of {policy_name}")))?;
    Ok(IamUnit { users, roles, group, policy })
}
