//! The store tests. The conformance suite: every case in `conformance.rs` runs against SQLite (a
//! temporary file) and against DynamoDB (tables in a fresh emulator), each case on a
//! fresh, empty store. A new backend adds a constructor here and a line in `conformance!`.

mod bad_input;
mod concurrency;
mod conformance;

use std::sync::Arc;

use caracal_core::config::{StoreBackend, StoreConfig};
use caracal_store::Store;
use caracal_testkit::Emulator;

/// A fresh store and what keeps it alive (its temporary folder, its emulator).
struct Backend {
    store: Arc<dyn Store>,
    _keep: Box<dyn std::any::Any>,
}

async fn sqlite() -> Backend {
    let dir = tempfile::tempdir().unwrap();
    let mut config = StoreConfig::default();
    config.sqlite.path = dir.path().join("caracal.db");
    let store = caracal_store::open(&config, None).await.unwrap();
    store.create_tables().await.unwrap();
    Backend { store, _keep: Box::new(dir) }
}

async fn dynamodb() -> Backend {
    // Started on the test's own thread: the emulator dies with the thread that spawned it.
    let emulator = Emulator::start().unwrap();
    let aws = emulator.aws().await.unwrap();
    let client = aws_sdk_dynamodb::Client::new(aws.sdk_config());
    let mut config = StoreConfig { backend: StoreBackend::Dynamodb, ..Default::default() };
    config.dynamodb.table_prefix = "conformance".into();
    let store = caracal_store::open(&config, Some(client)).await.unwrap();
    store.create_tables().await.unwrap();
    Backend { store, _keep: Box::new(emulator) }
}

/// One module of tests for one backend, a test per case.
macro_rules! backend_tests {
    ($backend:ident: $($case:ident),+) => {
        mod $backend {
            $(
                #[tokio::test]
                async fn $case() {
                    let backend = super::$backend().await;
                    super::conformance::$case(backend.store.as_ref()).await;
                }
            )+
        }
    };
}

/// Every case against every backend.
macro_rules! conformance {
    ($($case:ident),+ $(,)?) => {
        backend_tests!(sqlite: $($case),+);
        backend_tests!(dynamodb: $($case),+);
    };
}

conformance!(
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
