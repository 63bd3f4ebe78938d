//! `--baseline`: compare this run's findings and totals with an earlier
//! run's `findings.json`.
//!
//! Finding ids include the first time seen, so an attack that carries on
//! into this week gets a new id. Findings are therefore matched on kind and
//! actors (the sorted IPs and users), which is what an analyst means by
//! "the same finding".

use crate::analyze::summary::Summary;
use crate::model::Finding;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("cannot read baseline {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("baseline {path} is not a findings.json: {message}")]
    Format { path: String, message: String },
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Metric {
    pub name: &'static str,
    pub previous: u64,
    pub current: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Resolved {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub ips: Vec<String>,
    pub users: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Comparison {
    pub path: String,
    /// Ids of this run's findings with no match in the baseline.
    pub new: Vec<String>,
    /// Ids of this run's findings that match one in the baseline.
    pub ongoing: Vec<String>,
    /// Baseline findings with no match now.
    pub resolved: Vec<Resolved>,
    pub change: Vec<Metric>,
}

impl Comparison {
    pub fn status_of(&self, id: &str) -> Option<&'static str> {
        if self.new.iter().any(|x| x == id) {
            Some("new")
        } else if self.ongoing.iter().any(|x| x == id) {
            Some("ongoing")
        } else {
            None
        }
    }
}

type Actor = (String, Vec<String>, Vec<String>);

fn actor_of(kind: &str, ips: &[String], users: &[String]) -> Actor {
    let mut ips = ips.to_vec();
    let mut users = users.to_vec();
    ips.sort();
    users.sort();
    (kind.to_string(), ips, users)
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Reads a baseline: a report folder (its `findings.json`) or the file.
/// A baseline may be given as the earlier report folder or its file.
pub fn findings_file(path: &Path) -> std::path::PathBuf {
    if path.is_dir() {
        path.join("findings.json")
    } else {
        path.to_path_buf()
    }
}

pub fn compare(
    path: &Path,
    summary: &Summary,
    findings: &[Finding],
) -> Result<Comparison, BaselineError> {
    let file = findings_file(path);
    let shown = file.display().to_string();
    let text = std::fs::read_to_string(&file).map_err(|source| BaselineError::Io {
        path: shown.clone(),
        source,
    })?;
    let doc: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| BaselineError::Format {
            path: shown.clone(),
            message: e.to_string(),
        })?;
    if doc["schema_version"].as_u64() != Some(1) {
        return Err(BaselineError::Format {
            path: shown,
            message: "schema_version is not 1".into(),
        });
    }
    let prev_findings = doc["findings"].as_array().cloned().unwrap_or_default();
    let mut previous: BTreeMap<Actor, &serde_json::Value> = BTreeMap::new();
    for f in &prev_findings {
        previous.insert(
            actor_of(
                f["kind"].as_str().unwrap_or(""),
                &strings(&f["ips"]),
                &strings(&f["users"]),
            ),
            f,
        );
    }
    let mut seen: BTreeSet<Actor> = BTreeSet::new();
    let (mut new, mut ongoing) = (Vec::new(), Vec::new());
    for f in findings {
        let a = actor_of(&f.kind, &f.ips, &f.users);
        if previous.contains_key(&a) {
            ongoing.push(f.id.clone());
        } else {
            new.push(f.id.clone());
        }
        seen.insert(a);
    }
    let resolved = previous
        .iter()
        .filter(|(a, _)| !seen.contains(*a))
        .map(|(a, f)| Resolved {
            id: f["id"].as_str().unwrap_or("").to_string(),
            kind: a.0.clone(),
            title: f["title"].as_str().unwrap_or("").to_string(),
            ips: a.1.clone(),
            users: a.2.clone(),
        })
        .collect();
    let prev = |k: &str| doc["summary"][k].as_u64().unwrap_or(0);
    let change = vec![
        Metric {
            name: "failures",
            previous: prev("failures"),
            current: summary.failures,
        },
        Metric {
            name: "failing IPs",
            previous: prev("failing_ips"),
            current: summary.failing_ips,
        },
        Metric {
            name: "targeted users",
            previous: prev("targeted_users"),
            current: summary.targeted_users,
        },
        Metric {
            name: "sign-ins",
            previous: prev("records"),
            current: summary.records,
        },
    ];
    Ok(Comparison {
        path: shown,
        new,
        ongoing,
        resolved,
        change,
    })
}
