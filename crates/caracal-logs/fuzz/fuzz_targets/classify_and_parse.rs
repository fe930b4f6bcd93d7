//! Any bytes through decode + reading modes + classifier + every parser + normalize:
//! no panic, and every record is accounted for (events + errors == records).
#![no_main]

use caracal_logs::{Discard, ObjectInfo, PARSERS, Processor, SourceInfo};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut processor = Processor::new(PARSERS.to_vec(), SourceInfo::new("fuzz", "fuzz")).with_max_line(1 << 16);
    let object = ObjectInfo { name: "fuzz".into(), reference_time: chrono::Utc::now() };
    let report = processor.process(&object, data, &mut Discard).expect("discard never fails");
    assert_eq!(report.events + report.errors, report.records);
});
