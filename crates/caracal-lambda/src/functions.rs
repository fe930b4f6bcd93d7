//! [`FUNCTIONS`]: every Lambda function, its binary and the environment it needs. The
//! template (`infra/caracal.yaml`) declares one function resource per entry, whose image
//! command is the binary and whose environment sets every variable of [`FunctionSpec::env`].

/// One function of the serverless shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionSpec {
    /// Its short name, such as `log-processor`.
    pub name: &'static str,
    /// The binary in the image that runs it (`src/bin/`).
    pub binary: &'static str,
    /// The logical id of its `AWS::Lambda::Function` in `infra/caracal.yaml`.
    pub resource: &'static str,
    /// Variables it needs besides [`COMMON_ENV`]; the function refuses to start without them.
    pub env: &'static [&'static str],
}

impl FunctionSpec {
    /// Every variable the template must set for this function.
    pub fn required_env(&self) -> Vec<&'static str> {
        COMMON_ENV.iter().chain(self.env).copied().collect()
    }
}

/// Variables every function needs: the configuration file, the DynamoDB store, the scan
/// regions, the alerts topic and the destination secrets (may be empty).
pub const COMMON_ENV: &[&str] = &[
    "CARACAL_CONFIG",
    "CARACAL_STORE",
    "CARACAL_DYNAMODB_TABLE_PREFIX",
    "CARACAL_REGIONS",
    "CARACAL_ALERTS_TOPIC_ARN",
    "CARACAL_SECRETS",
];

/// Variables read when set, never required: endpoint overrides for an emulator, the
/// other `caracal.toml` overrides, and a sources file routing log prefixes.
pub const OPTIONAL_ENV: &[&str] =
    &["CARACAL_ENDPOINT_URL", "CARACAL_DB", "CARACAL_SCHEDULE", "CARACAL_SCAN_SOURCE"];

/// The EventBridge-scheduled fan-out: one SQS message per account and region.
pub const SCAN_SCHEDULER: FunctionSpec = FunctionSpec {
    name: "scan-scheduler",
    binary: "caracal-scan-scheduler",
    resource: "ScanSchedulerFunction",
    env: &["CARACAL_SCAN_QUEUE_URL"],
};

/// Scans one account and region from the scan queue, evaluates, stores verdicts.
pub const SCANNER: FunctionSpec = FunctionSpec {
    name: "scanner",
    binary: "caracal-scanner",
    resource: "ScannerFunction",
    env: &["CARACAL_REMEDIATION_QUEUE_URL"],
};

/// S3 notifications (plain or through SNS) from the log queue into the lake and the rules.
pub const LOG_PROCESSOR: FunctionSpec = FunctionSpec {
    name: "log-processor",
    binary: "caracal-log-processor",
    resource: "LogProcessorFunction",
    env: &["CARACAL_LAKE", "CARACAL_SOURCES"],
};

/// The HTTP API behind an API Gateway HTTP API; `POST /v1/scans` queues scan targets.
pub const API: FunctionSpec = FunctionSpec {
    name: "api",
    binary: "caracal-api",
    resource: "ApiFunction",
    env: &["CARACAL_SCAN_QUEUE_URL"],
};

/// Remediation requests from a queue or a direct invoke: plan, re-check, apply, verify, audit.
pub const REMEDIATOR: FunctionSpec = FunctionSpec {
    name: "remediator",
    binary: "caracal-remediator",
    resource: "RemediatorFunction",
    env: &[],
};

/// CloudTrail API-call events from EventBridge (through a queue): targeted rescans.
pub const CHANGE_EVENTS: FunctionSpec = FunctionSpec {
    name: "change-events",
    binary: "caracal-change-events",
    resource: "ChangeEventsFunction",
    env: &["CARACAL_REMEDIATION_QUEUE_URL"],
};

/// Every function, by name.
pub static FUNCTIONS: &[&FunctionSpec] =
    &[&API, &CHANGE_EVENTS, &LOG_PROCESSOR, &REMEDIATOR, &SCAN_SCHEDULER, &SCANNER];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_are_sorted_unique_and_at_most_six() {
        assert!(FUNCTIONS.windows(2).all(|w| w[0].name < w[1].name));
        assert!(FUNCTIONS.len() <= 6);
        assert!(FUNCTIONS.iter().all(|f| f.binary == format!("caracal-{}", f.name)));
    }
}
