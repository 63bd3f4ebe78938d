//! Everything a human-facing report is built from, gathered once by
//! `commands::analyze` and handed to each writer.

use crate::analyze::aggregate::Tables;
use crate::analyze::summary::Summary;
use crate::ingest::InputReport;
use crate::model::{Finding, SignIn};

pub struct ReportData<'a> {
    pub summary: &'a Summary,
    pub tables: &'a Tables,
    /// Sorted by severity (highest first), then first seen.
    pub findings: &'a [Finding],
    pub inputs: &'a [InputReport],
    /// De-duplicated sign-ins sorted by time (for time-series charts).
    pub records: &'a [SignIn],
    /// `entrasift <version>`.
    pub tool: String,
    /// `--history`: earlier runs and what is new since the latest.
    pub history: Option<&'a crate::report::history::History>,
    /// `--display-tz`: local time beside UTC on the page.
    pub zone: Option<crate::report::zone::DisplayZone>,
    /// Address enrichment and range labels, when the run did them.
    pub enrichment: Option<&'a crate::enrich::EnrichReport>,
}
