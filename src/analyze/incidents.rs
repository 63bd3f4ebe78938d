//! Incidents: findings that tell one story, told once.
//!
//! A spray, the brute force that followed on one of its accounts, the
//! success after it and the legacy-protocol attempts from the same address
//! are one incident, not four alerts. Two findings belong together when
//! they name a common account or address and their times overlap (each
//! stretched by an hour, so an attack and the success that ends it a few
//! minutes later still meet). Incidents are the connected groups; each
//! finding lists the others of its incident in `related`.
//!
//! Tenant-wide findings name no account or address of their own (a lockout
//! wave's actor is the tenant) and link only through the accounts they
//! list.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::model::{Finding, Severity};

/// Slack on each side of a finding's time span when looking for overlap.
const SLACK_US: i64 = 3_600_000_000;

/// One incident: its findings, strongest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incident {
    /// `incident-` and the lead finding's id suffix: stable across runs.
    pub id: String,
    pub severity: Severity,
    /// The lead finding's title.
    pub title: String,
    pub first_seen: String,
    pub last_seen: String,
    /// Ids, strongest first (the order of the findings list).
    pub findings: Vec<String>,
    /// Every account and address its findings name.
    pub users: Vec<String>,
    pub ips: Vec<String>,
}

fn span(f: &Finding) -> (i64, i64) {
    let t = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .map(|d| d.timestamp_micros())
            .unwrap_or(0)
    };
    (
        t(&f.first_seen).saturating_sub(SLACK_US),
        t(&f.last_seen).saturating_add(SLACK_US),
    )
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// Links related findings (fills `related`) and returns the incidents, in
/// the order of their lead findings. `findings` must already be in report
/// order (strongest first).
pub fn link(findings: &mut [Finding]) -> Vec<Incident> {
    let n = findings.len();
    let spans: Vec<(i64, i64)> = findings.iter().map(span).collect();
    let mut parent: Vec<usize> = (0..n).collect();
    // Findings per account and per address; pairs are checked only within
    // a key, so the cost follows how many findings share a key.
    let mut by_key: BTreeMap<(u8, &str), Vec<usize>> = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        for u in &f.users {
            by_key.entry((0, u.as_str())).or_default().push(i);
        }
        for ip in &f.ips {
            by_key.entry((1, ip.as_str())).or_default().push(i);
        }
    }
    for members in by_key.values() {
        for (a_pos, &a) in members.iter().enumerate() {
            for &b in &members[a_pos + 1..] {
                let (sa, ea) = spans[a];
                let (sb, eb) = spans[b];
                if sa <= eb && sb <= ea {
                    let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
                    if ra != rb {
                        parent[ra.max(rb)] = ra.min(rb);
                    }
                }
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..n {
        let root = find(&mut parent, i);
        groups.entry(root).or_default().push(i);
    }
    let mut incidents = Vec::with_capacity(groups.len());
    for members in groups.values() {
        let ids: Vec<String> = members.iter().map(|&i| findings[i].id.clone()).collect();
        for &i in members {
            findings[i].related = ids
                .iter()
                .filter(|id| **id != findings[i].id)
                .cloned()
                .collect();
        }
        // The root is the smallest index: the strongest, earliest finding.
        let lead = &findings[members[0]];
        let users: BTreeSet<&str> = members
            .iter()
            .flat_map(|&i| findings[i].users.iter().map(String::as_str))
            .collect();
        let ips: BTreeSet<&str> = members
            .iter()
            .flat_map(|&i| findings[i].ips.iter().map(String::as_str))
            .collect();
        let first = members
            .iter()
            .map(|&i| findings[i].first_seen.as_str())
            .min()
            .unwrap_or_default();
        let last = members
            .iter()
            .map(|&i| findings[i].last_seen.as_str())
            .max()
            .unwrap_or_default();
        let suffix = lead.id.rsplit('-').next().unwrap_or(&lead.id);
        incidents.push(Incident {
            id: format!("incident-{suffix}"),
            severity: members
                .iter()
                .map(|&i| findings[i].severity)
                .max()
                .unwrap_or(Severity::Info),
            title: lead.title.clone(),
            first_seen: first.to_string(),
            last_seen: last.to_string(),
            findings: ids,
            users: users.into_iter().map(String::from).collect(),
            ips: ips.into_iter().map(String::from).collect(),
        });
    }
    incidents
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Evidence;

    fn finding(
        id: &str,
        sev: Severity,
        users: &[&str],
        ips: &[&str],
        from: &str,
        to: &str,
    ) -> Finding {
        Finding {
            id: id.to_string(),
            kind: id.split('-').next().unwrap_or_default().to_string(),
            severity: sev,
            title: id.to_string(),
            ips: ips.iter().map(|s| s.to_string()).collect(),
            users: users.iter().map(|s| s.to_string()).collect(),
            error_codes: Vec::new(),
            count: 1,
            first_seen: from.to_string(),
            last_seen: to.to_string(),
            window_seconds: 0,
            evidence: Evidence::default(),
            remediation: Vec::new(),
            related: Vec::new(),
            techniques: Vec::new(),
        }
    }

    #[test]
    fn one_story_is_one_incident() {
        let mut f = vec![
            finding(
                "brute_force-1",
                Severity::Critical,
                &["a@x"],
                &["203.0.113.9"],
                "2024-03-04T08:00:00Z",
                "2024-03-04T08:20:00Z",
            ),
            finding(
                "success_after_failures-2",
                Severity::Critical,
                &["a@x"],
                &["203.0.113.9"],
                "2024-03-04T08:00:00Z",
                "2024-03-04T08:21:00Z",
            ),
            finding(
                "password_spray-3",
                Severity::High,
                &["a@x", "b@x"],
                &["203.0.113.9"],
                "2024-03-04T07:30:00Z",
                "2024-03-04T08:00:00Z",
            ),
            finding(
                "legacy_auth-4",
                Severity::Low,
                &["b@x", "c@x"],
                &["203.0.113.9"],
                "2024-03-04T07:40:00Z",
                "2024-03-04T07:50:00Z",
            ),
            // The same address a week later: another story.
            finding(
                "malicious_ip-5",
                Severity::High,
                &["d@x"],
                &["203.0.113.9"],
                "2024-03-11T08:00:00Z",
                "2024-03-11T08:10:00Z",
            ),
            // Unrelated account the same morning.
            finding(
                "impossible_travel-6",
                Severity::High,
                &["e@x"],
                &["198.51.100.1"],
                "2024-03-04T08:00:00Z",
                "2024-03-04T08:30:00Z",
            ),
        ];
        let incidents = link(&mut f);
        assert_eq!(incidents.len(), 3, "{incidents:#?}");
        assert_eq!(
            incidents[0].findings,
            vec![
                "brute_force-1",
                "success_after_failures-2",
                "password_spray-3",
                "legacy_auth-4"
            ]
        );
        assert_eq!(incidents[0].severity, Severity::Critical);
        assert_eq!(incidents[0].users, vec!["a@x", "b@x", "c@x"]);
        assert_eq!(
            f[3].related,
            vec![
                "brute_force-1",
                "success_after_failures-2",
                "password_spray-3"
            ]
        );
        assert!(f[4].related.is_empty());
        assert!(f[5].related.is_empty());
        assert_eq!(incidents[0].id, "incident-1");
    }
}
