//! `AWS.KMS.EnableKeyRotation`: turns on yearly automatic rotation of a customer managed
//! symmetric key. AWS-managed, asymmetric, imported and disabled keys cannot rotate and
//! are refused as not applicable.
//!
//! ```yaml
//! AutoRemediationID: AWS.KMS.EnableKeyRotation
//! AutoRemediationParameters: {}
//! ```

use async_trait::async_trait;
use caracal_aws::Clients;
use caracal_core::ResourceType;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{Fix, Meta, NoParams, Risk};
use crate::error::Error;
use crate::plan::{ApiCall, Planned};
use crate::sdk::aws_err;
use crate::target::Target;

/// See the module doc.
pub(crate) struct EnableKeyRotation;

#[async_trait]
impl Fix for EnableKeyRotation {
    const META: Meta = Meta {
        id: "AWS.KMS.EnableKeyRotation",
        resource_type: ResourceType::KMS_KEY,
        description: "Enable automatic rotation of the customer managed symmetric key",
        risk: Risk::Low,
        permissions: &["kms:DescribeKey", "kms:GetKeyRotationStatus", "kms:EnableKeyRotation"],
        parameters: &[],
    };
    type Params = NoParams;

    async fn check(&self, c: &Clients, t: &Target) -> Result<Value, Error> {
        let kms = c.kms();
        let meta = kms
            .describe_key()
            .key_id(&t.name)
            .send()
            .await
            .map_err(aws_err("kms:DescribeKey", t))?
            .key_metadata;
        let field = |f: Option<&str>| f.map(str::to_owned);
        let (manager, spec, state, origin) = match &meta {
            Some(m) => (
                field(m.key_manager.as_ref().map(|v| v.as_str())),
                field(m.key_spec.as_ref().map(|v| v.as_str())),
                field(m.key_state.as_ref().map(|v| v.as_str())),
                field(m.origin.as_ref().map(|v| v.as_str())),
            ),
            None => (None, None, None, None),
        };
        let rotatable = manager.as_deref() == Some("CUSTOMER")
            && spec.as_deref() == Some("SYMMETRIC_DEFAULT")
            && origin.as_deref() == Some("AWS_KMS");
        let rotation = if rotatable {
            let out = kms
                .get_key_rotation_status()
                .key_id(&t.name)
                .send()
                .await
                .map_err(aws_err("kms:GetKeyRotationStatus", t))?;
            Value::Bool(out.key_rotation_enabled)
        } else {
            Value::Null
        };
        Ok(json!({
            "KeyManager": manager, "KeySpec": spec, "KeyState": state, "Origin": origin,
            "KeyRotationEnabled": rotation,
        }))
    }

    fn plan(
        &self,
        t: &Target,
        state: &Value,
        _: &NoParams,
        _: DateTime<Utc>,
    ) -> Result<Planned, Error> {
        if state["KeyRotationEnabled"] == true {
            return Ok(Planned::compliant());
        }
        if state["KeyRotationEnabled"].is_null() {
            return Err(Error::NotApplicable {
                resource_id: t.resource_id.clone(),
                reason: format!(
                    "only customer managed symmetric AWS_KMS keys can rotate; this key is {} {} from {}",
                    state["KeyManager"], state["KeySpec"], state["Origin"]
                ),
            });
        }
        if state["KeyState"] != "Enabled" {
            return Err(Error::NotApplicable {
                resource_id: t.resource_id.clone(),
                reason: format!("the key is {}, rotation needs an enabled key", state["KeyState"]),
            });
        }
        Ok(Planned::compliant().call("kms:EnableKeyRotation", json!({ "KeyId": t.name })).change(
            state,
            "KeyRotationEnabled",
            json!(true),
        ))
    }

    async fn apply(&self, c: &Clients, t: &Target, call: &ApiCall) -> Result<(), Error> {
        c.kms()
            .enable_key_rotation()
            .key_id(call.str("KeyId")?)
            .send()
            .await
            .map_err(aws_err("kms:EnableKeyRotation", t))?;
        Ok(())
    }
}
