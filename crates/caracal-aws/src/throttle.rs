//! Throttling: recognising a throttled answer in any protocol, and the retry rule for
//! sessions that change things.
//!
//! A remediation write must not be repeated blindly: when its answer is lost (a timeout, a
//! dropped connection) or is a server error, the change may have landed, and a second
//! `CreateFlowLogs` makes a second flow log. Only an answer that says "throttled" proves
//! the request was refused unprocessed. [`AnsweredThrottlingOnly`] is added to every client
//! of a [`Purpose::Remediate`](crate::Purpose) session: it forbids every other retry, and
//! the executor settles an unanswered call by reading the resource again.

use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, RetryClassifierPriority,
};

/// The error codes AWS uses for throttling across protocols (the ones the SDK's own retry
/// classifier treats as throttling).
const THROTTLE_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

/// Whether an HTTP answer is a throttling error.
pub(crate) fn is_throttle(response: &HttpResponse) -> bool {
    answer_is_throttle(
        response.status().as_u16(),
        response.headers().get("x-amzn-errortype"),
        response.body().bytes().unwrap_or_default(),
    )
}

/// HTTP 429, or an error status whose code (in `x-amzn-ErrorType`, a JSON or CBOR
/// `__type`, a JSON `code`, or an XML `<Code>`) is a throttling code.
fn answer_is_throttle(status: u16, error_type: Option<&str>, body: &[u8]) -> bool {
    if status == 429 {
        return true;
    }
    if status < 400 {
        return false;
    }
    let code_is = |code: &str| THROTTLE_CODES.contains(&code);
    if let Some(t) = error_type {
        // `Code:http://internal.amazon.com/...` or just `Code`.
        if code_is(t.split(':').next().unwrap_or(t).trim()) {
            return true;
        }
    }
    if cbor_error_type(body).is_some_and(|t| code_is(t.rsplit('#').next().unwrap_or(t))) {
        return true;
    }
    let text = String::from_utf8_lossy(body);
    THROTTLE_CODES.iter().any(|code| {
        text.contains(&format!("<Code>{code}</Code>"))
            || text.contains(&format!("\"{code}\""))
            || text.contains(&format!("#{code}\""))
    })
}

/// The `__type` of a Smithy RPC v2 CBOR error body (CloudWatch speaks it): the text string
/// right after the key `__type`. Only the short (< 256 bytes) text headers errors use.
fn cbor_error_type(body: &[u8]) -> Option<&str> {
    const KEY: &[u8] = b"\x66__type";
    let at = body.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let (start, len) = match *body.get(at)? {
        h @ 0x60..=0x77 => (at + 1, usize::from(h - 0x60)),
        0x78 => (at + 2, usize::from(*body.get(at + 1)?)),
        _ => return None,
    };
    std::str::from_utf8(body.get(start..start + len)?).ok()
}

/// Retries a failed call only when AWS answered it with a throttling error; forbids every
/// other retry (no answer, a timeout, a server error, a parse failure). See the module doc.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct AnsweredThrottlingOnly;

impl ClassifyRetry for AnsweredThrottlingOnly {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        match ctx.output_or_error() {
            None | Some(Ok(_)) => RetryAction::NoActionIndicated,
            Some(Err(_)) => match ctx.response() {
                Some(response) if is_throttle(response) => RetryAction::throttling_error(),
                _ => RetryAction::RetryForbidden,
            },
        }
    }

    fn name(&self) -> &'static str {
        "caracal::AnsweredThrottlingOnly"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_answers_are_recognised_in_every_protocol() {
        assert!(answer_is_throttle(429, None, b""));
        assert!(answer_is_throttle(
            400,
            None,
            br#"{"__type":"ThrottlingException","message":"x"}"#
        ));
        assert!(answer_is_throttle(
            400,
            None,
            br#"{"__type":"com.amazon.coral#ThrottlingException"}"#
        ));
        assert!(answer_is_throttle(400, Some("TooManyRequestsException:http://x"), b"{}"));
        assert!(answer_is_throttle(
            503,
            None,
            b"<Response><Errors><Error><Code>RequestLimitExceeded</Code></Error></Errors></Response>"
        ));
        assert!(answer_is_throttle(503, None, b"<Error><Code>SlowDown</Code></Error>"));
        assert!(!answer_is_throttle(400, None, b"<Error><Code>AccessDenied</Code></Error>"));
        assert!(!answer_is_throttle(200, None, br#"{"Throttling":"Throttling"}"#));
        assert!(!answer_is_throttle(500, None, b"<Error><Code>InternalError</Code></Error>"));
        // CBOR: {"__type": "ThrottlingException"} and the shape-id form.
        let mut cbor = b"\xa1\x66__type\x73".to_vec();
        cbor.extend_from_slice(b"ThrottlingException");
        assert!(answer_is_throttle(400, None, &cbor));
        let mut shape = b"\xa1\x66__type\x78\x25".to_vec();
        shape.extend_from_slice(b"com.amazonaws.cloudwatch#Throttling00");
        assert!(!answer_is_throttle(400, None, &shape));
        let mut shape = b"\xa1\x66__type\x78\x23".to_vec();
        shape.extend_from_slice(b"com.amazonaws.cloudwatch#Throttling");
        assert!(answer_is_throttle(400, None, &shape));
        assert!(!answer_is_throttle(400, None, b"\xa1\x66__type\x78\xff"));
    }
}
