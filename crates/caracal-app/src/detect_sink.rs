//! [`DetectSink`]: the rules engine as an `EventSink`, so every ingest path (local
//! files, S3 prefixes, the queue poller, the Lambda handler) runs the same rules the
//! same way: events are batched, each converted to Python once per batch.
//!
//! Rules run on a thread of the sink's own while the caller goes on parsing the next
//! batch (#12): parsing and rules overlap on two cores. At most [`IN_FLIGHT`] full
//! batches wait or run there, so memory stays bounded, and batches run in order, so
//! alert windows count them as they came.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use caracal_core::event::RuleMatch;
use caracal_logs::{Event, EventSink};

use caracal_detect::{Detector, EventMeta};

/// Full batches handed to the rules thread and not yet answered, at most.
const IN_FLIGHT: usize = 2;

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
}

/// One batch for the rules thread.
struct Batch {
    text: Vec<u8>,
    metas: Vec<EventMeta>,
    events: Vec<Event>,
}

/// What the rules thread answers for a batch: its matches (or error) and its events.
type Answer = (caracal_detect::Result<Vec<RuleMatch>>, Vec<Event>);

#[derive(Debug)]
struct Worker {
    batches: Option<SyncSender<Batch>>,
    answers: Receiver<Answer>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Closing the channel ends the thread once the batch it runs is done.
        self.batches = None;
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
    /// [`IN_FLIGHT`] batches are out.
    fn send(&mut self) -> Result<(), caracal_logs::Error> {
        if self.metas.is_empty() {
            return Ok(());
        }
        let mut first_error = Ok(());
        while self.in_flight >= IN_FLIGHT {
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
            None => self.worker.insert(start(self.detector.clone())?),
        };
        let sent = worker.batches.as_ref().map(|tx| tx.send(batch));
        match sent {
            Some(Ok(())) => self.in_flight += 1,
            _ => return Err(thread_gone()),
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
        let matches = result.map_err(|e| caracal_logs::Error::Source {
            context: "running rules".into(),
            reason: caracal_core::error::chain(&e),
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

/// Starts the rules thread: it runs each batch it receives and answers in order.
fn start(detector: Arc<Detector>) -> Result<Worker, caracal_logs::Error> {
    let (batches, inbox) = sync_channel::<Batch>(IN_FLIGHT);
    let (outbox, answers) = sync_channel::<Answer>(IN_FLIGHT);
    let thread = std::thread::Builder::new()
        .name("caracal-rules".into())
        .spawn(move || {
            for batch in inbox {
                let result = match std::str::from_utf8(&batch.text) {
                    Ok(text) => detector.run_batch(text, &batch.metas),
                    // serde_json writes UTF-8 only; kept as a guard rather than an unwrap.
                    Err(_) => {
                        detector.run_batch(&String::from_utf8_lossy(&batch.text), &batch.metas)
                    }
                };
                if outbox.send((result, batch.events)).is_err() {
                    break;
                }
            }
        })
        .map_err(|e| caracal_logs::Error::Source {
            context: "starting the rules thread".into(),
            reason: e.to_string(),
        })?;
    Ok(Worker { batches: Some(batches), answers, thread: Some(thread) })
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
