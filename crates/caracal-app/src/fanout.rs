//! Scan fan-out for the serverless shape: a schedule splits one scan of every configured
//! account and region into [`ScanTarget`]s (one queue message each), and a scanner runs
//! one target at a time with [`scan_target`]. A [`TargetQueue`] carries them between the
//! two (the scheduler's, and the API's `POST /v1/scans` on Lambda).
//!
//! Global types (IAM, account singletons, `.Meta` aggregates) get one target per account
//! (region `global`), so that scanning N regions does not list them N times; every other
//! type (regional, and account-wide listings such as S3's) gets one target per region.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use caracal_scan::{COLLECTORS, ListingScope, ScanRequest};
use serde::{Deserialize, Serialize};

use crate::context::Context;
use crate::error::{Error, Result};
use crate::posture::{self, PolicySource, ScanResult, ScanScope};

/// The region name of a target that scans an account's global types.
pub const GLOBAL: &str = "global";

/// One account and one region (or [`GLOBAL`]) to scan, with the types that belong there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanTarget {
    /// The 12-digit account id.
    pub account_id: String,
    /// An AWS region, or `global`.
    pub region: String,
    /// The resource types to scan there (never empty).
    pub types: Vec<String>,
}

/// Where targets go to be scanned by other processes (the serverless scan queue, which
/// the scanner function consumes).
pub trait TargetQueue: Send + Sync + std::fmt::Debug {
    /// Queues every target; the error says why it could not (the caller names the queue).
    fn send<'a>(
        &'a self,
        targets: &'a [ScanTarget],
    ) -> Pin<Box<dyn Future<Output = std::result::Result<(), String>> + Send + 'a>>;
}

/// Splits a scan into targets: per account of `scope` (empty: every configured account,
/// or the credentials' own) one `global` target and one per region, each with the types
/// that list there. Regions are the scope's (`global` among them adds nothing: global
/// types always get their one target, as in a local scan) or the configured ones; types
/// are the scope's or `[scan] types` (empty: every type).
pub async fn scan_targets(ctx: &Context, scope: &ScanScope) -> Result<Vec<ScanTarget>> {
    // The accounts a local scan would reach: the organization's members when one is
    // configured (a member that can't be reached is logged; its scanner target would
    // fail the same way), else `[[accounts]]` or the credentials' own.
    let sessions = match &ctx.config().organization {
        Some(org) => {
            let (sessions, unreachable) =
                crate::organization::sessions(ctx, org, &scope.accounts).await?;
            for error in &unreachable {
                tracing::warn!(
                    account = %error.account_id, error = %error.message,
                    "Organization member not queued for scanning."
                );
            }
            sessions
        }
        None => ctx.sessions(&scope.accounts).await?,
    };
    let named = &scope.request.regions;
    let regions: Vec<String> = match named.is_empty() {
        true => ctx.aws().await?.regions(),
        false => named.iter().filter(|r| *r != GLOBAL).fold(Vec::new(), |mut out, r| {
            if !out.contains(r) {
                out.push(r.clone());
            }
            out
        }),
    };
    let types = match scope.request.types.is_empty() {
        true => &ctx.config().scan.types,
        false => &scope.request.types,
    };
    let (global, regional) = split_types(types)?;
    let mut targets = Vec::new();
    for session in &sessions {
        let account_id = session.account_id().to_owned();
        if !global.is_empty() {
            targets.push(ScanTarget {
                account_id: account_id.clone(),
                region: GLOBAL.to_owned(),
                types: global.clone(),
            });
        }
        if !regional.is_empty() {
            for region in &regions {
                targets.push(ScanTarget {
                    account_id: account_id.clone(),
                    region: region.clone(),
                    types: regional.clone(),
                });
            }
        }
    }
    Ok(targets)
}

/// The wanted types (empty: every collector) split into those listed once per account
/// and those listed per region, each sorted.
fn split_types(configured: &[String]) -> Result<(Vec<String>, Vec<String>)> {
    let (mut global, mut regional) = (Vec::new(), Vec::new());
    for name in configured {
        if caracal_scan::collector(name).is_none() {
            return Err(Error::Invalid(format!("unknown resource type {name:?}")));
        }
    }
    for collector in COLLECTORS {
        let name = collector.resource_type();
        if !configured.is_empty() && !configured.iter().any(|t| t == name) {
            continue;
        }
        match collector.listing_scope() {
            ListingScope::Global => global.push(name.to_owned()),
            ListingScope::Regional | ListingScope::AccountWide => regional.push(name.to_owned()),
        }
    }
    global.sort();
    regional.sort();
    Ok((global, regional))
}

/// Scans one target into the store and evaluates `policies` on what it wrote (automatic
/// remediation runs as configured, as after any scan).
pub async fn scan_target(
    ctx: &Arc<Context>,
    target: &ScanTarget,
    policies: Option<&PolicySource>,
) -> Result<ScanResult> {
    if target.types.is_empty() {
        return Err(Error::Invalid(format!(
            "scan target {}/{} names no resource types",
            target.account_id, target.region
        )));
    }
    if let Some(bad) = target.types.iter().find(|t| caracal_scan::collector(t).is_none()) {
        return Err(Error::Invalid(format!("scan target: unknown resource type {bad:?}")));
    }
    let scope = ScanScope {
        accounts: vec![target.account_id.clone()],
        request: ScanRequest { regions: vec![target.region.clone()], types: target.types.clone() },
    };
    posture::scan_and_evaluate(ctx, &scope, policies, &()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_lands_in_exactly_one_kind_of_target() {
        let (global, regional) = split_types(&[]).unwrap();
        assert_eq!(global.len() + regional.len(), COLLECTORS.len());
        assert!(global.iter().all(|t| !regional.contains(t)));
        assert!(global.iter().any(|t| t == "AWS.IAM.User"), "{global:?}");
        assert!(regional.iter().any(|t| t == "AWS.S3.Bucket"), "{regional:?}");
        let (global, regional) = split_types(&["AWS.S3.Bucket".into()]).unwrap();
        assert!(global.is_empty());
        assert_eq!(regional, vec!["AWS.S3.Bucket".to_owned()]);
        assert!(split_types(&["AWS.Nope".into()]).is_err());
    }
}
