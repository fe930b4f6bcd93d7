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
