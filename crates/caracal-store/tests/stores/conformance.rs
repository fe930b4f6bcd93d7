//! The conformance cases: each takes a fresh, empty store and proves one behaviour that
//! every backend must share.

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use caracal_core::{
    Alert, AuditOutcome, AuditRecord, Cause, ChangeKind, ComplianceStatus, Finding, Resource,
    Severity,
};
use caracal_store::{
    AuditFilter, Error, MatchKey, PageRequest, ResourceFilter, StatusCounts, Store, TransitionQuery,
};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;

const ACCOUNT: &str = "123456789012";
const OTHER_ACCOUNT: &str = "210987654321";

/// A fixed time `secs` seconds after 2024-01-01T00:00:00Z.
fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_704_067_200 + secs, 0).single().unwrap_or_default()
}

fn bucket(name: &str) -> Resource {
    Resource::new(format!("arn:aws:s3:::{name}"), "AWS.S3.Bucket", ACCOUNT, "us-east-1")
        .with("Versioning", serde_json::Value::Null)
}

fn ids(resources: &[Resource]) -> Vec<String> {
    resources.iter().map(|r| r.resource_id.clone()).collect()
}

pub async fn put_batch_reports_created_then_unchanged_then_modified(store: &dyn Store) {
    let rs = store.resources();
    let first = rs.put_batch(&[bucket("a"), bucket("b")], t(0)).await.unwrap();
    assert_eq!(
        first,
        vec![
            ("arn:aws:s3:::a".to_owned(), Some(ChangeKind::Created)),
            ("arn:aws:s3:::b".to_owned(), Some(ChangeKind::Created)),
        ]
    );
    let changed = bucket("b").with("Versioning", "Enabled");
    let second = rs.put_batch(&[bucket("a"), changed.clone()], t(60)).await.unwrap();
    assert_eq!(second[0].1, None);
    assert_eq!(second[1].1, Some(ChangeKind::Modified));
    assert_eq!(rs.get("arn:aws:s3:::b").await.unwrap(), Some(changed.clone()));

    let stored = rs.get_stored("arn:aws:s3:::a").await.unwrap().unwrap();
    assert_eq!((stored.first_seen, stored.last_seen, stored.deleted_at), (t(0), t(60), None));

    let history = rs.history("arn:aws:s3:::b").await.unwrap();
    let kinds: Vec<_> = history.iter().map(|c| (c.kind, c.observed_at)).collect();
    assert_eq!(kinds, vec![(ChangeKind::Created, t(0)), (ChangeKind::Modified, t(60))]);
    assert_eq!(history[1].snapshot, changed);
    assert_eq!(rs.history("arn:aws:s3:::a").await.unwrap().len(), 1);
}

pub async fn retried_batch_writes_no_duplicate_history(store: &dyn Store) {
    let rs = store.resources();
    let batch = vec![bucket("a"), bucket("b"), bucket("c")];
    // A first attempt that got only part of the batch written...
    rs.put_batch(&batch[..1], t(0)).await.unwrap();
    // ...then the retry of the whole batch, and a second retry.
    let retry = rs.put_batch(&batch, t(0)).await.unwrap();
    let again = rs.put_batch(&batch, t(0)).await.unwrap();
    let created: Vec<_> =
        ids(&batch).into_iter().map(|id| (id, Some(ChangeKind::Created))).collect();
    assert_eq!(retry, created);
    assert_eq!(again, created);
    for id in ids(&batch) {
        assert_eq!(rs.history(&id).await.unwrap().len(), 1, "{id}");
    }
    // The next scan, later, sees nothing new.
    let next = rs.put_batch(&batch, t(60)).await.unwrap();
    assert!(next.iter().all(|(_, change)| change.is_none()), "{next:?}");
}

pub async fn repeated_id_in_one_batch_counts_once_and_last_wins(store: &dyn Store) {
    let rs = store.resources();
    let last = bucket("a").with("Versioning", "Enabled");
    let out = rs.put_batch(&[bucket("a"), bucket("b"), last.clone()], t(0)).await.unwrap();
    assert_eq!(
        out,
        vec![
            ("arn:aws:s3:::a".to_owned(), Some(ChangeKind::Created)),
            ("arn:aws:s3:::b".to_owned(), Some(ChangeKind::Created)),
        ]
    );
    assert_eq!(rs.get("arn:aws:s3:::a").await.unwrap(), Some(last));
}

pub async fn deleted_resources_leave_get_but_stay_readable(store: &dyn Store) {
    let rs = store.resources();
    rs.put_batch(&[bucket("a"), bucket("b")], t(0)).await.unwrap();
    let marked = rs
        .mark_deleted(&["arn:aws:s3:::a".into(), "arn:aws:s3:::nope".into()], t(60))
        .await
        .unwrap();
    assert_eq!(marked, vec!["arn:aws:s3:::a".to_owned()]);
    assert_eq!(rs.get("arn:aws:s3:::a").await.unwrap(), None);
    let stored = rs.get_stored("arn:aws:s3:::a").await.unwrap().unwrap();
    assert_eq!(stored.deleted_at, Some(t(60)));
    assert_eq!(stored.resource, bucket("a"));
    assert!(rs.get_stored("arn:aws:s3:::nope").await.unwrap().is_none());

    // Marking again changes nothing and writes no second entry.
    assert!(rs.mark_deleted(&["arn:aws:s3:::a".into()], t(120)).await.unwrap().is_empty());
    let history = rs.history("arn:aws:s3:::a").await.unwrap();
    let kinds: Vec<_> = history.iter().map(|c| c.kind).collect();
    assert_eq!(kinds, vec![ChangeKind::Created, ChangeKind::Deleted]);
    assert_eq!(history[1].snapshot, bucket("a"));
    assert_eq!(history[1].observed_at, t(60));
}

// #11.5: overlapping scans. A slow scan that read a resource before a faster scan saw it
// deleted (or saw it again) must not write its older view back.
pub async fn writes_never_move_a_resource_back_in_time(store: &dyn Store) {
    let rs = store.resources();
    rs.put_batch(&[bucket("a"), bucket("b")], t(0)).await.unwrap();

    // The fast scan (t120) sees `a` gone; the slow scan (t60) still lists it, modified.
    assert_eq!(rs.mark_deleted(&["arn:aws:s3:::a".into()], t(120)).await.unwrap().len(), 1);
    let stale = bucket("a").with("Versioning", "Enabled");
    let out = rs.put_batch(&[stale], t(60)).await.unwrap();
    assert_eq!(out, vec![("arn:aws:s3:::a".to_owned(), None)]);
    assert_eq!(rs.get("arn:aws:s3:::a").await.unwrap(), None, "still deleted");
    let stored = rs.get_stored("arn:aws:s3:::a").await.unwrap().unwrap();
    assert_eq!((stored.last_seen, stored.deleted_at), (t(0), Some(t(120))));
    assert_eq!(stored.resource, bucket("a"));
    let kinds: Vec<_> = rs
        .history("arn:aws:s3:::a")
        .await
        .unwrap()
        .iter()
        .map(|c| (c.kind, c.observed_at))
        .collect();
    assert_eq!(kinds, vec![(ChangeKind::Created, t(0)), (ChangeKind::Deleted, t(120))]);

    // The fast scan (t120) saw `b` changed; the slow scan (t60) writes the old content and
    // then, from its stale listing, tries to delete it.
    let fresh = bucket("b").with("Versioning", "Enabled");
    rs.put_batch(std::slice::from_ref(&fresh), t(120)).await.unwrap();
    let out = rs.put_batch(&[bucket("b")], t(60)).await.unwrap();
    assert_eq!(out, vec![("arn:aws:s3:::b".to_owned(), None)]);
    assert!(rs.mark_deleted(&["arn:aws:s3:::b".into()], t(60)).await.unwrap().is_empty());
    let stored = rs.get_stored("arn:aws:s3:::b").await.unwrap().unwrap();
    assert_eq!((stored.last_seen, stored.deleted_at), (t(120), None));
    assert_eq!(stored.resource, fresh);
    assert_eq!(rs.history("arn:aws:s3:::b").await.unwrap().len(), 2, "created, modified");
    assert_eq!(
        rs.ids_in_scope(ACCOUNT, "us-east-1", "AWS.S3.Bucket").await.unwrap(),
        vec!["arn:aws:s3:::b".to_owned()]
    );

    // A later scan moves both forward again.
    let out = rs.put_batch(&[bucket("a"), fresh.clone()], t(180)).await.unwrap();
    assert_eq!(
        out,
        vec![
            ("arn:aws:s3:::a".to_owned(), Some(ChangeKind::Created)),
            ("arn:aws:s3:::b".to_owned(), None)
        ]
    );
    let stored = rs.get_stored("arn:aws:s3:::b").await.unwrap().unwrap();
    assert_eq!(stored.last_seen, t(180));
    // A retried deletion at the same time reports the same ids and writes no second entry.
    let first = rs.mark_deleted(&["arn:aws:s3:::a".into()], t(240)).await.unwrap();
    let retry = rs.mark_deleted(&["arn:aws:s3:::a".into()], t(240)).await.unwrap();
    assert_eq!(first, retry);
    assert_eq!(rs.history("arn:aws:s3:::a").await.unwrap().len(), 4);
}

pub async fn deleted_resource_that_reappears_is_created_again(store: &dyn Store) {
    let rs = store.resources();
    rs.put_batch(&[bucket("a")], t(0)).await.unwrap();
    rs.mark_deleted(&["arn:aws:s3:::a".into()], t(60)).await.unwrap();
    let out = rs.put_batch(&[bucket("a")], t(120)).await.unwrap();
    assert_eq!(out[0].1, Some(ChangeKind::Created));
    let stored = rs.get_stored("arn:aws:s3:::a").await.unwrap().unwrap();
    assert_eq!((stored.first_seen, stored.deleted_at), (t(120), None));
    let kinds: Vec<_> =
        rs.history("arn:aws:s3:::a").await.unwrap().iter().map(|c| c.kind).collect();
    assert_eq!(kinds, vec![ChangeKind::Created, ChangeKind::Deleted, ChangeKind::Created]);
}

/// 30 resources over 2 accounts, 2 regions and 3 types.
fn fleet() -> Vec<Resource> {
    let types = ["AWS.S3.Bucket", "AWS.EC2.Volume", "AWS.IAM.User"];
    (0..30)
        .map(|i| {
            let account = if i % 2 == 0 { ACCOUNT } else { OTHER_ACCOUNT };
            let region = if i % 3 == 0 { "eu-west-1" } else { "us-east-1" };
            let ty = types[i % 3];
            Resource::new(format!("arn:aws:test:::{ty}/{i:02}"), ty, account, region).with("N", i)
        })
        .collect()
}

async fn list_all(store: &dyn Store, filter: &ResourceFilter, limit: usize) -> Vec<String> {
    let mut page = PageRequest::first(limit);
    let mut out = Vec::new();
    for _ in 0..100 {
        let got = store.resources().list(filter, &page).await.unwrap();
        assert!(got.items.len() <= limit, "page over its limit");
        // The same page with the snapshots as stored text: the same resources and cursor.
        let raw = store.resources().list_snapshots(filter, &page).await.unwrap();
        assert_eq!(raw.next, got.next, "{filter:?} limit {limit}");
        assert_eq!(raw.len(), got.items.len());
        for (raw, got) in raw.iter().zip(&got.items) {
            let resource: caracal_core::Resource = serde_json::from_str(raw.snapshot).unwrap();
            assert_eq!(resource, got.resource, "{filter:?} limit {limit}");
            assert_eq!(raw.resource_id, got.resource.resource_id);
            assert_eq!(
                (raw.first_seen, raw.last_seen, raw.deleted_at),
                (got.first_seen, got.last_seen, got.deleted_at)
            );
        }
        out.extend(got.items.into_iter().map(|s| s.resource.resource_id));
        match got.next {
            Some(token) => page = PageRequest::after(token, limit),
            None => return out,
        }
    }
    panic!("paging did not end");
}

pub async fn list_pages_through_every_filter_once_each(store: &dyn Store) {
    let fleet = fleet();
    store.resources().put_batch(&fleet, t(0)).await.unwrap();
    let deleted = fleet[4].resource_id.clone();
    store.resources().mark_deleted(std::slice::from_ref(&deleted), t(1)).await.unwrap();

    let some = |s: &str| Some(s.to_owned());
    let filters = [
        ResourceFilter::default(),
        ResourceFilter { include_deleted: true, ..Default::default() },
        ResourceFilter { resource_type: some("AWS.S3.Bucket"), ..Default::default() },
        ResourceFilter { account_id: some(OTHER_ACCOUNT), ..Default::default() },
        ResourceFilter { region: some("eu-west-1"), ..Default::default() },
        ResourceFilter {
            resource_type: some("AWS.EC2.Volume"),
            account_id: some(ACCOUNT),
            ..Default::default()
        },
        ResourceFilter {
            resource_type: some("AWS.EC2.Volume"),
            account_id: some(ACCOUNT),
            region: some("us-east-1"),
            include_deleted: true,
        },
        ResourceFilter {
            account_id: some(ACCOUNT),
            region: some("eu-west-1"),
            ..Default::default()
        },
    ];
    for filter in &filters {
        let expected: BTreeSet<String> = fleet
            .iter()
            .filter(|r| filter.include_deleted || r.resource_id != deleted)
            .filter(|r| filter.resource_type.as_deref().is_none_or(|t| r.resource_type == t))
            .filter(|r| filter.account_id.as_deref().is_none_or(|a| r.account_id == a))
            .filter(|r| filter.region.as_deref().is_none_or(|g| r.region == g))
            .map(|r| r.resource_id.clone())
            .collect();
        for limit in [1, 4, 7, 100] {
            let got = list_all(store, filter, limit).await;
            let unique: HashSet<&String> = got.iter().collect();
            assert_eq!(unique.len(), got.len(), "duplicates with {filter:?} limit {limit}");
            let got: BTreeSet<String> = got.into_iter().collect();
            assert_eq!(got, expected, "{filter:?} limit {limit}");
        }
    }
}

pub async fn list_pages_stay_stable_while_other_resources_are_written(store: &dyn Store) {
    let fleet = fleet();
    store.resources().put_batch(&fleet, t(0)).await.unwrap();
    let filter =
        ResourceFilter { resource_type: Some("AWS.S3.Bucket".into()), ..Default::default() };
    let first = store.resources().list(&filter, &PageRequest::first(4)).await.unwrap();
    // Other writes between pages: a different type, and an update of a listed resource.
    let noise: Vec<Resource> = (0..5)
        .map(|i| {
            Resource::new(format!("arn:aws:test:::noise/{i}"), "AWS.KMS.Key", ACCOUNT, "us-east-1")
        })
        .collect();
    store.resources().put_batch(&noise, t(1)).await.unwrap();
    let mut seen: Vec<String> =
        first.items.iter().map(|s| s.resource.resource_id.clone()).collect();
    let mut token = first.next;
    while let Some(next) = token {
        let page = store.resources().list(&filter, &PageRequest::after(next, 4)).await.unwrap();
        seen.extend(page.items.into_iter().map(|s| s.resource.resource_id));
        token = page.next;
    }
    let expected: Vec<String> = fleet
        .iter()
        .filter(|r| r.resource_type == "AWS.S3.Bucket")
        .map(|r| r.resource_id.clone())
        .collect();
    assert_eq!(seen, expected, "one type lists in id order, each id once");
}

pub async fn a_page_token_from_elsewhere_is_refused(store: &dyn Store) {
    let err = store
        .resources()
        .list(&ResourceFilter::default(), &PageRequest::after("not-a-token", 5))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidPageToken { .. }), "{err}");
}

pub async fn ids_in_scope_are_the_live_ids_of_one_scope(store: &dyn Store) {
    let fleet = fleet();
    store.resources().put_batch(&fleet, t(0)).await.unwrap();
    let in_scope = |r: &&Resource| {
        r.account_id == ACCOUNT && r.region == "us-east-1" && r.resource_type == "AWS.EC2.Volume"
    };
    let mut expected: Vec<String> =
        fleet.iter().filter(in_scope).map(|r| r.resource_id.clone()).collect();
    assert!(expected.len() >= 2);
    let gone = expected.remove(0);
    store.resources().mark_deleted(&[gone], t(1)).await.unwrap();
    let got = store.resources().ids_in_scope(ACCOUNT, "us-east-1", "AWS.EC2.Volume").await.unwrap();
    assert_eq!(got, expected);
    assert!(
        store
            .resources()
            .ids_in_scope(ACCOUNT, "ap-south-1", "AWS.EC2.Volume")
            .await
            .unwrap()
            .is_empty()
    );
}

fn finding(resource: &str, policy: &str, severity: Severity, status: ComplianceStatus) -> Finding {
    Finding {
        resource_id: resource.into(),
        resource_type: "AWS.S3.Bucket".into(),
        account_id: ACCOUNT.into(),
        region: "us-east-1".into(),
        policy_id: policy.into(),
        severity,
        status,
        suppressed: false,
        evaluated_at: t(0),
        first_seen: None,
    }
}

/// `f` as the store returns it: its status first seen at `first_seen`.
fn seen(f: &Finding, first_seen: i64) -> Finding {
    Finding { first_seen: Some(t(first_seen)), ..f.clone() }
}

pub async fn compliance_keeps_the_last_verdict_per_resource_and_policy(store: &dyn Store) {
    let cs = store.compliance();
    let fail = finding("r1", "P.Versioning", Severity::Medium, ComplianceStatus::Fail);
    let error = finding(
        "r1",
        "P.Public",
        Severity::High,
        ComplianceStatus::Error("KeyError: 'Grants'".into()),
    );
    let other = finding("r2", "P.Versioning", Severity::Medium, ComplianceStatus::Pass);
    cs.set_status(&[fail.clone(), error.clone(), other.clone()]).await.unwrap();
    let pass = Finding { status: ComplianceStatus::Pass, evaluated_at: t(60), ..fail.clone() };
    cs.set_status(std::slice::from_ref(&pass)).await.unwrap();

    // FAIL → PASS at 60: the new status is first seen then.
    let (pass, error, other) = (seen(&pass, 60), seen(&error, 0), seen(&other, 0));
    assert_eq!(cs.get("r1", "P.Versioning").await.unwrap(), Some(pass.clone()));
    assert_eq!(cs.get("r1", "P.Public").await.unwrap(), Some(error.clone()));
    assert_eq!(cs.get("r1", "P.Missing").await.unwrap(), None);
    assert_eq!(cs.for_resource("r1").await.unwrap(), vec![error.clone(), pass.clone()]);
    let ids = ["r1", "r2", "r-none"].map(String::from);
    let batch = cs.for_resources(&ids).await.unwrap();
    assert_eq!(batch.len(), 2, "a resource without findings is absent");
    assert_eq!(batch["r1"], vec![error, pass.clone()]);
    assert_eq!(batch["r2"], vec![other.clone()]);
    assert_eq!(cs.for_policy("P.Versioning").await.unwrap(), vec![pass, other]);
}

pub async fn every_status_change_is_one_transition_with_its_cause(store: &dyn Store) {
    let cs = store.compliance();
    let at = |f: &Finding, secs: i64, status: ComplianceStatus| Finding {
        status,
        evaluated_at: t(secs),
        ..f.clone()
    };
    let fail = finding("r1", "P.A", Severity::High, ComplianceStatus::Fail);
    let scan = |id: &str| Cause {
        scan_id: Some(id.into()),
        snapshots: [("r1".to_owned(), format!("hash-{id}"))].into(),
    };
    let first = cs.record(std::slice::from_ref(&fail), &scan("s1")).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!((first[0].from.clone(), first[0].to.clone()), (None, Some(ComplianceStatus::Fail)));
    assert_eq!(first[0].scan_id.as_deref(), Some("s1"));
    assert_eq!(first[0].snapshot.as_deref(), Some("hash-s1"));
    // The same batch again, and the same status later: nothing new; first seen stays.
    assert!(cs.record(std::slice::from_ref(&fail), &scan("s1")).await.unwrap().is_empty());
    let later = at(&fail, 30, ComplianceStatus::Fail);
    assert!(cs.record(std::slice::from_ref(&later), &scan("s2")).await.unwrap().is_empty());
    assert_eq!(cs.get("r1", "P.A").await.unwrap(), Some(seen(&later, 0)));
    // An error, another error message (same status), then a pass.
    let e1 = at(&fail, 60, ComplianceStatus::Error("KeyError: 'x'".into()));
    let e2 = at(&fail, 70, ComplianceStatus::Error("KeyError: 'y'".into()));
    let pass = at(&fail, 90, ComplianceStatus::Pass);
    assert_eq!(cs.record(std::slice::from_ref(&e1), &scan("s3")).await.unwrap().len(), 1);
    assert!(cs.record(std::slice::from_ref(&e2), &scan("s4")).await.unwrap().is_empty());
    let fixed = cs.record(std::slice::from_ref(&pass), &scan("s5")).await.unwrap();
    assert_eq!(fixed[0].describe(), "ERROR → PASS");
    assert!(!fixed[0].starts_failing());
    // A verdict older than the stored one (an overlapping slower scan) is not written.
    let stale = at(&fail, 80, ComplianceStatus::Fail);
    assert!(cs.record(std::slice::from_ref(&stale), &scan("s0")).await.unwrap().is_empty());
    assert_eq!(cs.get("r1", "P.A").await.unwrap().map(|f| f.status), Some(ComplianceStatus::Pass));
    // Another policy on another resource, then the resource goes away.
    let other = finding("r2", "P.B", Severity::Low, ComplianceStatus::Pass);
    cs.record(std::slice::from_ref(&other), &Cause::default()).await.unwrap();
    assert_eq!(cs.delete_for_resource("r1").await.unwrap(), 1);

    let all = cs.transitions(&TransitionQuery::recent(100)).await.unwrap();
    assert_eq!(all.len(), 5, "{all:#?}");
    let r1 = TransitionQuery { resource_id: Some("r1".into()), ..TransitionQuery::recent(100) };
    let steps: Vec<String> =
        cs.transitions(&r1).await.unwrap().iter().map(|t| t.describe()).collect();
    assert_eq!(steps, ["PASS → DELETED", "ERROR → PASS", "FAIL → ERROR", "NEW → FAIL"]);
    let by_policy = TransitionQuery { policy_id: Some("P.B".into()), ..TransitionQuery::recent(9) };
    let b = cs.transitions(&by_policy).await.unwrap();
    assert_eq!((b.len(), b[0].resource_id.as_str()), (1, "r2"));
    let since = TransitionQuery { since: Some(t(60)), ..r1.clone() };
    assert_eq!(cs.transitions(&since).await.unwrap().len(), 3);
    let newest = TransitionQuery { limit: 1, ..r1.clone() };
    assert_eq!(cs.transitions(&newest).await.unwrap()[0].describe(), "PASS → DELETED");
    // Retention: what happened before 50 s goes (the first FAIL and r2's first PASS).
    assert_eq!(cs.prune_transitions(t(50)).await.unwrap(), 2);
    assert_eq!(cs.transitions(&r1).await.unwrap().len(), 3);
}

pub async fn overviews_count_verdicts_and_keep_suppressed_out_of_fail(store: &dyn Store) {
    let cs = store.compliance();
    let mut suppressed = finding("r3", "P.A", Severity::High, ComplianceStatus::Fail);
    suppressed.suppressed = true;
    cs.set_status(&[
        finding("r1", "P.A", Severity::High, ComplianceStatus::Fail),
        finding("r2", "P.A", Severity::High, ComplianceStatus::Pass),
        suppressed,
        finding("r1", "P.B", Severity::Low, ComplianceStatus::Error("boom".into())),
        finding("r2", "P.B", Severity::Low, ComplianceStatus::Fail),
    ])
    .await
    .unwrap();
    let counts =
        |pass, fail, error, suppressed_fail| StatusCounts { pass, fail, error, suppressed_fail };

    let by_policy: Vec<_> =
        cs.overview_by_policy().await.unwrap().into_iter().map(|r| (r.key, r.counts)).collect();
    assert_eq!(
        by_policy,
        vec![("P.A".to_owned(), counts(1, 1, 0, 1)), ("P.B".to_owned(), counts(0, 1, 1, 0))]
    );
    let by_resource: Vec<_> =
        cs.overview_by_resource().await.unwrap().into_iter().map(|r| (r.key, r.counts)).collect();
    assert_eq!(
        by_resource,
        vec![
            ("r1".to_owned(), counts(0, 1, 1, 0)),
            ("r2".to_owned(), counts(1, 1, 0, 0)),
            ("r3".to_owned(), counts(0, 0, 0, 1)),
        ]
    );
    let by_severity: Vec<_> =
        cs.overview_by_severity().await.unwrap().into_iter().map(|r| (r.key, r.counts)).collect();
    assert_eq!(
        by_severity,
        vec![
            (Severity::Info, counts(0, 0, 0, 0)),
            (Severity::Low, counts(0, 1, 1, 0)),
            (Severity::Medium, counts(0, 0, 0, 0)),
            (Severity::High, counts(1, 1, 0, 1)),
            (Severity::Critical, counts(0, 0, 0, 0)),
        ]
    );
}

pub async fn deleting_a_resources_findings_leaves_others(store: &dyn Store) {
    let cs = store.compliance();
    cs.set_status(&[
        finding("r1", "P.A", Severity::High, ComplianceStatus::Fail),
        finding("r1", "P.B", Severity::High, ComplianceStatus::Pass),
        finding("r2", "P.A", Severity::High, ComplianceStatus::Fail),
    ])
    .await
    .unwrap();
    assert_eq!(cs.delete_for_resource("r1").await.unwrap(), 2);
    assert!(cs.for_resource("r1").await.unwrap().is_empty());
    assert_eq!(cs.for_policy("P.A").await.unwrap().len(), 1);
    assert_eq!(cs.delete_for_resource("r1").await.unwrap(), 0);
}

fn alert(id: &str, last_seen: DateTime<Utc>) -> Alert {
    Alert {
        id: id.into(),
        rule_id: "R.Test".into(),
        dedup: "d".into(),
        title: format!("alert {id}"),
        severity: Severity::High,
        log_types: vec!["AWS.CloudTrail".into()],
        first_seen: t(0),
        last_seen,
        event_count: 1,
        context: json!({"ip": "10.0.0.1"}),
        ..Alert::default()
    }
}

pub async fn alerts_upsert_by_id_and_list_newest_first(store: &dyn Store) {
    let al = store.alerts();
    al.put(&alert("a", t(10))).await.unwrap();
    al.put(&alert("b", t(30))).await.unwrap();
    al.put(&alert("c", t(20))).await.unwrap();
    let updated = Alert { event_count: 5, ..alert("a", t(40)) };
    al.put(&updated).await.unwrap();
    assert_eq!(al.get("a").await.unwrap(), Some(updated));
    assert_eq!(al.get("zzz").await.unwrap(), None);
    let recent: Vec<String> = al.list_recent(10).await.unwrap().into_iter().map(|a| a.id).collect();
    assert_eq!(recent, ["a", "b", "c"]);
    let two: Vec<String> = al.list_recent(2).await.unwrap().into_iter().map(|a| a.id).collect();
    assert_eq!(two, ["a", "b"]);
}

fn key<'a>(dedup: &'a str, at: i64, threshold: u64) -> MatchKey<'a> {
    MatchKey {
        rule_id: "R.Brute",
        dedup,
        event_time: t(at),
        window: Duration::from_secs(3600),
        threshold,
        count: 1,
    }
}

/// #12: a batch's matches of one rule and dedup string count in one write, and the
/// threshold is reached by the write that crosses it.
pub async fn matches_counted_together_cross_the_threshold_once(store: &dyn Store) {
    let al = store.alerts();
    let three = MatchKey { count: 3, ..key("batch", 0, 5) };
    let first = al.record_match(&three).await.unwrap();
    assert!(first.new_window && !first.threshold_reached);
    assert_eq!(first.event_count, 3);
    let second = al.record_match(&MatchKey { count: 4, ..key("batch", 10, 5) }).await.unwrap();
    assert!(!second.new_window && second.threshold_reached, "3 + 4 crosses 5");
    assert_eq!((second.event_count, second.alert_id.as_str()), (7, first.alert_id.as_str()));
    let third = al.record_match(&MatchKey { count: 2, ..key("batch", 20, 5) }).await.unwrap();
    assert!(!third.threshold_reached, "crossed once per window");
    assert_eq!(third.event_count, 9);
    let at_once = al.record_match(&MatchKey { count: 6, ..key("other", 0, 5) }).await.unwrap();
    assert!(at_once.new_window && at_once.threshold_reached);
}

pub async fn matches_within_the_window_share_one_alert(store: &dyn Store) {
    let al = store.alerts();
    let first = al.record_match(&key("1.2.3.4", 0, 1)).await.unwrap();
    assert!(first.new_window && first.threshold_reached);
    assert_eq!((first.event_count, first.window_start), (1, t(0)));
    let second = al.record_match(&key("1.2.3.4", 600, 1)).await.unwrap();
    assert_eq!(second.alert_id, first.alert_id);
    assert_eq!(
        (second.event_count, second.new_window, second.threshold_reached),
        (2, false, false)
    );
    // Another dedup string is another alert.
    let other = al.record_match(&key("5.6.7.8", 600, 1)).await.unwrap();
    assert_ne!(other.alert_id, first.alert_id);
    assert!(other.new_window);
}

pub async fn a_match_after_the_window_opens_a_new_alert(store: &dyn Store) {
    let al = store.alerts();
    let first = al.record_match(&key("x", 0, 1)).await.unwrap();
    let late = al.record_match(&key("x", 3600, 1)).await.unwrap();
    assert!(late.new_window);
    assert_ne!(late.alert_id, first.alert_id);
    assert_eq!((late.event_count, late.window_start), (1, t(3600)));
}

pub async fn the_threshold_is_reached_once_per_window(store: &dyn Store) {
    let al = store.alerts();
    let reached: Vec<bool> = {
        let mut v = Vec::new();
        for at in [0, 10, 20, 30] {
            v.push(al.record_match(&key("y", at, 3)).await.unwrap().threshold_reached);
        }
        v
    };
    assert_eq!(reached, [false, false, true, false]);
}

fn record(id: &str, at: i64, resource: &str, remediation: &str) -> AuditRecord {
    AuditRecord {
        id: id.into(),
        at: t(at),
        actor: "auto:P.Public".into(),
        resource_id: resource.into(),
        remediation_id: remediation.into(),
        parameters: json!({}),
        plan: json!([{"call": "PutPublicAccessBlock"}]),
        outcome: AuditOutcome::Fixed,
        before: json!({"Public": true}),
        after: json!({"Public": false}),
        error: None,
        intent: None,
    }
}

pub async fn audit_appends_once_and_lists_newest_first(store: &dyn Store) {
    let au = store.audit();
    au.append(&record("1", 10, "r1", "M.Block")).await.unwrap();
    au.append(&record("2", 30, "r2", "M.Block")).await.unwrap();
    au.append(&record("3", 20, "r1", "M.Encrypt")).await.unwrap();
    // A retried append of a stored id changes nothing.
    let retry = AuditRecord { outcome: AuditOutcome::Failed, ..record("1", 10, "r1", "M.Block") };
    au.append(&retry).await.unwrap();
    assert_eq!(au.get("1").await.unwrap(), Some(record("1", 10, "r1", "M.Block")));

    let ids = |v: Vec<AuditRecord>| v.into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(ids(au.list(&AuditFilter::recent(10)).await.unwrap()), ["2", "3", "1"]);
    assert_eq!(ids(au.list(&AuditFilter::recent(2)).await.unwrap()), ["2", "3"]);
    let by_resource = AuditFilter { resource_id: Some("r1".into()), ..AuditFilter::recent(10) };
    assert_eq!(ids(au.list(&by_resource).await.unwrap()), ["3", "1"]);
    let by_remediation =
        AuditFilter { remediation_id: Some("M.Block".into()), ..AuditFilter::recent(10) };
    assert_eq!(ids(au.list(&by_remediation).await.unwrap()), ["2", "1"]);
    let both = AuditFilter {
        resource_id: Some("r1".into()),
        remediation_id: Some("M.Block".into()),
        limit: 10,
    };
    assert_eq!(ids(au.list(&both).await.unwrap()), ["1"]);
}

pub async fn kv_strings_put_get_replace_and_delete(store: &dyn Store) {
    let kv = store.kv();
    assert_eq!(kv.get("k").await.unwrap(), None);
    kv.put("k", r#"{"a":1}"#, None).await.unwrap();
    assert_eq!(kv.get("k").await.unwrap().as_deref(), Some(r#"{"a":1}"#));
    kv.put("k", "two", Some(Duration::from_secs(3600))).await.unwrap();
    assert_eq!(kv.get("k").await.unwrap().as_deref(), Some("two"));
    kv.delete("k").await.unwrap();
    assert_eq!(kv.get("k").await.unwrap(), None);
    kv.delete("never-there").await.unwrap();
}

pub async fn kv_expired_keys_read_as_absent(store: &dyn Store) {
    let kv = store.kv();
    let past = Utc::now() - chrono::Duration::hours(1);
    kv.put("s", "v", Some(Duration::from_secs(3600))).await.unwrap();
    kv.incr("c", 5, None).await.unwrap();
    kv.set_add("set", &["a".into()], None).await.unwrap();
    for key in ["s", "c", "set"] {
        kv.expire_at(key, past).await.unwrap();
    }
    assert_eq!(kv.get("s").await.unwrap(), None);
    assert_eq!(kv.counter("c").await.unwrap(), 0);
    assert!(kv.set_get("set").await.unwrap().is_empty());
    // Writing to an expired key starts it afresh.
    assert_eq!(kv.incr("c", 2, None).await.unwrap(), 2);
    kv.set_add("set", &["b".into()], None).await.unwrap();
    assert_eq!(kv.set_get("set").await.unwrap(), BTreeSet::from(["b".to_owned()]));
    // Expiring an absent key does nothing.
    kv.expire_at("absent", past).await.unwrap();
    assert_eq!(kv.get("absent").await.unwrap(), None);
}

pub async fn kv_counters_add_up_and_reset(store: &dyn Store) {
    let kv = store.kv();
    assert_eq!(kv.counter("n").await.unwrap(), 0);
    assert_eq!(kv.incr("n", 1, Some(Duration::from_secs(3600))).await.unwrap(), 1);
    assert_eq!(kv.incr("n", 4, Some(Duration::from_secs(3600))).await.unwrap(), 5);
    assert_eq!(kv.incr("n", -2, None).await.unwrap(), 3);
    assert_eq!(kv.counter("n").await.unwrap(), 3);
    kv.delete("n").await.unwrap();
    assert_eq!(kv.counter("n").await.unwrap(), 0);
}

pub async fn kv_sets_add_and_remove_members(store: &dyn Store) {
    let kv = store.kv();
    let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert!(kv.set_get("ips").await.unwrap().is_empty());
    kv.set_add("ips", &["10.0.0.1".into(), "10.0.0.2".into()], Some(Duration::from_secs(60)))
        .await
        .unwrap();
    kv.set_add("ips", &["10.0.0.2".into(), "10.0.0.3".into()], None).await.unwrap();
    kv.set_add("ips", &[], None).await.unwrap();
    assert_eq!(kv.set_get("ips").await.unwrap(), set(&["10.0.0.1", "10.0.0.2", "10.0.0.3"]));
    kv.set_remove("ips", &["10.0.0.1".into(), "10.0.0.9".into()]).await.unwrap();
    assert_eq!(kv.set_get("ips").await.unwrap(), set(&["10.0.0.2", "10.0.0.3"]));
    kv.set_remove("absent", &["x".into()]).await.unwrap();
    kv.set_remove("ips", &["10.0.0.2".into(), "10.0.0.3".into()]).await.unwrap();
    assert!(kv.set_get("ips").await.unwrap().is_empty());
}

/// #12: concurrent alert writers never overwrite each other: a write conditioned on a
/// stale revision is refused.
pub async fn alerts_write_only_on_the_expected_revision(store: &dyn Store) {
    let al = store.alerts();
    let mut first = alert("rev", t(10));
    first.revision = 1;
    assert!(al.put_if_revision(&first, None).await.unwrap(), "created");
    assert!(!al.put_if_revision(&first, None).await.unwrap(), "exists already");
    let mut second = Alert { event_count: 2, revision: 2, ..first.clone() };
    assert!(al.put_if_revision(&second, Some(1)).await.unwrap());
    second.event_count = 99;
    assert!(!al.put_if_revision(&second, Some(1)).await.unwrap(), "stale revision refused");
    assert_eq!(al.get("rev").await.unwrap().unwrap().event_count, 2);
    // Alerts stored by a plain put before revisions existed count as revision 0.
    let old = alert("old", t(10));
    al.put(&old).await.unwrap();
    let newer = Alert { event_count: 3, revision: 1, ..old };
    assert!(al.put_if_revision(&newer, Some(0)).await.unwrap());
}

pub async fn a_snapshot_with_an_envelope_key_among_its_attributes_is_refused(store: &dyn Store) {
    let mut bad = bucket("clash");
    bad.attributes.insert("Name".into(), json!("other"));
    let err = store.resources().put_batch(&[bucket("fine"), bad], t(0)).await.unwrap_err();
    assert!(matches!(err, Error::EnvelopeClash { ref key, .. } if key == "Name"), "{err}");
    // Refused as a whole, before anything was written.
    assert_eq!(store.resources().get("arn:aws:s3:::fine").await.unwrap(), None);
}

/// Calls `$run!` with the name of every case above: the one list that the backend tests
/// here and the deployed-template test in caracal-lambda both run.
macro_rules! with_every_case {
    ($run:ident) => {
        $run!(
            put_batch_reports_created_then_unchanged_then_modified,
            retried_batch_writes_no_duplicate_history,
            repeated_id_in_one_batch_counts_once_and_last_wins,
            deleted_resources_leave_get_but_stay_readable,
            deleted_resource_that_reappears_is_created_again,
            writes_never_move_a_resource_back_in_time,
            list_pages_through_every_filter_once_each,
            list_pages_stay_stable_while_other_resources_are_written,
            a_page_token_from_elsewhere_is_refused,
            ids_in_scope_are_the_live_ids_of_one_scope,
            compliance_keeps_the_last_verdict_per_resource_and_policy,
            every_status_change_is_one_transition_with_its_cause,
            a_snapshot_with_an_envelope_key_among_its_attributes_is_refused,
            overviews_count_verdicts_and_keep_suppressed_out_of_fail,
            deleting_a_resources_findings_leaves_others,
            alerts_upsert_by_id_and_list_newest_first,
            alerts_write_only_on_the_expected_revision,
            matches_within_the_window_share_one_alert,
            a_match_after_the_window_opens_a_new_alert,
            the_threshold_is_reached_once_per_window,
            matches_counted_together_cross_the_threshold_once,
            audit_appends_once_and_lists_newest_first,
            kv_strings_put_get_replace_and_delete,
            kv_expired_keys_read_as_absent,
            kv_counters_add_up_and_reset,
            kv_sets_add_and_remove_members,
        );
    };
}
