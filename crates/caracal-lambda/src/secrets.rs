//! Destination secrets kept in AWS. `CARACAL_SECRETS` maps each `env:NAME` reference of
//! `caracal.toml` to a Secrets Manager secret or an SSM parameter; a cold start reads them
//! once and puts the values into the configuration, never into a log line.

use caracal_aws::{Aws, Purpose};

use crate::error::{Error, Result};
use crate::settings::Settings;

/// Where one destination secret is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    /// A Secrets Manager secret, by name or ARN; its `SecretString` is the value.
    SecretsManager(String),
    /// An SSM parameter, by name or ARN (`ssm:/caracal/hook`, or
    /// `arn:aws:ssm:REGION:ACCOUNT:parameter/caracal/hook`); a `SecureString` is decrypted.
    Parameter(String),
}

impl SecretRef {
    /// Reads one `CARACAL_SECRETS` value: `ssm:NAME` or an SSM parameter ARN is a
    /// parameter, anything else a Secrets Manager id.
    pub fn parse(id: &str) -> Self {
        if let Some(name) = id.strip_prefix("ssm:") {
            return Self::Parameter(name.to_owned());
        }
        let service = id.strip_prefix("arn:").and_then(|rest| rest.split(':').nth(1));
        match service {
            Some("ssm") => Self::Parameter(id.to_owned()),
            _ => Self::SecretsManager(id.to_owned()),
        }
    }

    /// The id as the service knows it (a name or an ARN).
    pub fn id(&self) -> &str {
        match self {
            Self::SecretsManager(id) | Self::Parameter(id) => id,
        }
    }
}

/// Reads every secret of `settings.secrets` with the function's own credentials and puts
/// each value where the configuration says `env:NAME`. The first one that can't be read
/// fails the cold start, naming it and its id (never a value).
pub async fn resolve(aws: &Aws, settings: &mut Settings) -> Result<()> {
    if settings.secrets.is_empty() {
        return Ok(());
    }
    let session = aws.session(None, Purpose::Scan).await.map_err(|e| {
        Error::App(caracal_app::Error::Invalid(format!("resolving the AWS account: {e}")))
    })?;
    let home = session.home();
    let (secrets, parameters) = (home.secretsmanager(), home.ssm());
    for (name, source) in settings.secrets.clone() {
        let value = match &source {
            SecretRef::SecretsManager(id) => secret_value(&secrets, id).await,
            SecretRef::Parameter(id) => parameter_value(&parameters, id).await,
        }
        .map_err(|reason| Error::Secret {
            name: name.clone(),
            id: source.id().to_owned(),
            reason,
        })?;
        settings.set_secret(&name, value.trim())?;
    }
    Ok(())
}

async fn secret_value(
    client: &aws_sdk_secretsmanager::Client,
    id: &str,
) -> std::result::Result<String, String> {
    let out = client
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .map_err(|e| caracal_core::error::chain(&e))?;
    out.secret_string().map(str::to_owned).ok_or_else(|| "the secret has no string value".into())
}

async fn parameter_value(
    client: &aws_sdk_ssm::Client,
    id: &str,
) -> std::result::Result<String, String> {
    let out = client
        .get_parameter()
        .name(id)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| caracal_core::error::chain(&e))?;
    out.parameter()
        .and_then(|p| p.value())
        .map(str::to_owned)
        .ok_or_else(|| "the parameter has no value".into())
}

#[cfg(test)]
mod tests {
    use super::SecretRef;

    #[test]
    fn ssm_names_and_arns_are_parameters_everything_else_a_secret() {
        assert_eq!(
            SecretRef::parse("ssm:/caracal/hook"),
            SecretRef::Parameter("/caracal/hook".into())
        );
        let arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/caracal/hook";
        assert_eq!(SecretRef::parse(arn), SecretRef::Parameter(arn.into()));
        let secret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:caracal/hook-AbCdEf";
        assert_eq!(SecretRef::parse(secret), SecretRef::SecretsManager(secret.into()));
        assert_eq!(
            SecretRef::parse("caracal/hook"),
            SecretRef::SecretsManager("caracal/hook".into())
        );
    }
}
