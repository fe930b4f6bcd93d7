//! The messages between an engine and its worker processes, over the Unix socket that is
//! the worker's standard input. A frame is a JSON message and a byte payload (the batch
//! or tests, as the JSON text the caller gave, never re-encoded), each prefixed by its
//! length as a little-endian `u64`.

use std::io::{self, Read, Write};
use std::path::PathBuf;

use caracal_core::ComplianceStatus;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::engine::{PolicyVerdict, RuleOutcome};
use crate::local::Skip;
use crate::pack::{DataModelSpec, DetectionKind, DetectionSpec, GlobalSpec, InvalidSpec};

/// Messages or payloads longer than this are a broken peer, not data.
const MAX_PART: u64 = 1 << 34;

/// What the engine asks a worker.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Request {
    /// Compile a pack (the first message a worker gets).
    Load(Box<Load>),
    /// Evaluate the batch in the payload (a JSON array).
    Evaluate {
        /// Policies or rules.
        kind: DetectionKind,
        /// Detections this batch skips, from an item on.
        skipped: Vec<Skip>,
        /// Publish each detection's index before its call.
        precise: bool,
        /// Posture lookups are answered (else `caracal_posture` raises `BadLookup`).
        posture: bool,
    },
    /// Run the tests in the payload (a JSON array) of one compiled detection.
    Tests {
        /// Policy or rule.
        kind: DetectionKind,
        /// Index among the compiled policies or rules.
        index: usize,
    },
    /// The answer to the worker's last [`Reply::Ask`].
    Answer(Answer),
}

/// [`Request::Load`] by reference: the same JSON, without copying the pack.
#[derive(Debug, Serialize)]
pub(crate) enum LoadRef<'a> {
    /// As [`Request::Load`].
    Load(&'a Load),
}

/// A pack to compile and how.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Load {
    /// The page the worker publishes its progress in (see `super::progress`).
    pub(crate) progress: PathBuf,
    /// `EngineOptions::time_limit`, in seconds.
    pub(crate) time_limit: f64,
    /// `EngineOptions::python_paths`.
    pub(crate) python_paths: Vec<PathBuf>,
    /// `EngineOptions::include_disabled`.
    pub(crate) include_disabled: bool,
    /// `EngineOptions::import_globals`.
    pub(crate) import_globals: bool,
    /// `RLIMIT_AS`, bytes.
    pub(crate) memory_limit: u64,
    /// `RLIMIT_CPU`, seconds.
    pub(crate) cpu_limit: u64,
    /// Globals.
    pub(crate) globals: Vec<GlobalSpec>,
    /// Data models, each with its index in the engine's pack.
    pub(crate) data_models: Vec<(usize, DataModelSpec)>,
    /// Detections (without their tests), each with its index in the engine's pack.
    pub(crate) detections: Vec<(usize, DetectionSpec)>,
}

/// What a worker answers.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Reply {
    /// The pack compiled: the pack indexes of the compiled policies and rules, in order.
    Loaded {
        /// Pack indexes of the compiled policies.
        policies: Vec<usize>,
        /// Pack indexes of the compiled rules.
        rules: Vec<usize>,
        /// What did not compile.
        invalid: Vec<InvalidSpec>,
    },
    /// A policy batch's verdicts, packed in the payload ([`pack_verdicts`]), with the
    /// messages of the errors by verdict position.
    Verdicts(Vec<(usize, String)>),
    /// A rule batch's outcomes.
    Outcomes(Vec<RuleOutcome>),
    /// Test results (JSON text, as the in-process runner returns them).
    Tests(String),
    /// The request failed outside detection code (as `Error::Python` in-process).
    Failed(String),
    /// A detection needs the engine's stores; a [`Request::Answer`] follows.
    Ask(Question),
}

/// A posture lookup or key-value call made by a detection in a worker.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Question {
    /// `PostureLookup::resource`.
    Resource(String),
    /// `PostureLookup::compliance`.
    Compliance(String),
    /// `PostureLookup::resource_at`: the id and the time (RFC 3339).
    ResourceAt(String, String),
    /// `KvStore::get`.
    Get(String),
    /// `KvStore::put`.
    Put(String, String, Option<i64>),
    /// `KvStore::increment`.
    Increment(String, i64, Option<i64>),
    /// `KvStore::set_expiry`.
    SetExpiry(String, i64),
    /// `KvStore::delete`.
    Delete(String),
}

/// The engine's answer to a [`Question`].
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Answer {
    /// For `Resource`: the snapshot as JSON text, or the store's error.
    Resource(Result<Option<String>, String>),
    /// For `Compliance`.
    Compliance(Result<Vec<(String, String)>, String>),
    /// For `Get`.
    Text(Option<String>),
    /// For `Increment`.
    Number(i64),
    /// For the calls that return nothing.
    Done,
}

/// Bytes per packed verdict: resource and policy (`u32` each), then the status.
const VERDICT: usize = 9;
const PASS: u8 = 0;
const FAIL: u8 = 1;
const ERROR: u8 = 2;
const SUPPRESSED: u8 = 4;

/// Verdicts as a payload of [`VERDICT`] bytes each and the error messages: thousands of
/// verdicts per batch cost microseconds this way, milliseconds as JSON objects.
pub(crate) fn pack_verdicts(verdicts: Vec<PolicyVerdict>) -> (Reply, Vec<u8>) {
    let mut payload = Vec::with_capacity(verdicts.len() * VERDICT);
    let mut errors = Vec::new();
    for (position, v) in verdicts.into_iter().enumerate() {
        payload.extend_from_slice(&(v.resource as u32).to_le_bytes());
        payload.extend_from_slice(&(v.policy as u32).to_le_bytes());
        let status = match v.status {
            ComplianceStatus::Pass => PASS,
            ComplianceStatus::Fail => FAIL,
            ComplianceStatus::Error(message) => {
                errors.push((position, message));
                ERROR
            }
        };
        payload.push(status | if v.suppressed { SUPPRESSED } else { 0 });
    }
    (Reply::Verdicts(errors), payload)
}

/// The verdicts [`pack_verdicts`] packed; `None` when the payload is not whole.
pub(crate) fn unpack_verdicts(
    errors: Vec<(usize, String)>,
    payload: &[u8],
) -> Option<Vec<PolicyVerdict>> {
    if !payload.len().is_multiple_of(VERDICT) {
        return None;
    }
    let mut messages: std::collections::HashMap<usize, String> = errors.into_iter().collect();
    let word = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
    payload
        .chunks_exact(VERDICT)
        .enumerate()
        .map(|(position, b)| {
            let status = match b[8] & !SUPPRESSED {
                PASS => ComplianceStatus::Pass,
                FAIL => ComplianceStatus::Fail,
                ERROR => ComplianceStatus::Error(messages.remove(&position)?),
                _ => return None,
            };
            Some(PolicyVerdict {
                resource: word(&b[0..4]),
                policy: word(&b[4..8]),
                status,
                suppressed: b[8] & SUPPRESSED != 0,
            })
        })
        .collect()
}

/// Writes one frame.
pub(crate) fn write(
    out: &mut impl Write,
    message: &impl Serialize,
    payload: &[u8],
) -> io::Result<()> {
    let message = serde_json::to_vec(message).map_err(io::Error::other)?;
    let mut frame = Vec::with_capacity(16 + message.len());
    frame.extend_from_slice(&(message.len() as u64).to_le_bytes());
    frame.extend_from_slice(&message);
    frame.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.write_all(&frame)?;
    out.write_all(payload)?;
    out.flush()
}

/// Reads one frame: the message and the payload. End of stream is `UnexpectedEof`.
pub(crate) fn read<T: DeserializeOwned>(input: &mut impl Read) -> io::Result<(T, Vec<u8>)> {
    let message = read_part(input)?;
    let message = serde_json::from_slice(&message).map_err(io::Error::other)?;
    let payload = read_part(input)?;
    Ok((message, payload))
}

fn read_part(input: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 8];
    input.read_exact(&mut len)?;
    let len = u64::from_le_bytes(len);
    if len > MAX_PART {
        return Err(io::Error::other(format!("frame part of {len} bytes")));
    }
    let mut buf = vec![0u8; len as usize];
    input.read_exact(&mut buf)?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let mut buf = Vec::new();
        write(&mut buf, &Request::Tests { kind: DetectionKind::Rule, index: 3 }, b"[1]").unwrap();
        write(&mut buf, &Reply::Failed("x".into()), b"").unwrap();
        let mut input = buf.as_slice();
        let (first, payload): (Request, _) = read(&mut input).unwrap();
        assert!(matches!(first, Request::Tests { kind: DetectionKind::Rule, index: 3 }));
        assert_eq!(payload, b"[1]");
        let (second, payload): (Reply, _) = read(&mut input).unwrap();
        assert!(matches!(second, Reply::Failed(m) if m == "x"));
        assert!(payload.is_empty());
        let end = read::<Reply>(&mut input).unwrap_err();
        assert_eq!(end.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn verdicts_pack_and_unpack() {
        let verdicts = vec![
            PolicyVerdict {
                resource: 0,
                policy: 2,
                status: ComplianceStatus::Pass,
                suppressed: false,
            },
            PolicyVerdict {
                resource: 1,
                policy: 0,
                status: ComplianceStatus::Error("KeyError: 'x'".into()),
                suppressed: true,
            },
            PolicyVerdict {
                resource: 70_000,
                policy: 1,
                status: ComplianceStatus::Fail,
                suppressed: false,
            },
        ];
        let (reply, payload) = pack_verdicts(verdicts.clone());
        let Reply::Verdicts(errors) = reply else { panic!("{reply:?}") };
        assert_eq!(unpack_verdicts(errors, &payload), Some(verdicts));
        assert_eq!(unpack_verdicts(Vec::new(), &payload[..10]), None);
    }
}
