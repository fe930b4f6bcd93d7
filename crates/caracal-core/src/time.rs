//! Times as users type them: `--since 7d`, `?since=2026-12-01T00:00:00Z`.

use chrono::{DateTime, Utc};

/// An RFC 3339 time, or an age (`90s`, `30m`, `12h`, `7d`) before now.
pub fn parse_since(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let n: i64 =
        number.parse().map_err(|_| format!("{text:?}: expected RFC 3339 or an age like 7d"))?;
    let age = match unit {
        "s" => chrono::Duration::seconds(n),
        "m" => chrono::Duration::minutes(n),
        "h" => chrono::Duration::hours(n),
        "d" => chrono::Duration::days(n),
        _ => return Err(format!("{text:?}: the age unit is s, m, h or d")),
    };
    Ok(Utc::now() - age)
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
    }
}
