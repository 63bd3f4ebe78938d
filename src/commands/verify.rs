//! `entrasift verify REPORT_DIR`: the chain of custody check. Reads the
//! report's manifest, then (1) re-hashes every report file against it, so
//! an edited report shows; (2) re-hashes the settings files and MMDB
//! databases and, by
//! re-reading them, every input; (3) re-runs the same analysis into a
//! scratch folder and compares every output byte for byte.

use super::Outcome;
use crate::cli::{Cli, Command, VerifyArgs};
use crate::report::escape::safe;
use crate::report::manifest::{hash_file, OutputFile};
use anyhow::{bail, Context};
use clap::Parser;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The parts of `manifest.json` verification needs.
#[derive(Debug, Deserialize)]
struct Recorded {
    version: String,
    #[serde(default)]
    git_commit: String,
    command_line: Vec<String>,
    #[serde(default)]
    working_directory: String,
    #[serde(default)]
    settings_files: Vec<OutputFile>,
    /// `--geoip`/`--asn` databases (extra fields ignored).
    #[serde(default)]
    enrichment_databases: Vec<OutputFile>,
    inputs: Vec<RecordedInput>,
    outputs: Vec<OutputFile>,
}

#[derive(Debug, Deserialize, Serialize, PartialEq, Eq)]
struct RecordedInput {
    path: String,
    sha256: String,
    bytes: u64,
    records_read: u64,
    parsed: u64,
    duplicates: u64,
    rejected: u64,
    skipped: u64,
}

#[derive(Debug, Serialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum Status {
    Ok,
    Modified,
    Missing,
    Added,
    NotChecked,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Modified => "DIFFERS",
            Status::Missing => "MISSING",
            Status::Added => "NEW",
            Status::NotChecked => "SKIPPED",
        }
    }
}

#[derive(Debug, Serialize)]
struct Check {
    /// `report`, `settings`, `input` or `rerun`.
    group: &'static str,
    path: String,
    status: Status,
    detail: String,
}

#[derive(Debug, Serialize)]
struct Verdict {
    report: String,
    recorded_version: String,
    recorded_commit: String,
    verified: bool,
    checks: Vec<Check>,
}

fn short(h: &str) -> &str {
    h.get(..12).unwrap_or(h)
}

/// Compares files on disk in `dir` with what the manifest says.
fn check_files(group: &'static str, dir: &Path, expected: &[OutputFile], out: &mut Vec<Check>) {
    for f in expected {
        let (status, detail) = match hash_file(&dir.join(&f.path)) {
            Ok(now) if now.sha256 == f.sha256 && now.bytes == f.bytes => {
                (Status::Ok, short(&f.sha256).to_string())
            }
            Ok(now) => (
                Status::Modified,
                format!("recorded {}, now {}", short(&f.sha256), short(&now.sha256)),
            ),
            Err(e) => (Status::Missing, e.to_string()),
        };
        out.push(Check {
            group,
            path: f.path.clone(),
            status,
            detail,
        });
    }
}

/// A folder for the re-run's reports, removed with everything in it when
/// the check is done, whether the re-run succeeded or not.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch_dir() -> anyhow::Result<Scratch> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let dir = std::env::temp_dir().join(format!("entrasift-verify-{}-{nanos}", std::process::id()));
    std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(Scratch(dir))
}

pub fn run(args: &VerifyArgs, quiet: bool) -> anyhow::Result<Outcome> {
    let report = std::fs::canonicalize(&args.report)
        .with_context(|| format!("report folder {}", args.report.display()))?;
    let manifest_path = report.join("manifest.json");
    let text = std::fs::read_to_string(&manifest_path)
        .with_context(|| format!("reading {}", manifest_path.display()))?;
    let rec: Recorded = serde_json::from_str(&text)
        .with_context(|| format!("{} is not an entrasift manifest", manifest_path.display()))?;
    let base = match &args.base {
        Some(b) => b.clone(),
        None if !rec.working_directory.is_empty() => PathBuf::from(&rec.working_directory),
        None => std::env::current_dir()?,
    };
    let base = std::fs::canonicalize(&base)
        .with_context(|| format!("base folder {} (give --base)", base.display()))?;

    let mut checks = Vec::new();
    check_files("report", &report, &rec.outputs, &mut checks);
    check_files("settings", &base, &rec.settings_files, &mut checks);
    check_files("settings", &base, &rec.enrichment_databases, &mut checks);

    let recorded_inputs = rec.inputs.iter().map(|i| (i.path.as_str(), i));
    let rerun = if args.hashes_only {
        None
    } else {
        Some(rerun(&rec, &base)?)
    };
    match &rerun {
        Some((inputs, outputs_dir)) => {
            let now: std::collections::BTreeMap<&str, &RecordedInput> =
                inputs.iter().map(|i| (i.path.as_str(), i)).collect();
            for (path, old) in recorded_inputs {
                let (status, detail) = match now.get(path) {
                    Some(new) if *new == old => (Status::Ok, short(&old.sha256).to_string()),
                    Some(new) if new.sha256 == old.sha256 => (
                        Status::Modified,
                        "same bytes, different accounting (another tool version?)".into(),
                    ),
                    Some(new) if new.sha256.is_empty() => {
                        (Status::Missing, "could not be read".into())
                    }
                    Some(new) => (
                        Status::Modified,
                        format!(
                            "recorded {}, now {}",
                            short(&old.sha256),
                            short(&new.sha256)
                        ),
                    ),
                    None => (Status::Missing, "not found among the inputs now".into()),
                };
                checks.push(Check {
                    group: "input",
                    path: path.to_string(),
                    status,
                    detail,
                });
            }
            for i in inputs {
                if !rec.inputs.iter().any(|r| r.path == i.path) {
                    checks.push(Check {
                        group: "input",
                        path: i.path.clone(),
                        status: Status::Added,
                        detail: "appeared in an input folder since the run".into(),
                    });
                }
            }
            let outputs: Vec<OutputFile> = rec
                .outputs
                .iter()
                .filter(|o| o.path != "manifest.json")
                .map(|o| OutputFile {
                    path: o.path.clone(),
                    sha256: o.sha256.clone(),
                    bytes: o.bytes,
                })
                .collect();
            check_files(
                "rerun",
                &outputs_dir.0.join("report"),
                &outputs,
                &mut checks,
            );
        }
        None => checks.push(Check {
            group: "rerun",
            path: String::new(),
            status: Status::NotChecked,
            detail: "--hashes-only: inputs were not re-read".into(),
        }),
    }

    let verified = checks
        .iter()
        .all(|c| matches!(c.status, Status::Ok | Status::NotChecked));
    let verdict = Verdict {
        report: report.display().to_string(),
        recorded_version: rec.version,
        recorded_commit: rec.git_commit,
        verified,
        checks,
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &verdict)?;
        writeln!(out)?;
    } else if !quiet || !verified {
        print(&mut out, &verdict, &base)?;
    }
    Ok(if verified {
        Outcome::Clean
    } else {
        Outcome::CheckFailed
    })
}

/// Runs the recorded analysis again, from `base`, into a scratch folder;
/// returns the inputs as read now and the folder (its `report` holds the
/// outputs).
fn rerun(rec: &Recorded, base: &Path) -> anyhow::Result<(Vec<RecordedInput>, Scratch)> {
    let cli = Cli::try_parse_from(&rec.command_line)
        .context("the recorded command line no longer parses")?;
    let Some(Command::Analyze(mut a)) = cli.command else {
        bail!("the manifest does not record an `analyze` run");
    };
    if a.input.inputs.iter().any(|p| p.as_os_str() == "-") {
        bail!(
            "the run read standard input, which cannot be read again: re-run from the saved file"
        );
    }
    let scratch = scratch_dir()?;
    a.out = scratch.0.join("report");
    a.json = false;
    // Relative inputs, config and baseline paths were given relative to
    // the original working folder. Only this command runs in the process,
    // so changing the process's folder is safe here.
    std::env::set_current_dir(base).with_context(|| format!("entering {}", base.display()))?;
    super::analyze::run(&a, true, false).context("re-running the analysis")?;
    let manifest = std::fs::read_to_string(a.out.join("manifest.json"))
        .context("the re-run wrote no manifest (was --format without manifest used?)")?;
    let v: serde_json::Value = serde_json::from_str(&manifest)?;
    let inputs: Vec<RecordedInput> = serde_json::from_value(v["inputs"].clone())?;
    Ok((inputs, scratch))
}

fn print(out: &mut impl Write, v: &Verdict, base: &Path) -> std::io::Result<()> {
    writeln!(
        out,
        "report {} (entrasift {}, commit {})",
        safe(&v.report),
        safe(&v.recorded_version),
        safe(short(&v.recorded_commit))
    )?;
    let titles = [
        ("report", "report files against the manifest".to_string()),
        (
            "settings",
            format!("settings files (from {})", base.display()),
        ),
        ("input", format!("inputs re-read (from {})", base.display())),
        (
            "rerun",
            "outputs of a fresh run of the same analysis".to_string(),
        ),
    ];
    for (group, title) in titles {
        let items: Vec<&Check> = v.checks.iter().filter(|c| c.group == group).collect();
        if items.is_empty() {
            continue;
        }
        let ok = items.iter().filter(|c| c.status == Status::Ok).count();
        writeln!(out, "\n{title}: {ok} of {} match", items.len())?;
        for c in items {
            writeln!(
                out,
                "  {:8} {}  {}",
                c.status.label(),
                safe(&c.path),
                safe(&c.detail)
            )?;
        }
    }
    let bad = v
        .checks
        .iter()
        .filter(|c| !matches!(c.status, Status::Ok | Status::NotChecked))
        .count();
    if v.verified {
        writeln!(
            out,
            "\nVERIFIED: the report matches its manifest and its evidence byte for byte"
        )
    } else {
        writeln!(out, "\nNOT VERIFIED: {bad} difference(s) listed above")
    }
}
