//! The classifier: for each record, try the candidate parsers (the most specific first,
//! the last one that matched in this object first among equals) and say which one took it.

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

/// The first malformed verdict met: the log type that claimed the record, and why.
type Malformed = (String, String);

/// Tries candidate parsers on records. Text lines and JSON records alike go to the most
/// specific parsers first ([`Parser::specificity`]), and among equally specific ones to the
/// last that took a record of that kind in this object first: a record two parsers could
/// claim goes to the one that asks more of it (#11.12).
///
/// An object does not flip to a more generic type mid-stream: once a type has taken a
/// record of the object, a record that type claims but finds malformed is rejected as that
/// type's, never handed to a less specific candidate (a broken CloudTrail record is not an
/// EventBridge envelope; a truncated HAProxy line is not plain syslog). Call
/// [`Classifier::start_object`] between objects.
pub struct Classifier<'p> {
    candidates: Vec<&'p dyn Parser>,
    /// Candidate indexes, most specific first (stable: equals keep their order).
    by_specificity: Vec<usize>,
    last_text: Option<usize>,
    last_json: Option<usize>,
}

impl std::fmt::Debug for Classifier<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let types: Vec<&str> = self.candidates.iter().map(|p| p.log_type()).collect();
        f.debug_struct("Classifier")
            .field("candidates", &types)
            .field("last_text", &self.last_text)
            .field("last_json", &self.last_json)
            .finish()
    }
}

impl<'p> Classifier<'p> {
    /// A classifier over these candidates, tried in this order until one matches.
    pub fn new(candidates: Vec<&'p dyn Parser>) -> Self {
        let mut by_specificity: Vec<usize> = (0..candidates.len()).collect();
        by_specificity.sort_by_key(|&i| std::cmp::Reverse(candidates[i].specificity()));
        Classifier { candidates, by_specificity, last_text: None, last_json: None }
    }

    /// The candidate parsers.
    pub fn candidates(&self) -> &[&'p dyn Parser] {
        &self.candidates
    }

    /// Forgets which types took records: the next object starts afresh.
    pub fn start_object(&mut self) {
        self.last_text = None;
        self.last_json = None;
    }

    /// Classifies and parses one record.
    pub fn classify(&mut self, input: &mut Input<'_>, state: &mut ObjectState) -> Classified {
        let json = matches!(input, Input::Json(_));
        let last = if json { self.last_json } else { self.last_text };
        let floor = last.map_or(u32::MAX, |i| self.candidates[i].specificity());
        // More specific than the last match, then the last match, then the rest.
        let above = self.by_specificity.iter().copied();
        let above = above.take_while(|&i| self.candidates[i].specificity() > floor);
        let rest = self
            .by_specificity
            .iter()
            .copied()
            .filter(|&i| Some(i) != last && self.candidates[i].specificity() <= floor);
        let (found, malformed) =
            self.first_match(above.chain(last).chain(rest), last, input, state);
        if let Some((index, _)) = &found {
            if json {
                self.last_json = Some(*index);
            } else {
                self.last_text = Some(*index);
            }
        }
        match (found, malformed) {
            (Some((_, classified)), _) => classified,
            (None, Some((log_type, reason))) => Classified::Rejected {
                log_type: Some(log_type),
                code: RejectCode::Malformed,
                reason,
            },
            (None, None) => Classified::Rejected {
                log_type: None,
                code: RejectCode::Unclassified,
                reason: "no candidate log type matched".into(),
            },
        }
    }

    /// The first candidate in `order` that takes the record (as an event or a skip), and
    /// the first malformed verdict met before it. When `established` (the type that took
    /// the object's last record) finds the record malformed, less specific candidates are
    /// not tried.
    fn first_match(
        &self,
        order: impl Iterator<Item = usize>,
        established: Option<usize>,
        input: &mut Input<'_>,
        state: &mut ObjectState,
    ) -> (Option<(usize, Classified)>, Option<Malformed>) {
        let mut malformed: Option<Malformed> = None;
        let mut stop_below = None;
        for index in order {
            let parser = self.candidates[index];
            if stop_below.is_some_and(|floor| parser.specificity() < floor) {
                break;
            }
            match parser.parse(input, state) {
                Parse::NotMine => continue,
                Parse::Skip => return (Some((index, Classified::Skip)), malformed),
                Parse::Event(parsed) => {
                    return (Some((index, Classified::Event { index, parsed })), malformed);
                }
                Parse::Malformed(reason) => {
                    if Some(index) == established {
                        stop_below = Some(parser.specificity());
                        // The established type's verdict names the record.
                        malformed = Some((parser.log_type().to_owned(), reason));
                        continue;
                    }
                    malformed.get_or_insert((parser.log_type().to_owned(), reason));
                }
            }
        }
        (None, malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parsers::IndicatorField;
    use crate::parsers::util::{has_all, object, take_object};

    /// Claims JSON objects holding all of `needs`.
    struct Needs(&'static str, &'static [&'static str]);

    impl Parser for Needs {
        fn log_type(&self) -> &str {
            self.0
        }
        fn indicator_fields(&self) -> &[IndicatorField] {
            &[]
        }
        fn columns(&self) -> &[crate::lake::Column] {
            &[]
        }
        fn specificity(&self) -> u32 {
            self.1.len() as u32
        }
        fn parse(&self, input: &mut Input<'_>, _: &mut ObjectState) -> Parse {
            match object(input) {
                Some(map) if has_all(map, self.1) => {
                    Parse::Event(Parsed { fields: take_object(input).into(), ..Parsed::default() })
                }
                _ => Parse::NotMine,
            }
        }
    }

    fn taken_by(c: &mut Classifier<'_>, json: serde_json::Value) -> Option<&'static str> {
        let mut state = ObjectState::new(chrono::Utc::now());
        match c.classify(&mut Input::Json(json), &mut state) {
            Classified::Event { index, .. } => Some(["Generic", "Specific"][index]),
            _ => None,
        }
    }

    // #11.12: a record two parsers could claim goes to the one that asks more of it, even
    // right after the generic one took a record.
    #[test]
    fn json_records_go_to_the_most_specific_parser_that_claims_them() {
        let generic = Needs("Generic", &["event_type", "timestamp"]);
        let specific = Needs("Specific", &["event_type", "timestamp", "flow_id"]);
        let mut c = Classifier::new(vec![&generic, &specific]);
        let both = serde_json::json!({"event_type": "dns", "timestamp": "t", "flow_id": 1});
        let only_generic = serde_json::json!({"event_type": "dns", "timestamp": "t"});
        assert_eq!(taken_by(&mut c, only_generic.clone()), Some("Generic"));
        assert_eq!(taken_by(&mut c, both.clone()), Some("Specific"));
        assert_eq!(taken_by(&mut c, only_generic), Some("Generic"));
        assert_eq!(taken_by(&mut c, both), Some("Specific"));
    }

    /// Claims text lines starting with its prefix; lines with `!` are malformed.
    struct Prefix(&'static str, &'static str, u32);

    impl Parser for Prefix {
        fn log_type(&self) -> &str {
            self.0
        }
        fn indicator_fields(&self) -> &[IndicatorField] {
            &[]
        }
        fn columns(&self) -> &[crate::lake::Column] {
            &[]
        }
        fn specificity(&self) -> u32 {
            self.2
        }
        fn parse(&self, input: &mut Input<'_>, _: &mut ObjectState) -> Parse {
            match input {
                Input::Text(line)
                    if !self.1.is_empty() && line.starts_with(self.1) && line.contains('!') =>
                {
                    Parse::Malformed("bang".into())
                }
                Input::Text(line) if line.starts_with(self.1) => Parse::Event(Parsed::default()),
                _ => Parse::NotMine,
            }
        }
    }

    fn text_taken_by(c: &mut Classifier<'_>, line: &str) -> Result<String, Option<String>> {
        let mut state = ObjectState::new(chrono::Utc::now());
        match c.classify(&mut Input::Text(line), &mut state) {
            Classified::Event { index, .. } => Ok(c.candidates()[index].log_type().to_owned()),
            Classified::Rejected { log_type, .. } => Err(log_type),
            Classified::Skip => Err(None),
        }
    }

    // Text lines go to the most specific parser too, and a line the object's type finds
    // malformed is not handed to a more generic one; a new object starts afresh.
    #[test]
    fn text_goes_to_the_most_specific_and_never_flips_to_a_more_generic_type() {
        let generic = Prefix("Syslog", "", 0);
        let specific = Prefix("HAProxy", "haproxy", 2);
        let mut c = Classifier::new(vec![&generic, &specific]);
        assert_eq!(text_taken_by(&mut c, "sshd: hello").as_deref(), Ok("Syslog"));
        assert_eq!(text_taken_by(&mut c, "haproxy: GET /").as_deref(), Ok("HAProxy"));
        assert_eq!(text_taken_by(&mut c, "haproxy: truncated!"), Err(Some("HAProxy".to_owned())));
        assert_eq!(text_taken_by(&mut c, "sshd: bye").as_deref(), Ok("Syslog"));
        c.start_object();
        // Without an established type a malformed verdict does not stop the search.
        assert_eq!(text_taken_by(&mut c, "haproxy: truncated!").as_deref(), Ok("Syslog"));
    }
}
