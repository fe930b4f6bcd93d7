//! `caracal alerts list|show|update|events|deliver`: the alerts rules opened, their lifecycle,
//! and their deliveries. The work is `caracal_app::alerts`.

use std::process::ExitCode;

use caracal_app::alerts::{self, AlertFilter};
use caracal_app::{Actor, Context};
use caracal_core::{Alert, AlertStatus, Severity};
use caracal_detect::{AlertUpdate, RetryPolicy};
use clap::{Args, Subcommand};

use super::Global;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List alerts, newest first
    List(ListArgs),
    /// Show one alert with its context, deliveries and history
    Show(ShowArgs),
    /// Change an alert's status or assignee
    Update(UpdateArgs),
    /// Print the events behind an alert, from the lake's match tables
    Events(EventsArgs),
    /// Try every pending delivery again
    Deliver,
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// The alert id
    id: String,
    /// The lake folder `caracal logs process --lake` wrote
    #[arg(long, value_name = "DIR")]
    lake: std::path::PathBuf,
    /// At most this many events
    #[arg(long, default_value_t = 1000)]
    limit: usize,
    /// Print one JSON document per line (default: a short line per event)
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this status (repeatable): open, triaged, closed, resolved
    #[arg(long = "status", value_name = "STATUS", help_heading = "FILTERS")]
    statuses: Vec<AlertStatus>,

    /// Only alerts of at least this severity
    #[arg(long, value_name = "SEVERITY", help_heading = "FILTERS")]
    severity: Option<Severity>,

    /// Only alerts of this rule
    #[arg(long, value_name = "RULE_ID", help_heading = "FILTERS")]
    rule: Option<String>,

    /// Only alerts with events at or after this time (RFC 3339)
    #[arg(long, value_name = "TIME", help_heading = "FILTERS")]
    since: Option<chrono::DateTime<chrono::Utc>>,

    /// At most this many
    #[arg(long, default_value_t = 50, help_heading = "OUTPUT")]
    limit: usize,

    /// Print JSON instead of a table
    #[arg(long, help_heading = "OUTPUT")]
    json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The alert id
    id: String,
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The alert id
    id: String,
    /// The new status: open, triaged, closed, resolved
    #[arg(long)]
    status: Option<AlertStatus>,
    /// The new assignee ("" clears it)
    #[arg(long)]
    assignee: Option<String>,
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

pub async fn run(cmd: Command, global: &Global) -> anyhow::Result<ExitCode> {
    let ctx = Context::from_config(global.load_config()?);
    match cmd {
        Command::List(args) => {
            let filter = AlertFilter {
                statuses: args.statuses,
                min_severity: args.severity,
                rule_id: args.rule,
                since: args.since,
                limit: args.limit,
            };
            let alerts = alerts::list(&ctx, &filter).await?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&alerts)?);
            } else {
                print_table(&alerts);
            }
        }
        Command::Show(args) => {
            let Some(alert) = alerts::get(&ctx, &args.id).await? else {
                anyhow::bail!("no alert {}", args.id);
            };
            if args.json {
                println!("{}", serde_json::to_string_pretty(&alert)?);
            } else {
                print_alert(&alert);
            }
        }
        Command::Update(args) => {
            if args.status.is_none() && args.assignee.is_none() {
                anyhow::bail!("nothing to change: give --status and/or --assignee");
            }
            let update = AlertUpdate { status: args.status, assignee: args.assignee };
            let actor = Actor::local_user().audit_name();
            let alert = alerts::update(&ctx, &args.id, &update, &actor).await?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&alert)?);
            } else {
                print_alert(&alert);
            }
        }
        Command::Events(args) => {
            let Some((alert, events)) =
                alerts::events(&ctx, &args.id, &args.lake, args.limit).await?
            else {
                anyhow::bail!("no alert {}", args.id);
            };
            for event in &events {
                if args.json {
                    println!("{event}");
                } else {
                    let field = |name: &str| event[name].as_str().unwrap_or("-").to_owned();
                    println!(
                        "{}  {}  {}  {}",
                        field("p_event_time"),
                        field("p_log_type"),
                        field("p_row_id"),
                        field("p_rule_error").replace('\n', " ")
                    );
                }
            }
            if !args.json {
                eprintln!(
                    "{} event(s) of alert {} ({} counted)",
                    events.len(),
                    alert.id,
                    alert.event_count
                );
            }
        }
        Command::Deliver => {
            let report = alerts::deliver(&ctx, &RetryPolicy::default()).await?;
            println!("{} delivered, {} still pending", report.delivered, report.pending.len());
            for pending in &report.pending {
                eprintln!("caracal: delivery pending: {pending}");
            }
            if !report.pending.is_empty() {
                return Ok(ExitCode::from(1));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_table(alerts: &[Alert]) {
    println!(
        "{:<32} {:<9} {:<9} {:>6} {:<20} {:<40} TITLE",
        "ID", "SEVERITY", "STATUS", "EVENTS", "LAST SEEN", "RULE"
    );
    for a in alerts {
        println!(
            "{:<32} {:<9} {:<9} {:>6} {:<20} {:<40} {}",
            a.id,
            a.severity.as_str(),
            a.status.as_str(),
            a.event_count,
            a.last_seen.format("%Y-%m-%d %H:%M:%S"),
            a.rule_id,
            a.title
        );
    }
}

fn print_alert(a: &Alert) {
    println!("{} [{}] {}", a.id, a.severity, a.title);
    println!("  rule {} ({}), status {}", a.rule_id, a.kind.as_str(), a.status);
    if let Some(assignee) = &a.assignee {
        println!("  assignee {assignee}");
    }
    println!(
        "  {} events from {} to {}, log types {}",
        a.event_count,
        a.first_seen.to_rfc3339(),
        a.last_seen.to_rfc3339(),
        a.log_types.join(", ")
    );
    println!("  dedup {}", a.dedup);
    for (label, text) in
        [("description", &a.description), ("reference", &a.reference), ("runbook", &a.runbook)]
    {
        if let Some(text) = text {
            println!("  {label}: {text}");
        }
    }
    if !a.context.is_null() {
        println!("  context {}", a.context);
    }
    for d in &a.deliveries {
        let status = match d.status {
            caracal_core::DeliveryStatus::Delivered => "delivered",
            caracal_core::DeliveryStatus::Pending => "pending",
        };
        let error = d.last_error.as_deref().map(|e| format!(": {e}")).unwrap_or_default();
        println!("  delivery {} {status} after {} attempt(s){error}", d.destination, d.attempts);
    }
    for change in &a.history {
        println!(
            "  {} {} changed {} from {} to {}",
            change.at.format("%Y-%m-%d %H:%M:%S"),
            change.actor,
            change.field,
            change.from.as_deref().unwrap_or("-"),
            change.to.as_deref().unwrap_or("-")
        );
    }
}
