//! [`DetectSink`]: the rules engine as an `EventSink`, so every ingest path (local
//! files, S3 prefixes, the queue poller, the Lambda handler) runs the same rules the
//! same way: events are batched, each converted to Python once per batch.

use std::sync::Arc;

use caracal_core::event::RuleMatch;
use caracal_logs::{Event, EventSink};

use caracal_detect::{Detector, EventMeta};

/// Buffers events into JSON batches of `batch_size` and runs the detector on each.
///
/// With [`DetectSink::keeping_matches`], the matched events of each batch are kept
/// beside their [`RuleMatch`] until [`DetectSink::take_matches`] (the lake's match
/// tables); otherwise only the alerts record them.
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
        }
    }

    /// Keeps each matched event with its match for [`DetectSink::take_matches`].
    pub fn keeping_matches(mut self) -> Self {
        self.keep_matches = true;
        self
    }

    /// The matched events of the batches run since the last call.
    pub fn take_matches(&mut self) -> Vec<(Event, RuleMatch)> {
        std::mem::take(&mut self.matches)
    }

    fn run(&mut self) -> Result<(), caracal_logs::Error> {
        if self.metas.is_empty() {
            return Ok(());
        }
        self.buffer.push(b']');
        let result = match std::str::from_utf8(&self.buffer) {
            Ok(text) => self.detector.run_batch(text, &self.metas),
            // serde_json writes UTF-8 only; kept as a guard rather than an unwrap.
            Err(_) => self.detector.run_batch(&String::from_utf8_lossy(&self.buffer), &self.metas),
        };
        self.buffer.clear();
        self.buffer.push(b'[');
        self.metas.clear();
        let events = std::mem::take(&mut self.events);
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
            self.run()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), caracal_logs::Error> {
        self.run()
    }
}
