//! Posture lookups from detections: `caracal_posture` and the public
//! `panther_oss_helpers` names answer from the attached [`PostureLookup`].

use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::sync::Arc;

use caracal_core::{ComplianceStatus, Resource};
use caracal_python::{Engine, EngineOptions, LoadOptions, PostureLookup, pack};
use serde_json::Value;

/// An in-memory store: snapshots by id and verdicts by resource.
#[derive(Default)]
struct Fake {
    resources: HashMap<String, Value>,
    verdicts: HashMap<String, Vec<(String, String)>>,
}

impl PostureLookup for Fake {
    fn resource(&self, resource_id: &str) -> Result<Option<Value>, String> {
        if resource_id == "arn:aws:s3:::unreachable" {
            return Err("the store is down".into());
        }
        Ok(self.resources.get(resource_id).cloned())
    }
    fn compliance(&self, resource_id: &str) -> Result<Vec<(String, String)>, String> {
        Ok(self.verdicts.get(resource_id).cloned().unwrap_or_default())
    }
}

fn write(dir: &Path, name: &str, text: &str) {
    fs::write(dir.join(name), text).unwrap();
}

fn policy(dir: &Path, id: &str, source: &str) {
    let file = format!("{}.py", id.to_lowercase().replace('.', "_"));
    write(dir, &file, source);
    write(
        dir,
        &format!("{}.yml", id.to_lowercase().replace('.', "_")),
        &format!(
            "AnalysisType: policy\nPolicyID: {id}\nEnabled: true\nFilename: {file}\nSeverity: Low\nResourceTypes: [AWS.S3.Bucket]\n"
        ),
    );
}

fn engine(dir: &Path) -> Engine {
    let pack = pack::load(&[dir.to_owned()], &LoadOptions::default()).unwrap();
    assert!(pack.invalid.is_empty(), "{:?}", pack.invalid);
    let engine = Engine::new(&pack, &EngineOptions::default()).unwrap();
    assert!(engine.invalid().is_empty(), "{:?}", engine.invalid());
    engine
}

fn bucket(name: &str, peer: &str) -> Resource {
    Resource::new(format!("arn:aws:s3:::{name}"), "AWS.S3.Bucket", "123456789012", "us-east-1")
        .with("Peer", peer)
}

fn fake() -> Arc<Fake> {
    let mut fake = Fake::default();
    let logs = Resource::new("arn:aws:s3:::logs", "AWS.S3.Bucket", "123456789012", "us-east-1")
        .with("Versioning", "Enabled");
    fake.resources.insert(logs.resource_id.clone(), serde_json::to_value(&logs).unwrap());
    fake.verdicts.insert(
        logs.resource_id.clone(),
        vec![("T.Versioning".into(), "PASS".into()), ("T.Encryption".into(), "FAIL".into())],
    );
    Arc::new(fake)
}

fn statuses(engine: &Engine, resources: &[Resource]) -> Vec<(String, ComplianceStatus)> {
    let verdicts = engine.evaluate_resources(resources).unwrap();
    verdicts.into_iter().map(|v| (engine.policies()[v.policy].id.clone(), v.status)).collect()
}

#[test]
fn policies_look_up_other_resources_and_their_compliance() {
    let dir = tempfile::tempdir().unwrap();
    policy(
        dir.path(),
        "T.PeerVersioned",
        "from caracal_posture import resource_lookup, compliance_status\n\n\
         def policy(r):\n    peer = resource_lookup(r['Peer'])\n    \
         verdicts = compliance_status(r['Peer'])\n    \
         return peer['Versioning'] == 'Enabled' and verdicts == {'T.Versioning': 'PASS', 'T.Encryption': 'FAIL'} \
         and compliance_status(r['Peer'], 'T.Encryption') == 'FAIL' and compliance_status(r['Peer'], 'T.None') is None\n",
    );
    let engine = engine(dir.path());
    engine.set_posture(Some(fake())).unwrap();
    let got = statuses(
        &engine,
        &[
            bucket("a", "arn:aws:s3:::logs"),
            bucket("b", "arn:aws:s3:::gone"),
            bucket("c", "arn:aws:s3:::unreachable"),
        ],
    );
    assert_eq!(got[0].1, ComplianceStatus::Pass, "{got:?}");
    assert_eq!(
        got[1].1,
        ComplianceStatus::Error("BadLookup: arn:aws:s3:::gone not found".into()),
        "an unknown resource is a clear error"
    );
    match &got[2].1 {
        ComplianceStatus::Error(m) => assert!(m.contains("the store is down"), "{m}"),
        other => panic!("a failing store is an ERROR, not {other:?}"),
    }
}

#[test]
fn public_helper_names_answer_from_caracal_even_when_the_pack_ships_a_boto3_version() {
    let dir = tempfile::tempdir().unwrap();
    // The public helper module: a boto3 table at import and its own lookup.
    write(
        dir.path(),
        "panther_oss_helpers.py",
        "import boto3\nTABLE = boto3.resource('dynamodb', 'us-east-1').Table('panther-resources')\n\n\
         class BadLookup(Exception):\n    pass\n\n\
         def resource_lookup(resource_id):\n    return TABLE.get_item(Key={'id': resource_id})['Item']['attributes']\n\n\
         def s3_lookup_by_name(name):\n    return resource_lookup('arn:aws:s3:::' + name)\n\n\
         def in_pack_helper():\n    return 'kept'\n",
    );
    write(
        dir.path(),
        "panther_oss_helpers.yml",
        "AnalysisType: global\nGlobalID: panther_oss_helpers\nFilename: panther_oss_helpers.py\n",
    );
    policy(
        dir.path(),
        "T.ByName",
        "from panther_oss_helpers import BadLookup, in_pack_helper, s3_lookup_by_name\n\n\
         def policy(r):\n    try:\n        return s3_lookup_by_name(r['Peer'])['Versioning'] == 'Enabled' and in_pack_helper() == 'kept'\n    \
         except BadLookup:\n        return False\n",
    );
    let engine = engine(dir.path());
    engine.set_posture(Some(fake())).unwrap();
    let got = statuses(&engine, &[bucket("a", "logs"), bucket("b", "gone")]);
    assert_eq!(got[0].1, ComplianceStatus::Pass, "{got:?}");
    assert_eq!(
        got[1].1,
        ComplianceStatus::Fail,
        "BadLookup is caracal's, caught by the pack: {got:?}"
    );
}

#[test]
fn packs_without_the_helper_module_still_import_it_and_no_store_is_a_bad_lookup() {
    let dir = tempfile::tempdir().unwrap();
    policy(
        dir.path(),
        "T.Lookup",
        "from panther_oss_helpers import resource_lookup\n\n\
         def policy(r):\n    return resource_lookup(r['Peer']) is not None\n",
    );
    let engine = engine(dir.path());
    engine.set_posture(None).unwrap();
    let got = statuses(&engine, &[bucket("a", "arn:aws:s3:::logs")]);
    assert_eq!(
        got[0].1,
        ComplianceStatus::Error("BadLookup: no resource store is attached to this engine".into())
    );
    engine.set_posture(Some(fake())).unwrap();
    let got = statuses(&engine, &[bucket("a", "arn:aws:s3:::logs")]);
    assert_eq!(got[0].1, ComplianceStatus::Pass);
}
