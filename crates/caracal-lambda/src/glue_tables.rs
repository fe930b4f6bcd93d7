//! The lake's Glue tables for `infra/caracal.yaml`: one `AWS::Glue::Table` per log type
//! this build knows (native parsers and bundled schemas) and per match table, with the
//! columns the lake writer gives them and partition projection over the lake's hour
//! partitions, so Athena reads the lake as written without a crawler. User schemas are
//! not known here: `caracal lake ddl` makes their tables.

use caracal_core::AlertKind;
use caracal_core::event::match_table;
use caracal_logs::Tables;
use caracal_logs::glue::{self, GlueOptions, UnsupportedType};
use caracal_logs::lake::{match_schema, table_name};
use caracal_logs::lake_tables::LakeTable;
use chrono::{TimeZone, Utc};
use serde_json::{Map, Value, json};

/// The years partition projection covers in the template: fixed, so the template does
/// not change with the clock (re-generate before the last one).
pub const PROJECTION_YEARS: (i32, i32) = (2020, 2045);

/// The template parameter naming the Glue database, and the lake bucket's logical id.
const DATABASE_PARAMETER: &str = "GlueDatabaseName";
const LAKE_BUCKET: &str = "LakeBucket";
/// The database resource's logical id: tables are created after it.
const LAKE_DATABASE: &str = "LakeDatabase";

/// Every table: the log types' tables by name, then the match tables.
pub fn tables() -> Vec<LakeTable> {
    let first_hour = Utc.with_ymd_and_hms(PROJECTION_YEARS.0, 1, 1, 0, 0, 0).single();
    let first_hour = first_hour.unwrap_or_default();
    let table = |name: String, schema| LakeTable { name, schema, files: Vec::new(), first_hour };
    let mut out: Vec<LakeTable> = Tables::builtin()
        .layouts()
        .iter()
        .map(|layout| table(table_name(layout.log_type()), layout.schema()))
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    for kind in [AlertKind::Rule, AlertKind::RuleError, AlertKind::Signal] {
        out.push(table(match_table(kind).to_owned(), match_schema()));
    }
    out
}

/// The `AWS::Glue::Table` resources by logical id, their database and locations as
/// intrinsic functions of the template (`!Ref GlueDatabaseName`, `!Sub` over
/// `${LakeBucket}`).
pub fn resources() -> Result<Map<String, Value>, UnsupportedType> {
    let options = GlueOptions {
        database: DATABASE_PARAMETER.to_owned(),
        location: format!("s3://${{{LAKE_BUCKET}}}/events"),
        last_year: Some(PROJECTION_YEARS.1),
    };
    let mut resources = glue::cloudformation(&tables(), &options)?;
    for resource in resources.values_mut() {
        if let Some(props) = resource.get_mut("Properties") {
            props["DatabaseName"] = json!({ "Ref": DATABASE_PARAMETER });
        }
        resource["DependsOn"] = json!(LAKE_DATABASE);
        substitute(resource);
    }
    Ok(resources)
}

/// Turns each string that names the lake bucket into `Fn::Sub`, escaping its other
/// `${...}` (partition projection's own placeholders) as `${!...}`.
fn substitute(value: &mut Value) {
    match value {
        Value::String(s) if s.contains(&format!("${{{LAKE_BUCKET}}}")) => {
            let bucket = format!("${{{LAKE_BUCKET}}}");
            let escaped = s.replace("${", "${!").replace(&format!("${{!{LAKE_BUCKET}}}"), &bucket);
            *value = json!({ "Fn::Sub": escaped });
        }
        Value::Array(items) => items.iter_mut().for_each(substitute),
        Value::Object(map) => map.values_mut().for_each(substitute),
        _ => {}
    }
}

/// The generated block: each resource as `LogicalId:` then its JSON (YAML's flow
/// style), indented by `indent` spaces.
pub fn block(indent: usize) -> Result<String, UnsupportedType> {
    let pad = " ".repeat(indent);
    let mut out = String::new();
    for (id, resource) in resources()? {
        out.push_str(&format!("{pad}{id}:\n"));
        let text = serde_json::to_string_pretty(&resource).unwrap_or_default();
        for line in text.lines() {
            out.push_str(&format!("{pad}  {line}\n"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_reads_its_bucket_folder_and_projection_escapes_its_placeholders() {
        let resources = resources().expect("every column has a Hive type");
        assert!(resources.len() > 30, "{}", resources.len());
        let cloudtrail = &resources[&glue::logical_id("aws_cloudtrail")];
        let props = &cloudtrail["Properties"];
        assert_eq!(props["DatabaseName"], json!({"Ref": "GlueDatabaseName"}));
        let input = &props["TableInput"];
        assert_eq!(
            input["StorageDescriptor"]["Location"],
            json!({"Fn::Sub": "s3://${LakeBucket}/events/aws_cloudtrail/"})
        );
        let template =
            input["Parameters"]["storage.location.template"]["Fn::Sub"].as_str().expect("a Sub");
        assert!(template.starts_with("s3://${LakeBucket}/events/aws_cloudtrail/year=${!year}/"));
        assert_eq!(input["Parameters"]["projection.year.range"], "2020,2045");
        assert!(resources.contains_key(&glue::logical_id("rule_matches")));
    }
}
