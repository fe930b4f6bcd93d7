//! Resource policies (SQS, SNS, Lambda): which statements let anyone in. The rule is the
//! bundled policies' (`statement_is_public` in `caracal_policy_helpers`): an `Allow` whose
//! principal is `*` or names `*` among AWS principals, with no `Condition` narrowing it.

use serde_json::Value;

use crate::error::Error;
use crate::target::Target;

/// Whether `statement` admits any principal unconditionally.
pub(crate) fn is_public(statement: &Value) -> bool {
    if statement["Effect"] != "Allow" || statement.get("Condition").is_some_and(|c| !c.is_null()) {
        return false;
    }
    match &statement["Principal"] {
        Value::String(p) => p == "*",
        Value::Object(p) => match p.get("AWS") {
            Some(Value::String(a)) => a == "*",
            Some(Value::Array(a)) => a.iter().any(|v| v == "*"),
            _ => false,
        },
        _ => false,
    }
}

/// The statements of a policy document (a single statement object counts as a list of one).
pub(crate) fn statements(document: &Value) -> Vec<Value> {
    match &document["Statement"] {
        Value::Array(s) => s.clone(),
        Value::Null => Vec::new(),
        one => vec![one.clone()],
    }
}

/// Parses policy text; empty text (no policy) is `Null`.
pub(crate) fn parse(text: Option<&str>) -> Result<Value, serde_json::Error> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => serde_json::from_str(t),
        None => Ok(Value::Null),
    }
}

/// [`parse`] for a policy `operation` just read from `target`: text that is not JSON is
/// an error naming the call and the resource, with `what` ("the queue policy") in it.
pub(crate) fn parse_read(
    text: Option<&str>,
    operation: &str,
    target: &Target,
    what: &str,
) -> Result<Value, Error> {
    parse(text).map_err(|e| Error::Aws {
        operation: operation.into(),
        resource_id: target.resource_id.clone(),
        code: None,
        message: format!("{what} is not JSON: {e}"),
    })
}

/// `document` without its public statements, or `None` when none would be left.
pub(crate) fn without_public(document: &Value) -> Option<Value> {
    let kept: Vec<Value> = statements(document).into_iter().filter(|s| !is_public(s)).collect();
    if kept.is_empty() {
        return None;
    }
    let mut doc = document.clone();
    doc["Statement"] = Value::Array(kept);
    Some(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn public_means_any_principal_without_condition() {
        let public = [
            json!({"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage"}),
            json!({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sns:Publish"}),
            json!({"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::1:root", "*"]}}),
        ];
        let private = [
            json!({"Effect": "Deny", "Principal": "*"}),
            json!({"Effect": "Allow", "Principal": "*", "Condition": {"StringEquals": {"aws:SourceAccount": "1"}}}),
            json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}}),
            json!({"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}}),
        ];
        assert!(public.iter().all(is_public));
        assert!(!private.iter().any(is_public));
    }

    #[test]
    fn without_public_keeps_the_rest_or_nothing() {
        let doc = json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "owner", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "*"},
            {"Sid": "anyone", "Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage"},
        ]});
        let kept = without_public(&doc).unwrap();
        assert_eq!(statements(&kept).len(), 1);
        assert_eq!(kept["Statement"][0]["Sid"], "owner");
        assert_eq!(kept["Version"], "2012-10-17");
        let only_public = json!({"Statement": {"Effect": "Allow", "Principal": "*"}});
        assert_eq!(without_public(&only_public), None);
        assert_eq!(parse(Some("  ")).unwrap(), Value::Null);
        let queue = Target::parse("arn:aws:sqs:us-east-1:123456789012:q").unwrap();
        let err =
            parse_read(Some("{not json"), "sqs:GetQueueAttributes", &queue, "the queue policy")
                .unwrap_err();
        assert!(
            matches!(&err, Error::Aws { operation, resource_id, message, .. }
                if operation == "sqs:GetQueueAttributes" && resource_id == &queue.resource_id
                    && message.starts_with("the queue policy is not JSON")),
            "{err}"
        );
    }
}
