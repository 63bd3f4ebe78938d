//! One module per subcommand. This is the only layer where ingest,
//! normalize, analyze and report meet.

pub mod about;
pub mod analyze;
pub mod convert;
pub mod ingest;
pub mod misc;
mod progress;
pub mod render;
pub mod selftest;
pub mod sigma;
pub mod timeline;
pub mod verify;

use crate::ingest::InputReport;
use crate::model::SignIn;
use crate::normalize;
use std::path::PathBuf;

pub use crate::trace::set_verbose;
pub(crate) use crate::trace::{detail, Stage};

/// How a run ended, mapped to the documented exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Clean,
    /// analyze: a finding at or above --fail-on.
    FindingsAtThreshold,
    /// self-test: a check failed; verify: something differs from the
    /// manifest. Exit 1, like findings: "look at this".
    CheckFailed,
    Partial,
    /// Nothing was asked for (help was printed instead).
    Usage,
}

impl Outcome {
    pub fn code(self) -> u8 {
        match self {
            Outcome::Clean => 0,
            Outcome::FindingsAtThreshold | Outcome::CheckFailed => 1,
            Outcome::Partial => 3,
            Outcome::Usage => EXIT_FATAL,
        }
    }
}

/// Exit code for usage and fatal errors.
pub const EXIT_FATAL: u8 = 2;

/// Inputs read, de-duplicated and accounted for.
pub struct Loaded {
    pub records: Vec<SignIn>,
    pub inputs: Vec<InputReport>,
    pub paths: Vec<String>,
}

impl Loaded {
    pub fn partial(&self) -> bool {
        self.inputs.iter().any(InputReport::is_partial)
    }
    pub fn duplicates(&self) -> u64 {
        self.inputs.iter().map(|i| i.duplicates).sum()
    }
    pub fn rejected(&self) -> u64 {
        self.inputs.iter().map(|i| i.rejected).sum()
    }
    pub fn skipped(&self) -> u64 {
        self.inputs.iter().map(|i| i.skipped).sum()
    }

    /// One terminal-safe warning line per input that was not fully read:
    /// how many of its records were rejected (when any) and why it
    /// stopped or was not read (when it did).
    pub fn warnings(&self) -> impl Iterator<Item = String> + '_ {
        use crate::report::escape::safe;
        self.inputs.iter().filter(|r| r.is_partial()).map(|r| {
            let rejected = (r.rejected > 0).then(|| format!("{} rejected", r.rejected));
            let why = r.error.as_deref().map(safe);
            let what: Vec<String> = rejected.into_iter().chain(why).collect();
            format!("warning: {}: {}", safe(&r.path), what.join("; "))
        })
    }
}

/// Reads, de-duplicates and accounts for the inputs; shows progress on a
/// terminal unless `quiet`.
pub fn load(inputs: &[PathBuf], quiet: bool) -> Loaded {
    let bar = progress::Progress::start(quiet);
    // Duplicates are dropped as each input is read, so overlapping
    // exports cost memory once.
    let stage = Stage::start("read, parse and de-duplicate");
    let ing = crate::ingest::ingest_into(inputs, normalize::Unique::new);
    drop(stage);
    drop(bar);
    let paths: Vec<String> = ing.inputs.iter().map(|i| i.path.clone()).collect();
    let stage = Stage::start("normalize");
    let n = normalize::normalize_unique(ing.records, &ing.auth_details);
    drop(stage);
    let mut reports = ing.inputs;
    for (r, d) in reports.iter_mut().zip(&n.duplicates_by_input) {
        r.duplicates = *d;
    }
    for r in &reports {
        detail(|| {
            use crate::report::escape::safe;
            format!(
                "{}: {}{}, {} bytes, {} parsed, {} duplicate, {} rejected, {} skipped",
                safe(&r.path),
                r.format.map_or("unrecognised", |f| f.as_str()),
                if r.compressed { " (compressed)" } else { "" },
                r.bytes,
                r.parsed,
                r.duplicates,
                r.rejected,
                r.skipped
            )
        });
    }
    Loaded {
        records: n.records,
        inputs: reports,
        paths,
    }
}

/// Opens the `--geoip`/`--asn` databases (before reading any input, so a
/// wrong file fails fast), loads the inputs, and enriches the records in
/// place. Range labels apply even without a database; the city gazetteer
/// unless `gazetteer` is false or `--no-gazetteer` was given.
pub fn load_enriched(
    inputs: &[PathBuf],
    opts: &crate::cli::EnrichOptions,
    gazetteer: bool,
    quiet: bool,
) -> anyhow::Result<(Loaded, crate::enrich::EnrichReport)> {
    let enricher = crate::enrich::Enricher::open(opts.geoip.as_deref(), opts.asn.as_deref())?
        .with_gazetteer(gazetteer && !opts.no_gazetteer);
    let mut loaded = load(inputs, quiet);
    let stage = Stage::start("enrich addresses");
    let report = enricher.apply(&mut loaded.records);
    drop(stage);
    if !quiet && !report.databases.is_empty() {
        let f = &report.filled;
        eprintln!(
            "enrichment: filled country in {} record(s), state {}, city {}, coordinates {}, ASN {}; \
             {} kept as logged where the database disagreed",
            f.country, f.state, f.city, f.coordinates, f.asn, report.location_conflicts
        );
    }
    let g = &report.gazetteer;
    if !quiet && (g.placed > 0 || g.unresolved > 0) {
        eprintln!(
            "enrichment: {} record(s) without coordinates placed at their city (GeoNames gazetteer); \
             {} left unplaced (place unknown or ambiguous)",
            g.placed, g.unresolved
        );
    }
    if let Some(e) = &report.first_lookup_error {
        eprintln!(
            "warning: {} address lookup(s) failed; first: {}",
            report.lookup_errors,
            crate::report::escape::safe(e)
        );
    }
    Ok((loaded, report))
}

/// Refuses an output path that is an input or lies inside an input
/// folder, so a run can never overwrite or re-read its own evidence.
/// The manifest of a run started at `started`, with what every command
/// records about itself (tool, version, commit, command line, working
/// directory); the command fills in its settings and inputs.
pub fn manifest_head<'a>(started: String) -> crate::report::manifest::Manifest<'a> {
    crate::report::manifest::Manifest {
        tool: "entrasift",
        version: env!("CARGO_PKG_VERSION"),
        git_commit: about::commit(),
        command_line: std::env::args().collect(),
        working_directory: std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_default(),
        settings_files: Vec::new(),
        preset: "",
        settings: String::new(),
        fail_on: String::new(),
        inputs: &[],
        enrichment_databases: &[],
        outputs: Vec::new(),
        started,
        finished: String::new(),
        seconds: 0.0,
    }
}

pub fn check_out_path(out: &std::path::Path, inputs: &[PathBuf]) -> anyhow::Result<()> {
    let abs = |p: &std::path::Path| -> PathBuf {
        let base = if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_default().join(p)
        };
        // Canonicalize the longest existing ancestor; the rest may not exist yet.
        let mut existing = base.clone();
        let mut tail = Vec::new();
        while !existing.exists() {
            match existing.file_name() {
                Some(n) => tail.push(n.to_os_string()),
                None => break,
            }
            if !existing.pop() {
                break;
            }
        }
        let mut c = std::fs::canonicalize(&existing).unwrap_or(existing);
        for t in tail.iter().rev() {
            c.push(t);
        }
        c
    };
    let out_abs = abs(out);
    for i in inputs {
        if i.as_os_str() == "-" {
            continue;
        }
        let in_abs = abs(i);
        if out_abs == in_abs || out_abs.starts_with(&in_abs) {
            anyhow::bail!(
                "output {} is inside or equal to input {}: choose an --out outside the evidence",
                out.display(),
                i.display()
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_warning_counts_rejections_only_when_there_are_some() {
        let input = |rejected, error: Option<&str>| InputReport {
            path: "exports/a.csv".into(),
            rejected,
            error: error.map(str::to_string),
            ..InputReport::default()
        };
        let loaded = Loaded {
            inputs: vec![
                input(0, Some("no such file or folder")),
                input(3, None),
                input(2, Some("cut short")),
                input(0, None),
            ],
            records: Vec::new(),
            paths: Vec::new(),
        };
        let lines: Vec<String> = loaded.warnings().collect();
        assert_eq!(
            lines,
            [
                "warning: exports/a.csv: no such file or folder",
                "warning: exports/a.csv: 3 rejected",
                "warning: exports/a.csv: 2 rejected; cut short",
            ]
        );
    }
}
