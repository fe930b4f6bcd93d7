//! The API against its own OpenAPI document: schemathesis (from the project's venv)
//! generates requests for every operation on a served, scanned demo store and checks
//! that none answers 5xx and every answer matches the schema. Uses a read token, so the
//! write operations exercise their 403 answers and the account stays as seeded.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use caracal_api::{ApiOptions, ApiState, HttpOptions, Metrics};
use caracal_app::tokens::{self, Scope};
use caracal_app::{Context, PolicySource, ScanScope, posture};
use caracal_aws::Purpose;
use caracal_core::Config;
use caracal_core::config::{StoreBackend, StoreConfig};
use caracal_testkit::{Emulator, seed};

fn repo(path: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join(path)
}

fn schemathesis() -> PathBuf {
    let venv = std::env::var_os("CARACAL_VENV").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/caracal/venv")
    });
    venv.join("bin/schemathesis")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_answers_within_its_schema_and_never_5xx() {
    let tool = schemathesis();
    assert!(tool.exists(), "{} is missing: run scripts/setup", tool.display());
    let emulator = Emulator::start().expect("emulator starts (run scripts/setup first)");
    let dir = tempfile::tempdir().expect("tempdir");
    let aws = emulator.aws().await.expect("aws");
    let mut store = StoreConfig { backend: StoreBackend::Sqlite, ..Default::default() };
    store.sqlite.path = dir.path().join("caracal.db");
    let config = Config { aws: emulator.aws_config(), store, ..Config::default() };
    let opened = caracal_store::open(&config.store, None).await.expect("store");
    opened.create_tables().await.expect("tables");
    let ctx = Arc::new(Context::from_parts(config, aws, opened));
    let session = ctx.aws().await.unwrap().session(None, Purpose::Scan).await.expect("session");
    seed::seed(&session, 1).await.expect("seed");
    let policies = PolicySource { paths: vec![repo("policies")], ..Default::default() };
    posture::scan_and_evaluate(&ctx, &ScanScope::default(), Some(&policies), &())
        .await
        .expect("scan");
    let read = tokens::create(&ctx, "contract", &[Scope::Read]).await.expect("token");

    let options = ApiOptions {
        policies: Some(policies),
        rules: vec![repo("rules")],
        lake: Some(dir.path().join("lake")),
    };
    let state = ApiState::new(ctx.clone(), options, Arc::new(Metrics::default()));
    let router = caracal_api::router(state, &HttpOptions::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(caracal_api::serve(listener, router, async {
        let _ = stopped.await;
    }));

    let report = dir.path().join("report");
    let args = [
        "run".to_owned(),
        format!("{base}/openapi.json"),
        "--checks".into(),
        "not_a_server_error,response_schema_conformance,status_code_conformance".into(),
        "--max-examples".into(),
        "15".into(),
        "--header".into(),
        format!("Authorization: Bearer {}", read.token),
        "--report-dir".into(),
        report.display().to_string(),
        "--no-color".into(),
    ];
    let out = tokio::task::spawn_blocking(move || {
        Command::new(tool).args(&args).env("SCHEMATHESIS_HOOKS", "").output()
    })
    .await
    .unwrap()
    .expect("schemathesis runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "schemathesis found problems:\n{stdout}\n{stderr}");
    assert!(stdout.contains("/v1/resources"), "it tested the API:\n{stdout}");

    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
