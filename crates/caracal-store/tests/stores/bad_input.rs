//! Bad input gives a one-line error naming what to fix, never a panic.

use caracal_core::Resource;
use caracal_core::config::{AwsConfig, StoreBackend, StoreConfig};
use caracal_store::Error;

const ACCOUNT: &str = "123456789012";

#[tokio::test]
async fn a_corrupt_sqlite_file_is_a_one_line_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("caracal.db");
    let noise: Vec<u8> =
        (0..8192u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    std::fs::write(&path, noise).unwrap();
    let mut config = StoreConfig::default();
    config.sqlite.path = path.clone();
    let err = caracal_store::open(&config, None).await.err().expect("a corrupt file must not open");
    assert!(matches!(err, Error::NotADatabase { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.starts_with(&format!("{}: not a caracal database", path.display())), "{msg}");
    assert!(!msg.contains('\n'), "one line: {msg}");
}

// #11.6: a damaged page inside a real database is refused on open, naming the file, instead
// of a scan writing into it and exiting 0.
#[tokio::test]
async fn a_sqlite_file_with_a_damaged_page_is_refused_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("caracal.db");
    let mut config = StoreConfig::default();
    config.sqlite.path = path.clone();
    let store = caracal_store::open(&config, None).await.unwrap();
    let resources: Vec<Resource> = (0..400)
        .map(|i| {
            Resource::new(
                format!("arn:aws:s3:::bucket-{i:04}"),
                "AWS.S3.Bucket",
                ACCOUNT,
                "us-east-1",
            )
            .with("Padding", "x".repeat(200))
        })
        .collect();
    store.resources().put_batch(&resources, chrono::Utc::now()).await.unwrap();
    // Closing the last connection checkpoints the WAL into the file.
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let page_size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap();
    let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
    drop(conn);
    assert!(pages > 10, "the table spans many pages: {pages}");
    let wal = std::fs::metadata(dir.path().join("caracal.db-wal"));
    assert!(wal.map_or(true, |m| m.len() == 0), "the WAL was checkpointed");

    // Page 2 is the root of the first table (resources); overwrite it with noise.
    let mut bytes = std::fs::read(&path).unwrap();
    let start = page_size as usize;
    for (i, b) in bytes[start..start + page_size as usize].iter_mut().enumerate() {
        *b = (i as u32).wrapping_mul(2_654_435_761).rotate_right(13) as u8;
    }
    std::fs::write(&path, bytes).unwrap();

    let err = caracal_store::open(&config, None).await.err().expect("a damaged file must not open");
    assert!(matches!(err, Error::Corrupt { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.starts_with(&format!("{}: database is corrupt", path.display())), "{msg}");
    assert!(!msg.contains('\n'), "one line: {msg}");
}

#[tokio::test]
async fn a_sqlite_file_keeps_its_data_across_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = StoreConfig::default();
    config.sqlite.path = dir.path().join("caracal.db");
    let store = caracal_store::open(&config, None).await.unwrap();
    store.kv().put("k", "v", None).await.unwrap();
    drop(store);
    let store = caracal_store::open(&config, None).await.unwrap();
    assert_eq!(store.kv().get("k").await.unwrap().as_deref(), Some("v"));
    assert!(store.describe().contains("caracal.db"), "{}", store.describe());
}

#[tokio::test]
async fn a_sqlite_file_from_a_newer_caracal_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("caracal.db");
    let mut config = StoreConfig::default();
    config.sqlite.path = path.clone();
    drop(caracal_store::open(&config, None).await.unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 999).unwrap();
    drop(conn);
    let err = caracal_store::open(&config, None).await.err().expect("newer schema must not open");
    assert!(matches!(err, Error::SchemaTooNew { found: 999, .. }), "{err:?}");
    assert!(err.to_string().contains("caracal.db"), "{err}");
}

#[tokio::test]
async fn dynamodb_without_a_client_is_a_clear_error() {
    let config = StoreConfig { backend: StoreBackend::Dynamodb, ..Default::default() };
    let err = caracal_store::open(&config, None).await.err().expect("no client, no store");
    assert!(matches!(err, Error::MissingDynamoClient), "{err:?}");
}

#[tokio::test]
async fn an_unreachable_dynamodb_endpoint_is_a_one_line_error_naming_it() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let settings = AwsConfig {
        regions: vec!["us-east-1".into()],
        endpoint_url: Some(endpoint.clone()),
        max_attempts: 1,
        connect_timeout_secs: 1,
        operation_timeout_secs: 5,
        ..Default::default()
    };
    let aws = caracal_aws::Aws::builder(&settings)
        .static_credentials("testing", "testing")
        .region("us-east-1")
        .build()
        .await
        .unwrap();
    let client = aws_sdk_dynamodb::Client::new(aws.sdk_config());
    let config = StoreConfig { backend: StoreBackend::Dynamodb, ..Default::default() };
    let store = caracal_store::open(&config, Some(client)).await.unwrap();

    let err = store.create_tables().await.unwrap_err();
    assert!(matches!(err, Error::DynamoUnreachable { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.starts_with(&format!("dynamodb endpoint {endpoint} is unreachable")), "{msg}");
    assert!(!msg.contains('\n'), "one line: {msg}");
    assert!(!msg.contains("DispatchFailure {"), "no debug dump: {msg}");

    let err = store.resources().get("arn:aws:s3:::b").await.unwrap_err();
    assert!(err.to_string().contains(&endpoint), "{err}");
}
