//! Shared machinery for the detections: record predicates (what counts as a
//! failed password attempt, what proves the password worked), per-key
//! grouping, sliding-window bursts, and building a [`Finding`].
//!
//! Bursts: a key's events (already in time order) are split into clusters
//! wherever two neighbours are more than one window apart. Inside a cluster
//! a window slides event by event (two pointers), and every window that
//! meets the thresholds is merged into one burst running from the first
//! qualifying window's start to the last one's end. Because clusters do not
//! depend on thresholds and yield at most one burst each, raising a
//! threshold can only drop or shrink findings, never add or split them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::Hash;
use std::ops::Range;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use super::{DetectionConfig, Events, KeyIndex};
use crate::model::codes::{self, LockoutCause};
use crate::model::{Evidence, Finding, Severity, SignIn, SourceRef, StatusClass, Text};

pub(crate) const MINUTE_US: i64 = 60_000_000;
pub(crate) const HOUR_US: i64 = 60 * MINUTE_US;
pub(crate) const DAY_US: i64 = 24 * HOUR_US;

/// Where a sign-in was, in words: "city, country", either alone, or the
/// address when Entra placed it nowhere. Shared by the detections' titles
/// and the verdicts that name a finding's places.
pub(crate) fn place_text(city: &str, country: &str, ip: &str) -> String {
    match (city.is_empty(), country.is_empty()) {
        (false, false) => format!("{city}, {country}"),
        (true, false) => country.to_string(),
        (false, true) => city.to_string(),
        (true, true) => ip.to_string(),
    }
}

/// No map of the detections lets its order reach output.
pub(crate) type Fast = crate::model::FastHash;

const MAX_SAMPLES: usize = 5;

pub(crate) fn minutes(m: u32) -> i64 {
    i64::from(m) * MINUTE_US
}

/// Whether a detection may look at this record at all: allowlisted sources
/// are invisible to every detection, so they can neither fire nor add to
/// someone else's counts.
pub(crate) fn visible(cfg: &DetectionConfig, r: &SignIn) -> bool {
    cfg.allowlist.is_empty() || !cfg.allowlist.contains(&r.ip)
}

/// 50053 cause, as `model::lockout` settled it for the record.
pub(crate) fn lockout_cause(r: &SignIn) -> LockoutCause {
    crate::model::lockout::cause(r)
}

/// A failed password attempt: a failure (never an interrupt) whose code is
/// in `codes` (empty = any failure). A 50053 counts only when it is a
/// lockout or of unknown cause: a malicious-IP or risk block is a verdict
/// on the source, not a guess. A code that proves the password was right
/// (500121, 53003, ...) is never one, whatever a preset lists: presets set
/// thresholds, they do not change what a code means.
pub(crate) fn is_credential_failure(r: &SignIn, codes: &[i64]) -> bool {
    if r.status != StatusClass::Failure
        || password_worked(r)
        || !(codes.is_empty() || codes.contains(&r.error_code))
    {
        return false;
    }
    r.error_code != 50053
        || matches!(
            lockout_cause(r),
            LockoutCause::SmartLockout | LockoutCause::Undetermined
        )
}

/// The first factor passed: a success, or a code Entra only returns after
/// the password was accepted (MFA required, expired password, CA block…).
/// 50057 is left out although the catalog lists it: Entra checks the
/// disabled flag before the password, so it says nothing about it.
pub(crate) fn password_worked(r: &SignIn) -> bool {
    r.status == StatusClass::Success
        || (r.error_code != 50057 && codes::proves_password(r.error_code))
}

/// Visible records for which `key` returns a key, grouped per key, each
/// group in time order.
pub(crate) fn group_by<'a, K: Ord + Hash>(
    ev: &Events<'a>,
    cfg: &DetectionConfig,
    key: impl FnMut(&'a SignIn) -> Option<K>,
) -> BTreeMap<K, Vec<usize>> {
    group_among(ev, cfg, 0..ev.records.len(), key)
}

/// [`group_by`] for a `key` that a clean success (success status, code 0)
/// never has: looks at the other records only.
pub(crate) fn group_unsuccessful_by<'a, K: Ord + Hash>(
    ev: &Events<'a>,
    cfg: &DetectionConfig,
    key: impl FnMut(&'a SignIn) -> Option<K>,
) -> BTreeMap<K, Vec<usize>> {
    group_among(ev, cfg, ev.unsuccessful().iter().copied(), key)
}

fn group_among<'a, K: Ord + Hash>(
    ev: &Events<'a>,
    cfg: &DetectionConfig,
    among: impl Iterator<Item = usize>,
    mut key: impl FnMut(&'a SignIn) -> Option<K>,
) -> BTreeMap<K, Vec<usize>> {
    // Hash first, order once at the end: with string keys a BTreeMap insert
    // per record spends most of its time comparing prefixes.
    let mut groups: HashMap<K, Vec<usize>, Fast> = HashMap::default();
    for i in among {
        let r = &ev.records[i];
        if !visible(cfg, r) {
            continue;
        }
        if let Some(k) = key(r) {
            groups.entry(k).or_default().push(i);
        }
    }
    groups
        .into_iter()
        .map(|(k, mut idx)| {
            // Gathered in index order; on records out of time order a
            // stable sort puts each group in time order, ties as they came.
            if !ev.time_sorted() {
                idx.sort_by_key(|&i| ev.records[i].time_us);
            }
            (k, idx)
        })
        .collect()
}

/// Visible records whose IP is in `ips`, per IP, in time order. Used to
/// look at everything else a suspicious source did.
pub(crate) fn records_by_ip<'a>(
    ev: &Events<'a>,
    cfg: &DetectionConfig,
    ips: &BTreeSet<&str>,
) -> BTreeMap<&'a str, Vec<usize>> {
    if ips.is_empty() {
        return BTreeMap::new();
    }
    let ips = ips.iter().map(|ip| Text::from(*ip));
    group_of(ev, cfg, ev.by_ip(), ips, |_| true)
}

/// What [`group_by`] returns for a key that is one of `keys` (values of
/// the field `index` is built on) on records that pass `keep`: read from
/// the index, so only those keys' records are looked at.
pub(crate) fn group_of<'a>(
    ev: &Events<'a>,
    cfg: &DetectionConfig,
    index: &KeyIndex,
    keys: impl IntoIterator<Item = Text>,
    mut keep: impl FnMut(&'a SignIn) -> bool,
) -> BTreeMap<&'a str, Vec<usize>> {
    let mut groups = BTreeMap::new();
    for k in keys {
        let Some(all) = index.get(&k) else {
            continue;
        };
        let idx: Vec<usize> = all
            .iter()
            .copied()
            .filter(|&i| visible(cfg, &ev.records[i]) && keep(&ev.records[i]))
            .collect();
        if !idx.is_empty() {
            // The index keeps each key's records in time order.
            groups.insert(k.as_str(), idx);
        }
    }
    groups
}

/// The part of `list` (record indexes in time order) from `from_us` to
/// `to_us`, both included: found by halving, so a question about a few
/// minutes of an account's week reads those minutes only.
pub(crate) fn between<'l>(
    recs: &[SignIn],
    list: &'l [usize],
    from_us: i64,
    to_us: i64,
) -> &'l [usize] {
    let start = list.partition_point(|&i| recs[i].time_us < from_us);
    let len = list[start..].partition_point(|&i| recs[i].time_us <= to_us);
    &list[start..start + len]
}

/// Distinct-value counter for a sliding window. Only counts are read, so
/// the hash order never reaches output.
pub(crate) struct Tally<K> {
    counts: HashMap<K, u32, Fast>,
}

impl<K> Default for Tally<K> {
    fn default() -> Self {
        Tally {
            counts: HashMap::default(),
        }
    }
}

impl<K: Hash + Eq> Tally<K> {
    pub(crate) fn add(&mut self, k: K) {
        *self.counts.entry(k).or_insert(0) += 1;
    }

    pub(crate) fn remove(&mut self, k: &K) {
        if let Some(n) = self.counts.get_mut(k) {
            *n -= 1;
            if *n == 0 {
                self.counts.remove(k);
            }
        }
    }

    pub(crate) fn distinct(&self) -> usize {
        self.counts.len()
    }

    pub(crate) fn contains(&self, k: &K) -> bool {
        self.counts.contains_key(k)
    }
}

/// What a detection tracks inside the sliding window.
pub(crate) trait WindowState<'a> {
    fn push(&mut self, r: &'a SignIn);
    fn pop(&mut self, r: &'a SignIn);
    fn qualifies(&self) -> bool;
}

/// Number of events in the window against a minimum.
pub(crate) struct CountAtLeast {
    pub(crate) n: usize,
    pub(crate) min: usize,
}

impl CountAtLeast {
    pub(crate) fn new(min: u32) -> Self {
        CountAtLeast {
            n: 0,
            min: min as usize,
        }
    }
}

impl WindowState<'_> for CountAtLeast {
    fn push(&mut self, _: &SignIn) {
        self.n += 1;
    }
    fn pop(&mut self, _: &SignIn) {
        self.n -= 1;
    }
    fn qualifies(&self) -> bool {
        self.n >= self.min.max(1)
    }
}

/// Distinct accounts in the window against a minimum.
pub(crate) struct UsersAtLeast<'a> {
    pub(crate) users: Tally<&'a str>,
    pub(crate) min: usize,
}

impl UsersAtLeast<'_> {
    pub(crate) fn new(min: u32) -> Self {
        UsersAtLeast {
            users: Tally::default(),
            min: min as usize,
        }
    }
}

impl<'a> WindowState<'a> for UsersAtLeast<'a> {
    fn push(&mut self, r: &'a SignIn) {
        self.users.add(r.user_principal_name.as_str());
    }
    fn pop(&mut self, r: &'a SignIn) {
        self.users.remove(&r.user_principal_name.as_str());
    }
    fn qualifies(&self) -> bool {
        self.users.distinct() >= self.min.max(1)
    }
}

/// Bursts of `events` (record indexes in time order) as ranges into
/// `events`; see the module doc for the merge rule.
pub(crate) fn bursts<'a, S: WindowState<'a>>(
    records: &'a [SignIn],
    events: &[usize],
    window_us: i64,
    state: &mut S,
) -> Vec<Range<usize>> {
    let time = |k: usize| records[events[k]].time_us;
    let mut out = Vec::new();
    let mut current: Option<Range<usize>> = None;
    let mut left = 0;
    for right in 0..events.len() {
        if right > 0 && time(right) - time(right - 1) > window_us {
            out.extend(current.take());
        }
        state.push(&records[events[right]]);
        while time(right) - time(left) > window_us {
            state.pop(&records[events[left]]);
            left += 1;
        }
        if state.qualifies() {
            match current.as_mut() {
                Some(b) => b.end = right + 1,
                None => current = Some(left..right + 1),
            }
        }
    }
    out.extend(current);
    out
}

/// For each target account (with the time its attack began), the first
/// record in `pool` at or after that time whose password worked. Sorted by
/// account.
pub(crate) fn password_worked_after<'a>(
    records: &'a [SignIn],
    pool: &[usize],
    targets: &BTreeMap<&str, i64>,
) -> BTreeMap<&'a str, usize> {
    let mut hits = BTreeMap::new();
    for &i in pool {
        let r = &records[i];
        let user = r.user_principal_name.as_str();
        if hits.contains_key(user) || !password_worked(r) {
            continue;
        }
        if targets.get(user).is_some_and(|&since| r.time_us >= since) {
            hits.insert(user, i);
        }
    }
    hits
}

/// `[{user, ip, error_code, time}]` for sign-ins whose password worked.
pub(crate) fn worked_json(records: &[SignIn], worked: &BTreeMap<&str, usize>) -> Value {
    Value::from(
        worked
            .values()
            .map(|&i| {
                let r = &records[i];
                serde_json::json!({
                    "user": r.user_principal_name,
                    "ip": r.ip,
                    "error_code": r.error_code,
                    "time": rfc3339(r.time_us),
                })
            })
            .collect::<Vec<_>>(),
    )
}

/// Earliest time each account appears among `events`.
pub(crate) fn first_time_per_user<'a>(
    records: &'a [SignIn],
    events: &[usize],
) -> BTreeMap<&'a str, i64> {
    let mut first: BTreeMap<&str, i64> = BTreeMap::new();
    for &i in events {
        let r = &records[i];
        let t = first
            .entry(r.user_principal_name.as_str())
            .or_insert(r.time_us);
        *t = (*t).min(r.time_us);
    }
    first
}

/// Sorted distinct non-empty values.
pub(crate) fn distinct<'a>(
    records: &'a [SignIn],
    events: &[usize],
    field: impl Fn(&'a SignIn) -> &'a str,
) -> Vec<&'a str> {
    let set: BTreeSet<&str> = events
        .iter()
        .map(|&i| field(&records[i]))
        .filter(|s| !s.is_empty())
        .collect();
    set.into_iter().collect()
}

/// "jane@contoso.com" for one account, "12 accounts" for several: how a
/// title names whom a source went after.
pub(crate) fn accounts_text(users: &[&str]) -> String {
    match users {
        [one] => (*one).to_string(),
        many => format!("{} accounts", many.len()),
    }
}

/// An address for a title, or a phrase when the export had none.
pub(crate) fn source_text(ip: &str) -> &str {
    if ip.is_empty() {
        UNKNOWN_ADDRESS
    } else {
        ip
    }
}

/// How a title names the source of sign-ins that carry no address.
pub(crate) const UNKNOWN_ADDRESS: &str = "an unknown address";

/// The addresses of a finding for its title: up to three by name, else
/// how many (`sql::three_or_count` in the SQL forms); none reads as
/// [`UNKNOWN_ADDRESS`].
pub(crate) fn addresses_text(ips: &[&str]) -> String {
    match ips.len() {
        0 => UNKNOWN_ADDRESS.to_string(),
        1..=3 => ips.join(", "),
        n => format!("{n} addresses"),
    }
}

/// The accounts among `events` with a clean success, sorted.
pub(crate) fn succeeded_users<'a>(records: &'a [SignIn], events: &[usize]) -> Vec<&'a str> {
    let ok: Vec<usize> = events
        .iter()
        .copied()
        .filter(|&i| records[i].status == StatusClass::Success)
        .collect();
    distinct(records, &ok, |r| r.user_principal_name.as_str())
}

/// A JSON list of every item: nothing a finding involves is cut.
pub(crate) fn json_list<S: AsRef<str>>(items: &[S]) -> Value {
    Value::from(
        items
            .iter()
            .map(|s| s.as_ref().to_string())
            .collect::<Vec<_>>(),
    )
}

pub(crate) fn rfc3339(us: i64) -> String {
    DateTime::<Utc>::from_timestamp_micros(us)
        .map(|d| d.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// "14 min", "3 h 5 min", "45 s": for titles.
pub(crate) fn span_text(us: i64) -> String {
    let secs = (us / 1_000_000).max(0);
    if secs < 60 {
        format!("{secs} s")
    } else if secs < 3600 {
        format!("{} min", secs / 60)
    } else if secs < 48 * 3600 {
        format!("{} h {} min", secs / 3600, secs % 3600 / 60)
    } else {
        format!("{} days", secs / 86_400)
    }
}

/// `s` when `n` is not 1.
pub(crate) fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn fnv1a64(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// `kind-<16 hex>` from kind, actor and first time: the same input always
/// yields the same id, so reports can be diffed run to run.
pub(crate) fn stable_id(kind: &str, actor: &str, first_us: i64) -> String {
    format!(
        "{kind}-{:016x}",
        fnv1a64(&format!("{kind}|{actor}|{first_us}"))
    )
}

/// Everything a detection decides; [`finding`] derives the rest from the
/// records.
pub(crate) struct Draft {
    pub(crate) kind: &'static str,
    /// Who or what the finding is about (an IP, an account, "tenant"); part
    /// of the id.
    pub(crate) actor: String,
    pub(crate) severity: Severity,
    pub(crate) title: String,
    /// The records the finding counts.
    pub(crate) events: Vec<usize>,
    /// Records shown first among the samples without being counted, e.g.
    /// the sign-in that got in after a spray.
    pub(crate) highlights: Vec<usize>,
    pub(crate) window_seconds: i64,
    pub(crate) facts: Vec<(&'static str, Value)>,
    pub(crate) remediation: Vec<String>,
}

impl Draft {
    pub(crate) fn new(
        kind: &'static str,
        actor: impl Into<String>,
        severity: Severity,
        title: String,
    ) -> Self {
        Draft {
            kind,
            actor: actor.into(),
            severity,
            title,
            events: Vec::new(),
            highlights: Vec::new(),
            window_seconds: 0,
            facts: Vec::new(),
            remediation: Vec::new(),
        }
    }

    pub(crate) fn fact(mut self, key: &'static str, value: impl Into<Value>) -> Self {
        self.facts.push((key, value.into()));
        self
    }
}

pub(crate) fn finding(ev: &Events, mut d: Draft) -> Finding {
    let records = ev.records;
    let by_time = |v: &mut Vec<usize>| {
        v.sort_by_key(|&i| (records[i].time_us, i));
        v.dedup();
    };
    by_time(&mut d.events);
    by_time(&mut d.highlights);
    let all: Vec<usize> = {
        let mut a = d.events.clone();
        a.extend(&d.highlights);
        by_time(&mut a);
        a
    };
    let first_us = all.first().map_or(0, |&i| records[i].time_us);
    let last_us = all.last().map_or(0, |&i| records[i].time_us);
    let ips = distinct(records, &all, |r| r.ip.as_str());
    let users = distinct(records, &all, |r| r.user_principal_name.as_str());
    let error_codes: BTreeSet<i64> = all.iter().map(|&i| records[i].error_code).collect();

    let mut sample_idx: Vec<usize> = d.highlights.iter().copied().take(MAX_SAMPLES - 1).collect();
    let room = MAX_SAMPLES - sample_idx.len();
    let n = d.events.len();
    if n <= room {
        sample_idx.extend(&d.events);
    } else if room == 1 {
        sample_idx.push(d.events[0]);
    } else {
        // Spread over the burst, first and last included.
        sample_idx.extend((0..room).map(|k| d.events[k * (n - 1) / (room - 1)]));
    }
    let samples = sample_idx
        .iter()
        .map(|&i| {
            let r = &records[i];
            SourceRef {
                request_id: r.request_id.to_string(),
                file: ev
                    .files
                    .get(r.source_file as usize)
                    .cloned()
                    .unwrap_or_default(),
                record: r.source_record,
            }
        })
        .collect();

    let mut facts: Vec<(String, Value)> = vec![
        ("distinct_users".to_string(), Value::from(users.len())),
        ("distinct_ips".to_string(), Value::from(ips.len())),
    ];
    facts.extend(d.facts.into_iter().map(|(k, v)| (k.to_string(), v)));

    Finding {
        id: stable_id(d.kind, &d.actor, first_us),
        kind: d.kind.to_string(),
        severity: d.severity,
        title: d.title,
        // Every account and address, however many: a responder forcing
        // resets from this list must not miss one.
        ips: ips.iter().map(|s| s.to_string()).collect(),
        users: users.iter().map(|s| s.to_string()).collect(),
        error_codes: error_codes.into_iter().collect(),
        count: n as u64,
        first_seen: rfc3339(first_us),
        last_seen: rfc3339(last_us),
        window_seconds: d.window_seconds,
        evidence: Evidence { samples, facts },
        remediation: d.remediation,
        related: Vec::new(),
        techniques: Vec::new(),
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Hand-built sign-ins for the detection tests.

    use super::*;
    use crate::model::SignInType;

    /// 2024-03-04T08:00:00Z.
    pub(crate) const T0_US: i64 = 1_709_539_200_000_000;

    /// A sign-in `sec` seconds after T0, with status derived from the code.
    pub(crate) fn signin(sec: i64, user: &str, ip: &str, code: i64) -> SignIn {
        SignIn {
            time_us: T0_US + sec * 1_000_000,
            user_principal_name: user.into(),
            ip: ip.into(),
            error_code: code,
            status: codes::status_class(code),
            app_name: "Office 365 Exchange Online".into(),
            client_app: "Browser".into(),
            user_agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36".into(),
            sign_in_type: SignInType::Interactive,
            ..SignIn::default()
        }
    }

    /// Sorts by time and numbers records the way a reader would.
    pub(crate) fn fixture(mut v: Vec<SignIn>) -> Vec<SignIn> {
        v.sort_by_key(|r| r.time_us);
        crate::model::lockout::settle(&mut v);
        for (n, r) in v.iter_mut().enumerate() {
            r.source_record = n as u64 + 1;
            if r.request_id.is_empty() {
                r.request_id = format!(
                    "{:08x}-0000-4000-8000-{:012x}",
                    n + 1,
                    r.time_us % 1_000_000_000_000
                )
                .into();
            }
        }
        v
    }

    pub(crate) fn files() -> Vec<String> {
        vec!["exports/signins_2024-03.json".to_string()]
    }

    /// Runs one detection over `records` with `cfg`.
    pub(crate) fn run(
        d: &dyn super::super::Detection,
        records: &[SignIn],
        cfg: &DetectionConfig,
    ) -> Vec<Finding> {
        let files = files();
        let ev = Events::new(records, &files);
        d.run(&ev, cfg)
    }

    pub(crate) fn fact<'f>(f: &'f Finding, key: &str) -> Option<&'f Value> {
        f.evidence
            .facts
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use crate::analyze::detect::Allowlist;

    /// `n` sign-ins of one account, a minute apart.
    fn minutes_of_one_account(n: i64) -> Vec<SignIn> {
        fixture(
            (0..n)
                .map(|k| signin(k * 60, "u@contoso.com", "198.51.100.1", 0))
                .collect(),
        )
    }

    #[test]
    fn between_takes_both_ends_and_nothing_else() {
        let recs = minutes_of_one_account(10);
        let all: Vec<usize> = (0..recs.len()).collect();
        let t = |k: i64| recs[0].time_us + k * 60_000_000;
        assert_eq!(between(&recs, &all, t(2), t(4)), &[2, 3, 4]);
        assert_eq!(between(&recs, &all, t(2) + 1, t(4) - 1), &[3]);
        assert!(between(&recs, &all, t(10), t(20)).is_empty());
        assert_eq!(between(&recs, &all, t(-5), t(0)), &[0]);
    }

    #[test]
    fn groups_come_back_in_time_order_whatever_the_record_order() {
        let recs = minutes_of_one_account(6);
        let mut reversed = recs.clone();
        reversed.reverse();
        let files = vec!["f".to_string()];
        let ev = Events::new(&reversed, &files);
        assert!(!ev.time_sorted());
        let groups = group_by(&ev, &DetectionConfig::default(), |r| {
            Some(r.user_principal_name)
        });
        let times: Vec<i64> = groups
            .values()
            .next()
            .unwrap()
            .iter()
            .map(|&i| reversed[i].time_us)
            .collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
        let by_user = &ev.by_user()[&recs[0].user_principal_name];
        assert_eq!(by_user, &[5, 4, 3, 2, 1, 0]);
        assert_eq!(ev.in_time_order(), vec![5, 4, 3, 2, 1, 0]);
    }

    #[test]
    fn grouping_the_unsuccessful_matches_grouping_everything() {
        // Mixed traffic, including a record whose status says success but
        // whose code does not (an inconsistent export): every key that a
        // clean success never has groups the same either way.
        let codes = [0, 0, 0, 50126, 50053, 50074, 50057, 50034, 0, 53003];
        let mut v: Vec<SignIn> = (0..400)
            .map(|k| {
                let user = format!("u{}@contoso.com", k % 7);
                let ip = format!("198.51.100.{}", k % 5);
                signin(k * 13, &user, &ip, codes[k as usize % codes.len()])
            })
            .collect();
        v[3].status = StatusClass::Success;
        let recs = fixture(v);
        let files = files();
        let ev = Events::new(&recs, &files);
        assert!(ev.unsuccessful().len() < recs.len());
        let cfg = DetectionConfig::default();
        let key = |r: &'_ SignIn| (r.error_code != 0).then_some((r.ip, r.error_code));
        let all = group_by(&ev, &cfg, key);
        assert_eq!(all, group_unsuccessful_by(&ev, &cfg, key));
        assert!(all.values().map(Vec::len).sum::<usize>() > 200);
        let failed = |r: &'_ SignIn| is_credential_failure(r, &[]).then_some(r.user_principal_name);
        assert_eq!(
            group_by(&ev, &cfg, failed),
            group_unsuccessful_by(&ev, &cfg, failed)
        );
        // Lookups in the run's per-IP and per-account indexes return what
        // a scan returns, also with part of the traffic allowlisted.
        let allowing = DetectionConfig {
            allowlist: Allowlist::new(["198.51.100.2"]).unwrap(),
            ..DetectionConfig::default()
        };
        for cfg in [&cfg, &allowing] {
            let ips = [
                "198.51.100.1",
                "198.51.100.2",
                "198.51.100.3",
                "203.0.113.1",
            ];
            let wanted: BTreeSet<&str> = ips.into_iter().collect();
            let scanned = group_by(&ev, cfg, |r| {
                wanted.contains(r.ip.as_str()).then_some(r.ip.as_str())
            });
            assert_eq!(records_by_ip(&ev, cfg, &wanted), scanned);
            let users = [Text::from("u1@contoso.com"), Text::from("u4@contoso.com")];
            let scanned = group_by(&ev, cfg, |r| {
                (password_worked(r) && users.contains(&r.user_principal_name))
                    .then_some(r.user_principal_name.as_str())
            });
            assert!(!scanned.is_empty());
            assert_eq!(
                group_of(&ev, cfg, ev.by_user(), users, password_worked),
                scanned
            );
        }
    }

    #[test]
    fn burst_straddling_a_bin_edge_is_one_burst() {
        // 10 failures from 08:15 to 08:24: a fixed 20-minute bin would cut
        // at 08:20 and see 5 + 5.
        let recs = fixture(
            (0..10)
                .map(|k| signin(15 * 60 + k * 60, "a@contoso.com", "203.0.113.9", 50126))
                .collect(),
        );
        let events: Vec<usize> = (0..recs.len()).collect();
        let mut st = CountAtLeast::new(10);
        let b = bursts(&recs, &events, minutes(20), &mut st);
        assert_eq!(b, vec![0..10]);
    }

    #[test]
    fn bursts_merge_within_a_cluster_and_split_on_long_pauses() {
        let mut v: Vec<SignIn> = (0..6)
            .map(|k| signin(k * 30, "a@contoso.com", "203.0.113.9", 50126))
            .collect();
        // Second burst after a 3-hour pause.
        v.extend((0..6).map(|k| signin(3 * 3600 + k * 30, "a@contoso.com", "203.0.113.9", 50126)));
        let recs = fixture(v);
        let events: Vec<usize> = (0..recs.len()).collect();
        let b = bursts(&recs, &events, minutes(10), &mut CountAtLeast::new(5));
        assert_eq!(b, vec![0..6, 6..12]);
        assert!(bursts(&recs, &events, minutes(10), &mut CountAtLeast::new(7)).is_empty());
    }

    #[test]
    fn interrupts_and_risk_blocks_are_not_password_attempts() {
        let mut mfa = signin(0, "a@contoso.com", "203.0.113.9", 50074);
        assert!(!is_credential_failure(&mfa, &[]));
        assert!(password_worked(&mfa));
        mfa.error_code = 50126;
        mfa.status = StatusClass::Failure;
        assert!(is_credential_failure(&mfa, &[50126]));
        assert!(!is_credential_failure(&mfa, &[50053]));
        let mut blocked = signin(0, "a@contoso.com", "203.0.113.9", 50053);
        blocked.failure_reason =
            "Sign-in was blocked because it came from an IP address with malicious activity."
                .into();
        assert!(!is_credential_failure(&blocked, &[50053]));
        blocked.failure_reason = "The account is locked, you've tried to sign in too many times with an incorrect user ID or password.".into();
        assert!(is_credential_failure(&blocked, &[50053]));
        let disabled = signin(0, "a@contoso.com", "203.0.113.9", 50057);
        assert!(!password_worked(&disabled));
    }

    #[test]
    fn ids_are_stable_and_kind_prefixed() {
        let a = stable_id("password_spray", "203.0.113.9", T0_US);
        assert_eq!(a, stable_id("password_spray", "203.0.113.9", T0_US));
        assert!(a.starts_with("password_spray-") && a.len() == "password_spray-".len() + 16);
        assert_ne!(a, stable_id("password_spray", "203.0.113.9", T0_US + 1));
        assert_eq!(rfc3339(T0_US), "2024-03-04T08:00:00Z");
    }

    #[test]
    fn finding_samples_spread_over_the_burst_and_lists_are_whole() {
        let recs = fixture(
            (0..150)
                .map(|k| {
                    signin(
                        k * 10,
                        &format!("user{k:03}@contoso.com"),
                        "203.0.113.9",
                        50126,
                    )
                })
                .collect(),
        );
        let files = files();
        let ev = Events::new(&recs, &files);
        let mut d = Draft::new("password_spray", "203.0.113.9", Severity::High, "t".into());
        d.events = (0..150).rev().collect();
        let f = finding(&ev, d);
        assert_eq!(f.users.len(), 150);
        assert_eq!(testing::fact(&f, "distinct_users"), Some(&Value::from(150)));
        assert_eq!(f.count, 150);
        let recs_no: Vec<u64> = f.evidence.samples.iter().map(|s| s.record).collect();
        assert_eq!(recs_no.first(), Some(&1));
        assert_eq!(recs_no.last(), Some(&150));
        assert_eq!(recs_no.len(), MAX_SAMPLES);
        assert_eq!(f.evidence.samples[0].file, "exports/signins_2024-03.json");
        assert_eq!(f.first_seen, "2024-03-04T08:00:00Z");
        assert_eq!(f.last_seen, "2024-03-04T08:24:50Z");
    }
}
