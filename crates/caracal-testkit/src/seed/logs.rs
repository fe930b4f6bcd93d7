//! CloudWatch Logs: per unit a `short` log group that expires events after a week and a
//! `kept` one that keeps them two years.

use caracal_aws::Clients;

use super::error::call;
use super::{SeedError, SeededLogGroup};

/// Unit `i`'s log groups.
pub(super) async fn seed(c: &Clients, i: u32) -> Result<Vec<SeededLogGroup>, SeedError> {
    let logs = c.logs();
    let mut out = Vec::new();
    for (kind, days) in [("short", 7), ("kept", 731)] {
        let name = format!("/caracal/seed-{i}/{kind}");
        logs.create_log_group()
            .log_group_name(&name)
            .tags("caracal:seed", "true")
            .send()
            .await
            .map_err(call(format!("log group {name}")))?;
        logs.put_retention_policy()
            .log_group_name(&name)
            .retention_in_days(days)
            .send()
            .await
            .map_err(call(format!("retention of {name}")))?;
        out.push(SeededLogGroup { name, retention_in_days: days });
    }
    Ok(out)
}
