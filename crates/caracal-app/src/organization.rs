//! Scan sessions for `[organization]`: the member accounts it selects (see
//! [`caracal_aws::organization::discover`]), each opened by assuming the named role, at
//! most `concurrency` at once. An account that cannot be opened (its role is missing, the
//! trust policy refuses, access is denied) becomes a [`ScanError`] for that account and
//! the others are scanned; since it is not scanned, none of its stored resources is
//! marked deleted.

use caracal_aws::organization::{MemberAccount, discover};
use caracal_aws::{Purpose, Session};
use caracal_core::ScanError;
use caracal_core::config::OrganizationConfig;
use caracal_core::resource::GLOBAL_REGION;
use futures::StreamExt;
use tracing::{info, warn};

use crate::context::Context;
use crate::error::{Error, Result};

/// The sessions of the organization's selected accounts (only those in `only` when it is
/// not empty), and an error for each account that could not be opened.
pub async fn sessions(
    ctx: &Context,
    org: &OrganizationConfig,
    only: &[String],
) -> Result<(Vec<Session>, Vec<ScanError>)> {
    let aws = ctx.aws().await?;
    let home = aws
        .session(None, Purpose::Scan)
        .await
        .map_err(Error::aws("resolving the organization's management account"))?;
    let members = discover(&home.home().organizations(), org)
        .await
        .map_err(Error::aws("discovering the organization's accounts"))?;
    for id in only {
        if !members.iter().any(|m| &m.id == id) {
            return Err(Error::Invalid(format!(
                "account {id} is not among the organization's selected accounts"
            )));
        }
    }
    let members: Vec<MemberAccount> =
        members.into_iter().filter(|m| only.is_empty() || only.contains(&m.id)).collect();
    info!(accounts = members.len(), "Discovered the organization's accounts.");
    let opened: Vec<(MemberAccount, std::result::Result<Session, caracal_aws::Error>)> =
        futures::stream::iter(members)
            .map(|m| async move {
                let session = aws.session(Some(&m.config), Purpose::Scan).await;
                (m, session)
            })
            .buffered(org.concurrency.max(1))
            .collect()
            .await;
    let mut sessions = Vec::new();
    let mut errors = Vec::new();
    for (m, session) in opened {
        match session {
            Ok(s) => sessions.push(s),
            Err(e) => {
                warn!(account = %m.id, name = %m.name, error = %e, "Skipping an account that cannot be reached.");
                errors.push(ScanError {
                    account_id: m.id,
                    region: GLOBAL_REGION.to_owned(),
                    resource_type: "*".to_owned(),
                    operation: "sts:AssumeRole".to_owned(),
                    message: e.to_string(),
                });
            }
        }
    }
    Ok((sessions, errors))
}
