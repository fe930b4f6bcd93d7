//! Compliance reports: the verdicts with their policies' metadata, for people, auditors
//! and other tools.
//!
//! [`load`] reads the stored verdicts of a pack's policies ([`ReportData`]);
//! [`ReportData::new`] wraps the verdicts of one scan. [`write_findings`] writes one
//! record per resource × policy in a [`Format`] (one module each: [`table`], [`json`],
//! [`csv`], [`ocsf`], [`asff`]). [`framework::FrameworkReport`] groups verdicts by the
//! controls of one `Reports` key and writes them as a table, JSON, CSV or [`html`].
//! [`securityhub::import`] sends ASFF findings to AWS Security Hub.

pub mod asff;
pub mod csv;
mod data;
pub mod framework;
pub mod html;
pub mod json;
pub mod ocsf;
pub mod securityhub;
pub mod table;

use std::io::Write;

pub use data::{PolicyMeta, ReportData, load, load_policies};

/// Where the findings' products live: what ASFF needs beyond the findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// The region Security Hub receives the findings in (the product ARN's region).
    pub region: String,
    /// The account that imports them (the product ARN's account); default: the finding's.
    pub account_id: Option<String>,
}

/// A format for one record per resource × policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Failing and erroring findings as a table, worst first.
    Table,
    /// The findings as a JSON array.
    Json,
    /// The findings as CSV with a header line.
    Csv,
    /// OCSF 1.x Compliance Findings (class 2003), one JSON object per line.
    Ocsf,
    /// AWS Security Finding Format, a `{"Findings": [...]}` BatchImportFindings body.
    Asff,
}

/// A report could not be written or sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Writing the output failed.
    #[error("writing the report")]
    Io(#[from] std::io::Error),
    /// Serializing JSON failed.
    #[error("writing JSON")]
    Json(#[from] serde_json::Error),
    /// Writing CSV failed.
    #[error("writing CSV")]
    Csv(#[from] ::csv::Error),
    /// The framework is not a `Reports` key of any loaded policy.
    #[error("no policy reports to framework {framework:?} (known: {known})")]
    UnknownFramework {
        /// The framework asked for.
        framework: String,
        /// The `Reports` keys of the loaded policies.
        known: String,
    },
    /// Security Hub refused a call or some findings.
    #[error("security hub: {0}")]
    SecurityHub(String),
}

/// Writes `data`'s findings to `out` in `format` (suppressed ones only in `json`, `csv`,
/// `ocsf` and `asff`, flagged as such).
pub fn write_findings(
    format: Format,
    data: &ReportData,
    destination: &Destination,
    out: &mut dyn Write,
) -> Result<(), Error> {
    match format {
        Format::Table => table::write(data, out)?,
        Format::Json => json::write(data, out)?,
        Format::Csv => csv::write(data, out)?,
        Format::Ocsf => ocsf::write(data, out)?,
        Format::Asff => asff::write(data, destination, out)?,
    }
    Ok(())
}
