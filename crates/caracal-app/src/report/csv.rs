//! The findings as CSV: one line per resource × policy under a header line; framework
//! controls as `FRAMEWORK CONTROL` joined by `; `.

use std::io::Write;

use super::ReportData;

/// The header line's columns, in order.
pub const COLUMNS: [&str; 15] = [
    "resource_id",
    "resource_type",
    "account_id",
    "region",
    "policy_id",
    "title",
    "severity",
    "status",
    "message",
    "suppressed",
    "evaluated_at",
    "runbook",
    "reference",
    "auto_remediation_id",
    "controls",
];

/// Writes the header and one record per finding.
pub fn write(data: &ReportData, out: &mut dyn Write) -> Result<(), csv::Error> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(COLUMNS)?;
    for f in &data.findings {
        let policy = data.policy(f);
        let controls: Vec<String> = policy
            .reports
            .iter()
            .flat_map(|(framework, ids)| ids.iter().map(move |id| format!("{framework} {id}")))
            .collect();
        let evaluated_at = f.evaluated_at.to_rfc3339();
        writer.write_record([
            f.resource_id.as_str(),
            &f.resource_type,
            &f.account_id,
            &f.region,
            &f.policy_id,
            &policy.title,
            f.severity.as_str(),
            f.status.as_str(),
            f.status.message().unwrap_or_default(),
            if f.suppressed { "true" } else { "false" },
            &evaluated_at,
            policy.runbook.as_deref().unwrap_or_default(),
            policy.reference.as_deref().unwrap_or_default(),
            policy.auto_remediation_id.as_deref().unwrap_or_default(),
            &controls.join("; "),
        ])?;
    }
    writer.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_a_csv_reader_with_quoting() {
        let mut out = Vec::new();
        write(&super::super::data::tests::sample(), &mut out).unwrap();
        let mut reader = csv::Reader::from_reader(out.as_slice());
        assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), COLUMNS);
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 4);
        let broken = rows.iter().find(|r| &r[0] == "arn:aws:s3:::broken").unwrap();
        assert_eq!(&broken[7], "ERROR");
        assert_eq!(&broken[8], "KeyError: 'x'", "quotes survive");
        assert_eq!(&broken[14], "CIS-AWS-3.0 2.1.1");
        assert_eq!(&rows.iter().find(|r| &r[0] == "arn:aws:s3:::muted").unwrap()[9], "true");
    }
}
