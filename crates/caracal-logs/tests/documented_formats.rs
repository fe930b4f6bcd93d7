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

// #11.12: JSON that carries `event_type` and `timestamp` is not Suricata EVE without EVE's
// own fields; Duo and Dropbox events are not taken for it.
#[test]
fn duo_and_dropbox_events_are_not_taken_for_suricata() {
    let duo = r#"{"access_device":{"ip":"192.0.2.10","browser":"Chrome"},"application":{"key":"DIY231J8BR23QK4UKBY8","name":"Microsoft Azure Active Directory"},"event_type":"authentication","factor":"duo_push","reason":"user_approved","result":"success","timestamp":1591804432,"txid":"340a23e3-23f3-4f54-9cb2-b0d6d1a8d9b5","user":{"key":"DUY0NVNCHE8N9FY79WA9","name":"narroway"}}"#;
    let dropbox = r#"{"timestamp":"2023-05-15T10:22:08Z","event_category":{".tag":"logins"},"event_type":{".tag":"login_success","description":"Signed in"},"actor":{".tag":"user","user":{".tag":"team_member","display_name":"Alice","email":"alice@example.com"}},"origin":{"geo_location":{"ip_address":"198.51.100.4"},"access_method":{".tag":"end_user"}},"involve_non_team_member":false,"context":{".tag":"team"},"details":{".tag":"login_success_details","is_emm_managed":false}}"#;
    let stats = r#"{"timestamp":"2019-08-22T23:48:27.924120+0000","event_type":"stats","stats":{"uptime":8}}"#;
    let flow = r#"{"timestamp":"2019-08-22T23:48:27.924120+0000","flow_id":1,"event_type":"flow","flow":{"pkts_toserver":1}}"#;
    let input = format!("{duo}\n{dropbox}\n{stats}\n{flow}\n");
    let (report, events) = process_bytes("mixed.json", input.as_bytes());
    assert_eq!((report.records, report.events, report.errors), (4, 2, 2));
    assert!(report.first_errors.iter().all(|e| e.log_type.is_none()), "{:?}", report.first_errors);
    assert_eq!(report.first_errors.iter().map(|e| e.line).collect::<Vec<_>>(), [1, 2]);
    assert!(events.iter().all(|e| e.log_type() == "Suricata.EVE"));
}

// #11.12: a GuardDuty claim needs GuardDuty's own marks, not only `type` and `severity`.
#[test]
fn a_record_with_type_and_severity_is_not_a_guardduty_finding() {
    let alert = r#"{"schemaVersion":"1.0","type":"alert","severity":3,"message":"disk full","host":"web-1"}"#;
    let (report, _) = process_bytes("alerts.json", format!("{alert}\n").as_bytes());
    assert_eq!((report.records, report.events, report.errors), (1, 0, 1));
    assert!(report.by_type.contains_key("(unclassified)"));
}
