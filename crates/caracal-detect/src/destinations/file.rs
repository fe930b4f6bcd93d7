//! `file`: appends each alert as one JSON line to a local file (for a SIEM forwarder,
//! or to keep a record).
//!
//! ```toml
//! [[destinations]]
//! id = "archive"
//! kind = "file"
//! path = "/var/log/caracal/alerts.jsonl"
//! ```

use std::io::Write;
use std::path::PathBuf;

use async_trait::async_trait;
use caracal_core::Alert;
use caracal_core::config::DestinationConfig;

use super::{Action, Destination, Shared, alert_document};
use crate::error::{Error, Result};

struct File {
    id: String,
    path: PathBuf,
}

pub(super) fn build(config: &DestinationConfig, _shared: &Shared) -> Result<Box<dyn Destination>> {
    let path = config.path.clone().ok_or_else(|| Error::Destination {
        id: config.id.clone(),
        reason: "file needs `path`".into(),
    })?;
    Ok(Box::new(File { id: config.id.clone(), path }))
}

#[async_trait]
impl Destination for File {
    fn id(&self) -> &str {
        &self.id
    }

    async fn send(&self, alert: &Alert, action: Action) -> Result<(), String> {
        let doc = alert_document(alert, action);
        let mut line = serde_json::to_vec(&doc).map_err(|e| e.to_string())?;
        line.push(b'\n');
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&path)?;
            // One write call per line, so concurrent writers never interleave inside it.
            file.write_all(&line)?;
            file.sync_data()
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("{}: {e}", self.path.display()))
    }
}
