//! SNS: per unit a topic whose access policy lets anyone publish (`Principal: *`, no
//! condition) and is not encrypted, and a private topic encrypted with the SNS AWS key.

use caracal_aws::Clients;

use super::error::call;
use super::{SeedError, SeededTopic};

/// Unit `i`'s topics.
pub(super) async fn seed(
    c: &Clients,
    account: &str,
    i: u32,
) -> Result<Vec<SeededTopic>, SeedError> {
    let sns = c.sns();
    let mut topics = Vec::new();
    for public in [true, false] {
        let kind = if public { "public" } else { "private" };
        let name = format!("seed-{i}-topic-{kind}");
        let arn = format!("arn:aws:sns:{}:{account}:{name}", c.region());
        let mut create = sns.create_topic().name(&name);
        if public {
            let policy = super::anyone_may("SNS:Publish", &arn);
            create = create.attributes("Policy", policy.to_string());
        } else {
            create = create.attributes("KmsMasterKeyId", "alias/aws/sns");
        }
        let arn =
            create.send().await.map_err(call(format!("topic {name}")))?.topic_arn.unwrap_or(arn);
        topics.push(SeededTopic { name, arn, public_policy: public, encrypted: !public });
    }
    Ok(topics)
}
