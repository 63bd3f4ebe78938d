//! A password spray slowed below every per-hour threshold: a few failed
//! passwords per account per day, over days, spread across many addresses
//! that share one network or one client fingerprint.
//!
//! What it finds, why it matters, tuning and false positives:
//! `docs/low_and_slow_spray.md` (the registry in `mod.rs` serves it).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::presets::CREDENTIAL_CODES;
use super::registry::{Invalid, Settings};
use super::sql::{self, Bursts, Query};
use super::util::{self, Draft, Fast, UsersAtLeast, DAY_US, HOUR_US};
use super::{Detection, DetectionConfig, Events};
use crate::model::net::Network;
use crate::model::{Finding, Severity, SignIn, StatusClass, Text};
use serde::{Deserialize, Serialize};

pub struct LowAndSlowSpray;

const KIND: &str = "low_and_slow_spray";

/// The `[low_and_slow_spray]` table of the settings file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LowAndSlowSprayConfig {
    pub enabled: bool,
    /// Sliding window, in days, over one network's or fingerprint's failures.
    pub window_days: u32,
    /// Distinct accounts failed inside one window.
    pub min_accounts: u32,
    /// Distinct UTC days those failures fall on: a spray "over days".
    pub min_days: u32,
    /// A spray this slow never fails this many accounts within one hour;
    /// a faster one is the hourly detections' to tell.
    pub max_accounts_per_hour: u32,
    /// A failure followed by a success of the same account from the same
    /// address within this many minutes is the owner's typo.
    pub typo_minutes: u32,
    /// Failure codes that count (empty: any failure).
    pub codes: Vec<i64>,
    /// Which keys group the failures: `asn`, `network` (/24 or /64),
    /// `user_agent`.
    pub group_by: Vec<SlowKey>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlowKey {
    Asn,
    Network,
    UserAgent,
}

impl SlowKey {
    fn as_str(self) -> &'static str {
        match self {
            SlowKey::Asn => "asn",
            SlowKey::Network => "network",
            SlowKey::UserAgent => "user_agent",
        }
    }

    fn of(self, r: &SignIn) -> Option<String> {
        self.value(r).map(|v| v.to_string())
    }

    /// [`SlowKey::of`] over the prelude's columns; NULL for none.
    fn sql_value(self) -> String {
        match self {
            SlowKey::Asn => {
                "CASE WHEN asn IS NOT NULL THEN concat('AS', CAST(asn AS STRING)) END".to_string()
            }
            SlowKey::Network => sql::network_of("ip"),
            SlowKey::UserAgent => "NULLIF(user_agent, '')".to_string(),
        }
    }

    fn value(self, r: &SignIn) -> Option<SlowValue> {
        match self {
            SlowKey::Asn => r.asn.map(SlowValue::Asn),
            SlowKey::Network => Network::of(&r.ip).map(SlowValue::Network),
            SlowKey::UserAgent => {
                (!r.user_agent.is_empty()).then_some(SlowValue::UserAgent(r.user_agent))
            }
        }
    }
}

/// A [`SlowKey`]'s value as a value: the pass over every success that
/// looks for shared egress compares these, not their text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum SlowValue {
    Asn(i64),
    Network(Network),
    UserAgent(Text),
}

impl std::fmt::Display for SlowValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SlowValue::Asn(a) => write!(f, "AS{a}"),
            SlowValue::Network(n) => n.fmt(f),
            SlowValue::UserAgent(t) => f.write_str(t),
        }
    }
}

impl Default for LowAndSlowSprayConfig {
    fn default() -> Self {
        LowAndSlowSprayConfig {
            enabled: true,
            window_days: 7,
            min_accounts: 10,
            min_days: 2,
            max_accounts_per_hour: 10,
            typo_minutes: 60,
            codes: CREDENTIAL_CODES.to_vec(),
            group_by: vec![SlowKey::Asn, SlowKey::Network, SlowKey::UserAgent],
        }
    }
}

impl Settings for LowAndSlowSprayConfig {
    const UNSET: &'static [(&'static str, &'static str)] = &[("codes", "any failure")];

    fn check(&self) -> Result<(), Invalid> {
        if self.window_days == 0 {
            return Err(Invalid::new("window_days", "must be at least 1"));
        }
        if self.group_by.is_empty() {
            return Err(Invalid::new(
                "group_by",
                "is empty: name at least one of asn, network, user_agent",
            ));
        }
        Ok(())
    }
}

/// One qualifying window of one key.
struct Candidate {
    key: SlowKey,
    value: String,
    events: Vec<usize>,
    accounts: BTreeSet<String>,
}

impl Detection for LowAndSlowSpray {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn title(&self) -> &'static str {
        "Password spray spread over days, below the hourly thresholds"
    }

    fn techniques(&self) -> &'static [&'static str] {
        &["T1110.003"]
    }

    fn sql(&self, cfg: &DetectionConfig) -> Query {
        let c = &cfg.low_and_slow_spray;
        let failure = sql::credential_failure(&c.codes);
        let keys: BTreeSet<SlowKey> = c.group_by.iter().copied().collect();
        // Rows of `from` once per key in force, with the key (`k`) and the
        // value it gives them; rows without one are left out.
        let keyed = |from: &str, cols: &str| {
            let each: Vec<String> = keys
                .iter()
                .map(|k| {
                    format!(
                        "SELECT '{}' AS k, {} AS value, {cols} FROM {from}",
                        k.as_str(),
                        k.sql_value()
                    )
                })
                .collect();
            format!(
                "SELECT * FROM (\n    {}\n  ) u WHERE value IS NOT NULL",
                each.join("\n    UNION ALL ")
            )
        };
        let cand = "k, value, burst_start";
        let on = |a: &str, b: &str| {
            format!("{a}.k = {b}.k AND {a}.value = {b}.value AND {a}.burst_start = {b}.burst_start")
        };
        // `run` in sets, but for one step: `run` tells the windows in
        // rank order and leaves one out when half its failures are in
        // windows it already told; the SQL leaves one out when half are in
        // any window ranked above it, told or not, since which windows
        // are told depends on the order (a walk). Everything else is
        // exact: typos by the next success from the address, shared
        // egress, the burst windows and the busiest hour.
        Query::new()
            .note("a window is left out when half or more of its failures are in any window ranked above it (more accounts, then more failures, then key and value), reported or not; analyze counts only the windows it reports, so a window that overlaps mostly a left-out one may be reported by analyze and not here")
            .note("days are calendar days of the session time zone; keep it UTC (the scripts do), as analyze counts UTC days")
            .note("facts leave out the accounts, addresses, ASNs, countries, user agents and the sign-ins whose password worked; window_seconds is not a column")
            .cte(
                // The typo test: the account's next success from the same
                // address, at the failure's time or later.
                "ls_pre",
                format!(
                    "SELECT {}, asn, user_agent, {failure} AS failed,\n    \
                     MIN(CASE WHEN status = 'success' THEN time END) OVER (\n      \
                     PARTITION BY user_principal_name, ip ORDER BY time RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS next_ok\n  \
                     FROM ev WHERE user_principal_name <> '' AND (status = 'success' OR {failure})",
                    sql::member_cols_bare()
                ),
            )
            .cte(
                "ls_keyed",
                keyed(
                    &format!(
                        "(SELECT * FROM ls_pre WHERE failed AND (next_ok IS NULL OR next_ok > time + {})) f",
                        sql::minutes(c.typo_minutes)
                    ),
                    &sql::member_cols_bare(),
                ),
            )
            .cte(
                // Shared egress: at least as many accounts signed in from
                // the value (allowlisted sources too) as failed there.
                "ls_shared",
                format!(
                    "SELECT f.k, f.value\n  \
                     FROM (SELECT k, value, COUNT(DISTINCT user_principal_name) AS failed FROM ls_keyed GROUP BY k, value) f\n  \
                     JOIN (\n    \
                     SELECT k, value, COUNT(DISTINCT user_principal_name) AS worked FROM (\n    {}\n    ) w0 GROUP BY k, value\n  \
                     ) w ON w.k = f.k AND w.value = f.value\n  \
                     WHERE w.worked >= f.failed",
                    keyed(
                        "(SELECT * FROM deduped WHERE copy_rank = 1 AND status = 'success' AND user_principal_name <> '') d",
                        "user_principal_name"
                    )
                ),
            )
            // A shared value's windows are dropped in `ls_cand`: each
            // value's windows are its own, and there `ls_shared` is read
            // once rather than at every read of the windows.
            .bursts(&Bursts {
                name: "ls_burst",
                from: "ls_keyed",
                keys: &["k", "value"],
                window_minutes: c.window_days.saturating_mul(24 * 60),
                distinct: &[("users", &["user_principal_name"])],
                qualifies: format!("users >= {}", sql::at_least_one(c.min_accounts)),
            })
            .windows(&Bursts {
                name: "ls_hour",
                from: "ls_burst",
                keys: &["k", "value", "burst_start"],
                window_minutes: 60,
                distinct: &[("users", &["user_principal_name"])],
                qualifies: String::new(),
            })
            .cte(
                // Each window that qualifies, ranked as `run` sorts them.
                // Spark writes a CTE out at every reference, so each of
                // these reads its source once where it can.
                "ls_cand",
                format!(
                    "SELECT c.*, p.peak,\n    \
                     ROW_NUMBER() OVER (ORDER BY c.accounts DESC, c.events DESC, c.k, c.value, c.burst_start) AS cand_rank\n  \
                     FROM (\n    \
                     SELECT {cand}, COUNT(DISTINCT user_principal_name) AS accounts, COUNT(*) AS events,\n      \
                     COUNT(DISTINCT day) AS days, MAX(per_day) AS per_day\n    \
                     FROM (\n      \
                     SELECT d.*, COUNT(*) OVER (PARTITION BY {cand}, user_principal_name, day) AS per_day\n      \
                     FROM (SELECT b.*, {} AS day FROM ls_burst b) d\n    \
                     ) x GROUP BY {cand}\n  \
                     ) c\n  \
                     JOIN (SELECT {cand}, MAX(users) AS peak FROM ls_hour_win GROUP BY {cand}) p ON {}\n  \
                     LEFT JOIN ls_shared s ON s.k = c.k AND s.value = c.value\n  \
                     WHERE s.k IS NULL AND c.days >= {} AND p.peak < {}",
                    sql::epoch_day("b.time"),
                    on("p", "c"),
                    c.min_days,
                    sql::at_least_one(c.max_accounts_per_hour)
                ),
            )
            .cte(
                // Per failure, the best rank of the windows it is in; per
                // window, how many of its failures a better one holds.
                "ls_told",
                format!(
                    "SELECT t.*,\n    \
                     SUM(CASE WHEN first_rank < cand_rank THEN 1 ELSE 0 END) OVER (PARTITION BY {cand}) AS told\n  \
                     FROM (\n    \
                     SELECT b.*, c.cand_rank, c.events, c.days, c.per_day, c.peak,\n      \
                     MIN(c.cand_rank) OVER (PARTITION BY {}) AS first_rank\n    \
                     FROM ls_burst b JOIN ls_cand c ON {}\n  \
                     ) t",
                    sql::sign_in_id("b").join(", "),
                    on("c", "b")
                ),
            )
            .cte(
                "ls_spray",
                format!(
                    "SELECT t.*, concat(t.k, ':', t.value) AS actor,\n    \
                     MIN(time) OVER (PARTITION BY {cand}) AS first_time\n  \
                     FROM ls_told t WHERE 2 * told < events"
                ),
            )
            .select(format!(
                "SELECT {}, {},\n  \
                 burst_start, MIN(k) AS k, MIN(value) AS value, MIN(days) AS days, MIN(per_day) AS per_day, MIN(peak) AS peak\n\
                 FROM ls_spray\nGROUP BY actor, burst_start",
                sql::head(KIND, "actor", None, None),
                sql::SPAN
            ))
            .events(format!(
                "SELECT actor, first_time AS found_first, {} FROM ls_spray",
                sql::member_cols_bare()
            ))
            // Per targeted account, the first sign-in from any of the
            // window's addresses since its first failure there whose
            // password worked.
            .highlights(sql::first_per(
                &format!(
                    "SELECT t.actor, t.found_first, {}\n      \
                     FROM (\n        \
                     SELECT actor, first_time AS found_first, burst_start, user_principal_name, MIN(time) AS since\n        \
                     FROM ls_spray GROUP BY actor, first_time, burst_start, user_principal_name\n      \
                     ) t\n      \
                     JOIN (SELECT DISTINCT actor, burst_start, ip FROM ls_spray WHERE ip <> '') i\n        \
                     ON i.actor = t.actor AND i.burst_start = t.burst_start\n      \
                     JOIN (SELECT * FROM ev WHERE password_worked) e\n        \
                     ON e.ip = i.ip AND e.user_principal_name = t.user_principal_name AND e.time >= t.since",
                    sql::member_cols("e")
                ),
                "user_principal_name",
            ))
            .severity("CASE WHEN a.n_highlights > 0 THEN 'high' ELSE 'medium' END")
            .title(format!(
                "concat('Slow password spray from ',\n    \
                 CASE WHEN f.k = 'user_agent' THEN 'one client fingerprint' ELSE concat('network ', f.value) END,\n    \
                 ': ', {}, ' accounts over ', {}, ' days from ', {}, ' address', CASE WHEN a.ev_ips = 1 THEN '' ELSE 'es' END,\n    \
                 ', at most ', {}, ' attempt', {}, ' per account per day',\n    \
                 CASE WHEN a.n_highlights > 0 THEN concat('; the password of ',\n      \
                 CASE WHEN a.highlight_users = 1 THEN a.first_highlight_user ELSE concat({}, ' accounts') END, ' worked') ELSE '' END)",
                sql::text_num("a.ev_users"),
                sql::text_num("f.days"),
                sql::text_num("a.ev_ips"),
                sql::text_num("f.per_day"),
                sql::plural("f.per_day"),
                sql::text_num("a.highlight_users")
            ))
            .fact("grouped_by", sql::json_str("f.k"))
            .fact("key", sql::json_str("f.value"))
            .fact("days", sql::json_num("f.days"))
            .fact("max_attempts_per_account_per_day", sql::json_num("f.per_day"))
            .fact("peak_accounts_in_an_hour", sql::json_num("f.peak"))
    }

    fn run(&self, ev: &Events, cfg: &DetectionConfig) -> Vec<Finding> {
        let c = &cfg.low_and_slow_spray;
        let recs = ev.records;
        let failures: Vec<usize> = ev
            .unsuccessful()
            .iter()
            .copied()
            .filter(|&i| {
                let r = &recs[i];
                util::visible(cfg, r)
                    && !r.user_principal_name.is_empty()
                    && util::is_credential_failure(r, &c.codes)
            })
            .collect();
        if failures.len() < c.min_accounts as usize {
            return Vec::new();
        }
        let typo = util::minutes(c.typo_minutes);
        let by_user = ev.by_user();
        // The owner's typos: a success of the account from the same
        // address soon after.
        let failures: Vec<usize> = failures
            .into_iter()
            .filter(|&i| {
                let r = &recs[i];
                !by_user.get(&r.user_principal_name).is_some_and(|all| {
                    util::between(recs, all, r.time_us, r.time_us + typo)
                        .iter()
                        .any(|&s| recs[s].status == StatusClass::Success && recs[s].ip == r.ip)
                })
            })
            .collect();
        let hourly_limit = c.max_accounts_per_hour.max(1) as usize;
        let keyed: Vec<(SlowKey, BTreeMap<String, Vec<usize>>)> = c
            .group_by
            .iter()
            .map(|&key| {
                let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
                for &i in &failures {
                    if let Some(v) = key.of(&recs[i]) {
                        groups.entry(v).or_default().push(i);
                    }
                }
                (key, groups)
            })
            .collect();
        let shared = shared_egress(ev, &keyed);
        let mut candidates = Vec::new();
        for ((key, groups), shared) in keyed.into_iter().zip(shared) {
            for (value, events) in groups {
                if shared.contains(&value) {
                    continue;
                }
                let mut state = UsersAtLeast::new(c.min_accounts);
                for b in util::bursts(recs, &events, i64::from(c.window_days) * DAY_US, &mut state)
                {
                    let evs: Vec<usize> = events[b].to_vec();
                    let days: BTreeSet<i64> = evs
                        .iter()
                        .map(|&i| recs[i].time_us.div_euclid(DAY_US))
                        .collect();
                    if days.len() < c.min_days as usize
                        || peak_hour_accounts(recs, &evs) >= hourly_limit
                    {
                        continue;
                    }
                    let accounts = evs
                        .iter()
                        .map(|&i| recs[i].user_principal_name.to_string())
                        .collect();
                    candidates.push(Candidate {
                        key,
                        value: value.clone(),
                        events: evs,
                        accounts,
                    });
                }
            }
        }
        // The same spray seen under its network and its fingerprint is
        // told once: the widest view first; a narrower one whose failures
        // are mostly already told is dropped (a few background typos in
        // the same network must not make it a second finding).
        candidates.sort_by(|a, b| {
            b.accounts
                .len()
                .cmp(&a.accounts.len())
                .then(b.events.len().cmp(&a.events.len()))
                .then(a.key.cmp(&b.key))
                .then(a.value.cmp(&b.value))
        });
        let mut kept: Vec<Candidate> = Vec::new();
        let mut told: HashSet<usize, Fast> = HashSet::default();
        for cand in candidates {
            let already = cand.events.iter().filter(|i| told.contains(i)).count();
            if already * 2 >= cand.events.len() {
                continue;
            }
            told.extend(cand.events.iter().copied());
            kept.push(cand);
        }
        kept.into_iter()
            .map(|cand| util::finding(ev, draft(ev, cfg, cand)))
            .collect()
    }
}

fn span(recs: &[SignIn], events: &[usize]) -> (i64, i64) {
    let first = events.iter().map(|&i| recs[i].time_us).min().unwrap_or(0);
    let last = events.iter().map(|&i| recs[i].time_us).max().unwrap_or(0);
    (first, last)
}

/// Per key of `keyed`, the values where more accounts got in than failed:
/// the tenant's own egress or its common browser, not a spray.
fn shared_egress(
    ev: &Events,
    keyed: &[(SlowKey, BTreeMap<String, Vec<usize>>)],
) -> Vec<HashSet<String>> {
    let recs = ev.records;
    // Per key: each group's value, with its text and the accounts that failed.
    type Failed<'r> = HashMap<SlowValue, (&'r str, HashSet<&'r str, Fast>), Fast>;
    let failed: Vec<Failed> = keyed
        .iter()
        .map(|(key, groups)| {
            let mut failed = Failed::default();
            for (text, events) in groups {
                let Some(v) = events.first().and_then(|&i| key.value(&recs[i])) else {
                    continue;
                };
                let (_, set) = failed
                    .entry(v)
                    .or_insert_with(|| (text.as_str(), HashSet::default()));
                set.extend(events.iter().map(|&i| recs[i].user_principal_name.as_str()));
            }
            failed
        })
        .collect();
    // One pass over the successes serves every key (each pass reads every
    // record), and a key with no failed group is not looked at.
    let live: Vec<usize> = (0..keyed.len())
        .filter(|&k| !failed[k].is_empty())
        .collect();
    let mut worked: Vec<HashMap<SlowValue, HashSet<&str, Fast>, Fast>> =
        keyed.iter().map(|_| HashMap::default()).collect();
    if !live.is_empty() {
        for r in recs {
            if r.status != StatusClass::Success || r.user_principal_name.is_empty() {
                continue;
            }
            for &k in &live {
                if let Some(v) = keyed[k].0.value(r) {
                    if failed[k].contains_key(&v) {
                        worked[k]
                            .entry(v)
                            .or_default()
                            .insert(r.user_principal_name.as_str());
                    }
                }
            }
        }
    }
    failed
        .iter()
        .zip(&worked)
        .map(|(failed, worked)| {
            failed
                .iter()
                .filter(|(v, (_, f))| worked.get(*v).is_some_and(|w| w.len() >= f.len()))
                .map(|(_, (text, _))| text.to_string())
                .collect()
        })
        .collect()
}

/// Most distinct accounts failed within any one hour.
fn peak_hour_accounts(recs: &[SignIn], events: &[usize]) -> usize {
    let mut state = util::Tally::<&str>::default();
    let mut best = 0;
    let mut left = 0;
    for right in 0..events.len() {
        state.add(recs[events[right]].user_principal_name.as_str());
        while recs[events[right]].time_us - recs[events[left]].time_us > HOUR_US {
            state.remove(&recs[events[left]].user_principal_name.as_str());
            left += 1;
        }
        best = best.max(state.distinct());
    }
    best
}

fn draft(ev: &Events, cfg: &DetectionConfig, cand: Candidate) -> Draft {
    let recs = ev.records;
    let evs = &cand.events;
    let (first, last) = span(recs, evs);
    let days: BTreeSet<i64> = evs
        .iter()
        .map(|&i| recs[i].time_us.div_euclid(DAY_US))
        .collect();
    let mut per_account_day: HashMap<(&str, i64), u32, Fast> = HashMap::default();
    for &i in evs {
        let r = &recs[i];
        *per_account_day
            .entry((r.user_principal_name.as_str(), r.time_us.div_euclid(DAY_US)))
            .or_default() += 1;
    }
    let max_per_day = per_account_day.values().copied().max().unwrap_or(0);
    let ips = util::distinct(recs, evs, |r| r.ip.as_str());
    let accounts: Vec<&str> = cand.accounts.iter().map(String::as_str).collect();
    // Did a targeted account's password work later from these addresses?
    let targets: BTreeMap<&str, i64> = util::first_time_per_user(recs, evs);
    let ip_set: BTreeSet<&str> = ips.iter().copied().collect();
    let pool: Vec<usize> = util::records_by_ip(ev, cfg, &ip_set)
        .into_values()
        .flatten()
        .collect();
    let mut pool = pool;
    pool.sort_unstable();
    let worked = util::password_worked_after(recs, &pool, &targets);
    let severity = if worked.is_empty() {
        Severity::Medium
    } else {
        Severity::High
    };
    let what = match cand.key {
        SlowKey::Asn => format!("network {}", cand.value),
        SlowKey::Network => format!("network {}", cand.value),
        SlowKey::UserAgent => "one client fingerprint".to_string(),
    };
    let mut title = format!(
        "Slow password spray from {what}: {} accounts over {} days from {} address{}, at most {max_per_day} attempt{} per account per day",
        accounts.len(),
        days.len(),
        ips.len(),
        if ips.len() == 1 { "" } else { "es" },
        if max_per_day == 1 { "" } else { "s" },
    );
    if !worked.is_empty() {
        let names: Vec<&str> = worked.keys().copied().collect();
        title.push_str(&format!(
            "; the password of {} worked",
            util::accounts_text(&names)
        ));
    }
    let mut remediation = vec![
        format!("Block {} at the perimeter or with a Conditional Access named location, and look for the same user agent or network in later days.", if ips.len() <= 5 { ips.join(", ") } else { format!("these {} addresses", ips.len()) }),
        "Check the targeted accounts for weak or reused passwords and make sure each has MFA registered; this spray stays under smart lockout by design.".to_string(),
    ];
    if !worked.is_empty() {
        remediation.insert(0, format!("Reset the passwords and revoke the sessions of {} now: the spray found a working password.", worked.keys().copied().collect::<Vec<_>>().join(", ")));
    }
    let asns: BTreeSet<String> = evs
        .iter()
        .filter_map(|&i| recs[i].asn.map(|a| format!("AS{a}")))
        .collect();
    let d = Draft {
        events: evs.clone(),
        highlights: worked.values().copied().collect(),
        window_seconds: (last - first) / 1_000_000,
        remediation,
        ..Draft::new(
            KIND,
            format!("{}:{}", cand.key.as_str(), cand.value),
            severity,
            title,
        )
    };
    d.fact("grouped_by", cand.key.as_str())
        .fact("key", cand.value.as_str())
        .fact("accounts", util::json_list(&accounts))
        .fact("addresses", util::json_list(&ips))
        .fact(
            "asns",
            util::json_list(&asns.into_iter().collect::<Vec<_>>()),
        )
        .fact(
            "countries",
            util::json_list(&util::distinct(recs, evs, |r| r.country.as_str())),
        )
        .fact(
            "user_agents",
            util::json_list(&util::distinct(recs, evs, |r| r.user_agent.as_str())),
        )
        .fact("days", days.len())
        .fact("max_attempts_per_account_per_day", max_per_day)
        .fact("peak_accounts_in_an_hour", peak_hour_accounts(recs, evs))
        .fact("password_worked", util::worked_json(recs, &worked))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::detect::util::testing::*;

    const DAY: i64 = 86_400;

    /// Twenty accounts, one failed password each per day for three days,
    /// every attempt from another address of AS64500, with one user agent.
    fn slow_spray() -> Vec<SignIn> {
        let mut v = Vec::new();
        for d in 0..3 {
            for k in 0..20 {
                let mut s = signin(
                    d * DAY + k * 3000,
                    &format!("user{k}@contoso.com"),
                    &format!("198.51.{}.{}", 100 + (k % 3), 10 + d * 20 + k),
                    50126,
                );
                s.asn = Some(64500);
                s.user_agent = "python-requests/2.31".into();
                v.push(s);
            }
        }
        v
    }

    #[test]
    fn a_spray_over_days_fires_once_with_its_network() {
        let recs = fixture(slow_spray());
        let f = run(&LowAndSlowSpray, &recs, &DetectionConfig::default());
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Medium);
        assert_eq!(f[0].count, 60);
        assert_eq!(fact(&f[0], "grouped_by"), Some(&"asn".into()));
        assert_eq!(fact(&f[0], "days"), Some(&3.into()));
        assert_eq!(
            fact(&f[0], "max_attempts_per_account_per_day"),
            Some(&1.into())
        );
        assert_eq!(f[0].users.len(), 20);
    }

    #[test]
    fn without_an_asn_the_fingerprint_still_groups_it_and_a_worked_password_is_high() {
        let mut v = slow_spray();
        for s in &mut v {
            s.asn = None;
        }
        let mut ok = signin(3 * DAY, "user3@contoso.com", "198.51.100.13", 0);
        ok.user_agent = "python-requests/2.31".into();
        v.push(ok);
        let recs = fixture(v);
        let f = run(&LowAndSlowSpray, &recs, &DetectionConfig::default());
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(fact(&f[0], "grouped_by"), Some(&"user_agent".into()));
        assert_eq!(f[0].severity, Severity::High);
        assert!(f[0].title.contains("user3@contoso.com"), "{}", f[0].title);
    }

    #[test]
    fn typos_a_fast_spray_and_a_single_day_stay_quiet() {
        // Typos: each failure followed by the owner's success.
        let mut v = Vec::new();
        for d in 0..3 {
            for k in 0..20 {
                let ip = format!("192.0.2.{}", 10 + k);
                let user = format!("user{k}@contoso.com");
                v.push(signin(d * DAY + k * 3000, &user, &ip, 50126));
                v.push(signin(d * DAY + k * 3000 + 30, &user, &ip, 0));
            }
        }
        let recs = fixture(v);
        assert!(run(&LowAndSlowSpray, &recs, &DetectionConfig::default()).is_empty());
        // Twenty accounts within an hour: the hourly detections' job.
        let fast: Vec<SignIn> = slow_spray()
            .into_iter()
            .map(|mut s| {
                let t = (s.time_us - T0_US) / 1_000_000;
                s.time_us = T0_US + ((t / DAY) * DAY + (t % DAY) / 100) * 1_000_000;
                s
            })
            .collect();
        let recs = fixture(fast);
        assert!(run(&LowAndSlowSpray, &recs, &DetectionConfig::default()).is_empty());
        // One day only.
        let one: Vec<SignIn> = slow_spray()
            .into_iter()
            .filter(|s| s.time_us < T0_US + DAY * 1_000_000)
            .collect();
        let recs = fixture(one);
        assert!(run(&LowAndSlowSpray, &recs, &DetectionConfig::default()).is_empty());
    }
}
