//! What each finding's accounts and IPs did around it: counts through the
//! finding's span for its activity chart, and their sign-ins a day either
//! side for its table.

use super::{ACTIVITY_FINDINGS, SIGNIN_TABLE_FINDINGS, SIGNIN_TABLE_ROWS};
use crate::analyze::timeline::{build_indexed, ActorIndex, Entry, Selector};
use crate::model::time::parse_time;
use crate::model::{FastHash, Finding, Severity, SignIn, StatusClass, Text};
use rayon::prelude::*;
use std::collections::HashSet;

/// Bins across an activity chart.
const BINS: i64 = 36;

/// The sign-ins of a finding's actors, binned over the finding's span
/// with a margin either side (a third of the span, at least ten minutes).
#[derive(Debug, Clone, PartialEq)]
pub struct FindingActivity {
    /// The finding's own span (µs, UTC).
    pub first: i64,
    pub last: i64,
    /// The binned range: `bins` bins of `bin_us` from `lo`; `hi` is its
    /// nominal end.
    pub lo: i64,
    pub hi: i64,
    pub bin_us: i64,
    pub bins: i64,
    /// Per bin.
    pub failures: Vec<i32>,
    pub interrupts: Vec<i32>,
    pub successes: Vec<i32>,
}

/// The first rows of a finding's timeline (`analyze::timeline`), and how
/// many there are in all.
pub struct SignInTable<'a> {
    pub entries: Vec<Entry<'a>>,
    pub total: usize,
}

/// True when a sign-in belongs to the finding's actors: the named accounts
/// from the named IPs when both are listed, otherwise whichever is.
/// Compared as interned values (a pointer each): a long finding's span
/// holds most of the export.
fn actor_filter(f: &Finding) -> impl Fn(&SignIn) -> bool {
    let set = |v: &[String]| -> HashSet<Text, FastHash> {
        v.iter().map(|s| Text::from(s.as_str())).collect()
    };
    let (users, ips) = (set(&f.users), set(&f.ips));
    move |r: &SignIn| match (users.is_empty(), ips.is_empty()) {
        (false, false) => users.contains(&r.user_principal_name) && ips.contains(&r.ip),
        (false, true) => users.contains(&r.user_principal_name),
        (true, false) => ips.contains(&r.ip),
        (true, true) => false,
    }
}

/// [`FindingActivity`] of one finding; `records` sorted by time.
pub fn activity(records: &[SignIn], f: &Finding) -> Option<FindingActivity> {
    let (a, b) = (parse_time(&f.first_seen)?, parse_time(&f.last_seen)?);
    let (first, last) = (a.min(b), a.max(b));
    let margin = ((last - first) / 3).max(10 * 60 * 1_000_000);
    let lo = first.saturating_sub(margin);
    let hi = last.saturating_add(margin);
    let bin_us = ((hi - lo) / BINS).max(1);
    let bins = (hi - lo) / bin_us + 1;

    let from = records.partition_point(|r| r.time_us < lo);
    let to = records.partition_point(|r| r.time_us <= hi);
    let matches = actor_filter(f);
    let mut failures = vec![0i32; bins as usize];
    let mut interrupts = vec![0i32; bins as usize];
    let mut successes = vec![0i32; bins as usize];
    for r in records.get(from..to).unwrap_or(&[]) {
        if !matches(r) {
            continue;
        }
        let i = ((r.time_us - lo) / bin_us).clamp(0, bins - 1) as usize;
        match r.status {
            StatusClass::Failure => failures[i] += 1,
            StatusClass::Interrupted => interrupts[i] += 1,
            StatusClass::Success => successes[i] += 1,
        }
    }
    Some(FindingActivity {
        first,
        last,
        lo,
        hi,
        bin_us,
        bins,
        failures,
        interrupts,
        successes,
    })
}

/// Activity of the first [`ACTIVITY_FINDINGS`] findings, side by side.
pub(super) fn charts(records: &[SignIn], findings: &[Finding]) -> Vec<Option<FindingActivity>> {
    findings
        .par_iter()
        .take(ACTIVITY_FINDINGS)
        .map(|f| activity(records, f))
        .collect()
}

/// Sign-in tables of the first [`SIGNIN_TABLE_FINDINGS`] findings that are
/// medium or above. Their accounts' and IPs' sign-ins are found in one
/// pass for all of them (`ActorIndex`), then each table is cut from it.
pub(super) fn tables<'a>(
    records: &'a [SignIn],
    findings: &[Finding],
) -> Vec<Option<SignInTable<'a>>> {
    let selectors: Vec<Option<Selector>> = findings
        .iter()
        .take(SIGNIN_TABLE_FINDINGS)
        .map(|f| (f.severity >= Severity::Medium).then(|| Selector::finding(f)))
        .collect();
    let index = ActorIndex::new(records, selectors.iter().flatten());
    selectors
        .par_iter()
        .map(|sel| {
            let (entries, total) =
                build_indexed(records, findings, sel.as_ref()?, &index, SIGNIN_TABLE_ROWS);
            (total > 0).then_some(SignInTable { entries, total })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::codes::status_class;
    use crate::model::time::format_time;
    use crate::model::Evidence;

    fn finding(users: &[&str], ips: &[&str], first: i64, last: i64, sev: Severity) -> Finding {
        Finding {
            id: "f".into(),
            kind: "password_spray".into(),
            severity: sev,
            title: "t".into(),
            ips: ips.iter().map(|s| s.to_string()).collect(),
            users: users.iter().map(|s| s.to_string()).collect(),
            error_codes: vec![],
            count: 1,
            first_seen: format_time(first),
            last_seen: format_time(last),
            window_seconds: 3600,
            evidence: Evidence::default(),
            remediation: vec![],
            related: vec![],
            techniques: vec![],
        }
    }

    #[test]
    fn activity_counts_the_actors_in_the_span_and_tables_follow_severity() {
        let t0 = 1_772_409_600_000_000i64;
        let min = 60_000_000i64;
        let r = |m: i64, user: &str, ip: &str, code: i64| SignIn {
            time_us: t0 + m * min,
            user_principal_name: user.into(),
            ip: ip.into(),
            error_code: code,
            status: status_class(code),
            ..Default::default()
        };
        let recs = vec![
            r(0, "a@x", "192.0.2.1", 50126),
            r(30, "a@x", "192.0.2.1", 50126),
            r(31, "b@x", "192.0.2.1", 50126),
            r(40, "a@x", "192.0.2.9", 50126),
            r(60, "a@x", "192.0.2.1", 0),
            r(3000, "a@x", "192.0.2.1", 50126),
        ];
        let both = finding(
            &["a@x"],
            &["192.0.2.1"],
            t0 + 30 * min,
            t0 + 60 * min,
            Severity::High,
        );
        let a = activity(&recs, &both).expect("a span");
        // Account and IP together: b@x and the other IP are not counted,
        // and the sign-ins outside the span plus margin are not either.
        assert_eq!(a.failures.iter().sum::<i32>(), 1);
        assert_eq!(a.successes.iter().sum::<i32>(), 1);
        assert_eq!(a.bins, BINS + 1);
        let low = finding(&["a@x"], &[], t0, t0, Severity::Low);
        let tables = tables(&recs, &[both.clone(), low]);
        assert_eq!(tables.len(), 2);
        assert!(tables[1].is_none(), "low findings get no table");
        // Account or IP, a day either side: all but the last two days later.
        let t = tables[0].as_ref().expect("a table");
        assert_eq!(t.total, 5);
        assert_eq!(t.entries.len(), 5);
        let mut undated = both;
        undated.first_seen = "not a time".into();
        assert!(activity(&recs, &undated).is_none());
    }
}
