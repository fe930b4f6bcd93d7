//! `webhook`: POSTs the alert as JSON to a URL, with optional custom headers and an
//! HMAC-SHA256 signature of the exact body in `X-Caracal-Signature: sha256=<hex>`
//! (and the send time in `X-Caracal-Timestamp`, which the signature does not cover).
//!
//! ```toml
//! [[destinations]]
//! id = "soc"
//! kind = "webhook"
//! url = "env:SOC_WEBHOOK_URL"
//! secret = "env:SOC_WEBHOOK_KEY"
//! headers = { "X-Team" = "security" }
//! ```

use async_trait::async_trait;
use caracal_core::Alert;
use caracal_core::config::DestinationConfig;
use hmac::{KeyInit, Mac};
use reqwest::header::{HeaderMap, HeaderValue};

use super::{Action, Destination, Shared, alert_document, http, required};
use crate::error::{Error, Result};

struct Webhook {
    id: String,
    url: String,
    key: Option<String>,
    headers: HeaderMap,
    http: reqwest::Client,
}

pub(super) fn build(config: &DestinationConfig, shared: &Shared) -> Result<Box<dyn Destination>> {
    let url = required(config, "url", config.url.as_ref())?;
    let key = match &config.secret {
        Some(_) => Some(required(config, "secret", config.secret.as_ref())?),
        None => None,
    };
    let headers = http::headers(&config.headers)
        .map_err(|reason| Error::Destination { id: config.id.clone(), reason })?;
    Ok(Box::new(Webhook { id: config.id.clone(), url, key, headers, http: shared.http.clone() }))
}

/// `sha256=<hex of HMAC-SHA256(key, body)>`.
pub fn signature(key: &[u8], body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(7 + digest.len() * 2);
    out.push_str("sha256=");
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

#[async_trait]
impl Destination for Webhook {
    fn id(&self) -> &str {
        &self.id
    }

    async fn send(&self, alert: &Alert, action: Action) -> Result<(), String> {
        let body = serde_json::to_vec(&alert_document(alert, action)).map_err(|e| e.to_string())?;
        let mut headers = self.headers.clone();
        if let Some(key) = &self.key {
            let value = HeaderValue::try_from(signature(key.as_bytes(), &body))
                .map_err(|e| e.to_string())?;
            headers.insert("x-caracal-signature", value);
        }
        let now = chrono::Utc::now().timestamp().to_string();
        if let Ok(value) = HeaderValue::try_from(now) {
            headers.insert("x-caracal-timestamp", value);
        }
        http::post_json(&self.http, &self.url, headers, body).await
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn signatures_match_a_known_hmac_sha256() {
        // RFC 4231 test case 2.
        let sig = super::signature(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }
}
