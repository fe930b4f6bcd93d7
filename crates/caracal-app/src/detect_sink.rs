//! [`DetectSink`]: the rules engine as an `EventSink`, so every ingest path (local
//! files, S3 prefixes, the queue poller, the Lambda handler) runs the same rules the
//! same way: events are batched, each converted to Python once per batch.

use std::sync::Arc;

use caracal_logs::{Event, EventSink};

use caracal_detect::{Detector, EventMeta};

/// Buffers events into JSON batches of `batch_size` and runs the detector on each.
#[derive(Debug)]
pub struct DetectSink {
    detector: Arc<Detector>,
    batch_size: usize,
    buffer: Vec<u8>,
    events: Vec<EventMeta>,
}

impl DetectSink {
    /// A sink feeding `detector` in batches of `batch_size` events.
    pub fn new(detector: Arc<Detector>, batch_size: usize) -> Self {
        Self { detector, batch_size: batch_size.max(1), buffer: b"[".to_vec(), events: Vec::new() }
    }

    fn run(&mut self) -> Result<(), caracal_logs::Error> {
        if self.events.is_empty() {
            return Ok(());
        }
        self.buffer.push(b']');
        let result = match std::str::from_utf8(&self.buffer) {
            Ok(text) => self.detector.run_batch(text, &self.events),
            // serde_json writes UTF-8 only; kept as a guard rather than an unwrap.
            Err(_) => self.detector.run_batch(&String::from_utf8_lossy(&self.buffer), &self.events),
        };
        self.buffer.clear();
        self.buffer.push(b'[');
        self.events.clear();
        result.map_err(|e| caracal_logs::Error::Source {
            context: "running rules".into(),
            reason: caracal_core::error::chain(&e),
        })
    }
}

impl EventSink for DetectSink {
    fn accept(&mut self, event: Event) -> Result<(), caracal_logs::Error> {
        if !self.events.is_empty() {
            self.buffer.push(b',');
        }
        event.write_json(&mut self.buffer).map_err(|e| caracal_logs::Error::Source {
            context: "serializing an event".into(),
            reason: e.to_string(),
        })?;
        self.events
            .push(EventMeta { time: event.event_time, log_type: event.origin.log_type.clone() });
        if self.events.len() >= self.batch_size {
            self.run()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), caracal_logs::Error> {
        self.run()
    }
}
