//! The resource snapshot envelope (see `shared/RESOURCES.md`).
//!
//! A [`Resource`] serializes to one flat JSON object: the envelope keys (`ResourceId`,
//! `ResourceType`, `AccountId`, ...) beside the service's own attributes, which is the
//! shape panther-analysis policies read.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A resource type id such as `AWS.S3.Bucket`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ResourceType(String);

impl ResourceType {
    /// `AWS.S3.Bucket`.
    pub const S3_BUCKET: &'static str = "AWS.S3.Bucket";
    /// `AWS.EC2.Instance`.
    pub const EC2_INSTANCE: &'static str = "AWS.EC2.Instance";
    /// `AWS.EC2.SecurityGroup`.
    pub const EC2_SECURITY_GROUP: &'static str = "AWS.EC2.SecurityGroup";
    /// `AWS.EC2.Volume`.
    pub const EC2_VOLUME: &'static str = "AWS.EC2.Volume";
    /// `AWS.EC2.VPC`.
    pub const EC2_VPC: &'static str = "AWS.EC2.VPC";
    /// `AWS.EC2.NetworkACL`.
    pub const EC2_NETWORK_ACL: &'static str = "AWS.EC2.NetworkACL";
    /// `AWS.EC2.RegionSettings`: per-region EC2 account settings, id
    /// `<account>:<region>:AWS.EC2.RegionSettings`.
    pub const EC2_REGION_SETTINGS: &'static str = "AWS.EC2.RegionSettings";
    /// `AWS.EC2.AMI`.
    pub const EC2_AMI: &'static str = "AWS.EC2.AMI";
    /// `AWS.IAM.User`.
    pub const IAM_USER: &'static str = "AWS.IAM.User";
    /// `AWS.IAM.RootUser`.
    pub const IAM_ROOT_USER: &'static str = "AWS.IAM.RootUser";
    /// `AWS.IAM.Role`.
    pub const IAM_ROLE: &'static str = "AWS.IAM.Role";
    /// `AWS.IAM.Group`.
    pub const IAM_GROUP: &'static str = "AWS.IAM.Group";
    /// `AWS.IAM.Policy`.
    pub const IAM_POLICY: &'static str = "AWS.IAM.Policy";
    /// `AWS.PasswordPolicy`.
    pub const PASSWORD_POLICY: &'static str = "AWS.PasswordPolicy";
    /// `AWS.Config.Recorder`.
    pub const CONFIG_RECORDER: &'static str = "AWS.Config.Recorder";
    /// `AWS.Config.Recorder.Meta`.
    pub const CONFIG_RECORDER_META: &'static str = "AWS.Config.Recorder.Meta";
    /// `AWS.CloudTrail`.
    pub const CLOUDTRAIL: &'static str = "AWS.CloudTrail";
    /// `AWS.CloudTrail.Meta`.
    pub const CLOUDTRAIL_META: &'static str = "AWS.CloudTrail.Meta";
    /// `AWS.KMS.Key`.
    pub const KMS_KEY: &'static str = "AWS.KMS.Key";
    /// `AWS.DynamoDB.Table`.
    pub const DYNAMODB_TABLE: &'static str = "AWS.DynamoDB.Table";

    /// Wraps a type id.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The type id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for ResourceType {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

impl PartialEq<&str> for ResourceType {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// The region value of global resources (IAM, account singletons).
pub const GLOBAL_REGION: &str = "global";

/// The envelope's keys (RESOURCES.md): fields of [`Resource`], never attributes.
pub const ENVELOPE_KEYS: [&str; 9] = [
    "ResourceId",
    "ResourceType",
    "AccountId",
    "Region",
    "Arn",
    "Id",
    "Name",
    "Tags",
    "TimeCreated",
];

/// One snapshot of one cloud resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Resource {
    /// The ARN where AWS has one, else a synthetic id (RESOURCES.md, Envelope).
    pub resource_id: String,
    /// The type id, such as `AWS.S3.Bucket`.
    pub resource_type: ResourceType,
    /// The 12-digit account id.
    pub account_id: String,
    /// The region, or `global`.
    pub region: String,
    /// The ARN, where the type has one.
    #[serde(default)]
    pub arn: Option<String>,
    /// The service's own id (instance id, key id), where meaningful.
    #[serde(default)]
    pub id: Option<String>,
    /// The resource's name, where meaningful.
    #[serde(default)]
    pub name: Option<String>,
    /// Tags; always present, possibly empty.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Creation time in UTC, where AWS reports one.
    #[serde(default)]
    pub time_created: Option<DateTime<Utc>>,
    /// The service's attributes under their AWS field names.
    #[serde(flatten)]
    pub attributes: Map<String, Value>,
}

impl Resource {
    /// A resource with an empty attribute map.
    pub fn new(
        resource_id: impl Into<String>,
        resource_type: impl Into<ResourceType>,
        account_id: impl Into<String>,
        region: impl Into<String>,
    ) -> Self {
        Self {
            resource_id: resource_id.into(),
            resource_type: resource_type.into(),
            account_id: account_id.into(),
            region: region.into(),
            arn: None,
            id: None,
            name: None,
            tags: BTreeMap::new(),
            time_created: None,
            attributes: Map::new(),
        }
    }

    /// Sets one attribute, builder style. An envelope key (`Name`, `Arn`, `Id`, `Tags`,
    /// `TimeCreated`, ...) sets that field instead, so a snapshot never carries the same
    /// key twice (its JSON would not read back); a value of the wrong shape clears it.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        let value = value.into();
        let text = || value.as_str().map(str::to_owned);
        match key {
            "ResourceId" => self.resource_id = text().unwrap_or_default(),
            "ResourceType" => {
                self.resource_type = ResourceType::from(value.as_str().unwrap_or_default())
            }
            "AccountId" => self.account_id = text().unwrap_or_default(),
            "Region" => self.region = text().unwrap_or_default(),
            "Arn" => self.arn = text(),
            "Id" => self.id = text(),
            "Name" => self.name = text(),
            "Tags" => self.tags = serde_json::from_value(value).unwrap_or_default(),
            "TimeCreated" => self.time_created = serde_json::from_value(value).unwrap_or_default(),
            _ => {
                self.attributes.insert(key.to_owned(), value);
            }
        }
        self
    }

    /// The first attribute whose key belongs to the envelope, if any: such a snapshot
    /// serializes the key twice and cannot be read back, so stores refuse it.
    pub fn envelope_clash(&self) -> Option<&str> {
        ENVELOPE_KEYS.into_iter().find(|k| self.attributes.contains_key(*k))
    }

    /// The whole snapshot as the flat JSON object policies read.
    pub fn to_json(&self) -> Value {
        // Serializing a struct of strings, maps and JSON values cannot fail.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// A stable fingerprint of the snapshot's content, used to tell changed from unchanged.
    ///
    /// Keys are sorted (serde_json maps are ordered), so equal content gives equal text.
    pub fn content_hash(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let text = serde_json::to_string(self).unwrap_or_default();
        // FNV-1a: stable across processes and Rust versions, unlike DefaultHasher.
        let mut hasher = Fnv1a::default();
        text.hash(&mut hasher);
        hasher.finish()
    }
}

#[derive(Default)]
struct Fnv1a(u64);

impl std::hash::Hasher for Fnv1a {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        if self.0 == 0 {
            self.0 = 0xcbf2_9ce4_8422_2325;
        }
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// What happened to a resource between two scans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// First seen.
    Created,
    /// Seen before with different content.
    Modified,
    /// Seen before, missing from a complete, successful listing.
    Deleted,
}

impl ChangeKind {
    /// The lowercase name used in storage and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Modified => "modified",
            Self::Deleted => "deleted",
        }
    }

    /// Parses [`ChangeKind::as_str`]'s output.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "created" => Some(Self::Created),
            "modified" => Some(Self::Modified),
            "deleted" => Some(Self::Deleted),
            _ => None,
        }
    }
}

/// One entry of a resource's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceChange {
    /// The resource.
    pub resource_id: String,
    /// When the change was observed.
    pub observed_at: DateTime<Utc>,
    /// What changed.
    pub kind: ChangeKind,
    /// The snapshot after the change (before it, for deletions).
    pub snapshot: Resource,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_keys_set_fields_never_attributes() {
        let r = Resource::new("arn:aws:s3:::b", "AWS.S3.Bucket", "123456789012", "us-east-1")
            .with("Name", "b")
            .with("Tags", serde_json::json!({"env": "prod"}))
            .with("Arn", "arn:aws:s3:::b")
            .with("Versioning", "Enabled");
        assert_eq!(r.name.as_deref(), Some("b"));
        assert_eq!(r.tags.get("env").map(String::as_str), Some("prod"));
        assert_eq!(r.envelope_clash(), None);
        let back: Resource = serde_json::from_value(r.to_json()).unwrap();
        assert_eq!(back, r);
        let mut bad = r.clone();
        bad.attributes.insert("Name".into(), "other".into());
        assert_eq!(bad.envelope_clash(), Some("Name"));
    }
    use serde_json::json;

    #[test]
    fn serializes_flat_with_panther_field_names() {
        let r =
            Resource::new("arn:aws:s3:::b", ResourceType::S3_BUCKET, "123456789012", "us-east-1")
                .with("Versioning", Value::Null)
                .with("Grants", json!([]));
        let v = r.to_json();
        assert_eq!(v["ResourceId"], "arn:aws:s3:::b");
        assert_eq!(v["ResourceType"], "AWS.S3.Bucket");
        assert_eq!(v["AccountId"], "123456789012");
        assert_eq!(v["Tags"], json!({}));
        assert!(v.as_object().is_some_and(|o| o.contains_key("Versioning")));
        let back: Resource = serde_json::from_value(v).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn content_hash_changes_with_content_only() {
        let a = Resource::new("x", "AWS.T", "1", "r").with("A", 1);
        let b = Resource::new("x", "AWS.T", "1", "r").with("A", 1);
        let c = Resource::new("x", "AWS.T", "1", "r").with("A", 2);
        assert_eq!(a.content_hash(), b.content_hash());
        assert_ne!(a.content_hash(), c.content_hash());
    }
}
