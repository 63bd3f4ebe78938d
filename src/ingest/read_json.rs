//! The JSON driver: frames an input into records on the reading thread,
//! maps each batch of records on the pool, and settles the outcomes in
//! input order.

use super::accounting::Reject;
use super::formats::{Ctx, RowResult, JSON_FORMATS};
use super::json::frame::{Batch, Framer};
use super::json::tape::{RecordError, Tv};
use super::json::view::Json;
use super::{pipeline, settle, Sink};
use crate::model::SourceFormat;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::io::Read;

/// Bytes of JSON records per parse batch and thread.
pub(super) const JSON_BATCH_BYTES: usize = 4 << 20;

/// What became of one JSON record: its outcome, the format that claimed
/// it, and whether invalid UTF-8 in it was replaced.
type JsonOutcome = (RowResult, Option<SourceFormat>, bool);

/// `offset`: where the record starts in the input, so a syntax error is
/// placed in the file, not only in the record.
fn map_json_record(
    bytes: &[u8],
    offset: u64,
    ctx: &Ctx,
    only: Option<SourceFormat>,
) -> JsonOutcome {
    // The parser checks UTF-8 as it goes. Exports re-saved in a legacy
    // code page carry invalid UTF-8 in names; like CSV cells, such a
    // record is repaired rather than lost.
    let first = Tv::with_record(bytes, |v| match v {
        Err(e) if e.utf8 => None,
        v => Some(map_json_value(v, bytes, offset, ctx, only)),
    });
    match first {
        Some((outcome, format)) => (outcome, format, false),
        None => {
            let repaired = String::from_utf8_lossy(bytes);
            let (outcome, format) = Tv::with_record(repaired.as_bytes(), |v| {
                map_json_value(v, repaired.as_bytes(), offset, ctx, only)
            });
            (outcome, format, true)
        }
    }
}

fn map_json_value(
    parsed: Result<Tv, RecordError>,
    bytes: &[u8],
    offset: u64,
    ctx: &Ctx,
    only: Option<SourceFormat>,
) -> (RowResult, Option<SourceFormat>) {
    let v = match parsed {
        Ok(v) => v,
        Err(e) => return (Err(syntax_error(bytes, offset, &e)), None),
    };
    if !v.is_obj() {
        return (Err(Reject::NotAnObject), None);
    }
    for f in JSON_FORMATS {
        if only.is_none_or(|o| o == f.format()) && f.claims(v) {
            return (f.map(v, ctx), Some(f.format()));
        }
    }
    let keys: Vec<&str> = v.keys().take(6).collect();
    (
        Err(Reject::UnknownShape {
            keys: keys.join(", "),
        }),
        None,
    )
}

/// Says what is wrong with a record that does not parse, and where in the
/// file. The fast parser only names its internal state ("internal
/// error"); on this rare path serde_json reads the record again to say
/// what it expected and where.
fn syntax_error(bytes: &[u8], record_offset: u64, e: &RecordError) -> Reject {
    let (error, at) = match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
        Err(se) if se.line() > 0 => {
            let text = se.to_string();
            let what = match text.rfind(" at line ") {
                Some(i) => text[..i].to_string(),
                None => text,
            };
            let at = byte_of(bytes, se.line(), se.column());
            let what = match trailing_comma(bytes, at) {
                Some(closer) => format!("trailing comma before '{closer}' (parser: {what})"),
                None => what,
            };
            (format!("{what} (line {} of the record)", se.line()), at)
        }
        _ => (e.message.clone(), e.at),
    };
    Reject::InvalidJson {
        error,
        offset: Some(record_offset + at as u64),
    }
}

/// The closing bracket when the parser stopped at one that follows a
/// comma: the trailing comma a hand-edited or concatenated page has.
fn trailing_comma(bytes: &[u8], at: usize) -> Option<char> {
    let closer = *bytes.get(at)?;
    if closer != b']' && closer != b'}' {
        return None;
    }
    let before = bytes[..at]
        .iter()
        .rev()
        .find(|b| !b.is_ascii_whitespace())?;
    (*before == b',').then_some(closer as char)
}

/// The byte index of a 1-based line and column (serde_json's columns
/// count bytes).
fn byte_of(bytes: &[u8], line: usize, column: usize) -> usize {
    let line_start = if line <= 1 {
        0
    } else {
        memchr::memchr_iter(b'\n', bytes)
            .nth(line - 2)
            .map_or(bytes.len(), |i| i + 1)
    };
    (line_start + column.saturating_sub(1)).min(bytes.len())
}

pub(super) fn read_json(r: &mut dyn Read, ctx: &Ctx, mut sink: Sink) {
    let mut framer = Framer::new(r);
    let target = JSON_BATCH_BYTES * rayon::current_num_threads().max(1);
    let only = sink.only;
    let mut stopped = None;
    let mut formats: BTreeMap<SourceFormat, u64> = BTreeMap::new();
    let mut lossy_records = 0u64;
    pipeline(
        |b: &mut Batch| match framer.fill_batch(b, target) {
            Ok(more) => more,
            Err(e) => {
                stopped = Some(format!("{e}; the rest of the input was not read"));
                false
            }
        },
        |b, out| {
            b.records
                .par_iter()
                .map(|s| map_json_record(b.record(s), s.offset, ctx, only))
                .collect_into_vec(out)
        },
        |b, out| {
            // Framer problems and records interleave by record index.
            let mut problems = b.problems.iter().peekable();
            for (span, (outcome, fmt, lossy)) in b.records.iter().zip(out.drain(..)) {
                while let Some(p) = problems.next_if(|p| p.index < span.index) {
                    sink.report.reject(
                        format!("record {} (line {})", p.index, p.line),
                        Reject::Frame(p.problem.clone()),
                    );
                }
                if let (Some(f), true) = (fmt, outcome.is_ok()) {
                    *formats.entry(f).or_default() += 1;
                }
                lossy_records += u64::from(lossy);
                settle(
                    outcome,
                    || format!("record {} (line {})", span.index, span.line),
                    span.index,
                    &mut sink,
                );
            }
            for p in problems {
                sink.report.reject(
                    format!("record {} (line {})", p.index, p.line),
                    Reject::Frame(p.problem.clone()),
                );
            }
        },
    );
    if stopped.is_some() {
        sink.report.error = stopped;
    }
    // The format is the one most records had (ties broken by name order).
    sink.report.format = formats
        .iter()
        .max_by_key(|(f, n)| (**n, std::cmp::Reverse(**f)))
        .map(|(f, _)| *f);
    if formats.len() > 1 {
        let mix: Vec<String> = formats
            .iter()
            .map(|(f, n)| format!("{} {}", n, f.as_str()))
            .collect();
        sink.report
            .notes
            .push(format!("mixed record shapes: {}", mix.join(", ")));
    }
    if lossy_records > 0 {
        sink.report.notes.push(format!(
            "{lossy_records} record(s) held invalid UTF-8; the bad bytes were replaced with U+FFFD"
        ));
    }
    sink.report.set_shape(framer.shape().describe());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_syntax_error_is_placed_in_the_file_and_named() {
        let record = b"{\"a\": 1,\n \"b\": [1, 2,]\n}";
        let e = Tv::with_record(record, |v| v.err()).unwrap();
        let Reject::InvalidJson { error, offset } = syntax_error(record, 1000, &e) else {
            panic!()
        };
        assert!(error.starts_with("trailing comma"), "{error}");
        assert!(error.ends_with("(line 2 of the record)"), "{error}");
        // The `]` after the comma is byte 21 of the record.
        assert_eq!(offset, Some(1000 + 21));
        assert_eq!(byte_of(record, 1, 1), 0);
        assert_eq!(byte_of(record, 2, 2), 10);
    }
}
