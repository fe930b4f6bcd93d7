//! Per-region service clients, one constructor per cargo feature.

use crate::counter::RequestCounter;
use crate::response_check::ResponseCheck;
#[allow(unused_imports)] // used only by the feature-gated constructors
use crate::throttle::AnsweredThrottlingOnly;

/// Builds service clients for one account and region. Cheap to clone; clients built from
/// it share the connection pool of the underlying HTTP client.
///
/// Every client of one service built for the same account and region shares one retry
/// partition: with the adaptive retry mode (`[aws]` settings), one client-side rate
/// limiter and one retry token bucket per (account, region, service), however many
/// clients a scan builds. Throttling seen by one collector slows every caller of that
/// service in that account and region, which is the scope of AWS's own rate limits;
/// other services and accounts are not held back.
#[derive(Debug, Clone)]
pub struct Clients {
    sdk: aws_types::SdkConfig,
    counter: RequestCounter,
    region: String,
    account_id: String,
    /// Retry only calls answered with throttling (remediation sessions).
    guard_writes: bool,
}

/// One constructor: the service's config from the shared `SdkConfig`, plus the counter and
/// the [`ResponseCheck`] that refuses non-documents.
macro_rules! client {
    ($feature:literal, $name:ident, $sdk:ident) => {
        #[cfg(feature = $feature)]
        #[doc = concat!("A `", stringify!($sdk), "` client for this account and region.")]
        pub fn $name(&self) -> $sdk::Client {
            let mut conf = $sdk::config::Builder::from(&self.sdk)
                .interceptor(self.counter.clone())
                .interceptor(ResponseCheck)
                .retry_partition($sdk::config::retry::RetryPartition::new(
                    self.retry_partition($feature),
                ));
            if self.guard_writes {
                conf = conf.retry_classifier(AnsweredThrottlingOnly);
            }
            $sdk::Client::from_conf(conf.build())
        }
    };
}

impl Clients {
    pub(crate) fn new(
        sdk: aws_types::SdkConfig,
        counter: RequestCounter,
        account_id: &str,
        region: &str,
    ) -> Self {
        Self {
            sdk,
            counter,
            region: region.to_owned(),
            account_id: account_id.to_owned(),
            guard_writes: false,
        }
    }

    /// The same clients retrying a failed call only when AWS answered it with a throttling
    /// error: never after a lost answer, a timeout or a server error, where a write may
    /// have landed (remediation sessions; see `throttle.rs`).
    pub fn retrying_only_answered_throttling(self) -> Self {
        Self { guard_writes: true, ..self }
    }

    /// The retry partition's name for `service`: one per account, region and service.
    fn retry_partition(&self, service: &str) -> String {
        format!("caracal/{}/{}/{service}", self.account_id, self.region)
    }

    /// The same clients sent to another endpoint (e.g. `[store.dynamodb] endpoint_url`
    /// pointing only the store at DynamoDB Local while scans go to AWS).
    pub fn with_endpoint_url(self, url: &str) -> Self {
        let sdk = self.sdk.to_builder().endpoint_url(url).build();
        Self { sdk, ..self }
    }

    /// The same clients counting their requests in `counter` instead of the session's
    /// counter. Pass a [`RequestCounter::scoped`] counter of the session's
    /// ([`Aws::requests`](crate::Aws::requests)) so the total still sees every request.
    pub fn with_counter(self, counter: RequestCounter) -> Self {
        Self { counter, ..self }
    }

    /// The region these clients call.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The SDK configuration behind these clients.
    pub fn sdk_config(&self) -> &aws_types::SdkConfig {
        &self.sdk
    }

    /// An S3 client. With an endpoint override (an emulator, MinIO) it uses path-style
    /// addressing, since `bucket.127.0.0.1` does not resolve.
    #[cfg(feature = "s3")]
    pub fn s3(&self) -> aws_sdk_s3::Client {
        let mut conf = aws_sdk_s3::config::Builder::from(&self.sdk)
            .interceptor(self.counter.clone())
            .interceptor(ResponseCheck)
            .retry_partition(aws_sdk_s3::config::retry::RetryPartition::new(
                self.retry_partition("s3"),
            ))
            .force_path_style(self.sdk.endpoint_url().is_some());
        if self.guard_writes {
            conf = conf.retry_classifier(AnsweredThrottlingOnly);
        }
        aws_sdk_s3::Client::from_conf(conf.build())
    }

    client!("ec2", ec2, aws_sdk_ec2);
    client!("iam", iam, aws_sdk_iam);
    client!("dynamodb", dynamodb, aws_sdk_dynamodb);
    client!("config", config, aws_sdk_config);
    client!("kms", kms, aws_sdk_kms);
    client!("cloudtrail", cloudtrail, aws_sdk_cloudtrail);
    client!("sns", sns, aws_sdk_sns);
    client!("sqs", sqs, aws_sdk_sqs);
    client!("lambda", lambda, aws_sdk_lambda);
    client!("rds", rds, aws_sdk_rds);
    client!("logs", logs, aws_sdk_cloudwatchlogs);
    client!("secretsmanager", secretsmanager, aws_sdk_secretsmanager);
    client!("ssm", ssm, aws_sdk_ssm);
    client!("eks", eks, aws_sdk_eks);
    client!("ecs", ecs, aws_sdk_ecs);
    client!("securityhub", securityhub, aws_sdk_securityhub);
    client!("acm", acm, aws_sdk_acm);
    client!("cloudformation", cloudformation, aws_sdk_cloudformation);
    client!("elbv2", elbv2, aws_sdk_elasticloadbalancingv2);
    client!("guardduty", guardduty, aws_sdk_guardduty);
    client!("redshift", redshift, aws_sdk_redshift);
    client!("wafv2", wafv2, aws_sdk_wafv2);
    client!("accessanalyzer", accessanalyzer, aws_sdk_accessanalyzer);
    client!("cloudwatch", cloudwatch, aws_sdk_cloudwatch);
    client!("organizations", organizations, aws_sdk_organizations);

    /// An S3 Control client (account-level S3 settings). S3 Control puts the account id in
    /// front of the endpoint's host; with an endpoint override whose host is an IP address
    /// or `localhost` (an emulator), where such a name cannot resolve, requests go to the
    /// override as given.
    #[cfg(feature = "s3control")]
    pub fn s3control(&self) -> aws_sdk_s3control::Client {
        let mut conf = aws_sdk_s3control::config::Builder::from(&self.sdk)
            .interceptor(self.counter.clone())
            .interceptor(ResponseCheck)
            .retry_partition(aws_sdk_s3control::config::retry::RetryPartition::new(
                self.retry_partition("s3control"),
            ));
        if self.guard_writes {
            conf = conf.retry_classifier(AnsweredThrottlingOnly);
        }
        if let Some(url) = self.sdk.endpoint_url().filter(|u| crate::s3control::unprefixable(u)) {
            conf = conf.endpoint_resolver(crate::s3control::AsGiven(url.to_owned()));
        }
        aws_sdk_s3control::Client::from_conf(conf.build())
    }
}
