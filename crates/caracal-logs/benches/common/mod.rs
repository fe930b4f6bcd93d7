//! Inputs the log benchmarks share: about 8 MB each of CloudTrail and VPC flow lines.

use serde_json::Value;

/// About 8 MB of CloudTrail JSON lines, made from the stratus-red-team samples.
pub fn cloudtrail_lines() -> Vec<u8> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/AWS.CloudTrail");
    let mut records = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("data dir")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    paths.sort();
    for path in paths.iter().filter(|p| p.to_string_lossy().contains("stratus_")) {
        let v: Value = serde_json::from_slice(&std::fs::read(path).expect("sample")).expect("json");
        records
            .extend(v.as_array().cloned().unwrap_or_default().into_iter().map(|r| r.to_string()));
    }
    let mut out = Vec::new();
    while out.len() < 8 << 20 {
        for r in &records {
            out.extend_from_slice(r.as_bytes());
            out.push(b'\n');
        }
    }
    out
}

/// About 8 MB of default-format (v2) VPC flow lines.
pub fn vpc_flow_lines() -> Vec<u8> {
    let mut out = Vec::new();
    let mut i: u64 = 0;
    while out.len() < 8 << 20 {
        let line = format!(
            "2 123456789010 eni-1235b8ca123456789 172.31.{}.{} 10.0.{}.{} {} 443 6 {} {} {} {} ACCEPT OK\n",
            i % 200,
            i % 251,
            i % 7,
            i % 97,
            1024 + i % 60000,
            i % 50 + 1,
            (i % 50 + 1) * 512,
            1_700_000_000 + i,
            1_700_000_060 + i
        );
        out.extend_from_slice(line.as_bytes());
        i += 1;
    }
    out
}
