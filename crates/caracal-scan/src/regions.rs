//! Where one account is scanned: the named regions, else `[aws] regions`, else the regions
//! the account has enabled (DescribeRegions: those that need no opt-in and those opted
//! into), minus `[scan] exclude_regions`. Each region is then checked with one
//! DescribeAvailabilityZones: a region where AWS denies the account (a service control
//! policy denying the region answers `UnauthorizedOperation` or `AccessDenied`) is left
//! out of the scan and reported as a [`BlockedRegion`], so none of its types fail one by
//! one, nothing in it is marked deleted, and the `.Meta` aggregates do not fail on it.

use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use caracal_aws::Session;
use caracal_core::{BlockedRegion, ScanError};

use crate::error::chain;

/// The error codes that mean "this account may not call AWS in this region".
const DENIED: &[&str] =
    &["UnauthorizedOperation", "AccessDenied", "AccessDeniedException", "UnauthorizedAccess"];

/// The regions one account is scanned in.
#[derive(Debug, Default)]
pub(crate) struct AccountRegions {
    /// Regions to scan, in order.
    pub(crate) regions: Vec<String>,
    /// The account's regions for `.Meta` aggregates: its own plus the scanned ones.
    pub(crate) account: Vec<String>,
    /// Regions left out because AWS denied them.
    pub(crate) blocked: Vec<BlockedRegion>,
    /// A failed DescribeRegions (the home region is scanned instead).
    pub(crate) error: Option<ScanError>,
}

/// The candidate regions: `named`, else the listed ones, else the enabled ones.
pub(crate) async fn candidates(
    session: &Session,
    named: &[String],
) -> (Vec<String>, Option<ScanError>) {
    if !named.is_empty() {
        return (named.to_vec(), None);
    }
    let listed = session.aws().listed_regions();
    if !listed.is_empty() {
        return (listed.to_vec(), None);
    }
    match enabled(session).await {
        Ok(regions) if !regions.is_empty() => (regions, None),
        Ok(_) => (session.aws().regions(), None),
        Err(message) => (
            session.aws().regions(),
            Some(ScanError {
                account_id: session.account_id().to_owned(),
                region: session.aws().home_region().to_owned(),
                resource_type: "*".to_owned(),
                operation: "ec2:DescribeRegions".to_owned(),
                message,
            }),
        ),
    }
}

/// The regions enabled for the account, sorted.
async fn enabled(session: &Session) -> Result<Vec<String>, String> {
    let out = session.home().ec2().describe_regions().send().await.map_err(|e| chain(&e))?;
    let mut regions: Vec<String> = out
        .regions()
        .iter()
        .filter(|r| r.opt_in_status().is_none_or(|s| s == "opt-in-not-required" || s == "opted-in"))
        .filter_map(|r| r.region_name().map(str::to_owned))
        .collect();
    regions.sort();
    regions.dedup();
    Ok(regions)
}

/// Checks `region` for the account: `Some(reason)` when AWS denies it.
pub(crate) async fn denied(session: &Session, region: &str) -> Option<String> {
    match session.clients(region).ec2().describe_availability_zones().send().await {
        Ok(_) => None,
        Err(e) if e.code().is_some_and(|c| DENIED.contains(&c)) => Some(chain(&e)),
        // Any other failure (a timeout, a throttle) is not a verdict on the region: scan
        // it, and let its calls report what goes wrong.
        Err(_) => None,
    }
}

/// Resolves the account's regions: the scan's (`named`, else the account's) and the
/// account's own (for `.Meta` aggregates: the listed or enabled ones plus the named ones),
/// minus `excluded`, each checked once. With `needed` false (a scan of global types that
/// look at no region) nothing is asked and the home region stands in.
pub(crate) async fn resolve(
    session: &Session,
    named: &[String],
    excluded: &[String],
    needed: bool,
) -> AccountRegions {
    let keep = |r: &String| r != caracal_core::resource::GLOBAL_REGION && !excluded.contains(r);
    if !needed {
        let regions = if named.is_empty() { session.aws().regions() } else { named.to_vec() };
        let regions = regions.into_iter().filter(keep).collect::<Vec<_>>();
        let mut account = session.aws().regions();
        account.extend(regions.iter().cloned());
        let mut account: Vec<String> = account.into_iter().filter(keep).collect();
        account.dedup();
        return AccountRegions { regions, account, ..AccountRegions::default() };
    }
    let (own, error) = candidates(session, &[]).await;
    let scan: Vec<String> = if named.is_empty() { own.clone() } else { named.to_vec() };
    let mut all: Vec<String> = Vec::new();
    for r in own.iter().chain(scan.iter()) {
        if keep(r) && !all.contains(r) {
            all.push(r.clone());
        }
    }
    let verdicts = futures::future::join_all(all.iter().map(|r| denied(session, r))).await;
    let mut out = AccountRegions { error, ..AccountRegions::default() };
    let mut open = Vec::new();
    for (region, verdict) in all.into_iter().zip(verdicts) {
        match verdict {
            None => open.push(region),
            Some(reason) => out.blocked.push(BlockedRegion {
                account_id: session.account_id().to_owned(),
                region,
                reason,
            }),
        }
    }
    out.regions = scan.into_iter().filter(|r| open.contains(r)).collect();
    out.account = open;
    out
}
