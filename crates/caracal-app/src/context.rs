//! [`Context`]: the clients, the store and the compiled packs, built once per process
//! and shared by every use case.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use caracal_aws::{Aws, Clients, Purpose, Session};
use caracal_core::Config;
use caracal_core::config::StoreBackend;
use caracal_remediate::Executor;
use caracal_store::Store;

use crate::auto_remediate::Dispatch;
use crate::error::{Error, Result};
use crate::posture::{CompiledPolicies, PolicySource};

/// What every use case needs: the configuration, the AWS entry point, the store and the
/// policy engines compiled so far. Each part is built on first use and then kept, so a
/// local `caracal logs process` needs no AWS region and a scan builds its clients once.
/// Share it behind an `Arc`.
pub struct Context {
    config: Config,
    aws: OnceCell<Aws>,
    store: OnceCell<Arc<dyn Store>>,
    engines: Mutex<HashMap<PolicySource, Arc<CompiledPolicies>>>,
    dispatch: Option<Arc<dyn Dispatch>>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let store = self.store.get().map(|s| s.describe());
        f.debug_struct("Context").field("store", &store).finish_non_exhaustive()
    }
}

impl Context {
    /// A context for `config`. Does no I/O: the AWS entry point is built from `[aws]`,
    /// and the configured store opened (SQLite by default; DynamoDB with a client from
    /// the home region, or `store.dynamodb.region` / `endpoint_url`), when first needed.
    pub fn from_config(config: Config) -> Self {
        Self {
            config,
            aws: OnceCell::new(),
            store: OnceCell::new(),
            engines: Mutex::default(),
            dispatch: None,
        }
    }

    /// A context over clients and a store built elsewhere (the demo, tests).
    pub fn from_parts(config: Config, aws: Aws, store: Arc<dyn Store>) -> Self {
        Self {
            config,
            aws: OnceCell::new_with(Some(aws)),
            store: OnceCell::new_with(Some(store)),
            engines: Mutex::default(),
            dispatch: None,
        }
    }

    /// Hands automatic fixes to `dispatch` (a queue) instead of running them here.
    pub fn with_remediation_dispatch(mut self, dispatch: Arc<dyn Dispatch>) -> Self {
        self.dispatch = Some(dispatch);
        self
    }

    /// Where automatic fixes go, when not run here.
    pub(crate) fn remediation_dispatch(&self) -> Option<&Arc<dyn Dispatch>> {
        self.dispatch.as_ref()
    }

    /// The configuration the context was built from.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The AWS entry point (credentials, regions, endpoint, request counter).
    pub async fn aws(&self) -> Result<&Aws> {
        self.aws
            .get_or_try_init(|| async {
                Aws::builder(&self.config.aws).build().await.map_err(Error::aws("configuring AWS"))
            })
            .await
    }

    /// The store, opened and prepared on first use. SQLite needs no AWS configuration
    /// (no region, no credentials); DynamoDB builds the AWS entry point first.
    pub async fn store(&self) -> Result<&Arc<dyn Store>> {
        self.store
            .get_or_try_init(|| async {
                let aws = match self.config.store.backend {
                    StoreBackend::Sqlite => None,
                    StoreBackend::Dynamodb => Some(self.aws().await?),
                };
                open_store(&self.config, aws).await
            })
            .await
    }

    /// One scan session per account: the configured `[[accounts]]` (only those in
    /// `only` when it is not empty), or the credentials' own account when none are
    /// configured. Opened per call, so assumed-role credentials are fresh.
    pub async fn sessions(&self, only: &[String]) -> Result<Vec<Session>> {
        let mut sessions = Vec::new();
        if self.config.accounts.is_empty() {
            let session = self
                .aws()
                .await?
                .session(None, Purpose::Scan)
                .await
                .map_err(Error::aws("resolving the AWS account"))?;
            if !only.is_empty() && !only.iter().any(|a| a == session.account_id()) {
                return Err(Error::Invalid(format!(
                    "account {} is not configured; the credentials belong to {}",
                    only.join(", "),
                    session.account_id()
                )));
            }
            sessions.push(session);
            return Ok(sessions);
        }
        for id in only {
            if !self.config.accounts.iter().any(|a| &a.id == id) {
                return Err(Error::Invalid(format!(
                    "account {id} is not in [[accounts]] of the configuration"
                )));
            }
        }
        for account in &self.config.accounts {
            if only.is_empty() || only.contains(&account.id) {
                let session = self
                    .aws()
                    .await?
                    .session(Some(account), Purpose::Scan)
                    .await
                    .map_err(Error::aws(format!("assuming the scan role in {}", account.id)))?;
                sessions.push(session);
            }
        }
        Ok(sessions)
    }

    /// Clients for the caller's account in the home region (logs, queues, the S3 lake).
    pub async fn home_clients(&self) -> Result<Clients> {
        let session = self
            .aws()
            .await?
            .session(None, Purpose::Scan)
            .await
            .map_err(Error::aws("resolving the AWS account"))?;
        Ok(session.home())
    }

    /// The remediation executor over the configured accounts and the store.
    pub async fn executor(&self) -> Result<Executor> {
        let (aws, store) = (self.aws().await?.clone(), self.store().await?.clone());
        Ok(Executor::new(aws, self.config.accounts.clone(), store))
    }

    /// The compiled policy engine for `source`, compiled on first use and kept for the
    /// life of the context. Blocking: call from a blocking task.
    pub(crate) fn policy_engine(&self, source: &PolicySource) -> Result<Arc<CompiledPolicies>> {
        let mut engines = self.engines.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(engine) = engines.get(source) {
            return Ok(engine.clone());
        }
        let engine = Arc::new(source.compile()?);
        engines.insert(source.clone(), engine.clone());
        Ok(engine)
    }
}

/// Opens the configured store and creates its tables when missing. `aws` is needed for
/// DynamoDB only.
pub async fn open_store(config: &Config, aws: Option<&Aws>) -> Result<Arc<dyn Store>> {
    let dynamo = match (config.store.backend, aws) {
        (StoreBackend::Sqlite, _) => None,
        (StoreBackend::Dynamodb, None) => {
            return Err(Error::Invalid("the DynamoDB store needs an AWS configuration".into()));
        }
        (StoreBackend::Dynamodb, Some(aws)) => {
            let session = aws
                .session(None, Purpose::Scan)
                .await
                .map_err(Error::aws("resolving the AWS account for the DynamoDB store"))?;
            let region = config.store.dynamodb.region.as_deref().unwrap_or(aws.home_region());
            let mut clients = session.clients(region);
            if let Some(url) = &config.store.dynamodb.endpoint_url {
                clients = clients.with_endpoint_url(url);
            }
            Some(clients.dynamodb())
        }
    };
    let store = caracal_store::open(&config.store, dynamo)
        .await
        .map_err(Error::store("opening the store"))?;
    let context = format!("preparing {}", store.describe());
    store.create_tables().await.map_err(Error::store(context))?;
    Ok(store)
}
