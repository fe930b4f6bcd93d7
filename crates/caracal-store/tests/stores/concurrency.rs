//! Two handles on one SQLite file, as two `caracal` processes would hold: both write.

use std::sync::Arc;

use caracal_core::Resource;
use caracal_store::{KvStore, ResourceStore, SqliteStore};
use chrono::{TimeZone, Utc};

fn batch(writer: usize, round: usize) -> Vec<Resource> {
    // Both writers touch the same ids, so every batch reads rows the other one writes.
    (0..200)
        .map(|i| {
            Resource::new(
                format!("arn:aws:s3:::shared-{i:03}"),
                "AWS.S3.Bucket",
                "123456789012",
                "us-east-1",
            )
            .with("Writer", writer as u64)
            .with("Round", round as u64)
        })
        .collect()
}

// #11.6: a write transaction that starts deferred reads first and then fails at once with
// "database is locked" when it cannot upgrade; immediate transactions wait for the lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_handles_on_one_file_both_write_every_batch() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("caracal.db");
    let first = Arc::new(SqliteStore::open(&path).await.unwrap());
    let second = Arc::new(SqliteStore::open(&path).await.unwrap());
    let base = Utc.timestamp_opt(1_704_067_200, 0).single().unwrap_or_default();
    let rounds = 40;
    let mut writers = Vec::new();
    for (n, store) in [first, second].into_iter().enumerate() {
        writers.push(tokio::spawn(async move {
            for round in 0..rounds {
                let at = base + chrono::Duration::milliseconds((round * 2 + n) as i64);
                store.put_batch(&batch(n, round), at).await?;
                store.incr(&format!("writes-{n}"), 1, None).await?;
            }
            Ok::<_, caracal_store::Error>(())
        }));
    }
    for w in writers {
        w.await.unwrap().unwrap();
    }
    let check = SqliteStore::open(&path).await.unwrap();
    assert_eq!(check.counter("writes-0").await.unwrap(), rounds as i64);
    assert_eq!(check.counter("writes-1").await.unwrap(), rounds as i64);
}
