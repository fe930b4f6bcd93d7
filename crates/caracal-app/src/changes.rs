//! CloudTrail-driven rescans: write events (from processed CloudTrail logs, or an
//! EventBridge → SQS queue of CloudTrail events) name the resources they changed;
//! those resources are rescanned and their policies re-evaluated, without a full scan.
//!
//! - [`CHANGES`] is the one table: an event family (service, event names) and how to
//!   get the changed resources' ids from an event. A new family is one line.
//! - [`RescanQueue`] coalesces: one pending rescan per resource, due a short delay after
//!   its latest event (AWS APIs are eventually consistent), bounded so a busy resource
//!   is still rescanned; ten events for one resource make one rescan.
//! - [`run_due`] rescans what is due and re-evaluates it; [`run`] loops until shutdown.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use caracal_aws::Purpose;
use caracal_core::event::Event;
use caracal_core::event::columns::Fields;
use serde_json::{Map, Value};
use tracing::{debug, info, warn};

use crate::context::Context;
use crate::posture::{self, PolicySource};

/// What an event tells: its account, region and fields.
pub struct ChangeEvent<'a> {
    /// `recipientAccountId`.
    pub account: &'a str,
    /// `awsRegion`.
    pub region: &'a str,
    /// The whole record.
    pub fields: &'a Map<String, Value>,
}

impl ChangeEvent<'_> {
    /// A string at `requestParameters.<key>`.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.fields.get("requestParameters")?.get(key)?.as_str()
    }
}

/// One event family: calls of `events` on `source` change the resources `ids` names.
pub struct Change {
    /// `eventSource`, such as `s3.amazonaws.com`.
    pub source: &'static str,
    /// The `eventName`s.
    pub events: &'static [&'static str],
    /// The changed resources' ids.
    pub ids: fn(&ChangeEvent<'_>) -> Vec<String>,
}

fn one(id: Option<String>) -> Vec<String> {
    id.into_iter().collect()
}

fn bucket(e: &ChangeEvent<'_>) -> Vec<String> {
    one(e.param("bucketName").map(|b| format!("arn:aws:s3:::{b}")))
}

fn security_group(e: &ChangeEvent<'_>) -> Vec<String> {
    one(e
        .param("groupId")
        .map(|g| format!("arn:aws:ec2:{}:{}:security-group/{g}", e.region, e.account)))
}

fn iam_user(e: &ChangeEvent<'_>) -> Vec<String> {
    one(e.param("userName").map(|u| format!("arn:aws:iam::{}:user/{u}", e.account)))
}

fn iam_role(e: &ChangeEvent<'_>) -> Vec<String> {
    one(e.param("roleName").map(|r| format!("arn:aws:iam::{}:role/{r}", e.account)))
}

fn iam_policy(e: &ChangeEvent<'_>) -> Vec<String> {
    one(e.param("policyArn").map(str::to_owned))
}

fn kms_key(e: &ChangeEvent<'_>) -> Vec<String> {
    one(e.param("keyId").map(|k| match k.starts_with("arn:") {
        true => k.to_owned(),
        false => format!("arn:aws:kms:{}:{}:key/{k}", e.region, e.account),
    }))
}

fn trail(e: &ChangeEvent<'_>) -> Vec<String> {
    one(e.param("name").map(|n| match n.starts_with("arn:") {
        true => n.to_owned(),
        false => format!("arn:aws:cloudtrail:{}:{}:trail/{n}", e.region, e.account),
    }))
}

fn config_recorder(e: &ChangeEvent<'_>) -> Vec<String> {
    vec![format!("{}:{}:AWS.Config.Recorder", e.account, e.region)]
}

fn region_settings(e: &ChangeEvent<'_>) -> Vec<String> {
    vec![format!("{}:{}:AWS.EC2.RegionSettings", e.account, e.region)]
}

fn volume(e: &ChangeEvent<'_>) -> Vec<String> {
    one(e.param("volumeId").map(|v| format!("arn:aws:ec2:{}:{}:volume/{v}", e.region, e.account)))
}

fn instances(e: &ChangeEvent<'_>) -> Vec<String> {
    let arn = |id: &str| format!("arn:aws:ec2:{}:{}:instance/{id}", e.region, e.account);
    if let Some(id) = e.param("instanceId") {
        return vec![arn(id)];
    }
    // Start/Stop/Terminate: requestParameters.instancesSet.items[].instanceId
    e.fields
        .get("requestParameters")
        .and_then(|p| p.get("instancesSet"))
        .and_then(|s| s.get("items"))
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(|i| i.get("instanceId")?.as_str()).map(arn).collect())
        .unwrap_or_default()
}

/// Every event family that triggers a rescan.
pub static CHANGES: &[Change] = &[
    Change {
        source: "s3.amazonaws.com",
        events: &[
            "PutBucketPolicy",
            "DeleteBucketPolicy",
            "PutBucketAcl",
            "PutBucketPublicAccessBlock",
            "DeleteBucketPublicAccessBlock",
            "PutBucketEncryption",
            "DeleteBucketEncryption",
            "PutBucketVersioning",
            "PutBucketLogging",
        ],
        ids: bucket,
    },
    Change {
        source: "ec2.amazonaws.com",
        events: &[
            "AuthorizeSecurityGroupIngress",
            "RevokeSecurityGroupIngress",
            "AuthorizeSecurityGroupEgress",
            "RevokeSecurityGroupEgress",
            "ModifySecurityGroupRules",
        ],
        ids: security_group,
    },
    Change {
        source: "iam.amazonaws.com",
        events: &[
            "CreateAccessKey",
            "DeleteAccessKey",
            "UpdateAccessKey",
            "CreateLoginProfile",
            "DeleteLoginProfile",
            "UpdateLoginProfile",
            "AttachUserPolicy",
            "DetachUserPolicy",
            "PutUserPolicy",
            "DeleteUserPolicy",
            "EnableMFADevice",
            "DeactivateMFADevice",
            "AddUserToGroup",
            "RemoveUserFromGroup",
        ],
        ids: iam_user,
    },
    Change {
        source: "iam.amazonaws.com",
        events: &[
            "AttachRolePolicy",
            "DetachRolePolicy",
            "PutRolePolicy",
            "DeleteRolePolicy",
            "UpdateAssumeRolePolicy",
        ],
        ids: iam_role,
    },
    Change {
        source: "iam.amazonaws.com",
        events: &["CreatePolicyVersion", "SetDefaultPolicyVersion", "DeletePolicyVersion"],
        ids: iam_policy,
    },
    Change {
        source: "kms.amazonaws.com",
        events: &[
            "EnableKeyRotation",
            "DisableKeyRotation",
            "PutKeyPolicy",
            "EnableKey",
            "DisableKey",
            "ScheduleKeyDeletion",
            "CancelKeyDeletion",
        ],
        ids: kms_key,
    },
    Change {
        source: "cloudtrail.amazonaws.com",
        events: &["StopLogging", "StartLogging", "UpdateTrail", "PutEventSelectors"],
        ids: trail,
    },
    Change {
        source: "config.amazonaws.com",
        events: &[
            "StopConfigurationRecorder",
            "StartConfigurationRecorder",
            "PutConfigurationRecorder",
        ],
        ids: config_recorder,
    },
    Change {
        source: "ec2.amazonaws.com",
        events: &["EnableEbsEncryptionByDefault", "DisableEbsEncryptionByDefault"],
        ids: region_settings,
    },
    Change {
        source: "ec2.amazonaws.com",
        events: &["ModifyVolume", "AttachVolume", "DetachVolume"],
        ids: volume,
    },
    Change {
        source: "ec2.amazonaws.com",
        events: &[
            "ModifyInstanceAttribute",
            "ModifyInstanceMetadataOptions",
            "StartInstances",
            "StopInstances",
            "AssociateIamInstanceProfile",
        ],
        ids: instances,
    },
];

/// The resources a CloudTrail record changed, with its account: empty for reads,
/// failed calls and events of no known family.
pub fn changed_resources(record: &Map<String, Value>) -> Vec<(String, String)> {
    let text = |k: &str| record.get(k).and_then(Value::as_str);
    if record.get("errorCode").is_some_and(|v| !v.is_null()) {
        return Vec::new();
    }
    let (Some(source), Some(name)) = (text("eventSource"), text("eventName")) else {
        return Vec::new();
    };
    let account = text("recipientAccountId")
        .or_else(|| record.get("userIdentity")?.get("accountId")?.as_str())
        .unwrap_or_default();
    let event =
        ChangeEvent { account, region: text("awsRegion").unwrap_or_default(), fields: record };
    CHANGES
        .iter()
        .filter(|c| c.source == source && c.events.contains(&name))
        .flat_map(|c| (c.ids)(&event))
        .map(|id| (id, account.to_owned()))
        .collect()
}

struct Pending {
    account: String,
    first: Instant,
    due: Instant,
}

/// Counts of the rescan loop.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RescanStats {
    /// Change events seen.
    pub events: u64,
    /// Rescans run.
    pub rescans: u64,
    /// Rescans that failed (logged; the stored snapshot is kept).
    pub failed: u64,
    /// Resources not in the store (never scanned): skipped.
    pub unknown: u64,
}

/// Pending rescans, coalesced per resource.
pub struct RescanQueue {
    delay: Duration,
    pending: Mutex<HashMap<String, Pending>>,
    stats: Mutex<RescanStats>,
}

impl std::fmt::Debug for RescanQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RescanQueue").field("delay", &self.delay).finish_non_exhaustive()
    }
}

impl RescanQueue {
    /// A queue that rescans a resource `delay` after its latest change event (at most
    /// four delays after its first).
    pub fn new(delay: Duration) -> Self {
        Self { delay, pending: Mutex::default(), stats: Mutex::default() }
    }

    /// Takes note of an event: a CloudTrail record that changed known resource types.
    pub fn observe(&self, event: &Event) {
        if &*event.origin.log_type != "AWS.CloudTrail" {
            return;
        }
        let Fields::Object(record) = &event.fields else { return };
        self.observe_record(record);
    }

    /// As [`RescanQueue::observe`], for a bare CloudTrail record (an EventBridge
    /// event's `detail`).
    pub fn observe_record(&self, record: &Map<String, Value>) {
        let changed = changed_resources(record);
        if changed.is_empty() {
            return;
        }
        let now = Instant::now();
        let mut pending = self.lock();
        for (id, account) in changed {
            self.stats.lock().unwrap_or_else(|p| p.into_inner()).events += 1;
            let entry = pending.entry(id).or_insert(Pending { account, first: now, due: now });
            // Newest wins: wait for the latest change to settle, but not forever.
            entry.due = (now + self.delay).min(entry.first + self.delay * 4);
        }
    }

    /// The resources due now, removed from the queue, with their accounts.
    pub fn take_due(&self) -> Vec<(String, String)> {
        let now = Instant::now();
        let mut pending = self.lock();
        let due: Vec<String> =
            pending.iter().filter(|(_, p)| p.due <= now).map(|(id, _)| id.clone()).collect();
        due.into_iter().filter_map(|id| pending.remove(&id).map(|p| (id, p.account))).collect()
    }

    /// Pending resources.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The counts so far.
    pub fn stats(&self) -> RescanStats {
        *self.stats.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn count(&self, f: impl FnOnce(&mut RescanStats)) {
        f(&mut self.stats.lock().unwrap_or_else(|p| p.into_inner()));
    }
}

/// Rescans every due resource and re-evaluates `policies` on the fresh snapshots.
/// Failures are logged and counted; the stored snapshots stay as they were.
pub async fn run_due(ctx: &Arc<Context>, queue: &RescanQueue, policies: Option<&PolicySource>) {
    let due = queue.take_due();
    if due.is_empty() {
        return;
    }
    let store = match ctx.store().await {
        Ok(store) => store.clone(),
        Err(err) => {
            warn!(error = %caracal_core::error::chain(&err), "Rescans skipped: no store.");
            queue.count(|s| s.failed += due.len() as u64);
            return;
        }
    };
    let mut fresh = Vec::new();
    for (id, account) in due {
        match store.resources().get_stored(&id).await {
            Ok(Some(_)) => {}
            Ok(None) => {
                debug!(resource = %id, "Changed resource was never scanned; skipped.");
                queue.count(|s| s.unknown += 1);
                continue;
            }
            Err(err) => {
                warn!(resource = %id, error = %caracal_core::error::chain(&err), "Rescan skipped.");
                queue.count(|s| s.failed += 1);
                continue;
            }
        }
        let result = async {
            let aws = ctx.aws().await?;
            let home = aws
                .session(None, Purpose::Scan)
                .await
                .map_err(crate::Error::aws("opening a session"))?;
            let session = match home.account_id() == account || account.is_empty() {
                true => home,
                false => ctx
                    .sessions(std::slice::from_ref(&account))
                    .await?
                    .into_iter()
                    .next()
                    .ok_or_else(|| {
                        crate::Error::Invalid(format!("account {account} is not configured"))
                    })?,
            };
            caracal_scan::rescan_resource(&session, store.as_ref(), &id)
                .await
                .map_err(crate::Error::from)
        }
        .await;
        queue.count(|s| s.rescans += 1);
        match result {
            Ok(Some(_)) => {
                info!(resource = %id, "Rescanned after a change event.");
                fresh.push(id);
            }
            Ok(None) => info!(resource = %id, "Changed resource is gone; marked deleted."),
            Err(err) => {
                warn!(resource = %id, error = %caracal_core::error::chain(&err), "Rescan failed; the stored snapshot is kept.");
                queue.count(|s| s.failed += 1);
            }
        }
    }
    if let (Some(policies), false) = (policies, fresh.is_empty())
        && let Err(err) = posture::evaluate_ids(ctx, &fresh, policies).await
    {
        warn!(error = %caracal_core::error::chain(&err), "Re-evaluating rescanned resources failed.");
    }
}

/// Runs [`run_due`] every `tick` until `shutdown` resolves, then once more for what is
/// already due.
pub async fn run(
    ctx: Arc<Context>,
    queue: Arc<RescanQueue>,
    policies: Option<PolicySource>,
    tick: Duration,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = tokio::time::sleep(tick) => run_due(&ctx, &queue, policies.as_ref()).await,
            () = &mut shutdown => break,
        }
    }
    run_due(&ctx, &queue, policies.as_ref()).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn write_events_name_their_resources_and_reads_or_failures_do_not() {
        let sg = record(
            json!({"eventSource": "ec2.amazonaws.com", "eventName": "AuthorizeSecurityGroupIngress",
            "awsRegion": "us-east-1", "recipientAccountId": "123456789012",
            "requestParameters": {"groupId": "sg-1"}}),
        );
        assert_eq!(
            changed_resources(&sg),
            vec![(
                "arn:aws:ec2:us-east-1:123456789012:security-group/sg-1".into(),
                "123456789012".into()
            )]
        );
        let mut failed = sg.clone();
        failed.insert("errorCode".into(), json!("UnauthorizedOperation"));
        assert!(changed_resources(&failed).is_empty());
        let read =
            record(json!({"eventSource": "s3.amazonaws.com", "eventName": "GetBucketPolicy",
            "requestParameters": {"bucketName": "b"}}));
        assert!(changed_resources(&read).is_empty());
        let stop = record(json!({"eventSource": "ec2.amazonaws.com", "eventName": "StopInstances",
            "awsRegion": "eu-west-1", "recipientAccountId": "1",
            "requestParameters": {"instancesSet": {"items": [{"instanceId": "i-1"}, {"instanceId": "i-2"}]}}}));
        assert_eq!(changed_resources(&stop).len(), 2);
    }

    #[test]
    fn events_for_one_resource_coalesce_into_one_rescan() {
        let queue = RescanQueue::new(Duration::ZERO);
        let sg = record(
            json!({"eventSource": "ec2.amazonaws.com", "eventName": "RevokeSecurityGroupIngress",
            "awsRegion": "us-east-1", "recipientAccountId": "1", "requestParameters": {"groupId": "sg-1"}}),
        );
        for _ in 0..10 {
            queue.observe_record(&sg);
        }
        assert_eq!(queue.len(), 1);
        assert_eq!(queue.take_due().len(), 1);
        assert!(queue.is_empty());
        assert_eq!(queue.stats().events, 10);
    }
}
