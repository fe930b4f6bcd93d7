//! POSTing a JSON body, with errors that never carry the (secret) URL.

use caracal_core::config::DestinationConfig;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::{Shared, required};
use crate::error::Result;

/// What chat webhooks (Slack, Teams) hold: the secret URL and an optional link to the
/// alert in a console.
pub(crate) struct ChatHook {
    pub(crate) id: String,
    pub(crate) url: String,
    pub(crate) alert_url: Option<String>,
    pub(crate) http: reqwest::Client,
}

impl ChatHook {
    pub(crate) fn new(config: &DestinationConfig, shared: &Shared) -> Result<Self> {
        Ok(Self {
            id: config.id.clone(),
            url: required(config, "url", config.url.as_ref())?,
            alert_url: config.alert_url.clone(),
            http: shared.http.clone(),
        })
    }

    /// POSTs `message` as JSON.
    pub(crate) async fn post(&self, message: &serde_json::Value) -> Result<(), String> {
        let body = serde_json::to_vec(message).map_err(|e| e.to_string())?;
        post_json(&self.http, &self.url, HeaderMap::new(), body).await
    }
}

/// POSTs `body` (already serialized JSON) to `url` with `headers`; any non-2xx status is
/// an error naming the status and the start of the answer.
pub(crate) async fn post_json(
    http: &reqwest::Client,
    url: &str,
    headers: HeaderMap,
    body: Vec<u8>,
) -> Result<(), String> {
    let answer = http
        .post(url)
        .headers(headers)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| describe(&e.without_url()))?;
    let status = answer.status();
    if status.is_success() {
        return Ok(());
    }
    let text = answer.text().await.unwrap_or_default();
    let text: String = text.chars().take(200).collect();
    Err(format!("HTTP {status}: {text}"))
}

/// Extra headers from the configuration, checked when the destination is built.
pub(crate) fn headers(
    pairs: &std::collections::BTreeMap<String, String>,
) -> Result<HeaderMap, String> {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        let name = HeaderName::try_from(name.as_str())
            .map_err(|_| format!("header name {name:?} is not valid"))?;
        let value = HeaderValue::try_from(value.as_str())
            .map_err(|_| format!("header {name} has a value that is not valid"))?;
        map.insert(name, value);
    }
    Ok(map)
}

fn describe(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
