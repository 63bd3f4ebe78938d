//! Distributed spray: many IPs, few accounts each, one shared tool or target.
//!
//! What it finds, why it matters, tuning and false positives:
//! `docs/distributed_spray.md` (the registry in `mod.rs` serves it).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use super::presets::CREDENTIAL_CODES;
use super::registry::{Invalid, Settings};
use super::sql::{self, Bursts, Query};
use super::util::{self, Draft, Tally, WindowState};
use super::{Detection, DetectionConfig, Events};
use crate::model::{Finding, Severity, SignIn};
use serde::{Deserialize, Serialize};

pub struct DistributedSpray;

const KIND: &str = "distributed_spray";

/// What a distributed spray groups failures by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SprayGroup {
    /// Same user-agent string (tooling tends to send one).
    UserAgent,
    /// Same application.
    App,
    /// All failures in the tenant together (Elastic, Splunk).
    Tenant,
    /// One account attacked from many IPs (Sentinel's distributed cracking).
    User,
}

impl SprayGroup {
    pub fn as_str(self) -> &'static str {
        match self {
            SprayGroup::UserAgent => "user_agent",
            SprayGroup::App => "app",
            SprayGroup::Tenant => "tenant",
            SprayGroup::User => "user",
        }
    }
}

/// The `[distributed_spray]` table of the settings file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistributedSprayConfig {
    pub enabled: bool,
    pub window_minutes: u32,
    pub min_ips: u32,
    pub min_users: u32,
    pub min_failures: u32,
    /// Ceiling on the average number of accounts per IP (0 = no ceiling):
    /// a distributed spray tries few accounts from each IP. Lowering it is
    /// the stricter direction.
    pub max_users_per_ip: f64,
    pub group_by: Vec<SprayGroup>,
    pub codes: Vec<i64>,
    /// Do not count a failure from an IP that already let some account in
    /// earlier in the input: typos from known-good egress are the main
    /// noise for this detection.
    pub ignore_known_good_ips: bool,
}

impl Default for DistributedSprayConfig {
    fn default() -> Self {
        // Between Elastic's stuffing class (>=5 IPs, >=10 users, >=30
        // events) and Splunk's spike (>20 IPs, >20 users).
        DistributedSprayConfig {
            enabled: true,
            window_minutes: 30,
            min_ips: 10,
            min_users: 10,
            min_failures: 20,
            max_users_per_ip: 3.0,
            group_by: vec![SprayGroup::UserAgent, SprayGroup::App],
            codes: CREDENTIAL_CODES.to_vec(),
            ignore_known_good_ips: true,
        }
    }
}

impl Settings for DistributedSprayConfig {
    const UNSET: &'static [(&'static str, &'static str)] = &[("max_users_per_ip", "no ceiling")];

    fn check(&self) -> Result<(), Invalid> {
        let cap = self.max_users_per_ip;
        if cap.is_nan() || cap < 0.0 {
            return Err(Invalid::new(
                "max_users_per_ip",
                "must be 0 (no ceiling) or more",
            ));
        }
        if self.group_by.is_empty() {
            return Err(Invalid::new(
                "group_by",
                "needs at least one of user_agent, app, tenant, user",
            ));
        }
        Ok(())
    }
}

/// What identifies one sign-in after de-duplication; carried into the SQL
/// groupings so one failure seen by two of them can be recognised.
const EVENT_COLUMNS: &str =
    "time, request_id, error_code, user_principal_name, ip, app_id, sign_in_type";

/// The other columns a finding's sign-ins show (`sql::member_cols`).
const MORE_COLUMNS: &str = "source_file, source_record, status, client_app, app_name, country";

impl Detection for DistributedSpray {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn title(&self) -> &'static str {
        "Distributed password spray across many IPs"
    }

    fn techniques(&self) -> &'static [&'static str] {
        &["T1110.003"]
    }

    fn sql(&self, cfg: &DetectionConfig) -> Query {
        let c = &cfg.distributed_spray;
        let mut groups: Vec<SprayGroup> = Vec::new();
        for &g in &c.group_by {
            if !groups.contains(&g) {
                groups.push(g);
            }
        }
        let (good_join, known_good) = if c.ignore_known_good_ips {
            (
                " LEFT JOIN ds_good g ON g.ip = e.ip",
                "\n    AND (g.first_good IS NULL OR e.time < g.first_good)",
            )
        } else {
            ("", "")
        };
        let per_group: Vec<String> = groups
            .iter()
            .enumerate()
            .map(|(rank, g)| {
                let (value, filter) = match g {
                    SprayGroup::UserAgent => ("user_agent", " WHERE user_agent <> ''"),
                    SprayGroup::App => ("app_name", " WHERE app_name <> ''"),
                    SprayGroup::Tenant => ("''", ""),
                    SprayGroup::User => ("user_principal_name", ""),
                };
                format!(
                    "SELECT '{}' AS grouped_by, {rank} AS group_rank, {value} AS value, {EVENT_COLUMNS}, {MORE_COLUMNS} FROM ds_counted{filter}",
                    g.as_str()
                )
            })
            .collect();
        let mut qualifies = format!(
            "ips >= {} AND users >= {} AND n >= {}",
            c.min_ips, c.min_users, c.min_failures
        );
        if c.max_users_per_ip > 0.0 {
            let _ = write!(
                qualifies,
                " AND pairs <= {} * ips",
                sql::float(c.max_users_per_ip)
            );
        }
        let q = Query::new()
            .note("with the users-per-IP ceiling, a window ending on several sign-ins with the same timestamp is judged once with all of them; analyze also judges it part-way through")
            .cte(
                "ds_good",
                "SELECT ip, MIN(time) AS first_good FROM ev WHERE ip <> '' AND password_worked GROUP BY ip",
            )
            .cte(
                "ds_counted",
                format!(
                    "SELECT e.* FROM ev e{good_join}\n  \
                     WHERE e.ip <> '' AND e.user_principal_name <> '' AND {}{known_good}",
                    sql::credential_failure(&c.codes)
                ),
            )
            .cte("ds_events", per_group.join("\n  UNION ALL "))
            .bursts(&Bursts {
                name: "ds",
                from: "ds_events",
                keys: &["grouped_by", "value"],
                window_minutes: c.window_minutes,
                distinct: &[
                    ("ips", &["ip"]),
                    ("users", &["user_principal_name"]),
                    ("pairs", &["ip", "user_principal_name"]),
                ],
                qualifies,
            });
        let head = sql::head(
            KIND,
            "CASE WHEN b.grouped_by = 'tenant' THEN 'tenant' ELSE concat(b.grouped_by, '|', b.value) END",
            Some("CASE WHEN b.grouped_by = 'user' THEN b.value END"),
            None,
        );
        let span = "MIN(b.time) AS first_seen, MAX(b.time) AS last_seen, COUNT(*) AS count";
        if groups.len() < 2 {
            return complete(q.select(format!(
                "SELECT {head}, {span}\nFROM ds b\nGROUP BY b.grouped_by, b.value, b.burst_start"
            )));
        }
        // A burst whose failures all belong to a bigger burst of another
        // grouping (or an equal one listed earlier) is the same campaign.
        let same_event: Vec<String> = EVENT_COLUMNS
            .split(", ")
            .map(|col| format!("k.{col} = b.{col}"))
            .collect();
        complete(q.cte(
            "ds_size",
            "SELECT grouped_by, group_rank, value, burst_start, COUNT(*) AS n\n  \
             FROM ds GROUP BY grouped_by, group_rank, value, burst_start",
        )
        .cte(
            "ds_covered",
            format!(
                "SELECT b.grouped_by, b.value, b.burst_start\n  \
                 FROM ds b JOIN ds k ON k.grouped_by <> b.grouped_by AND {}\n  \
                 JOIN ds_size sb ON sb.grouped_by = b.grouped_by AND sb.value = b.value AND sb.burst_start = b.burst_start\n  \
                 JOIN ds_size sk ON sk.grouped_by = k.grouped_by AND sk.value = k.value AND sk.burst_start = k.burst_start\n  \
                 WHERE sk.n > sb.n OR (sk.n = sb.n AND sk.group_rank < sb.group_rank)\n  \
                 GROUP BY b.grouped_by, b.value, b.burst_start, k.grouped_by, k.value, k.burst_start, sb.n\n  \
                 HAVING COUNT(*) = sb.n",
                same_event.join(" AND ")
            ),
        )
        .select(format!(
            "SELECT {head}, {span}\n\
             FROM ds b LEFT JOIN (SELECT DISTINCT grouped_by, value, burst_start FROM ds_covered) c\n  \
             ON c.grouped_by = b.grouped_by AND c.value = b.value AND c.burst_start = b.burst_start\n\
             WHERE c.grouped_by IS NULL\n\
             GROUP BY b.grouped_by, b.value, b.burst_start"
        )))
    }

    fn run(&self, ev: &Events, cfg: &DetectionConfig) -> Vec<Finding> {
        let c = &cfg.distributed_spray;
        let recs = ev.records;
        let window = util::minutes(c.window_minutes);
        let known_good = if c.ignore_known_good_ips {
            first_success_per_ip(ev, cfg)
        } else {
            HashMap::default()
        };
        let counted = |r: &SignIn| {
            !r.ip.is_empty()
                && !r.user_principal_name.is_empty()
                && util::is_credential_failure(r, &c.codes)
                && known_good.get(r.ip.as_str()).is_none_or(|&t| r.time_us < t)
        };

        let mut found: Vec<(SprayGroup, &str, Vec<usize>)> = Vec::new();
        let mut groups_seen = BTreeSet::new();
        for &g in &c.group_by {
            if !groups_seen.insert(g) {
                continue;
            }
            let groups = util::group_unsuccessful_by(ev, cfg, |r| {
                if !counted(r) {
                    return None;
                }
                let value = match g {
                    SprayGroup::UserAgent => r.user_agent.as_str(),
                    SprayGroup::App => r.app_name.as_str(),
                    SprayGroup::Tenant => "",
                    SprayGroup::User => r.user_principal_name.as_str(),
                };
                (g == SprayGroup::Tenant || !value.is_empty()).then_some(value)
            });
            for (value, events) in &groups {
                let mut st = SprayWindow::new(c);
                for b in util::bursts(recs, events, window, &mut st) {
                    found.push((g, value, events[b].to_vec()));
                }
            }
        }
        let found = drop_covered(found);

        let ips: BTreeSet<&str> = found
            .iter()
            .flat_map(|(_, _, e)| e.iter().map(|&i| recs[i].ip.as_str()))
            .collect();
        let pools = util::records_by_ip(ev, cfg, &ips);
        found
            .into_iter()
            .map(|(g, value, burst)| {
                let burst_ips = util::distinct(recs, &burst, |r| r.ip.as_str());
                let mut pool: Vec<usize> = burst_ips
                    .iter()
                    .filter_map(|ip| pools.get(ip))
                    .flatten()
                    .copied()
                    .collect();
                pool.sort_by_key(|&i| (recs[i].time_us, i));
                let targets = util::first_time_per_user(recs, &burst);
                let worked = util::password_worked_after(recs, &pool, &targets);
                util::finding(
                    ev,
                    draft(
                        recs,
                        c.window_minutes,
                        g,
                        value,
                        burst,
                        burst_ips.len(),
                        targets.len(),
                        worked,
                    ),
                )
            })
            .collect()
    }
}

/// Earliest sign-in per IP whose password worked, for any account.
fn first_success_per_ip<'a>(
    ev: &Events<'a>,
    cfg: &DetectionConfig,
) -> HashMap<&'a str, i64, util::Fast> {
    let mut first: HashMap<&str, i64, util::Fast> = HashMap::default();
    for r in ev.records {
        if !r.ip.is_empty() && util::password_worked(r) && util::visible(cfg, r) {
            let t = first.entry(r.ip.as_str()).or_insert(r.time_us);
            *t = (*t).min(r.time_us);
        }
    }
    first
}

/// The findings' sign-ins, severity, title and facts, after `found`.
fn complete(q: Query) -> Query {
    let actor = "CASE WHEN b.grouped_by = 'tenant' THEN 'tenant' ELSE concat(b.grouped_by, '|', b.value) END";
    let value = "substr(f.actor, position('|' IN f.actor) + 1)";
    let ips_span = format!(
        "' from ', {}, ' IPs in ', {}",
        sql::text_num("a.ev_ips"),
        sql::span_text("f.span_s")
    );
    q.member_cte(
        "ds_members",
        format!(
            "SELECT x.* FROM (\n    \
             SELECT {actor} AS actor, MIN(b.time) OVER (PARTITION BY b.grouped_by, b.value, b.burst_start) AS found_first, {}\n    \
             FROM ds b\n  \
             ) x JOIN found f ON f.actor = x.actor AND f.first_seen = x.found_first",
            sql::member_cols("b")
        ),
    )
    .events("SELECT * FROM ds_members")
    // Per targeted account, the first sign-in from any of the burst's
    // sources since its first failure whose password worked.
    .highlights(sql::first_per(
        &format!(
            "SELECT t.actor, t.found_first, {}\n      \
             FROM (SELECT actor, found_first, user_principal_name, MIN(time) AS since FROM ds_members\n        \
             GROUP BY actor, found_first, user_principal_name) t\n      \
             JOIN (SELECT DISTINCT actor, found_first, ip FROM ds_members) i ON i.actor = t.actor AND i.found_first = t.found_first\n      \
             JOIN (SELECT * FROM ev WHERE password_worked) e\n        \
             ON e.ip = i.ip AND e.user_principal_name = t.user_principal_name AND e.time >= t.since",
            sql::member_cols("e")
        ),
        "user_principal_name",
    ))
    .severity("CASE WHEN a.n_highlights > 0 THEN 'critical' ELSE 'high' END")
    .title(format!(
        "concat(CASE WHEN f.actor = 'tenant' THEN 'Distributed spray across the tenant: '\n    \
         WHEN f.actor LIKE 'user|%' THEN concat('Distributed password attack on ', {value}, ': ')\n    \
         WHEN f.actor LIKE 'app|%' THEN concat('Distributed spray against ', {value}, ': ')\n    \
         ELSE concat('Distributed spray with user agent \"', {value}, '\": ') END,\n    \
         CASE WHEN f.actor LIKE 'user|%' THEN concat({}, ' failures') ELSE concat({}, ' accounts') END,\n    \
         {ips_span},\n    \
         CASE WHEN a.n_highlights > 0 THEN concat('; the password worked for ', {}) ELSE '' END)",
        sql::text_num("f.count"),
        sql::text_num("a.ev_users"),
        sql::text_num("a.n_highlights")
    ))
    .fact(
        "grouped_by",
        sql::json_str("CASE WHEN f.actor = 'tenant' THEN 'tenant' ELSE substr(f.actor, 1, position('|' IN f.actor) - 1) END"),
    )
    .fact(
        "shared_value",
        sql::json_str(&format!("CASE WHEN f.actor = 'tenant' THEN '' ELSE {value} END")),
    )
    .fact("failures", sql::json_num("f.count"))
    .fact("password_worked_count", sql::json_num("a.n_highlights"))
}

struct SprayWindow<'a> {
    ips: Tally<&'a str>,
    users: Tally<&'a str>,
    pairs: Tally<(&'a str, &'a str)>,
    failures: usize,
    c: &'a DistributedSprayConfig,
}

impl<'a> SprayWindow<'a> {
    fn new(c: &'a DistributedSprayConfig) -> Self {
        SprayWindow {
            ips: Tally::default(),
            users: Tally::default(),
            pairs: Tally::default(),
            failures: 0,
            c,
        }
    }
}

impl<'a> WindowState<'a> for SprayWindow<'a> {
    fn push(&mut self, r: &'a SignIn) {
        self.ips.add(r.ip.as_str());
        self.users.add(r.user_principal_name.as_str());
        self.pairs
            .add((r.ip.as_str(), r.user_principal_name.as_str()));
        self.failures += 1;
    }

    fn pop(&mut self, r: &'a SignIn) {
        self.ips.remove(&r.ip.as_str());
        self.users.remove(&r.user_principal_name.as_str());
        self.pairs
            .remove(&(r.ip.as_str(), r.user_principal_name.as_str()));
        self.failures -= 1;
    }

    fn qualifies(&self) -> bool {
        let ips = self.ips.distinct();
        let c = self.c;
        ips >= c.min_ips as usize
            && self.users.distinct() >= c.min_users as usize
            && self.failures >= c.min_failures as usize
            && (c.max_users_per_ip <= 0.0
                || self.pairs.distinct() as f64 <= c.max_users_per_ip * ips as f64)
    }
}

/// Drops a burst whose failures all belong to a bigger (or equal, earlier
/// listed) burst: one campaign seen through its user agent and its app is
/// one finding.
fn drop_covered(
    mut found: Vec<(SprayGroup, &str, Vec<usize>)>,
) -> Vec<(SprayGroup, &str, Vec<usize>)> {
    // Stable: among equal sizes the `group_by` order decides.
    found.sort_by_key(|(_, _, e)| std::cmp::Reverse(e.len()));
    let mut kept: Vec<(SprayGroup, &str, Vec<usize>)> = Vec::new();
    let mut kept_sets: Vec<BTreeSet<usize>> = Vec::new();
    for (g, v, events) in found {
        if kept_sets
            .iter()
            .any(|s| events.iter().all(|i| s.contains(i)))
        {
            continue;
        }
        kept_sets.push(events.iter().copied().collect());
        kept.push((g, v, events));
    }
    kept
}

#[allow(clippy::too_many_arguments)]
fn draft(
    recs: &[SignIn],
    window_minutes: u32,
    group: SprayGroup,
    value: &str,
    burst: Vec<usize>,
    ips: usize,
    users: usize,
    worked: BTreeMap<&str, usize>,
) -> Draft {
    let first = burst.first().map_or(0, |&i| recs[i].time_us);
    let last = burst.last().map_or(0, |&i| recs[i].time_us);
    let span = util::span_text(last - first);
    let (actor, mut title) = match group {
        SprayGroup::UserAgent => (
            format!("user_agent|{value}"),
            format!("Distributed spray with user agent \"{value}\": {users} accounts from {ips} IPs in {span}"),
        ),
        SprayGroup::App => (
            format!("app|{value}"),
            format!("Distributed spray against {value}: {users} accounts from {ips} IPs in {span}"),
        ),
        SprayGroup::Tenant => (
            "tenant".to_string(),
            format!("Distributed spray across the tenant: {users} accounts from {ips} IPs in {span}"),
        ),
        SprayGroup::User => (
            format!("user|{value}"),
            format!("Distributed password attack on {value}: {} failures from {ips} IPs in {span}", burst.len()),
        ),
    };
    let severity = if worked.is_empty() {
        Severity::High
    } else {
        title.push_str(&format!("; the password worked for {}", worked.len()));
        Severity::Critical
    };
    let mut remediation = Vec::new();
    if !worked.is_empty() {
        let names: Vec<&str> = worked.keys().copied().collect();
        remediation.push(format!(
            "Treat {} as compromised: reset the password, revoke sessions and refresh tokens, and review MFA methods registered since {}.",
            names.join(", "),
            util::rfc3339(first)
        ));
    }
    remediation.extend([
        "Per-IP blocking will not hold against rotating proxies: require MFA for every targeted account and block legacy authentication.".to_string(),
        match group {
            SprayGroup::UserAgent => format!("Consider a block on the user agent \"{value}\" at your proxy or WAF if no legitimate client sends it."),
            SprayGroup::App => format!("Review who may sign in to {value} and whether it can be restricted by Conditional Access (device or location)."),
            _ => "Look at the shared ASNs and countries in the evidence; a Conditional Access location block often covers most of the campaign.".to_string(),
        },
        "Add the guessed password patterns to the custom banned-password list.".to_string(),
    ]);
    let pairs: BTreeSet<(&str, &str)> = burst
        .iter()
        .map(|&i| (recs[i].ip.as_str(), recs[i].user_principal_name.as_str()))
        .collect();
    let asns: BTreeSet<i64> = burst.iter().filter_map(|&i| recs[i].asn).collect();
    let d = Draft {
        events: burst.clone(),
        highlights: worked.values().copied().collect(),
        window_seconds: i64::from(window_minutes) * 60,
        remediation,
        ..Draft::new(KIND, actor, severity, title)
    };
    d.fact("grouped_by", group.as_str())
        .fact("shared_value", value)
        .fact("failures", burst.len())
        .fact(
            "avg_users_per_ip",
            (pairs.len() as f64 / ips.max(1) as f64 * 100.0).round() / 100.0,
        )
        .fact("distinct_asns", asns.len())
        .fact(
            "countries",
            util::json_list(&util::distinct(recs, &burst, |r| r.country.as_str())),
        )
        .fact("password_worked_count", worked.len())
        .fact("password_worked", util::worked_json(recs, &worked))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::detect::util::testing::*;

    const TOOL_UA: &str = "python-requests/2.31.0";

    /// 24 proxy IPs, each trying 2 accounts with the same tool UA over 8
    /// minutes; one account later gets in from one of those IPs.
    fn campaign() -> Vec<SignIn> {
        let mut v = Vec::new();
        for k in 0..24 {
            for u in 0..2 {
                let mut r = signin(
                    k * 20 + u * 7,
                    &format!("user{:02}@contoso.com", (k * 2 + u) % 40),
                    &format!("198.51.100.{}", 10 + k),
                    50126,
                );
                r.user_agent = TOOL_UA.into();
                r.country = if k % 2 == 0 { "BR".into() } else { "VN".into() };
                v.push(r);
            }
        }
        let mut hit = signin(1500, "user05@contoso.com", "198.51.100.12", 0);
        hit.user_agent = TOOL_UA.into();
        v.push(hit);
        v
    }

    /// Ordinary typos: office workers from home IPs that signed in before.
    fn typos() -> Vec<SignIn> {
        let mut v = Vec::new();
        for k in 0..30 {
            let ip = format!("192.0.2.{}", 20 + k);
            let user = format!("staff{k:02}@contoso.com");
            v.push(signin(k * 10, &user, &ip, 0));
            v.push(signin(600 + k * 20, &user, &ip, 50126));
            v.push(signin(610 + k * 20, &user, &ip, 0));
        }
        v
    }

    #[test]
    fn fires_once_on_a_proxy_campaign() {
        let recs = fixture(campaign());
        let f = run(&DistributedSpray, &recs, &DetectionConfig::default());
        assert_eq!(f.len(), 1, "{f:#?}");
        let f = &f[0];
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(f.ips.len(), 24);
        assert_eq!(fact(f, "grouped_by"), Some(&"user_agent".into()));
        assert_eq!(fact(f, "password_worked_count"), Some(&1.into()));
        assert!(f.title.contains(TOOL_UA), "{}", f.title);
    }

    #[test]
    fn typos_from_known_good_ips_do_not_fire() {
        let recs = fixture(typos());
        assert!(run(&DistributedSpray, &recs, &DetectionConfig::default()).is_empty());
        // Turning the filter off shows why it exists.
        let mut cfg = DetectionConfig::default();
        cfg.distributed_spray.ignore_known_good_ips = false;
        assert!(!run(&DistributedSpray, &recs, &cfg).is_empty());
    }

    #[test]
    fn tenant_and_user_groupings() {
        let recs = fixture(campaign());
        let f = run(
            &DistributedSpray,
            &recs,
            &DetectionConfig::preset("elastic").unwrap(),
        );
        assert_eq!(f.len(), 1);
        assert_eq!(fact(&f[0], "grouped_by"), Some(&"tenant".into()));
        assert!(f[0].title.contains("across the tenant"), "{}", f[0].title);
        // Sentinel's per-account view does not see a spread-out spray...
        let sentinel = DetectionConfig::preset("sentinel").unwrap();
        assert!(run(&DistributedSpray, &recs, &sentinel).is_empty());
        // ...but does see one account hammered from rotating IPs.
        let cracking = fixture(
            (0..35)
                .map(|k| {
                    signin(
                        k * 400,
                        "payroll@contoso.com",
                        &format!("198.51.100.{}", 100 + k % 5),
                        50126,
                    )
                })
                .collect(),
        );
        let f = run(&DistributedSpray, &cracking, &sentinel);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(fact(&f[0], "grouped_by"), Some(&"user".into()));
        assert_eq!(f[0].ips.len(), 5);
    }
}
