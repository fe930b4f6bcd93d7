//! Secrets Manager: per unit a secret that never rotates.

use caracal_aws::Clients;

use super::error::call;
use super::{SeedError, SeededSecret};

/// Unit `i`'s secret.
pub(super) async fn seed(c: &Clients, i: u32) -> Result<SeededSecret, SeedError> {
    let name = format!("seed-{i}-secret");
    let arn = c
        .secretsmanager()
        .create_secret()
        .name(&name)
        .secret_string("not-a-real-secret")
        .tags(
            aws_sdk_secretsmanager::types::Tag::builder().key("caracal:seed").value("true").build(),
        )
        .send()
        .await
        .map_err(call(format!("secret {name}")))?
        .arn
        .unwrap_or_default();
    Ok(SeededSecret { name, arn, rotation: false })
}
