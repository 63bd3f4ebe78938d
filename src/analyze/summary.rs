//! Tenant-level totals and failures by error code: the `summary` part of
//! `findings.json`.

use crate::model::codes;
use crate::model::time::format_time;
use crate::model::{FastHash, SignIn, StatusClass, Text};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};

/// Distinct values, only ever counted: interned text hashes as a pointer,
/// where an ordered set compared strings a dozen times per sign-in.
type Distinct = HashSet<Text, FastHash>;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CodeRow {
    pub code: i64,
    pub name: String,
    pub category: String,
    pub status: &'static str,
    pub count: u64,
    pub users: u64,
    pub ips: u64,
    pub first_seen: String,
    pub last_seen: String,
}

impl CodeRow {
    /// A code's row: its counts, distinct (users, IPs) and (first, last)
    /// time, with its name, category and status class from the catalog.
    pub fn of(code: i64, count: u64, [users, ips]: [u64; 2], [first, last]: [i64; 2]) -> Self {
        let info = codes::lookup(code);
        CodeRow {
            code,
            name: info.map(|i| i.name.to_string()).unwrap_or_default(),
            category: info
                .map(|i| i.category.to_string())
                .unwrap_or_else(|| "unknown".into()),
            status: codes::status_class(code).as_str(),
            count,
            users,
            ips,
            first_seen: format_time(first),
            last_seen: format_time(last),
        }
    }

    /// Most frequent first, then by code.
    pub fn sort(rows: &mut [CodeRow]) {
        rows.sort_by(|a, b| b.count.cmp(&a.count).then(a.code.cmp(&b.code)));
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Summary {
    pub records: u64,
    pub successes: u64,
    pub failures: u64,
    pub interrupts: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub skipped: u64,
    pub distinct_users: u64,
    pub distinct_ips: u64,
    /// Distinct IPs with at least one failure.
    pub failing_ips: u64,
    /// Distinct users with at least one failure.
    pub targeted_users: u64,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    /// Every non-success code, most frequent first.
    pub by_error_code: Vec<CodeRow>,
}

fn status_slot(s: StatusClass) -> usize {
    match s {
        StatusClass::Success => 0,
        StatusClass::Failure => 1,
        StatusClass::Interrupted => 2,
    }
}

pub fn summarize(records: &[SignIn], duplicates: u64, rejected: u64, skipped: u64) -> Summary {
    // One pass for every count: the records are a few hundred bytes each,
    // so each pass over them is a pass over memory, whatever it counts.
    // Statuses are counted off the records (one byte compare each).
    struct Acc {
        count: u64,
        users: Distinct,
        ips: Distinct,
        first: i64,
        last: i64,
    }
    let mut by: BTreeMap<i64, Acc> = BTreeMap::new();
    let mut counts = [0u64; 3];
    let (mut users, mut ips) = (Distinct::default(), Distinct::default());
    let (mut failing_ips, mut targeted_users) = (Distinct::default(), Distinct::default());
    for r in records {
        counts[status_slot(r.status)] += 1;
        let failed = r.status == StatusClass::Failure;
        if !r.user_principal_name.is_empty() {
            users.insert(r.user_principal_name);
            if failed {
                targeted_users.insert(r.user_principal_name);
            }
        }
        if !r.ip.is_empty() {
            ips.insert(r.ip);
            if failed {
                failing_ips.insert(r.ip);
            }
        }
        if r.status != StatusClass::Success {
            let a = by.entry(r.error_code).or_insert(Acc {
                count: 0,
                users: Distinct::default(),
                ips: Distinct::default(),
                first: i64::MAX,
                last: i64::MIN,
            });
            a.count += 1;
            if !r.user_principal_name.is_empty() {
                a.users.insert(r.user_principal_name);
            }
            if !r.ip.is_empty() {
                a.ips.insert(r.ip);
            }
            a.first = a.first.min(r.time_us);
            a.last = a.last.max(r.time_us);
        }
    }
    let get = |k: StatusClass| counts[status_slot(k)];
    let mut by_error_code: Vec<CodeRow> = by
        .into_iter()
        .map(|(code, a)| {
            CodeRow::of(
                code,
                a.count,
                [a.users.len() as u64, a.ips.len() as u64],
                [a.first, a.last],
            )
        })
        .collect();
    CodeRow::sort(&mut by_error_code);
    Summary {
        records: records.len() as u64,
        successes: get(StatusClass::Success),
        failures: get(StatusClass::Failure),
        interrupts: get(StatusClass::Interrupted),
        duplicates,
        rejected,
        skipped,
        distinct_users: users.len() as u64,
        distinct_ips: ips.len() as u64,
        failing_ips: failing_ips.len() as u64,
        targeted_users: targeted_users.len() as u64,
        first_seen: records.first().map(|r| format_time(r.time_us)),
        last_seen: records.last().map(|r| format_time(r.time_us)),
        by_error_code,
    }
}
