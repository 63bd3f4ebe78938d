//! Failure tables: by IP, user, app, country, client app, hour of day and
//! day, with interrupts kept apart from failures.
//!
//! Record fields are interned ([`Text`]), so each key becomes a small
//! integer id in one hash pass, and a counting sort over the ids forms the
//! groups: two passes and a few bytes per sign-in, where a general group-by
//! over the string columns held hash tables and index lists several times
//! the size of the records. Distinct users, IPs, apps and user agents are
//! counted on the same ids with a "last group that counted this id" mark
//! per id. Rows come out sorted by failures, then key, so tables are
//! deterministic whatever order ids were handed out in.

use crate::model::codes::LockoutCause;
use crate::model::time::format_time;
use crate::model::{SignIn, StatusClass, Text};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{HashMap, HashSet};

type Fast = crate::model::FastHash;

/// One row of a table grouped by an actor or attribute.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GroupRow {
    pub key: String,
    pub sign_ins: u64,
    pub failures: u64,
    pub interrupts: u64,
    pub successes: u64,
    /// Smart lockouts: 50053 for too many wrong passwords (stated or
    /// inferred; see `model::lockout`).
    pub lockouts: u64,
    /// 50053 for a source address Microsoft holds as malicious.
    pub ip_blocks: u64,
    /// Risk blocks: 50053 for very high risk, 53011 and 530032.
    pub risk_blocks: u64,
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

const NONE: u32 = u32::MAX;
const US_PER_HOUR: i64 = 3_600_000_000;
const US_PER_DAY: i64 = 86_400_000_000;

/// A field's values as ids: `ids[i]` for record `i` ([`NONE`] when empty)
/// and the value of each id.
struct Interned {
    ids: Vec<u32>,
    values: Vec<Text>,
}

/// The slim rows and every interned field, in one pass over the records.
/// A record spans several cache lines: interning field by field read each
/// record six times more, and took twice the CPU even spread over the
/// pool.
fn slim_rows(records: &[SignIn]) -> (Vec<Interned>, Vec<Slim>) {
    let mut seen: [HashMap<Text, u32, Fast>; FIELDS.len()] = Default::default();
    let mut fields: Vec<Interned> = (0..FIELDS.len())
        .map(|_| Interned {
            ids: Vec::with_capacity(records.len()),
            values: Vec::new(),
        })
        .collect();
    let slims = records
        .iter()
        .map(|r| {
            let ids: [u32; FIELDS.len()] = std::array::from_fn(|f| {
                let (v, field) = (FIELDS[f](r), &mut fields[f]);
                let id = if v.is_empty() {
                    NONE
                } else {
                    *seen[f].entry(v).or_insert_with(|| {
                        field.values.push(v);
                        field.values.len() as u32 - 1
                    })
                };
                field.ids.push(id);
                id
            });
            Slim {
                time_us: r.time_us,
                error_code: r.error_code,
                asn: r.asn,
                country: ids[COUNTRY],
                counted: std::array::from_fn(|f| ids[f]),
                status: r.status,
                block: Block::of(r),
            }
        })
        .collect();
    (fields, slims)
}

/// The fields interned once per run: user, IP, app and user agent (the
/// first [`COUNTED`], in the order of [`GroupRow`]'s distinct counts), then
/// country and client app.
const USER: usize = 0;
const IP: usize = 1;
const APP: usize = 2;
const COUNTRY: usize = 4;
const CLIENT_APP: usize = 5;
const FIELDS: [fn(&SignIn) -> Text; 6] = [
    |r| r.user_principal_name,
    |r| r.ip,
    |r| r.app_name,
    |r| r.user_agent,
    |r| r.country,
    |r| r.client_app,
];
/// The first four are also counted as distinct values per group.
const COUNTED: usize = 4;

/// How one table's key is read: the group id of each record (`NONE`: not
/// in the table) and the key text of each group.
struct Keying {
    group_of: Vec<u32>,
    names: Vec<String>,
}

impl Keying {
    /// Groups by an interned field; sign-ins without a value form a group
    /// with an empty key unless `skip_empty`.
    fn field(f: &Interned, skip_empty: bool) -> Self {
        let mut names: Vec<String> = f.values.iter().map(|v| v.to_string()).collect();
        let empty = if skip_empty {
            NONE
        } else {
            names.push(String::new());
            names.len() as u32 - 1
        };
        let group_of = f
            .ids
            .iter()
            .map(|&id| if id == NONE { empty } else { id })
            .collect();
        Keying { group_of, names }
    }

    fn hour(records: &[Slim]) -> Self {
        Keying {
            group_of: records
                .iter()
                .map(|r| r.time_us.div_euclid(US_PER_HOUR).rem_euclid(24) as u32)
                .collect(),
            names: (0..24).map(|h| format!("{h:02}")).collect(),
        }
    }

    fn day(records: &[Slim]) -> Self {
        // Day numbers, then relative to the first: one pass over the rows
        // for the range instead of two, as a pass costs more than the
        // arithmetic.
        let mut group_of: Vec<u32> = Vec::with_capacity(records.len());
        let (mut first, mut last) = (i64::MAX, i64::MIN);
        for r in records {
            let d = r.time_us.div_euclid(US_PER_DAY);
            (first, last) = (first.min(d), last.max(d));
            // Days of a run fit in 32 bits; kept as an offset from an
            // arbitrary base until the first day is known.
            group_of.push(d as u32);
        }
        if records.is_empty() {
            (first, last) = (0, 0);
        }
        for g in &mut group_of {
            *g = g.wrapping_sub(first as u32);
        }
        Keying {
            group_of,
            // Labels are made once per day, not per sign-in.
            names: (first..=last)
                .map(|d| format_time(d * US_PER_DAY)[..10].to_string())
                .collect(),
        }
    }
}

/// What a table row reads of a sign-in. Groups gather members from all
/// over the run, and a whole record spans several cache lines: reading
/// these 56 bytes instead made the tables about twice as fast, and keeping
/// the counted ids in them (rather than in one array per field) turns five
/// scattered reads per member into one.
#[derive(Clone, Copy)]
struct Slim {
    time_us: i64,
    error_code: i64,
    asn: Option<i64>,
    /// Interned country id, or [`NONE`].
    country: u32,
    /// Interned ids of the fields counted as distinct values, or [`NONE`].
    counted: [u32; COUNTED],
    status: StatusClass,
    block: Block,
}

/// Which kind of block a sign-in was, for the three block columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    None,
    Lockout,
    Ip,
    Risk,
}

impl Block {
    fn of(r: &SignIn) -> Self {
        match r.error_code {
            50053 => match crate::model::lockout::cause(r) {
                LockoutCause::SmartLockout => Block::Lockout,
                LockoutCause::MaliciousIp => Block::Ip,
                LockoutCause::HighRiskBlock => Block::Risk,
                LockoutCause::Undetermined => Block::None,
            },
            53011 | 530032 => Block::Risk,
            _ => Block::None,
        }
    }
}

impl Slim {
    const EMPTY: Slim = Slim {
        time_us: 0,
        error_code: 0,
        asn: None,
        country: NONE,
        counted: [NONE; COUNTED],
        status: StatusClass::Success,
        block: Block::None,
    };
}

/// Builds every table from the normalized sign-ins.
pub fn tables(records: &[SignIn]) -> Tables {
    let (fields, slims) = slim_rows(records);
    let distinct: [usize; COUNTED] = std::array::from_fn(|f| fields[f].values.len());
    let countries = &fields[COUNTRY].values;
    // The seven tables are independent: build them on the rayon pool.
    let keyings: [&(dyn Fn() -> Keying + Sync); 7] = [
        &|| Keying::field(&fields[IP], true),
        &|| Keying::field(&fields[USER], true),
        &|| Keying::field(&fields[APP], false),
        &|| Keying::field(&fields[COUNTRY], false),
        &|| Keying::field(&fields[CLIENT_APP], false),
        &|| Keying::hour(&slims),
        &|| Keying::day(&slims),
    ];
    let mut built = keyings
        .par_iter()
        .map(|k| group(&k(), &slims, countries, &distinct))
        .collect::<Vec<_>>()
        .into_iter();
    let mut next = || built.next().unwrap_or_default();
    Tables {
        by_ip: next(),
        by_user: next(),
        by_app: next(),
        by_country: next(),
        by_client_app: next(),
        by_hour: next(),
        by_day: next(),
    }
}

/// The record indexes of each group, contiguous: a counting sort on the
/// group ids. Returns (indexes, start of each group plus a final end).
fn members(group_of: &[u32], groups: usize) -> (Vec<u32>, Vec<u32>) {
    let mut starts = vec![0u32; groups + 1];
    for &g in group_of.iter().filter(|&&g| g != NONE) {
        starts[g as usize + 1] += 1;
    }
    for i in 1..starts.len() {
        starts[i] += starts[i - 1];
    }
    let mut next = starts.clone();
    let mut order = vec![0u32; starts[groups] as usize];
    for (i, &g) in group_of.iter().enumerate() {
        if g != NONE {
            order[next[g as usize] as usize] = i as u32;
            next[g as usize] += 1;
        }
    }
    (order, starts)
}

fn group(
    keying: &Keying,
    records: &[Slim],
    countries: &[Text],
    distinct: &[usize; COUNTED],
) -> Vec<GroupRow> {
    let (order, starts) = members(&keying.group_of, keying.names.len());
    // marks[f][id] = the last group that counted `id` of field `f`.
    let mut marks: Vec<Vec<u32>> = distinct.iter().map(|&n| vec![NONE; n]).collect();
    let mut rows = Vec::new();
    let mut block = [Slim::EMPTY; BLOCK];
    for (g, name) in keying.names.iter().enumerate() {
        let idx = &order[starts[g] as usize..starts[g + 1] as usize];
        if idx.is_empty() {
            continue;
        }
        let mut row = Row::new(countries);
        // Members sit all over the run. Copying a block of them first lets
        // the CPU wait for their cache misses together rather than one
        // after another: that made the tables about twice as fast.
        for chunk in idx.chunks(BLOCK) {
            for (slot, &i) in block.iter_mut().zip(chunk) {
                *slot = records[i as usize];
            }
            for r in &block[..chunk.len()] {
                for (f, count) in row.distinct.iter_mut().enumerate() {
                    let id = r.counted[f];
                    if id != NONE && marks[f][id as usize] != g as u32 {
                        marks[f][id as usize] = g as u32;
                        *count += 1;
                    }
                }
                row.add(r);
            }
        }
        rows.push(row.finish(name.clone()));
    }
    sort_rows(&mut rows);
    rows
}

/// A table's order: most failures first, then most sign-ins, then key.
pub fn sort_rows(rows: &mut [GroupRow]) {
    rows.sort_by(|a, b| {
        b.failures
            .cmp(&a.failures)
            .then_with(|| b.sign_ins.cmp(&a.sign_ins))
            .then_with(|| a.key.cmp(&b.key))
    });
}

/// Members copied per block in [`group`].
const BLOCK: usize = 32;

/// A table row being summed up, one member at a time.
struct Row<'a> {
    country_names: &'a [Text],
    /// Users, IPs, apps and user agents, counted by [`group`].
    distinct: [u64; COUNTED],
    n: u64,
    failures: u64,
    interrupts: u64,
    successes: u64,
    lockouts: u64,
    ip_blocks: u64,
    risk_blocks: u64,
    // Sets are sorted once at the end rather than kept ordered: a group
    // holds up to every sign-in, its distinct values are few.
    codes: HashSet<i64, Fast>,
    countries: HashSet<Text, Fast>,
    asns: HashSet<i64, Fast>,
    first: i64,
    last: i64,
    last_ok: Option<i64>,
    last_country: u32,
    last_asn: Option<i64>,
}

impl<'a> Row<'a> {
    fn new(country_names: &'a [Text]) -> Self {
        Row {
            country_names,
            distinct: [0; COUNTED],
            n: 0,
            failures: 0,
            interrupts: 0,
            successes: 0,
            lockouts: 0,
            ip_blocks: 0,
            risk_blocks: 0,
            codes: HashSet::default(),
            countries: HashSet::default(),
            asns: HashSet::default(),
            first: i64::MAX,
            last: i64::MIN,
            last_ok: None,
            last_country: NONE,
            last_asn: None,
        }
    }

    fn add(&mut self, r: &Slim) {
        self.n += 1;
        match r.status {
            StatusClass::Failure => self.failures += 1,
            StatusClass::Interrupted => self.interrupts += 1,
            StatusClass::Success => {
                self.successes += 1;
                self.last_ok = Some(self.last_ok.map_or(r.time_us, |t| t.max(r.time_us)));
            }
        }
        match r.block {
            Block::None => {}
            Block::Lockout => self.lockouts += 1,
            Block::Ip => self.ip_blocks += 1,
            Block::Risk => self.risk_blocks += 1,
        }
        if r.status != StatusClass::Success {
            self.codes.insert(r.error_code);
        }
        // Members come in time order and mostly repeat the previous one's
        // country and network: skip the set when they do.
        if r.country != self.last_country {
            self.last_country = r.country;
            if let Some(&c) = self.country_names.get(r.country as usize) {
                self.countries.insert(c);
            }
        }
        if r.asn != self.last_asn {
            self.last_asn = r.asn;
            if let Some(a) = r.asn {
                self.asns.insert(a);
            }
        }
        self.first = self.first.min(r.time_us);
        self.last = self.last.max(r.time_us);
    }

    fn finish(self, key: String) -> GroupRow {
        let join = |it: &mut dyn Iterator<Item = String>| it.collect::<Vec<_>>().join(";");
        let (codes, asns) = (sorted(self.codes), sorted(self.asns));
        let countries = sorted(self.countries);
        GroupRow {
            key,
            sign_ins: self.n,
            failures: self.failures,
            interrupts: self.interrupts,
            successes: self.successes,
            lockouts: self.lockouts,
            ip_blocks: self.ip_blocks,
            risk_blocks: self.risk_blocks,
            users: self.distinct[0],
            ips: self.distinct[1],
            codes: join(&mut codes.iter().map(|c| c.to_string())),
            countries: join(&mut countries.iter().map(|c| c.to_string())),
            asns: join(&mut asns.iter().map(|a| a.to_string())),
            apps: self.distinct[2],
            user_agents: self.distinct[3],
            first_seen: format_time(self.first),
            last_seen: format_time(self.last),
            last_success: self.last_ok.map(format_time).unwrap_or_default(),
        }
    }
}

fn sorted<T: Ord>(set: HashSet<T, Fast>) -> Vec<T> {
    let mut v: Vec<T> = set.into_iter().collect();
    v.sort_unstable();
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::codes::status_class;

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
        recs.push(SignIn {
            failure_reason: "Account is locked because user tried to sign in too many times with an incorrect user ID or password.".into(),
            ..s(22, "u2@c.com", "", 50053)
        });
        recs.push(SignIn {
            failure_reason:
                "Sign-in was blocked because it came from an IP address with malicious activity"
                    .into(),
            ..s(23, "u3@c.com", "", 50053)
        });
        crate::model::lockout::settle(&mut recs);
        let t = tables(&recs);
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
        assert_eq!((u2.lockouts, u2.ip_blocks), (1, 0));
        // An address block is not a lockout: the fixes differ.
        let u3 = t.by_user.iter().find(|r| r.key == "u3@c.com").unwrap();
        assert_eq!((u3.lockouts, u3.ip_blocks, u3.risk_blocks), (0, 1, 0));
        assert_eq!(t.by_hour.len(), 1);
        assert_eq!(t.by_day[0].key, "1970-01-01");
        assert_eq!(t.by_country[0].sign_ins, 16);
    }

    #[test]
    fn distinct_counts_match_a_plain_recount_on_generated_traffic() {
        use crate::generate::{build_dataset, GenerateOptions};
        let ds = build_dataset(&GenerateOptions {
            records: 3000,
            ..GenerateOptions::default()
        });
        let recs = ds.events;
        let t = tables(&recs);
        let recount = |key: fn(&SignIn) -> &str, row: &GroupRow| {
            let group: Vec<&SignIn> = recs.iter().filter(|r| key(r) == row.key).collect();
            let n = |f: fn(&SignIn) -> &str| {
                group
                    .iter()
                    .map(|r| f(r))
                    .filter(|v| !v.is_empty())
                    .collect::<std::collections::BTreeSet<_>>()
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
