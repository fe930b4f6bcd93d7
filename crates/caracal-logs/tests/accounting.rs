//! Accounting: for any input, events + errors == records, and every error names its
//! object, line and reason.

mod common;

use std::io::Write;

use caracal_logs::RejectCode;
use caracal_logs::indicators::Field;
use common::process_bytes;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).expect("in memory");
    enc.finish().expect("in memory")
}

const SUITE: &str = r#"{"timestamp":"2019-08-22T23:48:27.924120+0000","event_type":"dns","src_ip":"10.0.2.15","dest_ip":"10.0.2.3"}"#;

fn lines(n: usize) -> String {
    (0..n).map(|_| format!("{SUITE}\n")).collect()
}

#[test]
fn gzip_and_zstd_are_decoded_transparently() {
    let plain = lines(100);
    let (r, _) = process_bytes("a.json.gz", &gzip(plain.as_bytes()));
    assert_eq!((r.records, r.events), (100, 100));
    let zst = zstd::encode_all(plain.as_bytes(), 1).expect("in memory");
    let (r, _) = process_bytes("a.json.zst", &zst);
    assert_eq!((r.records, r.events), (100, 100));
}

#[test]
fn truncated_gzip_counts_read_events_and_one_unreadable_error() {
    let gz = gzip(lines(5000).as_bytes());
    let cut = &gz[..gz.len() / 2];
    let (r, _) = process_bytes("cut.json.gz", cut);
    assert!(r.events > 0 && r.events < 5000, "{}", r.events);
    assert_eq!(r.errors, 1);
    let err = &r.first_errors[0];
    assert_eq!(err.object, "cut.json.gz");
    assert_eq!(err.code, RejectCode::Unreadable);
    assert_eq!(err.line, r.lines + 1);
}

#[test]
fn invalid_json_lines_are_errors_with_their_line_numbers() {
    let input = format!("{SUITE}\n{{\"broken\": \n{SUITE}\n[1, 2\n{SUITE}\n");
    let (r, _) = process_bytes("mixed.jsonl", input.as_bytes());
    assert_eq!((r.records, r.events, r.errors), (5, 3, 2));
    let lines: Vec<u64> = r.first_errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [2, 4]);
    assert!(r.first_errors.iter().all(|e| e.code == RejectCode::InvalidJson));
    assert!(r.first_errors[0].to_string().starts_with("mixed.jsonl:2: invalid_json: invalid JSON"));
}

#[test]
fn binary_junk_is_rejected_line_by_line() {
    let mut input = lines(2).into_bytes();
    input.extend_from_slice(&[0xff, 0xfe, 0x00, 0x81, b'\n', 0x80, 0x80, b'\n']);
    input.extend_from_slice(lines(1).as_bytes());
    let (r, _) = process_bytes("junk.bin", &input);
    assert_eq!((r.records, r.events, r.errors), (5, 3, 2));
    assert!(r.first_errors.iter().all(|e| e.code == RejectCode::NotUtf8));
}

#[test]
fn a_50_mb_line_is_one_too_long_error_and_reading_goes_on() {
    let mut input = lines(1).into_bytes();
    input.extend(std::iter::repeat_n(b'x', 50 << 20));
    input.push(b'\n');
    input.extend_from_slice(lines(1).as_bytes());
    let (r, _) = process_bytes("huge.log", &input);
    assert_eq!((r.records, r.events, r.errors), (3, 2, 1));
    assert_eq!(r.first_errors[0].code, RejectCode::TooLong);
    assert_eq!(r.first_errors[0].line, 2);
}

#[test]
fn a_50_mb_records_file_is_streamed_record_by_record() {
    let record = r#"{"eventVersion":"1.08","eventTime":"2024-01-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","sourceIPAddress":"AWS Internal","requestParameters":{"pad":"PAD"}}"#
        .replace("PAD", &"p".repeat(1000));
    let n = (50 << 20) / record.len() + 1;
    let mut input = String::from("{\"Records\":[");
    for i in 0..n {
        if i > 0 {
            input.push(',');
        }
        input.push_str(&record);
    }
    input.push_str("]}");
    let (r, events) = process_bytes("big-records.json", input.as_bytes());
    assert_eq!((r.records, r.events, r.errors), (n as u64, n as u64, 0));
    assert!(events[0].indicators.get(Field::IpAddress).is_empty(), "AWS Internal is not an IP");
}

#[test]
fn an_empty_object_and_empty_input_are_accounted() {
    let (r, _) = process_bytes("empty.json", b"{}\n");
    assert_eq!((r.records, r.events, r.errors), (1, 0, 1));
    assert_eq!(r.first_errors[0].code, RejectCode::Unclassified);
    let (r, _) = process_bytes("zero-bytes.log", b"");
    assert_eq!((r.records, r.events, r.errors), (0, 0, 0));
    let (r, _) = process_bytes("zero-bytes.gz", &gzip(b""));
    assert_eq!((r.records, r.events, r.errors), (0, 0, 0));
}

#[test]
fn a_records_file_cut_midway_keeps_its_events_and_counts_one_error() {
    let input = br#"{"Records":[{"eventTime":"2024-01-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"A"},{"eventTime":"2024-01-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"B"},{"eventTi"#;
    let (r, _) = process_bytes("cut.json", input);
    assert_eq!((r.records, r.events, r.errors), (3, 2, 1));
    assert_eq!(r.first_errors[0].code, RejectCode::InvalidJson);
}

#[test]
fn unclassified_text_lines_are_counted_per_line() {
    let (r, _) = process_bytes("prose.txt", b"hello world\n\nsecond line\n");
    assert_eq!((r.lines, r.records, r.errors, r.skipped), (3, 2, 2, 1));
    assert_eq!(r.by_type["(unclassified)"].errors, 2);
}

const TRAIL: &str = r#"{"eventVersion":"1.08","eventTime":"2024-01-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","sourceIPAddress":"192.0.2.1"}"#;

// #11.10: a forwarder's file holds one `{"Records":[...]}` document per line; every line's
// records are read, not only the first line's.
#[test]
fn records_documents_one_per_line_are_all_read() {
    let doc = format!("{{\"Records\":[{TRAIL},{TRAIL}]}}");
    let input = format!("{doc}\n{doc}\n\n{doc}\n");
    let (r, events) = process_bytes("forwarded.json", input.as_bytes());
    assert_eq!((r.records, r.events, r.errors, r.skipped), (6, 6, 0, 1));
    assert_eq!(r.lines, 4);
    assert_eq!(r.bytes, input.len() as u64);
    assert!(events.iter().all(|e| e.log_type() == "AWS.CloudTrail"));
    // Without a final newline, with an array per line, and with a broken second line.
    let (r, _) = process_bytes("a.json", format!("{doc}\n{doc}").as_bytes());
    assert_eq!((r.records, r.events, r.lines), (4, 4, 2));
    let (r, _) = process_bytes("b.json", format!("[{TRAIL}]\n[{TRAIL},{TRAIL}]\n").as_bytes());
    assert_eq!((r.records, r.events, r.lines), (3, 3, 2));
    let (r, _) = process_bytes("c.json", format!("{doc}\n{{\"Records\":[\n{doc}\n").as_bytes());
    assert_eq!((r.records, r.events, r.errors), (5, 4, 1));
    assert_eq!((r.first_errors[0].line, r.first_errors[0].code), (2, RejectCode::InvalidJson));
    // Trailing junk on the document's own line is one more error on that line.
    let (r, _) = process_bytes("d.json", format!("{doc} junk\n{doc}\n").as_bytes());
    assert_eq!((r.records, r.events, r.errors), (5, 4, 1));
    assert_eq!(r.first_errors[0].line, 1);
}

// #11.11: a CloudTrail record without eventTime is a counted error, not an event filed
// under the processing time.
#[test]
fn a_cloudtrail_record_without_event_time_is_a_malformed_record() {
    let untimed = TRAIL.replace(r#""eventTime":"2024-01-01T00:00:00Z","#, "");
    let input = format!("{{\"Records\":[{TRAIL},{untimed}]}}");
    let (r, _) = process_bytes("untimed.json", input.as_bytes());
    assert_eq!((r.records, r.events, r.errors), (2, 1, 1));
    let err = &r.first_errors[0];
    assert_eq!(err.code, RejectCode::Malformed);
    assert_eq!(err.log_type.as_deref(), Some("AWS.CloudTrail"));
    assert_eq!(err.reason, "eventTime is missing");
    assert_eq!(r.by_type["AWS.CloudTrail"].errors, 1);
}

fn utf16le(text: &str) -> Vec<u8> {
    let mut out = vec![0xff, 0xfe];
    out.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    out
}

// #11.14: UTF-16 (as Windows tools write it) is read as text, not as unclassified junk.
#[test]
fn utf16_input_is_decoded_and_bad_utf16_is_one_error() {
    let (r, events) = process_bytes("windows.json", &utf16le(&lines(3)));
    assert_eq!((r.records, r.events, r.errors, r.lines), (3, 3, 0, 3));
    assert_eq!(events[0].log_type(), "Suricata.EVE");
    let (r, _) = process_bytes("windows.json.gz", &gzip(&utf16le(&lines(3))));
    assert_eq!((r.records, r.events), (3, 3));
    let mut bad = utf16le(&lines(2));
    bad.extend_from_slice(&[0x00, 0xdc]);
    bad.extend_from_slice(&utf16le(&lines(2))[2..]);
    let (r, _) = process_bytes("bad-utf16.json", &bad);
    assert_eq!((r.records, r.events, r.errors), (3, 2, 1));
    assert_eq!(r.first_errors[0].code, RejectCode::Unreadable);
    assert!(r.first_errors[0].reason.contains("unpaired UTF-16 surrogate"), "{:?}", r.first_errors);
}

// #11.14: blank lines are skipped inputs in every reading mode, before the first record too.
#[test]
fn blank_lines_are_counted_as_skipped_in_every_mode() {
    let (r, _) = process_bytes("lines.json", format!("\n \n{SUITE}\n\n{SUITE}\n").as_bytes());
    assert_eq!((r.lines, r.records, r.skipped), (5, 2, 3));
    let array = format!("\n[\n{SUITE},\n\n{SUITE}\n]\n");
    let (r, _) = process_bytes("array.json", array.as_bytes());
    assert_eq!((r.lines, r.records, r.skipped), (6, 2, 2));
    assert_eq!(r.bytes, array.len() as u64);
    let pretty = format!(
        "{{\n  \"timestamp\": \"2019-08-22T23:48:27Z\",\n\n  \"event_type\": \"dns\", \"src_ip\": \"10.0.0.1\", \"dest_ip\": \"10.0.0.2\"\n}}\n\n{SUITE}\n"
    );
    let (r, _) = process_bytes("pretty.json", pretty.as_bytes());
    assert_eq!((r.lines, r.records, r.events, r.skipped), (7, 2, 2, 2));
    assert_eq!(r.bytes, pretty.len() as u64);
}

// #11.14: RFC 3164 syslog takes its year from the object's time given to the processor
// (S3 LastModified), not from the clock.
#[test]
fn rfc3164_year_comes_from_the_object_time() {
    use caracal_logs::{ObjectInfo, PARSERS, Processor, SourceInfo};
    use chrono::TimeZone;
    let mut p = Processor::new(PARSERS.to_vec(), SourceInfo::new("s", "s"));
    let line = "Mar  3 10:00:00 host sshd[1]: Accepted publickey for root\n";
    for year in [2019, 2031] {
        let reference_time = chrono::Utc.with_ymd_and_hms(year, 6, 1, 0, 0, 0).single();
        let object = ObjectInfo {
            name: "syslog".into(),
            reference_time: reference_time.unwrap_or_default(),
        };
        let mut events = Vec::new();
        let r = p.process(&object, line.as_bytes(), &mut events).expect("a Vec sink never fails");
        assert_eq!(r.events, 1);
        assert_eq!(events[0].to_json()["p_event_time"], format!("{year}-03-03 10:00:00.000000000"));
    }
}
