//! [`DynamoStore`]: the handle (client, table names, the endpoint requests went to), its
//! error mapping, and [`Store`] over the five concerns.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_sdk_dynamodb::{
    Client,
    config::{
        ConfigBag, Intercept, RuntimeComponents, interceptors::BeforeTransmitInterceptorContextRef,
    },
    error::{ProvideErrorMetadata, SdkError},
};
use caracal_core::error::chain;

use super::tables::Tables;
use crate::{
    alerts::AlertStore,
    audit::AuditStore,
    compliance::ComplianceStore,
    error::{Error, Result, one_line},
    kv::KvStore,
    resources::ResourceStore,
    store::Store,
};

/// The DynamoDB store. Cheap to clone.
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    tables: Arc<Tables>,
    endpoint: Arc<Mutex<Option<String>>>,
    fallback_endpoint: String,
}

/// Records where requests go, so a transport error can name the endpoint even when the
/// client's endpoint came from the environment rather than from caracal's config.
#[derive(Debug)]
struct EndpointRecorder(Arc<Mutex<Option<String>>>);

impl Intercept for EndpointRecorder {
    fn name(&self) -> &'static str {
        "CaracalStoreEndpointRecorder"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let uri = context.request().uri();
        let origin = match uri.find("://") {
            Some(i) => uri[i + 3..].find('/').map_or(uri, |j| &uri[..i + 3 + j]),
            None => uri,
        };
        let mut slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if slot.as_deref() != Some(origin) {
            *slot = Some(origin.to_owned());
        }
        Ok(())
    }
}

impl DynamoStore {
    /// A store on the tables `<table_prefix>-*`, through a client built by `caracal-aws`.
    pub fn new(client: Client, table_prefix: &str) -> Self {
        let endpoint = Arc::new(Mutex::new(None));
        let fallback_endpoint = match client.config().region() {
            Some(region) => format!("dynamodb.{region}.amazonaws.com"),
            None => "dynamodb (no region configured)".to_owned(),
        };
        let config = client
            .config()
            .to_builder()
            .interceptor(EndpointRecorder(Arc::clone(&endpoint)))
            .build();
        Self {
            client: Client::from_conf(config),
            tables: Arc::new(Tables::new(table_prefix)),
            endpoint,
            fallback_endpoint,
        }
    }

    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    pub(crate) fn tables(&self) -> &Tables {
        &self.tables
    }

    /// The endpoint requests went to, as far as known.
    pub fn endpoint(&self) -> String {
        let recorded = self.endpoint.lock().unwrap_or_else(|p| p.into_inner()).clone();
        recorded.unwrap_or_else(|| self.fallback_endpoint.clone())
    }

    /// Maps an SDK error to [`Error`], naming the endpoint, operation and table.
    pub(crate) fn err<E, R>(&self, operation: &'static str, table: &str, e: SdkError<E, R>) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        let endpoint = self.endpoint();
        match &e {
            SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
                Error::DynamoUnreachable { endpoint, reason: one_line(&chain(&e)) }
            }
            _ => {
                let reason = match (e.code(), e.message()) {
                    (Some(code), Some(message)) => format!("{code}: {message}"),
                    (Some(code), None) => code.to_owned(),
                    _ => chain(&e),
                };
                Error::Dynamo {
                    endpoint,
                    operation,
                    table: table.to_owned(),
                    reason: one_line(&reason),
                }
            }
        }
    }

    /// An item that cannot be read back.
    pub(crate) fn malformed(
        &self,
        table: &str,
        key: &str,
        reason: impl std::fmt::Display,
    ) -> Error {
        Error::Malformed {
            location: table.to_owned(),
            key: key.to_owned(),
            reason: reason.to_string(),
        }
    }

    /// A request builder that refused its input (a bug here, reported instead of a panic).
    pub(crate) fn build_err(&self, table: &str, e: impl std::fmt::Display) -> Error {
        Error::Dynamo {
            endpoint: self.endpoint(),
            operation: "build request",
            table: table.to_owned(),
            reason: e.to_string(),
        }
    }
}

#[async_trait]
impl Store for DynamoStore {
    fn resources(&self) -> &dyn ResourceStore {
        self
    }
    fn compliance(&self) -> &dyn ComplianceStore {
        self
    }
    fn alerts(&self) -> &dyn AlertStore {
        self
    }
    fn audit(&self) -> &dyn AuditStore {
        self
    }
    fn kv(&self) -> &dyn KvStore {
        self
    }
    fn describe(&self) -> String {
        format!("dynamodb {}-* at {}", self.tables.prefix, self.endpoint())
    }
    async fn create_tables(&self) -> Result<()> {
        self.create_all().await
    }
}
