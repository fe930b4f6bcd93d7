//! The serverless backend: DynamoDB tables named `<prefix>-<table>`.
//!
//! Every table is on-demand (`PAY_PER_REQUEST`); every key attribute is a string (S).
//!
//! | table | key (hash, range) | attributes | indexes (hash, range; projection ALL) |
//! | --- | --- | --- | --- |
//! | `<prefix>-resources` | `resource_id` | `resource_type`, `account_id`, `region`, `scope` (`account/region/type`), `snapshot` (Resource JSON), `content_hash`, `first_seen`, `last_seen`, `last_change_at`, `last_change_kind`, `deleted_at` (absent while live) | `by-type` (`resource_type`, `resource_id`), `by-account` (`account_id`, `resource_id`), `by-scope` (`scope`, `resource_id`) |
//! | `<prefix>-history` | `resource_id`, `change` (`observed_at#kind`) | `observed_at`, `kind`, `snapshot` | |
//! | `<prefix>-compliance` | `resource_id`, `policy_id` | `resource_type`, `account_id`, `region`, `severity`, `status`, `message`, `suppressed` (BOOL), `evaluated_at`, `first_seen` | `by-policy` (`policy_id`, `resource_id`) |
//! | `<prefix>-transitions` | `resource_id`, `change` (`at#policy_id`) | `policy_id`, `at_resource` (`at#resource_id`), `kind` (always `transition`), `at_key` (`at#resource_id#policy_id`), `body` (Transition JSON) | `by-policy` (`policy_id`, `at_resource`), `by-time` (`kind`, `at_key`) |
//! | `<prefix>-alerts` | `id` | `kind` (always `alert`), `last_seen_id` (`last_seen#id`), `body` (Alert JSON) | `by-last-seen` (`kind`, `last_seen_id`) |
//! | `<prefix>-alert-windows` | `rule_id`, `dedup_key` (`#` + dedup string, never empty) | `alert_id`, `window_start`, `event_count` (N) | |
//! | `<prefix>-audit` | `id` | `kind` (always `audit`), `at_id` (`at#id`), `resource_id`, `remediation_id`, `body` (AuditRecord JSON) | `by-resource` (`resource_id`, `at_id`), `by-remediation` (`remediation_id`, `at_id`), `by-time` (`kind`, `at_id`) |
//! | `<prefix>-kv` | `key` | `value` (S), `counter` (N), `members` (SS), `expires_at` (N, epoch seconds, the table's TTL attribute) | |
//!
//! Times are RFC 3339 UTC with nine fraction digits, so string order is time order.
//!
//! Behaviour worth knowing:
//! - Batches go through `BatchWriteItem` (25 per call) and `BatchGetItem` (100 per
//!   call); unprocessed items and keys are retried with backoff.
//! - Resource items are written one conditional `PutItem` / `UpdateItem` each (16 in
//!   flight), so a write never moves a resource back in time (#11.5): the condition
//!   compares `last_seen` / `deleted_at` with the observation time, and a failed condition
//!   means a newer state is already stored (not an error). History items follow the
//!   accepted writes; a batch that fails half-way is retried without duplicate history
//!   (history keys are `observed_at#kind`, and a retry re-derives the same change).
//! - Page tokens are the `LastEvaluatedKey` (or the key of the last item returned)
//!   hex-encoded. Listing a resource type, an account or a full scope queries an index
//!   and returns ids in order; other filters scan the table (stable, not sorted).
//! - Index reads are eventually consistent: `ids_in_scope` may miss a resource written
//!   an instant earlier, which can only delay a deletion, never invent one.
//! - DynamoDB deletes expired kv items lazily (within days), so every read checks
//!   `expires_at` itself.
//! - The compliance overviews scan the compliance table and count in memory.
//! - Alert listing and the audit log's time index use one constant partition (`kind`),
//!   fine for their volume (alerts and remediations, not events).
//!
//! Code: `store.rs` (the handle, error mapping, [`Store`](crate::Store)), `tables.rs`
//! (names, creation), `batch.rs` (paging, batch calls, conditional writes), `item.rs`
//! (attribute helpers), and one module per concern (`resources.rs`, `compliance.rs`,
//! `alerts.rs`, `audit.rs`, `kv.rs`).

mod alerts;
mod audit;
mod batch;
mod compliance;
mod item;
mod kv;
mod resources;
mod store;
mod tables;

pub(crate) use self::item::{Item, get_n, get_s, key, n, s};
pub use self::store::DynamoStore;
