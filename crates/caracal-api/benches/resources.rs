//! `GET /v1/resources` (pages of 100 over a SQLite store of 5,000 resources, token
//! checked, filtered, serialized) against the same router answering the same page as a
//! static body: requests/s and p99 latency on 127.0.0.1 with a bounded load generator
//! (16 connections), both in the same run, alternated, best round kept.
//!
//! Run: `cargo bench -p caracal-api --bench resources`. Prints one `ratio` line; the
//! issue's target is >= 0.3x of the static ceiling.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::get;
use caracal_api::{ApiOptions, ApiState, HttpOptions, Metrics};
use caracal_app::Context;
use caracal_app::tokens::{self, Scope};
use caracal_core::config::{StoreBackend, StoreConfig};
use caracal_core::{Config, Resource};

const RESOURCES: usize = 5_000;
const CONNECTIONS: usize = 16;
const ROUND: Duration = Duration::from_secs(4);
const ROUNDS: usize = 3;

struct Round {
    per_second: f64,
    p99: Duration,
}

async fn load(url: String, token: String) -> Round {
    let client = reqwest::Client::new();
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..CONNECTIONS {
        let (client, url, token) = (client.clone(), url.clone(), token.clone());
        workers.push(tokio::spawn(async move {
            let _ = w;
            let mut latencies = Vec::new();
            while started.elapsed() < ROUND {
                let t = Instant::now();
                let resp = client.get(&url).bearer_auth(&token).send().await.expect("request");
                let status = resp.status();
                if !status.is_success() {
                    panic!("{status}: {}", resp.text().await.unwrap_or_default());
                }
                let body = resp.bytes().await.expect("body");
                assert!(body.len() > 1000);
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.expect("worker"));
    }
    let seconds = started.elapsed().as_secs_f64();
    all.sort();
    let p99 = all[(all.len() * 99 / 100).min(all.len() - 1)];
    Round { per_second: all.len() as f64 / seconds, p99 }
}

fn main() {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(run());
}

async fn run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = StoreConfig { backend: StoreBackend::Sqlite, ..Default::default() };
    store.sqlite.path = dir.path().join("bench.db");
    let ctx = Arc::new(Context::from_config(Config { store, ..Config::default() }));
    let opened = ctx.store().await.expect("store");
    let resources: Vec<Resource> = (0..RESOURCES)
        .map(|i| {
            Resource::new(format!("arn:aws:s3:::bench-{i:05}"), "AWS.S3.Bucket", "123456789012", "us-east-1")
                .with("Versioning", serde_json::json!({"Status": "Enabled"}))
                .with("Grants", serde_json::json!([{"Grantee": {"Type": "CanonicalUser", "ID": "abc"}, "Permission": "FULL_CONTROL"}]))
        })
        .collect();
    opened.resources().put_batch(&resources, chrono::Utc::now()).await.expect("seed");
    let token = tokens::create(&ctx, "bench", &[Scope::Read]).await.expect("token").token;

    let state = ApiState::new(ctx.clone(), ApiOptions::default(), Arc::new(Metrics::default()));
    let router = caracal_api::router(state.clone(), &HttpOptions::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    // The static page: the first page's exact bytes, so both answers are the same size.
    let page = {
        let server =
            tokio::spawn(caracal_api::serve(listener, router.clone(), std::future::pending()));
        let body = reqwest::Client::new()
            .get(format!("{base}/v1/resources?limit=100"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("first page")
            .text()
            .await
            .expect("body");
        server.abort();
        body
    };
    let static_page: &'static str = Box::leak(page.into_boxed_str());
    let router = router.route(
        "/bench/static",
        get(move || async move { ([("content-type", "application/json")], static_page) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(caracal_api::serve(listener, router, std::future::pending()));

    let (mut api, mut ceiling) = (None::<Round>, None::<Round>);
    for _ in 0..ROUNDS {
        let r =
            load(format!("{base}/v1/resources?type=AWS.S3.Bucket&limit=100"), token.clone()).await;
        if api.as_ref().is_none_or(|b| r.per_second > b.per_second) {
            api = Some(r);
        }
        let r = load(format!("{base}/bench/static"), token.clone()).await;
        if ceiling.as_ref().is_none_or(|b| r.per_second > b.per_second) {
            ceiling = Some(r);
        }
    }
    let (api, ceiling) = (api.expect("rounds"), ceiling.expect("rounds"));
    println!(
        "GET /v1/resources (100 of {RESOURCES}): {:.0} req/s, p99 {:.1} ms",
        api.per_second,
        api.p99.as_secs_f64() * 1e3
    );
    println!(
        "static page, same router:        {:.0} req/s, p99 {:.1} ms",
        ceiling.per_second,
        ceiling.p99.as_secs_f64() * 1e3
    );
    println!(
        "ratio {:.2}x of the static ceiling (target >= 0.3x)",
        api.per_second / ceiling.per_second
    );
}
