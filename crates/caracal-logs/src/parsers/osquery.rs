//! `Osquery.Differential` and `Osquery.Snapshot`: osquery result logs. Differential rows
//! carry `action` added/removed and `columns`; snapshots carry `snapshot` rows.

use std::sync::LazyLock;

use serde_json::Value;

use super::util::{fields, has_all, object, take_object, value_time};
use super::{IndicatorField, Input, ObjectState, Parse, Parsed, Parser};
use crate::indicators::Kind;
use crate::lake::Column;

pub(crate) struct Osquery {
    snapshot: bool,
}
pub(crate) static DIFFERENTIAL: Osquery = Osquery { snapshot: false };
pub(crate) static SNAPSHOT: Osquery = Osquery { snapshot: true };

static INDICATORS: LazyLock<Vec<IndicatorField>> = LazyLock::new(|| {
    fields(&[
        ("hostIdentifier", Kind::Domain),
        ("decorations.username", Kind::Username),
        ("columns.username", Kind::Username),
        ("columns.user", Kind::Username),
        ("columns.address", Kind::Ip),
        ("columns.remote_address", Kind::Ip),
        ("columns.local_address", Kind::Ip),
        ("columns.sha256", Kind::Sha256),
        ("columns.sha1", Kind::Sha1),
        ("columns.md5", Kind::Md5),
        ("snapshot.sha256", Kind::Sha256),
        ("snapshot.sha1", Kind::Sha1),
        ("snapshot.remote_address", Kind::Ip),
    ])
});

static COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    super::util::declare(
        "\
         action string\n\
         calendarTime string\n\
         columns json\n\
         counter bigint\n\
         decorations json\n\
         epoch bigint\n\
         hostIdentifier string\n\
         log_type string\n\
         name string\n\
         numerics boolean\n\
         snapshot json\n\
         unixTime timestamp\n\
         ",
    )
});

impl Parser for Osquery {
    fn log_type(&self) -> &str {
        if self.snapshot { "Osquery.Snapshot" } else { "Osquery.Differential" }
    }

    fn indicator_fields(&self) -> &[IndicatorField] {
        &INDICATORS
    }

    fn columns(&self) -> &[Column] {
        &COLUMNS
    }

    fn specificity(&self) -> u32 {
        4
    }

    fn parse(&self, input: &mut Input<'_>, _state: &mut ObjectState) -> Parse {
        let Some(map) = object(input) else { return Parse::NotMine };
        if !has_all(map, &["name", "hostIdentifier", "action"]) {
            return Parse::NotMine;
        }
        let is_snapshot = map.get("action").and_then(Value::as_str) == Some("snapshot")
            || map.contains_key("snapshot");
        if is_snapshot != self.snapshot || (!is_snapshot && !map.contains_key("columns")) {
            return Parse::NotMine;
        }
        let event_time = value_time(map.get("unixTime"))
            .or_else(|| {
                let s = map.get("calendarTime")?.as_str()?;
                let t =
                    chrono::NaiveDateTime::parse_from_str(s, "%a %b %e %H:%M:%S %Y UTC").ok()?;
                Some(t.and_utc())
            })
            .or_else(|| value_time(map.get("calendarTime")));
        Parse::Event(Parsed { fields: take_object(input).into(), event_time, indicators: None })
    }
}
