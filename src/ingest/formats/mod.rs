//! The input formats: one module each, each owning its field table.
//!
//! A JSON record is offered to every [`JsonFormat`] in order until one
//! claims it, so files that mix shapes still read. A CSV file is bound to
//! one [`CsvFormat`] by its header. Adding a format means adding a module
//! and one line to [`JSON_FORMATS`] or [`CSV_FORMATS`].

pub mod azure_monitor;
pub mod graph;
pub mod log_analytics;
pub mod portal_csv;
pub mod purview;

use super::accounting::{Flaw, Reject};
use super::json::tape::Tv;
use crate::model::net::{parse_ip, NotAnAddress};
use crate::model::{AuthDetail, SignIn, SignInType, SourceFormat, Text};

/// What the reader knows about the input beyond its bytes.
#[derive(Debug, Clone, Default)]
pub struct Ctx {
    /// Base file name (for the portal's type-by-file-name convention).
    pub file_name: String,
}

/// What one input row turned out to be.
#[derive(Debug)]
// Rows are written into a results vector reused for the whole input and
// moved out once; boxing the sign-in cost an allocation and a free per row.
#[allow(clippy::large_enum_variant)]
pub enum Row {
    SignIn(SignIn),
    /// A sign-in kept although something in it was wrong (the flaw says
    /// what, and the field holds nothing rather than the bad value).
    Flawed(SignIn, Flaw),
    AuthDetail(AuthDetail),
    /// Not a sign-in (another audit operation): counted, not an error.
    Skip(String),
}

/// `Err` is the reason the row was rejected.
pub type RowResult = Result<Row, Reject>;

/// A sign-in and what, if anything, was wrong in it.
pub type Mapped = (SignIn, Option<Flaw>);

impl Row {
    pub fn sign_in((s, flaw): Mapped) -> Row {
        match flaw {
            None => Row::SignIn(s),
            Some(f) => Row::Flawed(s, f),
        }
    }
}

/// The canonical address in a log's `field`, or empty with the flaw when
/// the field holds something that is not an address.
pub fn ip_field(field: &'static str, raw: &str) -> (Text, Option<Flaw>) {
    match parse_ip(raw) {
        Ok(ip) => (ip, None),
        Err(NotAnAddress) => (
            Text::default(),
            Some(Flaw::NotAnAddress {
                field,
                value: raw.trim().chars().take(60).collect(),
            }),
        ),
    }
}

pub trait JsonFormat: Sync {
    fn format(&self) -> SourceFormat;
    fn claims(&self, record: Tv) -> bool;
    fn map(&self, record: Tv, ctx: &Ctx) -> RowResult;
}

/// Rows of a CSV file whose header has been bound to a format.
pub trait CsvRows: Send + Sync {
    fn format(&self) -> SourceFormat;
    fn map(&self, row: &[&str], ctx: &Ctx) -> RowResult;
    /// Notes for the accounting (e.g. how the sign-in type was decided).
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
}

pub trait CsvFormat: Sync {
    fn format(&self) -> SourceFormat;
    /// Binds the header if it is this format's; `None` if it is not.
    fn bind(&self, header: &[String], ctx: &Ctx) -> Option<Result<Box<dyn CsvRows>, String>>;
}

pub static JSON_FORMATS: &[&dyn JsonFormat] = &[
    &azure_monitor::AzureMonitor,
    &graph::Graph,
    &purview::AuditDataJson,
];

pub static CSV_FORMATS: &[&dyn CsvFormat] = &[
    &portal_csv::PortalCsv,
    &log_analytics::LogAnalyticsCsv,
    &purview::PurviewCsv,
];

/// Column lookup by header name, tolerant of the portal's quirks: case,
/// surrounding spaces, doubled inner spaces, a `[UTC]`-style suffix, and a
/// header repeated (the first occurrence wins).
#[derive(Debug, Clone)]
pub struct Header {
    names: Vec<String>,
}

impl Header {
    pub fn new(raw: &[String]) -> Self {
        Header {
            names: raw.iter().map(|h| Self::norm(h)).collect(),
        }
    }

    pub fn norm(h: &str) -> String {
        let h = h
            .trim_start_matches('\u{feff}')
            .trim()
            .trim_matches('"')
            .trim();
        let h = match h.find(" [") {
            Some(i) if h.ends_with(']') => &h[..i],
            _ => h,
        };
        h.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_ascii_lowercase()
    }

    pub fn find(&self, name: &str) -> Option<usize> {
        let want = Self::norm(name);
        self.names.iter().position(|n| *n == want)
    }

    /// First of several alternative names.
    pub fn find_any(&self, names: &[&str]) -> Option<usize> {
        names.iter().find_map(|n| self.find(n))
    }

    pub fn has(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// A cell of a row by optional column index.
pub fn cell<'r>(row: &[&'r str], idx: Option<usize>) -> &'r str {
    crate::ingest::fields::trim(idx.and_then(|i| row.get(i).copied()).unwrap_or(""))
}

/// The sign-in type the portal encodes in its file names.
pub fn type_from_file_name(name: &str) -> Option<SignInType> {
    let lower = name.to_ascii_lowercase();
    if lower.contains("noninteractivesignins")
        || lower.contains("non-interactive")
        || lower.contains("noninteractiveuser")
    {
        Some(SignInType::NonInteractive)
    } else if lower.contains("interactivesignins") {
        Some(SignInType::Interactive)
    } else if lower.contains("applicationsignins") || lower.contains("serviceprincipal") {
        Some(SignInType::ServicePrincipal)
    } else if lower.contains("msisignins") || lower.contains("managedidentity") {
        Some(SignInType::ManagedIdentity)
    } else {
        None
    }
}
