//! Process-wide counters keyed by counter and label values.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// A counter: its name (without the `caracal_` prefix or `_total` suffix), help text and
/// label names, declared once as a `static` beside the events that add to it.
#[derive(Debug)]
pub struct Counter {
    /// Such as `scan_resources`.
    pub name: &'static str,
    /// One line for `/metrics`.
    pub help: &'static str,
    /// The label names, in the order [`Counters::add`] takes their values.
    pub labels: &'static [&'static str],
}

/// One counter's value under one set of label values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// The counter.
    pub counter: &'static Counter,
    /// `(label, value)` in the counter's label order.
    pub labels: Vec<(&'static str, String)>,
    /// The count so far.
    pub value: u64,
}

impl PartialEq for Counter {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Counter {}

type Key = (&'static str, Vec<String>);

/// The counters of a process.
#[derive(Debug, Default)]
pub struct Counters {
    values: Mutex<BTreeMap<Key, (&'static Counter, u64)>>,
}

static GLOBAL: Counters = Counters::new();

impl Counters {
    /// Empty counters (tests; the process uses [`Counters::global`]).
    pub const fn new() -> Self {
        Counters { values: Mutex::new(BTreeMap::new()) }
    }

    /// This process's counters, the ones [`crate::emit`] adds to.
    pub fn global() -> &'static Counters {
        &GLOBAL
    }

    /// Adds `n` to `counter` under `values` (one per label name; missing ones are empty,
    /// extra ones ignored).
    pub fn add(&self, counter: &'static Counter, values: &[&str], n: u64) {
        let key = (counter.name, label_values(counter, values));
        let mut map = self.values.lock().unwrap_or_else(|p| p.into_inner());
        let entry = map.entry(key).or_insert((counter, 0));
        entry.1 = entry.1.saturating_add(n);
    }

    /// The value of `counter` under `values`; zero when never added to.
    pub fn get(&self, counter: &Counter, values: &[&str]) -> u64 {
        let key = (counter.name, label_values(counter, values));
        let map = self.values.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&key).map_or(0, |(_, v)| *v)
    }

    /// Every value, grouped by counter name, then by label values.
    pub fn samples(&self) -> Vec<Sample> {
        let map = self.values.lock().unwrap_or_else(|p| p.into_inner());
        map.iter()
            .map(|((_, values), (counter, value))| Sample {
                counter,
                labels: counter.labels.iter().copied().zip(values.iter().cloned()).collect(),
                value: *value,
            })
            .collect()
    }
}

fn label_values(counter: &Counter, values: &[&str]) -> Vec<String> {
    (0..counter.labels.len())
        .map(|i| values.get(i).copied().unwrap_or_default().to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    static SEEN: Counter =
        Counter { name: "test_seen", help: "Seen.", labels: &["resource_type", "change"] };
    static OTHER: Counter = Counter { name: "test_other", help: "Other.", labels: &[] };

    #[test]
    fn adds_by_label_values_and_lists_grouped_by_counter() {
        let c = Counters::new();
        c.add(&SEEN, &["AWS.S3.Bucket", "new"], 2);
        c.add(&SEEN, &["AWS.S3.Bucket", "new"], 3);
        c.add(&SEEN, &["AWS.EC2.Volume", "new"], 1);
        c.add(&OTHER, &["ignored"], 7);
        assert_eq!(c.get(&SEEN, &["AWS.S3.Bucket", "new"]), 5);
        assert_eq!(c.get(&SEEN, &["AWS.S3.Bucket", "changed"]), 0);
        assert_eq!(c.get(&OTHER, &[]), 7);
        let samples = c.samples();
        let names: Vec<_> = samples.iter().map(|s| s.counter.name).collect();
        assert_eq!(names, ["test_other", "test_seen", "test_seen"]);
        assert_eq!(
            samples[1].labels,
            [("resource_type", "AWS.EC2.Volume".to_owned()), ("change", "new".to_owned())]
        );
    }
}
