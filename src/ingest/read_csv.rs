//! The CSV driver: binds the header to a format, cuts the rows (in parts
//! spread over the pool when lines end in `\n`), maps them in parallel
//! and settles the outcomes in row order.

use super::accounting::Reject;
use super::csv_batch::{CsvBatch, CsvReader, CsvRow};
use super::csv_split::{self, CutBatch, RowCutter};
use super::formats::{self, CsvRows, Ctx, Row, RowResult, CSV_FORMATS};
use super::{digest, json, pipeline, settle, Sink};
use rayon::prelude::*;
use std::io::Read;

/// CSV rows per parse batch and thread.
const CSV_BATCH_ROWS: usize = 4096;
/// Bytes of CSV rows per parse batch and thread, so fat rows cannot
/// multiply the batch's memory.
const CSV_BATCH_BYTES: usize = 4 << 20;
/// Bytes per CSV part, the unit one thread frames and maps: small enough
/// that a batch's parts keep every thread busy, large enough that handing
/// them out costs nothing next to the rows in them.
const CSV_PART_BYTES: usize = 1 << 20;
/// CSV parts per batch and thread.
const CSV_PARTS_PER_THREAD: usize = 4;

/// `lf_lines`: the input has `\n` line ends (possibly `\r\n`), as opposed
/// to old Mac `\r` ones.
pub(super) fn read_csv(r: &mut dyn Read, delim: u8, lf_lines: bool, ctx: &Ctx, mut sink: Sink) {
    let _offload = digest::offload_hashing();
    if lf_lines && csv_split::can_cut(delim) {
        read_csv_parts(r, delim, ctx, sink);
        return;
    }
    let mut reader = CsvReader::new(r, delim, lf_lines);
    let Some(header) = take_header(reader.header(), &mut sink) else {
        return;
    };
    let Some((rows, header_norm)) = bind_csv(&header, delim, ctx, &mut sink) else {
        return;
    };
    let threads = rayon::current_num_threads().max(1);
    let (max_rows, max_bytes) = (CSV_BATCH_ROWS * threads, CSV_BATCH_BYTES * threads);
    let mut lossy_rows = 0u64;
    pipeline(
        |batch: &mut CsvBatch| reader.fill(batch, max_rows, max_bytes),
        |batch, out| {
            (0..batch.len())
                .into_par_iter()
                .map_init(
                    || Vec::with_capacity(header_norm.len()),
                    |refs, i| map_csv_row(batch.row(i), &header_norm, &*rows, ctx, refs),
                )
                .collect_into_vec(out)
        },
        |batch, out| {
            // Rows the reader failed on interleave with the others by number.
            let mut failures = batch.failures.iter().peekable();
            for (row, (outcome, lossy)) in batch.rows().zip(out.drain(..)) {
                while let Some(f) = failures.next_if(|f| f.row < row.no) {
                    sink.report.reject(
                        format!("row {} (line {})", f.row, f.line),
                        Reject::UnreadableCsvRow {
                            error: f.error.clone(),
                        },
                    );
                }
                lossy_rows += u64::from(lossy);
                settle(
                    outcome,
                    || format!("row {} (line {})", row.no, row.line),
                    row.no,
                    &mut sink,
                );
            }
            for f in failures {
                sink.report.reject(
                    format!("row {} (line {})", f.row, f.line),
                    Reject::UnreadableCsvRow {
                        error: f.error.clone(),
                    },
                );
            }
            if let Some(why) = &batch.stopped {
                sink.report.error = Some(why.clone());
            }
        },
    );
    note_lossy_rows(lossy_rows, &mut sink);
}

/// Reads CSV with `\n` line ends cut into parts at row ends, so that
/// framing the rows, not only mapping them, spreads over the pool.
fn read_csv_parts(r: &mut dyn Read, delim: u8, ctx: &Ctx, mut sink: Sink) {
    let mut cutter = RowCutter::new(r, delim, json::frame::MAX_RECORD_BYTES);
    let Some((header, mut line_base)) = take_header(cutter.header(), &mut sink) else {
        return;
    };
    let Some((rows, header_norm)) = bind_csv(&header, delim, ctx, &mut sink) else {
        return;
    };
    let parts = CSV_PARTS_PER_THREAD * rayon::current_num_threads().max(1);
    let (mut row_base, mut after_last_row, mut lossy_rows) = (0u64, line_base, 0u64);
    pipeline(
        |batch: &mut CutBatch| cutter.fill(batch, parts, CSV_PART_BYTES),
        |batch, out| {
            batch
                .parts()
                .par_iter()
                .map(|part| {
                    let framed = csv_split::frame(part, delim);
                    let mut refs = Vec::with_capacity(header_norm.len());
                    let mapped = framed
                        .rows
                        .rows(part.data())
                        .map(|row| map_csv_row(row, &header_norm, &*rows, ctx, &mut refs))
                        .collect::<Vec<_>>();
                    (framed, mapped)
                })
                .collect_into_vec(out)
        },
        |batch, out| {
            // Rows are numbered within their part; the numbers carry on
            // from the parts before.
            for (part, (framed, mapped)) in batch.parts().iter().zip(out.drain(..)) {
                for (row, (outcome, lossy)) in framed.rows.rows(part.data()).zip(mapped) {
                    let (no, line) = (row_base + row.no, line_base + row.line - 1);
                    lossy_rows += u64::from(lossy);
                    settle(outcome, || format!("row {no} (line {line})"), no, &mut sink);
                }
                if framed.rows.len() > 0 {
                    row_base += framed.rows.len() as u64;
                    after_last_row = line_base + framed.after_last_row - 1;
                }
                line_base += framed.newlines;
            }
            if let Some(e) = &batch.broken {
                sink.report.reject(
                    format!("row {} (line {after_last_row})", row_base + 1),
                    Reject::UnreadableCsvRow { error: e.clone() },
                );
                sink.report.error = Some(format!("read stopped at line {after_last_row}: {e}"));
            }
        },
    );
    note_lossy_rows(lossy_rows, &mut sink);
}

/// The header a CSV reader returned, or `None` with the reason recorded
/// (an input without rows is empty, not broken).
fn take_header<H, E: std::fmt::Display>(got: Result<Option<H>, E>, sink: &mut Sink) -> Option<H> {
    match got {
        Ok(Some(h)) => Some(h),
        Ok(None) => {
            sink.report.notes.push("empty input: no records".into());
            None
        }
        Err(e) => {
            sink.report.error = Some(format!("unreadable CSV header: {e}"));
            None
        }
    }
}

fn note_lossy_rows(lossy_rows: u64, sink: &mut Sink) {
    if lossy_rows > 0 {
        sink.report.notes.push(format!(
            "{lossy_rows} row(s) held invalid UTF-8; the bad bytes were replaced with U+FFFD"
        ));
    }
}

/// Finds the CSV format whose header this is, recording it (or why none
/// fits) in the report. Returns its row mapper and the normalised header.
fn bind_csv(
    header: &[String],
    delim: u8,
    ctx: &Ctx,
    sink: &mut Sink,
) -> Option<(Box<dyn CsvRows>, Vec<String>)> {
    let mut bound: Option<Box<dyn CsvRows>> = None;
    for f in CSV_FORMATS {
        if sink.only.is_some_and(|o| o != f.format()) {
            continue;
        }
        match f.bind(header, ctx) {
            Some(Ok(b)) => {
                bound = Some(b);
                break;
            }
            Some(Err(why)) => {
                sink.report.error = Some(why);
                return None;
            }
            None => {}
        }
    }
    let Some(rows) = bound else {
        let shown: Vec<String> = header
            .iter()
            .take(6)
            .map(|h| h.trim().chars().take(30).collect())
            .collect();
        sink.report.error = Some(format!(
            "not a recognised sign-in export: CSV header ({}{}) matches no known export",
            shown.join(", "),
            if header.len() > 6 { ", …" } else { "" }
        ));
        return None;
    };
    sink.report.format = Some(rows.format());
    sink.report.notes.extend(rows.notes());
    if delim != b',' {
        sink.report.notes.push(format!(
            "read with delimiter {:?} (re-saved file)",
            delim as char
        ));
    }
    let header_norm = header.iter().map(|h| formats::Header::norm(h)).collect();
    Some((rows, header_norm))
}

/// Maps one CSV row, saying whether invalid UTF-8 in it was replaced.
/// `refs` is scratch space reused between rows.
fn map_csv_row<'b>(
    row: CsvRow<'b>,
    header_norm: &[String],
    rows: &dyn CsvRows,
    ctx: &Ctx,
    refs: &mut Vec<&'b str>,
) -> (RowResult, bool) {
    let width = header_norm.len();
    let blank = row.len() == 1
        && row
            .get(0)
            .is_some_and(|c| c.iter().all(u8::is_ascii_whitespace));
    if blank {
        return (Ok(Row::Skip("blank line".into())), false);
    }
    if row.len() != width {
        return (
            Err(Reject::FieldCount {
                got: row.len(),
                want: width,
            }),
            false,
        );
    }
    if repeats_header(&row, header_norm) {
        return (
            Ok(Row::Skip(
                "repeated header (exports joined into one file)".into(),
            )),
            false,
        );
    }
    // Cells borrow from the batch; only a row with invalid UTF-8 (rare)
    // gets owned, repaired copies.
    if row.text_cells(refs) {
        (rows.map(refs, ctx), false)
    } else {
        let owned: Vec<String> = row
            .iter()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        let cells: Vec<&str> = owned.iter().map(String::as_str).collect();
        (rows.map(&cells, ctx), true)
    }
}

/// True when a row is the header again, as when exports are concatenated
/// (`cat a.csv b.csv`, the second one's BOM included).
fn repeats_header(row: &CsvRow, header_norm: &[String]) -> bool {
    row.len() == header_norm.len()
        && row.iter().zip(header_norm).all(|(c, h)| {
            may_normalize_to(c, h) && formats::Header::norm(&String::from_utf8_lossy(c)) == *h
        })
}

/// False only when [`formats::Header::norm`] of `cell` cannot be `norm`,
/// decided without allocating. A cell that starts with ASCII letters or
/// digits keeps that run, lower-cased, at the start of its normalised form
/// (nothing before it to trim, no space inside it), so a data row, whose
/// first cell is a date, a GUID or a number, is told from a header by a
/// byte or two.
fn may_normalize_to(cell: &[u8], norm: &str) -> bool {
    let run = cell
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    run == 0
        || norm
            .as_bytes()
            .get(..run)
            .is_some_and(|p| p.eq_ignore_ascii_case(&cell[..run]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quick_header_check_never_turns_a_header_away() {
        // Every cell of up to three of these parts: what the full
        // normalisation makes of it, the quick check must let through.
        let parts: [&[u8]; 14] = [
            b"\xEF\xBB\xBF",
            b" ",
            b"\t",
            b"\"",
            b"Date",
            b"date",
            b" (UTC)",
            b" [UTC]",
            b"ID",
            b"2026",
            b"\xC2\xA0",
            b"\xFF",
            b"r1",
            b"",
        ];
        for a in parts {
            for b in parts {
                for c in parts {
                    let cell = [a, b, c].concat();
                    let norm = formats::Header::norm(&String::from_utf8_lossy(&cell));
                    assert!(may_normalize_to(&cell, &norm), "{cell:?} -> {norm:?}");
                }
            }
        }
        // Data cells are told from header names by their first bytes.
        for (cell, header) in [
            ("2026-03-02T10:00:00Z", "Date (UTC)"),
            ("3/2/2026, 10:00:00.000 AM", "TimeGenerated [UTC]"),
            ("3571d599-80a7-45b7-b43b-4457e6892f91", "Request ID"),
            ("50126", "Sign-in error code"),
            ("Success", "Status"),
        ] {
            let norm = formats::Header::norm(header);
            assert!(!may_normalize_to(cell.as_bytes(), &norm), "{cell}");
        }
    }
}
