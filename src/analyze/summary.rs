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

/// Sign-ins per status class: success, failure, interrupted. Counted
/// straight off the records (one byte compare each); building a table
/// column only to count three values cost more than the count.
fn status_counts(records: &[SignIn]) -> [u64; 3] {
    let mut n = [0u64; 3];
    for r in records {
        n[status_slot(r.status)] += 1;
    }
    n
}

fn status_slot(s: StatusClass) -> usize {
    match s {
        StatusClass::Success => 0,
        StatusClass::Failure => 1,
        StatusClass::Interrupted => 2,
    }
}

fn failing(records: &[SignIn], key: impl Fn(&SignIn) -> &Text) -> u64 {
    let set: Distinct = records
        .iter()
        .filter(|r| r.status == StatusClass::Failure)
        .map(|r| *key(r))
        .filter(|k| !k.is_empty())
        .collect();
    set.len() as u64
}

pub fn summarize(records: &[SignIn], duplicates: u64, rejected: u64, skipped: u64) -> Summary {
    let counts = status_counts(records);
    let get = |k: StatusClass| counts[status_slot(k)];
    let users: Distinct = records
        .iter()
        .map(|r| r.user_principal_name)
        .filter(|u| !u.is_empty())
        .collect();
    let ips: Distinct = records
        .iter()
        .map(|r| r.ip)
        .filter(|u| !u.is_empty())
        .collect();
    struct Acc {
        count: u64,
        users: Distinct,
        ips: Distinct,
        first: i64,
        last: i64,
    }
    let mut by: BTreeMap<i64, Acc> = BTreeMap::new();
    for r in records.iter().filter(|r| r.status != StatusClass::Success) {
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
        failing_ips: failing(records, |r| &r.ip),
        targeted_users: failing(records, |r| &r.user_principal_name),
        first_seen: records.first().map(|r| format_time(r.time_us)),
        last_seen: records.last().map(|r| format_time(r.time_us)),
        by_error_code,
    }
}
