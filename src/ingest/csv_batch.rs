//! CSV rows cut into flat batches for parallel mapping.
//!
//! A [`RowIndex`] says where each row and cell of a run of rows lies in the
//! bytes they came from, so any thread can map them. The `csv` crate path
//! ([`CsvReader`], for old Mac `\r` files) decodes each row into one reused
//! record and appends its cells to the batch's own buffer; rows cut by
//! [`super::csv_split`] are indexed where they lie in the input, so a plain
//! cell is never copied. Batches are reused, so once the first ones have
//! grown their vectors reading a row allocates nothing, and a batch's
//! memory is its bytes, whatever the rows' widths.

use csv::ByteRecord;
use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

/// The CSV reader's read-ahead buffer.
const CSV_BUFFER: usize = 1 << 20;
/// A decoded row larger than this does not stay as the reused record's
/// capacity: one runaway row must not pin its size for the whole read.
const KEEP_SCRATCH: usize = 1 << 20;
/// Marks a cell that lies in [`RowIndex`]'s own bytes (a quoted cell whose
/// doubled quotes were undone) rather than in the input's.
const OWN: u32 = 1 << 31;

/// Where a row sits in its bytes.
#[derive(Debug, Clone, Copy)]
struct Span {
    no: u64,
    line: u64,
    /// The row's bytes as read, quotes and delimiters included.
    raw: (usize, usize),
    /// Index of the row's first cell in `RowIndex::cells`.
    first: usize,
    cells: usize,
}

/// The rows and cells of a run of CSV rows, as offsets into the bytes
/// they were read from.
#[derive(Debug, Default)]
pub(super) struct RowIndex {
    rows: Vec<Span>,
    /// Each cell's start and end; with [`OWN`] set on the start, in `own`.
    cells: Vec<(u32, u32)>,
    /// Cells that are not a plain run of the input's bytes.
    own: Vec<u8>,
}

impl RowIndex {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Row `i`, whose bytes are in `data`.
    pub fn row<'a>(&'a self, i: usize, data: &'a [u8]) -> CsvRow<'a> {
        let s = self.rows[i];
        CsvRow {
            no: s.no,
            line: s.line,
            data,
            own: &self.own,
            raw: s.raw,
            cells: &self.cells[s.first..s.first + s.cells],
        }
    }

    pub fn rows<'a>(&'a self, data: &'a [u8]) -> impl Iterator<Item = CsvRow<'a>> + 'a {
        (0..self.len()).map(move |i| self.row(i, data))
    }

    fn clear(&mut self) {
        self.rows.clear();
        self.cells.clear();
        self.own.clear();
    }

    /// Opens a row starting at `start`; its cells follow.
    /// Makes room for `cells` more cells (a part's cells are at most its
    /// delimiters and line ends plus one), so the list is not regrown and
    /// copied several times over while it fills.
    pub(super) fn reserve_cells(&mut self, cells: usize) {
        self.cells.reserve(cells);
    }

    pub(super) fn start_row(&mut self, no: u64, line: u64, start: usize) {
        self.rows.push(Span {
            no,
            line,
            raw: (start, start),
            first: self.cells.len(),
            cells: 0,
        });
    }

    /// Adds a cell to the open row: `data[start..end]`.
    pub(super) fn cell(&mut self, start: usize, end: usize) {
        self.push_cell(start as u32, end as u32);
    }

    /// Adds a cell made of `pieces` of the input, back to back.
    pub(super) fn joined_cell<'d>(&mut self, pieces: impl IntoIterator<Item = &'d [u8]>) {
        let start = self.own.len();
        for p in pieces {
            self.own.extend_from_slice(p);
        }
        self.push_cell(start as u32 | OWN, self.own.len() as u32);
    }

    fn push_cell(&mut self, start: u32, end: u32) {
        self.cells.push((start, end));
    }

    /// Closes the open row, whose bytes end at `end`.
    pub(super) fn end_row(&mut self, end: usize) {
        let cells = self.cells.len();
        if let Some(row) = self.rows.last_mut() {
            row.raw.1 = end;
            row.cells = cells - row.first;
        }
    }
}

/// A row the reader could not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Failure {
    pub row: u64,
    pub line: u64,
    /// What the csv reader said.
    pub error: String,
}

/// Consecutive rows of one input decoded by the `csv` crate, owned so any
/// thread can map them.
#[derive(Debug, Default)]
pub(super) struct CsvBatch {
    /// The cells of every row, back to back.
    data: Vec<u8>,
    index: RowIndex,
    /// Rows that could not be decoded, in row order.
    pub failures: Vec<Failure>,
    /// Why reading stopped before the end of the input.
    pub stopped: Option<String>,
}

impl CsvBatch {
    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn row(&self, i: usize) -> CsvRow<'_> {
        self.index.row(i, &self.data)
    }

    pub fn rows(&self) -> impl Iterator<Item = CsvRow<'_>> {
        self.index.rows(&self.data)
    }

    /// Empties the batch for reuse, giving back memory a batch of oversized
    /// rows made it take beyond `keep` bytes.
    fn clear(&mut self, keep: usize) {
        self.data.clear();
        if self.data.capacity() > 2 * keep {
            self.data.shrink_to(keep);
        }
        self.index.clear();
        self.failures.clear();
        self.stopped = None;
    }

    fn push(&mut self, no: u64, line: u64, rec: &ByteRecord) {
        let start = self.data.len();
        self.index.start_row(no, line, start);
        self.data.extend_from_slice(rec.as_slice());
        let mut end = start;
        for cell in rec {
            self.index.cell(end, end + cell.len());
            end += cell.len();
        }
        self.index.end_row(end);
    }
}

/// One row of a batch.
#[derive(Debug, Clone, Copy)]
pub(super) struct CsvRow<'a> {
    /// 1-based row number, the header not counted.
    pub no: u64,
    /// 1-based line where the row starts.
    pub line: u64,
    data: &'a [u8],
    own: &'a [u8],
    raw: (usize, usize),
    cells: &'a [(u32, u32)],
}

impl<'a> CsvRow<'a> {
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    fn cell(&self, (start, end): (u32, u32)) -> &'a [u8] {
        if start & OWN != 0 {
            &self.own[(start & !OWN) as usize..end as usize]
        } else {
            &self.data[start as usize..end as usize]
        }
    }

    pub fn get(&self, i: usize) -> Option<&'a [u8]> {
        self.cells.get(i).map(|&c| self.cell(c))
    }

    /// Puts the row's cells into `out` as text, or returns false when some
    /// cell is not UTF-8. The row's bytes are validated once rather than
    /// cell by cell (one pass over a few hundred bytes instead of forty
    /// short ones): quotes and delimiters being ASCII, when the row is
    /// UTF-8 and each cell boundary is a character boundary, every cell in
    /// it is UTF-8.
    pub fn text_cells(&self, out: &mut Vec<&'a str>) -> bool {
        out.clear();
        let (from, to) = self.raw;
        let Ok(text) = std::str::from_utf8(&self.data[from..to]) else {
            return false;
        };
        for &(start, end) in self.cells {
            let cell = if start & OWN != 0 {
                std::str::from_utf8(self.cell((start, end))).ok()
            } else {
                text.get(start as usize - from..end as usize - from)
            };
            match cell {
                Some(c) => out.push(c),
                None => return false,
            }
        }
        true
    }

    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let row = *self;
        self.cells.iter().map(move |&c| row.cell(c))
    }
}

/// Stops a CSV row from growing without end. The csv crate buffers a whole
/// row, and one unclosed quote turns the rest of a file into a single
/// field; this fails the read once the bytes since the last row boundary
/// (plus the reader's read-ahead) pass the record limit.
struct RowLimit<'r> {
    inner: &'r mut dyn Read,
    fed: u64,
    /// Byte offset where the current row starts, updated by [`CsvReader`].
    row_start: Rc<Cell<u64>>,
}

impl Read for RowLimit<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let limit = (super::json::frame::MAX_RECORD_BYTES + CSV_BUFFER) as u64;
        if self.fed.saturating_sub(self.row_start.get()) > limit {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "a row longer than {} MiB (an unclosed quote?)",
                    super::json::frame::MAX_RECORD_BYTES >> 20
                ),
            ));
        }
        let n = self.inner.read(buf)?;
        self.fed += n as u64;
        Ok(n)
    }
}

/// Reads a CSV stream row by row into [`CsvBatch`]es. Rows may be wider or
/// narrower than the header; judging them is the mapper's job.
pub(super) struct CsvReader<'r> {
    rdr: csv::Reader<RowLimit<'r>>,
    /// Shared with the [`RowLimit`] inside `rdr`; both live on the thread
    /// that reads.
    row_start: Rc<Cell<u64>>,
    scratch: ByteRecord,
    row_no: u64,
}

impl<'r> CsvReader<'r> {
    /// `lf_lines`: the input has `\n` line ends (possibly `\r\n`), as opposed
    /// to old Mac `\r` ones.
    pub fn new(r: &'r mut dyn Read, delim: u8, lf_lines: bool) -> Self {
        let row_start = Rc::new(Cell::new(0));
        // With the csv crate's default CRLF terminator, the `\n` of a `\r\n`
        // counts towards the next row, which then reports the line before
        // its own. Ending rows at `\n` alone keeps line numbers exact; the
        // `\r` left at the end of a row's last cell is whitespace the cells
        // trim.
        let terminator = if lf_lines {
            csv::Terminator::Any(b'\n')
        } else {
            csv::Terminator::CRLF
        };
        let rdr = csv::ReaderBuilder::new()
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
        CsvReader {
            rdr,
            row_start,
            scratch: ByteRecord::new(),
            row_no: 0,
        }
    }

    /// The first row's cells, lossily decoded; `None` for an input with no
    /// rows at all.
    pub fn header(&mut self) -> csv::Result<Option<Vec<String>>> {
        if !self.rdr.read_byte_record(&mut self.scratch)? {
            return Ok(None);
        }
        self.row_start.set(self.rdr.position().byte());
        Ok(Some(
            self.scratch
                .iter()
                .map(|c| String::from_utf8_lossy(c.strip_suffix(b"\r").unwrap_or(c)).into_owned())
                .collect(),
        ))
    }

    /// Empties `batch`, then reads rows into it until it holds `max_rows`
    /// rows or `max_bytes` bytes. Returns false once the input is exhausted
    /// or a read error has stopped it (recorded in the batch).
    pub fn fill(&mut self, batch: &mut CsvBatch, max_rows: usize, max_bytes: usize) -> bool {
        batch.clear(max_bytes);
        while batch.len() < max_rows && batch.data.len() < max_bytes {
            match self.rdr.read_byte_record(&mut self.scratch) {
                Ok(true) => {
                    self.row_no += 1;
                    self.row_start.set(self.rdr.position().byte());
                    let line = self.scratch.position().map_or(0, |p| p.line());
                    batch.push(self.row_no, line, &self.scratch);
                    if self.scratch.as_slice().len() > KEEP_SCRATCH {
                        self.scratch = ByteRecord::new();
                    }
                }
                Ok(false) => return false,
                Err(e) => {
                    self.row_no += 1;
                    // An I/O error has no position of its own: the row it
                    // broke starts where the last good one ended.
                    let line = e
                        .position()
                        .map_or_else(|| self.rdr.position().line(), |p| p.line());
                    batch.failures.push(Failure {
                        row: self.row_no,
                        line,
                        error: e.to_string(),
                    });
                    if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                        batch.stopped = Some(format!("read stopped at line {line}: {e}"));
                        return false;
                    }
                }
            }
        }
        true
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// (row number, line, cells) of each row after the header.
    pub(in crate::ingest) type Rows = Vec<(u64, u64, Vec<Vec<u8>>)>;

    /// What the csv crate reads from `input` with a fresh record per row,
    /// configured like [`CsvReader::new`]: the reference both CSV readers
    /// are tested against.
    pub(in crate::ingest) fn reference(input: &[u8], lf_lines: bool) -> Rows {
        let mut rdr = csv::ReaderBuilder::new()
            .terminator(if lf_lines {
                csv::Terminator::Any(b'\n')
            } else {
                csv::Terminator::CRLF
            })
            .flexible(true)
            .has_headers(false)
            .from_reader(input);
        rdr.byte_records()
            .skip(1)
            .zip(1..)
            .map(|(rec, no)| {
                let rec = rec.unwrap();
                let line = rec.position().unwrap().line();
                (no, line, rec.iter().map(<[u8]>::to_vec).collect())
            })
            .collect()
    }

    #[test]
    fn text_cells_match_cell_by_cell_validation() {
        // "é" is C3 A9; the third row splits it across two cells, so the
        // row as a whole is UTF-8 but neither of those cells is.
        let input = b"a,b,c\n\xC3\xA9t\xC3\xA9,,x\n\xFF,b,c\n\xC3,\xA9,c\nplain,\"q,\"\"\",z\n";
        let mut src = &input[..];
        let mut reader = CsvReader::new(&mut src, b',', true);
        reader.header().unwrap().unwrap();
        let mut batch = CsvBatch::default();
        reader.fill(&mut batch, 100, 1 << 20);
        let mut cells = Vec::new();
        let got: Vec<Option<Vec<String>>> = batch
            .rows()
            .map(|r| {
                r.text_cells(&mut cells)
                    .then(|| cells.iter().map(|c| c.to_string()).collect())
            })
            .collect();
        let expected: Vec<Option<Vec<String>>> = batch
            .rows()
            .map(|r| {
                r.iter()
                    .map(|c| std::str::from_utf8(c).ok().map(str::to_string))
                    .collect()
            })
            .collect();
        assert_eq!(got, expected);
        assert_eq!(got[0], Some(vec!["été".into(), "".into(), "x".into()]));
        assert_eq!(got[1], None);
        assert_eq!(got[2], None);
        assert_eq!(
            got[3],
            Some(vec!["plain".into(), "q,\"".into(), "z".into()])
        );
    }

    /// The same rows cut into batches of at most `max_rows` rows and about
    /// `max_bytes` bytes, through one reused batch.
    fn batched(input: &[u8], lf_lines: bool, max_rows: usize, max_bytes: usize) -> Rows {
        let mut src = input;
        let mut reader = CsvReader::new(&mut src, b',', lf_lines);
        reader.header().unwrap().unwrap();
        let mut batch = CsvBatch::default();
        let mut out = Rows::new();
        loop {
            let more = reader.fill(&mut batch, max_rows, max_bytes);
            assert!(batch.len() <= max_rows);
            // Only the last row may take a batch past its byte budget.
            let before_last = batch.index.rows.last().map_or(0, |s| s.raw.0);
            assert!(before_last < max_bytes.max(1));
            assert!(batch.failures.is_empty() && batch.stopped.is_none());
            out.extend(
                batch
                    .rows()
                    .map(|r| (r.no, r.line, r.iter().map(<[u8]>::to_vec).collect())),
            );
            if !more {
                return out;
            }
        }
    }

    /// Line ends of both kinds, quoted line ends, doubled quotes, blank
    /// lines, ragged rows, invalid UTF-8 and no final line end.
    pub(in crate::ingest) const AWKWARD: &[u8] = b"Date (UTC),Request ID,Username\r\n\
        2026-03-02T10:00:00Z,r1,a@contoso.com\r\n\
        2026-03-02T10:00:01Z,\"r2\nstill r2\",b@contoso.com\n\
        2026-03-02T10:00:02Z,\"r3, quoted \"\"comma\"\"\",c@contoso.com,extra,cells\n\
        \r\n\
        \n\
        \n\
        2026-03-02T10:00:03Z,r4\n\
        2026-03-02T10:00:04Z,\"r5\r\n\r\nthree lines\",\xff\xfe@contoso.com\r\n\
        ,,\n\
        2026-03-02T10:00:05Z,r6,no final line end";

    #[test]
    fn batches_cut_rows_exactly_as_the_csv_crate_reads_them() {
        let want = reference(AWKWARD, true);
        assert_eq!(want.len(), 8, "{want:?}");
        // The fields that span lines keep them, and lines count them.
        assert_eq!(want[1].2[1], b"r2\nstill r2");
        assert_eq!((want[2].1, want[2].2.len()), (5, 5));
        assert_eq!(want[4].2.len(), 2);
        assert_eq!(want[7].1, 14);
        for max_rows in [1, 2, 3, 1000] {
            for max_bytes in [1, 40, 100, 1 << 20] {
                assert_eq!(
                    batched(AWKWARD, true, max_rows, max_bytes),
                    want,
                    "max_rows {max_rows}, max_bytes {max_bytes}"
                );
            }
        }
        // Old Mac line ends.
        let mac: Vec<u8> = AWKWARD
            .iter()
            .map(|&b| if b == b'\n' { b'\r' } else { b })
            .collect();
        let want = reference(&mac, false);
        assert!(want.len() > 5);
        assert_eq!(batched(&mac, false, 2, 40), want);
    }

    #[test]
    fn a_wide_row_leaves_nothing_behind_in_a_reused_batch() {
        let text = b"a,b\n1,2,3,4,5,6\n7\n8,9\n";
        let mut src = &text[..];
        let mut reader = CsvReader::new(&mut src, b',', true);
        reader.header().unwrap();
        let mut batch = CsvBatch::default();
        let mut widths = Vec::new();
        loop {
            let more = reader.fill(&mut batch, 1, 1 << 20);
            widths.extend(
                batch
                    .rows()
                    .map(|r| (r.no, r.len(), r.get(0).map(<[u8]>::to_vec))),
            );
            if !more {
                break;
            }
        }
        assert_eq!(
            widths,
            [
                (1, 6, Some(b"1".to_vec())),
                (2, 1, Some(b"7".to_vec())),
                (3, 2, Some(b"8".to_vec()))
            ]
        );
    }

    /// Yields its bytes, then fails as a disk or a cut archive would.
    struct Breaks<'a>(&'a [u8]);

    impl Read for Breaks<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::Error::other("device gone"));
            }
            self.0.read(buf)
        }
    }

    #[test]
    fn a_read_error_stops_the_batch_naming_the_broken_row() {
        let text = b"Date (UTC),Request ID\n2026-03-02T10:00:00Z,r1\n2026-03-02T10:00:01Z,\"r2\n\"\n2026-03-02T10:00:02Z,\"r3";
        let mut src = Breaks(text);
        let mut reader = CsvReader::new(&mut src, b',', true);
        reader.header().unwrap();
        let mut batch = CsvBatch::default();
        assert!(!reader.fill(&mut batch, 100, 1 << 20));
        let rows: Vec<(u64, u64)> = batch.rows().map(|r| (r.no, r.line)).collect();
        assert_eq!(rows, [(1, 2), (2, 3)]);
        assert_eq!(batch.failures.len(), 1);
        let f = &batch.failures[0];
        assert_eq!((f.row, f.line), (3, 5), "{f:?}");
        assert!(f.error.contains("device gone"), "{f:?}");
        let stopped = batch.stopped.as_deref().unwrap();
        assert!(stopped.starts_with("read stopped at line 5"), "{stopped}");
    }
}
