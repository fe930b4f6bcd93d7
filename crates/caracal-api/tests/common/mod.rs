//! What the API tests share: a scanned, seeded emulator account in a fresh SQLite file,
//! and a server on a free 127.0.0.1 port.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use caracal_api::{ApiOptions, ApiState, HttpOptions, Metrics};
use caracal_app::{Context, PolicySource, ScanScope, posture};
use caracal_aws::Purpose;
use caracal_core::Config;
use caracal_core::config::{StoreBackend, StoreConfig};
use caracal_testkit::{Emulator, Manifest, seed};

pub fn repo(path: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join(path)
}

/// Seeds the emulator's account, scans it into `dir/caracal.db` and evaluates the
/// bundled policies.
pub async fn scanned(emulator: &Emulator, dir: &Path) -> (Arc<Context>, Manifest, PolicySource) {
    let aws = emulator.aws().await.expect("aws");
    let mut store = StoreConfig { backend: StoreBackend::Sqlite, ..Default::default() };
    store.sqlite.path = dir.join("caracal.db");
    let config = Config { aws: emulator.aws_config(), store, ..Config::default() };
    let opened = caracal_store::open(&config.store, None).await.expect("store");
    opened.create_tables().await.expect("tables");
    let ctx = Arc::new(Context::from_parts(config, aws, opened));
    let session = ctx.aws().await.unwrap().session(None, Purpose::Scan).await.expect("session");
    let manifest = seed::seed(&session, 1).await.expect("seed");
    let policies = PolicySource { paths: vec![repo("policies")], ..Default::default() };
    posture::scan_and_evaluate(&ctx, &ScanScope::default(), Some(&policies), &())
        .await
        .expect("scan");
    (ctx, manifest, policies)
}

/// A running server: its base URL; dropping `stop` (or sending on it) stops it.
pub struct Server {
    pub base: String,
    pub stop: tokio::sync::oneshot::Sender<()>,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Stops the server and waits for it.
    pub async fn shut_down(self) {
        let _ = self.stop.send(());
        self.task.await.expect("server task").expect("server");
    }
}

/// Serves the API over `ctx` on a free loopback port.
pub async fn serve(ctx: Arc<Context>, options: ApiOptions) -> Server {
    let state = ApiState::new(ctx, options, Arc::new(Metrics::default()));
    let router = caracal_api::router(state, &HttpOptions::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(caracal_api::serve(listener, router, async {
        let _ = stopped.await;
    }));
    Server { base, stop, task }
}
