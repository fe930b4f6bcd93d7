//! RFC 3339 timestamps written straight into a stack buffer. The resource listing writes
//! two or three per resource, and chrono's `Serialize` (its general formatter through
//! `collect_str`) was a tenth of the listing's CPU. The text is exactly chrono's: UTC with
//! `Z`, and 0, 3, 6 or 9 fractional digits as the value needs (`SecondsFormat::AutoSi`).

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::Serializer;

/// Longest text: `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`.
const MAX_LEN: usize = 30;

/// Writes `t` into `buf` and returns the text; `None` for years outside 0..=9999, which
/// RFC 3339 can't write in four digits.
fn format(t: &DateTime<Utc>, buf: &mut [u8; MAX_LEN]) -> Option<usize> {
    let year = u32::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
    let put = |buf: &mut [u8; MAX_LEN], at: usize, value: u32, width: usize| {
        let mut v = value;
        for i in (0..width).rev() {
            buf[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(buf, 0, year, 4);
    buf[4] = b'-';
    put(buf, 5, t.month(), 2);
    buf[7] = b'-';
    put(buf, 8, t.day(), 2);
    buf[10] = b'T';
    put(buf, 11, t.hour(), 2);
    buf[13] = b':';
    put(buf, 14, t.minute(), 2);
    buf[16] = b':';
    // A leap second is carried in the nanoseconds (>= 1e9), as chrono writes it: `:60`.
    let nanos = t.nanosecond();
    let (second, nanos) = match nanos >= 1_000_000_000 {
        true => (t.second() + 1, nanos - 1_000_000_000),
        false => (t.second(), nanos),
    };
    put(buf, 17, second, 2);
    let mut len = 19;
    let (digits, value) = match nanos {
        0 => (0, 0),
        n if n % 1_000_000 == 0 => (3, n / 1_000_000),
        n if n % 1_000 == 0 => (6, n / 1_000),
        n => (9, n),
    };
    if digits > 0 {
        buf[len] = b'.';
        put(buf, len + 1, value, digits);
        len += 1 + digits;
    }
    buf[len] = b'Z';
    Some(len + 1)
}

/// `#[serde(serialize_with = "crate::time::serialize")]` for a `DateTime<Utc>`.
pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0u8; MAX_LEN];
    match format(t, &mut buf).and_then(|len| std::str::from_utf8(&buf[..len]).ok()) {
        Some(text) => s.serialize_str(text),
        None => serde::Serialize::serialize(t, s),
    }
}

/// [`serialize`] for an `Option<DateTime<Utc>>` (`null` when absent).
pub fn serialize_opt<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => serialize(t, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn ours(t: &DateTime<Utc>) -> String {
        let mut out = Vec::new();
        serialize(t, &mut serde_json::Serializer::new(&mut out)).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn writes_exactly_what_chrono_writes() {
        let base = Utc.with_ymd_and_hms(2026, 12, 7, 9, 5, 3).unwrap();
        let cases = [
            base,
            base + chrono::Duration::milliseconds(120),
            base + chrono::Duration::microseconds(123_456),
            base + chrono::Duration::nanoseconds(1),
            base + chrono::Duration::nanoseconds(999_999_999),
            Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(12_000, 1, 1, 0, 0, 0).unwrap(),
            chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
                .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
                .unwrap()
                .and_utc(),
            Utc::now(),
        ];
        for t in cases {
            assert_eq!(ours(&t), serde_json::to_string(&t).unwrap(), "{t:?}");
        }
        let mut out = Vec::new();
        serialize_opt(&None, &mut serde_json::Serializer::new(&mut out)).unwrap();
        assert_eq!(out, b"null");
    }
}
