//! EKS: per unit a `eks-public` cluster (API endpoint open to the internet, no
//! control-plane logs, secrets unencrypted) and a `eks-private` one (private endpoint only,
//! every log type on, secrets envelope-encrypted with the unit's rotated KMS key).

use aws_sdk_eks::types::{
    EncryptionConfig, LogSetup, LogType, Logging, Provider, VpcConfigRequest,
};
use caracal_aws::Clients;

use super::error::call;
use super::{SeedError, SeededCluster};

/// Unit `i`'s clusters, in `subnet`, run by `role_arn`; the private one's secrets are
/// encrypted with `key_arn`.
pub(super) async fn seed(
    c: &Clients,
    i: u32,
    role_arn: &str,
    subnets: &[String],
    key_arn: &str,
) -> Result<Vec<SeededCluster>, SeedError> {
    let eks = c.eks();
    let mut out = Vec::new();
    for public in [true, false] {
        let kind = if public { "public" } else { "private" };
        let name = format!("seed-{i}-eks-{kind}");
        let vpc = VpcConfigRequest::builder()
            .set_subnet_ids(Some(subnets.to_vec()))
            .endpoint_public_access(public)
            .endpoint_private_access(!public)
            .build();
        let logs = LogSetup::builder()
            .set_types(Some(vec![
                LogType::Api,
                LogType::Audit,
                LogType::Authenticator,
                LogType::ControllerManager,
                LogType::Scheduler,
            ]))
            .enabled(!public)
            .build();
        let secrets = (!public).then(|| {
            EncryptionConfig::builder()
                .provider(Provider::builder().key_arn(key_arn).build())
                .build()
        });
        let arn = eks
            .create_cluster()
            .name(&name)
            .role_arn(role_arn)
            .resources_vpc_config(vpc)
            .logging(Logging::builder().cluster_logging(logs).build())
            .set_encryption_config(secrets.map(|e| vec![e]))
            .tags("caracal:seed", "true")
            .send()
            .await
            .map_err(call(format!("cluster {name}")))?
            .cluster
            .and_then(|c| c.arn)
            .unwrap_or_default();
        out.push(SeededCluster { name, arn, misconfigured: public });
    }
    Ok(out)
}
