//! `[organization]` against the emulator: three member accounts under an OU are
//! discovered, the scan role is assumed in each, and the account whose role is missing is
//! reported while the two others are scanned and stored. The emulator's STS lets any role
//! be assumed (moto does not check that it exists), so the missing role is AWS's answer
//! for it, recorded and served by the fault proxy for that role's ARN alone.

use std::sync::Arc;

use caracal_app::{Context, ScanScope, posture};
use caracal_aws::Purpose;
use caracal_core::Config;
use caracal_core::config::{AccountConfig, OrganizationConfig, StoreBackend, StoreConfig};
use caracal_scan::ScanRequest;
use caracal_testkit::{Emulator, Fault, FaultProxy, Matcher};

const ROLE: &str = "CaracalAudit";

/// STS's answer when the role does not exist or does not trust the caller (recorded).
const ACCESS_DENIED: &str = r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/caracal is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::ACCOUNT:role/CaracalAudit</Message></Error><RequestId>recorded</RequestId></ErrorResponse>"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_accounts_are_discovered_and_one_without_its_role_is_reported() {
    let emulator = Emulator::start().expect("emulator");
    let proxy = FaultProxy::start(&emulator.endpoint()).expect("proxy");
    let aws = emulator.aws_at(&proxy.endpoint(), 3).await.expect("aws");
    let management = aws.session(None, Purpose::Scan).await.expect("session");
    let org = management.home().organizations();
    org.create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .expect("organization");
    let root = org.list_roots().send().await.expect("roots").roots()[0]
        .id()
        .unwrap_or_default()
        .to_owned();
    let ou = org
        .create_organizational_unit()
        .parent_id(&root)
        .name("workloads")
        .send()
        .await
        .expect("ou")
        .organizational_unit
        .and_then(|o| o.id)
        .expect("ou id");
    let mut members = Vec::new();
    for n in 1..=3 {
        let id = org
            .create_account()
            .email(format!("member{n}@caracal.test"))
            .account_name(format!("member-{n}"))
            .send()
            .await
            .expect("account")
            .create_account_status
            .and_then(|s| s.account_id)
            .expect("account id");
        org.move_account()
            .account_id(&id)
            .source_parent_id(&root)
            .destination_parent_id(&ou)
            .send()
            .await
            .expect("move");
        // One queue in each member account, made through the role.
        let member = AccountConfig {
            id: id.clone(),
            role_name: Some(ROLE.into()),
            remediation_role_name: None,
            external_id: None,
        };
        let session = aws.session(Some(&member), Purpose::Scan).await.expect("member session");
        session
            .home()
            .sqs()
            .create_queue()
            .queue_name(format!("queue-{n}"))
            .send()
            .await
            .expect("queue");
        members.push(id);
    }
    members.sort();

    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = StoreConfig { backend: StoreBackend::Sqlite, ..Default::default() };
    store.sqlite.path = dir.path().join("caracal.db");
    let mut settings = emulator.aws_config();
    settings.endpoint_url = Some(proxy.endpoint());
    let config = Config {
        aws: settings,
        store,
        organization: Some(OrganizationConfig {
            role_name: ROLE.into(),
            remediation_role_name: None,
            external_id: None,
            organizational_units: vec![ou.clone()],
            tags: Vec::new(),
            statuses: vec!["ACTIVE".into()],
            exclude_accounts: Vec::new(),
            concurrency: 2,
        }),
        ..Config::default()
    };
    let opened = caracal_store::open(&config.store, None).await.expect("store");
    let ctx = Arc::new(Context::from_parts(config, aws, opened));
    let scope = ScanScope {
        accounts: Vec::new(),
        request: ScanRequest { regions: Vec::new(), types: vec!["AWS.SQS.Queue".into()] },
    };

    // Every member reachable: three accounts scanned (the management account is not in
    // the OU), one queue each.
    let first = posture::scan_and_evaluate(&ctx, &scope, None, &()).await.expect("scan");
    assert!(first.outcome.report.errors.is_empty(), "{:#?}", first.outcome.report.errors);
    let mut accounts: Vec<String> =
        first.outcome.resources.iter().map(|r| r.account_id.clone()).collect();
    accounts.sort();
    assert_eq!(accounts, members);
    // The serverless fan-out (scheduler, API on Lambda) reaches the same members: one
    // target per member and region for this regional type.
    let targets = caracal_app::fanout::scan_targets(&ctx, &scope).await.expect("targets");
    let mut queued: Vec<String> = targets.iter().map(|t| t.account_id.clone()).collect();
    queued.sort();
    let regions = ctx.aws().await.expect("aws").regions().len();
    assert_eq!(queued.len(), members.len() * regions, "{targets:?}");
    queued.dedup();
    assert_eq!(queued, members);

    // The third account's role is gone: that account is reported, the others are scanned.
    let missing = members[2].clone();
    proxy.inject(
        Matcher::BodyContains(format!("{missing}%3Arole%2F{ROLE}")),
        Fault::Respond {
            status: 403,
            content_type: "text/xml".into(),
            body: ACCESS_DENIED.replace("ACCOUNT", &missing),
        },
    );
    let second = posture::scan_and_evaluate(&ctx, &scope, None, &()).await.expect("scan");
    let errors = &second.outcome.report.errors;
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].account_id, missing);
    assert_eq!(errors[0].operation, "sts:AssumeRole");
    assert!(
        errors[0].message.contains("AccessDenied") || errors[0].message.contains("not authorized"),
        "{}",
        errors[0].message
    );
    let mut scanned: Vec<String> =
        second.outcome.resources.iter().map(|r| r.account_id.clone()).collect();
    scanned.sort();
    assert_eq!(scanned, members[..2]);
    // Fanned out, the unreachable member gets no target (it is logged), the others do.
    let targets = caracal_app::fanout::scan_targets(&ctx, &scope).await.expect("targets");
    let mut queued: Vec<String> = targets.iter().map(|t| t.account_id.clone()).collect();
    queued.sort();
    queued.dedup();
    assert_eq!(queued, members[..2]);
    // Nothing of the unreachable account is deleted: its queue is still live in the store.
    let store = ctx.store().await.expect("store");
    for r in &first.outcome.resources {
        assert!(
            store.resources().get(&r.resource_id).await.expect("get").is_some(),
            "{} was dropped",
            r.resource_id
        );
    }
}
