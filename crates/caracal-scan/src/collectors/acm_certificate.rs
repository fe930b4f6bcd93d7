//! `AWS.ACM.Certificate`: ListCertificates (every key type and status, not only the
//! default RSA-2048 ones), then per certificate DescribeCertificate, whose answer carries
//! what a policy reads (status, expiry, key algorithm, renewal, in-use, transparency
//! logging). Tags come from ListTagsForCertificate. Attributes keep ACM's names
//! (Panther's): `DomainName`, `Status`, `Type`, `KeyAlgorithm`, `NotAfter`, `InUseBy`,
//! `RenewalEligibility`, `Options`, ... A certificate whose tags cannot be read is kept
//! with empty tags, the failure listed under `caracal:errors`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_acm::Client;
use aws_sdk_acm::types::{CertificateDetail, CertificateStatus, KeyAlgorithm};
use caracal_core::Resource;
use serde_json::{Value, json};

use super::{Collected, Collector, Described, DetailErrors, IdShape, Scope};
use crate::error::CollectError;
use crate::sdk::{CallResult, created, e, list, ts};

const TYPE: &str = "AWS.ACM.Certificate";

pub(crate) struct Certificates;

#[async_trait]
impl Collector for Certificates {
    fn resource_type(&self) -> &'static str {
        TYPE
    }

    fn id_shape(&self) -> IdShape {
        IdShape::Arn { service: "acm", prefix: "certificate/" }
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["acm:ListCertificates", "acm:DescribeCertificate", "acm:ListTagsForCertificate"]
    }

    async fn collect(&self, scope: &Scope) -> Result<Collected, CollectError> {
        let acm = scope.clients().acm();
        let mut arns = Vec::new();
        let mut pages = acm
            .list_certificates()
            .includes(
                aws_sdk_acm::types::Filters::builder()
                    .set_key_types(Some(
                        KeyAlgorithm::values().iter().map(|k| KeyAlgorithm::from(*k)).collect(),
                    ))
                    .build(),
            )
            .set_certificate_statuses(Some(
                CertificateStatus::values().iter().map(|s| CertificateStatus::from(*s)).collect(),
            ))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            arns.extend(
                page.op("acm:ListCertificates")?
                    .certificate_summary_list()
                    .iter()
                    .filter_map(|c| c.certificate_arn().map(str::to_owned)),
            );
        }
        let acm = &acm;
        let results = scope
            .each(
                arns,
                |arn| async move { certificate(acm, scope, &arn).await.map_err(|e| e.on(arn)) },
            )
            .await;
        // A certificate deleted between the listing and its description is simply not there.
        Ok(Collected::from_described(results.into_iter().filter_map(Result::transpose)))
    }
}

async fn certificate(
    acm: &Client,
    scope: &Scope,
    arn: &str,
) -> Result<Option<Described>, CollectError> {
    let Some(out) = acm
        .describe_certificate()
        .certificate_arn(arn)
        .send()
        .await
        .absent("acm:DescribeCertificate", &["ResourceNotFoundException"])?
    else {
        return Ok(None);
    };
    let Some(c) = out.certificate() else { return Ok(None) };
    let mut failed = DetailErrors::default();
    let tags = failed.keep(
        acm.list_tags_for_certificate()
            .certificate_arn(arn)
            .send()
            .await
            .op("acm:ListTagsForCertificate")
            .map(|o| {
                o.tags()
                    .iter()
                    .map(|t| (t.key().to_owned(), t.value().unwrap_or_default().to_owned()))
                    .collect::<BTreeMap<_, _>>()
            }),
    );
    let mut r = Resource::new(arn, TYPE, scope.account_id(), scope.region());
    r.arn = Some(arn.to_owned());
    r.id = arn.rsplit('/').next().map(str::to_owned);
    r.name = c.domain_name().map(str::to_owned);
    r.tags = tags.unwrap_or_default();
    r.time_created = created(c.created_at().or(c.imported_at()));
    if let Value::Object(map) = attributes(c) {
        r.attributes.extend(map);
    }
    Ok(Some(failed.finish(r)))
}

fn attributes(c: &CertificateDetail) -> Value {
    // Panther's `Options`: AWS no longer lets certificates opt out of transparency
    // logging, but older ones still report their preference.
    #[allow(deprecated)]
    let transparency = c.options().map(|o| e(o.certificate_transparency_logging_preference()));
    json!({
        "CertificateArn": c.certificate_arn(),
        "DomainName": c.domain_name(),
        "SubjectAlternativeNames": c.subject_alternative_names(),
        "Status": e(c.status()),
        "Type": e(c.r#type()),
        "KeyAlgorithm": e(c.key_algorithm()),
        "SignatureAlgorithm": c.signature_algorithm(),
        "Issuer": c.issuer(),
        "Subject": c.subject(),
        "Serial": c.serial(),
        "CreatedAt": ts(c.created_at()),
        "IssuedAt": ts(c.issued_at()),
        "ImportedAt": ts(c.imported_at()),
        "NotBefore": ts(c.not_before()),
        "NotAfter": ts(c.not_after()),
        "RevokedAt": ts(c.revoked_at()),
        "RevocationReason": e(c.revocation_reason()),
        "InUseBy": c.in_use_by(),
        "FailureReason": e(c.failure_reason()),
        "RenewalEligibility": e(c.renewal_eligibility()),
        "RenewalSummary": c.renewal_summary().map(|s| json!({
            "RenewalStatus": s.renewal_status().as_str(),
            "RenewalStatusReason": e(s.renewal_status_reason()),
            "UpdatedAt": ts(Some(s.updated_at())),
        })),
        "KeyUsages": list(c.key_usages(), |k| json!({"Name": e(k.name())})),
        "ExtendedKeyUsages": list(c.extended_key_usages(), |k| json!({"Name": e(k.name()), "OID": k.oid()})),
        "DomainValidationOptions": list(c.domain_validation_options(), |d| json!({
            "DomainName": d.domain_name(),
            "ValidationDomain": d.validation_domain(),
            "ValidationMethod": e(d.validation_method()),
            "ValidationStatus": e(d.validation_status()),
        })),
        "Options": transparency.map(|t| json!({"CertificateTransparencyLoggingPreference": t})),
        "CertificateAuthorityArn": c.certificate_authority_arn(),
    })
}
