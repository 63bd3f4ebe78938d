//! Streams a JSON export and cuts it into records without building a
//! document tree.
//!
//! Every JSON shape the exports use reduces to "a sequence of sign-in
//! objects" once the containers around them are peeled off: a top-level
//! array, several arrays concatenated (`][`, as PowerShell appends pages),
//! Graph pages (`{"@odata.context":…,"value":[…]}`), Event Hub messages
//! (`{"records":[…]}`), bare objects, and JSON Lines. The framer tracks
//! only that outer structure; each record's bytes are handed on whole, to
//! be parsed in parallel. A raw newline cannot occur inside a JSON string,
//! so a record broken mid-string is cut at that newline and the stream
//! resynchronises on the next line.

use crate::ingest::byte_mask::{json_bytes, JsonBytes, Lanes};
use crate::ingest::spare;
use std::io::{self, Read};

/// Largest single record kept. Real sign-ins are a few KiB (the richest
/// Graph records under 200 KiB); a bigger one is rejected, and the framer
/// scans on to its end without buffering it, so memory stays bounded.
pub const MAX_RECORD_BYTES: usize = 16 << 20;
const READ_CHUNK: usize = 1 << 20;
/// The smallest read once a batch has its bytes (see `Framer::fill`).
const LAST_READ: usize = 64 << 10;

/// Keys whose array value holds the records of an envelope object.
const RECORD_ARRAYS: &[&str] = &["value", "records"];
/// Keys that mark an object as an envelope rather than a record.
const ENVELOPE_KEYS: &[&str] = &[
    "value",
    "records",
    "@odata.context",
    "@odata.nextlink",
    "@odata.count",
    "@odata.deltalink",
];

#[derive(Debug, Clone, Copy)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    /// Where the record starts in the input, in bytes from its start.
    pub offset: u64,
    /// 1-based line where the record starts.
    pub line: u64,
    /// 1-based position among the records of the input.
    pub index: u64,
}

/// A problem the framer could attribute to one record.
#[derive(Debug, Clone)]
pub struct Problem {
    pub line: u64,
    pub index: u64,
    pub problem: FrameProblem,
}

/// Why the framer could not cut a record out of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameProblem {
    #[error("record starting at line {line} is larger than the {limit}-byte record limit")]
    TooLarge { line: u64, limit: usize },
    #[error("input ends inside an array or page: the file is truncated")]
    EndsInsideContainer,
    #[error("malformed page envelope")]
    MalformedEnvelope,
    #[error("record starting at line {line} is cut off by the end of the input (truncated file)")]
    CutOff { line: u64 },
    #[error("record starting at line {line} is broken: a string runs into a line break")]
    BrokenString { line: u64 },
    #[error("unexpected {shown} where a record should start")]
    Unexpected { shown: String },
}

impl FrameProblem {
    /// The problem without its line or byte, for counting.
    pub fn kind(&self) -> &'static str {
        match self {
            FrameProblem::TooLarge { .. } => "record larger than the record limit",
            FrameProblem::EndsInsideContainer => {
                "input ends inside an array or page: the file is truncated"
            }
            FrameProblem::MalformedEnvelope => "malformed page envelope",
            FrameProblem::CutOff { .. } => "record cut off by the end of the input",
            FrameProblem::BrokenString { .. } => "record broken: a string runs into a line break",
            FrameProblem::Unexpected { .. } => "unexpected byte where a record should start",
        }
    }
}

/// The outer structure of a JSON input, as far as the framer has seen it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Shape {
    #[default]
    Unknown,
    /// `{"@odata.context":…,"value":[…]}`
    GraphPage,
    /// `{"records":[…]}`
    EventHubMessage,
    /// `[{…},{…}]`, possibly several concatenated.
    Array,
    /// One object per line.
    Lines,
    /// Objects one after another, pretty-printed.
    Objects,
}

impl Shape {
    pub fn describe(self) -> Option<&'static str> {
        Some(match self {
            Shape::Unknown => return None,
            Shape::GraphPage => "a Microsoft Graph page: {\"@odata.context\":…, \"value\":[…]}",
            Shape::EventHubMessage => "an Event Hub message: {\"records\":[…]}",
            Shape::Array => "a JSON array of objects",
            Shape::Lines => "JSON Lines, one object per line",
            Shape::Objects => "pretty-printed JSON object(s)",
        })
    }
}

/// Records cut from the stream, owned so they can be parsed on any thread.
///
/// `data` is the buffer the framer read the records into, handed over
/// whole (records are not copied out of it), so it also holds the bytes
/// between records and may hold a few after the last one.
#[derive(Debug, Default)]
pub struct Batch {
    pub data: Vec<u8>,
    pub records: Vec<Span>,
    pub problems: Vec<Problem>,
}

impl Batch {
    pub fn record(&self, s: &Span) -> &[u8] {
        &self.data[s.start..s.end]
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        spare::give(std::mem::take(&mut self.data));
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("read error: {0}")]
    Io(#[from] io::Error),
}

enum Level {
    Array,
    Envelope,
}

enum Scan {
    Done(usize),
    Eof(usize),
    BrokenAt(usize),
}

/// String state carried from one 64-byte block to the next.
#[derive(Default)]
struct StringCarry {
    /// 1 when the block before ended on an odd run of backslashes, so the
    /// first byte of this one is escaped.
    escaped: u64,
    /// All ones when the block before ended inside a string.
    in_string: u64,
}

/// Where a block's strings are.
struct Inside {
    /// Bytes inside a string, counting the opening quote but not the
    /// closing one.
    strings: u64,
    /// Bytes right after an escaping backslash.
    escaped: u64,
}

const EVEN_BITS: u64 = 0x5555_5555_5555_5555;

impl StringCarry {
    fn inside(&mut self, bytes: &JsonBytes) -> Inside {
        let backslash = bytes.backslash & !self.escaped;
        // simdjson's branchless escape finder: a run of backslashes
        // escapes the byte after it when the run is odd, which an
        // addition carrying through the run tells apart by the parity of
        // where the run starts.
        let follows_escape = backslash << 1 | self.escaped;
        let odd_starts = backslash & !EVEN_BITS & !follows_escape;
        let (even_starts, overflow) = odd_starts.overflowing_add(backslash);
        self.escaped = overflow as u64;
        let escaped = (EVEN_BITS ^ (even_starts << 1)) & follows_escape;
        let quotes = bytes.quote & !escaped;
        let strings = prefix_xor(quotes) ^ self.in_string;
        self.in_string = ((strings as i64) >> 63) as u64;
        Inside { strings, escaped }
    }
}

/// Bit i is the XOR of bits 0..=i: 1 between an opening quote (included)
/// and its closing one (excluded).
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

pub struct Framer<R> {
    r: R,
    /// Input read so far is `buf[..filled]`; the rest of `buf` is room
    /// for the next read. The room is zeroed once, when `buf` grows, not
    /// per read (a zeroed 1 MiB per small gzip or pipe read was costly).
    buf: Vec<u8>,
    filled: usize,
    /// Bytes before this hold the records of the batch being filled, which
    /// leave with the buffer: making room never moves them.
    keep: usize,
    pos: usize,
    eof: bool,
    line: u64,
    stack: Vec<Level>,
    lines_mode: Option<bool>,
    next_index: u64,
    max_record: usize,
    /// After a broken record, closers of the containers it was in are
    /// expected and skipped quietly until the next record starts.
    recovering: bool,
    /// Input bytes before `buf[pos]`.
    offset: u64,
    shape: Shape,
    /// The batch being cut ends once `pos` passes this.
    target: usize,
    lanes: Lanes,
}

impl<R> Drop for Framer<R> {
    fn drop(&mut self) {
        spare::give(std::mem::take(&mut self.buf));
    }
}

impl<R: Read> Framer<R> {
    pub fn new(r: R) -> Self {
        Self::with_limit(r, MAX_RECORD_BYTES)
    }

    pub fn with_limit(r: R, max_record: usize) -> Self {
        Framer {
            r,
            buf: spare::take(),
            filled: 0,
            keep: 0,
            pos: 0,
            eof: false,
            line: 1,
            stack: Vec::new(),
            lines_mode: None,
            next_index: 1,
            max_record,
            recovering: false,
            offset: 0,
            shape: Shape::Unknown,
            target: 0,
            lanes: Lanes::detect(),
        }
    }

    /// What the input looks like from the outside (its first container).
    pub fn shape(&self) -> Shape {
        self.shape
    }

    fn saw(&mut self, shape: Shape) {
        if self.shape == Shape::Unknown {
            self.shape = shape;
        }
    }

    /// Reads more input, dropping what lies between the batch's records
    /// and `pos`. Returns false at end of input.
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        let dropped = self.pos - self.keep;
        if dropped > 0
            && (dropped >= (self.filled - self.keep) / 2
                || self.filled + READ_CHUNK > self.buf.len())
        {
            self.buf.copy_within(self.pos..self.filled, self.keep);
            self.filled -= dropped;
            self.pos = self.keep;
        }
        if self.filled + READ_CHUNK > self.buf.len() {
            let len = (self.filled + READ_CHUNK).max(2 * self.buf.len());
            self.buf.resize(len, 0);
        }
        // Read a chunk at a time, and only a little past the batch's
        // target once it is near: what lies beyond the batch's last record
        // is copied into the next batch's buffer (reading as much as the
        // buffer held copied about as many bytes as the batch kept).
        let room = self
            .target
            .saturating_sub(self.filled)
            .clamp(LAST_READ, READ_CHUNK);
        let end = (self.filled + room).min(self.buf.len());
        let n = loop {
            match self.r.read(&mut self.buf[self.filled..end]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        self.filled += n;
        if n == 0 {
            self.eof = true;
        }
        Ok(n > 0)
    }

    /// Gives the buffer, with the batch's records in it, to `batch`, and
    /// carries the unread rest over into the batch's old buffer.
    fn hand_over(&mut self, batch: &mut Batch) {
        let rest = self.filled - self.pos;
        let mut next = std::mem::take(&mut batch.data);
        if next.is_empty() {
            next = spare::take();
        }
        if next.len() < rest + READ_CHUNK {
            next.resize(rest + READ_CHUNK, 0);
        }
        next[..rest].copy_from_slice(&self.buf[self.pos..self.filled]);
        batch.data = std::mem::replace(&mut self.buf, next);
        self.filled = rest;
        self.pos = 0;
        self.keep = 0;
    }

    fn peek(&mut self, off: usize) -> io::Result<Option<u8>> {
        while self.pos + off >= self.filled {
            if !self.fill()? {
                return Ok(None);
            }
        }
        Ok(Some(self.buf[self.pos + off]))
    }

    fn consume(&mut self, n: usize) {
        let end = self.pos + n;
        self.line += memchr::memchr_iter(b'\n', &self.buf[self.pos..end]).count() as u64;
        self.pos = end;
        self.offset += n as u64;
    }

    fn skip_ws(&mut self) -> io::Result<()> {
        while let Some(b' ' | b'\t' | b'\r' | b'\n') = self.peek(0)? {
            self.consume(1);
        }
        Ok(())
    }

    /// Skips whitespace, commas and byte-order marks between records.
    fn skip_separators(&mut self) -> io::Result<Option<u8>> {
        loop {
            match self.peek(0)? {
                None => return Ok(None),
                Some(b' ' | b'\t' | b'\r' | b'\n' | b',') => self.consume(1),
                Some(0xEF) if self.peek(1)? == Some(0xBB) && self.peek(2)? == Some(0xBF) => {
                    self.consume(3)
                }
                Some(c) => return Ok(Some(c)),
            }
        }
    }

    /// Finds the end of the object or array starting at `pos`. The flag
    /// says the container outgrew the record limit: its bytes so far were
    /// dropped (consumed) and the offset counts from where they end.
    ///
    /// Works 64 bytes at a time on bit masks, the way simdjson finds its
    /// structure: which bytes are escaped, then which lie inside strings
    /// (a running XOR of the unescaped quotes), then the brackets outside
    /// them. A block whose closing brackets cannot bring the depth to zero
    /// is settled with two popcounts; only the block where the container
    /// ends is walked bracket by bracket. Blocks are always whole 64 bytes
    /// except at the end of the input, so the carries out of bit 63 are
    /// exact.
    fn scan_container(&mut self) -> Result<(Scan, bool), FrameError> {
        let mut depth = 0u32;
        let mut strings = StringCarry::default();
        let mut off = 0usize;
        let mut oversized = false;
        loop {
            let avail = self.filled - (self.pos + off);
            if avail < 64 && !self.eof {
                if off > self.max_record {
                    self.consume(off);
                    off = 0;
                    oversized = true;
                }
                self.fill()?;
                continue;
            }
            if avail == 0 {
                return Ok((Scan::Eof(off), oversized));
            }
            let chunk = &self.buf[self.pos + off..self.filled];
            let mut k = 0;
            while k < chunk.len() && (chunk.len() - k >= 64 || self.eof) {
                let n = (chunk.len() - k).min(64);
                let block = &chunk[k..k + n];
                let bytes = json_bytes(block, self.lanes);
                let inside = strings.inside(&bytes);
                // An escaped line break is invalid JSON, left to the
                // parser; a raw one inside a string means the record was cut.
                let broken = bytes.newline & inside.strings & !inside.escaped;
                let open = bytes.open & !inside.strings;
                let close = bytes.close & !inside.strings;
                let closes = close.count_ones();
                // The bit of the bracket that closes the container, if it
                // is in this block.
                let mut closing = None;
                if closes < depth {
                    depth = depth + open.count_ones() - closes;
                } else {
                    let mut brackets = open | close;
                    while brackets != 0 {
                        let b = brackets.trailing_zeros();
                        brackets &= brackets - 1;
                        if open >> b & 1 == 1 {
                            depth += 1;
                            continue;
                        }
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            closing = Some(b);
                            break;
                        }
                    }
                }
                let before = closing.map_or(u64::MAX, |b| (1u64 << b) - 1);
                if broken & before != 0 {
                    let at = off + k + (broken & before).trailing_zeros() as usize;
                    return Ok((Scan::BrokenAt(at), oversized));
                }
                if let Some(b) = closing {
                    let end = off + k + b as usize + 1;
                    let too_big = oversized || end > self.max_record;
                    return Ok((Scan::Done(end), too_big));
                }
                k += n;
            }
            off += k;
        }
    }

    /// Length of the rest of the current line (without the newline),
    /// reading as needed. A line longer than the record limit is consumed
    /// as it is scanned, and the flag is set.
    fn line_len(&mut self) -> Result<(usize, bool), FrameError> {
        let mut off = 0;
        let mut oversized = false;
        loop {
            if let Some(j) = memchr::memchr(b'\n', &self.buf[self.pos + off..self.filled]) {
                let n = off + j;
                return Ok((n, oversized || n > self.max_record));
            }
            off = self.filled - self.pos;
            if off > self.max_record {
                self.consume(off);
                off = 0;
                oversized = true;
            }
            if !self.fill()? {
                return Ok((self.filled - self.pos, oversized));
            }
        }
    }

    fn too_large(&mut self, batch: &mut Batch, line: u64) {
        let limit = self.max_record;
        self.problem(batch, FrameProblem::TooLarge { line, limit });
    }

    /// Reads the key of an object member at `pos` (which is `"`), returning
    /// its lowercased text and consuming through the `:`.
    fn read_key(&mut self) -> Result<Option<String>, FrameError> {
        let mut off = 1;
        let mut esc = false;
        loop {
            let Some(c) = self.peek(off)? else {
                return Ok(None);
            };
            if esc {
                esc = false;
            } else if c == b'\\' {
                esc = true;
            } else if c == b'"' {
                break;
            } else if c == b'\n' || off > 4096 {
                return Ok(None);
            }
            off += 1;
        }
        let key =
            String::from_utf8_lossy(&self.buf[self.pos + 1..self.pos + off]).to_ascii_lowercase();
        self.consume(off + 1);
        loop {
            match self.peek(0)? {
                Some(b' ' | b'\t' | b'\r' | b'\n') => self.consume(1),
                Some(b':') => {
                    self.consume(1);
                    return Ok(Some(key));
                }
                _ => return Ok(None),
            }
        }
    }

    /// Looks at the first key of the object at `pos` without consuming.
    fn first_key_is_envelope(&mut self) -> io::Result<bool> {
        let mut off = 1;
        loop {
            match self.peek(off)? {
                Some(b' ' | b'\t' | b'\r' | b'\n') => off += 1,
                Some(b'"') => break,
                _ => return Ok(false),
            }
        }
        let start = off + 1;
        let mut end = start;
        loop {
            match self.peek(end)? {
                Some(b'"') => break,
                Some(_) if end - start < 32 => end += 1,
                _ => return Ok(false),
            }
        }
        let key = &self.buf[self.pos + start..self.pos + end];
        Ok(ENVELOPE_KEYS
            .iter()
            .any(|k| key.eq_ignore_ascii_case(k.as_bytes())))
    }

    /// Skips one JSON value inside an envelope (an `@odata.nextLink` string,
    /// a count, a nested object we do not need).
    fn skip_value(&mut self) -> Result<(), FrameError> {
        self.skip_ws()?;
        match self.peek(0)? {
            None => Ok(()),
            Some(b'{' | b'[') => {
                match self.scan_container()?.0 {
                    Scan::Done(n) | Scan::Eof(n) | Scan::BrokenAt(n) => self.consume(n),
                }
                Ok(())
            }
            Some(b'"') => {
                let mut off = 1;
                let mut esc = false;
                while let Some(c) = self.peek(off)? {
                    off += 1;
                    if esc {
                        esc = false;
                    } else if c == b'\\' {
                        esc = true;
                    } else if c == b'"' || c == b'\n' {
                        break;
                    }
                }
                self.consume(off);
                Ok(())
            }
            Some(_) => {
                let mut off = 0;
                while let Some(c) = self.peek(off)? {
                    if matches!(c, b',' | b'}' | b']' | b'\n') {
                        break;
                    }
                    off += 1;
                }
                self.consume(off);
                Ok(())
            }
        }
    }

    fn take_index(&mut self) -> u64 {
        let i = self.next_index;
        self.next_index += 1;
        i
    }

    fn emit(&mut self, batch: &mut Batch, len: usize) {
        self.recovering = false;
        let index = self.take_index();
        batch.records.push(Span {
            start: self.pos,
            end: self.pos + len,
            offset: self.offset,
            line: self.line,
            index,
        });
        self.consume(len);
        self.keep = self.pos;
    }

    fn problem(&mut self, batch: &mut Batch, problem: FrameProblem) {
        let index = self.take_index();
        batch.problems.push(Problem {
            line: self.line,
            index,
            problem,
        });
    }

    /// Replaces `batch`'s records with the next ones, about `target_bytes`
    /// of input, and hands it the buffer they lie in. Returns false once
    /// the input is exhausted. After an error the batch still holds the
    /// records cut before it.
    pub fn fill_batch(
        &mut self,
        batch: &mut Batch,
        target_bytes: usize,
    ) -> Result<bool, FrameError> {
        batch.records.clear();
        batch.problems.clear();
        self.target = target_bytes;
        let more = self.cut_records(batch, target_bytes);
        self.hand_over(batch);
        more
    }

    fn cut_records(&mut self, batch: &mut Batch, target_bytes: usize) -> Result<bool, FrameError> {
        while self.pos < target_bytes {
            let Some(c) = self.skip_separators()? else {
                if !self.stack.is_empty() {
                    self.stack.clear();
                    self.problem(batch, FrameProblem::EndsInsideContainer);
                }
                return Ok(false);
            };
            let in_envelope = matches!(self.stack.last(), Some(Level::Envelope));
            match c {
                b'[' if !in_envelope => {
                    self.saw(Shape::Array);
                    self.stack.push(Level::Array);
                    self.consume(1);
                }
                b']' if matches!(self.stack.last(), Some(Level::Array)) => {
                    self.stack.pop();
                    self.consume(1);
                }
                b'}' if in_envelope => {
                    self.stack.pop();
                    self.consume(1);
                }
                b'"' if in_envelope => match self.read_key()? {
                    Some(key) => {
                        self.skip_ws()?;
                        if RECORD_ARRAYS.contains(&key.as_str()) && self.peek(0)? == Some(b'[') {
                            self.saw(if key == "records" {
                                Shape::EventHubMessage
                            } else {
                                Shape::GraphPage
                            });
                            self.stack.push(Level::Array);
                            self.consume(1);
                        } else {
                            self.skip_value()?;
                        }
                    }
                    None => {
                        self.problem(batch, FrameProblem::MalformedEnvelope);
                        self.stack.clear();
                        self.skip_line()?;
                    }
                },
                b'{' if !in_envelope => {
                    if self.lines_mode == Some(true) && self.stack.is_empty() {
                        self.saw(Shape::Lines);
                        let line = self.line;
                        let (len, oversized) = self.line_len()?;
                        if oversized {
                            self.too_large(batch, line);
                            self.consume(len);
                            continue;
                        }
                        let mut rec = len;
                        while rec > 0
                            && matches!(self.buf[self.pos + rec - 1], b'\r' | b' ' | b'\t')
                        {
                            rec -= 1;
                        }
                        self.emit(batch, rec);
                        continue;
                    }
                    if self.first_key_is_envelope()? {
                        self.stack.push(Level::Envelope);
                        self.consume(1);
                        continue;
                    }
                    let line = self.line;
                    match self.scan_container()? {
                        (Scan::Done(n), true) => {
                            self.too_large(batch, line);
                            self.consume(n);
                        }
                        (Scan::Done(n), false) => {
                            if self.lines_mode.is_none() && self.stack.is_empty() {
                                let single_line =
                                    memchr::memchr(b'\n', &self.buf[self.pos..self.pos + n])
                                        .is_none();
                                self.lines_mode = Some(single_line);
                                self.saw(if single_line {
                                    Shape::Lines
                                } else {
                                    Shape::Objects
                                });
                            }
                            self.emit(batch, n);
                        }
                        (Scan::Eof(n), _) => {
                            self.problem(batch, FrameProblem::CutOff { line });
                            self.consume(n);
                            // Reported once: not again as an unclosed array.
                            self.stack.clear();
                        }
                        (Scan::BrokenAt(n), _) => {
                            self.problem(batch, FrameProblem::BrokenString { line });
                            self.consume(n);
                            // A record cut mid-string leaves us inside whatever
                            // container held it; restart from the next line.
                            self.stack.clear();
                            self.recovering = true;
                        }
                    }
                }
                b'}' | b']' if self.recovering => self.consume(1),
                other => {
                    let shown = if other.is_ascii_graphic() {
                        format!("'{}'", other as char)
                    } else {
                        format!("byte 0x{other:02x}")
                    };
                    self.problem(batch, FrameProblem::Unexpected { shown });
                    self.skip_line()?;
                }
            }
        }
        Ok(true)
    }

    fn skip_line(&mut self) -> Result<(), FrameError> {
        let (n, _) = self.line_len()?;
        self.consume(n);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(text: &str) -> (Vec<String>, Vec<String>) {
        // Tiny batches, so records and problems cross batch boundaries.
        let mut f = Framer::new(text.as_bytes());
        let (mut recs, mut probs) = (Vec::new(), Vec::new());
        loop {
            let mut batch = Batch::default();
            let more = f.fill_batch(&mut batch, 7).unwrap();
            recs.extend(
                batch
                    .records
                    .iter()
                    .map(|s| String::from_utf8(batch.record(s).to_vec()).unwrap()),
            );
            probs.extend(batch.problems.iter().map(|p| p.problem.to_string()));
            if !more {
                return (recs, probs);
            }
        }
    }

    #[test]
    fn every_container_shape_yields_the_records() {
        let shapes = [
            r#"[{"a":1},{"a":2}]"#,
            "\u{feff}[\n  {\n    \"a\":  1\n  }\n][\n  {\n    \"a\":  2\n  }\n]",
            r#"{"@odata.context":"x","value":[{"a":1},{"a":2}],"@odata.nextLink":"y"}"#,
            r#"{"records":[{"a":1},{"a":2}]}"#,
            "{\"a\":1}\n{\"a\":2}\n",
            "{\"a\":1}{\"a\":2}",
            "{\"value\":[{\"a\":1}]}\n{\"value\":[{\"a\":2}]}",
        ];
        for s in shapes {
            let (recs, probs) = frame(s);
            assert_eq!(recs.len(), 2, "{s}: {recs:?}");
            assert!(probs.is_empty(), "{s}: {probs:?}");
        }
    }

    /// Every record and problem of the input, one batch after another
    /// through the same `Batch` (as the reader reuses them).
    fn every_batch<R: Read>(f: &mut Framer<R>, target: usize) -> (Vec<Vec<u8>>, Vec<Problem>) {
        let mut batch = Batch::default();
        let (mut recs, mut problems) = (Vec::new(), Vec::new());
        loop {
            let more = f.fill_batch(&mut batch, target).unwrap();
            recs.extend(batch.records.iter().map(|s| batch.record(s).to_vec()));
            problems.extend(batch.problems.iter().cloned());
            if !more {
                return (recs, problems);
            }
        }
    }

    /// Hands out at most `.1` bytes per read, so records straddle every
    /// read (and so every 64-byte scan block) boundary.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.0.len()).min(self.1);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn escapes_and_brackets_inside_strings_at_every_offset() {
        // Each record holds an escaped quote, brackets, and an escaped
        // backslash right before a closing quote, shifted by one byte from
        // the record before, in an array and as JSON Lines.
        let recs: Vec<String> = (0..140)
            .map(|pad| {
                format!(
                    r#"{{"k": "{}\"}}]{{[\\", "n": [1, {{"x": "\\"}}]}}"#,
                    "p".repeat(pad)
                )
            })
            .collect();
        for text in [format!("[\n  {}\n]", recs.join(",\n  ")), recs.join("\n")] {
            for step in [1, 7, 63, 64, 65, 1 << 20] {
                let mut f = Framer::new(Trickle(text.as_bytes(), step));
                let mut batch = Batch::default();
                let mut got = Vec::new();
                loop {
                    let more = f.fill_batch(&mut batch, 1000).unwrap();
                    got.extend(batch.records.iter().map(|s| batch.record(s).to_vec()));
                    assert!(batch.problems.is_empty(), "{:?}", batch.problems);
                    if !more {
                        break;
                    }
                }
                let got: Vec<String> = got
                    .into_iter()
                    .map(|r| String::from_utf8(r).unwrap())
                    .collect();
                assert_eq!(got, recs, "reads of {step} bytes");
            }
        }
    }

    /// A random valid JSON value: strings full of escapes, backslash runs
    /// and brackets, whitespace with line breaks between tokens.
    fn random_value(seed: &mut u64, depth: u32, out: &mut String) {
        fn roll(seed: &mut u64, n: u64) -> u64 {
            *seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (*seed >> 33) % n
        }
        let mut next = |n: u64| roll(seed, n);
        let ws = |n: u64| ["", " ", "\n    ", "\t", "\r\n"][n as usize];
        match if depth > 3 { 2 } else { next(4) } {
            0 | 1 => {
                let (open, close) = if next(2) == 0 { ('{', '}') } else { ('[', ']') };
                out.push(open);
                let members = next(4);
                for m in 0..members {
                    if m > 0 {
                        out.push(',');
                    }
                    out.push_str(ws(next(5)));
                    if open == '{' {
                        out.push_str("\"k\":");
                        out.push_str(ws(next(5)));
                    }
                    let mut inner = next(u64::MAX) ^ m;
                    random_value(&mut inner, depth + 1, out);
                }
                out.push_str(ws(next(5)));
                out.push(close);
            }
            _ => {
                out.push('"');
                for _ in 0..next(90) {
                    let piece = [
                        "a", "\\\"", "\\\\", "\\n", "{", "}", "[", "]", " ", "\\u005c",
                    ];
                    out.push_str(piece[next(piece.len() as u64) as usize]);
                }
                out.push('"');
            }
        }
    }

    #[test]
    fn random_records_frame_whole_across_every_block_boundary() {
        for round in 0..300u64 {
            let mut seed = round;
            let recs: Vec<String> = (0..6)
                .map(|_| {
                    let mut obj = String::from("{\"id\": ");
                    random_value(&mut seed, 1, &mut obj);
                    obj.push('}');
                    obj
                })
                .collect();
            let text = format!("[\n{}\n]", recs.join(" ,\n"));
            for step in [1, 13, 64, 1 << 20] {
                let mut f = Framer::new(Trickle(text.as_bytes(), step));
                let (got, problems) = every_batch(&mut f, 1 << 20);
                assert!(problems.is_empty(), "{problems:?}");
                let want: Vec<&[u8]> = recs.iter().map(|r| r.as_bytes()).collect();
                assert_eq!(got, want, "round {round}, reads of {step}");
            }
            for r in &recs {
                serde_json::from_str::<serde_json::Value>(r).expect("generator writes JSON");
            }
        }
    }

    #[test]
    fn broken_lines_are_isolated() {
        // JSON Lines: a cut line stays one (unparseable) record and a
        // garbage line is a problem; the lines after both are still read.
        let (recs, probs) = frame("{\"a\":1}\n{\"a\":\"tru\n{\"a\":3}\nxx\n{\"a\":4}");
        assert_eq!(recs.len(), 4, "{recs:?}");
        assert_eq!(recs[1], "{\"a\":\"tru");
        assert_eq!(probs.len(), 1, "{probs:?}");
        // Pretty arrays: a record cut mid-string is a problem, the next
        // array is still read.
        let (recs, probs) = frame("[\n{\n\"a\": \"tr\n}\n]\n[\n{\"a\": 2}\n]");
        assert_eq!(recs, vec!["{\"a\": 2}"]);
        assert_eq!(probs.len(), 1, "{probs:?}");
    }

    #[test]
    fn truncated_array_is_reported() {
        let (recs, probs) = frame("[{\"a\":1},\n{\"a\":2,\"b\":[1,");
        assert_eq!(recs.len(), 1);
        assert!(probs.iter().any(|p| p.contains("truncated")), "{probs:?}");
    }

    #[test]
    fn oversized_records_are_skipped_without_being_kept() {
        // Bigger than a read chunk, so the record outgrows the buffer
        // while it is scanned.
        let big = "x".repeat(3 * READ_CHUNK);
        let limit = READ_CHUNK;
        let shapes = [
            format!("[{{\"a\":1}},\n{{\"a\":\"{big}\"}},\n{{\"a\":3}}]"),
            format!("{{\"a\":1}}\n{{\"a\":\"{big}\"}}\n{{\"a\":3}}\n"),
        ];
        for text in shapes {
            let mut f = Framer::with_limit(text.as_bytes(), limit);
            let (recs, problems) = every_batch(&mut f, 1 << 20);
            assert_eq!(recs, [&b"{\"a\":1}"[..], b"{\"a\":3}"], "{text:.40}");
            assert_eq!(problems.len(), 1);
            assert_eq!(problems[0].index, 2);
            assert!(
                problems[0]
                    .problem
                    .to_string()
                    .contains("line 2 is larger than"),
                "{problems:?}"
            );
            assert!(f.buf.capacity() < 4 * READ_CHUNK);
        }
    }
}
