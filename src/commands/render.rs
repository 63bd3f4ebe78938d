//! `entrasift render`: the report folder from what a query engine wrote
//! when it ran the SQL of `detections --sql` (Spark, DuckDB, ...).
//!
//! Each detection's results are `RESULTS/<kind>.parquet` (one file, or a
//! folder of part files as Spark writes it) or `RESULTS/<kind>.jsonl`
//! (one file, or a folder of `*.json` parts). The rows become findings
//! exactly as `analyze` would name them (the id is derived here, from kind,
//! actor and first sign-in, since SQL cannot hash it), and go through the
//! same report writers, which say which sections need the sign-ins.

use super::Outcome;
use crate::analyze::detect::{stable_id, DETECTIONS};
use crate::analyze::{incidents, verdict, Story};
use crate::cli::RenderArgs;
use crate::model::time::parse_time;
use crate::model::{Evidence, Finding, Severity, SourceRef};
use crate::report::history::RunRecord;
use crate::report::manifest::{self, Manifest};
use anyhow::{bail, Context};
use polars::prelude::{Column, DataType, ParquetReader, SerReader, Series, TimeUnit};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// One result row, before it becomes a finding.
#[derive(Default)]
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

/// The files holding one query's rows, and how to read them.
enum Source {
    Parquet(Vec<PathBuf>),
    Jsonl(Vec<PathBuf>),
}

/// Part files of a Spark-style output folder with `ext`, sorted.
fn parts(dir: &Path, ext: &str) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let p = entry?.path();
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        // Spark's _SUCCESS and .crc files sit beside the parts.
        if !name.starts_with(['.', '_']) && name.ends_with(ext) {
            files.push(p);
        }
    }
    files.sort();
    Ok(files)
}

/// Where `stem`'s results are, if anywhere.
fn locate(dir: &Path, stem: &str) -> anyhow::Result<Option<Source>> {
    let pq = dir.join(format!("{stem}.parquet"));
    if pq.is_dir() {
        return Ok(Some(Source::Parquet(parts(&pq, ".parquet")?)));
    }
    if pq.is_file() {
        return Ok(Some(Source::Parquet(vec![pq])));
    }
    let js = dir.join(format!("{stem}.jsonl"));
    if js.is_dir() {
        return Ok(Some(Source::Jsonl(parts(&js, ".json")?)));
    }
    if js.is_file() {
        return Ok(Some(Source::Jsonl(vec![js])));
    }
    Ok(None)
}

fn text_list(s: Option<Series>) -> anyhow::Result<Vec<String>> {
    let Some(s) = s else {
        return Ok(Vec::new());
    };
    let s = s.str()?;
    Ok((0..s.len())
        .filter_map(|i| s.get(i).map(str::to_string))
        .collect())
}

/// Microseconds since the epoch of a timestamp column's row.
fn micros(col: &Column, i: usize) -> anyhow::Result<Option<i64>> {
    match col.dtype() {
        DataType::Datetime(unit, _) => {
            let v = col.as_materialized_series().datetime()?.phys.get(i);
            Ok(v.map(|v| match unit {
                TimeUnit::Nanoseconds => v.div_euclid(1000),
                TimeUnit::Microseconds => v,
                TimeUnit::Milliseconds => v * 1000,
            }))
        }
        DataType::String => Ok(col.str()?.get(i).and_then(parse_time)),
        other => bail!("a timestamp column has type {other}"),
    }
}

fn read_parquet(path: &Path) -> anyhow::Result<Vec<Row>> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let df = ParquetReader::new(file)
        .finish()
        .map_err(anyhow::Error::from)
        .with_context(|| format!("reading {}", path.display()))?;
    let col = |name: &str| {
        df.column(name)
            .with_context(|| format!("{}: no column `{name}`", path.display()))
    };
    let text = |name: &str, i: usize| -> anyhow::Result<String> {
        Ok(col(name)?.str()?.get(i).unwrap_or_default().to_string())
    };
    let mut rows = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let list = |name: &str| -> anyhow::Result<Vec<String>> {
            text_list(col(name)?.list()?.get_as_series(i))
        };
        rows.push(Row {
            kind: text("kind", i)?,
            actor: text("actor", i)?,
            severity: text("severity", i)?,
            title: text("title", i)?,
            first_us: micros(col("first_seen")?, i)?,
            last_us: micros(col("last_seen")?, i)?,
            count: col("count")?
                .cast(&DataType::Int64)?
                .i64()?
                .get(i)
                .unwrap_or_default(),
            users: list("users")?,
            ips: list("ips")?,
            facts: text("facts", i)?,
            evidence: text("evidence", i)?,
            techniques: list("techniques")?,
        });
    }
    Ok(rows)
}

fn read_jsonl(path: &Path) -> anyhow::Result<Vec<Row>> {
    let body =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut rows = Vec::new();
    for (n, line) in body.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = || format!("{} line {}", path.display(), n + 1);
        let v: Value = serde_json::from_str(line).with_context(at)?;
        let text = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        let list = |k: &str| -> Vec<String> {
            v[k].as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let time = |k: &str| match &v[k] {
            Value::String(s) => parse_time(s),
            Value::Number(n) => n.as_i64(),
            _ => None,
        };
        rows.push(Row {
            kind: text("kind"),
            actor: text("actor"),
            severity: text("severity"),
            title: text("title"),
            first_us: time("first_seen"),
            last_us: time("last_seen"),
            count: v["count"].as_i64().unwrap_or_default(),
            users: list("users"),
            ips: list("ips"),
            facts: text("facts"),
            evidence: text("evidence"),
            techniques: list("techniques"),
        });
    }
    Ok(rows)
}

fn rfc3339(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// A result row as the finding `analyze` would have written.
fn finding(row: Row, kind: &str, file: &Path, n: usize) -> anyhow::Result<Finding> {
    let at = || format!("{} row {}", file.display(), n + 1);
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
        let Some(source) = locate(dir, kind)? else {
            continue;
        };
        read += 1;
        let (files, parquet) = match source {
            Source::Parquet(f) => (f, true),
            Source::Jsonl(f) => (f, false),
        };
        for file in files {
            let rows = if parquet {
                read_parquet(&file)?
            } else {
                read_jsonl(&file)?
            };
            for (n, row) in rows.into_iter().enumerate() {
                findings.push(finding(row, kind, &file, n)?);
            }
            hashed.push(
                manifest::hash_file(&file)
                    .with_context(|| format!("hashing {}", file.display()))?,
            );
        }
    }
    if read == 0 {
        bail!(
            "{}: no <kind>.parquet or <kind>.jsonl results of any detection (run the SQL of \
             `entrasift detections --sql --out DIR` and write each query's rows there)",
            dir.display()
        );
    }
    if let Some(sql) = &args.sql {
        for entry in std::fs::read_dir(sql).with_context(|| format!("reading {}", sql.display()))? {
            let p = entry?.path();
            if p.extension().is_some_and(|e| e == "sql") {
                hashed.push(
                    manifest::hash_file(&p).with_context(|| format!("hashing {}", p.display()))?,
                );
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
    };
    let mut summary = crate::analyze::summary::summarize(&[], 0, 0, 0);
    summary.first_seen = findings.iter().map(|f| f.first_seen.clone()).min();
    summary.last_seen = findings.iter().map(|f| f.last_seen.clone()).max();
    let tables = crate::analyze::aggregate::tables(&[]);
    let breakdown = crate::analyze::breakdown::breakdown(&[], &tables, &findings);
    let run_record = RunRecord::of(&summary, &findings, &breakdown);
    let results = dir.display().to_string();
    let m = Manifest {
        tool: "entrasift",
        version: env!("CARGO_PKG_VERSION"),
        git_commit: super::about::commit(),
        command_line: std::env::args().collect(),
        working_directory: std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_default(),
        // The engine's results and the SQL that produced them.
        settings_files: hashed,
        preset: "engine results",
        settings: String::new(),
        fail_on: "never".into(),
        inputs: &[],
        enrichment_databases: &[],
        outputs: Vec::new(),
        started: started.0,
        finished: String::new(),
        seconds: 0.0,
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
        engine: Some(&results),
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
