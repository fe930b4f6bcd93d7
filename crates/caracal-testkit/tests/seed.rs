//! The seeder's manifest matches what the SDK lists back.

use std::collections::BTreeSet;

use caracal_aws::Purpose;
use caracal_testkit::{Emulator, seed};

async fn seeded(scale: u32) -> (Emulator, caracal_aws::Session, caracal_testkit::Manifest) {
    let emulator = Emulator::start().unwrap();
    let aws = emulator.aws().await.unwrap();
    let session = aws.session(None, Purpose::Scan).await.unwrap();
    let manifest = seed::seed(&session, scale).await.unwrap();
    (emulator, session, manifest)
}

#[tokio::test]
async fn scale_one_manifest_matches_sdk_listings() {
    let (_emulator, session, m) = seeded(1).await;
    let c = session.home();

    let buckets: BTreeSet<String> = c
        .s3()
        .list_buckets()
        .send()
        .await
        .unwrap()
        .buckets()
        .iter()
        .filter_map(|b| b.name.clone())
        .collect();
    for b in &m.buckets {
        assert!(buckets.contains(&b.name), "bucket {} listed", b.name);
    }
    let public = m.buckets.iter().find(|b| b.public_acl).unwrap();
    let acl = c.s3().get_bucket_acl().bucket(&public.name).send().await.unwrap();
    assert!(
        acl.grants().iter().any(|g| g
            .grantee
            .as_ref()
            .and_then(|g| g.uri.as_deref())
            .is_some_and(|u| u.ends_with("/AllUsers"))),
        "public-acl bucket grants AllUsers"
    );

    let ec2 = c.ec2();
    let groups = ec2.describe_security_groups().send().await.unwrap();
    let open = m.security_groups.iter().find(|g| g.open_ports == [22, 3389]).unwrap();
    let listed = groups.security_groups().iter().find(|g| g.group_id() == Some(&open.id)).unwrap();
    assert!(listed.ip_permissions().iter().any(|p| p.from_port == Some(22)
        && p.ip_ranges().iter().any(|r| r.cidr_ip() == Some("0.0.0.0/0"))));
    let volumes = ec2.describe_volumes().send().await.unwrap();
    for v in &m.volumes {
        let listed = volumes.volumes().iter().find(|x| x.volume_id() == Some(&v.id)).unwrap();
        assert_eq!(listed.encrypted, Some(v.encrypted), "volume {}", v.id);
    }

    let iam = c.iam();
    let users: BTreeSet<String> = iam
        .list_users()
        .send()
        .await
        .unwrap()
        .users()
        .iter()
        .map(|u| u.user_name.clone())
        .collect();
    for u in &m.users {
        assert!(users.contains(&u.name), "user {} listed", u.name);
        let devices = iam.list_mfa_devices().user_name(&u.name).send().await.unwrap();
        assert_eq!(!devices.mfa_devices().is_empty(), u.mfa, "MFA of {}", u.name);
    }
    let no_policy = iam.get_account_password_policy().send().await;
    assert!(no_policy.is_err(), "no password policy is seeded");

    let keys = c.kms().list_keys().send().await.unwrap();
    for k in &m.kms_keys {
        assert!(keys.keys().iter().any(|x| x.key_id() == Some(&k.id)));
        let rot = c.kms().get_key_rotation_status().key_id(&k.id).send().await.unwrap();
        assert_eq!(rot.key_rotation_enabled, k.rotation, "rotation of {}", k.id);
    }
    let trails = c.cloudtrail().describe_trails().send().await.unwrap();
    assert_eq!(trails.trail_list().len(), m.trails.len());
    let status = c.config().describe_configuration_recorder_status().send().await.unwrap();
    assert!(status.configuration_recorders_status().iter().all(|s| !s.recording));
    let tables = c.dynamodb().list_tables().send().await.unwrap();
    assert_eq!(tables.table_names().len(), m.tables.len());
}

#[tokio::test]
async fn scale_twenty_builds_at_least_four_hundred_resources() {
    let (_emulator, session, m) = seeded(20).await;
    assert!(m.resource_count() >= 400, "{} resources", m.resource_count());
    let c = session.home();
    let buckets = c.s3().list_buckets().send().await.unwrap().buckets().len();
    assert_eq!(buckets, m.buckets.len() + 1, "seeded buckets plus the trail bucket");
    let mut users = 0;
    let mut pages = c.iam().list_users().into_paginator().send();
    while let Some(page) = pages.next().await {
        users += page.unwrap().users().len();
    }
    assert_eq!(users, m.users.len());
    let instances: usize = c
        .ec2()
        .describe_instances()
        .send()
        .await
        .unwrap()
        .reservations()
        .iter()
        .map(|r| r.instances().len())
        .sum();
    assert_eq!(instances, m.instances.len());
    eprintln!("seeded {} resources at scale 20 in {:.1} s", m.resource_count(), m.seconds);
}

#[tokio::test]
async fn seeder_refuses_a_non_loopback_endpoint() {
    let settings = caracal_core::config::AwsConfig {
        endpoint_url: Some("https://s3.amazonaws.com".into()),
        regions: vec!["us-east-1".into()],
        max_attempts: 1,
        ..Default::default()
    };
    let aws =
        caracal_aws::Aws::builder(&settings).static_credentials("x", "y").build().await.unwrap();
    let account = caracal_core::config::AccountConfig {
        id: "123456789012".into(),
        role_name: None,
        remediation_role_name: None,
        external_id: None,
    };
    let session = aws.session(Some(&account), Purpose::Scan).await.unwrap();
    let err = seed::seed(&session, 1).await.unwrap_err();
    assert!(err.to_string().contains("refusing to seed"), "{err}");
}

// #17: the realistic mix gives scale 50 the size and proportions of a real account
// (≈ 1,000 buckets, 350 security groups, 400 users, 200 roles, 200 instances, 200 keys).
#[tokio::test]
async fn realistic_mix_has_the_benchmark_proportions_per_unit() {
    let emulator = Emulator::start().unwrap();
    let aws = emulator.aws().await.unwrap();
    let session = aws.session(None, Purpose::Scan).await.unwrap();
    let m = seed::seed_mix(&session, 2, seed::Mix::Realistic).await.unwrap();
    let per_unit = |n: usize| n / 2;
    assert_eq!(per_unit(m.buckets.len()), 20);
    // Plus each VPC's default group: 7 per unit.
    assert_eq!(per_unit(m.security_groups.len()), 6);
    assert_eq!(per_unit(m.users.len()), 8);
    assert_eq!(per_unit(m.roles.len()), 4);
    assert_eq!(per_unit(m.instances.len()), 4);
    assert_eq!(per_unit(m.kms_keys.len()), 4);
    assert!(m.resource_count() >= 2 * 50, "{} resources", m.resource_count());
    // Mixed configurations, not twenty copies of one bucket.
    let flags: [fn(&caracal_testkit::seed::SeededBucket) -> bool; 4] =
        [|b| b.encrypted, |b| b.versioned, |b| b.public_access_block, |b| b.logging];
    for flag in flags {
        let n = m.buckets.iter().filter(|b| flag(b)).count();
        assert!(n > 0 && n < m.buckets.len(), "{n} of {}", m.buckets.len());
    }

    let c = session.home();
    let buckets = c.s3().list_buckets().send().await.unwrap().buckets().len();
    assert_eq!(buckets, m.buckets.len() + 1, "seeded buckets plus the trail bucket");
    let instances: usize = c
        .ec2()
        .describe_instances()
        .send()
        .await
        .unwrap()
        .reservations()
        .iter()
        .map(|r| r.instances().len())
        .sum();
    assert_eq!(instances, m.instances.len());
    let mut users = 0;
    let mut pages = c.iam().list_users().into_paginator().send();
    while let Some(page) = pages.next().await {
        users += page.unwrap().users().len();
    }
    assert_eq!(users, m.users.len());
    let keys = c.kms().list_keys().send().await.unwrap().keys().len();
    assert!(keys >= m.kms_keys.len(), "{keys} keys listed");
}
