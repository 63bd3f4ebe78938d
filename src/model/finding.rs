//! The analyze -> report contract: what a detection found.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "info" => Severity::Info,
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }
}

/// Where a piece of evidence came from, so a finding points back to the
/// exact input record.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SourceRef {
    pub request_id: String,
    /// Input path as given on the command line / found in a folder.
    pub file: String,
    pub record: u64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Evidence {
    /// Up to a handful of sample records that triggered the finding.
    pub samples: Vec<SourceRef>,
    /// Detection-specific figures (e.g. distinct users, speed in km/h),
    /// kept as ordered key/value pairs so output stays deterministic.
    pub facts: Vec<(String, serde_json::Value)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable: derived from kind, actor and first time.
    pub id: String,
    /// Detection kind, e.g. `password_spray`.
    pub kind: String,
    pub severity: Severity,
    pub title: String,
    pub ips: Vec<String>,
    pub users: Vec<String>,
    pub error_codes: Vec<i64>,
    pub count: u64,
    /// RFC 3339 UTC.
    pub first_seen: String,
    pub last_seen: String,
    /// The detection window in seconds that produced it.
    pub window_seconds: i64,
    pub evidence: Evidence,
    pub remediation: Vec<String>,
    /// Ids of the other findings of the same incident (same account or
    /// address, overlapping time); see `analyze::incidents`.
    #[serde(default)]
    pub related: Vec<String>,
    /// MITRE ATT&CK technique IDs (`T1110.003`, ...).
    #[serde(default)]
    pub techniques: Vec<String>,
}
