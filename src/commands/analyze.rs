//! `entrasift analyze`: ingest and normalize, analyze (summary, tables,
//! detections, breakdown), then `report::write_all` writes the report
//! folder.

use super::{check_out_path, load_enriched, Outcome, Stage};
use crate::analyze::aggregate;
use crate::analyze::breakdown::{breakdown, Breakdown};
use crate::analyze::detect::{self, DetectionConfig, Events, IpList};
use crate::analyze::preset_check;
use crate::analyze::profiles::{self, Profiles};
use crate::analyze::sigma;
use crate::analyze::summary::{summarize, Summary};
use crate::analyze::Story;
use crate::cli::{AnalyzeArgs, DetectionOptions, FailOn, ReportPart};
use crate::model::time::format_time;
use crate::model::{Finding, Severity};
use crate::report::data::ReportData;
use crate::report::escape::safe;
use crate::report::history::{self, History, RunRecord};
use crate::report::manifest::{self, Manifest};
use crate::report::zone::DisplayZone;
use crate::report::{self, baseline};
use anyhow::Context;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

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

/// The report parts asked for; all but the workbook when none are named.
fn report_parts(asked: &[ReportPart]) -> report::Parts {
    let all = asked.is_empty();
    let has = |p: ReportPart| all || asked.contains(&p);
    report::Parts {
        csv: has(ReportPart::Csv),
        markdown: has(ReportPart::Md),
        html: has(ReportPart::Html),
        charts: has(ReportPart::Charts),
        xlsx: asked.contains(&ReportPart::Xlsx),
        manifest: has(ReportPart::Manifest),
    }
}

/// What the analysis found, computed once for every report part.
struct Analysis<'a> {
    summary: Summary,
    tables: aggregate::Tables,
    findings: Vec<Finding>,
    story: Story,
    breakdown: Breakdown<'a>,
    /// This run's account profiles (profiles.json), the next run's
    /// `--history` baseline.
    profiles: Profiles,
}

/// Independent passes over the records run side by side (detection also
/// spreads its detections over the pool); the breakdown, which reads the
/// tables and findings, follows.
fn analyze<'a>(
    loaded: &'a super::Loaded,
    cfg: &DetectionConfig,
    history: Option<&Profiles>,
    sigma: Option<sigma::Rules>,
) -> Analysis<'a> {
    let sigma_gaps = sigma
        .as_ref()
        .map(|rules| {
            let mut gaps = rules.coverage();
            gaps.extend(rules.coverage_on(&loaded.records));
            gaps
        })
        .unwrap_or_default();
    let stage = Stage::start("summarize, aggregate and detect");
    let ((summary, profiles), (tables, findings)) = rayon::join(
        || {
            let _part = Stage::start("part: summary and profiles");
            let summary = summarize(
                &loaded.records,
                loaded.duplicates(),
                loaded.rejected(),
                loaded.skipped(),
            );
            (summary, Profiles::of(&loaded.records))
        },
        || {
            rayon::join(
                || {
                    let _part = Stage::start("part: tables");
                    aggregate::tables(&loaded.records)
                },
                || {
                    let part = Stage::start("part: index the sign-ins");
                    let ev = Events::new(&loaded.records, &loaded.paths)
                        .with_history(history)
                        .index_actors();
                    drop(part);
                    let findings = detect_all(&ev, cfg, sigma);
                    let _part = Stage::start("part: the other presets");
                    let presets = preset_check::compare(&ev, cfg, &findings);
                    (findings, presets)
                },
            )
        },
    );
    let (mut findings, presets) = findings;
    let part = Stage::start("part: incidents, verdicts and coverage");
    let mut story = crate::analyze::story(&mut findings, &loaded.records, cfg);
    drop(part);
    story.coverage.extend(sigma_gaps);
    story.presets = Some(presets);
    drop(stage);
    let _stage = Stage::start("break down for the reports");
    let breakdown = breakdown(&loaded.records, &tables, &findings);
    Analysis {
        summary,
        tables,
        findings,
        story,
        breakdown,
        profiles,
    }
}

/// The detections' findings and the Sigma rules' matches, in report
/// order. The rules read the same records the detections read, beside
/// them; their findings join the list before incidents and verdicts are
/// drawn from it (and before `timeline --finding` looks an id up).
pub fn detect_all(ev: &Events, cfg: &DetectionConfig, sigma: Option<sigma::Rules>) -> Vec<Finding> {
    let (mut found, matched) = rayon::join(
        || detect::run_all(ev, cfg),
        || sigma.map(|rules| rules.run(ev)).unwrap_or_default(),
    );
    if !matched.is_empty() {
        found.extend(matched);
        detect::sort_in_report_order(&mut found);
    }
    found
}

/// `--sigma`: the rules, loaded and compiled before any input is read (a
/// bad rule stops the run here); what was loaded and skipped is said on
/// standard error, and with `warn_unmapped` the field names no export
/// provides, once per rule (`analyze` says those in its coverage notes).
pub fn load_sigma(
    paths: &[std::path::PathBuf],
    quiet: bool,
    warn_unmapped: bool,
) -> anyhow::Result<Option<sigma::Rules>> {
    if paths.is_empty() {
        return Ok(None);
    }
    let rules = sigma::Rules::load(paths)?;
    if !quiet {
        let r = rules.report();
        eprintln!(
            "sigma: {} detection and {} correlation rule(s) from {} file(s); {} for other log sources skipped",
            r.detection_rules, r.correlation_rules, r.files, r.skipped_other_source
        );
        for (rule, names) in r.unmapped_fields.iter().filter(|_| warn_unmapped) {
            eprintln!(
                "warning: sigma rule {:?} uses field(s) no sign-in export provides, never true: {}",
                safe(rule),
                safe(&names.iter().cloned().collect::<Vec<_>>().join(", "))
            );
        }
    }
    Ok(Some(rules))
}

/// `--history`: the account profiles of the earlier runs in the folder
/// (their data ended before this run's starts), with a warning for each
/// folder whose profiles cannot be read.
fn load_profiles(args: &AnalyzeArgs, loaded: &super::Loaded) -> anyhow::Result<Option<Profiles>> {
    let Some(dir) = &args.history else {
        return Ok(None);
    };
    let first = loaded.records.first().map(|r| format_time(r.time_us));
    let (p, unreadable) = profiles::load(dir, &args.out, first.as_deref())?;
    for (label, why) in &unreadable {
        eprintln!(
            "warning: history {}: cannot read {}: {}",
            Path::new(dir).join(label).display(),
            profiles::FILE,
            why
        );
    }
    Ok(Some(p))
}

/// `--history`: earlier runs from the folder, with a warning for each
/// that cannot be read.
fn load_history(args: &AnalyzeArgs, current: &RunRecord) -> anyhow::Result<Option<History>> {
    let Some(dir) = &args.history else {
        return Ok(None);
    };
    let h = history::load(dir, &args.out, current.clone())?;
    for (label, why) in &h.unreadable {
        eprintln!(
            "warning: history {}: cannot read {}: {}",
            safe(label),
            history::FILE,
            safe(why)
        );
    }
    Ok(Some(h))
}

/// The manifest as far as the command knows it; `report::write_all` adds
/// the outputs and the finish time.
fn manifest<'a>(
    args: &AnalyzeArgs,
    cfg: &'a DetectionConfig,
    loaded: &'a super::Loaded,
    enrichment: &'a crate::enrich::EnrichReport,
    sigma_files: &[std::path::PathBuf],
    started: String,
) -> anyhow::Result<Manifest<'a>> {
    // The Sigma rule files are settings too: `verify` shows an edited rule.
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
    .chain(sigma_files)
    .map(|p| manifest::hash_file(p).with_context(|| format!("hashing {}", p.display())))
    .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Manifest {
        settings_files,
        preset: &cfg.preset,
        settings: cfg.to_toml_string()?,
        fail_on: format!("{:?}", args.fail_on).to_lowercase(),
        inputs: &loaded.inputs,
        enrichment_databases: &enrichment.databases,
        ..super::manifest_head(started)
    })
}

pub fn run(args: &AnalyzeArgs, quiet: bool, color: bool) -> anyhow::Result<Outcome> {
    let started = (manifest::utc_now(), Instant::now());
    check_out_path(&args.out, &args.input.inputs)?;
    let cfg = detection_config(&args.detection)?;
    let zone = args
        .display_tz
        .as_deref()
        .map(DisplayZone::parse)
        .transpose()?;
    let sigma = load_sigma(&args.sigma, quiet, false)?;
    let sigma_files: Vec<std::path::PathBuf> = sigma
        .as_ref()
        .map(|r| r.files().to_vec())
        .unwrap_or_default();
    let (loaded, enrichment) = load_enriched(&args.input.inputs, &args.enrich, true, quiet)?;
    let profiles = load_profiles(args, &loaded)?;
    let a = analyze(&loaded, &cfg, profiles.as_ref(), sigma);
    let comparison = match &args.baseline {
        Some(p) => Some(baseline::compare(p, &a.summary, &a.findings)?),
        None => None,
    };
    let run_record = RunRecord::of(&a.summary, &a.findings, &a.breakdown);
    let past = load_history(args, &run_record)?;
    let parts = report_parts(&args.format);
    // The workbook's user-agent, network and rare-country tables.
    let agents = parts
        .xlsx
        .then(|| crate::analyze::agents::tables(&loaded.records, Some(&enrichment)));
    let folder = report::Folder {
        dir: &args.out,
        workbook: report::Workbook {
            agents: agents.as_ref(),
            sign_ins: crate::report::xlsx::SignIns {
                records: &loaded.records,
                files: &loaded.paths,
            },
        },
        parts,
        run_record: &run_record,
        profiles: Some(&a.profiles),
        manifest: manifest(args, &cfg, &loaded, &enrichment, &sigma_files, started.0)?,
        started: started.1,
    };
    let data = ReportData {
        summary: &a.summary,
        tables: &a.tables,
        findings: &a.findings,
        story: &a.story,
        inputs: &loaded.inputs,
        breakdown: a.breakdown,
        baseline: comparison.as_ref(),
        tool: format!("entrasift {}", env!("CARGO_PKG_VERSION")),
        zone,
        history: past.as_ref(),
        enrichment: Some(&enrichment),
        engine: None,
    };
    report::write_all(folder, &data)?;
    if args.json {
        let mut stdout = std::io::stdout().lock();
        serde_json::to_writer(
            &mut stdout,
            &serde_json::json!({"summary": &a.summary, "findings": &a.findings}),
        )?;
        writeln!(stdout)?;
    }
    if !quiet {
        print_summary(
            &a.summary,
            &a.findings,
            &a.story,
            &loaded,
            data.baseline,
            &args.out,
            color,
        )?;
    }
    Ok(outcome(args.fail_on, &a.findings, &loaded))
}

/// The exit code's meaning: a finding at or above `--fail-on`, else inputs
/// partly unreadable, else clean (the order README's exit-code table gives).
pub(super) fn outcome(
    fail_on: FailOn,
    findings: &[crate::model::Finding],
    loaded: &super::Loaded,
) -> Outcome {
    if let Some(t) = threshold(fail_on) {
        if findings.iter().any(|f| f.severity >= t) {
            return Outcome::FindingsAtThreshold;
        }
    }
    if loaded.partial() {
        Outcome::Partial
    } else {
        Outcome::Clean
    }
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
    use crate::analyze::verdict::{self, Verdict};
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
    for c in story.coverage.iter().filter(|c| c.status.is_gap()) {
        writeln!(
            err,
            "note: {} {}: {}",
            c.kind,
            c.status.phrase(),
            safe(&c.note)
        )?;
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
