//! Where normalized events go: the data lake, the rules engine (a channel), a test vector.

use std::path::{Path, PathBuf};

use caracal_core::event::RuleMatch;

use crate::error::Error;
use crate::event::Event;

/// Receives normalized events in the order they were parsed.
pub trait EventSink {
    /// Takes one event.
    fn accept(&mut self, event: Event) -> Result<(), Error>;
    /// Takes an event a rule matched, for the lake's match tables (`rule_matches`,
    /// `rule_errors`, `signals`). Sinks that keep no lake ignore it.
    fn accept_match(&mut self, event: &Event, rule_match: &RuleMatch) -> Result<(), Error> {
        let _ = (event, rule_match);
        Ok(())
    }
    /// Makes everything accepted so far durable (writes buffered files).
    fn flush(&mut self) -> Result<(), Error> {
        Ok(())
    }
    /// After `flush` failed: writes what is still buffered into the local `folder`
    /// instead (same layout), so that nothing accepted is lost. Returns the files written;
    /// a partition that cannot be written there either stays buffered, every other one is
    /// still tried, and the first failure is returned.
    fn rescue(&mut self, folder: &Path) -> Result<Vec<PathBuf>, Error> {
        let _ = folder;
        Ok(Vec::new())
    }
}

impl EventSink for Vec<Event> {
    fn accept(&mut self, event: Event) -> Result<(), Error> {
        self.push(event);
        Ok(())
    }
}

impl<S: EventSink + ?Sized> EventSink for &mut S {
    fn accept(&mut self, event: Event) -> Result<(), Error> {
        (**self).accept(event)
    }
    fn accept_match(&mut self, event: &Event, rule_match: &RuleMatch) -> Result<(), Error> {
        (**self).accept_match(event, rule_match)
    }
    fn flush(&mut self) -> Result<(), Error> {
        (**self).flush()
    }
    fn rescue(&mut self, folder: &Path) -> Result<Vec<PathBuf>, Error> {
        (**self).rescue(folder)
    }
}

/// Drops events (counting them is the processor's job).
#[derive(Debug, Default)]
pub struct Discard;

impl EventSink for Discard {
    fn accept(&mut self, _event: Event) -> Result<(), Error> {
        Ok(())
    }
}

/// Hands events to the rules engine over a bounded channel; blocks when it is full, so a
/// slow engine slows reading instead of growing memory. Use from a blocking thread.
#[derive(Debug)]
pub struct ChannelSink(pub tokio::sync::mpsc::Sender<Event>);

impl EventSink for ChannelSink {
    fn accept(&mut self, event: Event) -> Result<(), Error> {
        self.0.blocking_send(event).map_err(|_| Error::Source {
            context: "sending an event to the rules engine".into(),
            reason: "the receiver was dropped".into(),
        })
    }
}

/// Sends every event to two sinks (the lake and the rules engine).
#[derive(Debug)]
pub struct Tee<A, B>(pub A, pub B);

impl<A: EventSink, B: EventSink> EventSink for Tee<A, B> {
    fn accept(&mut self, event: Event) -> Result<(), Error> {
        self.0.accept(event.clone())?;
        self.1.accept(event)
    }
    fn accept_match(&mut self, event: &Event, rule_match: &RuleMatch) -> Result<(), Error> {
        self.0.accept_match(event, rule_match)?;
        self.1.accept_match(event, rule_match)
    }
    fn flush(&mut self) -> Result<(), Error> {
        let first = self.0.flush();
        self.1.flush()?;
        first
    }
    fn rescue(&mut self, folder: &Path) -> Result<Vec<PathBuf>, Error> {
        let mut files = self.0.rescue(folder)?;
        files.extend(self.1.rescue(folder)?);
        Ok(files)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ObjectInfo, PARSERS, Processor, SourceInfo};

    #[test]
    fn channel_sink_hands_every_event_to_the_rules_engine_in_order() {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Event>(2);
        let reader = std::thread::spawn(move || {
            let mut ids = Vec::new();
            while let Some(event) = rx.blocking_recv() {
                ids.push(event.row_id);
            }
            ids
        });
        let input = "May 27 11:19:35 hostname systemd[1]: Stopped.\nMay 27 11:19:36 hostname systemd[1]: Started.\nMay 27 11:19:37 host2 sshd[2]: Hi.\n";
        let mut p = Processor::new(PARSERS.to_vec(), SourceInfo::new("s", "s"));
        let object = ObjectInfo { name: "syslog".into(), reference_time: chrono::Utc::now() };
        let mut lake = Vec::new();
        let report = p
            .process(&object, input.as_bytes(), &mut Tee(&mut lake, ChannelSink(tx)))
            .expect("receiver alive");
        let ids = reader.join().expect("reader thread");
        assert_eq!(report.events, 3);
        assert_eq!(ids, lake.iter().map(|e| e.row_id).collect::<Vec<_>>());
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
    }
}
