//! Counts every HTTP request the SDK sends, retries included, in total and per operation,
//! and the answers that were throttling errors.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

use crate::throttle::is_throttle;

/// A shared request counter, registered as an interceptor on every client built here.
///
/// `read_before_transmit` runs once per attempt, so retries are counted too: the figure is
/// what AWS (or the emulator) actually served. Requests are also counted per operation
/// (`s3:GetBucketAcl`). A [`RequestCounter::scoped`] counter counts into itself and every
/// counter it was made from, so one piece of work (a scan of one resource type) can be
/// measured while the process-wide total keeps counting.
#[derive(Debug, Clone, Default)]
pub struct RequestCounter(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    total: AtomicU64,
    throttled: AtomicU64,
    by_operation: Mutex<BTreeMap<String, u64>>,
    parent: Option<RequestCounter>,
}

impl RequestCounter {
    /// Requests sent so far.
    pub fn get(&self) -> u64 {
        self.0.total.load(Ordering::Relaxed)
    }

    /// Answers so far that were throttling errors (each was retried or failed the call).
    pub fn throttled(&self) -> u64 {
        self.0.throttled.load(Ordering::Relaxed)
    }

    /// Requests sent so far per operation, keyed `service:Operation` (the service in
    /// lower case without spaces: `s3:ListBuckets`, `cloudwatchlogs:DescribeLogGroups`).
    pub fn by_operation(&self) -> BTreeMap<String, u64> {
        match self.0.by_operation.lock() {
            Ok(map) => map.clone(),
            // A panic while holding the lock cannot leave the map half-written (one insert
            // or add), so its content is still right.
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// A new counter, starting at zero, whose requests also count in this one.
    pub fn scoped(&self) -> RequestCounter {
        RequestCounter(Arc::new(Inner { parent: Some(self.clone()), ..Inner::default() }))
    }

    /// Counts one request of `operation`, here and in every parent.
    fn record(&self, operation: &str) {
        let mut counter = Some(self);
        while let Some(c) = counter {
            c.0.total.fetch_add(1, Ordering::Relaxed);
            let mut map = match c.0.by_operation.lock() {
                Ok(map) => map,
                Err(poisoned) => poisoned.into_inner(),
            };
            match map.get_mut(operation) {
                Some(n) => *n += 1,
                None => {
                    map.insert(operation.to_owned(), 1);
                }
            }
            drop(map);
            counter = c.0.parent.as_ref();
        }
    }

    /// Counts one throttled answer, here and in every parent.
    fn record_throttle(&self) {
        let mut counter = Some(self);
        while let Some(c) = counter {
            c.0.throttled.fetch_add(1, Ordering::Relaxed);
            counter = c.0.parent.as_ref();
        }
    }
}

/// `service:Operation` from the SDK's operation metadata.
fn operation_key(metadata: Option<&Metadata>) -> String {
    match metadata {
        Some(m) => {
            let service: String = m
                .service()
                .chars()
                .filter(|c| !c.is_whitespace())
                .map(|c| c.to_ascii_lowercase())
                .collect();
            format!("{service}:{}", m.name())
        }
        None => "unknown:Unknown".to_owned(),
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "caracal::RequestCounter"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if is_throttle(context.response()) {
            self.record_throttle();
        }
        Ok(())
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.record(&operation_key(cfg.load::<Metadata>()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scoped_counters_count_into_their_parents() {
        let total = RequestCounter::default();
        let s3 = total.scoped();
        let iam = total.scoped();
        s3.record("s3:ListBuckets");
        s3.record("s3:GetBucketAcl");
        s3.record("s3:GetBucketAcl");
        iam.record("iam:ListUsers");
        total.record("sts:GetCallerIdentity");
        assert_eq!((total.get(), s3.get(), iam.get()), (5, 3, 1));
        assert_eq!(s3.by_operation().get("s3:GetBucketAcl"), Some(&2));
        assert_eq!(s3.by_operation().get("iam:ListUsers"), None);
        assert_eq!(total.by_operation().values().sum::<u64>(), 5);
        assert_eq!(total.by_operation().get("sts:GetCallerIdentity"), Some(&1));
    }

    #[test]
    fn operation_keys_are_lower_case_services_and_operation_names() {
        let m = Metadata::new("DescribeLogGroups", "CloudWatch Logs");
        assert_eq!(operation_key(Some(&m)), "cloudwatchlogs:DescribeLogGroups");
        assert_eq!(operation_key(Some(&Metadata::new("ListUsers", "IAM"))), "iam:ListUsers");
        assert_eq!(operation_key(None), "unknown:Unknown");
    }
}
