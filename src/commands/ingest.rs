//! `entrasift ingest`: per-input format and accounting, plus totals.

use super::{load, Loaded, Outcome};
use crate::cli::IngestArgs;
use std::io::Write;

pub fn run(args: &IngestArgs, quiet: bool) -> anyhow::Result<Outcome> {
    let loaded = load(&args.input.inputs, quiet);
    let mut out = std::io::stdout().lock();
    if args.json {
        let doc = serde_json::json!({
            "records": loaded.records.len(),
            "duplicates": loaded.duplicates(),
            "rejected": loaded.rejected(),
            "skipped": loaded.skipped(),
            "inputs": loaded.inputs,
        });
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
    } else {
        print_table(&mut out, &loaded)?;
    }
    Ok(if loaded.partial() {
        Outcome::Partial
    } else {
        Outcome::Clean
    })
}

fn print_table(out: &mut impl Write, l: &Loaded) -> std::io::Result<()> {
    for r in &l.inputs {
        let format = r.format.map(|f| f.as_str()).unwrap_or("unrecognised");
        writeln!(out, "{}", crate::report::escape::safe(&r.path))?;
        writeln!(
            out,
            "  format {format}{}  bytes {}  sha256 {}",
            if r.compressed { " (gzip)" } else { "" },
            r.bytes,
            if r.sha256.is_empty() { "-" } else { &r.sha256 }
        )?;
        writeln!(
            out,
            "  read {}  parsed {}  duplicates {}  rejected {}  skipped {}{}",
            r.records_read,
            r.parsed,
            r.duplicates,
            r.rejected,
            r.skipped,
            if r.auth_details > 0 {
                format!("  (auth-detail rows joined: {})", r.auth_details)
            } else {
                String::new()
            }
        )?;
        if let Some(e) = &r.error {
            writeln!(out, "  ERROR: {}", crate::report::escape::safe(e))?;
        }
        for (reason, n) in &r.rejected_by_reason {
            writeln!(
                out,
                "  rejected {n}: {}",
                crate::report::escape::safe(reason)
            )?;
        }
        for p in r.problems.iter().take(3) {
            writeln!(
                out,
                "    at {}: {}",
                p.location,
                crate::report::escape::safe(&p.reason)
            )?;
        }
        for (reason, n) in &r.skipped_by_reason {
            writeln!(
                out,
                "  skipped {n}: {}",
                crate::report::escape::safe(reason)
            )?;
        }
        for n in &r.notes {
            writeln!(out, "  note: {}", crate::report::escape::safe(n))?;
        }
    }
    let read: u64 = l.inputs.iter().map(|i| i.records_read).sum();
    writeln!(
        out,
        "total: {} input(s), {read} row(s) read, {} sign-in(s) kept, {} duplicate(s), {} rejected, {} skipped",
        l.inputs.len(),
        l.records.len(),
        l.duplicates(),
        l.rejected(),
        l.skipped()
    )
}
