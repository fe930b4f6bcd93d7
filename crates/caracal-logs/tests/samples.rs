//! Every sample in tests/data/<LogType>/ parses as that log type, with concrete fields
//! and indicators checked per type.

mod common;

use common::{data, json, process_file};

fn all_files(dir: &str) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(data(dir))
        .expect("data dir")
        .filter_map(|e| e.ok())
        .map(|e| format!("{dir}/{}", e.file_name().to_string_lossy()))
        .collect();
    files.sort();
    files
}

#[test]
fn every_sample_file_parses_as_its_folder_log_type_without_errors() {
    let mut failures = Vec::new();
    for dir in [
        "AWS.ALB",
        "AWS.CloudTrail",
        "AWS.GuardDuty",
        "AWS.S3ServerAccess",
        "AWS.VPCFlow",
        "Okta.SystemLog",
        "Osquery.Differential",
        "Suricata.EVE",
        "Syslog.RFC3164",
    ] {
        for file in all_files(dir) {
            let (report, events) = process_file(&file);
            if report.errors != 0 {
                failures.push(format!(
                    "{file}: {:#?}",
                    &report.first_errors[..report.first_errors.len().min(3)]
                ));
                continue;
            }
            if file.contains("digest") {
                assert_eq!(report.events, 0, "{file}");
                assert_eq!(report.skipped, 1, "{file}");
                continue;
            }
            assert!(report.events > 0, "{file}");
            for e in &events {
                assert_eq!(e.log_type(), dir, "{file}");
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// #11.11: the public fixtures whose CloudTrail records lack eventTime (kept apart from the
// samples under tests/data/malformed/) give one malformed record each, none an event.
#[test]
fn cloudtrail_fixtures_without_event_time_are_malformed_records() {
    for (file, n) in [
        (
            "malformed/AWS.CloudTrail/c7n_cwe_event-cloud-trail-bedrock-create-customization-jobs.json",
            1,
        ),
        ("malformed/AWS.CloudTrail/panther-analysis_rule-tests.dev.untimed.jsonl", 3),
    ] {
        let (report, events) = process_file(file);
        assert!(events.is_empty(), "{file}");
        assert_eq!((report.records, report.errors), (n, n), "{file}");
        for e in &report.first_errors {
            assert_eq!(e.log_type.as_deref(), Some("AWS.CloudTrail"), "{file}");
            assert_eq!(e.reason, "eventTime is missing", "{file}");
        }
    }
}

fn strs(v: &serde_json::Value) -> Vec<&str> {
    v.as_array().map(|a| a.iter().filter_map(|x| x.as_str()).collect()).unwrap_or_default()
}

#[test]
fn cloudtrail_single_events_keep_fields_and_indicators() {
    let (_, events) =
        process_file("AWS.CloudTrail/elastic-integrations_test-console-login-json.log");
    assert_eq!(events.len(), 3);
    let e = json(&events[0]);
    assert_eq!(e["p_log_type"], "AWS.CloudTrail");
    assert_eq!(e["eventName"], "ConsoleLogin");
    assert_eq!(e["p_event_time"], "2014-07-16 15:49:27.000000000");
    assert_eq!(e["p_source_id"], "test-source");
    assert_eq!(e["p_source_label"], "Test source");
    assert_eq!(strs(&e["p_any_ip_addresses"]), ["89.160.20.156"]);
    assert_eq!(strs(&e["p_any_aws_arns"]), ["arn:aws:iam::111122223333:user/JohnDoe"]);
    assert_eq!(strs(&e["p_any_aws_account_ids"]), ["111122223333"]);
    assert_eq!(strs(&e["p_any_usernames"]), ["JohnDoe"]);
}

#[test]
fn cloudtrail_eventbridge_envelope_is_unwrapped_to_detail() {
    let (_, events) = process_file("AWS.CloudTrail/c7n_cwe_event-cloud-trail-s3.json");
    assert_eq!(events.len(), 1);
    let e = json(&events[0]);
    assert_eq!(e["eventName"], "CreateBucket");
    assert!(e.get("detail").is_none());
    assert_eq!(e["p_event_time"], "2015-11-23 07:45:25.000000000");
    assert_eq!(strs(&e["p_any_ip_addresses"]), ["101.244.214.105"]);
    assert!(
        strs(&e["p_any_aws_arns"])
            .contains(&"arn:aws:sts::101010101111:assumed-role/Sandbox_Dev/user")
    );
}

#[test]
fn cloudtrail_json_array_file_streams_each_record() {
    let (report, events) =
        process_file("AWS.CloudTrail/stratus_aws.defense-evasion.cloudtrail-stop.json");
    assert_eq!((report.records, report.events), (1, 1));
    let e = json(&events[0]);
    assert_eq!(e["eventName"], "StopLogging");
    assert_eq!(e["p_event_time"], "2024-07-31 13:06:24.000000000");
    assert_eq!(strs(&e["p_any_ip_addresses"]), ["86.245.153.234"]);
    assert!(strs(&e["p_any_aws_arns"]).contains(&"arn:aws:iam::143434273843:user/christophe"));
}

#[test]
fn cloudtrail_run_instances_response_yields_instance_ids() {
    let (_, events) = process_file("AWS.CloudTrail/c7n_cwe_event-cloud-trail-run-instances.json");
    let e = json(&events[0]);
    assert_eq!(e["eventName"], "RunInstances");
    assert!(!strs(&e["p_any_aws_instance_ids"]).is_empty(), "{e:#}");
}

#[test]
fn cloudtrail_digest_file_is_skipped_not_an_error() {
    let (report, events) =
        process_file("AWS.CloudTrail/elastic-integrations_test-cloudtrail-digest-json.log");
    assert!(events.is_empty());
    assert_eq!((report.records, report.errors, report.skipped), (0, 0, 1));
}

#[test]
fn alb_access_nlb_and_connection_lines_parse_in_one_file() {
    let (report, events) = process_file("AWS.ALB/elastic-integrations_test-alb.log");
    assert_eq!(report.events, 10);
    let access = json(&events[0]);
    assert_eq!(access["logKind"], "access");
    assert_eq!(access["clientIp"], "192.168.131.39");
    assert_eq!(access["clientPort"], 2817);
    assert_eq!(access["elbStatusCode"], 200);
    assert_eq!(access["requestHttpMethod"], "GET");
    assert_eq!(access["p_event_time"], "2018-07-02 22:23:00.186641000");
    assert_eq!(strs(&access["p_any_ip_addresses"]), ["10.0.0.1", "192.168.131.39"]);
    assert_eq!(strs(&access["p_any_domain_names"]), ["www.example.com"]);
    assert_eq!(strs(&access["p_any_aws_account_ids"]), ["123456789012"]);
    let nlb = json(&events[2]);
    assert_eq!(nlb["logKind"], "nlb");
    assert_eq!(nlb["p_event_time"], "2018-12-20 02:59:40.000000000");
    assert!(
        strs(&nlb["p_any_domain_names"])
            .contains(&"my-network-loadbalancer-c6e77e28c25b2234.elb.us-east-2.amazonaws.com")
    );
    // #11.13: the quoted ALPN list is one field; the fields after it stay in place.
    let alpn = events.iter().map(json).find(|e| e["alpnClientPreferenceList"].is_array());
    let alpn = alpn.expect("the NLB line with an ALPN list");
    assert_eq!(alpn["alpnClientPreferenceList"], serde_json::json!(["h2", "http/1.1"]));
    assert_eq!(alpn["tlsConnectionCreationTime"], "2020-04-01T08:51:20");
    assert!(alpn.get("extraFields").is_none(), "{alpn:#}");
    let conn = json(&events[6]);
    assert_eq!(conn["logKind"], "connection");
    assert_eq!(conn["tlsVerifyStatus"], "Success");
    assert_eq!(conn["listenerPort"], 443);
    assert_eq!(conn["p_event_time"], "2024-10-04 17:05:15.514108000");
}

#[test]
fn s3_server_access_lines_of_every_vintage_parse() {
    let (report, events) =
        process_file("AWS.S3ServerAccess/elastic-integrations_test-s3-server-access.log");
    assert_eq!(report.events, 10);
    let e = json(&events[0]);
    assert_eq!(e["bucket"], "test-s3-ks");
    assert_eq!(e["operation"], "REST.GET.LOCATION");
    assert_eq!(e["httpstatus"], 200);
    assert_eq!(e["p_event_time"], "2019-08-01 00:24:41.000000000");
    assert_eq!(strs(&e["p_any_ip_addresses"]), ["89.160.20.156"]);
    assert_eq!(strs(&e["p_any_domain_names"]), ["s3.ap-southeast-1.amazonaws.com"]);
    assert_eq!(strs(&e["p_any_aws_arns"]).len(), 1);
}

#[test]
fn vpc_flow_default_custom_header_tgw_and_ecs_formats_parse() {
    let (_, v2) = process_file("AWS.VPCFlow/elastic-integrations_test-extra-samples.log");
    let e = json(&v2[0]);
    assert_eq!(e["account"], "123456789010");
    assert_eq!(e["srcAddr"], "2001:db8:1234:a100:8d6e:3477:df66:f105");
    assert_eq!(e["dstPort"], 22);
    assert_eq!(e["action"], "ACCEPT");
    assert_eq!(e["p_event_time"], "2016-10-31 11:35:08.000000000");
    assert_eq!(strs(&e["p_any_aws_account_ids"]), ["123456789010"]);
    let nodata = json(&v2[1]);
    assert_eq!(nodata["status"], "NODATA");
    assert!(nodata.get("srcAddr").is_none());

    let (report, hdr) = process_file("AWS.VPCFlow/elastic-integrations_test-tcp-flag-sequence.log");
    assert_eq!(report.skipped, 3, "three header lines");
    let e = json(&hdr[0]);
    assert_eq!(e["vpcId"], "vpc-abcdefab012345678");
    assert_eq!(e["tcpFlags"], 2);
    assert_eq!(strs(&e["p_any_aws_instance_ids"]), ["i-01234567890123456"]);
    assert_eq!(strs(&e["p_any_ip_addresses"]), ["10.0.0.62", "52.213.180.42"]);

    let (_, tgw) = process_file("AWS.VPCFlow/elastic-integrations_test-tgw-samples.log");
    let e = json(&tgw[0]);
    assert_eq!(e["tgwId"], "tgw-0a12bc34de56f7890");
    assert_eq!(e["flowDirection"], "ingress");
    assert_eq!(strs(&e["p_any_ip_addresses"]), ["1.128.0.0", "2a02:cf40::"]);

    let (_, ecs) = process_file("AWS.VPCFlow/elastic-integrations_test-v8-samples.log");
    let e = json(&ecs[0]);
    assert_eq!(e["rejectReason"], "BPA");
    assert_eq!(e["ecsClusterName"], "backend-cluster");
    assert_eq!(strs(&e["p_any_aws_instance_ids"]), ["i-18de3682c033431da"]);
}

#[test]
fn guardduty_findings_bare_wrapped_and_listed_parse() {
    let (report, events) = process_file("AWS.GuardDuty/elastic-integrations_test-guardduty.log");
    assert_eq!((report.events, report.skipped), (5, 1), "the empty findings list is skipped");
    let e = json(&events[0]);
    assert_eq!(e["type"], "Trojan:EC2/BlackholeTraffic!DNS");
    assert_eq!(e["p_event_time"], "2022-11-22 12:22:20.934000000");
    assert_eq!(strs(&e["p_any_aws_instance_ids"]), ["i-99999999"]);
    assert!(strs(&e["p_any_aws_account_ids"]).contains(&"123412341234"));
    let (_, wrapped) = process_file("AWS.GuardDuty/c7n_cwe_iam-duty-event.json");
    let e = json(&wrapped[0]);
    assert!(e.get("detail").is_none());
    assert_eq!(strs(&e["p_any_ip_addresses"]), ["198.51.100.0"]);
    assert!(strs(&e["p_any_usernames"]).contains(&"GeneratedFindingUserName"));
}

#[test]
fn okta_osquery_suricata_and_syslog_fields_and_indicators() {
    let (_, okta) =
        process_file("Okta.SystemLog/elastic-integrations_test-okta-system-events.lines-1-3.log");
    let e = json(&okta[0]);
    assert_eq!(strs(&e["p_any_emails"]), ["username@elastic.co"]);
    assert!(e["eventType"].is_string());

    let (_, osq) =
        process_file("Osquery.Differential/elastic-integrations_test-osquery.lines-1-3-and-27.log");
    let e = json(&osq[1]);
    assert_eq!(e["p_log_type"], "Osquery.Differential");
    assert_eq!(e["action"], "added");
    assert_eq!(e["p_event_time"], "2018-01-08 14:51:55.000000000");
    assert_eq!(strs(&e["p_any_usernames"]), ["ubuntu"]);

    let (_, eve) = process_file("Suricata.EVE/elastic-integrations_test-eve-dns-4-1-4.log");
    assert_eq!(eve.len(), 24);
    let e = json(&eve[2]);
    assert_eq!(e["event_type"], "dns");
    assert_eq!(e["p_event_time"], "2019-08-22 23:48:27.950946000");
    assert_eq!(
        strs(&e["p_any_ip_addresses"]),
        ["10.0.2.15", "10.0.2.3", "2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6"]
    );
    assert_eq!(strs(&e["p_any_domain_names"]), ["google.com"]);

    let (report, sys) = process_file("Syslog.RFC3164/loghub_Linux_2k.log");
    assert_eq!(report.events, 2000);
    let e = json(&sys[0]);
    assert_eq!(e["p_log_type"], "Syslog.RFC3164");
    assert_eq!(e["hostname"], "combo");
    let with_rhost = sys
        .iter()
        .map(json)
        .find(|e| e["message"].as_str().is_some_and(|m| m.contains("rhost=218.188.2.4")));
    let with_rhost = with_rhost.expect("an sshd failure with rhost");
    assert_eq!(with_rhost["appname"], "sshd(pam_unix)");
    assert_eq!(strs(&with_rhost["p_any_ip_addresses"]), ["218.188.2.4"]);
}
