//! What a `ResourceId` names. Each collector declares the [`IdShape`] of the ids it
//! writes; [`place`] walks [`COLLECTORS`](crate::COLLECTORS) to trace an id back to its
//! type, account, region and service name, so nothing else keeps a list of id formats.

use caracal_core::resource::GLOBAL_REGION;

use crate::collectors::{COLLECTORS, ListingScope};

/// How a resource type's `ResourceId` is built (RESOURCES.md, Envelope).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdShape {
    /// `arn:<partition>:<service>:<region>:<account>:<prefix><name>`, the name being all
    /// that follows the prefix (`table/t`, `log-group:/aws/lambda/f`). A prefix that ends
    /// in neither `/` nor `:` names the whole resource part (`root`); an empty prefix
    /// takes a name without `/` or `:` (`arn:aws:sqs:us-east-1:123456789012:queue`).
    Arn {
        /// The ARN's service, such as `ec2`.
        service: &'static str,
        /// The resource part before the name, such as `security-group/`.
        prefix: &'static str,
    },
    /// Like [`IdShape::Arn`], but the name is the last `/` segment, after an IAM path
    /// (`user/ops/alice` names `alice`).
    ArnWithPath {
        /// The ARN's service, such as `iam`.
        service: &'static str,
        /// The resource part before the path, such as `user/`.
        prefix: &'static str,
    },
    /// `<account>::<Type>`: one per account (`AWS.PasswordPolicy`, the `.Meta` types).
    AccountSingleton,
    /// `<account>:<region>:<Type>`: one per account and region (`AWS.Config.Recorder`).
    RegionSingleton,
}

/// A `ResourceId` traced back to what it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedId {
    /// The type, such as `AWS.S3.Bucket`.
    pub resource_type: &'static str,
    /// The account; empty when the id does not carry it (S3 buckets, AMIs, snapshots).
    pub account_id: String,
    /// The region; `global` for global types; empty when the id of an account-wide
    /// listing does not carry it (S3 buckets).
    pub region: String,
    /// What the service calls the resource (bucket name, instance id, user name, ...);
    /// empty for singletons.
    pub name: String,
}

/// Traces `resource_id` to the collector whose [`IdShape`] it has, or `None` when no
/// collector writes ids of that form.
pub fn place(resource_id: &str) -> Option<PlacedId> {
    if resource_id.starts_with("arn:") {
        place_arn(resource_id)
    } else {
        place_singleton(resource_id)
    }
}

/// `<account>:<region>:<Type>`, region empty for account singletons.
fn place_singleton(resource_id: &str) -> Option<PlacedId> {
    let mut parts = resource_id.splitn(3, ':');
    let (account, region, kind) = (parts.next()?, parts.next()?, parts.next()?);
    if !is_account(account) {
        return None;
    }
    let c = crate::collector(kind)?;
    let region = match (c.id_shape(), region.is_empty()) {
        (IdShape::AccountSingleton, true) => GLOBAL_REGION,
        (IdShape::RegionSingleton, false) => region,
        _ => return None,
    };
    Some(PlacedId {
        resource_type: c.resource_type(),
        account_id: account.to_owned(),
        region: region.to_owned(),
        name: String::new(),
    })
}

/// `arn:partition:service:region:account:resource`; the collector with the longest
/// matching prefix wins (`loadbalancer/app/` over `loadbalancer/`).
fn place_arn(resource_id: &str) -> Option<PlacedId> {
    let parts: Vec<&str> = resource_id.splitn(6, ':').collect();
    let [_, _, service, region, account, resource] = parts[..] else {
        return None;
    };
    if !(account.is_empty() || account == "aws" || is_account(account)) {
        return None;
    }
    let (c, name) = COLLECTORS
        .iter()
        .filter_map(|c| arn_name(c.id_shape(), service, resource).map(|(p, n)| (p, *c, n)))
        .max_by_key(|(prefix_len, _, _)| *prefix_len)
        .map(|(_, c, n)| (c, n))?;
    let region = match (c.listing_scope(), region.is_empty()) {
        (ListingScope::Regional, false) | (ListingScope::AccountWide, _) => region,
        // Most global ARNs have no region; CloudFront-scope web ACLs name us-east-1.
        (ListingScope::Global, _) => GLOBAL_REGION,
        _ => return None,
    };
    Some(PlacedId {
        resource_type: c.resource_type(),
        account_id: account.to_owned(),
        region: region.to_owned(),
        name: name.to_owned(),
    })
}

/// The name in `resource` if an ARN of `service` with that resource part has `shape`,
/// with the length of the prefix matched.
fn arn_name<'a>(shape: IdShape, service: &str, resource: &'a str) -> Option<(usize, &'a str)> {
    let (s, prefix, path) = match shape {
        IdShape::Arn { service, prefix } => (service, prefix, false),
        IdShape::ArnWithPath { service, prefix } => (service, prefix, true),
        IdShape::AccountSingleton | IdShape::RegionSingleton => return None,
    };
    if s != service {
        return None;
    }
    let rest = resource.strip_prefix(prefix)?;
    let name = match prefix.as_bytes().last() {
        None if rest.contains(['/', ':']) => return None,
        Some(b'/' | b':') | None => rest,
        Some(_) if rest.is_empty() => return Some((prefix.len(), "")),
        Some(_) => return None,
    };
    let name = if path { name.rsplit('/').next().unwrap_or(name) } else { name };
    (!name.is_empty()).then_some((prefix.len(), name))
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// An id of `c`'s shape in account `123456789012`, for tests that walk the registry.
#[cfg(test)]
pub(crate) fn example(c: &dyn crate::Collector) -> String {
    let account = "123456789012";
    let region = match c.listing_scope() {
        ListingScope::Regional => "us-east-1",
        ListingScope::Global | ListingScope::AccountWide => "",
    };
    let arn = |service: &str, prefix: &str| {
        let name = match prefix.as_bytes().last() {
            Some(b'/' | b':') | None => "example",
            Some(_) => "",
        };
        format!("arn:aws:{service}:{region}:{account}:{prefix}{name}")
    };
    match c.id_shape() {
        IdShape::Arn { service, prefix } | IdShape::ArnWithPath { service, prefix } => {
            arn(service, prefix)
        }
        IdShape::AccountSingleton => format!("{account}::{}", c.resource_type()),
        IdShape::RegionSingleton => format!("{account}:us-east-1:{}", c.resource_type()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_collector_s_example_id_places_back_to_its_type_alone() {
        for c in COLLECTORS {
            let id = example(*c);
            let placed = place(&id).unwrap_or_else(|| panic!("{id} does not place"));
            assert_eq!(placed.resource_type, c.resource_type(), "{id}");
            // No other collector claims the id with an equally long prefix.
            let parts: Vec<&str> = id.splitn(6, ':').collect();
            if let [_, _, service, _, _, resource] = parts[..] {
                let best = |o: &&&dyn crate::Collector| arn_name(o.id_shape(), service, resource);
                let longest = COLLECTORS.iter().filter_map(|o| best(&o)).map(|(p, _)| p).max();
                let tied: Vec<&str> = COLLECTORS
                    .iter()
                    .filter(|o| best(o).map(|(p, _)| p) == longest)
                    .map(|o| o.resource_type())
                    .collect();
                assert_eq!(tied, [c.resource_type()], "{id}");
            }
        }
    }

    #[test]
    fn names_follow_the_shape() {
        let name = |shape, resource| arn_name(shape, "x", resource).map(|(_, n)| n);
        let arn = |prefix| IdShape::Arn { service: "x", prefix };
        let path = |prefix| IdShape::ArnWithPath { service: "x", prefix };
        assert_eq!(name(arn("table/"), "table/t"), Some("t"));
        assert_eq!(name(arn("log-group:"), "log-group:/aws/lambda/f"), Some("/aws/lambda/f"));
        assert_eq!(name(path("user/"), "user/ops/alice"), Some("alice"));
        assert_eq!(name(arn(""), "queue"), Some("queue"));
        assert_eq!(name(arn(""), "topic:sub"), None);
        assert_eq!(name(arn("root"), "root"), Some(""));
        assert_eq!(name(arn("root"), "rooted"), None);
        assert_eq!(name(arn("table/"), "table/"), None);
        assert_eq!(name(arn("table/"), "index/t"), None);
    }
}
