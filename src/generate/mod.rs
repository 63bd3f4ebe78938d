//! `entrasift generate`: realistic synthetic Entra ID sign-in exports.
//!
//! One deterministic set of events (a Contoso-like tenant's week, plus
//! optional planted attacks) is written in every export shape the readers
//! accept: portal CSV/JSON downloads, Graph pages, collector files
//! (Microsoft-Extractor-Suite, CISA Goose, SOF-ELK), Azure Monitor blobs
//! and Event Hub messages, Log Analytics CSV exports and Purview audit-log
//! exports. `truth.json` lists the planted scenarios and the counts a
//! correct reader must recover from each format.
//!
//! Each format carries the subset of events it can hold (see [`Subset`]):
//! the audit log has only interactive user sign-ins that succeeded or
//! failed, and the Log Analytics exports only user sign-ins.

mod background;
mod catalog;
mod events;
mod geo;
mod json;
mod rng;
mod scenarios;
mod shape;
mod tenant;
mod timefmt;
mod truth;
mod writers;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::model::{SignIn, SignInType, StatusClass};

pub use geo::{write_geo_databases, ASN_FILE as GEO_ASN_FILE, CITY_FILE as GEO_CITY_FILE};

/// 2026-03-02T00:00:00Z, a Monday.
pub const DEFAULT_START_US: i64 = 1_772_409_600_000_000;

#[derive(Debug, Clone, PartialEq)]
pub struct GenerateOptions {
    /// Approximate number of background sign-ins.
    pub records: usize,
    pub seed: u64,
    pub formats: Vec<OutputKind>,
    /// `false` writes background traffic only.
    pub attacks: bool,
    /// First day, UTC microseconds.
    pub start_us: i64,
    pub days: u32,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            records: 5000,
            seed: 42,
            formats: OutputKind::ALL.to_vec(),
            attacks: true,
            start_us: DEFAULT_START_US,
            days: 7,
        }
    }
}

/// The export shapes `write_dataset` can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OutputKind {
    PortalCsv,
    PortalJson,
    GraphPages,
    ExtractorSuiteJson,
    GraphJsonl,
    AzureMonitorBlob,
    AzureMonitorEventHub,
    LogAnalyticsCsv,
    PurviewCsv,
    PurviewClassicCsv,
    PurviewSearchUalCsv,
    PurviewAuditDataJsonl,
}

impl OutputKind {
    pub const ALL: [OutputKind; 12] = [
        OutputKind::PortalCsv,
        OutputKind::PortalJson,
        OutputKind::GraphPages,
        OutputKind::ExtractorSuiteJson,
        OutputKind::GraphJsonl,
        OutputKind::AzureMonitorBlob,
        OutputKind::AzureMonitorEventHub,
        OutputKind::LogAnalyticsCsv,
        OutputKind::PurviewCsv,
        OutputKind::PurviewClassicCsv,
        OutputKind::PurviewSearchUalCsv,
        OutputKind::PurviewAuditDataJsonl,
    ];

    /// Kebab-case name; also the output sub-directory.
    pub fn as_str(self) -> &'static str {
        match self {
            OutputKind::PortalCsv => "portal-csv",
            OutputKind::PortalJson => "portal-json",
            OutputKind::GraphPages => "graph-pages",
            OutputKind::ExtractorSuiteJson => "extractor-suite-json",
            OutputKind::GraphJsonl => "graph-jsonl",
            OutputKind::AzureMonitorBlob => "azure-monitor-blob",
            OutputKind::AzureMonitorEventHub => "azure-monitor-event-hub",
            OutputKind::LogAnalyticsCsv => "log-analytics-csv",
            OutputKind::PurviewCsv => "purview-csv",
            OutputKind::PurviewClassicCsv => "purview-classic-csv",
            OutputKind::PurviewSearchUalCsv => "purview-search-ual-csv",
            OutputKind::PurviewAuditDataJsonl => "purview-audit-data-jsonl",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().to_ascii_lowercase();
        OutputKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Which events this format carries.
    pub fn subset(self) -> Subset {
        match self {
            OutputKind::LogAnalyticsCsv => Subset::UserSignIns,
            OutputKind::PurviewCsv
            | OutputKind::PurviewClassicCsv
            | OutputKind::PurviewSearchUalCsv
            | OutputKind::PurviewAuditDataJsonl => Subset::Purview,
            _ => Subset::All,
        }
    }
}

/// The part of the dataset a format can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Subset {
    /// Every sign-in, all four logs.
    All,
    /// Interactive and non-interactive user sign-ins.
    UserSignIns,
    /// Interactive user sign-ins that succeeded or failed (no interrupts).
    Purview,
}

impl Subset {
    pub const ALL: [Subset; 3] = [Subset::All, Subset::UserSignIns, Subset::Purview];

    pub fn as_str(self) -> &'static str {
        match self {
            Subset::All => "all",
            Subset::UserSignIns => "user_sign_ins",
            Subset::Purview => "purview",
        }
    }

    pub fn includes(self, e: &SignIn) -> bool {
        match self {
            Subset::All => true,
            Subset::UserSignIns => {
                matches!(
                    e.sign_in_type,
                    SignInType::Interactive | SignInType::NonInteractive
                )
            }
            Subset::Purview => {
                e.sign_in_type == SignInType::Interactive
                    && !e.user_principal_name.is_empty()
                    && e.status != StatusClass::Interrupted
            }
        }
    }
}

/// One planted attack. `kind` is spelled as the detection that should
/// report it; `ips` and `users` are its actors (no two scenarios share an
/// actor, except `brute_force` and `success_after_failures`, which describe
/// the same events).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scenario {
    pub kind: String,
    pub ips: Vec<String>,
    pub users: Vec<String>,
    pub first_us: i64,
    pub last_us: i64,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Sorted by time (then request id).
    pub events: Vec<SignIn>,
    pub scenarios: Vec<Scenario>,
}

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write CSV {path}: {source}")]
    Csv {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },
    #[error("cannot serialize {path}: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot build the MaxMind DB files for {path}: {source}")]
    Mmdb {
        path: PathBuf,
        #[source]
        source: crate::enrich::mmdb_write::WriteError,
    },
}

/// Builds the events for `opts`; the same options always give the same
/// dataset.
pub fn build_dataset(opts: &GenerateOptions) -> Dataset {
    let root = rng::Rng::new(opts.seed);
    // At least 130 staff: the planted stories each need their own victims
    // (about 110 of them in all).
    let user_count = (opts.records / 40).clamp(130, 200);
    let mut tenant = tenant::Tenant::build(&mut root.fork(1), user_count);
    let window = background::Window {
        start_us: opts.start_us,
        days: opts.days.max(1),
    };
    let mut events = background::generate(&mut root.fork(2), &mut tenant, opts.records, &window);
    let mut scenarios = Vec::new();
    if opts.attacks {
        let planted = scenarios::plant(&mut root.fork(3), &tenant, window.start_us, window.days);
        events.retain(|e| {
            !planted.quiet.iter().any(|q| {
                q.upn == e.user_principal_name && e.time_us >= q.from_us && e.time_us <= q.to_us
            })
        });
        events.extend(planted.events);
        scenarios = planted.scenarios;
    }
    events.sort_by(|a, b| {
        a.time_us
            .cmp(&b.time_us)
            .then_with(|| a.request_id.cmp(&b.request_id))
    });
    Dataset { events, scenarios }
}

/// Writes every requested format under `out_dir` (one sub-directory per
/// format) plus `out_dir/truth.json`; returns the paths written.
pub fn write_dataset(
    ds: &Dataset,
    opts: &GenerateOptions,
    out_dir: &Path,
) -> Result<Vec<PathBuf>, GenerateError> {
    let ctx = shape::Ctx::new(opts.seed);
    let mut out = writers::Output::new(out_dir);
    let mut per_format = Vec::new();
    let mut formats = opts.formats.clone();
    formats.sort();
    formats.dedup();
    for kind in formats {
        let before = out.files().len();
        let extra = writers::write_kind(kind, ds, &ctx, opts, &mut out)?;
        per_format.push(truth::FormatFiles {
            kind,
            files: out.files()[before..].to_vec(),
            non_sign_in_records: extra,
        });
    }
    truth::write(ds, opts, &ctx, &per_format, &mut out)?;
    Ok(out.files().iter().map(|rel| out_dir.join(rel)).collect())
}
