//! CSV input cut at row boundaries into parts that are framed in parallel.
//!
//! Framing a row (quotes, doubled quotes, line breaks inside quotes) is a
//! byte-by-byte walk; done on the reading thread it caps a large export at
//! one core. Here the reading thread only finds where rows end, which needs
//! no more than the quotes (a few per row) and the line ends, both found
//! with SIMD searches; each part then goes through its own `csv_core`
//! reader on whichever thread maps it.
//!
//! Finding row ends follows `csv_core`'s own rules, so the rows are exactly
//! those a single reader over the whole stream returns: a quote opens a
//! quoted field only at the start of a field, a doubled quote inside one is
//! a quote, and anywhere else a quote is an ordinary byte. Rows end at
//! `\n` (the `\r` of `\r\n` stays in the last cell, as with [`super::
//! csv_batch::CsvReader`]); inputs with old Mac `\r` line ends take that
//! reader instead.

use super::byte_mask::mask64;
use super::csv_batch::RowIndex;
use csv_core::ReadRecordResult;
use std::io::{self, Read};

/// Rows of a part's bytes are found by a reader configured like
/// [`super::csv_batch::CsvReader`]'s for `\n` line ends.
fn core_reader(delim: u8) -> csv_core::Reader {
    csv_core::ReaderBuilder::new()
        .delimiter(delim)
        .terminator(csv_core::Terminator::Any(b'\n'))
        .build()
}

/// True when rows of input with this delimiter can be cut by this module.
pub(super) fn can_cut(delim: u8) -> bool {
    delim != b'"' && delim != b'\n' && delim != b'\r'
}

/// Where, in `buf` (which starts at a row start), the last row ending in
/// `buf` ends: just past its `\n`. `None` when no row ends in `buf`, or
/// none can be told to yet (a quote as the last byte may be half of a
/// doubled quote).
fn last_row_end(buf: &[u8], delim: u8) -> Option<usize> {
    let mut best = None;
    let mut at = 0;
    let mut quoted = false;
    loop {
        let Some(off) = memchr::memchr(b'"', &buf[at..]) else {
            if !quoted {
                if let Some(nl) = memchr::memrchr(b'\n', &buf[at..]) {
                    best = Some(at + nl + 1);
                }
            }
            return best;
        };
        let q = at + off;
        if quoted {
            match buf.get(q + 1) {
                Some(b'"') => at = q + 2,
                Some(_) => {
                    quoted = false;
                    at = q + 1;
                }
                None => return best,
            }
        } else {
            if let Some(nl) = memchr::memrchr(b'\n', &buf[at..q]) {
                best = Some(at + nl + 1);
            }
            // Outside quotes, a `\n` always ends a row and a delimiter
            // always ends a field, so either one before the quote puts it
            // at a field's start.
            quoted = q == 0 || buf[q - 1] == delim || buf[q - 1] == b'\n';
            at = q + 1;
        }
    }
}

/// A run of whole rows.
#[derive(Debug, Default)]
pub(super) struct Part {
    /// The part is `data[..len]`; the rest is spare, already initialised
    /// buffer kept for reuse.
    data: Vec<u8>,
    len: usize,
    /// The input ends with this part: a last row without a line end is
    /// still a row.
    last: bool,
}

impl Part {
    pub fn data(&self) -> &[u8] {
        &self.data[..self.len]
    }
}

/// Parts of one input, in order, then why reading stopped if it did.
#[derive(Debug, Default)]
pub(super) struct CutBatch {
    parts: Vec<Part>,
    used: usize,
    /// Reading failed after these parts; what follows is lost.
    pub broken: Option<String>,
}

impl CutBatch {
    pub fn parts(&self) -> &[Part] {
        &self.parts[..self.used]
    }
}

/// The rows of one part, numbered from 1 within it; lines count from 1 at
/// the part's first byte.
#[derive(Debug, Default)]
pub(super) struct Framed {
    pub rows: RowIndex,
    /// Line ends in the part, so the next part's lines follow on.
    pub newlines: u64,
    /// The line just past the last row's end.
    pub after_last_row: u64,
}

/// Frames a part's rows, exactly as `csv_core` would (the tests hold the
/// two side by side), in two passes: the first lists every delimiter,
/// quote and line end, 64 bytes at a time; the second walks that list, so
/// the bytes of a plain field are never looked at one by one.
pub(super) fn frame(part: &Part, delim: u8) -> Framed {
    let data = part.data();
    let mut marks = Vec::with_capacity(data.len() / 8);
    structurals(data, delim, &mut marks);
    let mut w = Walk {
        data,
        marks: &marks,
        next: 0,
        line: 1,
    };
    let mut framed = Framed {
        after_last_row: 1,
        ..Framed::default()
    };
    let rows = &mut framed.rows;
    rows.reserve_cells(marks.len() + 1);
    let n = data.len();
    let (mut i, mut no) = (0, 0);
    // Like the csv crate, a row is placed on the line after the previous
    // row's end, blank lines between them included.
    let mut row_line = 1;
    // Scratch for the pieces of a quoted cell.
    let mut pieces: Vec<(usize, usize)> = Vec::new();
    loop {
        while i < n && data[i] == b'\n' {
            w.next += 1;
            w.line += 1;
            i += 1;
        }
        if i == n {
            break;
        }
        no += 1;
        rows.start_row(no, row_line, i);
        // A field per turn, starting at `i`. Past the part's end there is
        // the input's end: the row closes as it is.
        loop {
            let end = if data.get(i).is_some_and(|&b| b != b'"') {
                // The common case: an unquoted field, one run of the input.
                let end = w.field_end();
                rows.cell(i, end.unwrap_or(n));
                end
            } else {
                quoted_field(&mut w, i, rows, &mut pieces)
            };
            match end {
                Some(p) if data[p] == delim => i = p + 1,
                Some(p) => {
                    rows.end_row(p);
                    w.line += 1;
                    i = p + 1;
                    break;
                }
                None => {
                    rows.end_row(n);
                    i = n;
                    break;
                }
            }
        }
        row_line = w.line;
        framed.after_last_row = w.line;
    }
    framed.newlines = w.line - 1;
    framed
}

/// Frames a field that starts with a quote at `i` (or is empty at the
/// input's end) and returns where it ends, as [`Walk::field_end`] does.
fn quoted_field(
    w: &mut Walk,
    i: usize,
    rows: &mut RowIndex,
    pieces: &mut Vec<(usize, usize)>,
) -> Option<usize> {
    let (data, n) = (w.data, w.data.len());
    pieces.clear();
    let mut from = i;
    if i < n {
        w.next += 1;
        let mut piece = i + 1;
        loop {
            match w.quote() {
                None => {
                    pieces.push((piece, n));
                    from = n;
                    break;
                }
                Some(q) if data.get(q + 1) == Some(&b'"') => {
                    pieces.push((piece, q + 1));
                    w.next += 1;
                    piece = q + 2;
                }
                Some(q) => {
                    pieces.push((piece, q));
                    from = q + 1;
                    break;
                }
            }
        }
    }
    // After the closing quote, bytes up to the field's end are the
    // field's, quotes included.
    let end = if from < n { w.field_end() } else { None };
    let stop = end.unwrap_or(n);
    if from < stop || pieces.is_empty() {
        pieces.push((from, stop));
    }
    match pieces[..] {
        [(a, b)] => rows.cell(a, b),
        _ => rows.joined_cell(pieces.iter().map(|&(a, b)| &data[a..b])),
    }
    end
}

/// A walk over a part's structural bytes.
struct Walk<'a> {
    data: &'a [u8],
    /// Offsets of every delimiter, quote and `\n`, ascending.
    marks: &'a [u32],
    /// The first mark not yet passed.
    next: usize,
    /// Lines passed so far, from 1.
    line: u64,
}

impl Walk<'_> {
    /// The next delimiter or line end; quotes pass as ordinary bytes.
    fn field_end(&mut self) -> Option<usize> {
        while let Some(&m) = self.marks.get(self.next) {
            self.next += 1;
            if self.data[m as usize] != b'"' {
                return Some(m as usize);
            }
        }
        None
    }

    /// The next quote, counting the line ends passed on the way (inside
    /// quotes, line ends and delimiters belong to the field).
    fn quote(&mut self) -> Option<usize> {
        while let Some(&m) = self.marks.get(self.next) {
            self.next += 1;
            match self.data[m as usize] {
                b'"' => return Some(m as usize),
                b'\n' => self.line += 1,
                _ => {}
            }
        }
        None
    }
}

/// Appends to `out` the offset of every `delim`, `"` and `\n` in `data`.
fn structurals(data: &[u8], delim: u8, out: &mut Vec<u32>) {
    for (n, block) in data.chunks(64).enumerate() {
        let mut mask = mask64(block, [delim, b'"', b'\n']);
        while mask != 0 {
            out.push((64 * n + mask.trailing_zeros() as usize) as u32);
            mask &= mask - 1;
        }
    }
}

/// Reads a stream in parts that end at row ends.
pub(super) struct RowCutter<'r> {
    r: &'r mut dyn Read,
    delim: u8,
    /// Read, not yet handed out: `pending[..filled]`, starting at a row
    /// start. The buffer past `filled` is initialised and reused, so reads
    /// go straight into it without zeroing it first.
    pending: Vec<u8>,
    filled: usize,
    at_eof: bool,
    /// A read failed after the bytes in `pending`.
    failed: Option<io::Error>,
    /// Longest a row may grow (an unclosed quote makes the rest of the
    /// input one field).
    limit: usize,
}

impl<'r> RowCutter<'r> {
    pub fn new(r: &'r mut dyn Read, delim: u8, limit: usize) -> Self {
        RowCutter {
            r,
            delim,
            pending: Vec::new(),
            filled: 0,
            at_eof: false,
            failed: None,
            limit,
        }
    }

    /// Reads until `pending` holds `want` bytes, the input ends or a read
    /// fails. A failure is kept for when the bytes before it are used up.
    fn read_to(&mut self, want: usize) {
        while !self.at_eof && self.failed.is_none() && self.filled < want {
            if self.pending.len() < want {
                self.pending.resize(want, 0);
            }
            match self.r.read(&mut self.pending[self.filled..want]) {
                Ok(0) => self.at_eof = true,
                Ok(n) => self.filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => self.failed = Some(e),
            }
        }
    }

    /// Takes the header row: its cells, lossily decoded and without a
    /// trailing `\r`, and the line the first data row starts on. `None` for
    /// an input with no rows at all.
    pub fn header(&mut self) -> io::Result<Option<(Vec<String>, u64)>> {
        let mut core = core_reader(self.delim);
        let (mut out, mut ends) = (vec![0u8; 4096], vec![0usize; 256]);
        let (mut outlen, mut endlen, mut used) = (0, 0, 0);
        loop {
            if used == self.filled {
                if let Some(e) = self.failed.take() {
                    return Err(e);
                }
                if self.filled > self.limit {
                    return Err(overlong(self.limit));
                }
                self.read_to(self.filled + (64 << 10));
            }
            let input = &self.pending[used..self.filled];
            let (res, nin, nout, nend) =
                core.read_record(input, &mut out[outlen..], &mut ends[endlen..]);
            used += nin;
            outlen += nout;
            endlen += nend;
            match res {
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => out.resize(out.len() * 2, 0),
                ReadRecordResult::OutputEndsFull => ends.resize(ends.len() * 2, 0),
                ReadRecordResult::Record => break,
                ReadRecordResult::End => return Ok(None),
            }
        }
        self.pending.copy_within(used..self.filled, 0);
        self.filled -= used;
        let mut start = 0;
        let cells = ends[..endlen]
            .iter()
            .map(|&end| {
                let c = &out[start..end];
                start = end;
                String::from_utf8_lossy(c.strip_suffix(b"\r").unwrap_or(c)).into_owned()
            })
            .collect();
        Ok(Some((cells, core.line())))
    }

    /// Empties `batch`, then fills it with up to `parts` parts of about
    /// `part_bytes` each. Returns false once the input is exhausted or a
    /// read has failed (recorded in the batch).
    pub fn fill(&mut self, batch: &mut CutBatch, parts: usize, part_bytes: usize) -> bool {
        batch.used = 0;
        batch.broken = None;
        while batch.used < parts {
            match self.next_cut(part_bytes) {
                Ok(Some((cut, last))) => self.hand_out(batch, cut, last),
                Ok(None) => return false,
                Err(e) => {
                    // The whole rows before the failure went out already;
                    // what is left is the row it broke.
                    self.filled = 0;
                    batch.broken = Some(e.to_string());
                    return false;
                }
            }
            if batch.parts[batch.used - 1].last {
                return false;
            }
        }
        true
    }

    /// Where the next part ends, and whether it is the input's last; `None`
    /// when nothing is left.
    fn next_cut(&mut self, part_bytes: usize) -> io::Result<Option<(usize, bool)>> {
        let mut want = part_bytes.max(1);
        loop {
            self.read_to(want);
            let n = self.filled;
            if self.at_eof && n <= self.limit {
                return Ok((n > 0).then_some((n, true)));
            }
            if let Some(cut) = last_row_end(&self.pending[..n], self.delim) {
                return Ok(Some((cut, false)));
            }
            if let Some(e) = self.failed.take() {
                return Err(e);
            }
            if n > self.limit {
                return Err(overlong(self.limit));
            }
            want = n * 2;
        }
    }

    /// Moves `pending[..cut]` into the batch's next part without copying
    /// it; only the bytes after the cut move.
    fn hand_out(&mut self, batch: &mut CutBatch, cut: usize, last: bool) {
        if batch.used == batch.parts.len() {
            batch.parts.push(Part::default());
        }
        let part = &mut batch.parts[batch.used];
        let left = self.filled - cut;
        let mut rest = std::mem::take(&mut part.data);
        if rest.len() < left {
            rest.resize(left, 0);
        }
        rest[..left].copy_from_slice(&self.pending[cut..self.filled]);
        part.data = std::mem::replace(&mut self.pending, rest);
        part.len = cut;
        self.filled = left;
        part.last = last;
        batch.used += 1;
    }
}

fn overlong(limit: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("a row longer than {} MiB (an unclosed quote?)", limit >> 20),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::ingest::csv_batch::tests::{reference, Rows, AWKWARD};

    /// Rows as (number, line, cells) through the whole-stream reader.
    fn whole(input: &[u8]) -> Rows {
        reference(input, true)
    }

    /// The same rows cut into parts of about `part_bytes`, renumbered as
    /// the ingest pipeline does.
    fn cut(input: &[u8], part_bytes: usize) -> Rows {
        let mut src = input;
        let mut cutter = RowCutter::new(&mut src, b',', 1 << 20);
        let Some((_, mut line)) = cutter.header().unwrap() else {
            return Vec::new();
        };
        let mut batch = CutBatch::default();
        let (mut rows, mut no) = (Vec::new(), 0);
        loop {
            let more = cutter.fill(&mut batch, 3, part_bytes);
            assert!(batch.broken.is_none());
            for part in batch.parts() {
                let f = frame(part, b',');
                for r in f.rows.rows(part.data()) {
                    rows.push((
                        no + r.no,
                        line + r.line - 1,
                        r.iter().map(<[u8]>::to_vec).collect(),
                    ));
                }
                no += f.rows.len() as u64;
                line += f.newlines;
            }
            if !more {
                return rows;
            }
        }
    }

    #[test]
    fn row_ends_follow_the_quoting_rules() {
        assert_eq!(last_row_end(b"a,b\nc,d\ne", b','), Some(8));
        assert_eq!(last_row_end(b"a,\"b\nc\",d\ne", b','), Some(10));
        // The line end inside quotes is no row end.
        assert_eq!(last_row_end(b"a,b\nc,\"d\ne", b','), Some(4));
        // A quote inside an unquoted field is an ordinary byte.
        assert_eq!(last_row_end(b"a,b\"c\nd", b','), Some(6));
        // A doubled quote keeps the field quoted.
        assert_eq!(last_row_end(b"\"a\"\"\nb\"\nc", b','), Some(8));
        // A quote closing a field at the end may yet be doubled.
        assert_eq!(last_row_end(b"x\n\"a\nb\"", b','), Some(2));
        assert_eq!(last_row_end(b"abc", b','), None);
    }

    /// The csv reader's awkward input, then quotes in every odd place:
    /// inside unquoted fields, after a closing quote, doubled at a field's
    /// start and end, and one never closed.
    fn awkward() -> Vec<u8> {
        [
            AWKWARD,
            b"\nx,ab\"c,\"d\"e\"\n,\"\"\"\"\n\"q\"\"\n\",\"\",\"\"\"\n,,\nlast",
        ]
        .concat()
    }

    #[test]
    fn parts_hold_exactly_the_rows_one_reader_sees() {
        let input = awkward();
        let want = whole(&input);
        assert_eq!(want.len(), 11, "{want:?}");
        for part_bytes in [1, 2, 3, 5, 8, 13, 40, 100, 1 << 20] {
            assert_eq!(cut(&input, part_bytes), want, "part_bytes {part_bytes}");
        }
        // Ending with a line end, or with blank lines, changes nothing.
        for tail in [&b"\n"[..], b"\n\n\n", b"\r\n"] {
            let input = [&input[..], tail].concat();
            for part_bytes in [1, 7, 1 << 20] {
                assert_eq!(cut(&input, part_bytes), whole(&input));
            }
        }
    }

    #[test]
    fn every_cut_of_random_quoting_matches_one_reader() {
        // Bytes drawn from the few that matter, so quotes land everywhere:
        // at field starts, mid-field, doubled, unclosed.
        let alphabet = b"ab,\"\n\r";
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..400 {
            // Long enough that the 64-byte scan, not only its tail, sees them.
            let len = 1 + (seed % 400) as usize;
            let mut input = b"h1,h2\n".to_vec();
            for _ in 0..len {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                input.push(alphabet[(seed % alphabet.len() as u64) as usize]);
            }
            let want = whole(&input);
            for part_bytes in [1, 2, 9, 64, 4096] {
                assert_eq!(
                    cut(&input, part_bytes),
                    want,
                    "{:?} in parts of {part_bytes}",
                    String::from_utf8_lossy(&input)
                );
            }
        }
    }

    /// Yields its bytes, then fails as a disk or a cut archive would.
    struct Breaks<'a>(&'a [u8]);

    impl Read for Breaks<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::Error::other("device gone"));
            }
            let n = buf.len().min(self.0.len()).min(7);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn a_failed_read_keeps_the_whole_rows_before_it() {
        let text = b"h\nr1\n\"r2\n\"\n\"r3";
        let mut src = Breaks(text);
        let mut cutter = RowCutter::new(&mut src, b',', 1 << 20);
        cutter.header().unwrap().unwrap();
        let mut batch = CutBatch::default();
        assert!(!cutter.fill(&mut batch, 100, 1 << 20));
        assert_eq!(batch.broken.as_deref(), Some("device gone"));
        let rows: Vec<Vec<u8>> = batch
            .parts()
            .iter()
            .flat_map(|p| {
                let f = frame(p, b',');
                f.rows
                    .rows(p.data())
                    .map(|r| r.get(0).unwrap().to_vec())
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(rows, [b"r1".to_vec(), b"r2\n".to_vec()]);
    }

    #[test]
    fn an_unclosed_quote_stops_at_the_limit() {
        let mut text = b"h\nr1\n\"never closed\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', 5000));
        let mut src = &text[..];
        let mut cutter = RowCutter::new(&mut src, b',', 1000);
        cutter.header().unwrap().unwrap();
        let mut batch = CutBatch::default();
        let mut kept = 0;
        loop {
            let more = cutter.fill(&mut batch, 2, 16);
            kept += batch
                .parts()
                .iter()
                .map(|p| frame(p, b',').rows.len())
                .sum::<usize>();
            if !more {
                break;
            }
        }
        assert_eq!(kept, 1);
        assert!(batch.broken.as_deref().unwrap().contains("unclosed quote"));
    }
}
