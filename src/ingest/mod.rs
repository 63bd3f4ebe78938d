//! Ingest: find the inputs, recognise each export's format from its bytes,
//! and parse records in parallel into the normalized [`SignIn`] record,
//! accounting for every input row.
//!
//! Each input is streamed: JSON through [`json::frame::Framer`], CSV through
//! the `csv` crate. Records are cut into batches that are parsed on the
//! rayon pool a few at a time, so memory stays bounded by the batches in
//! flight plus the records kept, never by the size of the file.

pub mod fields;
pub mod formats;
pub mod json;
pub mod source;

use crate::model::{SignIn, SourceFormat};
use formats::{AuthDetail, CsvRows, Ctx, Row, RowResult, CSV_FORMATS, JSON_FORMATS};
use json::frame::{Batch, Framer};
use json::value::JVal;
use rayon::prelude::*;
use serde::Serialize;
use source::{Input, Origin};
use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::io::{self, Read};
use std::path::PathBuf;

/// Bytes of JSON records per parse batch.
const JSON_BATCH_BYTES: usize = 4 << 20;
/// CSV rows per parse batch.
const CSV_BATCH_ROWS: usize = 8192;
/// Bytes of CSV rows per parse batch and thread, so fat rows cannot
/// multiply the batch's memory.
const CSV_BATCH_BYTES: usize = 8 << 20;
/// The CSV reader's read-ahead buffer.
const CSV_BUFFER: usize = 1 << 20;
/// Problems kept verbatim per input (the rest are counted by reason).
const MAX_PROBLEMS: usize = 10;

/// One rejected row: where and why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Problem {
    pub location: String,
    pub reason: String,
}

/// The accounting of one input. `records_read = parsed + rejected +
/// skipped`; `duplicates` are parsed records dropped because another input
/// (or an earlier row) carried the same sign-in.
#[derive(Debug, Clone, Serialize, Default)]
pub struct InputReport {
    pub path: String,
    /// The detected format, or `None` if the input could not be read as
    /// any known format.
    pub format: Option<SourceFormat>,
    pub compressed: bool,
    pub bytes: u64,
    pub sha256: String,
    pub records_read: u64,
    pub parsed: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub skipped: u64,
    /// Rows of a portal AuthDetails file joined onto their sign-ins.
    pub auth_details: u64,
    pub rejected_by_reason: BTreeMap<String, u64>,
    pub skipped_by_reason: BTreeMap<String, u64>,
    /// The first few rejected rows with their location.
    pub problems: Vec<Problem>,
    /// A reason the whole input (or its remainder) could not be read.
    pub error: Option<String>,
    pub notes: Vec<String>,
}

impl InputReport {
    fn new(input: &Input) -> Self {
        InputReport {
            path: input.display.clone(),
            notes: input.notes.clone(),
            ..Default::default()
        }
    }

    fn reject(&mut self, location: String, reason: String) {
        self.records_read += 1;
        self.rejected += 1;
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(Problem {
                location,
                reason: reason.clone(),
            });
        }
        *self
            .rejected_by_reason
            .entry(reason_key(&reason))
            .or_default() += 1;
    }

    fn skip(&mut self, reason: String) {
        self.records_read += 1;
        self.skipped += 1;
        *self.skipped_by_reason.entry(reason).or_default() += 1;
    }

    /// True when something in this input could not be used.
    pub fn is_partial(&self) -> bool {
        self.rejected > 0 || self.error.is_some()
    }
}

/// Groups reasons that differ only in the quoted value.
fn reason_key(reason: &str) -> String {
    match reason.find(['"', ':']) {
        Some(i) if i > 8 => reason[..i].trim_end().to_string(),
        _ => reason.to_string(),
    }
}

/// Everything read from the inputs, before de-duplication.
#[derive(Debug, Default)]
pub struct Ingested {
    /// In no particular order; `source_file` and `source_record` say where
    /// each came from.
    pub records: Vec<SignIn>,
    pub auth_details: Vec<AuthDetail>,
    /// Index `i` describes `SignIn::source_file == i`.
    pub inputs: Vec<InputReport>,
}

/// Reads every input under `paths`. Never fails as a whole: problems are
/// recorded per input.
pub fn ingest(paths: &[PathBuf]) -> Ingested {
    let (inputs, unlisted) = source::discover(paths);
    read_inputs(&inputs, unlisted)
}

/// Reads inputs found by [`source::discover`]; one that has gone or changed
/// since is accounted for like any other unreadable input.
pub fn read_inputs(inputs: &[Input], unlisted: Vec<source::Unlisted>) -> Ingested {
    let results: Vec<(Vec<SignIn>, Vec<AuthDetail>, InputReport)> = inputs
        .par_iter()
        .enumerate()
        .map(|(i, input)| read_input(input, i as u32))
        .collect();
    let mut out = Ingested::default();
    // The records of all inputs in one vector, built on the largest one
    // (usually nearly all of them) so it is grown, not copied. Their order
    // is not part of the contract: normalize sorts.
    let mut results = results;
    if let Some(largest) = (0..results.len()).max_by_key(|&i| (results[i].0.len(), Reverse(i))) {
        out.records = std::mem::take(&mut results[largest].0);
    }
    out.records
        .reserve_exact(results.iter().map(|(recs, _, _)| recs.len()).sum());
    for (recs, details, report) in results {
        out.records.extend(recs);
        out.auth_details.extend(details);
        out.inputs.push(report);
    }
    for u in unlisted {
        out.inputs.push(InputReport {
            path: u.display,
            error: Some(u.reason),
            ..Default::default()
        });
    }
    out
}

/// What the first bytes say the input is.
pub(crate) enum Sniffed {
    Json,
    Csv(u8),
    Empty,
    Unknown(String),
}

pub(crate) fn sniff(head: &[u8]) -> Sniffed {
    let mut h = head;
    if h.starts_with(&[0xEF, 0xBB, 0xBF]) {
        h = &h[3..];
    }
    if h.starts_with(&[0xFF, 0xFE]) || h.starts_with(&[0xFE, 0xFF]) {
        return Sniffed::Unknown("UTF-16 text; re-save the export as UTF-8".into());
    }
    let first = h.iter().position(|c| !c.is_ascii_whitespace());
    let Some(first) = first else {
        return Sniffed::Empty;
    };
    let h = &h[first..];
    // Binary files and UTF-16 without a BOM are full of NULs; a text export
    // with a stray NUL in one cell is still read (the cell keeps it).
    let sample = &h[..h.len().min(4096)];
    if memchr::memchr_iter(0, sample).count() * 32 > sample.len() {
        return Sniffed::Unknown("binary data (NUL bytes), not a text export".into());
    }
    match h[0] {
        b'{' | b'[' => return Sniffed::Json,
        _ => {}
    }
    // A CSV header: pick the delimiter that splits the first line most
    // (Excel re-saves in some locales use `;`).
    let line_end = memchr::memchr(b'\n', h).unwrap_or(h.len());
    let line = &h[..line_end];
    let count = |d: u8| {
        let mut n = 0;
        let mut quoted = false;
        for &c in line {
            if c == b'"' {
                quoted = !quoted;
            } else if c == d && !quoted {
                n += 1;
            }
        }
        n
    };
    let (comma, semi, tab) = (count(b','), count(b';'), count(b'\t'));
    let delim = if semi > comma && semi >= tab {
        b';'
    } else if tab > comma {
        b'\t'
    } else {
        b','
    };
    if comma + semi + tab == 0 {
        let shown: String = String::from_utf8_lossy(&line[..line.len().min(60)])
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .collect();
        return Sniffed::Unknown(format!(
            "not JSON and no CSV header (first line starts {shown:?})"
        ));
    }
    Sniffed::Csv(delim)
}

/// Reads everything left so the hash covers the whole input.
fn drain(r: &mut dyn Read) -> io::Result<()> {
    io::copy(r, &mut io::sink()).map(|_| ())
}

fn read_input(input: &Input, index: u32) -> (Vec<SignIn>, Vec<AuthDetail>, InputReport) {
    let mut report = InputReport::new(input);
    let ctx = Ctx {
        file_name: input.file_name.clone(),
    };
    let mut records = Vec::new();
    let mut details = Vec::new();
    let result = source::read_with(input, |r| {
        read_stream(
            r,
            &ctx,
            None,
            index,
            &mut report,
            &mut records,
            &mut details,
        )
    });
    close_input(result, &mut report);
    if matches!(input.origin, Origin::Stdin)
        && report.format.is_none()
        && report.error.is_none()
        && report.records_read == 0
    {
        report.notes.push("standard input was empty".into());
    }
    report.parsed = records.len() as u64;
    report.auth_details = details.len() as u64;
    (records, details, report)
}

/// Reads `bytes` exactly as a file named `name` holding them would be read,
/// considering only the format `only` when given. The fuzz targets enter
/// here.
pub(crate) fn read_memory(
    name: &str,
    bytes: &[u8],
    only: Option<SourceFormat>,
) -> (Vec<SignIn>, Vec<AuthDetail>, InputReport) {
    let mut report = InputReport {
        path: name.to_string(),
        ..Default::default()
    };
    let ctx = Ctx {
        file_name: name.to_string(),
    };
    let mut records = Vec::new();
    let mut details = Vec::new();
    let result = source::read_bytes(bytes, |r| {
        read_stream(r, &ctx, only, 0, &mut report, &mut records, &mut details)
    });
    close_input(result, &mut report);
    report.parsed = records.len() as u64;
    report.auth_details = details.len() as u64;
    (records, details, report)
}

/// Sniffs, then reads the stream with the matching reader.
fn read_stream(
    r: &mut dyn Read,
    ctx: &Ctx,
    only: Option<SourceFormat>,
    index: u32,
    report: &mut InputReport,
    records: &mut Vec<SignIn>,
    details: &mut Vec<AuthDetail>,
) -> io::Result<()> {
    // A stream that breaks inside its first bytes (a cut .gz) still
    // yields what was decoded before the break.
    let mut head = Vec::with_capacity(64 << 10);
    let head_error = (&mut *r).take(64 << 10).read_to_end(&mut head).err();
    let rest: &mut dyn Read = if head_error.is_some() {
        &mut io::empty()
    } else {
        &mut *r
    };
    let sniffed = sniff(&head);
    let lf_lines = memchr::memchr(b'\n', &head).is_some();
    let mut stream = io::Cursor::new(head).chain(rest);
    let sink = Sink {
        index,
        only,
        report,
        records,
        details,
    };
    match sniffed {
        Sniffed::Empty => {
            sink.report.notes.push("empty input: no records".into());
        }
        Sniffed::Unknown(why) => {
            sink.report.error = Some(format!("not a recognised sign-in export: {why}"));
        }
        Sniffed::Json => read_json(&mut stream, ctx, sink),
        Sniffed::Csv(delim) => read_csv(&mut stream, delim, lf_lines, ctx, sink),
    }
    match head_error {
        Some(e) => Err(e),
        None => drain(&mut stream),
    }
}

/// Records how opening and reading an input ended.
fn close_input(
    result: io::Result<(io::Result<()>, source::Digestor, bool)>,
    report: &mut InputReport,
) {
    match result {
        Ok((io_result, digest, gz)) => {
            let (sha, bytes) = digest.finish();
            report.sha256 = sha;
            report.bytes = bytes;
            report.compressed = gz;
            if let Err(e) = io_result {
                let msg = format!("read stopped: {e}");
                report.error = Some(match report.error.take() {
                    Some(prev) => format!("{prev}; {msg}"),
                    None => msg,
                });
            }
        }
        Err(e) => report.error = Some(format!("cannot open: {}", source::io_reason(&e))),
    }
}

/// Where a reader puts what it reads from one input.
struct Sink<'a> {
    index: u32,
    /// Restricts reading to one format (each fuzz target aims at one
    /// reader); `None` in real runs.
    only: Option<SourceFormat>,
    report: &'a mut InputReport,
    records: &'a mut Vec<SignIn>,
    details: &'a mut Vec<AuthDetail>,
}

/// Applies a row's outcome to the accounting.
fn settle(outcome: RowResult, location: impl FnOnce() -> String, record_no: u64, sink: &mut Sink) {
    match outcome {
        Ok(Row::SignIn(mut s)) => {
            s.source_file = sink.index;
            s.source_record = record_no;
            sink.report.records_read += 1;
            sink.records.push(*s);
        }
        Ok(Row::AuthDetail(d)) => {
            sink.report.records_read += 1;
            sink.report.skipped += 1;
            *sink
                .report
                .skipped_by_reason
                .entry("authentication-detail row (joined to its sign-in)".into())
                .or_default() += 1;
            sink.details.push(d);
        }
        Ok(Row::Skip(why)) => sink.report.skip(why),
        Err(why) => sink.report.reject(location(), why),
    }
}

/// What became of one JSON record: its outcome, the format that claimed
/// it, and whether invalid UTF-8 in it was replaced.
type JsonOutcome = (RowResult, Option<SourceFormat>, bool);

fn map_json_record(bytes: &[u8], ctx: &Ctx, only: Option<SourceFormat>) -> JsonOutcome {
    let (outcome, format) = map_json_value(bytes, ctx, only);
    // serde_json refuses invalid UTF-8 inside strings (the only place it
    // can be in a well-formed record), so only a refused record needs the
    // check. Exports re-saved in a legacy code page carry such bytes in
    // names; like CSV cells, the record is repaired rather than lost.
    if outcome.is_err() && std::str::from_utf8(bytes).is_err() {
        let repaired = String::from_utf8_lossy(bytes);
        let (outcome, format) = map_json_value(repaired.as_bytes(), ctx, only);
        return (outcome, format, true);
    }
    (outcome, format, false)
}

fn map_json_value(
    bytes: &[u8],
    ctx: &Ctx,
    only: Option<SourceFormat>,
) -> (RowResult, Option<SourceFormat>) {
    let v = match JVal::parse(bytes) {
        Ok(v) => v,
        Err(e) => return (Err(format!("invalid JSON: {e}")), None),
    };
    if !v.is_obj() {
        return (
            Err("a JSON value that is not an object where a record should be".into()),
            None,
        );
    }
    for f in JSON_FORMATS {
        if only.is_none_or(|o| o == f.format()) && f.claims(&v) {
            return (f.map(&v, ctx), Some(f.format()));
        }
    }
    let keys: Vec<&str> = v.keys().take(6).collect();
    (
        Err(format!(
            "JSON object of no known sign-in shape (keys: {})",
            keys.join(", ")
        )),
        None,
    )
}

fn read_json(r: &mut dyn Read, ctx: &Ctx, mut sink: Sink) {
    let mut framer = Framer::new(r);
    let threads = rayon::current_num_threads().max(1);
    let mut formats: BTreeMap<SourceFormat, u64> = BTreeMap::new();
    let mut lossy_records = 0u64;
    let mut more = true;
    while more {
        // Cut a few batches, then parse them in parallel.
        let mut batches = Vec::with_capacity(threads * 2);
        while more && batches.len() < threads * 2 {
            let mut b = Batch::default();
            match framer.fill_batch(&mut b, JSON_BATCH_BYTES) {
                Ok(m) => more = m,
                Err(e) => {
                    sink.report.error = Some(format!("{e}; the rest of the input was not read"));
                    more = false;
                }
            }
            batches.push(b);
        }
        let parsed: Vec<Vec<JsonOutcome>> = batches
            .par_iter()
            .map(|b| {
                b.records
                    .iter()
                    .map(|s| map_json_record(b.record(s), ctx, sink.only))
                    .collect()
            })
            .collect();
        for (b, results) in batches.iter().zip(parsed) {
            // Framer problems and records interleave by record index.
            let mut problems = b.problems.iter().peekable();
            for (span, (outcome, fmt, lossy)) in b.records.iter().zip(results) {
                while let Some(p) = problems.next_if(|p| p.index < span.index) {
                    sink.report.reject(
                        format!("record {} (line {})", p.index, p.line),
                        p.message.clone(),
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
                    p.message.clone(),
                );
            }
        }
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
    if sink.report.format.is_none()
        && sink.report.records_read > 0
        && sink.report.rejected == sink.report.records_read
        && sink.report.error.is_none()
    {
        sink.report.error = Some("no record in this input is a known sign-in shape".into());
    }
}

/// Stops a CSV row from growing without end. The csv crate buffers a whole
/// row, and one unclosed quote turns the rest of a file into a single
/// field; this fails the read once the bytes since the last row boundary
/// (plus the reader's read-ahead) pass the record limit.
struct RowLimit<'a> {
    inner: &'a mut dyn Read,
    fed: u64,
    /// Byte offset where the current row starts, updated by the reader loop.
    row_start: std::rc::Rc<std::cell::Cell<u64>>,
}

impl Read for RowLimit<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let limit = (json::frame::MAX_RECORD_BYTES + CSV_BUFFER) as u64;
        if self.fed.saturating_sub(self.row_start.get()) > limit {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "a row longer than {} MiB (an unclosed quote?)",
                    json::frame::MAX_RECORD_BYTES >> 20
                ),
            ));
        }
        let n = self.inner.read(buf)?;
        self.fed += n as u64;
        Ok(n)
    }
}

/// `lf_lines`: the input has `\n` line ends (possibly `\r\n`), as opposed
/// to old Mac `\r` ones.
fn read_csv(r: &mut dyn Read, delim: u8, lf_lines: bool, ctx: &Ctx, mut sink: Sink) {
    let row_start = std::rc::Rc::new(std::cell::Cell::new(0));
    // With the csv crate's default CRLF terminator, the `\n` of a `\r\n`
    // counts towards the next row, which then reports the line before its
    // own. Ending rows at `\n` alone keeps line numbers exact; the `\r`
    // left at the end of a row's last cell is whitespace the cells trim.
    let terminator = if lf_lines {
        csv::Terminator::Any(b'\n')
    } else {
        csv::Terminator::CRLF
    };
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delim)
        .terminator(terminator)
        .flexible(true)
        .has_headers(false)
        .buffer_capacity(CSV_BUFFER)
        .from_reader(RowLimit {
            inner: r,
            fed: 0,
            row_start: row_start.clone(),
        });
    let mut header_rec = csv::ByteRecord::new();
    match rdr.read_byte_record(&mut header_rec) {
        Ok(true) => {}
        Ok(false) => {
            sink.report.notes.push("empty input: no records".into());
            return;
        }
        Err(e) => {
            sink.report.error = Some(format!("unreadable CSV header: {e}"));
            return;
        }
    }
    let header: Vec<String> = header_rec
        .iter()
        .map(|c| String::from_utf8_lossy(c.strip_suffix(b"\r").unwrap_or(c)).into_owned())
        .collect();
    let mut bound: Option<Box<dyn CsvRows>> = None;
    for f in CSV_FORMATS {
        if sink.only.is_some_and(|o| o != f.format()) {
            continue;
        }
        match f.bind(&header, ctx) {
            Some(Ok(b)) => {
                bound = Some(b);
                break;
            }
            Some(Err(why)) => {
                sink.report.error = Some(why);
                return;
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
        return;
    };
    sink.report.format = Some(rows.format());
    sink.report.notes.extend(rows.notes());
    if delim != b',' {
        sink.report.notes.push(format!(
            "read with delimiter {:?} (re-saved file)",
            delim as char
        ));
    }
    let width = header.len();
    let header_norm: Vec<String> = header.iter().map(|h| formats::Header::norm(h)).collect();
    let threads = rayon::current_num_threads().max(1);
    let mut row_no: u64 = 0;
    let mut lossy_rows = 0u64;
    let mut more = true;
    while more {
        let mut batch: Vec<(u64, u64, csv::ByteRecord)> =
            Vec::with_capacity(CSV_BATCH_ROWS * threads);
        let mut batch_bytes = 0;
        while batch.len() < CSV_BATCH_ROWS * threads && batch_bytes < CSV_BATCH_BYTES * threads {
            let mut rec = csv::ByteRecord::new();
            match rdr.read_byte_record(&mut rec) {
                Ok(true) => {
                    row_no += 1;
                    row_start.set(rdr.position().byte());
                    let line = rec.position().map(|p| p.line()).unwrap_or(0);
                    batch_bytes += rec.as_slice().len();
                    batch.push((row_no, line, rec));
                }
                Ok(false) => {
                    more = false;
                    break;
                }
                Err(e) => {
                    row_no += 1;
                    // An I/O error has no position of its own: the row it
                    // broke starts where the last good one ended.
                    let line = e
                        .position()
                        .map_or_else(|| rdr.position().line(), |p| p.line());
                    sink.report.reject(
                        format!("row {row_no} (line {line})"),
                        format!("unreadable CSV row: {e}"),
                    );
                    if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                        sink.report.error = Some(format!("read stopped at line {line}: {e}"));
                        more = false;
                        break;
                    }
                }
            }
        }
        let outcomes: Vec<(RowResult, bool)> = batch
            .par_chunks(CSV_BATCH_ROWS)
            .flat_map_iter(|chunk| {
                // Cells borrow from the batch; only a row with invalid UTF-8
                // (rare) gets owned, repaired copies.
                let mut refs: Vec<&str> = Vec::with_capacity(width);
                let mut out = Vec::with_capacity(chunk.len());
                for (_, _, rec) in chunk {
                    let blank = rec.len() == 1
                        && rec
                            .get(0)
                            .is_some_and(|c| c.iter().all(u8::is_ascii_whitespace));
                    if rec.len() != width && !blank {
                        out.push((
                            Err(format!(
                                "row has {} fields, the header has {width}",
                                rec.len()
                            )),
                            false,
                        ));
                        continue;
                    }
                    if blank {
                        out.push((Ok(Row::Skip("blank line".into())), false));
                        continue;
                    }
                    if repeats_header(rec, &header_norm) {
                        out.push((
                            Ok(Row::Skip(
                                "repeated header (exports joined into one file)".into(),
                            )),
                            false,
                        ));
                        continue;
                    }
                    refs.clear();
                    refs.extend(rec.iter().map_while(|c| std::str::from_utf8(c).ok()));
                    if refs.len() == rec.len() {
                        out.push((rows.map(&refs, ctx), false));
                    } else {
                        let owned: Vec<String> = rec
                            .iter()
                            .map(|c| String::from_utf8_lossy(c).into_owned())
                            .collect();
                        let cells: Vec<&str> = owned.iter().map(String::as_str).collect();
                        out.push((rows.map(&cells, ctx), true));
                    }
                }
                out
            })
            .collect();
        for ((row, line, _), (outcome, lossy)) in batch.iter().zip(outcomes) {
            if lossy {
                lossy_rows += 1;
            }
            settle(
                outcome,
                || format!("row {row} (line {line})"),
                *row,
                &mut sink,
            );
        }
    }
    if lossy_rows > 0 {
        sink.report.notes.push(format!(
            "{lossy_rows} row(s) held invalid UTF-8; the bad bytes were replaced with U+FFFD"
        ));
    }
}

/// True when a row is the header again, as when exports are concatenated
/// (`cat a.csv b.csv`, the second one's BOM included).
fn repeats_header(rec: &csv::ByteRecord, header_norm: &[String]) -> bool {
    let norm = |c: &[u8]| formats::Header::norm(&String::from_utf8_lossy(c));
    rec.len() == header_norm.len()
        && rec.get(0).is_some_and(|c| norm(c) == header_norm[0])
        && rec.iter().zip(header_norm).all(|(c, h)| norm(c) == *h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing() {
        assert!(matches!(sniff(b"\xEF\xBB\xBF  [{"), Sniffed::Json));
        assert!(matches!(
            sniff(b"Date (UTC),Request ID\n"),
            Sniffed::Csv(b',')
        ));
        assert!(matches!(
            sniff(b"Date (UTC);Request ID;User\n"),
            Sniffed::Csv(b';')
        ));
        assert!(matches!(sniff(b"  \n "), Sniffed::Empty));
        assert!(matches!(sniff(b"\x7fELF\x00\x00"), Sniffed::Unknown(_)));
        assert!(matches!(sniff(b"hello world\n"), Sniffed::Unknown(_)));
        // UTF-16 without its BOM is binary; one NUL in a cell is not.
        assert!(matches!(sniff(b"D\0a\0t\0e\0,\0"), Sniffed::Unknown(_)));
        assert!(matches!(
            sniff(b"Date (UTC),Request ID,Username\n2026-03-02,r1,a\0b\n"),
            Sniffed::Csv(b',')
        ));
    }
}
