//! Refuses answers that are not a document of the operation called (#11.4).
//!
//! The JSON-protocol services (KMS, DynamoDB, CloudTrail, Config, ...) deserialize an empty
//! or absent body as an output whose every field is unset. A `200` with an empty body for
//! `ListKeys` then reads as "no keys", and a scanner would mark every key deleted. AWS
//! always answers a read with a JSON object (at least `{}`), so such an answer is a broken
//! response (a proxy, a load balancer, an emulator fault), never an empty listing.
//!
//! [`ResponseCheck`] is registered on every client [`Clients`](crate::Clients) builds. For
//! JSON-protocol requests (an `X-Amz-Target` header) of read operations (`List*`,
//! `Describe*`, `Get*`, `BatchGet*`, `Query`, `Scan`, `Lookup*`, `Search*`), a `200` whose
//! body is not a JSON object becomes a response error: the call fails (after the usual
//! retries) and callers treat it as any failed call. Writes are left alone, since some
//! (KMS `EnableKeyRotation`) legitimately answer with an empty body.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

/// The interceptor; see the module doc.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ResponseCheck;

/// Set on an operation's config bag when its request used the JSON protocol.
#[derive(Debug, Clone, Copy)]
struct JsonProtocol;

impl Storable for JsonProtocol {
    type Storer = StoreReplace<Self>;
}

/// Operations that only read, by name: their answer is always a document.
fn is_read(operation: &str) -> bool {
    ["List", "Describe", "Get", "BatchGet", "Lookup", "Search"]
        .iter()
        .any(|prefix| operation.starts_with(prefix))
        || operation == "Query"
        || operation == "Scan"
}

/// Why a `200` body is not a JSON document, if it is not.
pub(crate) fn not_a_document(body: &[u8]) -> Option<&'static str> {
    let text = body.trim_ascii();
    if text.is_empty() {
        Some("an empty body")
    } else if !(text.starts_with(b"{") && text.ends_with(b"}")) {
        Some("a body that is not a JSON object")
    } else {
        None
    }
}

/// The error an invalid answer becomes.
#[derive(Debug, thiserror::Error)]
#[error("{service} {operation} answered HTTP 200 with {what}, not a valid response document")]
pub(crate) struct InvalidResponse {
    service: String,
    operation: String,
    what: &'static str,
}

impl Intercept for ResponseCheck {
    fn name(&self) -> &'static str {
        "caracal::ResponseCheck"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if context.request().headers().contains_key("x-amz-target") {
            cfg.interceptor_state().store_put(JsonProtocol);
        }
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if cfg.load::<JsonProtocol>().is_none() || context.output_or_error().is_err() {
            return Ok(());
        }
        let Some(metadata) = cfg.load::<Metadata>() else { return Ok(()) };
        let response = context.response();
        if response.status().as_u16() != 200 || !is_read(metadata.name()) {
            return Ok(());
        }
        // Streaming bodies are not buffered; JSON-protocol reads never stream.
        let Some(body) = response.body().bytes() else { return Ok(()) };
        match not_a_document(body) {
            None => Ok(()),
            Some(what) => Err(Box::new(InvalidResponse {
                service: metadata.service().to_owned(),
                operation: metadata.name().to_owned(),
                what,
            })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_json_objects_are_documents() {
        assert_eq!(not_a_document(b""), Some("an empty body"));
        assert_eq!(not_a_document(b"  \n"), Some("an empty body"));
        assert_eq!(not_a_document(b"<html></html>"), Some("a body that is not a JSON object"));
        assert_eq!(not_a_document(b"null"), Some("a body that is not a JSON object"));
        assert_eq!(not_a_document(b"{}"), None);
        assert_eq!(not_a_document(b" {\"Keys\": []}\n"), None);
    }

    #[test]
    fn reads_are_recognised_by_name() {
        for op in ["ListKeys", "DescribeTrails", "GetKeyPolicy", "Query", "Scan", "BatchGetItem"] {
            assert!(is_read(op), "{op}");
        }
        for op in ["EnableKeyRotation", "PutItem", "CreateTable", "TagResource", "Scanner"] {
            assert!(!is_read(op), "{op}");
        }
    }
}
