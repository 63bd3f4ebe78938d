//! `--history DIR`: the weekly job's memory. Every report folder carries a
//! compact `history.json` for its run; a later run given the folder that
//! holds earlier reports reads them back, draws the trend and says what is
//! new since the latest earlier run (failing IPs, countries, findings).
//!
//! Runs are ordered by the period their data covers, not by when the job
//! ran, so a re-run of an old week slots into place.

use crate::analyze::breakdown::Breakdown;
use crate::analyze::summary::Summary;
use crate::model::{Finding, Severity};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// File name of a run's record inside its report folder.
pub const FILE: &str = "history.json";
const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("cannot read history folder {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// A finding reduced to what makes it "the same finding" across runs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct FindingKey {
    pub kind: String,
    pub ips: Vec<String>,
    pub users: Vec<String>,
    pub severity: Severity,
    pub title: String,
}

impl FindingKey {
    fn identity(&self) -> (&str, &[String], &[String]) {
        (&self.kind, &self.ips, &self.users)
    }
}

/// One run, as later runs see it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunRecord {
    pub schema_version: u32,
    pub period_start: Option<String>,
    pub period_end: Option<String>,
    pub sign_ins: u64,
    pub successes: u64,
    pub failures: u64,
    pub interrupts: u64,
    /// AADSTS50053 events.
    pub lockouts: u64,
    /// Distinct IPs named by password-spray findings (either kind).
    pub spray_ips: u64,
    /// Distinct accounts named by risky-user findings.
    pub risky_users: u64,
    /// Findings per severity.
    pub findings: BTreeMap<String, u64>,
    /// IPs with at least one failure, sorted.
    pub failing_ips: Vec<String>,
    /// Countries any sign-in came from, sorted.
    pub countries: Vec<String>,
    pub finding_keys: Vec<FindingKey>,
}

impl RunRecord {
    pub fn of(summary: &Summary, findings: &[Finding], breakdown: &Breakdown) -> Self {
        let named = |kinds: &[&str], users: bool| -> u64 {
            findings
                .iter()
                .filter(|f| kinds.contains(&f.kind.as_str()))
                .flat_map(|f| if users { &f.users } else { &f.ips })
                .collect::<BTreeSet<_>>()
                .len() as u64
        };
        let mut by_sev: BTreeMap<String, u64> = BTreeMap::new();
        for f in findings {
            *by_sev.entry(f.severity.as_str().to_string()).or_default() += 1;
        }
        let mut finding_keys: Vec<FindingKey> = findings
            .iter()
            .map(|f| {
                let (mut ips, mut users) = (f.ips.clone(), f.users.clone());
                ips.sort();
                users.sort();
                FindingKey {
                    kind: f.kind.clone(),
                    ips,
                    users,
                    severity: f.severity,
                    title: f.title.clone(),
                }
            })
            .collect();
        finding_keys.sort();
        RunRecord {
            schema_version: SCHEMA_VERSION,
            period_start: summary.first_seen.clone(),
            period_end: summary.last_seen.clone(),
            sign_ins: summary.records,
            successes: summary.successes,
            failures: summary.failures,
            interrupts: summary.interrupts,
            // Smart lockouts only: an address or risk block is another
            // event with another fix.
            lockouts: breakdown
                .lockout_causes
                .iter()
                .filter(|c| c.cause == crate::model::codes::LockoutCause::SmartLockout)
                .map(|c| c.sign_ins)
                .sum(),
            spray_ips: named(&["password_spray", "distributed_spray"], false),
            risky_users: named(&["risky_user"], true),
            findings: by_sev,
            failing_ips: breakdown.failing_ips.clone(),
            countries: breakdown.countries.clone(),
            finding_keys,
        }
    }
}

/// An earlier run found in the history folder.
#[derive(Debug, Clone)]
pub struct Run {
    /// The report folder's name (e.g. `2026-W10`).
    pub label: String,
    pub record: RunRecord,
}

#[derive(Debug, Clone)]
pub struct History {
    pub folder: String,
    /// Earlier runs, oldest period first.
    pub runs: Vec<Run>,
    /// This run, last point of every trend.
    pub current: RunRecord,
    /// Compared with the latest earlier run; empty without one.
    pub new_failing_ips: Vec<String>,
    pub new_countries: Vec<String>,
    pub new_findings: Vec<FindingKey>,
    /// Sub-folders that looked like runs but could not be read, with why.
    pub unreadable: Vec<(String, String)>,
}

impl History {
    /// The latest earlier run, which "new since" refers to.
    pub fn previous(&self) -> Option<&Run> {
        self.runs.last()
    }
}

/// Reads every `*/history.json` directly under `dir`, except the one in
/// `exclude` (this run's own folder, when it lives there).
pub fn load(dir: &Path, exclude: &Path, current: RunRecord) -> Result<History, HistoryError> {
    let io = |source| HistoryError::Io {
        path: dir.display().to_string(),
        source,
    };
    let entries = crate::analyze::profiles::run_folders(dir, exclude, FILE).map_err(io)?;
    let mut runs = Vec::new();
    let mut unreadable = Vec::new();
    for (label, p) in entries {
        let parsed = std::fs::read_to_string(p.join(FILE))
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str::<RunRecord>(&t).map_err(|e| e.to_string()));
        match parsed {
            Ok(r) if r.schema_version == SCHEMA_VERSION => runs.push(Run { label, record: r }),
            Ok(r) => unreadable.push((label, format!("schema_version {}", r.schema_version))),
            Err(e) => unreadable.push((label, e)),
        }
    }
    // By the data's period (RFC 3339 UTC strings sort as times), then name.
    runs.sort_by(|a, b| (&a.record.period_end, &a.label).cmp(&(&b.record.period_end, &b.label)));
    let (new_failing_ips, new_countries, new_findings) = match runs.last() {
        Some(prev) => {
            let p = &prev.record;
            let ips: BTreeSet<&String> = p.failing_ips.iter().collect();
            let countries: BTreeSet<&String> = p.countries.iter().collect();
            let keys: BTreeSet<_> = p.finding_keys.iter().map(FindingKey::identity).collect();
            (
                current
                    .failing_ips
                    .iter()
                    .filter(|i| !ips.contains(i))
                    .cloned()
                    .collect(),
                current
                    .countries
                    .iter()
                    .filter(|c| !countries.contains(c))
                    .cloned()
                    .collect(),
                current
                    .finding_keys
                    .iter()
                    .filter(|k| !keys.contains(&k.identity()))
                    .cloned()
                    .collect(),
            )
        }
        None => Default::default(),
    };
    Ok(History {
        folder: dir.display().to_string(),
        runs,
        current,
        new_failing_ips,
        new_countries,
        new_findings,
        unreadable,
    })
}

/// The trend series: (label, value per run, current last).
pub fn series(h: &History) -> Vec<(&'static str, Vec<u64>)> {
    let all: Vec<&RunRecord> = h
        .runs
        .iter()
        .map(|r| &r.record)
        .chain(std::iter::once(&h.current))
        .collect();
    let pick = |f: fn(&RunRecord) -> u64| all.iter().map(|r| f(r)).collect::<Vec<_>>();
    vec![
        ("Failures", pick(|r| r.failures)),
        ("Smart lockouts (50053)", pick(|r| r.lockouts)),
        ("Spray source IPs", pick(|r| r.spray_ips)),
        ("Risky users", pick(|r| r.risky_users)),
    ]
}

/// A short label per run for chart axes: the period's last day.
pub fn labels(h: &History) -> Vec<String> {
    let day = |r: &RunRecord| {
        r.period_end
            .as_deref()
            .and_then(|t| t.get(..10))
            .unwrap_or("?")
            .to_string()
    };
    h.runs
        .iter()
        .map(|r| day(&r.record))
        .chain(std::iter::once(day(&h.current)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(end: &str, ips: &[&str], countries: &[&str], kinds: &[&str]) -> RunRecord {
        RunRecord {
            schema_version: SCHEMA_VERSION,
            period_start: None,
            period_end: Some(end.into()),
            sign_ins: 10,
            successes: 5,
            failures: ips.len() as u64,
            interrupts: 0,
            lockouts: 1,
            spray_ips: 0,
            risky_users: 0,
            findings: BTreeMap::new(),
            failing_ips: ips.iter().map(|s| s.to_string()).collect(),
            countries: countries.iter().map(|s| s.to_string()).collect(),
            finding_keys: kinds
                .iter()
                .map(|k| FindingKey {
                    kind: k.to_string(),
                    ips: vec!["192.0.2.1".into()],
                    users: vec![],
                    severity: Severity::High,
                    title: k.to_string(),
                })
                .collect(),
        }
    }

    fn save(dir: &Path, name: &str, r: &RunRecord) {
        std::fs::create_dir_all(dir.join(name)).unwrap();
        std::fs::write(dir.join(name).join(FILE), serde_json::to_string(r).unwrap()).unwrap();
    }

    #[test]
    fn runs_order_by_period_and_new_is_against_the_latest() {
        let dir = tempfile::tempdir().unwrap();
        // Folder names sort the other way round from the periods.
        save(
            dir.path(),
            "b-old",
            &record(
                "2026-03-01T00:00:00Z",
                &["1.1.1.1"],
                &["US"],
                &["brute_force"],
            ),
        );
        save(
            dir.path(),
            "a-new",
            &record(
                "2026-03-08T00:00:00Z",
                &["2.2.2.2"],
                &["US", "DE"],
                &["lockout"],
            ),
        );
        std::fs::create_dir_all(dir.path().join("junk")).unwrap();
        std::fs::write(dir.path().join("junk").join(FILE), "{").unwrap();
        save(
            dir.path(),
            "this-run",
            &record("2026-03-15T00:00:00Z", &[], &[], &[]),
        );
        let current = record(
            "2026-03-15T00:00:00Z",
            &["1.1.1.1", "2.2.2.2", "3.3.3.3"],
            &["US", "DE", "NG"],
            &["lockout", "password_spray"],
        );
        let h = load(dir.path(), &dir.path().join("this-run"), current).unwrap();
        let names: Vec<&str> = h.runs.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(names, ["b-old", "a-new"]);
        assert_eq!(h.unreadable.len(), 1);
        // 1.1.1.1 failed two runs ago but not last run: new again.
        assert_eq!(h.new_failing_ips, ["1.1.1.1", "3.3.3.3"]);
        assert_eq!(h.new_countries, ["NG"]);
        assert_eq!(h.new_findings.len(), 1);
        assert_eq!(h.new_findings[0].kind, "password_spray");
        assert_eq!(series(&h)[0].1, [1, 1, 3]);
        assert_eq!(labels(&h), ["2026-03-01", "2026-03-08", "2026-03-15"]);
    }

    #[test]
    fn an_empty_history_has_nothing_new() {
        let dir = tempfile::tempdir().unwrap();
        let h = load(
            dir.path(),
            dir.path(),
            record("2026-03-15T00:00:00Z", &["1.1.1.1"], &[], &[]),
        )
        .unwrap();
        assert!(h.runs.is_empty() && h.new_failing_ips.is_empty() && h.previous().is_none());
        assert!(load(&dir.path().join("missing"), dir.path(), h.current.clone()).is_err());
    }
}
