//! The report folder: every part rendered from the finished analysis and
//! written side by side, then the manifest that hashes them all.

use super::data::ReportData;
use super::history::{self, RunRecord};
use super::manifest::{self, Manifest};
use super::write::write_atomic;
use super::xlsx::{self, XlsxReportError};
use super::{charts, html, json, markdown, table};
use crate::trace::{detail, Stage};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

/// The optional parts of the folder; `findings.json`, `history.json` and
/// `profiles.json` are always written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Parts {
    /// `findings.csv` and `tables/*.csv`.
    pub csv: bool,
    /// `summary.md`.
    pub markdown: bool,
    /// `report.html`.
    pub html: bool,
    /// `charts/*.svg`.
    pub charts: bool,
    /// `report.xlsx`.
    pub xlsx: bool,
    /// `manifest.json`.
    pub manifest: bool,
}

/// Where and what to write.
pub struct Folder<'a> {
    pub dir: &'a Path,
    pub parts: Parts,
    /// This run as later runs see it (`history.json`).
    pub run_record: &'a RunRecord,
    /// Where each account signed in, for later `--history` runs
    /// (`profiles.json`); none when the report is rendered from an
    /// engine's results, which hold no sign-ins.
    pub profiles: Option<&'a crate::analyze::profiles::Profiles>,
    /// The manifest as far as the caller knows it (tool, command line,
    /// settings, inputs); the outputs and the finish time are filled in
    /// here. Written when `parts.manifest` is set.
    pub manifest: Manifest<'a>,
    /// When the run started, for the manifest's duration.
    pub started: Instant,
    /// What only the workbook shows (`parts.xlsx`).
    pub workbook: Workbook<'a>,
}

/// The workbook's extra sheets: the raw sign-ins (rendered, not analysed)
/// and the agent and network tables analyze computed for it.
#[derive(Clone, Copy)]
pub struct Workbook<'a> {
    /// Computed only when the workbook is asked for.
    pub agents: Option<&'a crate::analyze::agents::AgentTables>,
    pub sign_ins: xlsx::SignIns<'a>,
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("creating {}", .path.display())]
    Create {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("writing {}", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("hashing outputs")]
    Hash(#[source] io::Error),
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
        f: impl FnOnce(&mut io::BufWriter<std::fs::File>) -> io::Result<()>,
    ) -> Result<(), WriteError> {
        let path = self.dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| WriteError::Create {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let t = Instant::now();
        write_atomic(&path, f).map_err(|source| WriteError::Write {
            path: path.clone(),
            source,
        })?;
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
    Box<dyn FnOnce() -> Result<(), WriteError> + Send + 's>,
);

/// Runs the parts on the pool; the first failure in list order is the one
/// reported, so a failing run reads the same every time.
fn write_parts(parts: Vec<Part<'_>>) -> Result<(), WriteError> {
    use rayon::prelude::*;
    let results: Vec<Result<(), WriteError>> = parts
        .into_par_iter()
        .map(|(name, p)| {
            let _stage = Stage::start(name);
            p()
        })
        .collect();
    results.into_iter().collect()
}

/// Renders every asked-for part of the report from `d` and writes it into
/// `folder.dir`, then the manifest. Each part reads the finished analysis
/// and writes its own files, so they render side by side; the manifest,
/// which hashes them all, waits.
pub fn write_all(folder: Folder, d: &ReportData) -> Result<(), WriteError> {
    let dir = folder.dir;
    std::fs::create_dir_all(dir).map_err(|source| WriteError::Create {
        path: dir.to_path_buf(),
        source,
    })?;
    let out = Writer {
        dir,
        written: Mutex::new(Vec::new()),
    };
    let parts = folder.parts;
    let workbook = folder.workbook;
    let stage = Stage::start("render and write the reports");
    let (out, run_record, profiles) = (&out, folder.run_record, folder.profiles);
    let mut jobs: Vec<Part> = vec![(
        "report part: findings.json",
        Box::new(move || {
            let mut doc = json::document(d.summary, d.inputs, d.findings, d.story, d.baseline);
            if let Some(e) = d.engine {
                if e.findings_only() {
                    doc.summary = None;
                }
                doc.rendered_from = Some(e.results);
            }
            out.file("findings.json", |w| {
                serde_json::to_writer_pretty(&mut *w, &doc)?;
                w.write_all(b"\n")
            })?;
            out.file(history::FILE, |w| {
                serde_json::to_writer_pretty(&mut *w, run_record)?;
                w.write_all(b"\n")
            })?;
            match profiles {
                Some(p) => out.file(crate::analyze::profiles::FILE, |w| {
                    serde_json::to_writer(&mut *w, p)?;
                    w.write_all(b"\n")
                }),
                None => Ok(()),
            }
        }),
    )];
    if parts.csv {
        jobs.push((
            "report part: CSV tables",
            Box::new(move || csv_tables(out, d)),
        ));
    }
    if parts.html || parts.charts {
        jobs.push((
            "report part: charts and HTML",
            Box::new(move || {
                let chart_list = {
                    let _stage = Stage::start("report part: charts");
                    // Every chart is drawn from the sign-ins.
                    if d.engine.is_some() {
                        Vec::new()
                    } else {
                        charts::all_charts(d)
                    }
                };
                if parts.charts {
                    for c in &chart_list {
                        out.file(&format!("charts/{}.svg", c.name), |w| {
                            w.write_all(c.svg.as_bytes())
                        })?;
                    }
                }
                if parts.html {
                    let page = html::render(d, &chart_list);
                    out.file("report.html", |w| w.write_all(page.as_bytes()))?;
                }
                Ok(())
            }),
        ));
    }
    if parts.xlsx {
        jobs.push((
            "report part: workbook",
            Box::new(move || {
                out.file("report.xlsx", |w| {
                    let none = Default::default();
                    let agents = workbook.agents.unwrap_or(&none);
                    xlsx::render(d, agents, workbook.sign_ins, w).map_err(|e| match e {
                        XlsxReportError::Io(e) => e,
                        e => io::Error::other(e),
                    })
                })
            }),
        ));
    }
    if parts.markdown {
        jobs.push((
            "report part: Markdown",
            Box::new(move || {
                let md = markdown::render(d);
                out.file("summary.md", |w| w.write_all(md.as_bytes()))
            }),
        ));
    }
    write_parts(jobs)?;
    drop(stage);
    if parts.manifest {
        let mut m = folder.manifest;
        m.outputs = out
            .written()
            .iter()
            .map(|rel| manifest::describe(dir, rel))
            .collect::<io::Result<Vec<_>>>()
            .map_err(WriteError::Hash)?;
        m.finished = manifest::utc_now();
        m.seconds = folder.started.elapsed().as_secs_f64();
        out.file("manifest.json", |w| {
            serde_json::to_writer_pretty(&mut *w, &m)?;
            w.write_all(b"\n")
        })?;
    }
    Ok(())
}

fn csv_tables(out: &Writer, d: &ReportData) -> Result<(), WriteError> {
    out.file("findings.csv", |w| table::write_findings(w, d.findings))?;
    out.file("accounts.csv", |w| {
        table::write_accounts(w, &d.story.accounts)
    })?;
    if d.engine.is_some_and(|e| e.findings_only()) {
        // The tables count sign-ins; these engine results hold findings only.
        return Ok(());
    }
    out.file("tables/by_code.csv", |w| {
        table::write_rows(w, &d.summary.by_error_code)
    })?;
    for (name, rows) in d.tables.named() {
        out.file(&format!("tables/{name}.csv"), |w| {
            table::write_rows(w, rows)
        })?;
    }
    if let Some(e) = d.enrichment {
        out.file("tables/ip_enrichment.csv", |w| table::write_rows(w, &e.ips))?;
    }
    Ok(())
}
