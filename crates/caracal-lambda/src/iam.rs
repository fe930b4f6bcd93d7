//! The IAM actions the templates grant, generated from the code's registries so that a
//! new collector or remediation cannot silently lack (or gain) a permission:
//! [`scan_actions`] from the collectors, [`remediation_actions`] from the remediation
//! catalog. `infra/*.yaml` hold them between `# BEGIN generated: NAME` and
//! `# END generated: NAME` lines, written by [`generated_block`]; a test checks every
//! block (and rewrites them with `CARACAL_BLESS=1`).

use std::collections::BTreeSet;

/// Every action a collector calls: the read-only scanning policy.
pub fn scan_actions() -> Vec<String> {
    let set: BTreeSet<String> = caracal_scan::COLLECTORS
        .iter()
        .flat_map(|c| c.permissions().iter().map(|p| (*p).to_owned()))
        .collect();
    set.into_iter().collect()
}

/// Every action a remediation declares (its catalog `permissions`): the remediation
/// policy, exactly.
pub fn remediation_actions() -> Vec<String> {
    let set: BTreeSet<String> = caracal_remediate::REMEDIATIONS
        .iter()
        .flat_map(|r| r.meta().permissions.iter().map(|p| (*p).to_owned()))
        .collect();
    set.into_iter().collect()
}

/// The lines of a generated block for `name` (`scan-actions` or `remediation-actions`),
/// as YAML list items indented by `indent` spaces; `None` for an unknown name.
pub fn generated_block(name: &str, indent: usize) -> Option<String> {
    let actions = match name {
        "scan-actions" => scan_actions(),
        "remediation-actions" => remediation_actions(),
        _ => return None,
    };
    let pad = " ".repeat(indent);
    Some(actions.iter().map(|a| format!("{pad}- {a}\n")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_service_prefixed_and_remediations_can_write() {
        for a in scan_actions().iter().chain(&remediation_actions()) {
            assert!(a.split_once(':').is_some_and(|(s, n)| !s.is_empty() && !n.is_empty()), "{a}");
        }
        assert!(remediation_actions().iter().any(|a| a == "s3:PutBucketPublicAccessBlock"));
        let block = generated_block("scan-actions", 2).unwrap();
        assert!(block.lines().all(|l| l.starts_with("  - ")));
        assert!(generated_block("nope", 0).is_none());
    }
}
