//! One writer per export family; this module owns file creation and the
//! list of files written (relative paths, `/`-separated, for truth.json).

mod azure_monitor;
mod graph;
mod log_analytics;
mod portal_csv;
mod purview;

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::model::SignIn;

use super::shape::Ctx;
use super::timefmt::{self, US_PER_DAY};
use super::{Dataset, GenerateError, GenerateOptions, OutputKind};

pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

pub struct Output {
    root: PathBuf,
    files: Vec<String>,
}

impl Output {
    pub fn new(root: &Path) -> Self {
        Output {
            root: root.to_path_buf(),
            files: Vec::new(),
        }
    }

    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// Creates `rel` (and its directories) for buffered writing.
    pub fn create(&mut self, rel: &str) -> Result<Sink, GenerateError> {
        let path = self.root.join(rel);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|source| GenerateError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let file = File::create(&path).map_err(|source| GenerateError::Io {
            path: path.clone(),
            source,
        })?;
        self.files.push(rel.to_string());
        Ok(Sink {
            path,
            w: BufWriter::with_capacity(1 << 18, file),
        })
    }
}

/// A buffered output file that reports errors with its path.
pub struct Sink {
    path: PathBuf,
    w: BufWriter<File>,
}

impl Sink {
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), GenerateError> {
        self.w.write_all(bytes).map_err(|source| GenerateError::Io {
            path: self.path.clone(),
            source,
        })
    }

    pub fn finish(mut self) -> Result<(), GenerateError> {
        self.w.flush().map_err(|source| GenerateError::Io {
            path: self.path.clone(),
            source,
        })
    }

    /// Hands the file to a CSV writer configured by `builder`.
    pub fn csv(self, builder: &csv::WriterBuilder) -> CsvSink {
        CsvSink {
            path: self.path,
            w: builder.from_writer(self.w),
        }
    }
}

pub struct CsvSink {
    path: PathBuf,
    w: csv::Writer<BufWriter<File>>,
}

impl CsvSink {
    pub fn row<I, T>(&mut self, fields: I) -> Result<(), GenerateError>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        self.w
            .write_record(fields)
            .map_err(|source| GenerateError::Csv {
                path: self.path.clone(),
                source,
            })
    }

    pub fn finish(mut self) -> Result<(), GenerateError> {
        self.w.flush().map_err(|source| GenerateError::Io {
            path: self.path.clone(),
            source,
        })
    }
}

/// `2026-03-02_2026-03-08`: the date span in portal download names.
pub fn date_span(opts: &GenerateOptions) -> String {
    let last = opts.start_us + i64::from(opts.days.max(1) - 1) * US_PER_DAY;
    format!("{}_{}", timefmt::ymd(opts.start_us), timefmt::ymd(last))
}

pub fn window_end(opts: &GenerateOptions) -> i64 {
    opts.start_us + i64::from(opts.days.max(1)) * US_PER_DAY
}

/// Events of the given kinds, newest first (portal and Graph order).
pub fn newest_first(ds: &Dataset, keep: impl Fn(&SignIn) -> bool) -> Vec<&SignIn> {
    ds.events.iter().rev().filter(|e| keep(e)).collect()
}

/// Writes one format; returns how many non-sign-in records it added (the
/// audit-log exports mix in other operations readers must skip).
pub fn write_kind(
    kind: OutputKind,
    ds: &Dataset,
    ctx: &Ctx,
    opts: &GenerateOptions,
    out: &mut Output,
) -> Result<usize, GenerateError> {
    let dir = kind.as_str();
    match kind {
        OutputKind::PortalCsv => portal_csv::write(ds, ctx, opts, dir, out).map(|()| 0),
        OutputKind::PortalJson => graph::portal_json(ds, ctx, opts, dir, out).map(|()| 0),
        OutputKind::GraphPages => graph::pages(ds, ctx, opts, dir, out).map(|()| 0),
        OutputKind::ExtractorSuiteJson => {
            graph::extractor_suite(ds, ctx, opts, dir, out).map(|()| 0)
        }
        OutputKind::GraphJsonl => graph::jsonl(ds, ctx, dir, out).map(|()| 0),
        OutputKind::AzureMonitorBlob => azure_monitor::blobs(ds, ctx, dir, out).map(|()| 0),
        OutputKind::AzureMonitorEventHub => azure_monitor::event_hub(ds, ctx, dir, out).map(|()| 0),
        OutputKind::LogAnalyticsCsv => log_analytics::write(ds, ctx, opts, dir, out).map(|()| 0),
        OutputKind::PurviewCsv => purview::new_export(ds, ctx, opts, dir, out),
        OutputKind::PurviewClassicCsv => purview::classic(ds, ctx, opts, dir, out),
        OutputKind::PurviewSearchUalCsv => purview::search_ual(ds, ctx, opts, dir, out),
        OutputKind::PurviewAuditDataJsonl => purview::audit_data_jsonl(ds, ctx, opts, dir, out),
    }
}
