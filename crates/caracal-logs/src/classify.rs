//! The classifier: for each record, try the candidate parsers, the last one that matched
//! first, and say which one took it.

use crate::error::RejectCode;
use crate::parsers::{Input, ObjectState, Parse, Parsed, Parser};

/// What the classifier decided for one record.
#[derive(Debug)]
pub enum Classified {
    /// Parsed by `candidates[index]`.
    Event {
        /// The index of the parser in the classifier's candidate list.
        index: usize,
        /// The parsed record.
        parsed: Parsed,
    },
    /// Recognised but not an event (header line, digest file).
    Skip,
    /// No candidate made an event of it.
    Rejected {
        /// The log type that claimed it and found it malformed, if any.
        log_type: Option<String>,
        /// Why, as a closed set.
        code: RejectCode,
        /// Why, for people.
        reason: String,
    },
}

/// Tries candidate parsers on records, remembering the last one that matched.
pub struct Classifier<'p> {
    candidates: Vec<&'p dyn Parser>,
    last: Option<usize>,
}

impl std::fmt::Debug for Classifier<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let types: Vec<&str> = self.candidates.iter().map(|p| p.log_type()).collect();
        f.debug_struct("Classifier").field("candidates", &types).field("last", &self.last).finish()
    }
}

impl<'p> Classifier<'p> {
    /// A classifier over these candidates, tried in this order until one matches.
    pub fn new(candidates: Vec<&'p dyn Parser>) -> Self {
        Classifier { candidates, last: None }
    }

    /// The candidate parsers.
    pub fn candidates(&self) -> &[&'p dyn Parser] {
        &self.candidates
    }

    /// Classifies and parses one record.
    pub fn classify(&mut self, input: &mut Input<'_>, state: &mut ObjectState) -> Classified {
        let order = self
            .last
            .into_iter()
            .chain((0..self.candidates.len()).filter(|i| Some(*i) != self.last));
        let mut malformed: Option<(String, String)> = None;
        for index in order {
            let parser = self.candidates[index];
            match parser.parse(input, state) {
                Parse::NotMine => continue,
                Parse::Skip => {
                    self.last = Some(index);
                    return Classified::Skip;
                }
                Parse::Event(parsed) => {
                    self.last = Some(index);
                    return Classified::Event { index, parsed };
                }
                Parse::Malformed(reason) => {
                    malformed.get_or_insert((parser.log_type().to_owned(), reason));
                }
            }
        }
        match malformed {
            Some((log_type, reason)) => Classified::Rejected {
                log_type: Some(log_type),
                code: RejectCode::Malformed,
                reason,
            },
            None => Classified::Rejected {
                log_type: None,
                code: RejectCode::Unclassified,
                reason: "no candidate log type matched".into(),
            },
        }
    }
}
