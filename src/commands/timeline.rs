//! `entrasift timeline`: one account, IP or finding through time.

use super::analyze::{detect_all, detection_config, load_sigma};
use super::{load_enriched, Outcome};
use crate::analyze::detect::Events;
use crate::analyze::timeline::{self, Selector};
use crate::cli::{TimelineArgs, TimelineFormat};
use crate::model::time::parse_time;
use crate::report::timeline as render;
use crate::report::write::write_atomic;
use crate::report::zone::DisplayZone;
use anyhow::{bail, Context};
use std::io::Write;

/// A time bound from the command line; a bare date as `--to` means the
/// whole of that day.
fn bound(raw: &str, end: bool) -> anyhow::Result<i64> {
    let t = parse_time(raw).with_context(|| {
        format!("cannot read {raw:?} as a time: use e.g. 2026-03-02 or 2026-03-02T14:00:00Z")
    })?;
    let date_only = raw.trim().len() == 10;
    Ok(if end && date_only {
        t + 86_400_000_000 - 1
    } else {
        t
    })
}

pub fn run(args: &TimelineArgs, quiet: bool) -> anyhow::Result<Outcome> {
    let zone = args
        .display_tz
        .as_deref()
        .map(DisplayZone::parse)
        .transpose()?;
    let from = args.from.as_deref().map(|t| bound(t, false)).transpose()?;
    let to = args.to.as_deref().map(|t| bound(t, true)).transpose()?;
    if let Some(out) = &args.out {
        super::check_out_path(out, &args.input.inputs)?;
    }
    let cfg = detection_config(&args.detection)?;
    let sigma = load_sigma(&args.sigma, quiet, true)?;
    let (loaded, _) = load_enriched(&args.input.inputs, &args.enrich, false, quiet)?;
    let findings = detect_all(&Events::new(&loaded.records, &loaded.paths), &cfg, sigma);
    let mut sel = match (&args.user, &args.ip, &args.finding) {
        (Some(u), _, _) => Selector::user(u),
        (_, Some(ip), _) => Selector::ip(ip),
        (_, _, Some(id)) => {
            let hits: Vec<_> = findings
                .iter()
                .filter(|f| f.id.starts_with(id.as_str()))
                .collect();
            match hits.as_slice() {
                [f] => Selector::finding(f),
                [] => bail!(
                    "no finding {id:?} in these inputs with these settings ({} finding(s); ids are in findings.json)",
                    findings.len()
                ),
                _ => bail!("{id:?} matches {} findings: give more of the id", hits.len()),
            }
        }
        _ => bail!("give --user, --ip or --finding"),
    };
    if from.is_some() {
        sel.from = from;
    }
    if to.is_some() {
        sel.to = to;
    }
    let entries = timeline::build(&loaded.records, &findings, &sel);
    let rows = render::rows(&entries, &loaded.paths, zone.as_ref());
    let write = |w: &mut dyn Write| -> std::io::Result<()> {
        let mut w = w;
        match args.format {
            TimelineFormat::Table => render::write_text(&mut w, &rows, zone.as_ref()),
            TimelineFormat::Csv => crate::report::table::write_rows(&mut w, &rows),
            TimelineFormat::Json => render::write_jsonl(&mut w, &entries),
            TimelineFormat::Html => {
                let page = render::html_page(
                    &sel.describe(),
                    &rows,
                    zone.as_ref(),
                    &format!("entrasift {}", env!("CARGO_PKG_VERSION")),
                );
                w.write_all(page.as_bytes())
            }
        }
    };
    match &args.out {
        Some(path) => write_atomic(path, |w| write(w))
            .with_context(|| format!("writing {}", path.display()))?,
        None => {
            let mut out = std::io::stdout().lock();
            write(&mut out)?;
            out.flush()?;
        }
    }
    if !quiet {
        for w in loaded.warnings() {
            eprintln!("{w}");
        }
        eprintln!(
            "{} sign-in(s) of {}{}",
            entries.len(),
            crate::report::escape::safe(&sel.describe()),
            match &args.out {
                Some(p) => format!(", written to {}", p.display()),
                None => String::new(),
            }
        );
    }
    Ok(if loaded.partial() {
        Outcome::Partial
    } else {
        Outcome::Clean
    })
}
