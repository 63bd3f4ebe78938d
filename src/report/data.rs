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
    /// Set by `entrasift render`: the report comes from a query engine's
    /// results, which carry no sign-ins, so every section they cannot fill
    /// says so instead of showing zeros.
    pub engine: Option<Engine<'a>>,
}

/// What a report rendered from engine results holds.
#[derive(Debug, Clone, Copy)]
pub struct Engine<'a> {
    /// The results folder read.
    pub results: &'a str,
    /// The results include the sign-in tables (`tables/*.sql`): the
    /// summary, the error codes and the tables of `analyze` are filled
    /// from them. Charts, per-finding activity, the 50053 and user-agent
    /// breakdowns and coverage still need the sign-ins.
    pub tables: bool,
}

impl Engine<'_> {
    /// Engine results without the sign-in tables.
    pub fn findings_only(self) -> bool {
        !self.tables
    }

    /// What a report from these results cannot show, as plain text for
    /// every output to render.
    pub fn gaps(self) -> &'static str {
        if self.tables {
            "The results hold findings and the sign-in tables, not sign-ins: charts, \
             per-finding activity, the 50053 breakdown by cause and reason, the accounts each \
             risk block hit (see the risk blocks column of the account table), user agents \
             behind failures, detection coverage and what the other presets' thresholds raise \
             need entrasift analyze on the exports. \
             Rejected and skipped rows are counted when exports are read, so the results \
             cannot hold them. Remediation steps and finding error codes are not part of the \
             results either. The account verdicts are read from the findings alone; analyze \
             also reads each account's sign-ins (lockouts, later successes, its usual places) \
             and may judge an account more severely."
        } else {
            "The results hold findings, not sign-ins: the sign-in summary, error codes, \
             charts, top IPs and accounts, per-finding activity, detection coverage and what \
             the other presets' thresholds raise need entrasift analyze on the exports (or, \
             for all but the last two, the table queries, tables/*.sql, run beside the \
             detections). Remediation steps and finding error codes are not part of the \
             results either. The account verdicts are read from the findings alone; analyze \
             also reads each account's sign-ins (lockouts, later successes, its usual places) \
             and may judge an account more severely."
        }
    }
}
