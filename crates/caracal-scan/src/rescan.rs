//! Targeted rescan of one resource by id: used by remediation to re-check what it fixed,
//! and by CloudTrail-driven updates.

use std::sync::Arc;

use caracal_aws::Session;
use caracal_core::Resource;
use caracal_core::resource::GLOBAL_REGION;
use caracal_store::Store;
use chrono::Utc;
use tokio::sync::Semaphore;

use crate::collectors::{ListingScope, Scope, collector};
use crate::error::Error;

/// Calls in flight for a single-resource rescan.
const RESCAN_CONCURRENCY: usize = 4;

/// Rescans one stored resource by `ResourceId` and writes the result.
///
/// Returns the fresh snapshot, or `None` when a successful lookup showed the resource is
/// gone (it is then marked deleted). The resource must be in the store (its type and
/// region come from there). A failed call leaves the stored snapshot as it was.
pub async fn rescan_resource(
    session: &Session,
    store: &dyn Store,
    resource_id: &str,
) -> Result<Option<Resource>, Error> {
    let stored = store
        .resources()
        .get_stored(resource_id)
        .await?
        .ok_or_else(|| Error::UnknownResource(resource_id.to_owned()))?;
    let resource_type = stored.resource.resource_type.as_str();
    let collector =
        collector(resource_type).ok_or_else(|| Error::UnknownType(resource_type.to_owned()))?;
    let region = match collector.listing_scope() {
        ListingScope::Regional => stored.resource.region.as_str(),
        ListingScope::Global | ListingScope::AccountWide => GLOBAL_REGION,
    };
    let mut regions = session.aws().regions();
    if stored.resource.region != GLOBAL_REGION && !regions.contains(&stored.resource.region) {
        regions.push(stored.resource.region.clone());
    }
    let scope = Scope::new(
        session,
        region,
        regions.into(),
        Arc::new(Semaphore::new(RESCAN_CONCURRENCY)),
        RESCAN_CONCURRENCY,
    );
    let now = Utc::now();
    match collector.collect_one(&scope, resource_id).await {
        Ok(Some(resource)) => {
            store.resources().put_batch(std::slice::from_ref(&resource), now).await?;
            Ok(Some(resource))
        }
        Ok(None) => {
            let marked = store.resources().mark_deleted(&[resource_id.to_owned()], now).await?;
            for id in &marked {
                store.compliance().delete_for_resource(id).await?;
            }
            Ok(None)
        }
        Err(source) => Err(Error::Rescan { resource_id: resource_id.to_owned(), source }),
    }
}
