//! `caracal token create|list|revoke`: API tokens with scopes. The work is
//! `caracal_app::tokens`; the secret is printed once, at creation, and stored hashed.

use std::process::ExitCode;

use caracal_app::Context;
use caracal_app::tokens::{self, Scope};
use clap::{Args, Subcommand};

use super::Global;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a token and print it (once: only its hash is kept)
    Create(CreateArgs),
    /// List tokens (names, scopes, ids; never secrets)
    List {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by id
    Revoke {
        /// The token id (`token list`)
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Who holds it; the audit records this name
    #[arg(long)]
    name: String,
    /// A scope, repeatable: read, remediate (includes read), admin (includes both)
    #[arg(long = "scope", value_name = "SCOPE", required = true)]
    scopes: Vec<Scope>,
}

pub async fn run(cmd: Command, global: &Global) -> anyhow::Result<ExitCode> {
    let ctx = Context::from_config(global.load_config()?);
    match cmd {
        Command::Create(args) => {
            let token = tokens::create(&ctx, &args.name, &args.scopes).await?;
            let scopes: Vec<&str> = token.info.scopes.iter().map(|s| s.as_str()).collect();
            eprintln!(
                "Created token {} ({}) with scopes {}. It is shown once; keep it secret.",
                token.info.id,
                token.info.name,
                scopes.join(", ")
            );
            println!("{}", token.token);
        }
        Command::List { json } => {
            let list = tokens::list(&ctx).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                println!("{:<14} {:<24} {:<20} CREATED", "ID", "NAME", "SCOPES");
                for t in &list {
                    let scopes: Vec<&str> = t.scopes.iter().map(|s| s.as_str()).collect();
                    println!(
                        "{:<14} {:<24} {:<20} {}",
                        t.id,
                        t.name,
                        scopes.join(","),
                        t.created_at.format("%Y-%m-%d %H:%M:%S")
                    );
                }
            }
        }
        Command::Revoke { id } => {
            if !tokens::revoke(&ctx, &id).await? {
                anyhow::bail!("no token {id}");
            }
            eprintln!("Revoked token {id}.");
        }
    }
    Ok(ExitCode::SUCCESS)
}
