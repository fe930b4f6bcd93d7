//! [`Target`]: what a resource id names: its type, account, region and service identifier.

use caracal_core::ResourceType;
use caracal_core::resource::GLOBAL_REGION;
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The resource a remediation acts on, parsed from its caracal `ResourceId`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// The `ResourceId` as given.
    pub resource_id: String,
    /// The type, such as `AWS.S3.Bucket`.
    pub resource_type: String,
    /// The account; empty until resolved when the id does not carry it (S3, AMI ARNs).
    pub account_id: String,
    /// The region, `global` for IAM and account singletons; empty until resolved for S3.
    pub region: String,
    /// What the service calls it: bucket name, group/instance/volume/VPC/image id, user
    /// name, key id, trail name, table name; empty for singletons.
    pub name: String,
}

impl Target {
    /// Parses a `ResourceId` (RESOURCES.md, Envelope): an ARN, or
    /// `<account>::<Type>` / `<account>:<region>:<Type>` for singletons.
    pub fn parse(resource_id: &str) -> Result<Self, Error> {
        let unrecognized = || Error::UnrecognizedResource { resource_id: resource_id.to_owned() };
        let target = |resource_type: &str, account: &str, region: &str, name: &str| Target {
            resource_id: resource_id.to_owned(),
            resource_type: resource_type.to_owned(),
            account_id: account.to_owned(),
            region: region.to_owned(),
            name: name.to_owned(),
        };
        if !resource_id.starts_with("arn:") {
            // <account>:<region>:<Type>, region empty for account singletons.
            let mut parts = resource_id.splitn(3, ':');
            let (Some(account), Some(region), Some(kind)) =
                (parts.next(), parts.next(), parts.next())
            else {
                return Err(unrecognized());
            };
            if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
                return Err(unrecognized());
            }
            return match (kind, region.is_empty()) {
                (ResourceType::PASSWORD_POLICY, true) => {
                    Ok(target(kind, account, GLOBAL_REGION, ""))
                }
                (ResourceType::CONFIG_RECORDER | REGION_SETTINGS, false) => {
                    Ok(target(kind, account, region, ""))
                }
                _ => Err(unrecognized()),
            };
        }
        // arn:partition:service:region:account:resource
        let parts: Vec<&str> = resource_id.splitn(6, ':').collect();
        let [_, _, service, region, account, resource] = parts[..] else {
            return Err(unrecognized());
        };
        let (kind, rest) = resource.split_once('/').unwrap_or(("", resource));
        let last = rest.rsplit('/').next().unwrap_or(rest);
        let resource_type = match (service, kind) {
            ("s3", "") if !resource.is_empty() && !resource.contains('/') => {
                return Ok(target(ResourceType::S3_BUCKET, account, "", resource));
            }
            ("ec2", "security-group") => ResourceType::EC2_SECURITY_GROUP,
            ("ec2", "instance") => ResourceType::EC2_INSTANCE,
            ("ec2", "volume") => ResourceType::EC2_VOLUME,
            ("ec2", "vpc") => ResourceType::EC2_VPC,
            ("ec2", "image") => ResourceType::EC2_AMI,
            ("iam", "user") => {
                return Ok(target(ResourceType::IAM_USER, account, GLOBAL_REGION, last));
            }
            ("kms", "key") => ResourceType::KMS_KEY,
            ("cloudtrail", "trail") => ResourceType::CLOUDTRAIL,
            ("dynamodb", "table") => ResourceType::DYNAMODB_TABLE,
            _ => return Err(unrecognized()),
        };
        if region.is_empty() || last.is_empty() {
            return Err(unrecognized());
        }
        Ok(target(resource_type, account, region, last))
    }

    /// Whether the region is `global` (IAM, account singletons): home-region clients.
    pub fn is_global(&self) -> bool {
        self.region == GLOBAL_REGION
    }
}

/// `AWS.EC2.RegionSettings`: per-region EC2 account settings (EBS encryption by default,
/// snapshot block public access), id `<account>:<region>:AWS.EC2.RegionSettings`.
pub const REGION_SETTINGS: &str = caracal_core::ResourceType::EC2_REGION_SETTINGS;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_id_shape_remediations_use() {
        let cases = [
            ("arn:aws:s3:::b-1", "AWS.S3.Bucket", "", "", "b-1"),
            (
                "arn:aws:ec2:eu-west-1:123456789012:security-group/sg-1",
                "AWS.EC2.SecurityGroup",
                "123456789012",
                "eu-west-1",
                "sg-1",
            ),
            ("arn:aws:ec2:us-east-1::image/ami-1", "AWS.EC2.AMI", "", "us-east-1", "ami-1"),
            (
                "arn:aws:iam::123456789012:user/ops/alice",
                "AWS.IAM.User",
                "123456789012",
                "global",
                "alice",
            ),
            (
                "123456789012::AWS.PasswordPolicy",
                "AWS.PasswordPolicy",
                "123456789012",
                "global",
                "",
            ),
            (
                "123456789012:us-east-1:AWS.Config.Recorder",
                "AWS.Config.Recorder",
                "123456789012",
                "us-east-1",
                "",
            ),
            (
                "arn:aws:dynamodb:us-east-1:123456789012:table/t",
                "AWS.DynamoDB.Table",
                "123456789012",
                "us-east-1",
                "t",
            ),
        ];
        for (id, kind, account, region, name) in cases {
            let t = Target::parse(id).unwrap();
            assert_eq!(
                (
                    t.resource_type.as_str(),
                    t.account_id.as_str(),
                    t.region.as_str(),
                    t.name.as_str()
                ),
                (kind, account, region, name),
                "{id}"
            );
        }
    }

    #[test]
    fn rejects_ids_it_cannot_place() {
        for id in [
            "",
            "bucket",
            "arn:aws:sqs:us-east-1:1:q",
            "12:us-east-1:AWS.Config.Recorder",
            "123456789012:us-east-1:AWS.PasswordPolicy",
        ] {
            assert!(matches!(Target::parse(id), Err(Error::UnrecognizedResource { .. })), "{id}");
        }
    }
}
