//! What the report's charts draw from the sign-ins: failures through time
//! by error category, failures by weekday and hour, and the failing peers
//! of the top IPs and accounts.

use super::RANKED;
use crate::analyze::aggregate::{GroupRow, Tables};
use crate::model::{codes, FastHash, SignIn, StatusClass, Text};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

const HOUR_US: i64 = 3_600_000_000;
const DAY_US: i64 = 24 * HOUR_US;

/// Failed sign-ins through time, by error category.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FailureSeries {
    /// Time of the first and last sign-in of any status (µs, UTC).
    pub span: Option<(i64, i64)>,
    /// Failures per catalog category (`unknown` for codes not in it).
    pub by_category: BTreeMap<&'static str, u64>,
    /// Failures per UTC hour (its start, µs) and category, in time order
    /// then category. Every coarser bar (a day, several days) is a sum of
    /// whole hours, so a chart can bucket these as it likes.
    pub hourly: Vec<(i64, &'static str, u32)>,
}

/// Failures by UTC weekday (Monday first) and hour of day.
pub type Heatmap = [[u32; 24]; 7];

pub(super) struct Series {
    pub failures: FailureSeries,
    pub heatmap: Heatmap,
    pub ip_targets: BTreeMap<String, u64>,
    pub user_sources: BTreeMap<String, u64>,
    pub failing_ips: Vec<String>,
}

/// The catalog category of a code, `unknown` when it is not catalogued.
pub fn category_of(code: i64) -> &'static str {
    codes::lookup(code).map_or("unknown", |i| i.category)
}

/// The category a failure is drawn in: the catalog's, except that 50053
/// goes by its settled cause, so an address block is never drawn (or
/// named in the legend) as a lockout.
fn record_category(r: &SignIn) -> &'static str {
    use crate::model::codes::LockoutCause;
    if r.error_code != 50053 {
        return category_of(r.error_code);
    }
    match crate::analyze::detect::lockout_cause(r) {
        LockoutCause::SmartLockout => "smart_lockout",
        LockoutCause::MaliciousIp => "blocked_address",
        LockoutCause::HighRiskBlock => "risk",
        LockoutCause::Undetermined => "50053_cause_unknown",
    }
}

/// Everything drawn from the failed sign-ins, picked in one pass (each
/// pass over a million records costs tens of ms in cache misses alone).
pub(super) fn of(records: &[SignIn], tables: &Tables) -> Series {
    let failures: Vec<&SignIn> = records
        .iter()
        .filter(|r| r.status == StatusClass::Failure)
        .collect();
    let mut by_category: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut hourly: HashMap<(i64, &'static str), u32, FastHash> = HashMap::default();
    let mut heatmap = [[0u32; 24]; 7];
    let mut failing: HashSet<Text, FastHash> = HashSet::default();
    for r in &failures {
        let category = record_category(r);
        *by_category.entry(category).or_default() += 1;
        *hourly
            .entry((r.time_us.div_euclid(HOUR_US) * HOUR_US, category))
            .or_default() += 1;
        let day = r.time_us.div_euclid(DAY_US);
        // 1970-01-01 was a Thursday (index 3 with Monday = 0).
        let weekday = (day + 3).rem_euclid(7) as usize;
        let hour = r.time_us.div_euclid(HOUR_US).rem_euclid(24) as usize;
        heatmap[weekday][hour] += 1;
        if !r.ip.is_empty() {
            failing.insert(r.ip);
        }
    }
    let mut hourly: Vec<(i64, &'static str, u32)> =
        hourly.into_iter().map(|((h, c), n)| (h, c, n)).collect();
    hourly.sort_unstable();
    let mut failing_ips: Vec<String> = failing
        .into_iter()
        .map(|t| t.as_str().to_string())
        .collect();
    failing_ips.sort_unstable();
    let top = |rows: &[GroupRow]| -> Vec<String> {
        rows.iter()
            .filter(|r| r.failures > 0)
            .take(RANKED)
            .map(|r| r.key.clone())
            .collect()
    };
    Series {
        failures: FailureSeries {
            span: records
                .first()
                .zip(records.last())
                .map(|(a, b)| (a.time_us, b.time_us)),
            by_category,
            hourly,
        },
        heatmap,
        ip_targets: failing_peers(
            &failures,
            &top(&tables.by_ip),
            |r| &r.ip,
            |r| &r.user_principal_name,
        ),
        user_sources: failing_peers(
            &failures,
            &top(&tables.by_user),
            |r| &r.user_principal_name,
            |r| &r.ip,
        ),
        failing_ips,
    }
}

/// Countries any sign-in came from, sorted: the keys of the country table,
/// which groups every sign-in (the empty key is the sign-ins without one).
pub(super) fn countries(tables: &Tables) -> Vec<String> {
    let mut v: Vec<String> = tables
        .by_country
        .iter()
        .filter(|r| !r.key.is_empty())
        .map(|r| r.key.clone())
        .collect();
    v.sort_unstable();
    v
}

/// For each of `keys`, how many distinct `peer` values its failed sign-ins
/// have (accounts an IP failed against, IPs an account failed from).
fn failing_peers(
    failures: &[&SignIn],
    keys: &[String],
    key: fn(&SignIn) -> &str,
    peer: fn(&SignIn) -> &str,
) -> BTreeMap<String, u64> {
    let wanted: BTreeSet<&str> = keys.iter().map(String::as_str).collect();
    let mut sets: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for r in failures {
        let (k, p) = (key(r), peer(r));
        if wanted.contains(k) && !p.is_empty() {
            sets.entry(k).or_default().insert(p);
        }
    }
    sets.into_iter()
        .map(|(k, v)| (k.to_string(), v.len() as u64))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::aggregate::tables;
    use crate::model::codes::status_class;

    #[test]
    fn series_heatmap_and_peers_count_failures_only() {
        // 2026-03-02 is a Monday.
        let monday = 1_772_409_600_000_000i64;
        let r = |t: i64, user: &str, ip: &str, code: i64| SignIn {
            time_us: t,
            user_principal_name: user.into(),
            ip: ip.into(),
            error_code: code,
            status: status_class(code),
            country: "NL".into(),
            ..Default::default()
        };
        let recs = vec![
            r(monday + 60_000_000, "a@x", "192.0.2.1", 50126),
            r(monday + 120_000_000, "b@x", "192.0.2.1", 50126),
            r(monday + 180_000_000, "c@x", "192.0.2.1", 0),
            r(monday + 2 * HOUR_US, "a@x", "192.0.2.2", 50053),
            r(monday + DAY_US + 5 * HOUR_US, "a@x", "192.0.2.2", 999_999),
        ];
        let t = tables(&recs);
        let s = of(&recs, &t);
        assert_eq!(s.failures.span, Some((recs[0].time_us, recs[4].time_us)));
        let total: u64 = s.failures.by_category.values().sum();
        assert_eq!(total, 4);
        assert_eq!(s.failures.by_category.get("unknown"), Some(&1));
        let hours: Vec<(i64, u32)> = s.failures.hourly.iter().map(|h| (h.0, h.2)).collect();
        assert_eq!(
            hours,
            [
                (monday, 2),
                (monday + 2 * HOUR_US, 1),
                (monday + DAY_US + 5 * HOUR_US, 1)
            ]
        );
        assert_eq!(s.heatmap[0][0], 2);
        assert_eq!(s.heatmap[0][2], 1);
        assert_eq!(s.heatmap[1][5], 1);
        assert_eq!(s.heatmap.iter().flatten().sum::<u32>(), 4);
        // The success of c@x does not make it a target of 192.0.2.1.
        assert_eq!(s.ip_targets.get("192.0.2.1"), Some(&2));
        assert_eq!(s.user_sources.get("a@x"), Some(&2));
        assert_eq!(s.failing_ips, ["192.0.2.1", "192.0.2.2"]);
        assert_eq!(countries(&t), ["NL"]);
    }
}
