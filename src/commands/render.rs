//! `entrasift render`: the report folder from what a query engine wrote
//! when it ran the SQL of `detections --sql` (Spark, DuckDB, ...).
//!
//! Each detection's results are `RESULTS/<kind>.parquet`, `.jsonl` or
//! `.csv` (one file, or a folder of part files as Spark writes it; see
//! `results`), and each sign-in table's `RESULTS/tables/<table>.*` when the
//! table queries ran too. The rows become findings exactly as `analyze`
//! would name them (the id is derived here, from kind, actor and first
//! sign-in, since SQL cannot hash it) and tables exactly as `analyze`
//! writes them, and go through the same report writers, which say which
//! sections need the sign-ins.

use super::Outcome;
use crate::analyze::aggregate::{sort_rows, GroupRow, Tables};
use crate::analyze::detect::{stable_id, DETECTIONS};
use crate::analyze::summary::{summarize, CodeRow, Summary};
use crate::analyze::tables_sql;
use crate::analyze::{incidents, verdict, Story};
use crate::cli::RenderArgs;
use crate::model::time::format_time;
use crate::model::{Evidence, Finding, Severity, SourceRef};
use crate::report::history::RunRecord;
use crate::report::manifest::{self, Manifest};
use anyhow::{bail, Context};
use serde_json::Value;
use std::path::Path;
use std::time::Instant;

mod results;

use results::{At, Cells};

/// One result row, before it becomes a finding.
struct Row {
    kind: String,
    actor: String,
    severity: String,
    title: String,
    first_us: Option<i64>,
    last_us: Option<i64>,
    count: i64,
    users: Vec<String>,
    ips: Vec<String>,
    facts: String,
    evidence: String,
    techniques: Vec<String>,
}

impl Row {
    fn read(at: &At) -> anyhow::Result<Row> {
        Ok(Row {
            kind: at.text("kind")?,
            actor: at.text("actor")?,
            severity: at.text("severity")?,
            title: at.text("title")?,
            first_us: at.time("first_seen")?,
            last_us: at.time("last_seen")?,
            count: at.int("count")?,
            users: at.texts("users")?,
            ips: at.texts("ips")?,
            facts: at.text("facts")?,
            evidence: at.text("evidence")?,
            techniques: at.texts("techniques")?,
        })
    }
}

fn rfc3339(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// A result row as the finding `analyze` would have written.
fn finding(row: Row, kind: &str, place: &At) -> anyhow::Result<Finding> {
    let at = || place.place();
    if row.kind != kind {
        bail!("{}: kind `{}` in the results of `{kind}`", at(), row.kind);
    }
    let severity = Severity::parse(&row.severity).with_context(|| {
        format!(
            "{}: severity `{}` is not one of info..critical",
            at(),
            row.severity
        )
    })?;
    let (Some(first), Some(last)) = (row.first_us, row.last_us) else {
        bail!("{}: first_seen or last_seen is missing or not a time", at());
    };
    let facts: Vec<(String, Value)> = match serde_json::from_str::<Value>(&row.facts)
        .with_context(|| format!("{}: facts are not JSON", at()))?
    {
        Value::Object(m) => m.into_iter().collect(),
        _ => bail!("{}: facts are not a JSON object", at()),
    };
    let samples: Vec<SourceRef> = match serde_json::from_str::<Value>(&row.evidence)
        .with_context(|| format!("{}: evidence is not JSON", at()))?
    {
        Value::Array(a) => a
            .iter()
            .map(|s| SourceRef {
                request_id: s["request_id"].as_str().unwrap_or_default().to_string(),
                file: s["file"].as_str().unwrap_or_default().to_string(),
                record: s["record"].as_u64().unwrap_or_default(),
            })
            .collect(),
        _ => bail!("{}: evidence is not a JSON array", at()),
    };
    Ok(Finding {
        id: stable_id(kind, &row.actor, first),
        kind: kind.to_string(),
        severity,
        title: row.title,
        ips: row.ips,
        users: row.users,
        // Not in the results: the report says so.
        error_codes: Vec::new(),
        count: u64::try_from(row.count).unwrap_or_default(),
        first_seen: rfc3339(first),
        last_seen: rfc3339(last),
        window_seconds: 0,
        evidence: Evidence { samples, facts },
        remediation: Vec::new(),
        related: Vec::new(),
        techniques: row.techniques,
    })
}

/// Reads every row of `stem`'s results under `dir` into `each`, and the
/// files' hashes into `hashed`. False when there are no such results.
fn each_row(
    dir: &Path,
    stem: &str,
    hashed: &mut Vec<manifest::OutputFile>,
    mut each: impl FnMut(&At) -> anyhow::Result<()>,
) -> anyhow::Result<bool> {
    let Some(parts) = results::locate(dir, stem)? else {
        return Ok(false);
    };
    for part in parts {
        let rows: Vec<Cells> = results::read(&part)?;
        for (row, cells) in rows.iter().enumerate() {
            each(&At {
                file: &part.path,
                row,
                cells,
            })?;
        }
        hashed.push(
            manifest::hash_file(&part.path)
                .with_context(|| format!("hashing {}", part.path.display()))?,
        );
    }
    Ok(true)
}

/// A group table's row (`tables/by_*.sql`) as `aggregate` builds it.
fn group_row(at: &At) -> anyhow::Result<GroupRow> {
    let count = |c: &str| -> anyhow::Result<u64> {
        u64::try_from(at.int(c)?).map_err(|_| anyhow::anyhow!("{}: `{c}` is negative", at.place()))
    };
    let joined = |mut v: Vec<i64>| {
        v.sort_unstable();
        v.dedup();
        v.iter().map(i64::to_string).collect::<Vec<_>>().join(";")
    };
    let time = |c: &str| -> anyhow::Result<String> {
        Ok(at.time(c)?.map(format_time).unwrap_or_default())
    };
    Ok(GroupRow {
        key: at.text("key")?,
        sign_ins: count("sign_ins")?,
        failures: count("failures")?,
        interrupts: count("interrupts")?,
        successes: count("successes")?,
        lockouts: count("lockouts")?,
        ip_blocks: count("ip_blocks")?,
        risk_blocks: count("risk_blocks")?,
        users: count("users")?,
        ips: count("ips")?,
        codes: joined(at.ints("codes")?),
        countries: at.text("countries")?,
        asns: joined(at.ints("asns")?),
        apps: count("apps")?,
        user_agents: count("user_agents")?,
        first_seen: time("first_seen")?,
        last_seen: time("last_seen")?,
        last_success: time("last_success")?,
    })
}

/// The summary and tables from `RESULTS/tables/`, when the table queries
/// ran: all of them, or the run is refused (a report with half its
/// tables would read as if the rest were empty).
fn read_tables(
    dir: &Path,
    hashed: &mut Vec<manifest::OutputFile>,
) -> anyhow::Result<Option<(Summary, Tables)>> {
    let dir = dir.join("tables");
    if !dir.is_dir() {
        return Ok(None);
    }
    let mut summary = summarize(&[], 0, 0, 0);
    let mut found = Vec::new();
    let mut missing = Vec::new();
    let mut tables = Tables::default();
    for name in tables_sql::table_names() {
        let present = match name {
            "summary" => each_row(&dir, name, hashed, |at| {
                let n = |c: &str| at.int(c).map(|v| u64::try_from(v).unwrap_or_default());
                let time = |c: &str| at.time(c).map(|t| t.map(format_time));
                summary = Summary {
                    records: n("records")?,
                    successes: n("successes")?,
                    failures: n("failures")?,
                    interrupts: n("interrupts")?,
                    duplicates: n("duplicates")?,
                    rejected: 0,
                    skipped: 0,
                    distinct_users: n("distinct_users")?,
                    distinct_ips: n("distinct_ips")?,
                    failing_ips: n("failing_ips")?,
                    targeted_users: n("targeted_users")?,
                    first_seen: time("first_seen")?,
                    last_seen: time("last_seen")?,
                    by_error_code: std::mem::take(&mut summary.by_error_code),
                };
                Ok(())
            })?,
            "by_code" => each_row(&dir, name, hashed, |at| {
                let n = |c: &str| at.int(c).map(|v| u64::try_from(v).unwrap_or_default());
                let (Some(first), Some(last)) = (at.time("first_seen")?, at.time("last_seen")?)
                else {
                    bail!("{}: first_seen or last_seen is missing", at.place());
                };
                summary.by_error_code.push(CodeRow::of(
                    at.int("code")?,
                    n("count")?,
                    [n("users")?, n("ips")?],
                    [first, last],
                ));
                Ok(())
            })?,
            _ => {
                let mut rows = Vec::new();
                let present = each_row(&dir, name, hashed, |at| {
                    rows.push(group_row(at)?);
                    Ok(())
                })?;
                sort_rows(&mut rows);
                let slot = match name {
                    "by_ip" => &mut tables.by_ip,
                    "by_user" => &mut tables.by_user,
                    "by_app" => &mut tables.by_app,
                    "by_country" => &mut tables.by_country,
                    "by_client_app" => &mut tables.by_client_app,
                    "by_hour" => &mut tables.by_hour,
                    _ => &mut tables.by_day,
                };
                *slot = rows;
                present
            }
        };
        if present {
            found.push(name);
        } else {
            missing.push(name);
        }
    }
    if found.is_empty() {
        return Ok(None);
    }
    if !missing.is_empty() {
        bail!(
            "{}: holds results of {} but not of {}: run every query of the SQL folder's \
             tables/ (or none)",
            dir.display(),
            found.join(", "),
            missing.join(", ")
        );
    }
    CodeRow::sort(&mut summary.by_error_code);
    Ok(Some((summary, tables)))
}

pub fn run(args: &RenderArgs, quiet: bool) -> anyhow::Result<Outcome> {
    let started = (manifest::utc_now(), Instant::now());
    let dir = &args.results;
    if !dir.is_dir() {
        bail!("{}: not a folder of engine results", dir.display());
    }
    let mut findings = Vec::new();
    let mut hashed = Vec::new();
    let mut read = 0;
    for d in DETECTIONS.iter() {
        let kind = d.kind();
        if each_row(dir, kind, &mut hashed, |at| {
            findings.push(finding(Row::read(at)?, kind, at)?);
            Ok(())
        })? {
            read += 1;
        }
    }
    if read == 0 {
        bail!(
            "{}: no <kind>.parquet, <kind>.jsonl or <kind>.csv results of any detection (run \
             the SQL of `entrasift detections --sql --out DIR` and write each query's rows there)",
            dir.display()
        );
    }
    let from_tables = read_tables(dir, &mut hashed)?;
    if let Some(sql) = &args.sql {
        for folder in [sql.clone(), sql.join("tables")] {
            if !folder.is_dir() {
                continue;
            }
            for entry in std::fs::read_dir(&folder)
                .with_context(|| format!("reading {}", folder.display()))?
            {
                let p = entry?.path();
                if p.extension().is_some_and(|e| e == "sql") {
                    hashed.push(
                        manifest::hash_file(&p)
                            .with_context(|| format!("hashing {}", p.display()))?,
                    );
                }
            }
        }
    }
    hashed.sort_by(|a, b| a.path.cmp(&b.path));
    // The order `run_all` leaves findings in.
    crate::analyze::detect::sort_in_report_order(&mut findings);
    let incidents = incidents::link(&mut findings);
    let story = Story {
        // Verdicts read the findings; the sign-ins they would also read
        // (the owner's pattern) are not in the results.
        accounts: verdict::accounts(&findings, &[]),
        incidents,
        coverage: Vec::new(),
        presets: None,
    };
    let has_tables = from_tables.is_some();
    let (summary, tables) = from_tables.unwrap_or_else(|| {
        let mut summary = summarize(&[], 0, 0, 0);
        summary.first_seen = findings.iter().map(|f| f.first_seen.clone()).min();
        summary.last_seen = findings.iter().map(|f| f.last_seen.clone()).max();
        (summary, Tables::default())
    });
    let breakdown = crate::analyze::breakdown::breakdown(&[], &tables, &findings);
    let run_record = RunRecord::of(&summary, &findings, &breakdown);
    let results = dir.display().to_string();
    let m = Manifest {
        // The engine's results and the SQL that produced them.
        settings_files: hashed,
        preset: "engine results",
        fail_on: "never".into(),
        ..super::manifest_head(started.0)
    };
    let folder = crate::report::Folder {
        dir: &args.out,
        workbook: crate::report::Workbook {
            agents: None,
            sign_ins: crate::report::xlsx::SignIns {
                records: &[],
                files: &[],
            },
        },
        parts: crate::report::Parts {
            csv: true,
            markdown: true,
            html: true,
            charts: false,
            xlsx: false,
            manifest: true,
        },
        run_record: &run_record,
        profiles: None,
        manifest: m,
        started: started.1,
    };
    let data = crate::report::data::ReportData {
        summary: &summary,
        tables: &tables,
        findings: &findings,
        story: &story,
        inputs: &[],
        breakdown,
        baseline: None,
        tool: format!("entrasift {}", env!("CARGO_PKG_VERSION")),
        history: None,
        zone: None,
        enrichment: None,
        engine: Some(crate::report::data::Engine {
            results: &results,
            tables: has_tables,
        }),
    };
    crate::report::write_all(folder, &data)?;
    if !quiet {
        eprintln!(
            "{} finding(s) from {read} detection result(s) in {}; report written to {}",
            findings.len(),
            crate::report::escape::safe(&results),
            args.out.display()
        );
    }
    Ok(Outcome::Clean)
}
