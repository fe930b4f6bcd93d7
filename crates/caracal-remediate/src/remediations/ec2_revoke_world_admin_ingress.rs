//! `AWS.EC2.RevokeWorldAdminIngress`: revokes ingress from `0.0.0.0/0` and `::/0` on rules
//! that reach an admin port (22 and 3389 by default), keeping every other source and
//! rule. A world rule whose port range covers an admin port is revoked as a whole (AWS
//! cannot revoke part of a range).
//!
//! ```yaml
//! AutoRemediationID: AWS.EC2.RevokeWorldAdminIngress
//! AutoRemediationParameters:
//!   ports: [22, 3389, 5985]
//! ```

use async_trait::async_trait;
use aws_sdk_ec2::types::{IpPermission, IpRange, Ipv6Range};
use caracal_aws::Clients;
use caracal_core::ResourceType;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Fix, Meta, Risk};
use crate::error::Error;
use crate::params::{ParamKind, ParamSpec};
use crate::plan::{ApiCall, Planned};
use crate::sdk::aws_err;
use crate::target::Target;

/// See the module doc.
pub(crate) struct RevokeWorldAdminIngress;

/// Parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    ports: Vec<i64>,
}

const WORLD_V4: &str = "0.0.0.0/0";
const WORLD_V6: &str = "::/0";

/// Whether a permission lets traffic reach `port`.
fn reaches(perm: &Value, port: i64) -> bool {
    match perm["IpProtocol"].as_str() {
        Some("-1") => true,
        Some("tcp" | "udp" | "6" | "17") => {
            let from = perm["FromPort"].as_i64().unwrap_or(0);
            let to = perm["ToPort"].as_i64().unwrap_or(65535);
            (from..=to).contains(&port)
        }
        _ => false,
    }
}

fn ranges<'a>(
    perm: &'a Value,
    list: &str,
    key: &'a str,
    world: &'a str,
) -> impl Iterator<Item = &'a Value> {
    perm[list].as_array().into_iter().flatten().filter(move |r| r[key] == world)
}

#[async_trait]
impl Fix for RevokeWorldAdminIngress {
    const META: Meta = Meta {
        id: "AWS.EC2.RevokeWorldAdminIngress",
        resource_type: ResourceType::EC2_SECURITY_GROUP,
        description: "Revoke ingress from 0.0.0.0/0 and ::/0 to admin ports, keeping other rules",
        risk: Risk::Medium,
        permissions: &["ec2:DescribeSecurityGroups", "ec2:RevokeSecurityGroupIngress"],
        parameters: &[ParamSpec {
            name: "ports",
            kind: ParamKind::IntegerList,
            default: Some("[22, 3389]"),
            required: false,
            description: "Admin ports that must not be open to the world",
        }],
    };
    type Params = Params;

    fn validate(p: &Params) -> Result<(), (&'static str, String)> {
        if p.ports.is_empty() {
            return Err(("ports", "the list is empty".into()));
        }
        match p.ports.iter().find(|port| !(0..=65535).contains(*port)) {
            Some(bad) => Err(("ports", format!("{bad} is not a port (0-65535)"))),
            None => Ok(()),
        }
    }

    async fn check(&self, c: &Clients, t: &Target) -> Result<Value, Error> {
        let out = c
            .ec2()
            .describe_security_groups()
            .group_ids(&t.name)
            .send()
            .await
            .map_err(aws_err("ec2:DescribeSecurityGroups", t))?;
        let group = out.security_groups.unwrap_or_default().into_iter().next();
        let perms: Vec<Value> = group
            .and_then(|g| g.ip_permissions)
            .unwrap_or_default()
            .into_iter()
            .map(|p| {
                json!({
                    "IpProtocol": p.ip_protocol,
                    "FromPort": p.from_port,
                    "ToPort": p.to_port,
                    "IpRanges": p.ip_ranges.unwrap_or_default().into_iter()
                        .map(|r| json!({"CidrIp": r.cidr_ip, "Description": r.description})).collect::<Vec<_>>(),
                    "Ipv6Ranges": p.ipv6_ranges.unwrap_or_default().into_iter()
                        .map(|r| json!({"CidrIpv6": r.cidr_ipv6, "Description": r.description})).collect::<Vec<_>>(),
                    "PrefixListIds": p.prefix_list_ids.unwrap_or_default().into_iter()
                        .map(|r| json!({"PrefixListId": r.prefix_list_id})).collect::<Vec<_>>(),
                    "UserIdGroupPairs": p.user_id_group_pairs.unwrap_or_default().into_iter()
                        .map(|r| json!({"GroupId": r.group_id, "UserId": r.user_id})).collect::<Vec<_>>(),
                })
            })
            .collect();
        Ok(json!({ "GroupId": t.name, "IpPermissions": perms }))
    }

    fn plan(
        &self,
        t: &Target,
        state: &Value,
        p: &Params,
        _: DateTime<Utc>,
    ) -> Result<Planned, Error> {
        let perms = state["IpPermissions"].as_array().cloned().unwrap_or_default();
        let mut revoke = Vec::new();
        let mut after = Vec::new();
        for perm in perms {
            let admin = p.ports.iter().any(|port| reaches(&perm, *port));
            let v4: Vec<&Value> = ranges(&perm, "IpRanges", "CidrIp", WORLD_V4).collect();
            let v6: Vec<&Value> = ranges(&perm, "Ipv6Ranges", "CidrIpv6", WORLD_V6).collect();
            if !admin || (v4.is_empty() && v6.is_empty()) {
                after.push(perm);
                continue;
            }
            let mut call = json!({ "IpProtocol": perm["IpProtocol"] });
            for key in ["FromPort", "ToPort"] {
                if !perm[key].is_null() {
                    call[key] = perm[key].clone();
                }
            }
            if !v4.is_empty() {
                call["IpRanges"] = json!([{ "CidrIp": WORLD_V4 }]);
            }
            if !v6.is_empty() {
                call["Ipv6Ranges"] = json!([{ "CidrIpv6": WORLD_V6 }]);
            }
            revoke.push(call);
            let mut kept = perm.clone();
            kept["IpRanges"] = json!(
                perm["IpRanges"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|r| r["CidrIp"] != WORLD_V4)
                    .collect::<Vec<_>>()
            );
            kept["Ipv6Ranges"] = json!(
                perm["Ipv6Ranges"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|r| r["CidrIpv6"] != WORLD_V6)
                    .collect::<Vec<_>>()
            );
            let empty = |k: &str| kept[k].as_array().is_none_or(|a| a.is_empty());
            if !(empty("IpRanges")
                && empty("Ipv6Ranges")
                && empty("PrefixListIds")
                && empty("UserIdGroupPairs"))
            {
                after.push(kept);
            }
        }
        if revoke.is_empty() {
            return Ok(Planned::compliant());
        }
        Ok(Planned::compliant()
            .call(
                "ec2:RevokeSecurityGroupIngress",
                json!({ "GroupId": t.name, "IpPermissions": revoke }),
            )
            .change(state, "IpPermissions", json!(after)))
    }

    async fn apply(&self, c: &Clients, t: &Target, call: &ApiCall) -> Result<(), Error> {
        let perms: Vec<Value> = call.get("IpPermissions")?;
        let mut req = c.ec2().revoke_security_group_ingress().group_id(call.str("GroupId")?);
        for perm in perms {
            let mut b = IpPermission::builder()
                .set_ip_protocol(perm["IpProtocol"].as_str().map(str::to_owned))
                .set_from_port(perm["FromPort"].as_i64().and_then(|v| i32::try_from(v).ok()))
                .set_to_port(perm["ToPort"].as_i64().and_then(|v| i32::try_from(v).ok()));
            if perm["IpRanges"].is_array() {
                b = b.ip_ranges(IpRange::builder().cidr_ip(WORLD_V4).build());
            }
            if perm["Ipv6Ranges"].is_array() {
                b = b.ipv6_ranges(Ipv6Range::builder().cidr_ipv6(WORLD_V6).build());
            }
            req = req.ip_permissions(b.build());
        }
        req.send().await.map_err(aws_err("ec2:RevokeSecurityGroupIngress", t))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target::parse("arn:aws:ec2:us-east-1:123456789012:security-group/sg-1").unwrap()
    }

    #[test]
    fn revokes_only_world_sources_of_admin_port_rules() {
        let state = json!({ "GroupId": "sg-1", "IpPermissions": [
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
             "IpRanges": [{"CidrIp": "0.0.0.0/0"}, {"CidrIp": "10.0.0.0/8"}], "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": []},
            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": []},
        ]});
        let p = Params { ports: vec![22, 3389] };
        let planned = RevokeWorldAdminIngress.plan(&target(), &state, &p, Utc::now()).unwrap();
        assert_eq!(
            planned.calls[0].params["IpPermissions"],
            json!([
                {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                 "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
                {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
            ])
        );
        let after = &planned.changes[0].after;
        assert_eq!(
            after[0]["IpRanges"],
            json!([{"CidrIp": "10.0.0.0/8"}]),
            "the private source stays"
        );
        assert_eq!(after[1]["FromPort"], 443, "the HTTPS rule stays");
        assert_eq!(after.as_array().unwrap().len(), 2, "the all-traffic world rule goes");
    }
}
