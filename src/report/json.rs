//! `findings.json`: the versioned machine interface weekly jobs parse.
//! Keys and spellings are a contract; add, never rename.

use super::baseline::Comparison;
use crate::analyze::summary::Summary;
use crate::ingest::InputReport;
use crate::model::Finding;
use serde::Serialize;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Serialize)]
pub struct InputEntry<'a> {
    pub path: &'a str,
    /// `null` when the input matched no known format.
    pub format: Option<&'static str>,
    pub sha256: &'a str,
    pub bytes: u64,
    /// Rows/records read from the input.
    pub records: u64,
    pub parsed: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub skipped: u64,
    pub error: Option<&'a str>,
    pub rejected_by_reason: &'a std::collections::BTreeMap<String, u64>,
    pub problems: &'a [crate::ingest::Problem],
}

impl<'a> InputEntry<'a> {
    pub fn from(r: &'a InputReport) -> Self {
        InputEntry {
            path: &r.path,
            format: r.format.map(|f| f.as_str()),
            sha256: &r.sha256,
            bytes: r.bytes,
            records: r.records_read,
            parsed: r.parsed,
            duplicates: r.duplicates,
            rejected: r.rejected,
            skipped: r.skipped,
            error: r.error.as_deref(),
            rejected_by_reason: &r.rejected_by_reason,
            problems: &r.problems,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct FindingsDoc<'a> {
    pub schema_version: u32,
    /// None when rendered from engine results, which hold no sign-ins.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<&'a Summary>,
    /// The engine results the findings were read from (`entrasift render`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rendered_from: Option<&'a str>,
    pub inputs: Vec<InputEntry<'a>>,
    pub findings: &'a [Finding],
    /// Every account a finding names or smart lockout froze, strongest
    /// verdict first, with its reasons, findings and first action.
    pub accounts: &'a [crate::analyze::verdict::Account],
    /// Findings grouped by shared account or address in overlapping time.
    pub incidents: &'a [crate::analyze::incidents::Incident],
    /// For every detection: ran, partly ran, could not run, or disabled.
    pub coverage: &'a [crate::analyze::coverage::Coverage],
    /// What the presets' thresholds make of the same sign-ins; absent
    /// when rendered from engine results.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presets: Option<&'a crate::analyze::preset_check::PresetCheck>,
    /// Present with `--baseline`: new / ongoing / resolved and the change
    /// in totals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<&'a Comparison>,
}

pub fn document<'a>(
    summary: &'a Summary,
    inputs: &'a [InputReport],
    findings: &'a [Finding],
    story: &'a crate::analyze::Story,
    baseline: Option<&'a Comparison>,
) -> FindingsDoc<'a> {
    FindingsDoc {
        schema_version: SCHEMA_VERSION,
        summary: Some(summary),
        rendered_from: None,
        inputs: inputs.iter().map(InputEntry::from).collect(),
        findings,
        accounts: &story.accounts,
        incidents: &story.incidents,
        coverage: &story.coverage,
        presets: story.presets.as_ref(),
        baseline,
    }
}
