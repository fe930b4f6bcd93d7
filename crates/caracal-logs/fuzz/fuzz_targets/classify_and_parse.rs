//! Any bytes through decode + reading modes + classifier + every parser + normalize:
//! no panic, every record is accounted for (events + errors == records), and every event's
//! fields serialize straight (delimited records write JSON from their text) exactly as the
//! JSON object they stand for.
#![no_main]

use caracal_logs::{Event, ObjectInfo, PARSERS, Processor, SourceInfo};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut processor = Processor::new(PARSERS.to_vec(), SourceInfo::new("fuzz", "fuzz")).with_max_line(1 << 16);
    let object = ObjectInfo { name: "fuzz".into(), reference_time: chrono::Utc::now() };
    let mut events: Vec<Event> = Vec::new();
    let report = processor.process(&object, data, &mut events).expect("a vector never fails");
    assert_eq!(report.events + report.errors, report.records);
    for event in &events {
        let direct = serde_json::to_string(&event.fields).expect("fields serialize");
        let object = serde_json::Value::Object(event.fields.to_map()).to_string();
        assert_eq!(direct, object);
        let _ = event.to_json();
    }
});
