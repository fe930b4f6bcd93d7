//! The time macros and table names of the public pack format's SQL, rewritten for the
//! local lake before DataFusion reads a query:
//!
//! - `panther_logs.public.aws_cloudtrail` (and `panther_logs.aws_cloudtrail`) name the
//!   lake's `aws_cloudtrail`; `panther_views.public.all_logs` its `all_logs`;
//! - `p_occurs_since(offset[, alias[, column]])`: the column (`p_event_time` unless
//!   named; `''` for no alias) at or after now minus `offset` (`'1 hour'`, `'30 m'`,
//!   `'7 days'`, or a number of seconds);
//! - `p_occurs_between(start, end[, alias[, column]])`, `p_occurs_after(time[, ...])`,
//!   `p_occurs_before(time[, ...])`: bounds on the column;
//! - `p_occurs_around(time, offset[, alias[, column]])`: within `offset` of `time`.
//!
//! Times resolve against the `now` given, so a scheduled run and its rows agree on the
//! window, and the bounds are literals the lake's hour pruning reads.

use std::sync::LazyLock;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use regex::Regex;

use crate::error::Error;

static DATABASE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?i)panther_(?:logs|views)\.(?:public\.)?")
        .unwrap_or_else(|e| panic!("pattern: {e}"))
});

static MACRO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?i)p_occurs_(since|between|around|after|before)\s*\(")
        .unwrap_or_else(|e| panic!("pattern: {e}"))
});

/// `sql` with the format's database prefix dropped and its time macros expanded;
/// quoted strings and identifiers are left as written.
pub fn expand(sql: &str, now: DateTime<Utc>) -> Result<String, Error> {
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    let mut previous: Option<char> = None;
    let mut i = 0;
    while let Some(c) = sql[i..].chars().next() {
        let rest = &sql[i..];
        let at_word = quote.is_none()
            && !previous.is_some_and(|p| p.is_alphanumeric() || p == '_' || p == '.');
        if at_word && let Some(prefix) = DATABASE.find(rest) {
            i += prefix.end();
            previous = Some('.');
            continue;
        }
        if at_word && let Some(found) = MACRO.captures(rest) {
            let (Some(whole), Some(name)) = (found.get(0), found.get(1)) else { break };
            let name = name.as_str().to_ascii_lowercase();
            let (args, used) = arguments(&rest[whole.end()..])
                .ok_or_else(|| invalid(&name, "its parenthesis is not closed"))?;
            out.push_str(&condition(&name, &args, now)?);
            i += whole.end() + used;
            previous = Some(')');
            continue;
        }
        if quote.is_none() {
            // Comments are copied as written: a quote or a macro name in them is not SQL.
            let end = if rest.starts_with("--") {
                Some(rest.find('\n').unwrap_or(rest.len()))
            } else if rest.starts_with("/*") {
                Some(rest.find("*/").map_or(rest.len(), |e| e + 2))
            } else {
                None
            };
            if let Some(end) = end {
                out.push_str(&rest[..end]);
                i += end;
                previous = Some(' ');
                continue;
            }
        }
        match quote {
            Some(q) if c == q => quote = None,
            None if c == '\'' || c == '"' => quote = Some(c),
            _ => {}
        }
        out.push(c);
        previous = Some(c);
        i += c.len_utf8();
    }
    Ok(out)
}

fn invalid(name: &str, why: &str) -> Error {
    Error::Macro(format!("p_occurs_{name}: {why}"))
}

/// The comma-separated arguments up to the closing parenthesis (quotes and nested
/// parentheses respected), and how many bytes that took, the parenthesis included.
fn arguments(text: &str) -> Option<(Vec<String>, usize)> {
    let mut args = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), _) if c == q => {
                quote = None;
                current.push(c);
            }
            (Some(_), _) => current.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                current.push(c);
            }
            (None, '(') => {
                depth += 1;
                current.push(c);
            }
            (None, ')') if depth == 0 => {
                if !current.trim().is_empty() || !args.is_empty() {
                    args.push(current.trim().to_owned());
                }
                return Some((args, i + 1));
            }
            (None, ')') => {
                depth -= 1;
                current.push(c);
            }
            (None, ',') if depth == 0 => args.push(std::mem::take(&mut current).trim().to_owned()),
            (None, _) => current.push(c),
        }
    }
    None
}

fn condition(name: &str, args: &[String], now: DateTime<Utc>) -> Result<String, Error> {
    // The optional table alias at `i` and column at `i + 1` (default `p_event_time`).
    let column = |i: usize| {
        let name = args.get(i + 1).map(|c| unquote(c)).unwrap_or("p_event_time");
        match args.get(i).map(|a| unquote(a)).filter(|a| !a.is_empty()) {
            Some(alias) => format!("{alias}.{name}"),
            None => name.to_owned(),
        }
    };
    let at = |t: DateTime<Utc>| format!("'{}'", t.to_rfc3339_opts(SecondsFormat::Micros, true));
    let time = |arg: &String| {
        let text = unquote(arg);
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .or_else(|_| {
                chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
                    .map(|t| t.and_utc())
            })
            .map_err(|_| invalid(name, &format!("{arg} is not a time")))
    };
    let offset = |arg: &String| {
        parse_offset(arg)
            .ok_or_else(|| invalid(name, &format!("{arg} is not a duration such as '1 hour'")))
    };
    let arity = |min: usize, max: usize| {
        if (min..=max).contains(&args.len()) {
            Ok(())
        } else {
            Err(invalid(name, &format!("takes {min} to {max} arguments, got {}", args.len())))
        }
    };
    Ok(match name {
        "since" => {
            arity(1, 3)?;
            let since = now
                .checked_sub_signed(offset(&args[0])?)
                .ok_or_else(|| invalid(name, "offset out of range"))?;
            format!("({} >= {})", column(1), at(since))
        }
        "after" => {
            arity(1, 3)?;
            format!("({} >= {})", column(1), at(time(&args[0])?))
        }
        "before" => {
            arity(1, 3)?;
            format!("({} <= {})", column(1), at(time(&args[0])?))
        }
        "between" => {
            arity(2, 4)?;
            let c = column(2);
            format!("({c} >= {} AND {c} <= {})", at(time(&args[0])?), at(time(&args[1])?))
        }
        _ => {
            arity(2, 4)?;
            let (t, d) = (time(&args[0])?, offset(&args[1])?);
            let range = t.checked_sub_signed(d).zip(t.checked_add_signed(d));
            let (lo, hi) = range.ok_or_else(|| invalid(name, "offset out of range"))?;
            let c = column(2);
            format!("({c} >= {} AND {c} <= {})", at(lo), at(hi))
        }
    })
}

fn unquote(text: &str) -> &str {
    let t = text.trim();
    for q in ['\'', '"'] {
        if let Some(inner) = t.strip_prefix(q).and_then(|s| s.strip_suffix(q)) {
            return inner;
        }
    }
    t
}

/// `'1 hour'`, `'30m'`, `'7 days'`, `'2 weeks'`, or a whole number of seconds.
fn parse_offset(arg: &str) -> Option<Duration> {
    let text = unquote(arg).trim().to_ascii_lowercase();
    let digits = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let n: i64 = text[..digits].parse().ok()?;
    let seconds = match text[digits..].trim() {
        "" | "s" | "sec" | "secs" | "second" | "seconds" => 1,
        "m" | "min" | "mins" | "minute" | "minutes" => 60,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600,
        "d" | "day" | "days" => 86_400,
        "w" | "week" | "weeks" => 604_800,
        _ => return None,
    };
    Duration::try_seconds(n.checked_mul(seconds)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-07T12:00:00Z").unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_views_database_names_all_logs() {
        assert_eq!(
            expand("SELECT * FROM panther_views.public.all_logs", now()).unwrap(),
            "SELECT * FROM all_logs"
        );
    }

    #[test]
    fn tables_lose_the_database_prefix_and_since_becomes_a_literal_bound() {
        let sql = "SELECT count(*) FROM panther_logs.public.aws_cloudtrail \
                   WHERE eventName = 'p_occurs_since(x)' AND P_OCCURS_SINCE('1 hour')";
        assert_eq!(
            expand(sql, now()).unwrap(),
            "SELECT count(*) FROM aws_cloudtrail WHERE eventName = 'p_occurs_since(x)' \
             AND (p_event_time >= '2026-12-07T11:00:00.000000Z')"
        );
    }

    #[test]
    fn every_macro_expands_with_an_optional_table_alias() {
        let cases = [
            ("p_occurs_since(86400, t)", "(t.p_event_time >= '2026-12-06T12:00:00.000000Z')"),
            ("p_occurs_since('2 d')", "(p_event_time >= '2026-12-05T12:00:00.000000Z')"),
            (
                "p_occurs_since('1 hour', '', p_parse_time)",
                "(p_parse_time >= '2026-12-07T11:00:00.000000Z')",
            ),
            (
                "p_occurs_after('2026-12-01T00:00:00Z', m, p_alert_creation_time)",
                "(m.p_alert_creation_time >= '2026-12-01T00:00:00.000000Z')",
            ),
            (
                "p_occurs_after('2026-12-01T00:00:00Z')",
                "(p_event_time >= '2026-12-01T00:00:00.000000Z')",
            ),
            (
                "p_occurs_before('2026-12-01 00:00:00')",
                "(p_event_time <= '2026-12-01T00:00:00.000000Z')",
            ),
            (
                "p_occurs_between('2026-12-01T00:00:00Z', '2026-12-02T00:00:00Z', ct)",
                "(ct.p_event_time >= '2026-12-01T00:00:00.000000Z' AND ct.p_event_time <= '2026-12-02T00:00:00.000000Z')",
            ),
            (
                "p_occurs_around('2026-12-01T00:00:00Z', '30 minutes')",
                "(p_event_time >= '2026-11-30T23:30:00.000000Z' AND p_event_time <= '2026-12-01T00:30:00.000000Z')",
            ),
        ];
        for (sql, want) in cases {
            assert_eq!(expand(sql, now()).unwrap(), want, "{sql}");
        }
    }

    #[test]
    fn comments_are_left_as_written() {
        let sql = "SELECT 1 -- don't p_occurs_since(\nFROM t /* it's p_occurs_after( */ \
                   WHERE p_occurs_since('1 hour')";
        assert_eq!(
            expand(sql, now()).unwrap(),
            "SELECT 1 -- don't p_occurs_since(\nFROM t /* it's p_occurs_after( */ \
             WHERE (p_event_time >= '2026-12-07T11:00:00.000000Z')"
        );
    }

    #[test]
    fn bad_macros_say_which_and_why() {
        for (sql, want) in [
            ("p_occurs_since('1 fortnight')", "p_occurs_since: '1 fortnight' is not a duration"),
            (
                "p_occurs_between('2026-12-01T00:00:00Z')",
                "p_occurs_between: takes 2 to 4 arguments, got 1",
            ),
            ("p_occurs_after('yesterday')", "p_occurs_after: 'yesterday' is not a time"),
            ("x AND p_occurs_since('1 hour'", "p_occurs_since: its parenthesis is not closed"),
        ] {
            let err = expand(sql, now()).unwrap_err().to_string();
            assert!(err.contains(want), "{sql}: {err}");
        }
    }
}
