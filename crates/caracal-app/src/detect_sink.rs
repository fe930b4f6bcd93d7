//! [`DetectSink`]: the rules engine as an `EventSink`, so every ingest path (local
//! files, S3 prefixes, the queue poller, the Lambda handler) runs the same rules the
//! same way: events are batched, each converted to Python once per batch.
//!
//! Rules run on threads of the sink's own while the caller goes on parsing the next
//! batch (#12): parsing and rules overlap. When the engine runs rules in worker
//! processes, [`LANES`] evaluator threads each take the next waiting batch and hand it to
//! a worker process of its own, so rules use every core; in-process there is one
//! interpreter and one evaluator. Either way one decider thread counts the outcomes
//! into alert windows in the order the batches came, and at most [`LANES`] × 2 full
//! batches wait or run, so memory stays bounded.

use std::collections::BTreeMap;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use caracal_core::event::RuleMatch;
use caracal_logs::{Event, EventSink};

use caracal_detect::{Detector, EventMeta};
use caracal_python::RuleOutcome;

/// Batches evaluated at once when rules run in worker processes.
const LANES: usize = 2;

/// Buffers events into JSON batches of `batch_size` and runs the detector on each.
///
/// With [`DetectSink::keeping_matches`], the matched events of each batch are kept
/// beside their [`RuleMatch`] until [`DetectSink::take_matches`] (the lake's match
/// tables); otherwise only the alerts record them. A batch's error is returned by the
/// `accept` or `flush` that follows it; `flush` returns once every batch has run.
#[derive(Debug)]
pub struct DetectSink {
    detector: Arc<Detector>,
    batch_size: usize,
    buffer: Vec<u8>,
    metas: Vec<EventMeta>,
    /// The batch's events, when matches are kept.
    events: Vec<Event>,
    keep_matches: bool,
    matches: Vec<(Event, RuleMatch)>,
    /// The rules thread, started with the first batch.
    worker: Option<Worker>,
    /// Batches sent and not yet answered.
    in_flight: usize,
    /// Full batches handed to the rules thread and not yet answered, at most.
    max_in_flight: usize,
}

/// One batch for the rules thread.
struct Batch {
    text: Vec<u8>,
    metas: Vec<EventMeta>,
    events: Vec<Event>,
}

/// What the rules thread answers for a batch: its matches (or error) and its events.
type Answer = (Result<Vec<RuleMatch>, String>, Vec<Event>);

#[derive(Debug)]
struct Worker {
    batches: Option<SyncSender<Batch>>,
    answers: Receiver<Answer>,
    thread: Option<JoinHandle<()>>,
    evaluators: Vec<JoinHandle<()>>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Closing the channel ends the evaluators once their batches are done, and then
        // the decider; all are joined, so the detector is never torn down on a stray thread.
        self.batches = None;
        for evaluator in self.evaluators.drain(..) {
            let _ = evaluator.join();
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl DetectSink {
    /// A sink feeding `detector` in batches of `batch_size` events.
    pub fn new(detector: Arc<Detector>, batch_size: usize) -> Self {
        Self {
            detector,
            batch_size: batch_size.max(1),
            buffer: b"[".to_vec(),
            metas: Vec::new(),
            events: Vec::new(),
            keep_matches: false,
            matches: Vec::new(),
            worker: None,
            in_flight: 0,
            max_in_flight: 2,
        }
    }

    /// Keeps each matched event with its match for [`DetectSink::take_matches`].
    pub fn keeping_matches(mut self) -> Self {
        self.keep_matches = true;
        self
    }

    /// The matched events of the batches run since the last call (after a `flush`, of
    /// every batch accepted so far).
    pub fn take_matches(&mut self) -> Vec<(Event, RuleMatch)> {
        std::mem::take(&mut self.matches)
    }

    /// Hands the buffered batch to the rules thread; first waits for an answer when
    /// the most batches allowed are out.
    fn send(&mut self) -> Result<(), caracal_logs::Error> {
        if self.metas.is_empty() {
            return Ok(());
        }
        let mut first_error = Ok(());
        while self.in_flight >= self.max_in_flight {
            let answered = self.receive();
            if first_error.is_ok() {
                first_error = answered;
            }
        }
        self.buffer.push(b']');
        let batch = Batch {
            text: std::mem::replace(&mut self.buffer, b"[".to_vec()),
            metas: std::mem::take(&mut self.metas),
            events: std::mem::take(&mut self.events),
        };
        let worker = match &mut self.worker {
            Some(worker) => worker,
            None => {
                let lanes = if self.detector.is_isolated() { LANES } else { 1 };
                self.max_in_flight = 2 * lanes;
                self.worker.insert(start(self.detector.clone(), lanes)?)
            }
        };
        let sent = worker.batches.as_ref().map(|tx| tx.send(batch));
        match sent {
            Some(Ok(())) => self.in_flight += 1,
            // An earlier batch's own error says more than that the threads are gone.
            _ => return first_error.and(Err(thread_gone())),
        }
        first_error
    }

    /// Waits for the oldest batch's answer and keeps its matches.
    fn receive(&mut self) -> Result<(), caracal_logs::Error> {
        let Some(worker) = &self.worker else { return Err(thread_gone()) };
        let Ok((result, events)) = worker.answers.recv() else {
            self.in_flight = 0;
            return Err(thread_gone());
        };
        self.in_flight -= 1;
        let matches = result.map_err(|reason| caracal_logs::Error::Source {
            context: "running rules".into(),
            reason,
        })?;
        if self.keep_matches {
            self.matches.extend(
                matches
                    .into_iter()
                    .filter_map(|m| events.get(m.event).map(|event| (event.clone(), m))),
            );
        }
        Ok(())
    }
}

/// Starts the rules threads: `lanes` evaluators take batches as they come (each hands
/// its batch to a worker process of its own when the engine is isolated), and one
/// decider counts their outcomes into alert windows in the batches' order and answers.
/// The decider is the thread the sink joins: it ends after every evaluator has.
fn start(detector: Arc<Detector>, lanes: usize) -> Result<Worker, caracal_logs::Error> {
    let (batches, inbox) = sync_channel::<Batch>(2 * lanes);
    let (outbox, answers) = sync_channel::<Answer>(2 * lanes);
    let (done, evaluated) = std::sync::mpsc::channel::<(u64, Evaluated, Batch)>();
    // The sequence number is taken with the batch, under the lock: receive order.
    let inbox = Arc::new(Mutex::new((inbox, 0u64)));
    let mut evaluators = Vec::with_capacity(lanes);
    for lane in 0..lanes {
        let (inbox, done, detector) = (inbox.clone(), done.clone(), detector.clone());
        evaluators.push(spawn(format!("caracal-rules-{lane}"), move || {
            loop {
                let (seq, batch) = {
                    let mut guard = inbox.lock().unwrap_or_else(|p| p.into_inner());
                    let Ok(batch) = guard.0.recv() else { return };
                    guard.1 += 1;
                    (guard.1 - 1, batch)
                };
                let outcomes = evaluate(&detector, &batch);
                if done.send((seq, outcomes, batch)).is_err() {
                    return;
                }
            }
        })?);
    }
    drop(done);
    let thread = spawn("caracal-rules".into(), move || {
        let mut waiting = BTreeMap::new();
        let mut next = 0u64;
        for (seq, outcomes, batch) in evaluated {
            waiting.insert(seq, (outcomes, batch));
            while let Some((outcomes, batch)) = waiting.remove(&next) {
                next += 1;
                let result = outcomes.and_then(|o| {
                    detector.decide(&o, &batch.metas).map_err(|e| caracal_core::error::chain(&e))
                });
                if outbox.send((result, batch.events)).is_err() {
                    return;
                }
            }
        }
    })?;
    Ok(Worker { batches: Some(batches), answers, thread: Some(thread), evaluators })
}

/// A batch's outcomes, or why there are none.
type Evaluated = Result<Vec<RuleOutcome>, String>;

/// Every rule over one batch. A panic is this batch's error: the decider must hear of
/// every batch, or it would wait for it forever.
fn evaluate(detector: &Detector, batch: &Batch) -> Evaluated {
    let run = || match std::str::from_utf8(&batch.text) {
        Ok(text) => detector.evaluate(text),
        // serde_json writes UTF-8 only; kept as a guard rather than an unwrap.
        Err(_) => detector.evaluate(&String::from_utf8_lossy(&batch.text)),
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(outcomes) => outcomes.map_err(|e| caracal_core::error::chain(&e)),
        Err(_) => Err("the rules panicked on this batch".to_owned()),
    }
}

fn spawn(
    name: String,
    f: impl FnOnce() + Send + 'static,
) -> Result<JoinHandle<()>, caracal_logs::Error> {
    std::thread::Builder::new().name(name).spawn(f).map_err(|e| caracal_logs::Error::Source {
        context: "starting the rules threads".into(),
        reason: e.to_string(),
    })
}

fn thread_gone() -> caracal_logs::Error {
    caracal_logs::Error::Source {
        context: "running rules".into(),
        reason: "the rules thread stopped (a panic in the detector)".into(),
    }
}

impl EventSink for DetectSink {
    fn accept(&mut self, event: Event) -> Result<(), caracal_logs::Error> {
        if !self.metas.is_empty() {
            self.buffer.push(b',');
        }
        event.write_json(&mut self.buffer).map_err(|e| caracal_logs::Error::Source {
            context: "serializing an event".into(),
            reason: e.to_string(),
        })?;
        self.metas
            .push(EventMeta { time: event.event_time, log_type: event.origin.log_type.clone() });
        if self.keep_matches {
            self.events.push(event);
        }
        if self.metas.len() >= self.batch_size {
            self.send()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), caracal_logs::Error> {
        let mut first_error = self.send();
        while self.in_flight > 0 {
            let answered = self.receive();
            if first_error.is_ok() {
                first_error = answered;
            }
        }
        first_error
    }
}
