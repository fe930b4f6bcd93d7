//! SQS: per unit a queue whose access policy lets anyone send (`Principal: *`, no
//! condition) and that is not encrypted, and a private queue with SQS-managed encryption.

use caracal_aws::Clients;

use super::error::call;
use super::{SeedError, SeededQueue};

/// Unit `i`'s queues.
pub(super) async fn seed(
    c: &Clients,
    account: &str,
    i: u32,
) -> Result<Vec<SeededQueue>, SeedError> {
    let sqs = c.sqs();
    let mut queues = Vec::new();
    for public in [true, false] {
        let kind = if public { "public" } else { "private" };
        let name = format!("seed-{i}-queue-{kind}");
        let arn = format!("arn:aws:sqs:{}:{account}:{name}", c.region());
        let mut create = sqs.create_queue().queue_name(&name);
        if public {
            let policy = super::anyone_may("sqs:SendMessage", &arn);
            create = create
                .attributes(aws_sdk_sqs::types::QueueAttributeName::Policy, policy.to_string())
                .attributes(aws_sdk_sqs::types::QueueAttributeName::SqsManagedSseEnabled, "false");
        } else {
            create = create
                .attributes(aws_sdk_sqs::types::QueueAttributeName::SqsManagedSseEnabled, "true");
        }
        let url = create
            .send()
            .await
            .map_err(call(format!("queue {name}")))?
            .queue_url
            .unwrap_or_default();
        queues.push(SeededQueue { name, arn, url, public_policy: public, encrypted: !public });
    }
    Ok(queues)
}
