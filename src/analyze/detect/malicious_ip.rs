//! Malicious IPs: Entra's own blocks, your IP list, and sources that mostly fail.
//!
//! What it finds, why it matters, tuning and false positives:
//! `docs/malicious_ip.md` (the registry in `mod.rs` serves it).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::registry::{Invalid, Settings};
use super::sql::{self, Query};
use super::util::{self, Draft};
use super::{Detection, DetectionConfig, Events};
use crate::model::codes::LockoutCause;
use crate::model::{Finding, Severity, SignIn, StatusClass};
use serde::{Deserialize, Serialize};

pub struct MaliciousIp;

const KIND: &str = "malicious_ip";

/// The `[malicious_ip]` table of the settings file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaliciousIpConfig {
    pub enabled: bool,
    /// Report IPs Entra itself blocked (50053 malicious-IP or
    /// high-confidence-risk reason).
    pub entra_blocked: bool,
    /// Report IPs on the `--ip-list`.
    pub use_ip_list: bool,
    /// Failed share of an IP's sign-ins (interrupts left out).
    pub min_failure_ratio: f64,
    pub ratio_min_users: u32,
    pub ratio_min_failures: u32,
}

impl Default for MaliciousIpConfig {
    fn default() -> Self {
        MaliciousIpConfig {
            enabled: true,
            entra_blocked: true,
            use_ip_list: true,
            min_failure_ratio: 0.9,
            ratio_min_users: 10,
            ratio_min_failures: 20,
        }
    }
}

impl Settings for MaliciousIpConfig {
    fn check(&self) -> Result<(), Invalid> {
        if !(0.0..=1.0).contains(&self.min_failure_ratio) {
            return Err(Invalid::new("min_failure_ratio", "must be between 0 and 1"));
        }
        Ok(())
    }
}

/// The share of failed sign-ins from the source, over `ip_stats x`.
const RATIO: &str = "CASE WHEN x.failures + x.successes = 0 THEN 0.0 ELSE CAST(x.failures AS DOUBLE) / (x.failures + x.successes) END";

impl Detection for MaliciousIp {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn title(&self) -> &'static str {
        "Known or evidently malicious source IP"
    }

    fn techniques(&self) -> &'static [&'static str] {
        &["T1110"]
    }

    fn needs(&self) -> &'static [crate::analyze::coverage::Need] {
        &[crate::analyze::coverage::Need::LockoutReason]
    }

    /// The settings, with the loaded `--ip-list` (not a setting) shown
    /// after the switch that uses it.
    fn thresholds(&self, cfg: &DetectionConfig) -> Vec<(String, String)> {
        let list = if cfg.ip_list.is_empty() {
            "none loaded".to_string()
        } else {
            format!("{} ({} entries)", cfg.ip_list.source(), cfg.ip_list.len())
        };
        let mut shown = cfg.thresholds(KIND);
        let at = shown
            .iter()
            .position(|(k, _)| k == "use_ip_list")
            .map_or(shown.len(), |i| i + 1);
        shown.insert(at, ("ip_list".to_string(), list));
        shown
    }

    fn sql(&self, cfg: &DetectionConfig) -> Query {
        let c = &cfg.malicious_ip;
        let mut q = Query::new();
        if c.use_ip_list && !cfg.ip_list.is_empty() {
            q = q.note(format!(
                "the --ip-list check ({} entries) is not part of this query: join the list to the result, or add its networks to the WHERE clause",
                cfg.ip_list.len()
            ));
        }
        let blocked = if c.entra_blocked {
            "blocked > 0"
        } else {
            "FALSE"
        };
        q.cte(
            "ip_stats",
            format!(
                "SELECT ip, {},\n    \
                 SUM(CASE WHEN status = 'success' THEN 1 ELSE 0 END) AS successes,\n    \
                 SUM(CASE WHEN status = 'failure' THEN 1 ELSE 0 END) AS failures,\n    \
                 COUNT(DISTINCT CASE WHEN status = 'failure' AND user_principal_name <> '' THEN user_principal_name END) AS failing_users,\n    \
                 SUM(CASE WHEN status = 'failure' AND lockout_cause IN ('{}', '{}') THEN 1 ELSE 0 END) AS blocked\n  \
                 FROM ev WHERE ip <> '' GROUP BY ip",
                sql::SPAN,
                LockoutCause::MaliciousIp.as_str(),
                LockoutCause::HighRiskBlock.as_str()
            ),
        )
        .select(format!(
            "SELECT {}, first_seen, last_seen, count\nFROM ip_stats\n\
             WHERE {blocked}\n   \
             OR (failures >= {} AND failing_users >= {}\n       \
             AND CASE WHEN failures + successes = 0 THEN 0.0 ELSE CAST(failures AS DOUBLE) / (failures + successes) END >= {})",
            sql::head(KIND, "ip", None, Some("ip")),
            sql::at_least_one(c.ratio_min_failures),
            c.ratio_min_users,
            sql::float(c.min_failure_ratio)
        ))
        // Everything the source did.
        .events(format!(
            "SELECT f.actor, f.first_seen AS found_first, {}\n    \
             FROM found f JOIN ev e ON e.ip = f.ip",
            sql::member_cols("e")
        ))
        // Per account, the source's first sign-in whose password worked.
        .highlights(sql::first_per(
            &format!(
                "SELECT f.actor, f.first_seen AS found_first, {}\n      \
                 FROM found f JOIN (SELECT * FROM ev WHERE password_worked) e ON e.ip = f.ip",
                sql::member_cols("e")
            ),
            "user_principal_name",
        ))
        .join("JOIN ip_stats x ON x.ip = f.ip")
        .severity(format!(
            "CASE WHEN a.n_highlights > 0 THEN 'critical' WHEN {} THEN 'high' ELSE 'medium' END",
            blocked.replace("blocked", "x.blocked")
        ))
        .title(format!(
            "concat(f.ip, ': ', concat_ws(', ',\n      \
             CASE WHEN {} THEN concat('blocked by Entra ', {}, ' time', {}) END,\n      \
             CASE WHEN x.failures >= {min_failures} AND x.failing_users >= {min_users} AND {ratio} >= {min_ratio}\n        \
             THEN concat({}, '% of sign-ins failed') END),\n    \
             '; ', {}, ' sign-in', {}, ' for ', {}, ' account', {},\n    \
             CASE WHEN a.n_highlights > 0 THEN concat('; the password worked for ', {}) ELSE '' END)",
            blocked.replace("blocked", "x.blocked"),
            sql::text_num("x.blocked"),
            sql::plural("x.blocked"),
            sql::text_num(&format!("CAST(ROUND({RATIO} * 100) AS BIGINT)")),
            sql::text_num("f.count"),
            sql::plural("f.count"),
            sql::text_num("a.ev_users"),
            sql::plural("a.ev_users"),
            sql::text_num("a.n_highlights"),
            min_failures = sql::at_least_one(c.ratio_min_failures),
            min_users = c.ratio_min_users,
            min_ratio = sql::float(c.min_failure_ratio),
            ratio = RATIO,
        ))
        .fact("failures", sql::json_num("x.failures"))
        .fact("successes", sql::json_num("x.successes"))
        .note("the title rounds the failure percentage half away from zero; analyze rounds half to even")
        .note("facts leave out reasons, the IP list's label and source, and the blocks by cause")
    }

    fn run(&self, ev: &Events, cfg: &DetectionConfig) -> Vec<Finding> {
        let c = &cfg.malicious_ip;
        let recs = ev.records;
        let mut stats: HashMap<&str, IpStats, util::Fast> = HashMap::default();
        for r in recs {
            if r.ip.is_empty() || !util::visible(cfg, r) {
                continue;
            }
            let s = stats.entry(r.ip.as_str()).or_default();
            match r.status {
                StatusClass::Success => s.successes += 1,
                StatusClass::Failure => {
                    s.failures += 1;
                    if !r.user_principal_name.is_empty() {
                        s.failing_users.insert(r.user_principal_name.as_str());
                    }
                    if r.error_code == 50053 {
                        match util::lockout_cause(r) {
                            LockoutCause::MaliciousIp => s.blocked_malicious += 1,
                            LockoutCause::HighRiskBlock => s.blocked_risk += 1,
                            _ => {}
                        }
                    }
                }
                StatusClass::Interrupted => {}
            }
        }

        let use_list = c.use_ip_list && !cfg.ip_list.is_empty();
        let mut flagged: BTreeMap<&str, Reasons> = BTreeMap::new();
        for (&ip, s) in &stats {
            let blocked = c.entra_blocked && s.blocked_malicious + s.blocked_risk > 0;
            let listed = if use_list {
                cfg.ip_list.lookup(ip)
            } else {
                None
            };
            let judged = s.failures + s.successes;
            let ratio = if judged == 0 {
                0.0
            } else {
                s.failures as f64 / judged as f64
            };
            let mostly_failing = s.failures >= (c.ratio_min_failures as usize).max(1)
                && s.failing_users.len() >= c.ratio_min_users as usize
                && ratio >= c.min_failure_ratio;
            if blocked || listed.is_some() || mostly_failing {
                flagged.insert(
                    ip,
                    Reasons {
                        blocked,
                        listed,
                        mostly_failing,
                        ratio,
                    },
                );
            }
        }

        let ips: BTreeSet<&str> = flagged.keys().copied().collect();
        let pools = util::records_by_ip(ev, cfg, &ips);
        flagged
            .into_iter()
            .filter_map(|(ip, why)| {
                let pool = pools.get(ip)?;
                let s = stats.get(ip)?;
                Some(util::finding(ev, draft(recs, cfg, ip, why, s, pool)))
            })
            .collect()
    }
}

#[derive(Default)]
struct IpStats<'a> {
    successes: usize,
    failures: usize,
    failing_users: HashSet<&'a str, util::Fast>,
    blocked_malicious: usize,
    blocked_risk: usize,
}

struct Reasons<'l> {
    blocked: bool,
    listed: Option<&'l str>,
    mostly_failing: bool,
    ratio: f64,
}

fn draft(
    recs: &[SignIn],
    cfg: &DetectionConfig,
    ip: &str,
    why: Reasons,
    s: &IpStats,
    pool: &[usize],
) -> Draft {
    let mut worked: BTreeMap<&str, usize> = BTreeMap::new();
    for &i in pool {
        if util::password_worked(&recs[i]) {
            worked
                .entry(recs[i].user_principal_name.as_str())
                .or_insert(i);
        }
    }
    let users = util::distinct(recs, pool, |r| r.user_principal_name.as_str()).len();
    let mut reasons = Vec::new();
    let mut parts = Vec::new();
    if why.blocked {
        reasons.push("entra_blocked".to_string());
        parts.push(format!(
            "blocked by Entra {} time{}",
            s.blocked_malicious + s.blocked_risk,
            util::plural(s.blocked_malicious + s.blocked_risk)
        ));
    }
    if let Some(label) = why.listed {
        reasons.push("ip_list".to_string());
        parts.push(if label.is_empty() {
            "on the IP list".to_string()
        } else {
            format!("on the IP list ({label})")
        });
    }
    if why.mostly_failing {
        reasons.push("high_failure_ratio".to_string());
        parts.push(format!("{:.0}% of sign-ins failed", why.ratio * 100.0));
    }
    let mut title = format!(
        "{ip}: {}; {} sign-in{} for {users} account{}",
        parts.join(", "),
        pool.len(),
        util::plural(pool.len()),
        util::plural(users)
    );
    let severity = if !worked.is_empty() {
        title.push_str(&format!("; the password worked for {}", worked.len()));
        Severity::Critical
    } else if why.blocked || why.listed.is_some() {
        Severity::High
    } else {
        Severity::Medium
    };
    let mut remediation = vec![format!(
        "Block {ip} at the perimeter and in a Conditional Access named location, unless it turns out to be your own egress (then allowlist it)."
    )];
    if !worked.is_empty() {
        let names: Vec<&str> = worked.keys().copied().collect();
        remediation.push(format!(
            "Reset passwords and revoke sessions for {}, whose password worked from this IP; review what those sessions did.",
            names.join(", ")
        ));
    }
    remediation.push("Search other logs (mail, VPN, proxy, audit log) for the same address and its neighbours in the same network.".to_string());
    let d = Draft {
        events: pool.to_vec(),
        highlights: worked.values().copied().collect(),
        window_seconds: 0,
        remediation,
        ..Draft::new(KIND, ip, severity, title)
    };
    d.fact("reasons", serde_json::Value::from(reasons))
        .fact(
            "ip_list_label",
            why.listed.map_or(serde_json::Value::Null, |l| l.into()),
        )
        .fact(
            "ip_list_source",
            if why.listed.is_some() {
                cfg.ip_list.source().into()
            } else {
                serde_json::Value::Null
            },
        )
        .fact("blocked_malicious_ip", s.blocked_malicious)
        .fact("blocked_high_risk", s.blocked_risk)
        .fact("failures", s.failures)
        .fact("successes", s.successes)
        .fact("failure_ratio", (why.ratio * 1000.0).round() / 1000.0)
        .fact("password_worked", util::worked_json(recs, &worked))
        .fact(
            "countries",
            util::json_list(&util::distinct(recs, pool, |r| r.country.as_str())),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::detect::util::testing::*;
    use crate::analyze::detect::IpList;

    fn blocked(sec: i64, user: &str, ip: &str) -> SignIn {
        SignIn {
            failure_reason:
                "Sign-in was blocked because it came from an IP address with malicious activity."
                    .into(),
            ..signin(sec, user, ip, 50053)
        }
    }

    #[test]
    fn entra_blocks_list_hits_and_failing_sources_fire() {
        let mut v = vec![
            blocked(0, "a@contoso.com", "203.0.113.5"),
            blocked(60, "b@contoso.com", "203.0.113.5"),
        ];
        // Same blocked IP later gets a password right for c.
        v.push(signin(120, "c@contoso.com", "203.0.113.5", 50074));
        v.push(signin(300, "d@contoso.com", "198.51.100.200", 0));
        for k in 0..25 {
            v.push(signin(
                400 + k * 600,
                &format!("user{:02}@contoso.com", k % 12),
                "192.0.2.200",
                50126,
            ));
        }
        v.push(signin(9000, "user01@contoso.com", "192.0.2.200", 0));
        let recs = fixture(v);
        let cfg = DetectionConfig {
            ip_list: IpList::parse("198.51.100.0/24 vps-range\n", "lists/bad.txt").unwrap(),
            ..DetectionConfig::default()
        };
        let f = run(&MaliciousIp, &recs, &cfg);
        assert_eq!(f.len(), 3, "{f:#?}");
        let by_ip = |ip: &str| f.iter().find(|f| f.ips == vec![ip.to_string()]).unwrap();
        assert_eq!(by_ip("203.0.113.5").severity, Severity::Critical);
        assert_eq!(
            fact(by_ip("203.0.113.5"), "blocked_malicious_ip"),
            Some(&2.into())
        );
        let listed = by_ip("198.51.100.200");
        assert_eq!(fact(listed, "ip_list_label"), Some(&"vps-range".into()));
        assert!(listed.title.contains("vps-range"));
        let ratio = by_ip("192.0.2.200");
        assert_eq!(
            fact(ratio, "reasons"),
            Some(&serde_json::json!(["high_failure_ratio"]))
        );
    }

    #[test]
    fn ordinary_sources_do_not_fire() {
        let mut v = Vec::new();
        for k in 0..30 {
            let u = format!("staff{k:02}@contoso.com");
            v.push(signin(k * 30, &u, "192.0.2.10", 0));
            if k % 5 == 0 {
                v.push(signin(k * 30 + 5, &u, "192.0.2.10", 50126));
            }
        }
        // Lockout text is not a malicious-IP verdict.
        v.push(SignIn {
            failure_reason: "Account is locked because user tried to sign in too many times with an incorrect user ID or password.".into(),
            ..signin(2000, "x@contoso.com", "198.51.100.9", 50053)
        });
        let recs = fixture(v);
        assert!(run(&MaliciousIp, &recs, &DetectionConfig::default()).is_empty());
    }
}
