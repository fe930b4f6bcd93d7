//! Printing query rows: an aligned table, JSON lines or CSV.

use std::io::Write;

use datafusion::arrow::array::Array;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::arrow::util::pretty::pretty_format_batches;

use crate::error::Error;

/// How rows are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// An aligned text table.
    #[default]
    Table,
    /// One JSON object per row (nested columns as JSON objects and arrays).
    Json,
    /// CSV with a header line; nested values as their text form.
    Csv,
}

/// Writes `batches` to `out` in `format`.
pub fn write(batches: &[RecordBatch], format: Format, out: &mut dyn Write) -> Result<(), Error> {
    let err = |e: &dyn std::fmt::Display| Error::Output(e.to_string());
    match format {
        Format::Table => {
            let table = pretty_format_batches(batches).map_err(|e| err(&e))?;
            writeln!(out, "{table}").map_err(|e| err(&e))
        }
        Format::Json => {
            let mut writer = arrow_json::LineDelimitedWriter::new(out);
            let refs: Vec<&RecordBatch> = batches.iter().collect();
            writer.write_batches(&refs).map_err(|e| err(&e))?;
            writer.finish().map_err(|e| err(&e))
        }
        Format::Csv => write_csv(batches, out).map_err(|e| err(&e)),
    }
}

/// `batches` as JSON objects, one per row.
pub fn json_rows(
    batches: &[RecordBatch],
) -> Result<Vec<serde_json::Map<String, serde_json::Value>>, Error> {
    let mut writer = arrow_json::ArrayWriter::new(Vec::new());
    let refs: Vec<&RecordBatch> = batches.iter().collect();
    writer.write_batches(&refs).map_err(|e| Error::Output(e.to_string()))?;
    writer.finish().map_err(|e| Error::Output(e.to_string()))?;
    let bytes = writer.into_inner();
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_slice(&bytes).map_err(|e| Error::Output(e.to_string()))
}

fn write_csv(
    batches: &[RecordBatch],
    out: &mut dyn Write,
) -> Result<(), Box<dyn std::error::Error>> {
    let Some(first) = batches.first() else { return Ok(()) };
    let header: Vec<String> = first.schema().fields().iter().map(|f| quote(f.name())).collect();
    writeln!(out, "{}", header.join(","))?;
    let options = FormatOptions::default();
    for batch in batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()?;
        for row in 0..batch.num_rows() {
            let cells: Vec<String> =
                formatters
                    .iter()
                    .zip(batch.columns())
                    .map(|(f, c)| {
                        if c.is_null(row) {
                            String::new()
                        } else {
                            quote(&f.value(row).to_string())
                        }
                    })
                    .collect();
            writeln!(out, "{}", cells.join(","))?;
        }
    }
    Ok(())
}

/// A CSV cell: quoted when it holds a comma, quote or line break.
fn quote(cell: &str) -> String {
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_owned()
    }
}
