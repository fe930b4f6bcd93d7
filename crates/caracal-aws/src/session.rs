//! Base configuration, accounts and assumed roles.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use caracal_core::config::{AccountConfig, AwsConfig, RetryMode};
use tracing::debug;

use crate::clients::Clients;
use crate::counter::RequestCounter;
use crate::error::{Error, chain};

/// Why a session is opened: scanning reads, remediation writes, with different roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Read-only collection; uses `role_name`.
    Scan,
    /// Changes; uses `remediation_role_name`, falling back to `role_name`.
    Remediate,
}

/// Builds an [`Aws`] from `[aws]` settings, with test and demo overrides.
#[derive(Debug)]
pub struct AwsBuilder {
    settings: AwsConfig,
    credentials: Option<Credentials>,
    region: Option<String>,
}

impl AwsBuilder {
    /// Uses fixed credentials instead of the default chain (the emulator, the demo).
    pub fn static_credentials(mut self, access_key_id: &str, secret_access_key: &str) -> Self {
        self.credentials =
            Some(Credentials::new(access_key_id, secret_access_key, None, None, "caracal-static"));
        self
    }

    /// Sets the home region (used for global services and STS) over the SDK's default.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Loads the base configuration: credentials chain, region, retry, timeouts, endpoint.
    pub async fn build(self) -> Result<Aws, Error> {
        let s = &self.settings;
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(
                match s.retry_mode {
                    RetryMode::Standard => RetryConfig::standard(),
                    RetryMode::Adaptive => RetryConfig::adaptive(),
                }
                .with_max_attempts(s.max_attempts)
                .with_initial_backoff(Duration::from_millis(200)),
            )
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(s.connect_timeout_secs))
                    .operation_timeout(Duration::from_secs(s.operation_timeout_secs))
                    .build(),
            );
        if let Some(profile) = &s.profile {
            loader = loader.profile_name(profile);
        }
        // The configured home region wins, then the first scan region, then the SDK chain.
        if let Some(region) = self.region.clone().or_else(|| s.regions.first().cloned()) {
            loader = loader.region(Region::new(region));
        }
        // Unset: aws-config itself honours AWS_ENDPOINT_URL and per-service variables.
        if let Some(url) = &s.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if let Some(creds) = self.credentials {
            loader = loader.credentials_provider(creds);
        }
        let base = loader.load().await;
        let home_region = base.region().map(|r| r.to_string()).ok_or(Error::NoRegion)?;
        Ok(Aws { base, settings: self.settings, home_region, counter: RequestCounter::default() })
    }
}

/// The base AWS configuration, built once per process.
#[derive(Debug, Clone)]
pub struct Aws {
    base: aws_types::SdkConfig,
    settings: AwsConfig,
    home_region: String,
    counter: RequestCounter,
}

impl Aws {
    /// Starts building from `[aws]` settings.
    pub fn builder(settings: &AwsConfig) -> AwsBuilder {
        AwsBuilder { settings: settings.clone(), credentials: None, region: None }
    }

    /// The region used for global services, STS and when no scan regions are configured.
    pub fn home_region(&self) -> &str {
        &self.home_region
    }

    /// The regions to scan: the configured ones, else the home region.
    pub fn regions(&self) -> Vec<String> {
        if self.settings.regions.is_empty() {
            vec![self.home_region.clone()]
        } else {
            self.settings.regions.clone()
        }
    }

    /// The regions listed in `[aws] regions`; empty when none are, in which case a scan
    /// asks each account which regions it has enabled.
    pub fn listed_regions(&self) -> &[String] {
        &self.settings.regions
    }

    /// The endpoint override in force, if any (also from `AWS_ENDPOINT_URL`).
    pub fn endpoint_url(&self) -> Option<&str> {
        self.base.endpoint_url()
    }

    /// Requests sent through every client built from this configuration.
    pub fn requests(&self) -> &RequestCounter {
        &self.counter
    }

    /// The base SDK configuration, for clients this crate has no constructor for.
    pub fn sdk_config(&self) -> &aws_types::SdkConfig {
        &self.base
    }

    /// Opens a session: the credentials' own account when `account` is `None`, else the
    /// account reached by assuming the role that `purpose` selects (none configured: the
    /// credentials are used as they are, for that account id).
    pub async fn session(
        &self,
        account: Option<&AccountConfig>,
        purpose: Purpose,
    ) -> Result<Session, Error> {
        let Some(account) = account else {
            let account_id = self.caller_account().await?;
            return Ok(Session { aws: self.clone(), sdk: self.base.clone(), account_id, purpose });
        };
        let role_name = match purpose {
            Purpose::Scan => account.role_name.as_deref(),
            Purpose::Remediate => {
                account.remediation_role_name.as_deref().or(account.role_name.as_deref())
            }
        };
        let Some(role_name) = role_name else {
            return Ok(Session {
                aws: self.clone(),
                sdk: self.base.clone(),
                account_id: account.id.clone(),
                purpose,
            });
        };
        let partition = if self.home_region.starts_with("cn-") { "aws-cn" } else { "aws" };
        let role_arn = format!("arn:{partition}:iam::{}:role/{role_name}", account.id);
        let session_name = match purpose {
            Purpose::Scan => "caracal-scan",
            Purpose::Remediate => "caracal-remediate",
        };
        let mut provider = AssumeRoleProvider::builder(&role_arn)
            .session_name(session_name)
            .region(Region::new(self.home_region.clone()));
        if let Some(external_id) = &account.external_id {
            provider = provider.external_id(external_id);
        }
        let provider = provider.configure(&self.base).build().await;
        let sdk = self
            .base
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(provider))
            .build();
        let session = Session { aws: self.clone(), sdk, account_id: account.id.clone(), purpose };
        // Resolve now so a bad role fails here, with its ARN, not in the middle of a scan.
        session
            .caller_account()
            .await
            .map_err(|e| Error::AssumeRole { role_arn: role_arn.clone(), reason: e.to_string() })?;
        debug!(role = %role_arn, "Assumed role.");
        Ok(session)
    }

    async fn caller_account(&self) -> Result<String, Error> {
        identity(&self.base, &self.counter, self.endpoint_url()).await.map(|(account, _)| account)
    }

    /// The ARN of the principal the configured credentials belong to (before any role is
    /// assumed): who is really acting, for the remediation audit.
    pub async fn caller_arn(&self) -> Result<String, Error> {
        identity(&self.base, &self.counter, self.endpoint_url()).await.map(|(_, arn)| arn)
    }
}

/// The caller's account id and ARN (`GetCallerIdentity`).
async fn identity(
    sdk: &aws_types::SdkConfig,
    counter: &RequestCounter,
    endpoint: Option<&str>,
) -> Result<(String, String), Error> {
    let conf = aws_sdk_sts::config::Builder::from(sdk).interceptor(counter.clone()).build();
    let out =
        aws_sdk_sts::Client::from_conf(conf).get_caller_identity().send().await.map_err(|e| {
            Error::Identity {
                endpoint: endpoint.unwrap_or("default").to_owned(),
                reason: chain(&e),
            }
        })?;
    let missing = |what: &str| Error::Identity {
        endpoint: endpoint.unwrap_or("default").to_owned(),
        reason: format!("GetCallerIdentity returned no {what}"),
    };
    let account = out.account.ok_or_else(|| missing("account"))?;
    let arn = out.arn.ok_or_else(|| missing("ARN"))?;
    Ok((account, arn))
}

/// One account's credentials; hands out per-region [`Clients`].
#[derive(Debug, Clone)]
pub struct Session {
    aws: Aws,
    sdk: aws_types::SdkConfig,
    account_id: String,
    purpose: Purpose,
}

impl Session {
    /// The account this session acts in.
    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// Why this session was opened.
    pub fn purpose(&self) -> Purpose {
        self.purpose
    }

    /// Clients for one region. A [`Purpose::Remediate`] session's clients retry a call only
    /// when AWS answered it with throttling (see `throttle.rs`).
    pub fn clients(&self, region: &str) -> Clients {
        let sdk = self.sdk.to_builder().region(Region::new(region.to_owned())).build();
        let clients = Clients::new(sdk, self.aws.counter.clone(), &self.account_id, region);
        match self.purpose {
            Purpose::Scan => clients,
            Purpose::Remediate => clients.retrying_only_answered_throttling(),
        }
    }

    /// Clients for the home region (global services: IAM, the account's singletons).
    pub fn home(&self) -> Clients {
        self.clients(&self.aws.home_region)
    }

    /// The configuration this session was built from.
    pub fn aws(&self) -> &Aws {
        &self.aws
    }

    async fn caller_account(&self) -> Result<String, Error> {
        identity(&self.sdk, &self.aws.counter, self.aws.endpoint_url())
            .await
            .map(|(account, _)| account)
    }
}
