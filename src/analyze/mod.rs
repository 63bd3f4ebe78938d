//! Analysis over normalized sign-ins: the summary, aggregate tables,
//! attack detections, and the breakdowns the reports show.

pub mod agents;
pub mod aggregate;
pub mod breakdown;
pub mod coverage;
pub mod detect;
pub mod incidents;
pub mod preset_check;
pub mod profiles;
pub mod sigma;
pub mod summary;
pub mod tables_sql;
pub mod timeline;
pub mod usual;
pub mod verdict;

/// What the findings mean for the people and the run: each account's
/// verdict, the incidents the findings group into, which detections
/// could run on this input, and what the presets' thresholds make of it.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Story {
    pub accounts: Vec<verdict::Account>,
    pub incidents: Vec<incidents::Incident>,
    pub coverage: Vec<coverage::Coverage>,
    /// `None` when the findings come without their sign-ins (`render`).
    pub presets: Option<preset_check::PresetCheck>,
}

/// Reads the story out of the findings (which must be in report order):
/// links related findings into incidents and gives each account its
/// verdict.
pub fn story(
    findings: &mut [crate::model::Finding],
    records: &[crate::model::SignIn],
    cfg: &detect::DetectionConfig,
) -> Story {
    let incidents = incidents::link(findings);
    let findings = &*findings;
    let (accounts, coverage) = rayon::join(
        || verdict::accounts(findings, records),
        || detect::coverage_all(records, cfg),
    );
    Story {
        accounts,
        incidents,
        coverage,
        presets: None,
    }
}
