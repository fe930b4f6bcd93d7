//! [`Target`]: what a resource id names: its type, account, region and service identifier.

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
    /// `<account>::<Type>` / `<account>:<region>:<Type>` for singletons. The forms are
    /// those the collectors declare ([`caracal_scan::place`]), so every scanned type parses.
    pub fn parse(resource_id: &str) -> Result<Self, Error> {
        let placed = caracal_scan::place(resource_id)
            .ok_or_else(|| Error::UnrecognizedResource { resource_id: resource_id.to_owned() })?;
        Ok(Target {
            resource_id: resource_id.to_owned(),
            resource_type: placed.resource_type.to_owned(),
            account_id: placed.account_id,
            region: placed.region,
            name: placed.name,
        })
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
            // Types with no arm anywhere: their collectors' id shapes place them.
            (
                "arn:aws:lambda:us-east-1:123456789012:function:f",
                "AWS.Lambda.Function",
                "123456789012",
                "us-east-1",
                "f",
            ),
            (
                "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/f",
                "AWS.CloudWatch.LogGroup",
                "123456789012",
                "us-east-1",
                "/aws/lambda/f",
            ),
            (
                "123456789012::AWS.S3.AccountSettings",
                "AWS.S3.AccountSettings",
                "123456789012",
                "global",
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
