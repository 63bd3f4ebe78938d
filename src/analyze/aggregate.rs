//! Failure tables: by IP, user, app, country, client app, hour of day and
//! day, with interrupts kept apart from failures.
//!
//! polars forms the groups (hash group-by over the key column of the
//! normalized table); each group's figures are then read from the sign-ins
//! at the group's row indexes, which lets one pass fill every distinct-count
//! without materialising a column per statistic. Distinct users, IPs, apps
//! and user agents are counted on integer ids interned once per run, with a
//! "last group that counted this id" mark per id: seven tables each
//! inserting every sign-in's strings into ordered sets was most of the
//! aggregation time on large inputs. Rows come out sorted by failures, then
//! key, so tables are deterministic.

use crate::ingest::fields::format_time;
use crate::model::columns as col;
use crate::model::{SignIn, StatusClass};
use polars::prelude::*;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

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
    // Labels are made once per distinct hour and day, not per sign-in:
    // formatting a date per row was most of this function's time.
    const HOURS: [&str; 24] = [
        "00", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14",
        "15", "16", "17", "18", "19", "20", "21", "22", "23",
    ];
    let hours: Vec<&str> = records
        .iter()
        .map(|r| HOURS[r.time_us.div_euclid(3_600_000_000).rem_euclid(24) as usize])
        .collect();
    let mut day_names: BTreeMap<i64, String> = BTreeMap::new();
    for r in records {
        let d = r.time_us.div_euclid(86_400_000_000);
        day_names
            .entry(d)
            .or_insert_with(|| format_time(d * 86_400_000_000)[..10].to_string());
    }
    let days: Vec<&str> = records
        .iter()
        .map(|r| day_names[&r.time_us.div_euclid(86_400_000_000)].as_str())
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
    let ids = Ids::new(records);
    let mut built = specs
        .par_iter()
        .map(|(key, skip_empty)| group(&work, key, records, &ids, *skip_empty))
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

/// The fields counted as distinct values per group, in [`Ids`] order.
const COUNTED: usize = 4;

/// Per-record ids of the counted fields ([`NONE`] for an empty value,
/// which is never counted) and how many distinct values each field has.
struct Ids {
    ids: [Vec<u32>; COUNTED],
    distinct: [usize; COUNTED],
}

const NONE: u32 = u32::MAX;

impl Ids {
    fn new(records: &[SignIn]) -> Self {
        fn intern(records: &[SignIn], field: fn(&SignIn) -> &str) -> (Vec<u32>, usize) {
            let mut seen: HashMap<&str, u32> = HashMap::new();
            let ids = records
                .iter()
                .map(|r| match field(r) {
                    "" => NONE,
                    v => {
                        let next = seen.len() as u32;
                        *seen.entry(v).or_insert(next)
                    }
                })
                .collect();
            (ids, seen.len())
        }
        let fields: [fn(&SignIn) -> &str; COUNTED] = [
            |r| &r.user_principal_name,
            |r| &r.ip,
            |r| &r.app_name,
            |r| &r.user_agent,
        ];
        let mut parts: Vec<(Vec<u32>, usize)> =
            fields.par_iter().map(|f| intern(records, *f)).collect();
        Ids {
            distinct: std::array::from_fn(|f| parts[f].1),
            ids: std::array::from_fn(|f| std::mem::take(&mut parts[f].0)),
        }
    }
}

fn group(
    work: &DataFrame,
    key: &str,
    records: &[SignIn],
    ids: &Ids,
    skip_empty: bool,
) -> PolarsResult<Vec<GroupRow>> {
    let gb = work.group_by([key])?;
    let keys = gb.keys();
    let key_col = keys[0].str()?;
    let mut rows = Vec::new();
    // marks[f][id] = the last group that counted `id` of field `f`.
    let mut marks: Vec<Vec<u32>> = ids.distinct.iter().map(|&n| vec![NONE; n]).collect();
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
        let mut counts = [0u64; COUNTED];
        for &i in &idx {
            for (f, count) in counts.iter_mut().enumerate() {
                let id = ids.ids[f][i];
                if id != NONE && marks[f][id as usize] != gi as u32 {
                    marks[f][id as usize] = gi as u32;
                    *count += 1;
                }
            }
        }
        rows.push(summarise(name, idx.iter().map(|&i| &records[i]), counts));
    }
    rows.sort_by(|a, b| {
        b.failures
            .cmp(&a.failures)
            .then_with(|| b.sign_ins.cmp(&a.sign_ins))
            .then_with(|| a.key.cmp(&b.key))
    });
    Ok(rows)
}

/// One row from the group's sign-ins; `distinct` are the users, IPs, apps
/// and user agents counted by the caller.
fn summarise<'a>(
    key: String,
    group: impl Iterator<Item = &'a SignIn>,
    distinct: [u64; COUNTED],
) -> GroupRow {
    let (mut n, mut failures, mut interrupts, mut successes, mut lockouts) = (0, 0, 0, 0, 0);
    let mut codes = BTreeSet::new();
    let mut countries = BTreeSet::new();
    let mut asns = BTreeSet::new();
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
        if !r.country.is_empty() {
            countries.insert(r.country.as_str());
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
        users: distinct[0],
        ips: distinct[1],
        codes: join(&mut codes.iter().map(|c| c.to_string())),
        countries: join(&mut countries.iter().map(|c| c.to_string())),
        asns: join(&mut asns.iter().map(|a| a.to_string())),
        apps: distinct[2],
        user_agents: distinct[3],
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

    #[test]
    fn distinct_counts_match_a_plain_recount_on_generated_traffic() {
        use crate::generate::{build_dataset, GenerateOptions};
        let ds = build_dataset(&GenerateOptions {
            records: 3000,
            ..GenerateOptions::default()
        });
        let recs = ds.events;
        let df = to_dataframe(&recs, &[]).unwrap();
        let t = tables(&df, &recs).unwrap();
        let recount = |key: fn(&SignIn) -> &str, row: &GroupRow| {
            let group: Vec<&SignIn> = recs.iter().filter(|r| key(r) == row.key).collect();
            let n = |f: fn(&SignIn) -> &str| {
                group
                    .iter()
                    .map(|r| f(r))
                    .filter(|v| !v.is_empty())
                    .collect::<BTreeSet<_>>()
                    .len() as u64
            };
            [
                n(|r| &r.user_principal_name),
                n(|r| &r.ip),
                n(|r| &r.app_name),
                n(|r| &r.user_agent),
            ]
        };
        assert!(t.by_ip.len() > 20 && t.by_app.len() > 3);
        for (rows, key) in [
            (
                &t.by_ip,
                (|r: &SignIn| r.ip.as_str()) as fn(&SignIn) -> &str,
            ),
            (&t.by_app, |r: &SignIn| r.app_name.as_str()),
        ] {
            for row in rows {
                let got = [row.users, row.ips, row.apps, row.user_agents];
                assert_eq!(got, recount(key, row), "{}", row.key);
            }
        }
    }
}
