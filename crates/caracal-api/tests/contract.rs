//! The API against its own OpenAPI document: schemathesis (from the project's venv)
//! generates requests for every operation on a served, scanned demo store and checks
//! that none answers 5xx and every answer matches the schema. Uses a read token, so the
//! write operations exercise their 403 answers and the account stays as seeded.

mod common;

use std::path::PathBuf;
use std::process::Command;

use std::sync::Arc;

use caracal_api::ApiOptions;
use caracal_app::search::{LakeSearch, SearchError, SearchRequest, SearchResult};
use caracal_app::tokens::{self, Scope};
use caracal_testkit::Emulator;

use common::repo;

fn schemathesis() -> PathBuf {
    let venv = std::env::var_os("CARACAL_VENV").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/caracal/venv")
    });
    venv.join("bin/schemathesis")
}

/// A lake with no events: `/v1/search` answers (the real search over Parquet is the
/// binary's, tested in `crates/caracal/tests/scheduled.rs`).
#[derive(Debug)]
struct EmptyLake;

#[async_trait::async_trait]
impl LakeSearch for EmptyLake {
    async fn search(&self, request: &SearchRequest) -> Result<SearchResult, SearchError> {
        Ok(SearchResult { value: request.value.clone(), ..SearchResult::default() })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_answers_within_its_schema_and_never_5xx() {
    let tool = schemathesis();
    assert!(tool.exists(), "{} is missing: run scripts/setup", tool.display());
    let emulator = Emulator::start().expect("emulator starts (run scripts/setup first)");
    let dir = tempfile::tempdir().expect("tempdir");
    let (ctx, _, policies) = common::scanned(&emulator, dir.path()).await;
    let read = tokens::create(&ctx, "contract", &[Scope::Read]).await.expect("token");

    let options = ApiOptions {
        policies: Some(policies),
        rules: vec![repo("rules")],
        lake: Some(dir.path().join("lake")),
        search: Some(Arc::new(EmptyLake)),
        ..ApiOptions::default()
    };
    let server = common::serve(ctx.clone(), options).await;
    let base = server.base.clone();

    let report = dir.path().join("report");
    let work = dir.path().to_owned();
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
        // Its cache goes to the test's temporary folder, not the source tree.
        Command::new(tool).args(&args).current_dir(&work).env("SCHEMATHESIS_HOOKS", "").output()
    })
    .await
    .unwrap()
    .expect("schemathesis runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "schemathesis found problems:\n{stdout}\n{stderr}");
    assert!(stdout.contains("/v1/resources"), "it tested the API:\n{stdout}");

    server.shut_down().await;
}
