//! One actor through time: every sign-in of an account, of an IP address,
//! or of a finding's accounts and IPs, interactive and non-interactive
//! together, each with the markers a responder scans for (inside a
//! detection's window, a lockout and its cause, the first success after a
//! run of failures).

use crate::analyze::detect::lockout_cause;
use crate::model::codes::LockoutCause;
use crate::model::net::canonical_ip;
use crate::model::{FastHash, Finding, Severity, SignIn, StatusClass, Text};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap, HashSet};

/// Whose sign-ins to follow. Several users and IPs select their union.
#[derive(Debug, Clone, Default)]
pub struct Selector {
    users: BTreeSet<String>,
    ips: BTreeSet<String>,
    /// Inclusive bounds, microseconds since the epoch (UTC).
    pub from: Option<i64>,
    pub to: Option<i64>,
}

/// Padding either side of a finding's span when no explicit range is
/// given: enough to show what led up to it and what followed (a success
/// the next morning), not the whole export.
const FINDING_PADDING_US: i64 = 24 * 3600 * 1_000_000;

impl Selector {
    pub fn user(upn: &str) -> Self {
        let mut s = Selector::default();
        s.users.insert(upn.trim().to_lowercase());
        s
    }

    pub fn ip(ip: &str) -> Self {
        let mut s = Selector::default();
        s.ips.insert(canonical_ip(ip).to_string());
        s
    }

    /// The finding's accounts and IPs, from a day before its first event
    /// to a day after its last.
    pub fn finding(f: &Finding) -> Self {
        let bound = |t: &str, pad: i64| crate::model::time::parse_time(t).map(|t| t + pad);
        Selector {
            users: f.users.iter().cloned().collect(),
            ips: f.ips.iter().cloned().collect(),
            from: bound(&f.first_seen, -FINDING_PADDING_US),
            to: bound(&f.last_seen, FINDING_PADDING_US),
        }
    }

    /// The records in the selected time range: `records[lo..hi]`.
    fn range(&self, records: &[SignIn]) -> (usize, usize) {
        let lo = self
            .from
            .map_or(0, |t| records.partition_point(|r| r.time_us < t));
        let hi = self.to.map_or(records.len(), |t| {
            records.partition_point(|r| r.time_us <= t)
        });
        (lo, hi.max(lo))
    }

    /// The selection as interned values, so testing a record compares
    /// pointers instead of strings (a report builds one timeline per
    /// finding over most of the records).
    fn matcher(&self) -> impl Fn(&SignIn) -> bool {
        // foldhash over the interned strings' precomputed hashes: this test
        // runs on every sign-in in a finding's window, for every finding.
        let intern = |set: &BTreeSet<String>| -> HashSet<Text, foldhash::fast::FixedState> {
            set.iter().map(|s| Text::from(s.as_str())).collect()
        };
        let (users, ips) = (intern(&self.users), intern(&self.ips));
        move |r| users.contains(&r.user_principal_name) || ips.contains(&r.ip)
    }

    /// A short description for headings: `user a@b`, `IP 1.2.3.4`, ...
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        let list = |set: &BTreeSet<String>| {
            let shown: Vec<&str> = set.iter().take(3).map(String::as_str).collect();
            let more = set.len().saturating_sub(3);
            if more > 0 {
                format!("{} and {more} more", shown.join(", "))
            } else {
                shown.join(", ")
            }
        };
        if !self.users.is_empty() {
            parts.push(format!(
                "{} {}",
                if self.users.len() == 1 {
                    "account"
                } else {
                    "accounts"
                },
                list(&self.users)
            ));
        }
        if !self.ips.is_empty() {
            parts.push(format!(
                "{} {}",
                if self.ips.len() == 1 { "IP" } else { "IPs" },
                list(&self.ips)
            ));
        }
        parts.join(" or ")
    }
}

/// Why a sign-in stands out on the timeline.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Marker {
    /// Inside the time span of a finding that names this account or IP.
    Finding {
        id: String,
        kind: String,
        severity: Severity,
    },
    /// An AADSTS50053 lockout, with the cause the failure reason (or, when
    /// it is silent, the additional details) shows.
    Lockout { cause: &'static str },
    /// The first success of this account after failures with no success
    /// in between.
    SuccessAfterFailures { failures: u64 },
}

impl Marker {
    /// Compact text for tables and CSV.
    pub fn label(&self) -> String {
        match self {
            Marker::Finding { kind, severity, .. } => format!("{kind} ({})", severity.as_str()),
            Marker::Lockout { cause } => format!("lockout: {cause}"),
            Marker::SuccessAfterFailures { failures } => {
                format!("first success after {failures} failure(s)")
            }
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Entry<'a> {
    #[serde(flatten)]
    pub record: &'a SignIn,
    pub markers: Vec<Marker>,
}

/// The selected sign-ins in time order (the order of `records`, which
/// normalize sorts by time), each with its markers. `findings` supply the
/// detection windows.
pub fn build<'a>(records: &'a [SignIn], findings: &[Finding], sel: &Selector) -> Vec<Entry<'a>> {
    let (lo, hi) = sel.range(records);
    let selected = sel.matcher();
    let rows = records.get(lo..hi).unwrap_or(&[]).iter();
    entries(rows.filter(|r| selected(r)), findings)
}

/// Where the sign-ins of the accounts and IPs of some selectors are,
/// found in one pass over the records. A report draws a timeline for
/// each finding; one pass for all of them costs less than a scan of every
/// finding's two-day window.
pub struct ActorIndex {
    users: HashMap<Text, Vec<usize>, FastHash>,
    ips: HashMap<Text, Vec<usize>, FastHash>,
}

impl ActorIndex {
    pub fn new<'s>(records: &[SignIn], selectors: impl IntoIterator<Item = &'s Selector>) -> Self {
        let mut index = ActorIndex {
            users: HashMap::default(),
            ips: HashMap::default(),
        };
        for s in selectors {
            for u in &s.users {
                index.users.insert(Text::from(u.as_str()), Vec::new());
            }
            for ip in &s.ips {
                index.ips.insert(Text::from(ip.as_str()), Vec::new());
            }
        }
        for (i, r) in records.iter().enumerate() {
            if let Some(v) = index.users.get_mut(&r.user_principal_name) {
                v.push(i);
            }
            if let Some(v) = index.ips.get_mut(&r.ip) {
                v.push(i);
            }
        }
        index
    }
}

/// The first `rows` entries of [`build`] and how many there are in all,
/// reading the selected sign-ins from `index` (built over the same
/// records) instead of testing every record in the range. Only the rows
/// kept are marked: a busy office address can have tens of thousands of
/// sign-ins in a finding's two days, and a report shows a hundred. A
/// selector the index was not built for is served by [`build`].
pub fn build_indexed<'a>(
    records: &'a [SignIn],
    findings: &[Finding],
    sel: &Selector,
    index: &ActorIndex,
    rows: usize,
) -> (Vec<Entry<'a>>, usize) {
    let lists: Option<Vec<&Vec<usize>>> = sel
        .users
        .iter()
        .map(|u| index.users.get(&Text::from(u.as_str())))
        .chain(
            sel.ips
                .iter()
                .map(|ip| index.ips.get(&Text::from(ip.as_str()))),
        )
        .collect();
    let Some(lists) = lists else {
        let mut all = build(records, findings, sel);
        let total = all.len();
        all.truncate(rows);
        return (all, total);
    };
    let (lo, hi) = sel.range(records);
    let mut at: Vec<usize> = lists
        .into_iter()
        .flat_map(|v| {
            let (a, b) = (
                v.partition_point(|&i| i < lo),
                v.partition_point(|&i| i < hi),
            );
            v[a..b].iter().copied()
        })
        .collect();
    // An account's sign-ins from one of the selected IPs are in both lists.
    at.sort_unstable();
    at.dedup();
    // A row's markers depend only on the rows before it.
    let total = at.len();
    let head = entries(at.into_iter().take(rows).map(|i| &records[i]), findings);
    (head, total)
}

/// Entries for the selected sign-ins, in time order.
fn entries<'a>(selected: impl Iterator<Item = &'a SignIn>, findings: &[Finding]) -> Vec<Entry<'a>> {
    let windows = FindingWindows::new(findings);
    // Failures since the last success, per account, counted over the
    // selected range only: the marker is about what the responder sees.
    let mut failures_since_success: HashMap<Text, u64, FastHash> = HashMap::default();
    let mut out = Vec::new();
    for r in selected {
        let mut markers = windows.covering(r);
        if r.error_code == 50053 {
            markers.push(Marker::Lockout {
                cause: cause_label(lockout_cause(r), r.lockout.inferred),
            });
        }
        let run = failures_since_success
            .entry(r.user_principal_name)
            .or_default();
        match r.status {
            StatusClass::Failure => *run += 1,
            StatusClass::Success => {
                if *run > 0 {
                    markers.push(Marker::SuccessAfterFailures { failures: *run });
                }
                *run = 0;
            }
            StatusClass::Interrupted => {}
        }
        markers.sort();
        out.push(Entry { record: r, markers });
    }
    out
}

fn cause_label(c: LockoutCause, inferred: bool) -> &'static str {
    match (c, inferred) {
        (LockoutCause::SmartLockout, false) => "smart lockout",
        (LockoutCause::SmartLockout, true) => "smart lockout (inferred)",
        (LockoutCause::MaliciousIp, false) => "malicious IP",
        (LockoutCause::MaliciousIp, true) => "malicious IP (inferred)",
        (LockoutCause::HighRiskBlock, _) => "high risk",
        (LockoutCause::Undetermined, _) => "cause not stated",
    }
}

/// Findings indexed by account and IP, so marking a record costs a map
/// lookup rather than a scan of every finding.
struct FindingWindows<'f> {
    /// Keyed by the interned account or address, which hashes as a
    /// pointer: every selected sign-in is looked up twice.
    by_actor: HashMap<Text, Vec<(&'f Finding, i64, i64)>, FastHash>,
}

impl<'f> FindingWindows<'f> {
    fn new(findings: &'f [Finding]) -> Self {
        let mut by_actor: HashMap<Text, Vec<_>, FastHash> = HashMap::default();
        for f in findings {
            let parse = crate::model::time::parse_time;
            let (Some(a), Some(b)) = (parse(&f.first_seen), parse(&f.last_seen)) else {
                continue;
            };
            // Findings print whole seconds; the last event may lie later
            // within that second.
            let end = a.max(b) + 999_999;
            for actor in f.users.iter().chain(&f.ips) {
                by_actor
                    .entry(Text::from(actor.as_str()))
                    .or_default()
                    .push((f, a.min(b), end));
            }
        }
        FindingWindows { by_actor }
    }

    fn covering(&self, r: &SignIn) -> Vec<Marker> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for actor in [r.user_principal_name, r.ip] {
            for (f, a, b) in self.by_actor.get(&actor).into_iter().flatten() {
                if (*a..=*b).contains(&r.time_us) && seen.insert(f.id.as_str()) {
                    out.push(Marker::Finding {
                        id: f.id.clone(),
                        kind: f.kind.clone(),
                        severity: f.severity,
                    });
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Evidence;

    fn signin(t: i64, user: &str, ip: &str, code: i64) -> SignIn {
        SignIn {
            time_us: t * 1_000_000,
            user_principal_name: user.into(),
            ip: ip.into(),
            error_code: code,
            status: crate::model::codes::status_class(code),
            failure_reason: if code == 50053 {
                "Account is locked because user tried to sign in too many times with an incorrect user ID or password.".into()
            } else {
                Text::default()
            },
            ..Default::default()
        }
    }

    fn finding(users: &[&str], ips: &[&str], first: i64, last: i64) -> Finding {
        Finding {
            id: "f1".into(),
            kind: "password_spray".into(),
            severity: Severity::High,
            title: "t".into(),
            ips: ips.iter().map(|s| s.to_string()).collect(),
            users: users.iter().map(|s| s.to_string()).collect(),
            error_codes: vec![],
            count: 1,
            first_seen: crate::model::time::format_time(first * 1_000_000),
            last_seen: crate::model::time::format_time(last * 1_000_000),
            window_seconds: 3600,
            evidence: Evidence::default(),
            remediation: vec![],
            related: vec![],
            techniques: vec![],
        }
    }

    #[test]
    fn indexed_timelines_match_scanned_ones() {
        // Three accounts over four IPs for two days, with failures,
        // lockouts and successes; findings over parts of it, one naming an
        // account together with an IP it used (its rows are in both lists).
        let users = ["a@c.com", "b@c.com", "c@c.com"];
        let ips = [
            "198.51.100.1",
            "198.51.100.2",
            "198.51.100.3",
            "203.0.113.7",
        ];
        let codes = [0, 50126, 50053, 0, 50074, 0, 50126];
        let recs: Vec<SignIn> = (0..600)
            .map(|k| {
                let (u, ip) = (users[k % 3], ips[(k / 3) % 4]);
                signin(k as i64 * 300, u, ip, codes[k % codes.len()])
            })
            .collect();
        let findings = vec![
            finding(&["a@c.com"], &["198.51.100.2"], 30_000, 40_000),
            finding(&[], &["203.0.113.7"], 100_000, 101_000),
            finding(&["c@c.com", "b@c.com"], &[], 170_000, 175_000),
        ];
        let selectors: Vec<Selector> = findings.iter().map(Selector::finding).collect();
        let index = ActorIndex::new(&recs, &selectors);
        let key = |e: &[Entry]| -> Vec<(i64, Vec<Marker>)> {
            e.iter()
                .map(|e| (e.record.time_us, e.markers.clone()))
                .collect()
        };
        for sel in &selectors {
            let scanned = build(&recs, &findings, sel);
            assert!(scanned.len() > 10);
            let (all, total) = build_indexed(&recs, &findings, sel, &index, usize::MAX);
            assert_eq!((key(&all), total), (key(&scanned), scanned.len()));
            // The head alone is the same rows with the same markers.
            let (head, total) = build_indexed(&recs, &findings, sel, &index, 7);
            assert_eq!((key(&head), total), (key(&scanned[..7]), scanned.len()));
        }
        // A selector the index was not built for is still answered.
        let other = Selector::ip("198.51.100.3");
        let scanned = build(&recs, &findings, &other);
        let (head, total) = build_indexed(&recs, &findings, &other, &index, 2);
        assert_eq!((key(&head), total), (key(&scanned[..2]), scanned.len()));
    }

    #[test]
    fn follows_one_account_with_markers() {
        let recs = vec![
            signin(100, "a@x", "203.0.113.9", 50126),
            signin(110, "b@x", "203.0.113.9", 50126),
            signin(120, "a@x", "203.0.113.9", 50126),
            signin(130, "a@x", "203.0.113.9", 50053),
            signin(5000, "a@x", "198.51.100.1", 0),
            signin(6000, "a@x", "198.51.100.1", 0),
        ];
        let f = finding(&[], &["203.0.113.9"], 100, 130);
        let tl = build(&recs, std::slice::from_ref(&f), &Selector::user("A@X"));
        let times: Vec<i64> = tl.iter().map(|e| e.record.time_us / 1_000_000).collect();
        assert_eq!(times, [100, 120, 130, 5000, 6000]);
        assert!(matches!(tl[0].markers[0], Marker::Finding { .. }));
        assert!(tl[2].markers.contains(&Marker::Lockout {
            cause: "smart lockout"
        }));
        assert_eq!(
            tl[3].markers,
            [Marker::SuccessAfterFailures { failures: 3 }]
        );
        assert!(tl[4].markers.is_empty(), "second success is ordinary");
    }

    #[test]
    fn ip_and_range_and_finding_selection() {
        let recs: Vec<SignIn> = (0..10)
            .map(|i| {
                signin(
                    i * 100_000,
                    if i % 2 == 0 { "a@x" } else { "b@x" },
                    "192.0.2.1",
                    50126,
                )
            })
            .collect();
        let mut sel = Selector::ip("192.0.2.1");
        sel.from = Some(200_000 * 1_000_000);
        sel.to = Some(500_000 * 1_000_000);
        assert_eq!(build(&recs, &[], &sel).len(), 4);
        // A finding selects its actors a day either side of its span.
        let f = finding(&["b@x"], &[], 300_000, 300_000);
        let tl = build(&recs, std::slice::from_ref(&f), &Selector::finding(&f));
        let times: Vec<i64> = tl.iter().map(|e| e.record.time_us / 1_000_000).collect();
        assert_eq!(times, [300_000]);
        assert!(Selector::finding(&f).describe().contains("b@x"));
    }
}
