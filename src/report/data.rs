//! Everything a human-facing report is built from, computed once by
//! analyze and handed to each writer.

use super::baseline::Comparison;
use crate::analyze::aggregate::Tables;
use crate::analyze::breakdown::Breakdown;
use crate::analyze::summary::Summary;
use crate::ingest::InputReport;
use crate::model::Finding;

pub struct ReportData<'a> {
    pub summary: &'a Summary,
    pub tables: &'a Tables,
    /// Sorted by severity (highest first), then first seen.
    pub findings: &'a [Finding],
    /// Account verdicts, incidents and detection coverage.
    pub story: &'a crate::analyze::Story,
    pub inputs: &'a [InputReport],
    /// What analyze computed for the reports beyond the summary and
    /// tables; no writer reads the sign-ins themselves.
    pub breakdown: Breakdown<'a>,
    /// `--baseline`: how the findings compare with an earlier run.
    pub baseline: Option<&'a Comparison>,
    /// `entrasift <version>`.
    pub tool: String,
    /// `--history`: earlier runs and what is new since the latest.
    pub history: Option<&'a crate::report::history::History>,
    /// `--display-tz`: local time beside UTC on the page.
    pub zone: Option<crate::report::zone::DisplayZone>,
    /// Address enrichment and range labels, when the run did them.
    pub enrichment: Option<&'a crate::enrich::EnrichReport>,
    /// Set by `entrasift render` (the results folder it read): the report
    /// comes from a query engine's findings, which carry no sign-ins, so
    /// every section drawn from the sign-ins (summary counts, error codes,
    /// charts, tables, inputs, coverage) says so instead of showing zeros.
    pub engine: Option<&'a str>,
}
