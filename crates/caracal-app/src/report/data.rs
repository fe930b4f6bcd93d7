//! What every report is made of: verdicts, the resources they are about, and the
//! metadata of the policies that reached them.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use caracal_core::{ComplianceStatus, Finding, Resource, Severity};
use caracal_python::pack::{self, DetectionKind, DetectionSpec, LoadOptions};
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::posture::PolicySource;

/// What a report says about a policy, from its spec.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyMeta {
    /// `PolicyID`.
    pub id: String,
    /// `DisplayName`, or the id.
    pub title: String,
    /// `Severity`.
    pub severity: Severity,
    /// `Description`.
    pub description: Option<String>,
    /// `Runbook`: how to fix a failing resource by hand.
    pub runbook: Option<String>,
    /// `Reference`: a link explaining the check.
    pub reference: Option<String>,
    /// `AutoRemediationID`: the remediation that fixes a failing resource.
    pub auto_remediation_id: Option<String>,
    /// `Reports`: framework (`CIS-AWS-3.0`) → control ids (`2.3.2`).
    pub reports: BTreeMap<String, Vec<String>>,
}

impl PolicyMeta {
    /// The report metadata of a policy spec. `Reports` values may be a list or one id.
    pub fn from_spec(spec: &DetectionSpec) -> Self {
        let text = |key: &str| {
            spec.raw
                .get(key)
                .and_then(|v| v.as_str())
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
        };
        let mut reports = BTreeMap::new();
        if let Some(serde_json::Value::Object(map)) = spec.raw.get("Reports") {
            for (framework, ids) in map {
                let ids: Vec<String> = match ids {
                    serde_json::Value::Array(ids) => ids.iter().filter_map(control_id).collect(),
                    other => control_id(other).into_iter().collect(),
                };
                reports.insert(framework.clone(), ids);
            }
        }
        PolicyMeta {
            id: spec.id.clone(),
            title: spec.display_name.clone().unwrap_or_else(|| spec.id.clone()),
            severity: spec.severity,
            description: text("Description"),
            runbook: text("Runbook"),
            reference: text("Reference"),
            auto_remediation_id: text("AutoRemediationID"),
            reports,
        }
    }

    /// Metadata for a policy whose spec is not loaded: its id as title.
    pub fn unknown(id: &str, severity: Severity) -> Self {
        PolicyMeta {
            id: id.to_owned(),
            title: id.to_owned(),
            severity,
            description: None,
            runbook: None,
            reference: None,
            auto_remediation_id: None,
            reports: BTreeMap::new(),
        }
    }

    /// The remediation text: the runbook, else the description.
    pub fn remediation_text(&self) -> Option<&str> {
        self.runbook.as_deref().or(self.description.as_deref())
    }
}

/// A control id as written in YAML: a string, or a number such as `1.10` read as text.
fn control_id(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The verdicts a report covers, with their resources and policies.
#[derive(Debug, Clone, Default)]
pub struct ReportData {
    /// Policy id → metadata (every enabled policy of the pack, findings or not).
    pub policies: BTreeMap<String, PolicyMeta>,
    /// The verdicts, sorted by policy then resource.
    pub findings: Vec<Finding>,
    /// Resource id → its latest snapshot, where the store has one.
    pub resources: HashMap<String, Resource>,
    /// When the report was made.
    pub generated_at: DateTime<Utc>,
}

impl ReportData {
    /// A report over `findings` (say those of one scan), sorted by policy then resource.
    pub fn new(
        policies: BTreeMap<String, PolicyMeta>,
        mut findings: Vec<Finding>,
        resources: impl IntoIterator<Item = Resource>,
    ) -> Self {
        findings.sort_by(|a, b| {
            a.policy_id.cmp(&b.policy_id).then_with(|| a.resource_id.cmp(&b.resource_id))
        });
        ReportData {
            policies,
            findings,
            resources: resources.into_iter().map(|r| (r.resource_id.clone(), r)).collect(),
            generated_at: Utc::now(),
        }
    }

    /// The metadata of a finding's policy (its id alone when the spec is not loaded).
    pub fn policy(&self, finding: &Finding) -> PolicyMeta {
        self.policies
            .get(&finding.policy_id)
            .cloned()
            .unwrap_or_else(|| PolicyMeta::unknown(&finding.policy_id, finding.severity))
    }

    /// The finding's resource snapshot, if stored.
    pub fn resource(&self, finding: &Finding) -> Option<&Resource> {
        self.resources.get(&finding.resource_id)
    }

    /// Findings that are not suppressed.
    pub fn unsuppressed(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| !f.suppressed)
    }

    /// True when an unsuppressed FAIL at `min` or above exists.
    pub fn fails_at_or_above(&self, min: Severity) -> bool {
        self.unsuppressed().any(|f| f.status == ComplianceStatus::Fail && f.severity >= min)
    }
}

/// The enabled policies of `source` (its pack selection applied), by id. Blocking: reads
/// and parses the spec files; call it from a blocking section.
pub fn load_policies(source: &PolicySource) -> Result<BTreeMap<String, PolicyMeta>> {
    let mut loaded = pack::load(&source.paths, &LoadOptions::default())
        .map_err(Error::python("loading policy specs"))?;
    loaded.select(&source.packs).map_err(Error::python("selecting policy packs"))?;
    Ok(loaded
        .detections
        .iter()
        .filter(|d| d.kind == DetectionKind::Policy && d.enabled)
        .map(|d| (d.id.clone(), PolicyMeta::from_spec(d)))
        .collect())
}

/// The stored verdicts of every policy of `source`, with the latest snapshot of each
/// resource they are about.
pub async fn load(ctx: &Arc<Context>, source: &PolicySource) -> Result<ReportData> {
    let owned = source.clone();
    let policies = tokio::task::spawn_blocking(move || load_policies(&owned))
        .await
        .map_err(|e| Error::Task("loading policy specs", e.to_string()))??;
    let store = ctx.store().await?;
    let mut findings = Vec::new();
    for id in policies.keys() {
        let found = store
            .compliance()
            .for_policy(id)
            .await
            .map_err(Error::store(format!("reading the findings of {id}")))?;
        findings.extend(found);
    }
    let mut resources = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for finding in &findings {
        if !seen.insert(finding.resource_id.as_str()) {
            continue;
        }
        let found = store
            .resources()
            .get(&finding.resource_id)
            .await
            .map_err(Error::store(format!("reading resource {}", finding.resource_id)))?;
        resources.extend(found);
    }
    Ok(ReportData::new(policies, findings, resources))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small report: two policies, a pass, a fail, an error and a suppressed fail.
    pub(crate) fn sample() -> ReportData {
        let mut policies = BTreeMap::new();
        let mut reports = BTreeMap::new();
        reports.insert("CIS-AWS-3.0".to_owned(), vec!["2.1.1".to_owned()]);
        policies.insert(
            "AWS.S3.Bucket.Versioning".to_owned(),
            PolicyMeta {
                id: "AWS.S3.Bucket.Versioning".into(),
                title: "S3 bucket keeps versions <old>".into(),
                severity: Severity::Medium,
                description: Some("Versions let you undo & recover.".into()),
                runbook: Some("Enable versioning.".into()),
                reference: Some("https://docs.example/versioning".into()),
                auto_remediation_id: Some("AWS.S3.EnableBucketVersioning".into()),
                reports,
            },
        );
        let finding = |resource: &str, status: ComplianceStatus, suppressed: bool| Finding {
            resource_id: format!("arn:aws:s3:::{resource}"),
            resource_type: "AWS.S3.Bucket".into(),
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
            policy_id: "AWS.S3.Bucket.Versioning".into(),
            severity: Severity::Medium,
            status,
            suppressed,
            evaluated_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
            first_seen: DateTime::from_timestamp(1_690_000_000, 0),
        };
        let findings = vec![
            finding("ok", ComplianceStatus::Pass, false),
            finding("bad", ComplianceStatus::Fail, false),
            finding("broken", ComplianceStatus::Error("KeyError: 'x'".into()), false),
            finding("muted", ComplianceStatus::Fail, true),
        ];
        let resources =
            vec![Resource::new("arn:aws:s3:::bad", "AWS.S3.Bucket", "123456789012", "us-east-1")];
        ReportData::new(policies, findings, resources)
    }

    #[test]
    fn reports_accept_lists_single_ids_and_numbers() {
        // As YAML reads `CIS: [1.10, "1.11"]`, `FSBP: S3.1`.
        let raw = serde_json::json!({
            "Reports": {"CIS": [1.10, "1.11"], "FSBP": "S3.1"},
            "Runbook": "  fix it  ",
            "AutoRemediationID": "AWS.X.Fix",
        });
        let serde_json::Value::Object(raw) = raw else { unreachable!() };
        let spec = DetectionSpec {
            kind: DetectionKind::Policy,
            id: "X".into(),
            spec_path: "x.yml".into(),
            python_path: "x.py".into(),
            source: String::new(),
            enabled: true,
            severity: Severity::High,
            display_name: None,
            resource_types: vec![],
            log_types: vec![],
            scheduled_queries: vec![],
            suppressions: vec![],
            tests: vec![],
            raw,
        };
        let meta = PolicyMeta::from_spec(&spec);
        assert_eq!(meta.reports["CIS"], vec!["1.1", "1.11"], "YAML reads 1.10 as a number");
        assert_eq!(meta.reports["FSBP"], vec!["S3.1"]);
        assert_eq!(meta.runbook.as_deref(), Some("fix it"));
        assert_eq!(meta.auto_remediation_id.as_deref(), Some("AWS.X.Fix"));
        assert_eq!(meta.title, "X");
    }

    #[test]
    fn fail_on_counts_only_unsuppressed_fails_at_or_above() {
        let data = sample();
        assert!(data.fails_at_or_above(Severity::Low));
        assert!(data.fails_at_or_above(Severity::Medium));
        assert!(!data.fails_at_or_above(Severity::High));
    }
}
