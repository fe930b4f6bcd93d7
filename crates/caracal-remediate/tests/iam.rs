//! IAM remediations against the emulator (with AWS managed policies loaded), on the
//! seeder's users and the account's missing password policy.

mod common;

use std::sync::Arc;

use aws_sdk_iam::types::StatusType;
use caracal_core::AuditOutcome;
use caracal_remediate::Executor;
use chrono::{Duration, Utc};
use common::{ACCOUNT, Harness, actions};
use serde_json::json;

const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

fn user_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:user/{name}")
}

#[tokio::test(flavor = "multi_thread")]
async fn iam_remediations_fix_the_seeded_account_once() {
    let h = Harness::start_with(&[("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")]).await;
    let iam = h.clients().iam();

    // Password policy: absent, set to the CIS values.
    let policy_id = format!("{ACCOUNT}::AWS.PasswordPolicy");
    h.fix(&policy_id, "AWS.IAM.SetPasswordPolicy", &[], |plan| {
        assert_eq!(actions(plan), ["iam:UpdateAccountPasswordPolicy"]);
        let call = &plan.calls[0].params;
        assert_eq!(call["MinimumPasswordLength"], 14);
        assert_eq!(call["PasswordReusePrevention"], 24);
        assert_eq!(call["MaxPasswordAge"], 90);
        assert_eq!(call["RequireSymbols"], true);
        assert!(plan.changes.iter().any(|c| c.field == "AnyExist" && c.before == json!(false)));
    })
    .await;
    let p = iam.get_account_password_policy().send().await.unwrap().password_policy.unwrap();
    assert_eq!(
        (p.minimum_password_length, p.password_reuse_prevention, p.max_password_age),
        (Some(14), Some(24), Some(90))
    );
    assert!(p.require_symbols);

    // Detach AdministratorAccess from a user it is attached to.
    let admin_user =
        h.manifest.users.iter().find(|u| u.name.ends_with("keys-admin")).unwrap().clone();
    iam.attach_user_policy().user_name(&admin_user.name).policy_arn(ADMIN).send().await.unwrap();
    h.fix(&user_arn(&admin_user.name), "AWS.IAM.DetachUserAdminPolicy", &[], |plan| {
        assert_eq!(actions(plan), ["iam:DetachUserPolicy"]);
        assert_eq!(plan.calls[0].params, json!({"UserName": admin_user.name, "PolicyArn": ADMIN}));
    })
    .await;
    let attached =
        iam.list_attached_user_policies().user_name(&admin_user.name).send().await.unwrap();
    assert!(attached.attached_policies.unwrap_or_default().is_empty());

    // Access keys and console passwords: freshly made ones are in use by definition, so
    // nothing is planned today...
    let keys_req =
        h.request(&user_arn(&admin_user.name), "AWS.IAM.DeactivateUnusedAccessKeys", &[]);
    assert!(h.exec.plan(&keys_req).await.unwrap().is_noop(), "a new key is not unused");
    // ...and moto cannot age a key (EMULATOR.md), so time moves instead: an executor whose
    // clock is 100 days ahead sees them unused for more than the default 90 days.
    let later = Executor::new(h.aws.clone(), vec![], h.store.clone())
        .with_clock(Arc::new(|| Utc::now() + Duration::days(100)));
    let h = Harness { exec: later, ..h };
    let key = &admin_user.access_keys[0];
    h.fix(&user_arn(&admin_user.name), "AWS.IAM.DeactivateUnusedAccessKeys", &[], |plan| {
        assert_eq!(actions(plan), ["iam:UpdateAccessKey"]);
        assert_eq!(
            plan.calls[0].params,
            json!({"UserName": admin_user.name, "AccessKeyId": key, "Status": "Inactive"})
        );
    })
    .await;
    let keys = iam.list_access_keys().user_name(&admin_user.name).send().await.unwrap();
    assert_eq!(keys.access_key_metadata[0].status, Some(StatusType::Inactive));

    let console =
        h.manifest.users.iter().find(|u| u.name.ends_with("console-nomfa")).unwrap().clone();
    h.fix(&user_arn(&console.name), "AWS.IAM.DeleteUnusedLoginProfile", &[], |plan| {
        assert_eq!(actions(plan), ["iam:DeleteLoginProfile"]);
        assert_eq!(plan.changes[0].field, "LoginProfile");
        assert_eq!(plan.changes[0].after, json!(null));
    })
    .await;
    let profile = iam.get_login_profile().user_name(&console.name).send().await;
    assert!(profile.is_err(), "login profile deleted");

    // A user that does not exist: the AWS error is reported and audited.
    let ghost = user_arn("nobody");
    let err =
        h.exec.plan(&h.request(&ghost, "AWS.IAM.DeleteUnusedLoginProfile", &[])).await.unwrap_err();
    assert!(err.to_string().contains("NoSuchEntity"), "{err}");
    assert_eq!(
        h.last_audit(&ghost, "AWS.IAM.DeleteUnusedLoginProfile").await.outcome,
        AuditOutcome::Failed
    );
}
