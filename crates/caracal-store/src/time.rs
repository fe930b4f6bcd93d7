//! Timestamps as stored: RFC 3339 UTC with nine fraction digits, so text order is time order.

use chrono::{DateTime, SecondsFormat, Utc};

/// Formats a time for storage.
pub(crate) fn format(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// Parses a stored time.
pub(crate) fn parse(text: &str) -> Result<DateTime<Utc>, String> {
    // Listings read two or three per row: the form `format` writes is read by hand, at a
    // fraction of the general RFC 3339 parser's cost; anything else goes to chrono.
    if let Some(t) = parse_stored(text.as_bytes()) {
        return Ok(t);
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("bad timestamp {text:?}: {e}"))
}

/// `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ` exactly, seconds 00 to 59.
fn parse_stored(b: &[u8]) -> Option<DateTime<Utc>> {
    if b.len() != 30
        || [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':'), (19, b'.'), (29, b'Z')]
            .iter()
            .any(|&(i, c)| b[i] != c)
    {
        return None;
    }
    let number = |from: usize, to: usize| -> Option<u32> {
        b[from..to]
            .iter()
            .try_fold(0u32, |n, &d| d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0')))
    };
    let date = chrono::NaiveDate::from_ymd_opt(
        i32::try_from(number(0, 4)?).ok()?,
        number(5, 7)?,
        number(8, 10)?,
    )?;
    let second = number(17, 19)?;
    if second > 59 {
        return None;
    }
    let time = date.and_hms_nano_opt(number(11, 13)?, number(14, 16)?, second, number(20, 29)?)?;
    Some(time.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_form_reads_back_as_chrono_reads_it() {
        for text in [
            "2026-12-06T17:23:25.000000000Z",
            "2026-12-06T17:23:25.123456789Z",
            "1970-01-01T00:00:00.000000001Z",
            "9999-12-31T23:59:59.999999999Z",
            "2024-02-29T12:00:00.500000000Z",
        ] {
            let chrono = DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc);
            assert_eq!(parse_stored(text.as_bytes()), Some(chrono), "{text}");
            assert_eq!(format(chrono), text);
        }
        // Not the stored form: chrono's parser decides.
        for text in [
            "2026-12-06T17:23:25Z",
            "2026-12-06T17:23:25.123456789+00:00",
            "2026-02-30T17:23:25.000000000Z",
            "2026-12-06T17:23:60.000000000Z",
            "2026-12-06T17:2x:25.000000000Z",
        ] {
            assert_eq!(parse_stored(text.as_bytes()), None, "{text}");
        }
        assert!(parse("2026-12-06T17:23:25Z").is_ok());
        assert!(parse("2026-02-30T17:23:25.000000000Z").is_err());
    }
}
