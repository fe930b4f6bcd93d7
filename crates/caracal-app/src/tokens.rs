//! API tokens: created with a name and scopes, shown once, stored as a SHA-256 hash of
//! their secret in the store's key-value table (so SQLite and DynamoDB keep them alike),
//! verified on every request, revoked by id.
//!
//! A token reads `cct_<id>_<secret>`: the id (12 hex digits) finds the record, the secret
//! (32 random bytes, hex) is compared by hash in constant time. The secret has 256 bits
//! of entropy, so a plain SHA-256 is enough (no password stretching needed).

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::context::Context;
use crate::error::{Error, Result};

const PREFIX: &str = "cct_";
const INDEX: &str = "caracal:api-tokens";

fn key(id: &str) -> String {
    format!("caracal:api-token:{id}")
}

/// What a token may do. `admin` implies `remediate`, which implies `read`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Read resources, compliance, alerts, audit.
    Read,
    /// Also plan and apply remediations, update alerts, trigger scans.
    Remediate,
    /// Also manage tokens.
    Admin,
}

impl Scope {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Remediate => "remediate",
            Scope::Admin => "admin",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "read" => Ok(Scope::Read),
            "remediate" => Ok(Scope::Remediate),
            "admin" => Ok(Scope::Admin),
            other => Err(format!("unknown scope {other:?}: expected read, remediate or admin")),
        }
    }
}

/// A stored token, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    /// The public id (part of the token).
    pub id: String,
    /// Who or what holds it; the audit records this name.
    pub name: String,
    /// Its scopes.
    pub scopes: BTreeSet<Scope>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// SHA-256 of the secret, hex.
    #[serde(default)]
    hash: String,
}

impl TokenInfo {
    /// True when the token grants `scope` (directly or through a higher one).
    pub fn allows(&self, scope: Scope) -> bool {
        self.scopes.iter().any(|s| *s >= scope)
    }
}

/// A new token: its record, and the whole token text, shown once.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// The stored record.
    pub info: TokenInfo,
    /// `cct_<id>_<secret>`: give it to the caller; it cannot be shown again.
    pub token: String,
}

fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn random_hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| Error::Invalid(format!("no randomness: {e}")))?;
    Ok(hex::encode(buf))
}

/// Creates a token named `name` with `scopes`.
pub async fn create(ctx: &Context, name: &str, scopes: &[Scope]) -> Result<NewToken> {
    let name = name.trim();
    if name.is_empty() || name.len() > 100 || name.chars().any(char::is_control) {
        return Err(Error::Invalid("a token name is 1 to 100 printable characters".into()));
    }
    if scopes.is_empty() {
        return Err(Error::Invalid("give at least one scope: read, remediate or admin".into()));
    }
    let (id, secret) = (random_hex(6)?, random_hex(32)?);
    let info = TokenInfo {
        id: id.clone(),
        name: name.to_owned(),
        scopes: scopes.iter().copied().collect(),
        created_at: Utc::now(),
        hash: digest(&secret),
    };
    let text = serde_json::to_string(&info).map_err(|e| Error::Invalid(e.to_string()))?;
    let kv = ctx.store().await?.kv();
    kv.put(&key(&id), &text, None).await.map_err(Error::store("storing a token"))?;
    kv.set_add(INDEX, std::slice::from_ref(&id), None)
        .await
        .map_err(Error::store("indexing a token"))?;
    Ok(NewToken { info, token: format!("{PREFIX}{id}_{secret}") })
}

/// Every token, oldest first (without secrets or hashes).
pub async fn list(ctx: &Context) -> Result<Vec<TokenInfo>> {
    let kv = ctx.store().await?.kv();
    let ids = kv.set_get(INDEX).await.map_err(Error::store("listing tokens"))?;
    let mut out = Vec::new();
    for id in ids {
        if let Some(mut info) = read(ctx, &id).await? {
            info.hash.clear();
            out.push(info);
        }
    }
    out.sort_by_key(|t| t.created_at);
    Ok(out)
}

async fn read(ctx: &Context, id: &str) -> Result<Option<TokenInfo>> {
    let kv = ctx.store().await?.kv();
    let Some(text) = kv.get(&key(id)).await.map_err(Error::store("reading a token"))? else {
        return Ok(None);
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| Error::Invalid(format!("stored token {id} is unreadable: {e}")))
}

/// Revokes the token with `id`; false when there is none.
pub async fn revoke(ctx: &Context, id: &str) -> Result<bool> {
    let found = read(ctx, id).await?.is_some();
    let kv = ctx.store().await?.kv();
    kv.delete(&key(id)).await.map_err(Error::store("revoking a token"))?;
    kv.set_remove(INDEX, &[id.to_owned()]).await.map_err(Error::store("revoking a token"))?;
    Ok(found)
}

/// The token `text` stands for, when it is well formed, known and its secret matches.
pub async fn verify(ctx: &Context, text: &str) -> Result<Option<TokenInfo>> {
    let Some((id, secret)) = text.strip_prefix(PREFIX).and_then(|rest| rest.split_once('_')) else {
        return Ok(None);
    };
    if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let Some(info) = read(ctx, id).await? else { return Ok(None) };
    let matches: bool = digest(secret).as_bytes().ct_eq(info.hash.as_bytes()).into();
    Ok(matches.then_some(info))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn higher_scopes_include_lower_ones() {
        let info = |scopes: &[Scope]| TokenInfo {
            id: "a".into(),
            name: "n".into(),
            scopes: scopes.iter().copied().collect(),
            created_at: Utc::now(),
            hash: String::new(),
        };
        assert!(info(&[Scope::Admin]).allows(Scope::Remediate));
        assert!(info(&[Scope::Remediate]).allows(Scope::Read));
        assert!(!info(&[Scope::Read]).allows(Scope::Remediate));
        assert!(!info(&[Scope::Remediate]).allows(Scope::Admin));
        assert_eq!("ADMIN".parse::<Scope>(), Ok(Scope::Admin));
        assert!("root".parse::<Scope>().is_err());
    }
}
