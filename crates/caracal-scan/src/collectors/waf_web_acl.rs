//! `AWS.WAF.WebACL`: the account's global web ACLs (WAFv2 scope `CLOUDFRONT`, read in
//! us-east-1), region `global`. See `waf.rs` for the calls and the fields.

use async_trait::async_trait;
use aws_sdk_wafv2::types::Scope as WafScope;
use caracal_core::resource::GLOBAL_REGION;

use super::{Collected, Collector, IdShape, ListingScope, Scope, waf};
use crate::error::CollectError;

const TYPE: &str = "AWS.WAF.WebACL";
/// CloudFront's web ACLs are managed in us-east-1 only.
const CLOUDFRONT_REGION: &str = "us-east-1";

pub(crate) struct WebAcls;

#[async_trait]
impl Collector for WebAcls {
    fn resource_type(&self) -> &'static str {
        TYPE
    }

    fn id_shape(&self) -> IdShape {
        IdShape::Arn { service: "wafv2", prefix: "global/webacl/" }
    }

    fn permissions(&self) -> &'static [&'static str] {
        waf::PERMISSIONS
    }

    fn listing_scope(&self) -> ListingScope {
        ListingScope::Global
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let client = scope.clients_in(CLOUDFRONT_REGION).wafv2();
        waf::collect(scope, &client, WafScope::Cloudfront, TYPE, GLOBAL_REGION).await
    }
}
