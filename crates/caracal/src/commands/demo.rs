//! `caracal demo`: the whole system against a seeded, emulated account.
//!
//! Starts the AWS emulator on 127.0.0.1, seeds a deliberately misconfigured account,
//! then runs every stage that exists against it. Needs no AWS credentials and sends no
//! traffic beyond loopback.

use std::path::PathBuf;
use std::process::ExitCode;

use caracal_aws::Purpose;
use caracal_testkit::{Emulator, Manifest, seed};

use super::Global;

/// Run caracal end to end against a seeded, emulated AWS account
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Units of misconfigured resources to seed (about 25 resources each)
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=250))]
    scale: u32,

    /// SQLite file for the demo's state (default: a temporary file, removed afterwards)
    #[arg(long, value_name = "FILE")]
    db: Option<PathBuf>,

    /// Keep the emulator running after the demo, until Ctrl-C
    #[arg(long)]
    keep: bool,
}

pub async fn run(args: Args, _global: &Global) -> anyhow::Result<ExitCode> {
    eprintln!("demo: starting the AWS emulator on 127.0.0.1 ...");
    let emulator = Emulator::start()?;
    let aws = emulator.aws().await?;
    let session = aws.session(None, Purpose::Scan).await?;
    eprintln!("demo: seeding a misconfigured account (scale {}) ...", args.scale);
    let manifest = seed::seed(&session, args.scale).await?;
    print_manifest(&manifest);

    let _ = args.db;
    if args.keep {
        eprintln!("demo: emulator at {} (Ctrl-C to stop)", emulator.endpoint());
        tokio::signal::ctrl_c().await?;
    }
    Ok(ExitCode::SUCCESS)
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
    println!("  {} buckets ({public} public), {} security groups ({open} open to the world)", m.buckets.len(), m.security_groups.len());
    println!("  {} IAM users ({nomfa} with a console password and no MFA), {} roles", m.users.len(), m.roles.len());
    println!("  {} KMS keys, {} volumes, {} instances, {} tables, {} trail(s), no password policy", m.kms_keys.len(), m.volumes.len(), m.instances.len(), m.tables.len(), m.trails.len());
}
