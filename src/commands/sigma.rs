//! `entrasift sigma RULES... INPUTS...`: what the Sigma rules match, and
//! nothing else (no report folder, none of the built-in detections).

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Outcome, Stage};
use crate::analyze::detect::{self, Events};
use crate::analyze::sigma::is_rule_file;
use crate::cli::SigmaArgs;
use crate::report::escape::safe;

/// A rule path: a `.yml`/`.yaml` file, or a folder with one somewhere in
/// it. Exports are never YAML, so everything else is an input.
fn is_rules(p: &Path) -> bool {
    fn has_rule(dir: &Path, depth: usize) -> bool {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return false;
        };
        entries.flatten().any(|e| {
            let p = e.path();
            if p.is_dir() {
                depth < 32 && has_rule(&p, depth + 1)
            } else {
                is_rule_file(&p)
            }
        })
    }
    if p.is_dir() {
        has_rule(p, 0)
    } else {
        is_rule_file(p)
    }
}

pub fn run(args: &SigmaArgs, quiet: bool) -> anyhow::Result<Outcome> {
    let (rule_paths, inputs): (Vec<PathBuf>, Vec<PathBuf>) =
        args.paths.iter().cloned().partition(|p| is_rules(p));
    if rule_paths.is_empty() {
        anyhow::bail!(
            "no Sigma rule given: name a .yml/.yaml file or a folder holding some, then the inputs"
        );
    }
    if inputs.is_empty() {
        anyhow::bail!("no input given: name the sign-in exports after the rules");
    }
    // Rules first: a bad one stops the run before any input is read.
    let rules = super::analyze::load_sigma(&rule_paths, quiet || args.json, true)?;
    let report = rules.as_ref().map(|r| r.report()).unwrap_or_default();
    let loaded = super::load(&inputs, quiet);
    if !quiet {
        for gap in rules.iter().flat_map(|r| r.coverage_on(&loaded.records)) {
            eprintln!("warning: {}", crate::report::escape::safe(&gap.note));
        }
    }
    let mut findings = {
        let _stage = Stage::start("run Sigma rules");
        let ev = Events::new(&loaded.records, &loaded.paths);
        rules.map(|r| r.run(&ev)).unwrap_or_default()
    };
    detect::sort_in_report_order(&mut findings);
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(
            &mut out,
            &serde_json::json!({ "rules": report, "findings": findings }),
        )?;
        writeln!(out)?;
    } else {
        print_table(&mut out, &findings, loaded.records.len())?;
    }
    Ok(super::analyze::outcome(args.fail_on, &findings, &loaded))
}

fn print_table(
    out: &mut impl Write,
    findings: &[crate::model::Finding],
    records: usize,
) -> std::io::Result<()> {
    if findings.is_empty() {
        return writeln!(out, "No Sigma rule matched any of {records} sign-in(s).");
    }
    for f in findings {
        let rule_id = f
            .evidence
            .facts
            .iter()
            .find(|(k, _)| k == "rule_id")
            .and_then(|(_, v)| v.as_str())
            .unwrap_or("");
        writeln!(
            out,
            "{:<8} {} [{}]\n         {} sign-in(s), {} to {}; {} account(s), {} address(es); id {}",
            f.severity.as_str(),
            safe(&f.title),
            safe(rule_id),
            f.count,
            f.first_seen,
            f.last_seen,
            f.users.len(),
            f.ips.len(),
            f.id
        )?;
        let show = |list: &[String]| {
            let mut s = list
                .iter()
                .take(5)
                .map(|x| safe(x))
                .collect::<Vec<_>>()
                .join(", ");
            if list.len() > 5 {
                s.push_str(&format!(", and {} more", list.len() - 5));
            }
            s
        };
        if !f.users.is_empty() {
            writeln!(out, "         accounts: {}", show(&f.users))?;
        }
        if !f.ips.is_empty() {
            writeln!(out, "         addresses: {}", show(&f.ips))?;
        }
    }
    Ok(())
}
