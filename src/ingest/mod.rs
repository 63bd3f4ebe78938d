//! Ingest: find the inputs, recognise each export's format from its bytes,
//! and parse records in parallel into the normalized [`SignIn`] record,
//! accounting for every input row.
//!
//! Each input is streamed: JSON through [`json::frame::Framer`], CSV through
//! the `csv` crate. Records are cut into batches on the thread that reads
//! the input while the rayon pool parses the previous batch, so memory
//! stays bounded by the two batches in flight plus the records kept, never
//! by the size of the file. This file sniffs and dispatches; the drivers
//! are `read_json` and `read_csv`, the bookkeeping `accounting`.

pub mod accounting;
mod byte_mask;
mod csv_batch;
mod csv_split;
mod digest;
pub mod fields;
pub mod formats;
pub mod json;
mod magic;
mod read_csv;
mod read_json;
pub mod source;
mod spare;
mod utf16;

use crate::model::{AuthDetail, SignIn, SourceFormat};
pub use accounting::{InputReport, Problem, Reject};
use formats::{Ctx, Row, RowResult};
use rayon::prelude::*;
use read_csv::read_csv;
use read_json::read_json;
use source::{Input, Origin};
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::Mutex;

/// Everything read from the inputs: the records as the collector `C`
/// gathered them (by default, one vector with every record read).
#[derive(Debug, Default)]
pub struct Ingested<C = Vec<SignIn>> {
    /// In no particular order; `source_file` and `source_record` say where
    /// each came from.
    pub records: C,
    pub auth_details: Vec<AuthDetail>,
    /// Index `i` describes `SignIn::source_file == i`.
    pub inputs: Vec<InputReport>,
}

/// Where each input's records go as soon as the input is read, so that
/// only the inputs in flight are held beside what was gathered before.
/// Their order is not part of the contract: normalize sorts.
pub trait Collect: Send {
    /// One input's records, made ready to add.
    type Batch: Send;
    /// Runs on the thread that read the input, on the pool, before any
    /// lock is taken; the work every record needs goes here.
    fn prepare(records: Vec<SignIn>) -> Self::Batch;
    /// Runs under the collector's lock, one input at a time. It must not
    /// use the pool: a thread waiting for pool work may take up another
    /// input, which would then wait for this lock.
    fn add(&mut self, batch: Self::Batch);
}

/// Every record read, duplicates and all.
impl Collect for Vec<SignIn> {
    type Batch = Vec<SignIn>;
    fn prepare(records: Vec<SignIn>) -> Vec<SignIn> {
        records
    }
    fn add(&mut self, mut records: Vec<SignIn>) {
        if self.len() < records.len() {
            // Grow the larger vector, never copy it.
            std::mem::swap(self, &mut records);
        }
        self.extend(records);
    }
}

/// Reads every input under `paths`. Never fails as a whole: problems are
/// recorded per input.
pub fn ingest(paths: &[PathBuf]) -> Ingested {
    ingest_into(paths, |_| Vec::new())
}

/// [`ingest`] into the collector `new` makes from the inputs' names
/// (index `i` names `SignIn::source_file == i`).
pub fn ingest_into<C: Collect>(
    paths: &[PathBuf],
    new: impl FnOnce(Vec<String>) -> C,
) -> Ingested<C> {
    let (inputs, unlisted) = source::discover(paths);
    let collector = new(inputs.iter().map(|i| i.display.clone()).collect());
    let ingested = read_inputs(&inputs, unlisted, collector);
    source::remove_spooled();
    ingested
}

/// Reads inputs found by [`source::discover`]; one that has gone or changed
/// since is accounted for like any other unreadable input.
pub fn read_inputs<C: Collect>(
    inputs: &[Input],
    unlisted: Vec<source::Unlisted>,
    collector: C,
) -> Ingested<C> {
    // Inside the pool even for a lone input, which `par_iter` would read on
    // the calling thread: the thread that frames an input must count
    // against `--threads`, since the pool maps its batches meanwhile.
    // Each input's records join the collector as soon as the input is
    // read, so only the inputs in flight are held beside it: gathering
    // them all first held every record twice at the merge (930 MB peak for
    // a million Azure Monitor sign-ins in 621 files, against 400 MB of
    // records), and every copy of an overlapping export. Handing records
    // on in runs while an input is read would bound memory further, but
    // cost 7-12% of a one-file run in copies and a stalled pipeline.
    let merged: Mutex<C> = Mutex::new(collector);
    let results: Vec<(Vec<AuthDetail>, InputReport)> = rayon::scope(|_| {
        inputs
            .par_iter()
            .with_max_len(1)
            .enumerate()
            .map(|(i, input)| {
                let (recs, details, report) = read_input(input, i as u32);
                let batch = C::prepare(recs);
                merged.lock().unwrap_or_else(|p| p.into_inner()).add(batch);
                (details, report)
            })
            .collect()
    });
    spare::release();
    let mut out = Ingested {
        records: merged.into_inner().unwrap_or_else(|p| p.into_inner()),
        auth_details: Vec::new(),
        inputs: Vec::new(),
    };
    for (details, report) in results {
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
    if let Some(what) = magic::container(head) {
        return Sniffed::Unknown(what.into());
    }
    let mut h = head;
    if h.starts_with(&[0xEF, 0xBB, 0xBF]) {
        h = &h[3..];
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
    let mut report = InputReport::new(input.display.clone(), input.notes.clone());
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
    if matches!(input.origin, Origin::Stdin { .. })
        && report.format.is_none()
        && report.error.is_none()
        && report.records_read == 0
    {
        report.notes.push("standard input was empty".into());
    }
    report.finish(records.len() as u64, details.len() as u64);
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
    let mut report = InputReport::new(name.to_string(), Vec::new());
    let ctx = Ctx {
        file_name: name.to_string(),
    };
    let mut records = Vec::new();
    let mut details = Vec::new();
    let result = source::read_bytes(bytes, |r| {
        read_stream(r, &ctx, only, 0, &mut report, &mut records, &mut details)
    });
    close_input(result, &mut report);
    report.finish(records.len() as u64, details.len() as u64);
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
    if let Some(endian) = utf16::bom(&head) {
        // Decoded to UTF-8 and read again from the top: the digest still
        // sees the original bytes, since it sits below this reader.
        report.notes.push(format!(
            "{} text (byte-order mark) decoded to UTF-8; byte offsets count the decoded text",
            endian.name()
        ));
        let mut decoded = utf16::Utf16Reader::new(io::Cursor::new(head).chain(rest), endian);
        let read = read_stream(&mut decoded, ctx, only, index, report, records, details);
        return match head_error {
            Some(e) => Err(e),
            None => read,
        };
    }
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
pub(crate) struct Sink<'a> {
    index: u32,
    /// Restricts reading to one format (each fuzz target aims at one
    /// reader); `None` in real runs.
    only: Option<SourceFormat>,
    report: &'a mut InputReport,
    records: &'a mut Vec<SignIn>,
    details: &'a mut Vec<AuthDetail>,
}

/// Applies a row's outcome to the accounting.
pub(crate) fn settle(
    outcome: RowResult,
    location: impl FnOnce() -> String,
    record_no: u64,
    sink: &mut Sink,
) {
    match outcome {
        Ok(Row::SignIn(mut s)) => {
            s.source_file = sink.index;
            s.source_record = record_no;
            sink.report.records_read += 1;
            sink.records.push(s);
        }
        Ok(Row::Flawed(mut s, flaw)) => {
            s.source_file = sink.index;
            s.source_record = record_no;
            sink.report.records_read += 1;
            sink.report.flaw(&flaw, location);
            sink.records.push(s);
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

/// Runs one input's batches through a pipeline: while the pool maps batch
/// N with `map`, the calling thread settles batch N-1 with `settle` (in
/// input order) and then cuts batch N+1 with `frame`.
///
/// The reader stays on the calling thread (it borrows a `dyn Read`, which
/// need not be `Send`), and so does settling, which owns the input's
/// accounting; only the mapping moves. Settling moves every record into
/// the input's list, so overlapping it with the mapping keeps it off the
/// critical path. Three batches are alive at a time and are reused, with
/// two results vectors, for the whole input. `frame` empties the batch it
/// is given before filling it, and returns false once the input has no
/// more.
pub(crate) fn pipeline<B, O>(
    mut frame: impl FnMut(&mut B) -> bool,
    map: impl Fn(&B, &mut Vec<O>) + Sync,
    mut settle: impl FnMut(&B, &mut Vec<O>),
) where
    B: Default + Sync,
    O: Send,
{
    let (mut done, mut cur, mut next) = (B::default(), B::default(), B::default());
    let (mut done_out, mut cur_out) = (Vec::new(), Vec::new());
    let mut more = frame(&mut cur);
    let mut mapped = false;
    loop {
        let framing = more;
        rayon::in_place_scope(|s| {
            s.spawn(|_| map(&cur, &mut cur_out));
            if mapped {
                settle(&done, &mut done_out);
            }
            if framing {
                more = frame(&mut next);
            }
        });
        std::mem::swap(&mut done, &mut cur);
        std::mem::swap(&mut done_out, &mut cur_out);
        mapped = true;
        if !framing {
            settle(&done, &mut done_out);
            return;
        }
        std::mem::swap(&mut cur, &mut next);
    }
}

#[cfg(test)]
mod tests {
    use super::read_json::JSON_BATCH_BYTES;
    use super::*;
    use crate::generate::{build_dataset, write_dataset, GenerateOptions, OutputKind};

    /// The largest file the generator writes for `kind` (its
    /// non-interactive sign-ins): name and bytes.
    fn generated_export(kind: OutputKind) -> (String, Vec<u8>) {
        let dir = tempfile::tempdir().unwrap();
        let opts = GenerateOptions {
            records: 10_000,
            formats: vec![kind],
            ..GenerateOptions::default()
        };
        let files = write_dataset(&build_dataset(&opts), &opts, dir.path()).unwrap();
        let path = files
            .iter()
            .max_by_key(|p| std::fs::metadata(p).unwrap().len())
            .unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        (name, std::fs::read(path).unwrap())
    }

    /// Reads `bytes` on a pool of each size (which sets the batch size) and
    /// from outside any pool; all must agree.
    /// Reads `bytes` every way and checks that records keep their input
    /// numbers and problems their locations, in input order.
    fn read_in_order(
        name: &str,
        bytes: &[u8],
        want_records: &[u64],
        want_problems: &[String],
    ) -> InputReport {
        let (records, report) = read_every_way(name, bytes);
        let got: Vec<u64> = records.iter().map(|r| r.source_record).collect();
        assert!(got == want_records, "records out of order or renumbered");
        let got_problems: Vec<&str> = report
            .problems
            .iter()
            .map(|p| p.location.as_str())
            .collect();
        assert_eq!(got_problems, want_problems);
        report
    }

    fn read_every_way(name: &str, bytes: &[u8]) -> (Vec<SignIn>, InputReport) {
        let (records, _, report) = read_memory(name, bytes, None);
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let (r, _, rep) = pool.install(|| read_memory(name, bytes, None));
            assert!(r == records, "{threads} thread(s): other records");
            assert_eq!(rep.problems, report.problems, "{threads} thread(s)");
            assert_eq!(
                (rep.records_read, rep.rejected, rep.skipped, &rep.notes),
                (
                    report.records_read,
                    report.rejected,
                    report.skipped,
                    &report.notes
                ),
                "{threads} thread(s)"
            );
        }
        (records, report)
    }

    fn lines_in(b: &[u8]) -> u64 {
        memchr::memchr_iter(b'\n', b).count() as u64
    }

    #[test]
    fn csv_rows_keep_numbers_lines_and_order_across_batches() {
        let (name, text) = generated_export(OutputKind::PortalCsv);
        // Row boundaries as the csv crate finds them.
        let mut starts = Vec::new();
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(&text[..]);
        let mut rec = csv::ByteRecord::new();
        while rdr.read_byte_record(&mut rec).unwrap() {
            starts.push(rec.position().unwrap().byte() as usize);
        }
        starts.push(text.len());
        let header = &text[..starts[1]];
        let rows: Vec<&[u8]> = starts[1..].windows(2).map(|w| &text[w[0]..w[1]]).collect();
        assert!(rows.len() * 2 > 11_000, "{} rows", rows.len());
        // Rejects, a blank line and the header again, on and around the
        // boundaries of 4096-row batches (one thread) and 8192-row ones.
        let narrow: &[u8] = b"x,y\n";
        let injected = |no: u64| -> Option<&[u8]> {
            match no {
                1 | 4095 | 4096 | 4097 | 8192 | 8193 | 11_000 => Some(narrow),
                4098 => Some(b"  \n"),
                8194 => Some(header),
                _ => None,
            }
        };
        let mut input = header.to_vec();
        let mut data = rows.iter().chain(&rows);
        let (mut want_rows, mut want_problems) = (Vec::new(), Vec::new());
        let mut no = 0;
        loop {
            no += 1;
            let piece = match injected(no) {
                Some(p) => p,
                None => match data.next() {
                    Some(r) => {
                        want_rows.push(no);
                        r
                    }
                    None => break,
                },
            };
            if piece == narrow {
                want_problems.push(format!("row {no} (line {})", lines_in(&input) + 1));
            }
            input.extend_from_slice(piece);
        }
        let report = read_in_order(&name, &input, &want_rows, &want_problems);
        assert_eq!(
            (report.records_read, report.rejected, report.skipped),
            (no - 1, 7, 2),
            "{report:?}"
        );
    }

    #[test]
    fn a_cut_stream_keeps_the_rows_before_and_rejects_stay_in_row_order() {
        use std::io::Write;
        let (name, text) = generated_export(OutputKind::PortalCsv);
        let header_end = memchr::memchr(b'\n', &text).unwrap() + 1;
        let mut csv = text[..header_end].to_vec();
        csv.extend_from_slice(b"x,y\n");
        csv.extend_from_slice(&text[header_end..]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&csv).unwrap();
        let gz = gz.finish().unwrap();
        let (records, _, report) = read_memory(&format!("{name}.gz"), &gz[..gz.len() / 2], None);
        // The reject from before the break comes first, then the row the
        // break cut, numbered after every row read.
        assert_eq!(report.problems.len(), 2, "{report:?}");
        assert_eq!(report.problems[0].location, "row 1 (line 2)");
        let cut = &report.problems[1];
        assert!(cut.reason.starts_with("unreadable CSV row"), "{cut:?}");
        let last = report.records_read;
        assert!(
            cut.location.starts_with(&format!("row {last} (line ")),
            "{cut:?}"
        );
        assert_eq!(records.len() as u64, last - 2);
        assert!(last > 100, "{last} rows read before the break");
        let error = report.error.as_deref().unwrap();
        assert!(error.starts_with("read stopped at line"), "{error}");
    }

    #[test]
    fn json_records_keep_numbers_lines_and_order_across_batches() {
        let (name, text) = generated_export(OutputKind::GraphJsonl);
        let lines: Vec<&[u8]> = text.split_inclusive(|&b| b == b'\n').collect();
        assert!(text.len() > 3 * JSON_BATCH_BYTES, "{} bytes", text.len());
        // Lines the framer rejects and lines the mapper does, interleaved
        // with the records across 4 MiB batches (the first line stays a
        // record, for the sniffer).
        let mut input = Vec::new();
        let mut data = lines.iter();
        let (mut want_records, mut want_problems) = (Vec::new(), Vec::new());
        let mut no = 0u64;
        loop {
            no += 1;
            let piece: &[u8] = match no {
                2 | 999 | 2000 | 2001 | 4500 => b"42\n",
                1000 | 2002 | 3000 => b"{\"foo\":1}\n",
                _ => match data.next() {
                    Some(l) => {
                        want_records.push(no);
                        l
                    }
                    None => break,
                },
            };
            if want_records.last() != Some(&no) {
                want_problems.push(format!("record {no} (line {no})"));
            }
            input.extend_from_slice(piece);
        }
        let report = read_in_order(&name, &input, &want_records, &want_problems);
        assert_eq!(report.rejected, 8, "{report:?}");
    }

    #[test]
    fn pipeline_frames_ahead_and_settles_in_order() {
        for threads in [1, 2, 4] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let log = pool.install(|| {
                let log = std::cell::RefCell::new(Vec::new());
                let mut n = 0u64;
                pipeline(
                    |b: &mut Vec<u64>| {
                        b.clear();
                        n += 1;
                        log.borrow_mut().push(format!("frame {n}"));
                        b.extend(n * 10..n * 10 + 3);
                        n < 4
                    },
                    |b, out| b.par_iter().map(|x| x * 2).collect_into_vec(out),
                    |b, out| {
                        log.borrow_mut()
                            .push(format!("settle {} {:?}", b[0] / 10, out));
                        out.clear();
                    },
                );
                log.into_inner()
            });
            assert_eq!(
                log,
                [
                    "frame 1",
                    "frame 2",
                    "settle 1 [20, 22, 24]",
                    "frame 3",
                    "settle 2 [40, 42, 44]",
                    "frame 4",
                    "settle 3 [60, 62, 64]",
                    "settle 4 [80, 82, 84]"
                ],
                "{threads} thread(s)"
            );
        }
    }

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
