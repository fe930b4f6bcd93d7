//! `Syslog.RFC5424` (`<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG`) and
//! `Syslog.RFC3164` (`[<PRI>]Mmm dd hh:mm:ss HOST TAG[PID]: MSG`). RFC 3164 has no year:
//! it is taken from the object's reference time, the year before when that would put the
//! event more than a day in the future.

use std::sync::LazyLock;

use chrono::{Datelike, Duration, NaiveDateTime};
use regex::Regex;
use serde_json::{Map, Value};

use super::util::{fields, parse_time, put};
use super::{IndicatorField, Input, ObjectState, Parse, Parsed, Parser};
use crate::indicators::Kind;
use crate::lake::{Column, LakeType};

pub(crate) struct Syslog {
    rfc5424: bool,
}
pub(crate) static RFC3164: Syslog = Syslog { rfc5424: false };
pub(crate) static RFC5424: Syslog = Syslog { rfc5424: true };

static INDICATORS: LazyLock<Vec<IndicatorField>> =
    LazyLock::new(|| fields(&[("hostname", Kind::Host), ("message", Kind::TextIps)]));

static BSD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:<(\d{1,3})>)?([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}:\d{2}:\d{2}) +(\S+) ?(.*)$")
        .expect("static regex")
});
static TAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([^\s\[:]+(?:\([^)\s]*\))?)(?:\[([^\]\s]*)\])?: ?(.*)$").expect("static regex")
});

fn priority(map: &mut Map<String, Value>, pri: Option<&str>) -> bool {
    let Some(pri) = pri else { return true };
    let Ok(pri) = pri.parse::<u8>() else { return false };
    if pri > 191 {
        return false;
    }
    map.insert("priority".into(), pri.into());
    map.insert("facility".into(), (pri / 8).into());
    map.insert("severity".into(), (pri % 8).into());
    true
}

fn parse_3164(line: &str, state: &ObjectState) -> Parse {
    let Some(c) = BSD.captures(line) else { return Parse::NotMine };
    let mut map = Map::new();
    if !priority(&mut map, c.get(1).map(|m| m.as_str())) {
        return Parse::NotMine;
    }
    let reference = state.reference_time;
    let stamp = |year: i32| {
        NaiveDateTime::parse_from_str(
            &format!("{year} {} {} {}", &c[2], &c[3], &c[4]),
            "%Y %b %d %H:%M:%S",
        )
        .ok()
        .map(|t| t.and_utc())
    };
    let Some(mut time) = stamp(reference.year()) else { return Parse::NotMine };
    if time > reference + Duration::days(1) {
        match stamp(reference.year() - 1) {
            Some(t) => time = t,
            None => return Parse::NotMine,
        }
    }
    map.insert("timestamp".into(), time.to_rfc3339().into());
    put(&mut map, "hostname", &c[5], false);
    let rest = c.get(6).map_or("", |m| m.as_str()).trim_end();
    match TAG.captures(rest) {
        Some(t) => {
            put(&mut map, "appname", &t[1], false);
            if let Some(pid) = t.get(2) {
                put(&mut map, "procid", pid.as_str(), false);
            }
            put(&mut map, "message", &t[3], false);
        }
        None => put(&mut map, "message", rest, false),
    }
    Parse::Event(Parsed { fields: map.into(), event_time: Some(time), indicators: None })
}

/// Splits `[id k="v" ...][id2 ...]` into `{id: {k: v}}`; returns the rest of the line.
fn structured_data(mut s: &str) -> Option<(Map<String, Value>, &str)> {
    let mut out = Map::new();
    while let Some(body) = s.strip_prefix('[') {
        let id_end = body.find([' ', ']'])?;
        let id = &body[..id_end];
        let mut params = Map::new();
        let mut rest = &body[id_end..];
        loop {
            rest = rest.trim_start_matches(' ');
            if let Some(r) = rest.strip_prefix(']') {
                rest = r;
                break;
            }
            let eq = rest.find('=')?;
            let name = &rest[..eq];
            let value_start = rest[eq + 1..].strip_prefix('"')?;
            let mut value = String::new();
            let mut chars = value_start.char_indices();
            let end = loop {
                match chars.next()? {
                    (_, '\\') => value.push(chars.next()?.1),
                    (i, '"') => break i,
                    (_, c) => value.push(c),
                }
            };
            params.insert(name.to_owned(), value.into());
            rest = &value_start[end + 1..];
        }
        out.insert(id.to_owned(), params.into());
        s = rest;
    }
    Some((out, s))
}

fn parse_5424(line: &str) -> Parse {
    let Some(rest) = line.strip_prefix('<') else { return Parse::NotMine };
    let Some((pri, rest)) = rest.split_once('>') else { return Parse::NotMine };
    let mut map = Map::new();
    if !priority(&mut map, Some(pri)) {
        return Parse::NotMine;
    }
    let mut parts = rest.splitn(7, ' ');
    let (Some(version), Some(ts), Some(host), Some(app), Some(procid), Some(msgid)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Parse::NotMine;
    };
    if version.is_empty() || version.len() > 2 || !version.bytes().all(|b| b.is_ascii_digit()) {
        return Parse::NotMine;
    }
    let time = if ts == "-" {
        None
    } else {
        match parse_time(ts) {
            Some(t) => Some(t),
            None => return Parse::Malformed(format!("timestamp {ts:?} is not RFC 3339")),
        }
    };
    put(&mut map, "version", version, true);
    if let Some(t) = time {
        map.insert("timestamp".into(), t.to_rfc3339().into());
    }
    put(&mut map, "hostname", host, false);
    put(&mut map, "appname", app, false);
    put(&mut map, "procid", procid, false);
    put(&mut map, "msgid", msgid, false);
    let rest = parts.next().unwrap_or("");
    let message = if let Some(m) = rest.strip_prefix('-') {
        m
    } else {
        match structured_data(rest) {
            Some((sd, m)) => {
                map.insert("structured_data".into(), sd.into());
                m
            }
            None => return Parse::Malformed("unterminated structured data".into()),
        }
    };
    let message = message.strip_prefix(' ').unwrap_or(message);
    let message = message.strip_prefix('\u{feff}').unwrap_or(message);
    put(&mut map, "message", message.trim_end(), false);
    Parse::Event(Parsed { fields: map.into(), event_time: time, indicators: None })
}

static RFC3164_COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    super::util::declare(
        "priority bigint\n facility bigint\n severity bigint\n timestamp timestamp\n \
         hostname string\n appname string\n procid string\n message string",
    )
});
static RFC5424_COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    let mut columns = RFC3164_COLUMNS.clone();
    columns.extend([
        Column::new("version", LakeType::Bigint),
        Column::new("msgid", LakeType::String),
        Column::new("structured_data", LakeType::Json),
    ]);
    columns
});

impl Parser for Syslog {
    fn log_type(&self) -> &str {
        if self.rfc5424 { "Syslog.RFC5424" } else { "Syslog.RFC3164" }
    }

    fn indicator_fields(&self) -> &[IndicatorField] {
        &INDICATORS
    }

    fn columns(&self) -> &[Column] {
        if self.rfc5424 { &RFC5424_COLUMNS } else { &RFC3164_COLUMNS }
    }

    fn parse(&self, input: &mut Input<'_>, state: &mut ObjectState) -> Parse {
        let Input::Text(line) = input else { return Parse::NotMine };
        if self.rfc5424 { parse_5424(line) } else { parse_3164(line, state) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn rfc5424_line_with_structured_data_parses() {
        let line = r#"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application"] An application event"#;
        let mut state = ObjectState::new(Utc::now());
        let Parse::Event(p) = RFC5424.parse(&mut Input::Text(line), &mut state) else { panic!() };
        let fields = p.fields.to_map();
        assert_eq!(fields["facility"], 20);
        assert_eq!(fields["severity"], 5);
        assert_eq!(fields["structured_data"]["exampleSDID@32473"]["iut"], "3");
        assert_eq!(fields["message"], "An application event");
        assert_eq!(
            p.event_time,
            Utc.with_ymd_and_hms(2003, 10, 11, 22, 14, 15)
                .single()
                .map(|t| t + Duration::milliseconds(3))
        );
    }

    #[test]
    fn rfc3164_year_comes_from_the_reference_time() {
        let reference = Utc.with_ymd_and_hms(2024, 1, 2, 0, 0, 0).single().unwrap_or_default();
        let mut state = ObjectState::new(reference);
        let line = "Dec 31 23:59:59 host sshd[42]: Accepted publickey for root from 10.0.0.1";
        let Parse::Event(p) = RFC3164.parse(&mut Input::Text(line), &mut state) else { panic!() };
        let fields = p.fields.to_map();
        assert_eq!(p.event_time, Utc.with_ymd_and_hms(2023, 12, 31, 23, 59, 59).single());
        assert_eq!(fields["appname"], "sshd");
        assert_eq!(fields["procid"], "42");
    }
}
