//! Athena / Glue table definitions for the lake: `CREATE EXTERNAL TABLE` statements
//! ([`ddl`]) and the same tables as CloudFormation `AWS::Glue::Table` resources
//! ([`cloudformation`], which the serverless template reuses).
//!
//! Columns come from the tables' Arrow schemas (read from the Parquet footers, see
//! [`crate::lake_tables`]), mapped to Hive types by [`hive_type`]. Every table is
//! partitioned by `year`, `month`, `day` and `hour` (strings, zero-padded as in the
//! folder names) with partition projection, so Athena needs no crawler and no
//! `MSCK REPAIR`: the partitions are computed from the folder template.

use std::fmt::Write as _;

use arrow_schema::{DataType, Field, Schema};
use chrono::{Datelike, Utc};
use serde_json::{Map, Value, json};

use crate::lake_tables::{LakeTable, PARTITION_COLUMNS};

/// A column type Hive / Athena has no type for.
#[derive(Debug, thiserror::Error)]
#[error("table {table} column {column}: no Hive type for Arrow {data_type}")]
pub struct UnsupportedType {
    /// The table.
    pub table: String,
    /// The column (dotted for a nested field).
    pub column: String,
    /// The Arrow type.
    pub data_type: String,
}

/// Where the tables live and what they are called in Glue.
#[derive(Debug, Clone)]
pub struct GlueOptions {
    /// The Glue database.
    pub database: String,
    /// The lake's root location, such as `s3://bucket/prefix` (no trailing slash
    /// needed); each table is the folder of its name under it.
    pub location: String,
    /// The last year partition projection covers; `None`: ten years from now (a
    /// template that must not change with the clock gives one).
    pub last_year: Option<i32>,
}

impl GlueOptions {
    fn table_location(&self, table: &str) -> String {
        format!("{}/{table}/", self.location.trim_end_matches('/'))
    }
}

/// The Hive type of an Arrow type (`ARRAY<STRING>`, `STRUCT<a:BIGINT>`, ...); `Err` names
/// the Arrow type that has none. Nested field names are not quoted: Glue stores them as
/// written.
pub fn hive_type(data_type: &DataType) -> Result<String, String> {
    let t = match data_type {
        DataType::Boolean => "BOOLEAN".into(),
        DataType::Int8 => "TINYINT".into(),
        DataType::Int16 | DataType::UInt8 => "SMALLINT".into(),
        DataType::Int32 | DataType::UInt16 => "INT".into(),
        DataType::Int64 | DataType::UInt32 => "BIGINT".into(),
        DataType::UInt64 => "DECIMAL(20,0)".into(),
        DataType::Float16 | DataType::Float32 => "FLOAT".into(),
        DataType::Float64 => "DOUBLE".into(),
        DataType::Decimal32(p, s)
        | DataType::Decimal64(p, s)
        | DataType::Decimal128(p, s)
        | DataType::Decimal256(p, s) => format!("DECIMAL({p},{s})"),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "STRING".into(),
        // A column no file gave a value yet: read as strings until one does.
        DataType::Null => "STRING".into(),
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => "BINARY".into(),
        DataType::Date32 | DataType::Date64 => "DATE".into(),
        DataType::Timestamp(_, _) => "TIMESTAMP".into(),
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::ListView(f)
        | DataType::LargeListView(f)
        | DataType::FixedSizeList(f, _) => format!("ARRAY<{}>", hive_type(f.data_type())?),
        DataType::Struct(fields) => {
            let inner = fields
                .iter()
                .map(|f| Ok(format!("{}:{}", f.name(), hive_type(f.data_type())?)))
                .collect::<Result<Vec<_>, String>>()?;
            format!("STRUCT<{}>", inner.join(","))
        }
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => {
                format!("MAP<{},{}>", hive_type(kv[0].data_type())?, hive_type(kv[1].data_type())?)
            }
            other => return Err(other.to_string()),
        },
        DataType::Dictionary(_, values) => hive_type(values)?,
        other => return Err(other.to_string()),
    };
    Ok(t)
}

fn columns(table: &LakeTable) -> Result<Vec<(String, String)>, UnsupportedType> {
    table
        .schema
        .fields()
        .iter()
        .map(|f| {
            let t = hive_type(f.data_type()).map_err(|data_type| UnsupportedType {
                table: table.name.clone(),
                column: f.name().clone(),
                data_type,
            })?;
            Ok((f.name().clone(), t))
        })
        .collect()
}

/// A backtick-quoted Hive identifier.
fn quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// A single-quoted Hive string literal.
fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// The partition projection properties of a table: integer ranges for the four partition
/// columns (from the table's first year to ten years ahead) and the folder template.
pub fn projection_properties(table: &LakeTable, options: &GlueOptions) -> Vec<(String, String)> {
    let first_year = table.first_hour.year();
    let last_year = options.last_year.unwrap_or_else(|| Utc::now().year() + 10).max(first_year);
    let location = options.table_location(&table.name);
    let mut props = vec![
        ("classification".to_owned(), "parquet".to_owned()),
        ("parquet.compression".to_owned(), "ZSTD".to_owned()),
        ("projection.enabled".to_owned(), "true".to_owned()),
    ];
    let ranges = [
        ("year", format!("{first_year},{last_year}"), 4),
        ("month", "1,12".to_owned(), 2),
        ("day", "1,31".to_owned(), 2),
        ("hour", "0,23".to_owned(), 2),
    ];
    for (column, range, digits) in ranges {
        props.push((format!("projection.{column}.type"), "integer".into()));
        props.push((format!("projection.{column}.range"), range));
        props.push((format!("projection.{column}.digits"), digits.to_string()));
    }
    props.push((
        "storage.location.template".to_owned(),
        format!("{location}year=${{year}}/month=${{month}}/day=${{day}}/hour=${{hour}}"),
    ));
    props
}

/// `CREATE EXTERNAL TABLE IF NOT EXISTS` statements, one per table, each ending in `;`.
pub fn ddl(tables: &[LakeTable], options: &GlueOptions) -> Result<String, UnsupportedType> {
    let mut out = String::new();
    for table in tables {
        let cols = columns(table)?;
        let _ = writeln!(
            out,
            "CREATE EXTERNAL TABLE IF NOT EXISTS {}.{} (",
            quote(&options.database),
            quote(&table.name)
        );
        let body: Vec<String> =
            cols.iter().map(|(name, t)| format!("  {} {t}", quote(name))).collect();
        let _ = writeln!(out, "{}\n)", body.join(",\n"));
        let parts: Vec<String> =
            PARTITION_COLUMNS.iter().map(|c| format!("{} STRING", quote(c))).collect();
        let _ = writeln!(out, "PARTITIONED BY ({})", parts.join(", "));
        let _ = writeln!(out, "STORED AS PARQUET");
        let _ = writeln!(out, "LOCATION {}", literal(&options.table_location(&table.name)));
        let props: Vec<String> = projection_properties(table, options)
            .iter()
            .map(|(k, v)| format!("  {}={}", literal(k), literal(v)))
            .collect();
        let _ = writeln!(out, "TBLPROPERTIES (\n{}\n);\n", props.join(",\n"));
    }
    Ok(out)
}

/// The logical id of a table's CloudFormation resource: `GlueTable` plus the table name in
/// CamelCase (logical ids are alphanumeric).
pub fn logical_id(table: &str) -> String {
    let mut id = String::from("GlueTable");
    for part in table.split(|c: char| !c.is_ascii_alphanumeric()).filter(|p| !p.is_empty()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            id.push(first.to_ascii_uppercase());
            id.extend(chars);
        }
    }
    id
}

/// The tables as CloudFormation `AWS::Glue::Table` resources, keyed by [`logical_id`]
/// (a `Resources` map to merge into a template). Glue wants lowercase type names.
pub fn cloudformation(
    tables: &[LakeTable],
    options: &GlueOptions,
) -> Result<Map<String, Value>, UnsupportedType> {
    let mut resources = Map::new();
    for table in tables {
        let cols: Vec<Value> = columns(table)?
            .into_iter()
            .map(|(name, t)| json!({ "Name": name, "Type": t.to_lowercase() }))
            .collect();
        let partition_keys: Vec<Value> =
            PARTITION_COLUMNS.iter().map(|c| json!({ "Name": c, "Type": "string" })).collect();
        let mut parameters: Map<String, Value> = projection_properties(table, options)
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        parameters.insert("EXTERNAL".into(), "TRUE".into());
        let resource = json!({
            "Type": "AWS::Glue::Table",
            "Properties": {
                "CatalogId": { "Ref": "AWS::AccountId" },
                "DatabaseName": options.database,
                "TableInput": {
                    "Name": table.name,
                    "TableType": "EXTERNAL_TABLE",
                    "Parameters": parameters,
                    "PartitionKeys": partition_keys,
                    "StorageDescriptor": {
                        "Columns": cols,
                        "Location": options.table_location(&table.name),
                        "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                        "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
                        "SerdeInfo": {
                            "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
                        }
                    }
                }
            }
        });
        resources.insert(logical_id(&table.name), resource);
    }
    Ok(resources)
}

/// A whole CloudFormation template (JSON) holding the tables of [`cloudformation`].
pub fn cloudformation_template(
    tables: &[LakeTable],
    options: &GlueOptions,
) -> Result<Value, UnsupportedType> {
    Ok(json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!("caracal lake tables in Glue database {}", options.database),
        "Resources": cloudformation(tables, options)?,
    }))
}

/// Column names of a schema, nested struct fields as `parent.child` (lists of structs
/// as `parent.child` too): what a DDL must name.
pub fn column_paths(schema: &Schema) -> Vec<String> {
    fn visit(prefix: &str, field: &Field, out: &mut Vec<String>) {
        let name = if prefix.is_empty() {
            field.name().clone()
        } else {
            format!("{prefix}.{}", field.name())
        };
        out.push(name.clone());
        let mut inner = field.data_type();
        while let DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) = inner
        {
            inner = f.data_type();
        }
        if let DataType::Struct(fields) = inner {
            for f in fields {
                visit(&name, f, out);
            }
        }
    }
    let mut out = Vec::new();
    for f in schema.fields() {
        visit("", f, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_schema::{Fields, TimeUnit};
    use chrono::TimeZone;

    use super::*;

    fn table() -> LakeTable {
        let item = Arc::new(Field::new("item", DataType::Utf8, true));
        let inner = Fields::from(vec![
            Field::new("userName", DataType::Utf8, true),
            Field::new("mfa", DataType::Boolean, true),
        ]);
        LakeTable {
            name: "aws_cloudtrail".into(),
            schema: Arc::new(Schema::new(vec![
                Field::new(
                    "p_event_time",
                    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                    false,
                ),
                Field::new("p_any_ip_addresses", DataType::List(item), true),
                Field::new("userIdentity", DataType::Struct(inner), true),
                Field::new("bytes", DataType::Int64, true),
            ])),
            files: vec![],
            first_hour: Utc.with_ymd_and_hms(2023, 5, 1, 0, 0, 0).single().expect("time"),
        }
    }

    fn options() -> GlueOptions {
        GlueOptions {
            database: "caracal".into(),
            location: "s3://lake/prefix/".into(),
            last_year: None,
        }
    }

    #[test]
    fn arrow_types_map_to_hive_types() {
        let cols = columns(&table()).expect("columns");
        let types: Vec<&str> = cols.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(
            types,
            ["TIMESTAMP", "ARRAY<STRING>", "STRUCT<userName:STRING,mfa:BOOLEAN>", "BIGINT"]
        );
        let err = hive_type(&DataType::Duration(TimeUnit::Second)).expect_err("no hive type");
        assert!(err.contains("Duration"), "{err}");
    }

    #[test]
    fn ddl_has_partitions_projection_and_location() {
        let text = ddl(&[table()], &options()).expect("ddl");
        assert!(
            text.starts_with("CREATE EXTERNAL TABLE IF NOT EXISTS `caracal`.`aws_cloudtrail` (")
        );
        assert!(text.contains(
            "PARTITIONED BY (`year` STRING, `month` STRING, `day` STRING, `hour` STRING)"
        ));
        assert!(text.contains("LOCATION 's3://lake/prefix/aws_cloudtrail/'"));
        assert!(text.contains("'projection.year.range'='2023,"), "{text}");
        assert!(text.contains(
            "'storage.location.template'='s3://lake/prefix/aws_cloudtrail/year=${year}/month=${month}/day=${day}/hour=${hour}'"
        ));
    }

    #[test]
    fn cloudformation_resource_names_columns_and_partitions() {
        let res = cloudformation(&[table()], &options()).expect("cfn");
        let t = &res["GlueTableAwsCloudtrail"];
        assert_eq!(t["Type"], "AWS::Glue::Table");
        let input = &t["Properties"]["TableInput"];
        assert_eq!(
            input["StorageDescriptor"]["Columns"][2]["Type"],
            "struct<username:string,mfa:boolean>"
        );
        assert_eq!(input["PartitionKeys"].as_array().map(Vec::len), Some(4));
        assert_eq!(input["Parameters"]["projection.enabled"], "true");
    }

    #[test]
    fn column_paths_name_nested_fields() {
        let paths = column_paths(&table().schema);
        assert!(paths.contains(&"userIdentity.userName".to_owned()), "{paths:?}");
    }
}
