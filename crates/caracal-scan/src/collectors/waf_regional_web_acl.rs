//! `AWS.WAF.Regional.WebACL`: the web ACLs of one region (WAFv2 scope `REGIONAL`, used by
//! load balancers, API Gateway stages, ...). See `waf.rs` for the calls and the fields.

use async_trait::async_trait;
use aws_sdk_wafv2::types::Scope as WafScope;

use super::{Collected, Collector, IdShape, Scope, waf};
use crate::error::CollectError;

const TYPE: &str = "AWS.WAF.Regional.WebACL";

pub(crate) struct WebAcls;

#[async_trait]
impl Collector for WebAcls {
    fn resource_type(&self) -> &'static str {
        TYPE
    }

    fn id_shape(&self) -> IdShape {
        IdShape::Arn { service: "wafv2", prefix: "regional/webacl/" }
    }

    fn permissions(&self) -> &'static [&'static str] {
        waf::PERMISSIONS
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let client = scope.clients().wafv2();
        waf::collect(scope, &client, WafScope::Regional, TYPE, scope.region()).await
    }
}
