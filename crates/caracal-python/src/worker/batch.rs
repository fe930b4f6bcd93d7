//! A batch in worker processes, and what a worker's death costs it.
//!
//! The whole batch goes to one worker. When that worker dies or is killed, the batch is
//! split into its items (the results of the dead worker are lost) and evaluated again on
//! fresh workers, learning from each death:
//!
//! - The progress page names the item the worker was on. A normal run does not say which
//!   detection was running (that would cost a store per call), so that item alone runs
//!   again in *precise* mode, which publishes each detection's index before its call.
//! - A death in precise mode names the detection: that item × detection becomes an ERROR
//!   with the reason, and the detection is skipped (an ERROR `DetectionSkipped` saying
//!   why) from that item on, for the rest of the batch. Items before it keep its real
//!   results; if it kills a worker a second time it is skipped on every item.
//! - After two deaths that a precise run did not reproduce, the rest of the batch runs
//!   in precise mode, so that a detection that kills workers at random is caught too.
//! - A death before the first item halves the items sent at once; a death in precise
//!   mode outside any detection call gives every detection that applies to that item
//!   an ERROR with the reason.
//!
//! Each death thus marks a detection or an item, or halves the chunk: a batch of n items
//! and d detections costs at most about 2 + 2(d + n) + log2(n) worker starts, and the
//! items re-run after each are the ones not yet answered.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use caracal_core::ComplianceStatus;
use serde_json::Value;
use serde_json::value::RawValue;

use super::pool::{Death, Pool};
use super::progress;
use super::stores::{self, Journal};
use super::wire::{self, Reply, Request};
use crate::engine::{PolicyVerdict, RuleOutcome};
use crate::error::Error;
use crate::local::Skip;
use crate::pack::{DetectionKind, DetectionSpec};

/// Unreproduced deaths after which the rest of a batch runs in precise mode.
const IMPRECISE_DEATHS: u32 = 2;

/// A result of one detection on one item: a verdict or a rule outcome.
pub(crate) trait Outcome: Sized {
    /// Policies or rules.
    const KIND: DetectionKind;
    /// The results in a worker's reply.
    fn from_reply(reply: Reply, payload: &[u8]) -> Option<Vec<Self>>;
    /// The item's index.
    fn item(&self) -> usize;
    /// Moves the result to another item index.
    fn set_item(&mut self, item: usize);
    /// The detection's index.
    fn detection(&self) -> usize;
    /// An error result of `detection` on `item`.
    fn error(item: usize, detection: usize, message: &str) -> Self;
    /// Whether `spec` runs on `item` (for the fallback when no detection is to blame).
    fn applies(spec: &DetectionSpec, item: &Value) -> bool;
}

impl Outcome for PolicyVerdict {
    const KIND: DetectionKind = DetectionKind::Policy;

    fn from_reply(reply: Reply, payload: &[u8]) -> Option<Vec<Self>> {
        match reply {
            Reply::Verdicts(errors) => wire::unpack_verdicts(errors, payload),
            _ => None,
        }
    }

    fn item(&self) -> usize {
        self.resource
    }

    fn set_item(&mut self, item: usize) {
        self.resource = item;
    }

    fn detection(&self) -> usize {
        self.policy
    }

    fn error(item: usize, detection: usize, message: &str) -> Self {
        PolicyVerdict {
            resource: item,
            policy: detection,
            status: ComplianceStatus::Error(message.to_owned()),
            suppressed: false,
        }
    }

    fn applies(spec: &DetectionSpec, item: &Value) -> bool {
        let kind = item.get("ResourceType").and_then(Value::as_str).unwrap_or_default();
        spec.resource_types.is_empty() || spec.resource_types.iter().any(|t| t == kind)
    }
}

impl Outcome for RuleOutcome {
    const KIND: DetectionKind = DetectionKind::Rule;

    fn from_reply(reply: Reply, _payload: &[u8]) -> Option<Vec<Self>> {
        match reply {
            Reply::Outcomes(outcomes) => Some(outcomes),
            _ => None,
        }
    }

    fn item(&self) -> usize {
        self.event
    }

    fn set_item(&mut self, item: usize) {
        self.event = item;
    }

    fn detection(&self) -> usize {
        self.rule
    }

    fn error(item: usize, detection: usize, message: &str) -> Self {
        RuleOutcome {
            event: item,
            rule: detection,
            error: Some(format!("rule: {message}")),
            title: None,
            dedup: None,
            severity: None,
            alert_context: None,
            description: None,
            reference: None,
            runbook: None,
            destinations: None,
            errors: Vec::new(),
        }
    }

    fn applies(spec: &DetectionSpec, item: &Value) -> bool {
        let log_type = item.get("p_log_type").and_then(Value::as_str).unwrap_or_default();
        spec.log_types.iter().any(|t| t == log_type)
    }
}

/// How one request to a worker ended.
enum Attempt<O> {
    Done(Vec<O>),
    Failed(String),
    Died(Death),
}

/// A detection that killed a worker in this batch.
struct Culprit {
    /// The first item it is skipped on.
    from: usize,
    /// Why.
    reason: String,
    /// Workers it killed.
    deaths: u32,
}

impl Pool {
    /// Evaluates `json_array` (policies or rules, by `O`), surviving worker deaths.
    pub(crate) fn evaluate<O: Outcome>(
        &self,
        json_array: &str,
        specs: &[Arc<DetectionSpec>],
    ) -> Result<Vec<O>, Error> {
        match self.attempt::<O>(json_array.as_bytes(), Vec::new(), false)? {
            Attempt::Done(results) => Ok(results),
            Attempt::Failed(message) => Err(Error::Python(message)),
            Attempt::Died(death) => self.recover(json_array, specs, death),
        }
    }

    /// One request on one worker (given back unless it died).
    fn attempt<O: Outcome>(
        &self,
        payload: &[u8],
        skipped: Vec<Skip>,
        precise: bool,
    ) -> Result<Attempt<O>, Error> {
        let mut worker = self.take()?;
        let request = Request::Evaluate {
            kind: O::KIND,
            skipped,
            precise,
            posture: stores::posture_attached(),
        };
        let mut journal = Journal::default();
        let stall = self.stall(payload.len());
        match worker.exchange(&request, payload, stall, self.time_limit, &mut journal) {
            Ok((reply, payload)) => {
                self.give_back(worker);
                match reply {
                    Reply::Failed(message) => Ok(Attempt::Failed(message)),
                    other => match O::from_reply(other, &payload) {
                        Some(results) => {
                            journal.commit();
                            Ok(Attempt::Done(results))
                        }
                        None => Err(Error::Worker("unexpected reply to a batch".into())),
                    },
                }
            }
            Err(death) => Ok(Attempt::Died(death)),
        }
    }

    /// The batch again, item by item as needed, after `death` (see the module doc).
    fn recover<O: Outcome>(
        &self,
        json_array: &str,
        specs: &[Arc<DetectionSpec>],
        first: Death,
    ) -> Result<Vec<O>, Error> {
        let items: Vec<&RawValue> = serde_json::from_str(json_array)
            .map_err(|e| Error::Python(format!("batch is not a JSON array: {e}")))?;
        let n = items.len();
        let mut remaining: Vec<usize> = (0..n).collect();
        let mut results: Vec<O> = Vec::new();
        let mut culprits: BTreeMap<usize, Culprit> = BTreeMap::new();
        let mut forced: HashMap<(usize, usize), String> = HashMap::new();
        let mut unreproduced = 0u32;
        let mut probe: Option<usize> = None;
        let mut chunk = n.max(1);
        let (mut sent, mut precise, mut death) = (remaining.clone(), false, first);
        let give_up = |item: usize, reason: &str, results: &mut Vec<O>| {
            let value: Value = serde_json::from_str(items[item].get()).unwrap_or(Value::Null);
            for (index, spec) in specs.iter().enumerate() {
                if O::applies(spec, &value) {
                    results.push(O::error(item, index, reason));
                }
            }
        };
        let limit = 4 * (n + specs.len()) + 16;
        for _ in 0..limit {
            // What the last death teaches.
            let position = death.word(progress::ITEM).filter(|&p| p < sent.len());
            let detection = death.word(progress::DETECTION).filter(|&d| d < specs.len());
            match (position, precise) {
                (Some(p), true) => {
                    let item = sent[p];
                    match detection {
                        Some(d) => {
                            forced.insert((item, d), death.reason.clone());
                            let culprit = culprits.entry(d).or_insert(Culprit {
                                from: item,
                                reason: death.reason.clone(),
                                deaths: 0,
                            });
                            culprit.deaths += 1;
                            culprit.from =
                                if culprit.deaths > 1 { 0 } else { culprit.from.min(item) };
                        }
                        None => {
                            give_up(item, &death.reason, &mut results);
                            remaining.retain(|&i| i != item);
                            probe = None;
                        }
                    }
                }
                (Some(p), false) => {
                    unreproduced += 1;
                    probe = Some(sent[p]);
                }
                (None, _) if sent.len() > 1 => {
                    chunk = (sent.len() / 2).max(1);
                    probe = None;
                }
                (None, _) => {
                    if let Some(&item) = sent.first() {
                        give_up(item, &death.reason, &mut results);
                        remaining.retain(|&i| i != item);
                    }
                    probe = None;
                }
            }
            // The next request, until every item is answered.
            loop {
                if remaining.is_empty() {
                    results.sort_by_key(O::item);
                    return Ok(results);
                }
                (sent, precise) = match probe {
                    Some(item) => (vec![item], true),
                    None => (
                        remaining.iter().take(chunk).copied().collect(),
                        unreproduced >= IMPRECISE_DEATHS,
                    ),
                };
                let mut text = String::with_capacity(2 + sent.len() * 64);
                text.push('[');
                for (k, &i) in sent.iter().enumerate() {
                    if k > 0 {
                        text.push(',');
                    }
                    text.push_str(items[i].get());
                }
                text.push(']');
                let skipped = culprits
                    .iter()
                    .map(|(&detection, c)| Skip {
                        kind: O::KIND,
                        detection,
                        message: format!(
                            "not run: it stopped its worker process on an item of this batch \
                             ({})",
                            c.reason
                        ),
                        from_item: sent.partition_point(|&i| i < c.from),
                    })
                    .collect();
                match self.attempt::<O>(text.as_bytes(), skipped, precise)? {
                    Attempt::Done(answered) => {
                        for mut result in answered {
                            let item = sent.get(result.item()).copied().unwrap_or(usize::MAX);
                            result.set_item(item);
                            if let Some(reason) = forced.get(&(item, result.detection())) {
                                result = O::error(item, result.detection(), reason);
                            }
                            results.push(result);
                        }
                        let done: HashSet<usize> = sent.iter().copied().collect();
                        remaining.retain(|i| !done.contains(i));
                        probe = None;
                    }
                    Attempt::Failed(message) => return Err(Error::Python(message)),
                    Attempt::Died(next) => {
                        death = next;
                        break;
                    }
                }
            }
        }
        Err(Error::Worker(format!("worker processes kept dying on a batch of {n} items")))
    }
}
