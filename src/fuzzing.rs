//! Byte-level entry points for the fuzz targets in `fuzz/` and for the
//! replay of their corpus in the normal test suite (so CI needs no nightly
//! toolchain). Each feeds bytes to a reader the way a real input reaches
//! it and checks what must hold whatever the bytes are: no panic, and an
//! accounting in which every record read is parsed, skipped, rejected or a
//! duplicate. Not a supported API.

use crate::ingest::json::frame::{Batch, Framer};
use crate::ingest::{self, InputReport, Sniffed};
use crate::model::SourceFormat;
use crate::normalize;
use std::io::{self, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// The fuzz targets: the sniffer, the JSON framer, one per reader, and the
/// two containers. `fuzz/fuzz_targets/<name>.rs` and the corpus folder
/// `tests/fuzz-corpus/<name>/` carry these names.
pub const TARGETS: &[&str] = &[
    "sniff",
    "json_frame",
    "json_graph",
    "json_azure_monitor",
    "json_purview",
    "csv_portal",
    "csv_log_analytics",
    "csv_purview",
    "gzip",
    "zip",
];

/// Feeds `data` to the entry point of `target` and returns how many
/// records it produced (0 for the sniffer). `Err` is a broken invariant (a
/// panic is one too); input the reader rejects is `Ok`.
pub fn run(target: &str, data: &[u8]) -> Result<u64, String> {
    use SourceFormat::*;
    let only = |name: &str, format: SourceFormat| read(name, data, Some(format)).map(|r| r.parsed);
    match target {
        "sniff" => sniff(data).map(|_| 0),
        "json_frame" => frame(data),
        "json_graph" => only("signins.json", GraphJson),
        "json_azure_monitor" => only("PT1H.json", AzureMonitor),
        "json_purview" => only("audit.json", PurviewAudit),
        // The portal names its files by sign-in type; the reader uses that.
        "csv_portal" => only("InteractiveSignIns_2026-03-01_2026-03-08.csv", PortalCsv),
        "csv_log_analytics" => only("query_data.csv", LogAnalyticsCsv),
        "csv_purview" => only("AuditLog.csv", PurviewAudit),
        "gzip" => read("signins.json.gz", data, None).map(|r| r.parsed),
        "zip" => read_archive(data).map(|rs| rs.iter().map(|r| r.parsed).sum()),
        _ => Err(format!("unknown fuzz target {target:?}")),
    }
}

/// Zip archives are listed and read from a file (members are streamed from
/// it, never extracted), so the bytes go to a private temporary file.
fn read_archive(data: &[u8]) -> Result<Vec<InputReport>, String> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "entrasift-fuzz-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join("input.zip");
    let result = std::fs::write(&path, data)
        .map_err(|e| format!("{}: {e}", path.display()))
        .and_then(|()| read_path(&path));
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// What the sniffer makes of the first bytes of an input. A leading UTF-8
/// byte-order mark must not change the verdict.
pub fn sniff(bytes: &[u8]) -> Result<String, String> {
    let verdict = describe(ingest::sniff(bytes));
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    if !bytes.starts_with(BOM) {
        let with_bom = describe(ingest::sniff(&[BOM, bytes].concat()));
        if with_bom != verdict {
            return Err(format!(
                "a BOM changes the verdict: {verdict:?} vs {with_bom:?}"
            ));
        }
    }
    Ok(verdict)
}

fn describe(s: Sniffed) -> String {
    match s {
        Sniffed::Json => "json".into(),
        Sniffed::Csv(d) => format!("csv {:?}", d as char),
        Sniffed::Empty => "empty".into(),
        Sniffed::Unknown(why) => format!("unknown: {why}"),
    }
}

/// Everything the framer cut from one stream, in order.
#[derive(Debug, PartialEq, Eq)]
struct Cut {
    /// (record index, line, bytes) of each record.
    records: Vec<(u64, u64, Vec<u8>)>,
    /// (record index, line, message) of each problem.
    problems: Vec<(u64, u64, String)>,
    error: Option<String>,
}

/// A reader that hands out its bytes a few at a time, so the framer's
/// refills land at every possible offset.
struct Trickle<'a> {
    data: &'a [u8],
    state: u32,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.state = self.state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let want = 1 + (self.state >> 16) as usize % 7;
        let n = want.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fn cut(r: impl Read, max_record: usize, batch_bytes: usize) -> Cut {
    let mut framer = Framer::with_limit(r, max_record);
    let mut out = Cut {
        records: Vec::new(),
        problems: Vec::new(),
        error: None,
    };
    loop {
        let mut b = Batch::default();
        let more = framer.fill_batch(&mut b, batch_bytes);
        for s in &b.records {
            out.records.push((s.index, s.line, b.record(s).to_vec()));
        }
        for p in std::mem::take(&mut b.problems) {
            out.problems.push((p.index, p.line, p.problem.to_string()));
        }
        match more {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                out.error = Some(e.to_string());
                break;
            }
        }
    }
    out
}

/// Frames `bytes` whole in one batch and again trickled into small batches:
/// both must cut the same records and problems, and every record index
/// from 1 up must be used exactly once. A third pass with a tiny record
/// limit exercises the oversized-record path. Returns the records cut.
pub fn frame(bytes: &[u8]) -> Result<u64, String> {
    let whole = cut(bytes, usize::MAX, usize::MAX);
    let trickled = cut(
        Trickle {
            data: bytes,
            state: bytes.len() as u32,
        },
        usize::MAX,
        64,
    );
    if whole != trickled {
        return Err(format!(
            "framing depends on read sizes:\nwhole:    {whole:?}\ntrickled: {trickled:?}"
        ));
    }
    let mut indexes: Vec<u64> = whole
        .records
        .iter()
        .map(|r| r.0)
        .chain(whole.problems.iter().map(|p| p.0))
        .collect();
    indexes.sort_unstable();
    if indexes.iter().zip(1u64..).any(|(i, want)| *i != want) {
        return Err(format!(
            "record indexes are not 1..={}: {indexes:?}",
            indexes.len()
        ));
    }
    cut(bytes, 32, 16);
    Ok(whole.records.len() as u64)
}

/// Reads `bytes` as a file named `name` (gzip recognised by its magic
/// bytes), considering only the format `only` when given, de-duplicates
/// the records, and checks the accounting.
pub fn read(name: &str, bytes: &[u8], only: Option<SourceFormat>) -> Result<InputReport, String> {
    let (records, details, mut report) = ingest::read_memory(name, bytes, only);
    let n = normalize::normalize(records, &details, std::slice::from_ref(&report.path));
    report.duplicates = n.duplicates_by_input.first().copied().unwrap_or(0);
    check(&report, n.records.len() as u64)?;
    Ok(report)
}

/// Reads a file or folder the way the binary does (discovery, zip members,
/// gzip), de-duplicates, and checks the accounting of every input.
pub fn read_path(path: &Path) -> Result<Vec<InputReport>, String> {
    let ing = ingest::ingest(&[path.to_path_buf()]);
    let paths: Vec<String> = ing.inputs.iter().map(|i| i.path.clone()).collect();
    let n = normalize::normalize(ing.records, &ing.auth_details, &paths);
    let mut reports = ing.inputs;
    for (i, r) in reports.iter_mut().enumerate() {
        r.duplicates = n.duplicates_by_input.get(i).copied().unwrap_or(0);
        let kept = n
            .records
            .iter()
            .filter(|s| s.source_file as usize == i)
            .count();
        check(r, kept as u64)?;
    }
    Ok(reports)
}

/// The accounting of one input adds up: every record read is parsed,
/// skipped or rejected, every parsed one is kept or a duplicate, the
/// reasons add up to the counts, and each rejection shown has a location.
pub fn check(r: &InputReport, kept: u64) -> Result<(), String> {
    let fail = |what: &str| Err(format!("{}: {what}: {r:?}", r.path));
    if r.records_read != r.parsed + r.rejected + r.skipped {
        return fail("records_read != parsed + rejected + skipped");
    }
    if r.parsed != kept + r.duplicates {
        return fail(&format!("parsed != kept ({kept}) + duplicates"));
    }
    if r.rejected_by_reason.values().sum::<u64>() != r.rejected {
        return fail("rejections by reason do not add up");
    }
    if r.skipped_by_reason.values().sum::<u64>() != r.skipped {
        return fail("skips by reason do not add up");
    }
    if r.auth_details > r.skipped {
        return fail("more authentication-detail rows than skipped rows");
    }
    if r.problems.len() as u64 > r.rejected || (r.rejected > 0 && r.problems.is_empty()) {
        return fail("rejections shown do not match rejections counted");
    }
    if r.problems
        .iter()
        .any(|p| p.location.is_empty() || p.reason.is_empty())
    {
        return fail("a rejection without location or reason");
    }
    Ok(())
}
