//! Failure tables: by IP, user, app, country, client app, hour of day and
//! day, with interrupts kept apart from failures.
//!
//! polars forms the groups (hash group-by over the key column of the
//! normalized table); each group's figures are then read from the sign-ins
//! at the group's row indexes, which lets one pass fill every distinct-count
//! without materialising a column per statistic. Rows come out sorted by
//! failures, then key, so tables are deterministic.

use crate::ingest::fields::format_time;
use crate::model::columns as col;
use crate::model::{SignIn, StatusClass};
use polars::prelude::*;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeSet;

/// One row of a table grouped by an actor or attribute.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GroupRow {
    pub key: String,
    pub sign_ins: u64,
    pub failures: u64,
    pub interrupts: u64,
    pub successes: u64,
    /// Smart lockouts and other 50053 replies.
    pub lockouts: u64,
    pub users: u64,
    pub ips: u64,
    /// Distinct non-success codes, ascending, `;`-separated.
    pub codes: String,
    pub countries: String,
    pub asns: String,
    pub apps: u64,
    pub user_agents: u64,
    pub first_seen: String,
    pub last_seen: String,
    /// Last successful sign-in in the group (empty if none).
    pub last_success: String,
}

#[derive(Debug, Clone, Default)]
pub struct Tables {
    pub by_ip: Vec<GroupRow>,
    pub by_user: Vec<GroupRow>,
    pub by_app: Vec<GroupRow>,
    pub by_country: Vec<GroupRow>,
    pub by_client_app: Vec<GroupRow>,
    /// Keys `00`..`23` (UTC hour of day).
    pub by_hour: Vec<GroupRow>,
    /// Keys `YYYY-MM-DD` (UTC).
    pub by_day: Vec<GroupRow>,
}

impl Tables {
    /// (file stem, rows) in a fixed order, for writers.
    pub fn named(&self) -> [(&'static str, &[GroupRow]); 7] {
        [
            ("by_ip", &self.by_ip),
            ("by_user", &self.by_user),
            ("by_app", &self.by_app),
            ("by_country", &self.by_country),
            ("by_client_app", &self.by_client_app),
            ("by_hour", &self.by_hour),
            ("by_day", &self.by_day),
        ]
    }
}

/// Builds every table. `df` must be `normalize::to_dataframe(records, …)`
/// (same rows, same order).
pub fn tables(df: &DataFrame, records: &[SignIn]) -> PolarsResult<Tables> {
    if df.height() != records.len() {
        polars_bail!(ShapeMismatch: "table has {} rows but {} sign-ins were given", df.height(), records.len());
    }
    let mut work = df.select([
        col::IP,
        col::USER,
        col::APP_NAME,
        col::COUNTRY,
        col::CLIENT_APP,
    ])?;
    let hours: Vec<String> = records
        .iter()
        .map(|r| format!("{:02}", r.time_us.div_euclid(3_600_000_000).rem_euclid(24)))
        .collect();
    let days: Vec<String> = records
        .iter()
        .map(|r| {
            format_time(r.time_us.div_euclid(86_400_000_000) * 86_400_000_000)[..10].to_string()
        })
        .collect();
    work.with_column(Column::new("hour".into(), hours))?;
    work.with_column(Column::new("day".into(), days))?;
    // The seven tables are independent: build them on the rayon pool.
    let specs = [
        (col::IP, true),
        (col::USER, true),
        (col::APP_NAME, false),
        (col::COUNTRY, false),
        (col::CLIENT_APP, false),
        ("hour", false),
        ("day", false),
    ];
    let mut built = specs
        .par_iter()
        .map(|(key, skip_empty)| group(&work, key, records, *skip_empty))
        .collect::<PolarsResult<Vec<_>>>()?
        .into_iter();
    let mut next = || built.next().unwrap_or_default();
    Ok(Tables {
        by_ip: next(),
        by_user: next(),
        by_app: next(),
        by_country: next(),
        by_client_app: next(),
        by_hour: next(),
        by_day: next(),
    })
}

fn group(
    work: &DataFrame,
    key: &str,
    records: &[SignIn],
    skip_empty: bool,
) -> PolarsResult<Vec<GroupRow>> {
    let gb = work.group_by([key])?;
    let keys = gb.keys();
    let key_col = keys[0].str()?;
    let mut rows = Vec::new();
    for (gi, g) in gb.get_groups().iter().enumerate() {
        let name = key_col.get(gi).unwrap_or("").to_string();
        if skip_empty && name.is_empty() {
            continue;
        }
        let idx: Vec<usize> = match &g {
            GroupsIndicator::Idx((_, v)) => v.iter().map(|&i| i as usize).collect(),
            GroupsIndicator::Slice([first, len]) => {
                (*first as usize..(*first + *len) as usize).collect()
            }
        };
        rows.push(summarise(name, idx.into_iter().map(|i| &records[i])));
    }
    rows.sort_by(|a, b| {
        b.failures
            .cmp(&a.failures)
            .then_with(|| b.sign_ins.cmp(&a.sign_ins))
            .then_with(|| a.key.cmp(&b.key))
    });
    Ok(rows)
}

fn summarise<'a>(key: String, group: impl Iterator<Item = &'a SignIn>) -> GroupRow {
    let (mut n, mut failures, mut interrupts, mut successes, mut lockouts) = (0, 0, 0, 0, 0);
    let mut users = BTreeSet::new();
    let mut ips = BTreeSet::new();
    let mut codes = BTreeSet::new();
    let mut countries = BTreeSet::new();
    let mut asns = BTreeSet::new();
    let mut apps = BTreeSet::new();
    let mut agents = BTreeSet::new();
    let (mut first, mut last, mut last_ok) = (i64::MAX, i64::MIN, None::<i64>);
    for r in group {
        n += 1;
        match r.status {
            StatusClass::Failure => failures += 1,
            StatusClass::Interrupted => interrupts += 1,
            StatusClass::Success => {
                successes += 1;
                last_ok = Some(last_ok.map_or(r.time_us, |t| t.max(r.time_us)));
            }
        }
        if r.error_code == 50053 {
            lockouts += 1;
        }
        if r.status != StatusClass::Success {
            codes.insert(r.error_code);
        }
        for (set, v) in [
            (&mut users, &r.user_principal_name),
            (&mut ips, &r.ip),
            (&mut countries, &r.country),
            (&mut apps, &r.app_name),
            (&mut agents, &r.user_agent),
        ] {
            if !v.is_empty() {
                set.insert(v.as_str());
            }
        }
        if let Some(a) = r.asn {
            asns.insert(a);
        }
        first = first.min(r.time_us);
        last = last.max(r.time_us);
    }
    let join = |it: &mut dyn Iterator<Item = String>| it.collect::<Vec<_>>().join(";");
    GroupRow {
        key,
        sign_ins: n,
        failures,
        interrupts,
        successes,
        lockouts,
        users: users.len() as u64,
        ips: ips.len() as u64,
        codes: join(&mut codes.iter().map(|c| c.to_string())),
        countries: join(&mut countries.iter().map(|c| c.to_string())),
        asns: join(&mut asns.iter().map(|a| a.to_string())),
        apps: apps.len() as u64,
        user_agents: agents.len() as u64,
        first_seen: format_time(first),
        last_seen: format_time(last),
        last_success: last_ok.map(format_time).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::codes::status_class;
    use crate::normalize::to_dataframe;

    fn s(t: i64, user: &str, ip: &str, code: i64) -> SignIn {
        SignIn {
            time_us: t * 60_000_000,
            user_principal_name: user.into(),
            ip: ip.into(),
            error_code: code,
            status: status_class(code),
            country: "NG".into(),
            ..Default::default()
        }
    }

    #[test]
    fn spray_ip_tops_the_ip_table_and_interrupts_stay_apart() {
        let mut recs = vec![];
        for u in 0..12 {
            recs.push(s(u, &format!("u{u}@c.com"), "203.0.113.9", 50126));
        }
        recs.push(s(20, "u1@c.com", "198.51.100.1", 50074));
        recs.push(s(21, "u1@c.com", "198.51.100.1", 0));
        recs.push(s(22, "u2@c.com", "", 50053));
        let df = to_dataframe(&recs, &[]).unwrap();
        let t = tables(&df, &recs).unwrap();
        assert_eq!(t.by_ip.len(), 2, "rows without an IP are not an IP row");
        let top = &t.by_ip[0];
        assert_eq!(
            (
                top.key.as_str(),
                top.failures,
                top.users,
                top.codes.as_str()
            ),
            ("203.0.113.9", 12, 12, "50126")
        );
        let office = &t.by_ip[1];
        assert_eq!(
            (office.failures, office.interrupts, office.successes),
            (0, 1, 1)
        );
        let u1 = t.by_user.iter().find(|r| r.key == "u1@c.com").unwrap();
        assert_eq!((u1.failures, u1.interrupts, u1.ips), (1, 1, 2));
        assert_eq!(u1.last_success, "1970-01-01T00:21:00Z");
        let u2 = t.by_user.iter().find(|r| r.key == "u2@c.com").unwrap();
        assert_eq!(u2.lockouts, 1);
        assert_eq!(t.by_hour.len(), 1);
        assert_eq!(t.by_day[0].key, "1970-01-01");
        assert_eq!(t.by_country[0].sign_ins, 15);
    }
}
