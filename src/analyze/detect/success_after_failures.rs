//! Success after failures: the password worked right after a run of guesses.
//!
//! What it finds, why it matters, tuning and false positives:
//! `docs/success_after_failures.md` (the registry in `mod.rs` serves it).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::presets::CREDENTIAL_CODES;
use super::registry::Settings;
use super::sql::{self, Query};
use super::util::{self, Draft, Tally};
use super::{Detection, DetectionConfig, Events};
use crate::analyze::usual::Usual;
use crate::model::{Finding, Severity, SignIn, Text};
use serde::{Deserialize, Serialize};

/// Interned strings under foldhash (their hash is precomputed).
type FastSet = std::collections::HashSet<Text, foldhash::fast::FixedState>;

pub struct SuccessAfterFailures;

const KIND: &str = "success_after_failures";

/// The `[success_after_failures]` table of the settings file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuccessAfterFailuresConfig {
    pub enabled: bool,
    /// How far back from the success failures are counted.
    pub window_minutes: u32,
    pub min_failures: u32,
    /// For the per-IP view: distinct accounts that must have failed from
    /// the IP (the succeeding one among them).
    pub ip_min_users: u32,
    pub codes: Vec<i64>,
}

impl Default for SuccessAfterFailuresConfig {
    fn default() -> Self {
        // Sentinel: at least 10 failures before the success.
        SuccessAfterFailuresConfig {
            enabled: true,
            window_minutes: 60,
            min_failures: 10,
            ip_min_users: 5,
            codes: CREDENTIAL_CODES.to_vec(),
        }
    }
}

impl Settings for SuccessAfterFailuresConfig {}

impl Detection for SuccessAfterFailures {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn title(&self) -> &'static str {
        "Password worked after a run of failures"
    }

    fn techniques(&self) -> &'static [&'static str] {
        &["T1110", "T1078.004"]
    }

    fn sql(&self, cfg: &DetectionConfig) -> Query {
        let c = &cfg.success_after_failures;
        let w = sql::minutes(c.window_minutes);
        let min = sql::at_least_one(c.min_failures);
        let order = sql::ORDER;
        // `seg`: successes before the row in its IP's / account's order, so
        // a success and the failures since the previous success share it.
        let seg = |part: &str| {
            format!(
                "COALESCE(SUM(CASE WHEN ok THEN 1 ELSE 0 END) OVER (PARTITION BY {part} ORDER BY {order} \
                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)"
            )
        };
        // The failures each hit counts: the account's own run, the IP's run, or both.
        let run_of = |by: &str, key: &str, seg: &str| {
            format!(
                "SELECT h.user_principal_name, h.chain, f.user_principal_name AS f_user, f.user_pos AS f_pos, f.time\n  \
                 FROM sa_chains h JOIN sa_rel f\n    \
                 ON h.{by} = 1 AND f.{key} = h.{key} AND f.{seg} = h.{seg} AND NOT f.ok AND f.time >= h.time - {w}"
            )
        };
        Query::new()
            .cte(
                "sa_relevant",
                format!(
                    "SELECT time, request_id, error_code, user_principal_name, ip, app_id, sign_in_type,\n    \
                     source_file, source_record, status, client_app, app_name, country, device_id, asn,\n    \
                     password_worked AS ok FROM ev\n  \
                     WHERE user_principal_name <> '' AND (password_worked OR {})",
                    sql::credential_failure(&c.codes)
                ),
            )
            .cte(
                "sa_rel",
                format!(
                    "SELECT r.*,\n    \
                     ROW_NUMBER() OVER (PARTITION BY ip ORDER BY {order}) AS ip_pos,\n    \
                     {} AS ip_seg,\n    \
                     ROW_NUMBER() OVER (PARTITION BY user_principal_name ORDER BY {order}) AS user_pos,\n    \
                     {} AS user_seg\n  \
                     FROM sa_relevant r",
                    seg("ip"),
                    seg("user_principal_name")
                ),
            )
            // Successes from an IP after a multi-account run of failures
            // from it that includes the account that got in.
            .cte(
                "sa_ip_hits",
                format!(
                    "SELECT s.ip, s.ip_pos\n  \
                     FROM sa_rel s JOIN sa_rel f\n    \
                     ON f.ip = s.ip AND f.ip_seg = s.ip_seg AND NOT f.ok AND f.time >= s.time - {w}\n  \
                     WHERE s.ok AND s.ip <> ''\n  \
                     GROUP BY s.ip, s.ip_pos, s.user_principal_name\n  \
                     HAVING COUNT(*) >= {min} AND COUNT(DISTINCT f.user_principal_name) >= {}\n    \
                     AND MAX(CASE WHEN f.user_principal_name = s.user_principal_name THEN 1 ELSE 0 END) = 1",
                    c.ip_min_users
                ),
            )
            .cte(
                "sa_account_runs",
                format!(
                    "SELECT s.user_principal_name, s.user_pos, COUNT(f.user_pos) AS failures\n  \
                     FROM sa_rel s LEFT JOIN sa_rel f\n    \
                     ON f.user_principal_name = s.user_principal_name AND f.user_seg = s.user_seg AND NOT f.ok AND f.time >= s.time - {w}\n  \
                     WHERE s.ok\n  \
                     GROUP BY s.user_principal_name, s.user_pos"
                ),
            )
            .cte(
                "sa_hits",
                format!(
                    "SELECT s.user_principal_name, s.user_pos, s.user_seg, s.ip, s.ip_seg, s.time,\n    \
                     CASE WHEN a.failures >= {min} THEN 1 ELSE 0 END AS by_account,\n    \
                     CASE WHEN h.ip IS NULL THEN 0 ELSE 1 END AS by_ip\n  \
                     FROM sa_rel s\n  \
                     JOIN sa_account_runs a ON a.user_principal_name = s.user_principal_name AND a.user_pos = s.user_pos\n  \
                     LEFT JOIN sa_ip_hits h ON h.ip = s.ip AND h.ip_pos = s.ip_pos\n  \
                     WHERE s.ok AND (a.failures >= {min} OR h.ip IS NOT NULL)"
                ),
            )
            // `Usual::fits` for each hit's success: an earlier clean success
            // of the account from its address, its device, or its network
            // (ASN) in the same country; `seen` for its address alone.
            .cte(
                "sa_fit",
                "SELECT s.user_principal_name, s.user_pos,\n    \
                 MAX(CASE WHEN p.user_pos IS NULL THEN 0 ELSE 1 END) AS fits,\n    \
                 MAX(CASE WHEN x.ip <> '' AND p.ip = x.ip THEN 1 ELSE 0 END) AS seen\n  \
                 FROM sa_hits s\n  \
                 JOIN sa_rel x ON x.user_principal_name = s.user_principal_name AND x.user_pos = s.user_pos\n  \
                 LEFT JOIN sa_rel p ON p.user_principal_name = s.user_principal_name AND p.user_pos < s.user_pos\n    \
                 AND p.status = 'success'\n    \
                 AND ((x.ip <> '' AND p.ip = x.ip) OR (x.device_id <> '' AND p.device_id = x.device_id)\n      \
                 OR (x.asn IS NOT NULL AND p.asn = x.asn AND p.country = x.country))\n  \
                 GROUP BY s.user_principal_name, s.user_pos",
            )
            // Hits of one account whose successes follow within the window
            // are one finding.
            .cte(
                "sa_chains",
                format!(
                    "SELECT h.*, SUM(new_chain) OVER (PARTITION BY user_principal_name ORDER BY user_pos \
                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS chain\n  \
                     FROM (\n    \
                     SELECT x.*, CASE WHEN LAG(time) OVER (PARTITION BY user_principal_name ORDER BY user_pos) >= time - {w} THEN 0 ELSE 1 END AS new_chain\n    \
                     FROM sa_hits x\n  \
                     ) h"
                ),
            )
            .cte(
                "sa_failures",
                format!(
                    "{}\n  UNION\n  {}",
                    run_of("by_account", "user_principal_name", "user_seg"),
                    run_of("by_ip", "ip", "ip_seg")
                ),
            )
            .cte(
                "sa_found",
                "SELECT f.user_principal_name, f.chain, COUNT(*) AS failures, MIN(f.time) AS first_failure\n  \
                 FROM sa_failures f GROUP BY f.user_principal_name, f.chain",
            )
            .select(format!(
                "SELECT {},\n  \
                 LEAST(MIN(f.first_failure), MIN(h.time)) AS first_seen, MAX(h.time) AS last_seen, MIN(f.failures) AS count,\n  \
                 MIN(u.fits) AS owner_pattern, MIN(u.seen) AS seen_before,\n  \
                 MAX(h.by_account) AS by_account, MAX(h.by_ip) AS by_ip\n\
                 FROM sa_chains h JOIN sa_found f ON f.user_principal_name = h.user_principal_name AND f.chain = h.chain\n\
                 JOIN sa_fit u ON u.user_principal_name = h.user_principal_name AND u.user_pos = h.user_pos\n\
                 GROUP BY h.user_principal_name, h.chain",
                sql::head(
                    KIND,
                    "h.user_principal_name",
                    Some("h.user_principal_name"),
                    None
                )
            ))
            .note("facts leave out success_ips and success_codes (lists)")
            .member_cte(
                "sa_key",
                "SELECT h.user_principal_name, h.chain, LEAST(MIN(f.first_failure), MIN(h.time)) AS found_first\n  \
                 FROM sa_chains h JOIN sa_found f ON f.user_principal_name = h.user_principal_name AND f.chain = h.chain\n  \
                 GROUP BY h.user_principal_name, h.chain",
            )
            // The failures each hit counts, and its successes.
            .events(format!(
                "SELECT k.user_principal_name AS actor, k.found_first, {}\n    \
                 FROM sa_key k JOIN sa_failures x ON x.user_principal_name = k.user_principal_name AND x.chain = k.chain\n    \
                 JOIN sa_rel r ON r.user_principal_name = x.f_user AND r.user_pos = x.f_pos",
                sql::member_cols("r")
            ))
            .highlights(format!(
                "SELECT k.user_principal_name AS actor, k.found_first, {}\n    \
                 FROM sa_key k JOIN sa_chains h ON h.user_principal_name = k.user_principal_name AND h.chain = k.chain\n    \
                 JOIN sa_rel r ON r.user_principal_name = h.user_principal_name AND r.user_pos = h.user_pos",
                sql::member_cols("r")
            ))
            .aggregate("first_failure", "MIN(CASE WHEN m.role = 0 THEN m.time END)")
            .aggregate("s0_time", "MAX(CASE WHEN m.role = 1 AND m.pos = 1 THEN m.time END)")
            .aggregate("s0_code", "MAX(CASE WHEN m.role = 1 AND m.pos = 1 THEN m.error_code END)")
            // The story decides the severity, as in `draft`: a success
            // that fits the owner's own pattern is most likely the owner.
            .severity("CASE WHEN f.owner_pattern = 1 THEN 'info' ELSE 'critical' END")
            .title(format!(
                "concat(f.actor, ': ',\n    \
                 CASE WHEN a.s0_code = 0 THEN 'signed in' ELSE concat('password accepted (error ', {}, ')') END,\n    \
                 ' from ', CASE WHEN a.first_highlight_ip = '' THEN 'an unknown IP' ELSE a.first_highlight_ip END,\n    \
                 ' after ', {}, ' failed attempt', {}, ' in ', {},\n    \
                 CASE WHEN f.owner_pattern = 1 THEN {} ELSE '' END)",
                sql::text_num("a.s0_code"),
                sql::text_num("f.count"),
                sql::plural("f.count"),
                sql::span_text(&sql::seconds_between("a.first_failure", "a.s0_time")),
                sql::lit("; the success fits the account's usual address, device or network")
            ))
            .fact("account", sql::json_str("f.actor"))
            .fact("failures_before", sql::json_num("f.count"))
            .fact("successes", sql::json_num("a.n_highlights"))
            .fact("failing_ips", sql::json_num("a.ev_ips"))
            .fact(
                "triggered_by",
                "CASE WHEN f.by_account = 1 AND f.by_ip = 1 THEN '\"account+source_ip\"' \
                 WHEN f.by_account = 1 THEN '\"account\"' ELSE '\"source_ip\"' END",
            )
            .fact("success_ip_seen_before", sql::json_bool("f.seen_before = 1"))
            .fact("owner_pattern", sql::json_bool("f.owner_pattern = 1"))
    }

    fn run(&self, ev: &Events, cfg: &DetectionConfig) -> Vec<Finding> {
        let c = &cfg.success_after_failures;
        let recs = ev.records;
        let relevant = |r: &SignIn| {
            !r.user_principal_name.is_empty()
                && (util::password_worked(r) || util::is_credential_failure(r, &c.codes))
        };
        // A hit needs a failure from the IP (an IP run) or by the account
        // (its own run, or its failure inside an IP run), so only accounts
        // and IPs with one are grouped: on a normal tenant's week that is a
        // few hundred keys instead of every account and address.
        let (mut failing_users, mut failing_ips) = (FastSet::default(), FastSet::default());
        // A failure whose password did not work is never a clean success.
        for r in ev
            .unsuccessful()
            .iter()
            .map(|&i| &recs[i])
            .filter(|r| relevant(r) && !util::password_worked(r))
        {
            failing_users.insert(r.user_principal_name);
            failing_ips.insert(r.ip);
        }
        let by_ip = util::group_of(ev, cfg, ev.by_ip(), failing_ips, relevant);
        let mut ip_hits: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for events in by_ip.values() {
            ip_runs(recs, events, c, &mut ip_hits);
        }
        let by_user = util::group_of(ev, cfg, ev.by_user(), failing_users, relevant);
        let mut out = Vec::new();
        for (&user, events) in &by_user {
            for hit in user_runs(recs, events, c, &ip_hits) {
                out.push(util::finding(ev, draft(recs, c.window_minutes, user, hit)));
            }
        }
        out
    }
}

/// Successes from an IP after a multi-account run of failures from it,
/// keyed by the success's record index, with the run's failures.
fn ip_runs(
    recs: &[SignIn],
    events: &[usize],
    c: &SuccessAfterFailuresConfig,
    hits: &mut BTreeMap<usize, Vec<usize>>,
) {
    let window = util::minutes(c.window_minutes);
    let mut run: VecDeque<usize> = VecDeque::new();
    let mut users: Tally<&str> = Tally::default();
    for &i in events {
        let r = &recs[i];
        while let Some(&old) = run.front() {
            if r.time_us - recs[old].time_us <= window {
                break;
            }
            users.remove(&recs[old].user_principal_name.as_str());
            run.pop_front();
        }
        if !util::password_worked(r) {
            users.add(recs[i].user_principal_name.as_str());
            run.push_back(i);
            continue;
        }
        if run.len() >= (c.min_failures as usize).max(1)
            && users.distinct() >= c.ip_min_users as usize
            && users.contains(&r.user_principal_name.as_str())
        {
            hits.insert(i, run.iter().copied().collect());
        }
        run.clear();
        users = Tally::default();
    }
}

/// One account's hits: successes after a run of its own failures or after
/// an IP run (from `ip_hits`), merged while they follow within the window.
struct Hit {
    failures: BTreeSet<usize>,
    successes: Vec<usize>,
    by_account: bool,
    by_ip: bool,
    /// Every success came from an address the account had succeeded from
    /// before.
    seen_before: bool,
    /// Every success fits the owner's own pattern: an address, a device,
    /// or a network in a country the account had succeeded from before.
    owner_pattern: bool,
}

fn user_runs(
    recs: &[SignIn],
    events: &[usize],
    c: &SuccessAfterFailuresConfig,
    ip_hits: &BTreeMap<usize, Vec<usize>>,
) -> Vec<Hit> {
    let window = util::minutes(c.window_minutes);
    let mut run: VecDeque<usize> = VecDeque::new();
    // What the owner's clean successes before a hit teach is only asked
    // at hits, which are rare: the successes are learnt then, up to the
    // hit, rather than at every success of every account that failed.
    let mut usual = Usual::default();
    let mut learnt = 0;
    let mut hits: Vec<Hit> = Vec::new();
    for (at, &i) in events.iter().enumerate() {
        let r = &recs[i];
        while run
            .front()
            .is_some_and(|&old| r.time_us - recs[old].time_us > window)
        {
            run.pop_front();
        }
        if !util::password_worked(r) {
            run.push_back(i);
            continue;
        }
        let by_account = run.len() >= (c.min_failures as usize).max(1);
        let by_ip = ip_hits.get(&i);
        if by_account || by_ip.is_some() {
            let mut failures: BTreeSet<usize> = BTreeSet::new();
            if by_account {
                failures.extend(run.iter().copied());
            }
            if let Some(f) = by_ip {
                failures.extend(f.iter().copied());
            }
            // Only a clean success teaches the owner's pattern: a password
            // accepted but stopped by MFA or a policy may be the attacker's.
            for &s in &events[learnt..at] {
                if recs[s].status == crate::model::StatusClass::Success {
                    usual.add(&recs[s]);
                }
            }
            learnt = at;
            let seen_before = usual.has_ip(&r.ip);
            let owner_pattern = usual.fits(r);
            match hits.last_mut() {
                Some(h)
                    if h.successes
                        .last()
                        .is_some_and(|&s| r.time_us - recs[s].time_us <= window) =>
                {
                    h.failures.extend(failures);
                    h.successes.push(i);
                    h.by_account |= by_account;
                    h.by_ip |= by_ip.is_some();
                    h.seen_before &= seen_before;
                    h.owner_pattern &= owner_pattern;
                }
                _ => hits.push(Hit {
                    failures,
                    successes: vec![i],
                    by_account,
                    by_ip: by_ip.is_some(),
                    seen_before,
                    owner_pattern,
                }),
            }
        }
        run.clear();
    }
    hits
}

fn draft(recs: &[SignIn], window_minutes: u32, user: &str, hit: Hit) -> Draft {
    let failures: Vec<usize> = hit.failures.into_iter().collect();
    let first = failures.iter().map(|&i| recs[i].time_us).min().unwrap_or(0);
    let s0 = &recs[hit.successes[0]];
    let success_ips = util::distinct(recs, &hit.successes, |r| r.ip.as_str());
    let success_codes: BTreeSet<i64> = hit.successes.iter().map(|&i| recs[i].error_code).collect();
    let how = if s0.error_code == 0 {
        "signed in".to_string()
    } else {
        format!("password accepted (error {})", s0.error_code)
    };
    let title = format!(
        "{user}: {how} from {} after {} failed attempt{} in {}",
        if s0.ip.is_empty() {
            "an unknown IP"
        } else {
            s0.ip.as_str()
        },
        failures.len(),
        util::plural(failures.len()),
        util::span_text(s0.time_us - first)
    );
    let trigger = match (hit.by_account, hit.by_ip) {
        (true, true) => "account+source_ip",
        (true, false) => "account",
        _ => "source_ip",
    };
    // The story decides the severity: a success that fits the owner's own
    // pattern (an address, device or network the account used before) is
    // most likely the owner signing in during someone else's attack.
    let (severity, title, remediation) = if hit.owner_pattern {
        (
            Severity::Info,
            format!("{title}; the success fits the account's usual address, device or network"),
            vec![
                format!("The success at {} came from where {user} had signed in before the failures, so it is most likely the owner; confirm with them.", util::rfc3339(s0.time_us)),
                format!("Handle the failures as an attack on {user} (see the related findings): the attacker may still try the password."),
            ],
        )
    } else {
        (
            Severity::Critical,
            title,
            vec![
                format!("Confirm with the owner of {user} whether the sign-in at {} was theirs; until then treat the account as compromised.", util::rfc3339(s0.time_us)),
                format!("If it was not: reset the password, revoke sessions and refresh tokens for {user}, remove MFA methods and devices registered since {}, and block {}.", util::rfc3339(first), success_ips.join(", ")),
                "Review what the session did afterwards: mailbox rules and forwarding, OAuth consents, file downloads, new app registrations.".to_string(),
            ],
        )
    };
    let d = Draft {
        events: failures.clone(),
        highlights: hit.successes.clone(),
        window_seconds: i64::from(window_minutes) * 60,
        remediation,
        ..Draft::new(KIND, user, severity, title)
    };
    d.fact("account", user)
        .fact("failures_before", failures.len())
        .fact("successes", hit.successes.len())
        .fact("success_ips", util::json_list(&success_ips))
        .fact(
            "success_codes",
            serde_json::Value::from(success_codes.into_iter().collect::<Vec<_>>()),
        )
        .fact(
            "failing_ips",
            util::distinct(recs, &failures, |r| r.ip.as_str()).len(),
        )
        .fact("triggered_by", trigger)
        .fact("success_ip_seen_before", hit.seen_before)
        .fact("owner_pattern", hit.owner_pattern)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::detect::util::testing::*;

    #[test]
    fn fires_when_the_password_works_after_guessing() {
        let mut v: Vec<SignIn> = (0..12)
            .map(|k| signin(k * 30, "hr@contoso.com", "203.0.113.77", 50126))
            .collect();
        v.push(signin(400, "hr@contoso.com", "203.0.113.77", 0));
        v.push(signin(460, "hr@contoso.com", "203.0.113.77", 0));
        let recs = fixture(v);
        let f = run(&SuccessAfterFailures, &recs, &DetectionConfig::default());
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Critical);
        assert_eq!(f[0].count, 12);
        assert_eq!(fact(&f[0], "triggered_by"), Some(&"account".into()));
        assert_eq!(fact(&f[0], "success_ip_seen_before"), Some(&false.into()));
        assert_eq!(f[0].last_seen, "2024-03-04T08:06:40Z");
    }

    #[test]
    fn the_owner_signing_in_from_their_usual_address_is_not_a_compromise() {
        // The owner works from 192.0.2.10; an attacker guesses from
        // another address; the owner then signs in as usual.
        let mut v = vec![signin(0, "bianca@contoso.com", "192.0.2.10", 0)];
        v.extend(
            (0..26).map(|k| signin(600 + k * 20, "bianca@contoso.com", "198.18.152.9", 50126)),
        );
        v.push(signin(1400, "bianca@contoso.com", "192.0.2.10", 0));
        let recs = fixture(v);
        let f = run(&SuccessAfterFailures, &recs, &DetectionConfig::default());
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Info);
        assert_eq!(fact(&f[0], "owner_pattern"), Some(&true.into()));
        // The same success from the attacker's address is a compromise.
        let mut v = vec![signin(0, "bianca@contoso.com", "192.0.2.10", 0)];
        v.extend(
            (0..26).map(|k| signin(600 + k * 20, "bianca@contoso.com", "198.18.152.9", 50126)),
        );
        v.push(signin(1400, "bianca@contoso.com", "198.18.152.9", 0));
        let recs = fixture(v);
        let f = run(&SuccessAfterFailures, &recs, &DetectionConfig::default());
        assert_eq!(f[0].severity, Severity::Critical);
        assert_eq!(fact(&f[0], "owner_pattern"), Some(&false.into()));
    }

    #[test]
    fn fires_for_a_sprayed_account_through_the_ip_view() {
        // 8 accounts, 2 attempts each, from one IP; user3 then gets an MFA
        // prompt from it. No single account has 10 failures.
        let mut v = Vec::new();
        for round in 0..2 {
            for u in 0..8 {
                v.push(signin(
                    round * 300 + u * 10,
                    &format!("user{u}@contoso.com"),
                    "198.51.100.66",
                    50126,
                ));
            }
        }
        v.push(signin(700, "user3@contoso.com", "198.51.100.66", 50076));
        let recs = fixture(v);
        let f = run(&SuccessAfterFailures, &recs, &DetectionConfig::default());
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].users.len(), 8);
        assert_eq!(fact(&f[0], "triggered_by"), Some(&"source_ip".into()));
    }

    #[test]
    fn busy_nat_with_typos_does_not_fire() {
        // 40 people behind one NAT: each mistypes once and then signs in.
        let mut v = Vec::new();
        for k in 0..40 {
            let u = format!("staff{k:02}@contoso.com");
            v.push(signin(k * 20, &u, "192.0.2.10", 50126));
            v.push(signin(k * 20 + 15, &u, "192.0.2.10", 0));
        }
        let recs = fixture(v);
        assert!(run(&SuccessAfterFailures, &recs, &DetectionConfig::default()).is_empty());
    }
}
