//! EC2 remediations against the emulator, on the seeder's VPC, groups, instance and
//! volumes, plus an AMI and a snapshot made public here.

mod common;

use aws_sdk_ec2::types::{
    HttpTokensState, IpPermission, IpRange, LaunchPermission, LaunchPermissionModifications,
    OperationType, PermissionGroup, SnapshotAttributeName,
};
use caracal_core::AuditOutcome;
use common::{ACCOUNT, Harness, REGION, actions, ec2_arn};
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn ec2_remediations_fix_the_seeded_resources_once() {
    let h = Harness::start().await;
    let ec2 = h.clients().ec2();
    let open = h.manifest.security_groups.iter().find(|g| g.name.ends_with("open-admin")).unwrap();

    // Revoke world admin ingress, keeping a private SSH source and a public HTTPS rule.
    ec2.authorize_security_group_ingress()
        .group_id(&open.id)
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(443)
                .to_port(443)
                .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                .build(),
        )
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(22)
                .to_port(22)
                .ip_ranges(IpRange::builder().cidr_ip("10.0.0.0/8").build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    h.fix(&ec2_arn("security-group", &open.id), "AWS.EC2.RevokeWorldAdminIngress", &[], |plan| {
        assert_eq!(actions(plan), ["ec2:RevokeSecurityGroupIngress"]);
        let perms = plan.calls[0].params["IpPermissions"].as_array().unwrap();
        assert_eq!(perms.len(), 2, "22 (v4 and v6) and 3389: {perms:?}");
        assert!(perms.iter().all(|p| p["FromPort"] == 22 || p["FromPort"] == 3389));
        let ssh = perms.iter().find(|p| p["FromPort"] == 22).unwrap();
        assert_eq!(ssh["IpRanges"], json!([{"CidrIp": "0.0.0.0/0"}]));
        assert_eq!(ssh["Ipv6Ranges"], json!([{"CidrIpv6": "::/0"}]));
    })
    .await;
    let group = ec2.describe_security_groups().group_ids(&open.id).send().await.unwrap();
    let perms = group.security_groups.unwrap()[0].ip_permissions.clone().unwrap_or_default();
    let world = |p: &IpPermission| {
        p.ip_ranges().iter().any(|r| r.cidr_ip() == Some("0.0.0.0/0"))
            || p.ipv6_ranges().iter().any(|r| r.cidr_ipv6() == Some("::/0"))
    };
    for p in &perms {
        if matches!(p.from_port, Some(22) | Some(3389)) {
            assert!(!world(p), "world source left on {:?}", p.from_port);
        }
    }
    assert!(perms.iter().any(|p| p.from_port == Some(443) && world(p)), "HTTPS rule kept");
    assert!(
        perms.iter().any(|p| p.from_port == Some(22)
            && p.ip_ranges().iter().any(|r| r.cidr_ip() == Some("10.0.0.0/8"))),
        "private SSH source kept: {perms:?}"
    );

    // IMDSv2, then stop (high risk) on the seeded instance.
    let instance = &h.manifest.instances[0];
    let instance_arn = ec2_arn("instance", instance);
    h.fix(&instance_arn, "AWS.EC2.RequireImdsV2", &[], |plan| {
        assert_eq!(actions(plan), ["ec2:ModifyInstanceMetadataOptions"]);
        assert_eq!(plan.calls[0].params["HttpTokens"], "required");
        assert_eq!(plan.changes[0].field, "MetadataOptions/HttpTokens");
    })
    .await;
    let described = ec2.describe_instances().instance_ids(instance).send().await.unwrap();
    let inst = &described.reservations.unwrap()[0].instances.clone().unwrap()[0];
    assert_eq!(
        inst.metadata_options.as_ref().unwrap().http_tokens,
        Some(HttpTokensState::Required)
    );

    // An AMI of the instance, made public.
    let image = ec2.create_image().instance_id(instance).name("seed-0-ami").send().await.unwrap();
    let image = image.image_id.unwrap();
    ec2.modify_image_attribute()
        .image_id(&image)
        .launch_permission(
            LaunchPermissionModifications::builder()
                .add(LaunchPermission::builder().group(PermissionGroup::All).build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    // AMI ARNs carry no account; the executor resolves it from the session.
    let image_arn = format!("arn:aws:ec2:{REGION}::image/{image}");
    h.fix(&image_arn, "AWS.EC2.MakeAmiPrivate", &[], |plan| {
        assert_eq!(actions(plan), ["ec2:ModifyImageAttribute"]);
        assert_eq!(plan.calls[0].params["LaunchPermission"], json!({"Remove": [{"Group": "all"}]}));
        assert_eq!(plan.target.account_id, ACCOUNT);
    })
    .await;
    let images = ec2.describe_images().image_ids(&image).send().await.unwrap();
    assert_eq!(images.images.unwrap()[0].public, Some(false));

    h.fix(&instance_arn, "AWS.EC2.StopInstance", &[], |plan| {
        assert_eq!(actions(plan), ["ec2:StopInstances"]);
        assert_eq!(plan.calls[0].params, json!({"InstanceIds": [instance], "Force": false}));
        assert_eq!(plan.changes[0].after, json!("stopped"));
    })
    .await;
    let described = ec2.describe_instances().instance_ids(instance).send().await.unwrap();
    let state =
        described.reservations.unwrap()[0].instances.clone().unwrap()[0].state.clone().unwrap();
    assert!(matches!(state.name.unwrap().as_str(), "stopping" | "stopped"));

    // A snapshot of the unencrypted volume, shared with everyone.
    let volume = h.manifest.volumes.iter().find(|v| !v.encrypted).unwrap();
    let snap =
        ec2.create_snapshot().volume_id(&volume.id).send().await.unwrap().snapshot_id.unwrap();
    ec2.modify_snapshot_attribute()
        .snapshot_id(&snap)
        .attribute(SnapshotAttributeName::CreateVolumePermission)
        .operation_type(OperationType::Add)
        .group_names("all")
        .send()
        .await
        .unwrap();
    h.fix(&ec2_arn("volume", &volume.id), "AWS.EC2.MakeVolumeSnapshotsPrivate", &[], |plan| {
        assert_eq!(actions(plan), ["ec2:ModifySnapshotAttribute"]);
        assert_eq!(plan.calls[0].params["SnapshotId"], snap.as_str());
        assert_eq!(plan.calls[0].params["GroupNames"], json!(["all"]));
    })
    .await;
    let attr = ec2
        .describe_snapshot_attribute()
        .snapshot_id(&snap)
        .attribute(SnapshotAttributeName::CreateVolumePermission)
        .send()
        .await
        .unwrap();
    assert!(attr.create_volume_permissions.unwrap_or_default().iter().all(|p| p.group.is_none()));

    // Region settings: EBS encryption by default.
    let settings = format!("{ACCOUNT}:{REGION}:AWS.EC2.RegionSettings");
    h.fix(&settings, "AWS.EC2.EnableEbsEncryptionByDefault", &[], |plan| {
        assert_eq!(actions(plan), ["ec2:EnableEbsEncryptionByDefault"]);
        assert_eq!(
            (&plan.changes[0].before, &plan.changes[0].after),
            (&json!(false), &json!(true))
        );
    })
    .await;
    let ebs = ec2.get_ebs_encryption_by_default().send().await.unwrap();
    assert_eq!(ebs.ebs_encryption_by_default, Some(true));

    // VPC flow logs into the seeded log bucket.
    let vpc = &h.manifest.vpcs[0];
    let dest = "arn:aws:s3:::caracal-seed-0-logs";
    h.fix(
        &ec2_arn("vpc", vpc),
        "AWS.EC2.EnableVpcFlowLogs",
        &[("log_destination", json!(dest))],
        |plan| {
            assert_eq!(actions(plan), ["ec2:CreateFlowLogs"]);
            assert_eq!(
                plan.calls[0].params,
                json!({"ResourceIds": [vpc], "ResourceType": "VPC", "TrafficType": "REJECT",
                   "LogDestinationType": "s3", "LogDestination": dest})
            );
        },
    )
    .await;
    let logs = ec2
        .describe_flow_logs()
        .filter(aws_sdk_ec2::types::Filter::builder().name("resource-id").values(vpc).build())
        .send()
        .await
        .unwrap();
    assert_eq!(logs.flow_logs.unwrap()[0].log_destination.as_deref(), Some(dest));

    // Snapshot block public access: moto has neither GetSnapshotBlockPublicAccessState
    // (empty body) nor EnableSnapshotBlockPublicAccess (EMULATOR.md). The plan shape is
    // unit-tested in the module; here the emulator's failure must surface and be audited.
    let req = h.request(&settings, "AWS.EC2.EnableSnapshotBlockPublicAccess", &[]);
    match h.exec.run(&req).await {
        Err(err) => {
            assert_eq!(err.outcome(), AuditOutcome::Failed, "{err}");
            let record = h.last_audit(&settings, "AWS.EC2.EnableSnapshotBlockPublicAccess").await;
            assert_eq!(record.outcome, AuditOutcome::Failed);
            assert!(record.error.is_some());
        }
        Ok(report) => panic!(
            "moto grew snapshot block public access: {:?}; test it like the others",
            report.outcome
        ),
    }
}
