//! The store tests. The conformance suite: every case in `conformance.rs` runs against SQLite (a
//! temporary file) and against DynamoDB (tables in a fresh emulator), each case on a
//! fresh, empty store. A new backend adds a constructor here and a line in `conformance!`.

mod bad_input;
mod concurrency;
#[macro_use]
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

with_every_case!(conformance);
