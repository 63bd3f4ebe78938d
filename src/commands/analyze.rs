//! `entrasift analyze`: ingest, normalize, summarize, detect, and write the
//! report folder.

use super::{check_out_path, load, Outcome};
use crate::analyze::aggregate;
use crate::analyze::detect::{self, DetectionConfig, Events, IpList};
use crate::analyze::summary::summarize;
use crate::cli::{AnalyzeArgs, DetectionOptions, FailOn};
use crate::model::Severity;
use crate::normalize::to_dataframe;
use crate::report::{json, table, write::write_atomic};
use anyhow::Context;
use std::io::Write;

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

pub fn run(args: &AnalyzeArgs, quiet: bool) -> anyhow::Result<Outcome> {
    check_out_path(&args.out, &args.input.inputs)?;
    let cfg = detection_config(&args.detection)?;
    let loaded = load(&args.input.inputs);
    let df = to_dataframe(&loaded.records, &loaded.paths).context("building the table")?;
    let summary = summarize(
        &loaded.records,
        &df,
        loaded.duplicates(),
        loaded.rejected(),
        loaded.skipped(),
    )?;
    let findings = detect::run_all(
        &Events {
            records: &loaded.records,
            files: &loaded.paths,
        },
        &cfg,
    );
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let tables = aggregate::tables(&df, &loaded.records).context("building the failure tables")?;
    let table_dir = args.out.join("tables");
    std::fs::create_dir_all(&table_dir)
        .with_context(|| format!("creating {}", table_dir.display()))?;
    let by_code = table_dir.join("by_code.csv");
    write_atomic(&by_code, |w| table::write_rows(w, &summary.by_error_code))
        .with_context(|| format!("writing {}", by_code.display()))?;
    for (name, rows) in tables.named() {
        let path = table_dir.join(format!("{name}.csv"));
        write_atomic(&path, |w| table::write_rows(w, rows))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let doc = json::document(&summary, &loaded.inputs, &findings);
    let path = args.out.join("findings.json");
    write_atomic(&path, |w| {
        serde_json::to_writer_pretty(&mut *w, &doc)?;
        w.write_all(b"\n")
    })
    .with_context(|| format!("writing {}", path.display()))?;
    if args.json {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer(
            &mut out,
            &serde_json::json!({"summary": &summary, "findings": &findings}),
        )?;
        writeln!(out)?;
    }
    if !quiet {
        let mut err = std::io::stderr().lock();
        writeln!(
            err,
            "{} sign-in(s): {} success, {} failure, {} interrupted; {} duplicate(s), {} rejected, {} skipped",
            summary.records, summary.successes, summary.failures, summary.interrupts, summary.duplicates, summary.rejected, summary.skipped
        )?;
        for sev in Severity::ALL {
            let n = findings.iter().filter(|f| f.severity == sev).count();
            if n > 0 {
                writeln!(err, "  {:<8} {n}", sev.as_str())?;
            }
        }
        for f in findings.iter().take(10) {
            writeln!(
                err,
                "  [{}] {}",
                f.severity.as_str(),
                crate::report::text::safe(&f.title)
            )?;
        }
        for w in loaded.warnings() {
            writeln!(err, "{w}")?;
        }
        writeln!(err, "report written to {}", args.out.display())?;
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
