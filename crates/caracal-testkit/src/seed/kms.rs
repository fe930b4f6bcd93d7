//! KMS: per unit a key with rotation and one without.

use caracal_aws::Clients;

use super::error::call;
use super::{SeedError, SeededKey};

/// Unit `i`'s keys.
pub(super) async fn seed(c: &Clients, i: u32) -> Result<Vec<SeededKey>, SeedError> {
    let kms = c.kms();
    let mut keys = Vec::new();
    for rotation in [true, false] {
        let kind = if rotation { "rotated" } else { "unrotated" };
        let meta = kms
            .create_key()
            .description(format!("seed-{i}-{kind}"))
            .send()
            .await
            .map_err(call(format!("{kind} key of unit {i}")))?
            .key_metadata
            .ok_or_else(|| SeedError::Call {
                what: format!("{kind} key"),
                reason: "no metadata".into(),
            })?;
        if rotation {
            kms.enable_key_rotation()
                .key_id(&meta.key_id)
                .send()
                .await
                .map_err(call(format!("rotation of {}", meta.key_id)))?;
        }
        keys.push(SeededKey { id: meta.key_id, arn: meta.arn.unwrap_or_default(), rotation });
    }
    Ok(keys)
}
