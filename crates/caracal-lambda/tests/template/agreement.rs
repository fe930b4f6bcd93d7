//! The templates agree with the code without deploying anything.

use std::collections::BTreeSet;
use std::path::Path;

use caracal_lambda::functions::{COMMON_ENV, OPTIONAL_ENV};
use caracal_lambda::{FUNCTIONS, Settings, iam};
use serde_norway::Value;

use crate::{at, repo, strings, template, templates};

/// The built binary of each function (cargo builds them for this test).
fn binary(name: &str) -> Option<&'static str> {
    Some(match name {
        "caracal-api" => env!("CARGO_BIN_EXE_caracal-api"),
        "caracal-change-events" => env!("CARGO_BIN_EXE_caracal-change-events"),
        "caracal-log-processor" => env!("CARGO_BIN_EXE_caracal-log-processor"),
        "caracal-remediator" => env!("CARGO_BIN_EXE_caracal-remediator"),
        "caracal-scan-scheduler" => env!("CARGO_BIN_EXE_caracal-scan-scheduler"),
        "caracal-scanner" => env!("CARGO_BIN_EXE_caracal-scanner"),
        _ => return None,
    })
}

#[test]
fn every_function_has_its_binary_and_exactly_the_environment_it_reads() {
    let main = template("caracal.yaml");
    let resources = main.get("Resources").expect("Resources");
    let declared: BTreeSet<String> = resources
        .as_mapping()
        .expect("mapping")
        .iter()
        .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some("AWS::Lambda::Function"))
        .filter_map(|(k, _)| k.as_str().map(str::to_owned))
        .collect();
    let registered: BTreeSet<String> = FUNCTIONS.iter().map(|f| f.resource.to_owned()).collect();
    assert_eq!(declared, registered, "Lambda functions in the template vs FUNCTIONS");

    for spec in FUNCTIONS {
        let props = at(resources, &[spec.resource, "Properties"]).expect("properties");
        assert_eq!(
            props.get("PackageType").and_then(Value::as_str),
            Some("Image"),
            "{}",
            spec.name
        );
        let command = strings(at(props, &["ImageConfig", "Command"]));
        assert_eq!(command, [spec.binary], "{} runs its binary", spec.name);
        let path = binary(spec.binary).unwrap_or_else(|| panic!("no [[bin]] {}", spec.binary));
        assert!(Path::new(path).is_file(), "{path} was not built");

        let vars = at(props, &["Environment", "Variables"]).and_then(Value::as_mapping);
        let set: BTreeSet<String> =
            vars.into_iter().flatten().filter_map(|(k, _)| k.as_str().map(str::to_owned)).collect();
        let required: BTreeSet<String> =
            spec.required_env().iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(
            set, required,
            "{}: the template sets exactly what the function requires",
            spec.name
        );

        // What the code actually asks for: every required variable, and nothing the
        // registry does not know of.
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("caracal.toml");
        std::fs::write(&config, "").unwrap();
        let asked = std::sync::Mutex::new(BTreeSet::new());
        let value = |name: &str| -> Option<String> {
            asked.lock().unwrap().insert(name.to_owned());
            Some(match name {
                "CARACAL_CONFIG" => config.display().to_string(),
                "CARACAL_STORE" => "dynamodb".into(),
                "CARACAL_REGIONS" => "us-east-1".into(),
                "CARACAL_LAKE" => "s3://lake/events".into(),
                "CARACAL_ENDPOINT_URL" => "http://127.0.0.1:1".into(),
                "CARACAL_SECRETS" => String::new(),
                "CARACAL_SCHEDULE" => "0 * * * *".into(),
                "CARACAL_SCAN_SOURCE" => "auto".into(),
                _ => "x".into(),
            })
        };
        Settings::from_lookup(spec, value).expect("settings from a full environment");
        let asked = asked.into_inner().unwrap();
        let known: BTreeSet<String> = required
            .iter()
            .cloned()
            .chain(OPTIONAL_ENV.iter().map(|s| (*s).to_owned()))
            .chain(FUNCTIONS.iter().flat_map(|f| f.env.iter().map(|s| (*s).to_owned())))
            .collect();
        assert!(
            required.is_subset(&asked),
            "{}: required but never read: {:?}",
            spec.name,
            required.difference(&asked)
        );
        assert!(
            asked.is_subset(&known),
            "{}: reads undeclared {:?}",
            spec.name,
            asked.difference(&known)
        );
    }
    assert!(COMMON_ENV.contains(&"CARACAL_CONFIG"));
}

/// `# BEGIN generated: NAME` ... `# END generated: NAME` blocks hold exactly what
/// [`caracal_lambda::generated_block`] makes; `CARACAL_BLESS=1` rewrites them.
#[test]
fn generated_blocks_are_current() {
    let bless = std::env::var_os("CARACAL_BLESS").is_some();
    let mut blocks = 0;
    for path in templates() {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut out = String::new();
        let mut lines = text.split_inclusive('\n');
        let mut stale = Vec::new();
        while let Some(line) = lines.next() {
            out.push_str(line);
            let Some(name) = line.trim().strip_prefix("# BEGIN generated: ") else { continue };
            let indent = line.len() - line.trim_start().len();
            let want = caracal_lambda::generated_block(name, indent)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let end = format!("# END generated: {name}");
            let mut have = String::new();
            let mut end_line = None;
            for inner in lines.by_ref() {
                if inner.trim() == end {
                    end_line = Some(inner);
                    break;
                }
                have.push_str(inner);
            }
            let end_line =
                end_line.unwrap_or_else(|| panic!("{}: {name} block has no end", path.display()));
            if have != want {
                stale.push(name.to_owned());
            }
            out.push_str(&want);
            out.push_str(end_line);
            blocks += 1;
        }
        if bless && out != text {
            std::fs::write(&path, &out).unwrap();
        } else {
            assert!(
                stale.is_empty(),
                "{}: stale generated blocks {stale:?}; run CARACAL_BLESS=1 cargo nextest run -p caracal-lambda generated",
                path.display()
            );
        }
    }
    assert!(blocks >= 5, "the templates hold their generated blocks");
}

fn statement<'a>(policy: &'a Value, sid: &str) -> &'a Value {
    at(policy, &["Properties", "PolicyDocument", "Statement"])
        .and_then(Value::as_sequence)
        .and_then(|s| s.iter().find(|st| st.get("Sid").and_then(Value::as_str) == Some(sid)))
        .unwrap_or_else(|| panic!("no statement {sid}"))
}

#[test]
fn the_remediation_role_holds_exactly_the_catalog_and_no_other_role_can_write() {
    let catalog = iam::remediation_actions();
    let main = template("caracal.yaml");
    let resources = main.get("Resources").unwrap();
    let policy = resources.get("RemediationPolicy").unwrap();
    assert_eq!(strings(statement(policy, "RemediationCatalog").get("Action")), catalog);
    // The catalog's writes (actions no collector needs) are granted nowhere else.
    let reads: BTreeSet<String> = iam::scan_actions().into_iter().collect();
    let writes: Vec<&String> = catalog.iter().filter(|a| !reads.contains(*a)).collect();
    assert!(!writes.is_empty());
    for (name, resource) in resources.as_mapping().unwrap() {
        if name.as_str() == Some("RemediationPolicy") {
            continue;
        }
        let text = serde_norway::to_string(resource).unwrap();
        for w in &writes {
            assert!(!text.contains(w.as_str()), "{name:?} grants the remediation action {w}");
        }
    }
    let member = template("member-account-roles.yaml");
    let role = at(&member, &["Resources", "RemediationRole", "Properties", "Policies"])
        .and_then(Value::as_sequence)
        .and_then(|p| p.first())
        .and_then(|p| at(p, &["PolicyDocument", "Statement"]))
        .and_then(Value::as_sequence)
        .and_then(|s| {
            s.iter().find(|st| st.get("Sid").and_then(Value::as_str) == Some("RemediationCatalog"))
        })
        .expect("member remediation statement");
    assert_eq!(strings(role.get("Action")), catalog);
    let scan = at(resources, &["ScanReadPolicy"])
        .map(|p| strings(statement(p, "Collectors").get("Action")));
    assert_eq!(scan, Some(iam::scan_actions()));
}

#[test]
fn the_readme_lists_what_the_emulator_cannot_create_and_the_glue_tables_owner() {
    let readme = std::fs::read_to_string(repo("infra/README.md")).unwrap();
    for t in crate::deploy::EMULATOR_SKIPS {
        assert!(readme.contains(t), "infra/README.md does not list {t}");
    }
    assert!(readme.contains("Glue table"), "infra/README.md says who makes the Glue tables");
}

#[test]
fn the_image_configuration_parses_and_names_the_packs_the_dockerfile_copies() {
    let config = caracal_core::Config::load(&repo("infra/lambda.caracal.toml")).expect("parses");
    let dockerfile = std::fs::read_to_string(repo("infra/Dockerfile")).unwrap();
    for path in config.policies.paths.iter().chain(&config.rules.paths) {
        let path = path.display().to_string();
        assert!(
            dockerfile.contains(&format!("/ {path}/")),
            "the Dockerfile copies nothing to {path}"
        );
    }
    for spec in FUNCTIONS {
        assert!(
            dockerfile.contains(&format!("target/release/{}", spec.binary)),
            "{} not in the image",
            spec.binary
        );
    }
    assert!(dockerfile.contains("COPY infra/lambda.caracal.toml /opt/caracal/caracal.toml"));
}

/// The log processor may assume exactly the role `log-source-role.yaml` creates by
/// default, and that role trusts the processor's role (with the source's external id).
#[test]
fn the_log_source_role_and_the_log_processor_agree_on_names() {
    let main = template("caracal.yaml");
    let reader = template("log-source-role.yaml");
    let default = |t: &Value, name: &str| {
        at(t, &["Parameters", name, "Default"]).and_then(Value::as_str).map(str::to_owned)
    };
    let name = default(&main, "LogReaderRoleName").expect("LogReaderRoleName default");
    assert_eq!(default(&reader, "RoleName").as_deref(), Some(name.as_str()));
    let processor = at(&main, &["Resources", "LogProcessorRole", "Properties", "Policies"])
        .map(|p| serde_norway::to_string(p).unwrap())
        .expect("log processor policies");
    assert!(processor.contains("sts:AssumeRole"), "{processor}");
    assert!(processor.contains(":role/${LogReaderRoleName}"), "{processor}");
    assert!(
        at(&main, &["Outputs", "LogProcessorRoleArn"]).is_some(),
        "the main stack outputs the ARN the reader role trusts"
    );
    let trust =
        at(&reader, &["Resources", "LogReaderRole", "Properties", "AssumeRolePolicyDocument"])
            .map(|p| serde_norway::to_string(p).unwrap())
            .expect("trust policy");
    assert!(trust.contains("CaracalLogProcessorRoleArn"), "{trust}");
    assert!(trust.contains("sts:ExternalId"), "{trust}");
}
