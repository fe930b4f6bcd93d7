//! `caracal demo`: the whole system against a seeded, emulated account.
//!
//! Starts the AWS emulator on 127.0.0.1, seeds a deliberately misconfigured account,
//! scans it into a SQLite store, evaluates the bundled policies and prints the findings;
//! then parses real public CloudTrail samples (attack detonations among them) and runs
//! the bundled rules on them. Needs no AWS credentials and sends no traffic beyond
//! loopback.

use std::path::PathBuf;
use std::process::ExitCode;

use std::sync::Arc;

use anyhow::Context as _;
use caracal_app::{Context, LogOptions, LogPipeline, PolicySource, ScanScope, logs, posture};
use caracal_aws::Purpose;
use caracal_core::Config;
use caracal_core::config::{StoreBackend, StoreConfig};
use caracal_detect::RuleSource;
use caracal_testkit::{Emulator, Manifest, seed};

use super::Global;

/// Run caracal end to end against a seeded, emulated AWS account
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Units of misconfigured resources to seed (about 27 resources each)
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=250))]
    scale: u32,

    /// SQLite file for the demo's state (default: a temporary file, removed afterwards)
    #[arg(long, value_name = "FILE")]
    db: Option<PathBuf>,

    /// Policy pack folder to evaluate (repeatable; default: the bundled policies/)
    #[arg(long = "policies", value_name = "DIR")]
    policies: Vec<PathBuf>,

    /// Rule pack folder to run on the demo logs (default: the bundled rules/)
    #[arg(long = "rules", value_name = "DIR")]
    rules: Option<PathBuf>,

    /// Log files or folder for the detection stage (default: bundled CloudTrail samples)
    #[arg(long = "logs", value_name = "PATH")]
    logs: Option<PathBuf>,

    /// Keep the emulator running after the demo, until Ctrl-C
    #[arg(long)]
    keep: bool,

    /// After the demo, serve the API on the demo's store and emulator until Ctrl-C,
    /// printing a read token and a remediate token
    #[arg(long)]
    serve: bool,

    /// Where `--serve` listens
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: std::net::SocketAddr,
}

pub async fn run(args: Args, _global: &Global) -> anyhow::Result<ExitCode> {
    eprintln!("demo: starting the AWS emulator on 127.0.0.1 ...");
    let emulator = Emulator::start()?;
    let aws = emulator.aws().await?;
    let session = aws.session(None, Purpose::Scan).await?;
    eprintln!("demo: seeding a misconfigured account (scale {}) ...", args.scale);
    let manifest = seed::seed(&session, args.scale).await?;
    print_manifest(&manifest);

    let tmp = tempfile::tempdir()?;
    let db = args.db.clone().unwrap_or_else(|| tmp.path().join("caracal-demo.db"));
    let mut store_config = StoreConfig { backend: StoreBackend::Sqlite, ..Default::default() };
    store_config.sqlite.path = db.clone();
    let mut config = Config { store: store_config, ..Config::default() };
    config.scan.concurrency = 8;
    let store = caracal_store::open(&config.store, None)
        .await
        .with_context(|| format!("opening the demo store {}", db.display()))?;
    let ctx = Arc::new(Context::from_parts(config, aws, store.clone()));

    // The same path as `caracal scan`: scan the account, evaluate, store the verdicts.
    eprintln!("demo: scanning and evaluating policies ...");
    let policies = if args.policies.is_empty() { vec![bundled("policies")] } else { args.policies };
    let source = PolicySource { paths: policies, ..PolicySource::default() };
    let result =
        posture::scan_and_evaluate(&ctx, &ScanScope::default(), Some(&source), &()).await?;
    let outcome = &result.outcome;
    let totals = outcome.report.totals();
    println!(
        "\nScanned {} resources of {} types in {:.1} s with {} AWS requests ({} errors).",
        totals.seen,
        outcome.report.types.len(),
        outcome.report.duration_ms as f64 / 1000.0,
        outcome.report.requests,
        outcome.report.errors.len()
    );
    for err in &outcome.report.errors {
        println!(
            "  scan error: {} {} {}: {}",
            err.resource_type, err.region, err.operation, err.message
        );
    }
    if let Some(evaluation) = &result.evaluation {
        crate::posture::print_invalid(evaluation);
        println!();
        crate::posture::print_findings(&mut std::io::stdout().lock(), evaluation)?;
    }

    eprintln!("demo: parsing log samples and running detection rules ...");
    let logs =
        args.logs.unwrap_or_else(|| bundled("crates/caracal-logs/tests/data/AWS.CloudTrail"));
    let rules = args.rules.unwrap_or_else(|| bundled("rules"));
    // The same path as `caracal logs process`: parse, normalize, run the rules, open
    // alerts in the demo store.
    let lake = tmp.path().join("lake");
    let pipeline = LogPipeline::new(LogOptions {
        source_id: "demo".into(),
        rules: Some(RuleSource { paths: vec![rules.clone()], ..RuleSource::default() }),
        lake: Some(lake.display().to_string()),
        ..LogOptions::default()
    })?;
    let mut outputs = pipeline.open(&ctx).await?;
    let paths = [logs.display().to_string()];
    let report = logs::process_paths(&ctx, &pipeline, &paths, &mut outputs, tmp.path()).await?;
    println!(
        "\n{} log records: {} events, {} unparsed",
        report.records, report.events, report.errors
    );
    super::logs::print_alerts(&ctx, &outputs).await?;

    if args.db.is_some() {
        println!("\nState kept in {}.", db.display());
    }

    if args.serve {
        let options = caracal_api::ApiOptions {
            policies: Some(source),
            rules: vec![rules],
            lake: Some(lake),
            scan_queue: None,
            search: None,
        };
        serve(ctx, options, args.listen).await?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.keep {
        eprintln!("demo: emulator at {} (Ctrl-C to stop)", emulator.endpoint());
        tokio::signal::ctrl_c().await?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Serves the API on the demo's state until Ctrl-C, with a read and a remediate token.
async fn serve(
    ctx: Arc<Context>,
    options: caracal_api::ApiOptions,
    listen: std::net::SocketAddr,
) -> anyhow::Result<()> {
    use caracal_app::tokens::{self, Scope};
    let read = tokens::create(&ctx, "demo-read", &[Scope::Read]).await?;
    let fix = tokens::create(&ctx, "demo-remediate", &[Scope::Remediate]).await?;
    let metrics = Arc::new(caracal_api::Metrics::default());
    let state = caracal_api::ApiState::new(ctx, options, metrics);
    let router = caracal_api::router(state, &caracal_api::HttpOptions::default());
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    let base = format!("http://{}", listener.local_addr()?);
    println!("\nAPI on {base} (OpenAPI: {base}/openapi.json); Ctrl-C stops.");
    println!("  read token:      {}", read.token);
    println!("  remediate token: {}", fix.token);
    println!("Try:");
    println!("  curl -s -H 'Authorization: Bearer {}' '{base}/v1/compliance'", read.token);
    println!(
        "  curl -s -H 'Authorization: Bearer {}' '{base}/v1/resources?type=AWS.EC2.SecurityGroup&compliance=fail'",
        read.token
    );
    caracal_api::serve(listener, router, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}

/// A folder of the repository: relative to the current directory when it exists there,
/// else in the checkout this binary was built from.
fn bundled(path: &str) -> PathBuf {
    let local = PathBuf::from(path);
    if local.exists() {
        return local;
    }
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join(path)
}

fn print_manifest(m: &Manifest) {
    println!(
        "Seeded account {} in {} with {} resources in {:.1} s:",
        m.account_id,
        m.region,
        m.resource_count(),
        m.seconds
    );
    let public = m.buckets.iter().filter(|b| b.public_acl || b.public_policy).count();
    let open = m.security_groups.iter().filter(|g| !g.open_ports.is_empty()).count();
    let nomfa = m.users.iter().filter(|u| u.console_password && !u.mfa).count();
    println!(
        "  {} buckets ({public} public), {} security groups ({open} open to the world)",
        m.buckets.len(),
        m.security_groups.len()
    );
    println!(
        "  {} IAM users ({nomfa} with a console password and no MFA), {} roles",
        m.users.len(),
        m.roles.len()
    );
    println!(
        "  {} KMS keys, {} volumes, {} instances, {} tables, {} trail(s), no password policy",
        m.kms_keys.len(),
        m.volumes.len(),
        m.instances.len(),
        m.tables.len(),
        m.trails.len()
    );
}
