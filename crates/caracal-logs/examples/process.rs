//! Processes files into a lake folder (or nowhere) and prints the report; used to check
//! that peak memory stays flat as input grows:
//! `RUSTFLAGS="--cfg caracal_bench" cargo run --release -p caracal-logs --no-default-features --example process -- FILE [LAKE_DIR]`

use caracal_logs::{
    Discard, EventSink, LakeConfig, LakeWriter, LocalLake, PARSERS, Processor, SourceInfo,
    process_path,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: process FILE [LAKE_DIR]")?;
    let mut sink: Box<dyn EventSink> = match args.next() {
        Some(dir) => Box::new(LakeWriter::new(LocalLake::new(dir), LakeConfig::default())),
        None => Box::new(Discard),
    };
    let mut processor = Processor::new(PARSERS.to_vec(), SourceInfo::new("example", "example"));
    let started = std::time::Instant::now();
    let report = process_path(&mut processor, path.as_ref(), sink.as_mut())?;
    sink.flush()?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "records {} events {} errors {} bytes {} in {secs:.1}s ({:.0} events/s)",
        report.records,
        report.events,
        report.errors,
        report.bytes,
        report.events as f64 / secs
    );
    Ok(())
}
