//! DynamoDB: per unit a table without point-in-time recovery.

use caracal_aws::Clients;

use super::SeedError;
use super::error::call;

/// Unit `i`'s table; returns its name.
pub(super) async fn seed(c: &Clients, i: u32) -> Result<String, SeedError> {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    let table = format!("seed-{i}-table");
    c.dynamodb()
        .create_table()
        .table_name(&table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(call(format!("table {table}")))?,
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .map_err(call(format!("table {table}")))?,
        )
        .send()
        .await
        .map_err(call(format!("table {table}")))?;
    Ok(table)
}
