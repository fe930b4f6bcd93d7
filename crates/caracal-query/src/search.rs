//! Indicator search: one value looked up in the `p_any_*` columns of every log table
//! (through `all_logs`). The value is normalized as the writer normalizes indicators
//! (`10.001.2.3` is `10.1.2.3`, domains and hashes lowercase), and only the columns that
//! can hold it are searched: an IP in `p_any_ip_addresses`, an ARN in `p_any_aws_arns`, a
//! word in `p_any_usernames`, and so on.

use std::collections::BTreeMap;

use caracal_core::event as p;
use caracal_core::event::indicators::{Indicators, Kind};
use chrono::{DateTime, Utc};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::functions_nested::expr_fn::array_has;
use datafusion::logical_expr::{Expr, col, lit};

use crate::error::Error;
use crate::session::{ALL_LOGS, Lake};

/// Where one value was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The log type of the event.
    pub log_type: String,
    /// The event's time.
    pub event_time: DateTime<Utc>,
    /// The event's `p_row_id`.
    pub row_id: String,
}

/// What a search found: the hits (oldest first, at most the limit) and the number of
/// events per log type (all of them, beyond the limit too).
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// The `p_any_*` columns searched and the normalized value in each.
    pub searched: Vec<(&'static str, String)>,
    /// Events per log type.
    pub counts: BTreeMap<String, u64>,
    /// The first hits by time.
    pub hits: Vec<Hit>,
}

/// The indicator columns that can hold `value`, with the value as stored there.
pub fn columns_for(value: &str) -> Vec<(&'static str, String)> {
    let mut found = Indicators::default();
    for kind in [
        Kind::Host,
        Kind::Arn,
        Kind::AccountId,
        Kind::InstanceId,
        Kind::Sha256,
        Kind::Sha1,
        Kind::Md5,
        Kind::Email,
        Kind::Username,
    ] {
        found.add(kind, value);
    }
    found.finish();
    found.iter().map(|(field, v)| (field.name(), v.to_owned())).collect()
}

/// Finds `value` in every log table; at most `limit` hits are listed.
pub async fn search(lake: &Lake, value: &str, limit: usize) -> Result<Found, Error> {
    let searched = columns_for(value);
    let Some(condition) = searched
        .iter()
        .map(|(column, v)| array_has(col(*column), lit(v.as_str())))
        .reduce(Expr::or)
    else {
        return Err(Error::NotAnIndicator(value.to_owned()));
    };
    let mut found = Found { searched, ..Found::default() };
    if lake.log_tables().is_empty() {
        return Ok(found);
    }
    let matching = lake.context().table(ALL_LOGS).await?.filter(condition)?;
    let rows =
        matching.select_columns(&[p::P_LOG_TYPE, p::P_EVENT_TIME, p::P_ROW_ID])?.cache().await?;
    let counts = rows
        .clone()
        .aggregate(vec![col(p::P_LOG_TYPE)], vec![count(col(p::P_ROW_ID))])?
        .collect()
        .await?;
    for batch in &counts {
        let types = text(batch, 0)?;
        let n = batch.column(1).as_primitive_opt::<datafusion::arrow::datatypes::Int64Type>();
        for (row, log_type) in types.iter().enumerate().take(batch.num_rows()) {
            let count = n.map_or(0, |n| n.value(row));
            found.counts.insert(log_type.clone(), u64::try_from(count).unwrap_or(0));
        }
    }
    let first = rows
        .sort(vec![col(p::P_EVENT_TIME).sort(true, true), col(p::P_ROW_ID).sort(true, true)])?
        .limit(0, Some(limit))?
        .collect()
        .await?;
    for batch in &first {
        let types = text(batch, 0)?;
        let ids = text(batch, 2)?;
        let utc = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        let times = cast(batch.column(1), &utc).map_err(|e| Error::Output(e.to_string()))?;
        let times = times
            .as_primitive_opt::<datafusion::arrow::datatypes::TimestampMicrosecondType>()
            .ok_or_else(|| Error::Output("p_event_time is not a time".into()))?;
        for row in 0..batch.num_rows() {
            let Some(event_time) = DateTime::from_timestamp_micros(times.value(row)) else {
                continue;
            };
            found.hits.push(Hit {
                log_type: types[row].clone(),
                event_time,
                row_id: ids[row].clone(),
            });
        }
    }
    Ok(found)
}

/// A text column of `batch` as strings (whatever string type the reader chose).
fn text(batch: &RecordBatch, i: usize) -> Result<Vec<String>, Error> {
    let column =
        cast(batch.column(i), &DataType::Utf8).map_err(|e| Error::Output(e.to_string()))?;
    let strings = column
        .as_string_opt::<i32>()
        .ok_or_else(|| Error::Output(format!("column {i} is not text")))?;
    Ok((0..strings.len())
        .map(|row| if strings.is_null(row) { String::new() } else { strings.value(row).to_owned() })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_go_to_the_columns_that_hold_them() {
        let cols = |v: &str| columns_for(v).into_iter().map(|(c, _)| c).collect::<Vec<_>>();
        assert!(cols("10.001.2.3").contains(&p::P_ANY_IP_ADDRESSES));
        assert_eq!(columns_for("10.001.2.3")[0].1, "10.1.2.3");
        assert!(cols("arn:aws:iam::123456789012:user/bob").contains(&p::P_ANY_AWS_ARNS));
        assert!(cols("123456789012").contains(&p::P_ANY_AWS_ACCOUNT_IDS));
        assert!(cols("i-0abc1234def567890").contains(&p::P_ANY_AWS_INSTANCE_IDS));
        assert!(cols("Example.COM").contains(&p::P_ANY_DOMAIN_NAMES));
        assert!(cols("bob@example.com").contains(&p::P_ANY_EMAILS));
        assert_eq!(cols("bob"), vec![p::P_ANY_USERNAMES]);
    }
}
