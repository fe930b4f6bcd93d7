//! Times as users type them: `--since 7d`, `?since=2026-12-01T00:00:00Z`.

use chrono::{DateTime, Utc};

/// An RFC 3339 time, or an age (`90s`, `30m`, `12h`, `7d`) before now.
pub fn parse_since(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    let bad = || format!("{text:?}: expected RFC 3339 or an age like 7d");
    let unit_at = text.char_indices().last().map_or(0, |(i, _)| i);
    let (number, unit) = text.split_at(unit_at);
    let n: i64 = number.parse().map_err(|_| bad())?;
    let age = match unit {
        "s" => chrono::Duration::try_seconds(n),
        "m" => chrono::Duration::try_minutes(n),
        "h" => chrono::Duration::try_hours(n),
        "d" => chrono::Duration::try_days(n),
        _ => return Err(format!("{text:?}: the age unit is s, m, h or d")),
    };
    age.and_then(|age| Utc::now().checked_sub_signed(age))
        .ok_or_else(|| format!("{text:?}: the age is out of range"))
}

#[cfg(test)]
mod tests {
    use super::parse_since;

    #[test]
    fn since_takes_times_and_ages() {
        assert!(parse_since("2026-01-01T00:00:00Z").is_ok());
        let week = parse_since("7d").unwrap();
        assert!((chrono::Utc::now() - week).num_days() == 7);
        assert!(parse_since("7w").is_err());
        assert!(parse_since("soon").is_err());
        // Input from the network: multi-byte characters and huge ages are errors, not panics.
        assert!(parse_since("\u{80}").is_err());
        assert!(parse_since("7\u{e9}").is_err());
        assert!(parse_since("9223372036854775807d").is_err());
        assert!(parse_since("-9223372036854775808s").is_err());
        assert!(parse_since("").is_err());
    }
}
