//! `entrasift analyze`: ingest, normalize, summarize, detect, and write the
//! report folder.

use super::{check_out_path, detail, load_enriched, Outcome, Stage};
use crate::analyze::aggregate;
use crate::analyze::detect::{self, DetectionConfig, Events, IpList};
use crate::analyze::summary::summarize;
use crate::cli::{AnalyzeArgs, DetectionOptions, FailOn, ReportPart};
use crate::model::Severity;
use crate::normalize::to_dataframe_of;
use crate::report::data::ReportData;
use crate::report::{
    baseline, charts, history, html, json, manifest, markdown, table, write::write_atomic, xlsx,
};
use anyhow::Context;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

/// Builds the detection settings from preset, config file and IP list.
pub fn detection_config(opts: &DetectionOptions) -> anyhow::Result<DetectionConfig> {
    let mut cfg = DetectionConfig::preset(&opts.preset)?;
    if let Some(path) = &opts.config {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config {}", path.display()))?;
        cfg = DetectionConfig::from_toml_str(&text, &cfg)
            .with_context(|| format!("in config {}", path.display()))?;
    }
    if let Some(path) = &opts.ip_list {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading IP list {}", path.display()))?;
        cfg.ip_list = IpList::parse(&text, &path.display().to_string())?;
    }
    detect::load_data_files(&mut cfg)?;
    Ok(cfg)
}

fn threshold(f: FailOn) -> Option<Severity> {
    Some(match f {
        FailOn::Info => Severity::Info,
        FailOn::Low => Severity::Low,
        FailOn::Medium => Severity::Medium,
        FailOn::High => Severity::High,
        FailOn::Critical => Severity::Critical,
        FailOn::Never => return None,
    })
}

/// Writes `dir/rel` atomically and remembers it for the manifest. The
/// report parts render side by side, so it is shared between threads.
struct Writer<'a> {
    dir: &'a Path,
    written: Mutex<Vec<String>>,
}

impl Writer<'_> {
    fn file(
        &self,
        rel: &str,
        f: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
    ) -> anyhow::Result<()> {
        let path = self.dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        let t = std::time::Instant::now();
        write_atomic(&path, f).with_context(|| format!("writing {}", path.display()))?;
        detail(|| format!("wrote {rel} in {:.3} s", t.elapsed().as_secs_f64()));
        self.written
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(rel.to_string());
        Ok(())
    }

    /// What was written, in name order whatever order the parts finished in.
    fn written(&self) -> Vec<String> {
        let mut w = self
            .written
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        w.sort();
        w
    }
}

/// One report part, named: renders and writes its files.
type Part<'s> = (
    &'static str,
    Box<dyn FnOnce() -> anyhow::Result<()> + Send + 's>,
);

/// Runs the parts on the pool; the first failure in list order is the one
/// reported, so a failing run reads the same every time.
fn write_parts(parts: Vec<Part<'_>>) -> anyhow::Result<()> {
    use rayon::prelude::*;
    let results: Vec<anyhow::Result<()>> = parts
        .into_par_iter()
        .map(|(name, p)| {
            let _stage = Stage::start(name);
            p()
        })
        .collect();
    results.into_iter().collect()
}

fn utc_now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

pub fn run(args: &AnalyzeArgs, quiet: bool, color: bool) -> anyhow::Result<Outcome> {
    let started = (utc_now(), std::time::Instant::now());
    check_out_path(&args.out, &args.input.inputs)?;
    let cfg = detection_config(&args.detection)?;
    let zone = args
        .display_tz
        .as_deref()
        .map(crate::report::zone::DisplayZone::parse)
        .transpose()?;
    let parts: BTreeSet<ReportPart> = if args.format.is_empty() {
        [
            ReportPart::Json,
            ReportPart::Csv,
            ReportPart::Md,
            ReportPart::Manifest,
            ReportPart::Html,
            ReportPart::Charts,
        ]
        .into()
    } else {
        args.format
            .iter()
            .copied()
            .chain([ReportPart::Json])
            .collect()
    };
    let (loaded, enrichment) = load_enriched(&args.input.inputs, &args.enrich, quiet)?;
    let stage = Stage::start("build the table");
    let df = to_dataframe_of(
        &loaded.records,
        &loaded.paths,
        crate::analyze::FRAME_COLUMNS,
    )
    .context("building the table")?;
    drop(stage);
    // Independent passes over the records, run side by side (detection
    // also spreads its detections over the pool).
    let stage = Stage::start("summarize, aggregate and detect");
    let (summary, (tables, findings)) = rayon::join(
        || {
            summarize(
                &loaded.records,
                &df,
                loaded.duplicates(),
                loaded.rejected(),
                loaded.skipped(),
            )
        },
        || {
            rayon::join(
                || aggregate::tables(&loaded.records),
                || detect::run_all(&Events::new(&loaded.records, &loaded.paths), &cfg),
            )
        },
    );
    let summary = summary?;
    let mut findings = findings;
    let story = crate::analyze::story(&mut findings, &loaded.records, &cfg);
    drop(stage);
    let comparison = match &args.baseline {
        Some(p) => Some(baseline::compare(p, &summary, &findings)?),
        None => None,
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let out = Writer {
        dir: &args.out,
        written: Mutex::new(Vec::new()),
    };
    let run_record = history::RunRecord::of(&summary, &findings, &loaded.records);
    let past = match &args.history {
        Some(dir) => Some(history::load(dir, &args.out, run_record.clone())?),
        None => None,
    };
    if let Some(h) = &past {
        for (label, why) in &h.unreadable {
            eprintln!(
                "warning: history {}: cannot read {}: {}",
                crate::report::text::safe(label),
                history::FILE,
                crate::report::text::safe(why)
            );
        }
    }
    let data = ReportData {
        summary: &summary,
        tables: &tables,
        findings: &findings,
        inputs: &loaded.inputs,
        records: &loaded.records,
        tool: format!("entrasift {}", env!("CARGO_PKG_VERSION")),
        zone,
        history: past.as_ref(),
        enrichment: Some(&enrichment),
    };
    let stage = Stage::start("render and write the reports");
    // Each part reads the finished analysis and writes its own files, so
    // they render side by side; the manifest, which hashes them all, waits.
    let (out, data) = (&out, &data);
    let mut jobs: Vec<Part> = vec![(
        "report part: findings.json",
        Box::new(|| {
            let doc = json::document(
                &summary,
                &loaded.inputs,
                &findings,
                &story,
                comparison.as_ref(),
            );
            out.file("findings.json", |w| {
                serde_json::to_writer_pretty(&mut *w, &doc)?;
                w.write_all(b"\n")
            })?;
            out.file(history::FILE, |w| {
                serde_json::to_writer_pretty(&mut *w, &run_record)?;
                w.write_all(b"\n")
            })
        }),
    )];
    if parts.contains(&ReportPart::Csv) {
        jobs.push((
            "report part: CSV tables",
            Box::new(|| {
                out.file("findings.csv", |w| table::write_findings(w, &findings))?;
                out.file("tables/by_code.csv", |w| {
                    table::write_rows(w, &summary.by_error_code)
                })?;
                for (name, rows) in tables.named() {
                    out.file(&format!("tables/{name}.csv"), |w| {
                        table::write_rows(w, rows)
                    })?;
                }
                out.file("tables/ip_enrichment.csv", |w| {
                    table::write_rows(w, &enrichment.ips)
                })
            }),
        ));
    }
    if parts.contains(&ReportPart::Html) || parts.contains(&ReportPart::Charts) {
        let (svg, page) = (
            parts.contains(&ReportPart::Charts),
            parts.contains(&ReportPart::Html),
        );
        jobs.push((
            "report part: charts and HTML",
            Box::new(move || {
                let chart_list = {
                    let _stage = Stage::start("report part: charts");
                    charts::all_charts(data)
                };
                if svg {
                    for c in &chart_list {
                        out.file(&format!("charts/{}.svg", c.name), |w| {
                            w.write_all(c.svg.as_bytes())
                        })?;
                    }
                }
                if page {
                    let page = html::render(data, &chart_list);
                    out.file("report.html", |w| w.write_all(page.as_bytes()))?;
                }
                Ok(())
            }),
        ));
    }
    if parts.contains(&ReportPart::Xlsx) {
        jobs.push((
            "report part: workbook",
            Box::new(|| {
                let book = xlsx::render(data)?;
                out.file("report.xlsx", |w| w.write_all(&book))
            }),
        ));
    }
    if parts.contains(&ReportPart::Md) {
        jobs.push((
            "report part: Markdown",
            Box::new(|| {
                let md = markdown::render(data, comparison.as_ref());
                out.file("summary.md", |w| w.write_all(md.as_bytes()))
            }),
        ));
    }
    write_parts(jobs)?;
    drop(stage);
    let written = out.written();
    if parts.contains(&ReportPart::Manifest) {
        let outputs = written
            .iter()
            .map(|rel| manifest::describe(&args.out, rel))
            .collect::<std::io::Result<Vec<_>>>()
            .context("hashing outputs")?;
        let settings_files = [
            args.detection.config.as_ref(),
            args.detection.ip_list.as_ref(),
            args.baseline
                .as_deref()
                .map(baseline::findings_file)
                .as_ref(),
        ]
        .into_iter()
        .flatten()
        .map(|p| manifest::hash_file(p).with_context(|| format!("hashing {}", p.display())))
        .collect::<anyhow::Result<Vec<_>>>()?;
        let m = manifest::Manifest {
            tool: "entrasift",
            version: env!("CARGO_PKG_VERSION"),
            git_commit: super::about::commit(),
            command_line: std::env::args().collect(),
            working_directory: std::env::current_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_default(),
            settings_files,
            preset: &cfg.preset,
            settings: cfg.to_toml_string()?,
            fail_on: format!("{:?}", args.fail_on).to_lowercase(),
            inputs: &loaded.inputs,
            enrichment_databases: &enrichment.databases,
            outputs,
            started: started.0,
            finished: utc_now(),
            seconds: started.1.elapsed().as_secs_f64(),
        };
        out.file("manifest.json", |w| {
            serde_json::to_writer_pretty(&mut *w, &m)?;
            w.write_all(b"\n")
        })?;
    }
    if args.json {
        let mut stdout = std::io::stdout().lock();
        serde_json::to_writer(
            &mut stdout,
            &serde_json::json!({"summary": &summary, "findings": &findings}),
        )?;
        writeln!(stdout)?;
    }
    if !quiet {
        print_summary(
            &summary,
            &findings,
            &story,
            &loaded,
            comparison.as_ref(),
            &args.out,
            color,
        )?;
    }
    if let Some(t) = threshold(args.fail_on) {
        if findings.iter().any(|f| f.severity >= t) {
            return Ok(Outcome::FindingsAtThreshold);
        }
    }
    Ok(if loaded.partial() {
        Outcome::Partial
    } else {
        Outcome::Clean
    })
}

fn print_summary(
    summary: &crate::analyze::summary::Summary,
    findings: &[crate::model::Finding],
    story: &crate::analyze::Story,
    loaded: &super::Loaded,
    comparison: Option<&baseline::Comparison>,
    out: &Path,
    color: bool,
) -> std::io::Result<()> {
    use crate::analyze::coverage::Status;
    use crate::analyze::verdict::{self, Verdict};
    use crate::report::text::safe;
    /// Accounts and incidents shown on the terminal; the rest are in the
    /// report, and the last line says so.
    const SHOWN: usize = 10;
    let mut err = std::io::stderr().lock();
    writeln!(
        err,
        "{} sign-in(s): {} success, {} failure, {} interrupted; {} duplicate(s), {} rejected, {} skipped",
        summary.records, summary.successes, summary.failures, summary.interrupts, summary.duplicates, summary.rejected, summary.skipped
    )?;
    let to_act: Vec<&verdict::Account> = story
        .accounts
        .iter()
        .filter(|a| a.verdict != Verdict::Targeted)
        .collect();
    if !story.accounts.is_empty() {
        let counts: Vec<String> = verdict::counts(&story.accounts)
            .iter()
            .map(|(v, n)| format!("{n} {}", v.as_str()))
            .collect();
        writeln!(err, "accounts: {}", counts.join(", "))?;
    }
    for a in to_act.iter().take(SHOWN) {
        writeln!(
            err,
            "  {} {} [{}]: {}",
            crate::report::text::severity_label(a.verdict.severity(), color),
            safe(&a.user),
            a.verdict.as_str(),
            safe(&a.action)
        )?;
    }
    if to_act.len() > SHOWN {
        writeln!(
            err,
            "  ... and {} more accounts to act on",
            to_act.len() - SHOWN
        )?;
    }
    if !story.incidents.is_empty() {
        writeln!(
            err,
            "{} finding(s) in {} incident(s):",
            findings.len(),
            story.incidents.len()
        )?;
    }
    for i in story.incidents.iter().take(SHOWN) {
        let more = i.findings.len().saturating_sub(1);
        writeln!(
            err,
            "  {} {}{}",
            crate::report::text::severity_label(i.severity, color),
            safe(&i.title),
            if more > 0 {
                format!(" (+{more} related)")
            } else {
                String::new()
            }
        )?;
    }
    for c in &story.coverage {
        if matches!(c.status, Status::NotRun | Status::Partial) {
            let what = if c.status == Status::NotRun {
                "could not run"
            } else {
                "ran in part"
            };
            writeln!(err, "note: {} {what}: {}", c.kind, c.note)?;
        }
    }
    if let Some(c) = comparison {
        writeln!(
            err,
            "since baseline: {} new, {} ongoing, {} resolved finding(s)",
            c.new.len(),
            c.ongoing.len(),
            c.resolved.len()
        )?;
    }
    for w in loaded.warnings() {
        writeln!(err, "{w}")?;
    }
    let hidden = story.incidents.len().saturating_sub(SHOWN);
    if hidden > 0 {
        writeln!(
            err,
            "{hidden} more incident(s): open {}",
            out.join("report.html").display()
        )?;
    }
    writeln!(err, "report written to {}", out.display())
}
