//! Log types with no public sample in shared/samples, checked on records written from
//! the formats AWS and osquery document.

mod common;

use common::{json, process_bytes};

#[test]
fn route53_resolver_query_log_parses_with_indicators() {
    let line = r#"{"version":"1.100000","account_id":"123456789012","region":"us-east-1","vpc_id":"vpc-0abc","query_timestamp":"2024-03-01T12:34:56Z","query_name":"evil.example.com.","query_type":"A","query_class":"IN","rcode":"NOERROR","answers":[{"Rdata":"203.0.113.7","Type":"A","Class":"IN"}],"srcaddr":"10.0.1.25","srcport":"53211","transport":"UDP","srcids":{"instance":"i-0123456789abcdef0"}}"#;
    let (report, events) = process_bytes("dns.log", format!("{line}\n").as_bytes());
    assert_eq!(report.events, 1);
    let e = json(&events[0]);
    assert_eq!(e["p_log_type"], "AWS.VPCDns");
    assert_eq!(e["p_event_time"], "2024-03-01 12:34:56.000000000");
    assert_eq!(e["p_any_ip_addresses"], serde_json::json!(["10.0.1.25", "203.0.113.7"]));
    assert_eq!(e["p_any_domain_names"], serde_json::json!(["evil.example.com"]));
    assert_eq!(e["p_any_aws_instance_ids"], serde_json::json!(["i-0123456789abcdef0"]));
    assert_eq!(e["p_any_aws_account_ids"], serde_json::json!(["123456789012"]));
}

#[test]
fn waf_web_acl_log_parses_with_client_ip_and_host() {
    let line = r#"{"timestamp":1709296496000,"formatVersion":1,"webaclId":"arn:aws:wafv2:us-east-1:123456789012:regional/webacl/main/abcd","terminatingRuleId":"Default_Action","terminatingRuleType":"REGULAR","action":"BLOCK","httpSourceName":"ALB","httpSourceId":"123456789012-app/web/1234","httpRequest":{"clientIp":"198.51.100.23","country":"US","headers":[{"name":"Host","value":"shop.example.com"},{"name":"User-Agent","value":"curl/8.0"}],"uri":"/admin","args":"","httpVersion":"HTTP/1.1","httpMethod":"GET","requestId":"rid"}}"#;
    let (report, events) = process_bytes("waf.log", format!("{line}\n").as_bytes());
    assert_eq!(report.events, 1);
    let e = json(&events[0]);
    assert_eq!(e["p_log_type"], "AWS.WAFWebACL");
    assert_eq!(e["p_event_time"], "2024-03-01 12:34:56.000000000");
    assert_eq!(e["p_any_ip_addresses"], serde_json::json!(["198.51.100.23"]));
    assert_eq!(e["p_any_domain_names"], serde_json::json!(["shop.example.com"]));
    assert_eq!(e["p_any_aws_account_ids"], serde_json::json!(["123456789012"]));
}

#[test]
fn osquery_snapshot_and_rfc5424_syslog_are_told_apart_from_their_neighbours() {
    let snapshot = r#"{"action":"snapshot","snapshot":[{"pid":"1","name":"init","sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}],"name":"processes","hostIdentifier":"web-1.example.com","calendarTime":"Tue Sep 11 16:14:21 2018 UTC","unixTime":1536682461,"epoch":0,"counter":0}"#;
    let syslog = "<34>1 2024-03-01T12:34:56.5Z web-1.example.com sshd 4242 ID47 - Failed password for root from 192.0.2.9 port 22";
    let (report, events) = process_bytes("mixed.log", format!("{snapshot}\n{syslog}\n").as_bytes());
    assert_eq!(report.events, 2);
    let s = json(&events[0]);
    assert_eq!(s["p_log_type"], "Osquery.Snapshot");
    assert_eq!(s["p_event_time"], "2018-09-11 16:14:21.000000000");
    assert_eq!(
        s["p_any_sha256_hashes"][0],
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    );
    assert_eq!(s["p_any_domain_names"][0], "web-1.example.com");
    let l = json(&events[1]);
    assert_eq!(l["p_log_type"], "Syslog.RFC5424");
    assert_eq!(l["appname"], "sshd");
    assert_eq!(l["severity"], 2);
    assert_eq!(l["p_event_time"], "2024-03-01 12:34:56.500000000");
    assert_eq!(l["p_any_ip_addresses"], serde_json::json!(["192.0.2.9"]));
}
