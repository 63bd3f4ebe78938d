//! Small subcommands: explain, generate, detections, completions, manpage.

use super::Outcome;
use crate::analyze::detect::sql::sql_all;
use crate::analyze::detect::DetectionConfig;
use crate::cli::{Cli, CompletionsArgs, DetectionsArgs, ExplainArgs, GenerateArgs, Shell};
use crate::generate::{build_dataset, write_dataset, GenerateOptions, OutputKind};
use crate::report::write::write_atomic;
use anyhow::Context;
use clap::CommandFactory;
use std::io::Write;
use std::path::Path;

pub fn explain(args: &ExplainArgs) -> anyhow::Result<Outcome> {
    let mut out = std::io::stdout().lock();
    for (i, c) in args.codes.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        write!(out, "{}", crate::report::explain::explain(c))?;
    }
    Ok(Outcome::Clean)
}

pub fn generate(args: &GenerateArgs, quiet: bool) -> anyhow::Result<Outcome> {
    let formats = if args.formats.is_empty() {
        OutputKind::ALL.to_vec()
    } else {
        args.formats
            .iter()
            .map(|f| {
                OutputKind::parse(f.trim()).with_context(|| {
                    let names: Vec<&str> = OutputKind::ALL.iter().map(|k| k.as_str()).collect();
                    format!("unknown format {f:?}; choose from {}", names.join(", "))
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?
    };
    let mut opts = GenerateOptions {
        records: args.records,
        seed: args.seed,
        formats,
        attacks: !args.no_attacks,
        days: args.days,
        ..GenerateOptions::default()
    };
    if let Some(start) = &args.start {
        opts.start_us = crate::model::time::parse_time(start).with_context(|| {
            format!("cannot read --start {start:?} as a date such as 2026-03-09")
        })?;
    }
    let ds = build_dataset(&opts);
    let mut files = write_dataset(&ds, &opts, &args.out)?;
    if args.mmdb {
        files.extend(crate::generate::write_geo_databases(
            &ds,
            &opts,
            &args.out.join("geoip"),
        )?);
    }
    if !quiet {
        eprintln!(
            "wrote {} file(s) with {} sign-in(s) and {} planted scenario(s) to {}",
            files.len(),
            ds.events.len(),
            ds.scenarios.len(),
            args.out.display()
        );
    }
    Ok(Outcome::Clean)
}

pub fn detections(args: &DetectionsArgs) -> anyhow::Result<Outcome> {
    let cfg = super::analyze::detection_config(&args.detection)?;
    if args.sql {
        return detections_sql(&cfg, args.out.as_deref());
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "preset: {}", cfg.preset)?;
    for d in crate::analyze::detect::describe_all(&cfg) {
        writeln!(
            out,
            "\n{} ({}){}",
            d.kind,
            d.title,
            if d.enabled { "" } else { " [disabled]" }
        )?;
        for (k, v) in &d.thresholds {
            writeln!(out, "  {k} = {v}")?;
        }
    }
    Ok(Outcome::Clean)
}

/// `detections --sql`: every enabled detection's query, on standard output
/// or as `<kind>.sql` files.
fn detections_sql(cfg: &DetectionConfig, dir: Option<&Path>) -> anyhow::Result<Outcome> {
    let queries = sql_all(cfg)?;
    let Some(dir) = dir else {
        let mut out = std::io::stdout().lock();
        for (i, q) in queries.iter().enumerate() {
            if i > 0 {
                writeln!(out)?;
            }
            out.write_all(q.text.as_bytes())?;
        }
        return Ok(Outcome::Clean);
    };
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tables = crate::analyze::tables_sql::tables_sql(cfg)?;
    std::fs::create_dir_all(dir.join("tables"))
        .with_context(|| format!("creating {}", dir.join("tables").display()))?;
    let files = queries
        .iter()
        .map(|q| (format!("{}.sql", q.kind), &q.text))
        .chain(
            tables
                .iter()
                .map(|t| (format!("tables/{}.sql", t.name), &t.text)),
        );
    for (name, text) in files {
        let path = dir.join(name);
        write_atomic(&path, |w| w.write_all(text.as_bytes()))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(Outcome::Clean)
}

pub fn completions(args: &CompletionsArgs) -> anyhow::Result<Outcome> {
    use clap_complete::{generate, shells};
    let mut cmd = Cli::command();
    let mut out = std::io::stdout().lock();
    match args.shell {
        Shell::Bash => generate(shells::Bash, &mut cmd, "entrasift", &mut out),
        Shell::Zsh => generate(shells::Zsh, &mut cmd, "entrasift", &mut out),
        Shell::Fish => generate(shells::Fish, &mut cmd, "entrasift", &mut out),
        Shell::Powershell => generate(shells::PowerShell, &mut cmd, "entrasift", &mut out),
        Shell::Elvish => generate(shells::Elvish, &mut cmd, "entrasift", &mut out),
    }
    Ok(Outcome::Clean)
}

pub fn manpage() -> anyhow::Result<Outcome> {
    let man = clap_mangen::Man::new(Cli::command());
    man.render(&mut std::io::stdout().lock())?;
    Ok(Outcome::Clean)
}
