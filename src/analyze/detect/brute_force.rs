//! Brute force: many failed passwords for one account in a short time.
//!
//! What it finds, why it matters, tuning and false positives:
//! `docs/brute_force.md` (the registry in `mod.rs` serves it).

use std::collections::BTreeSet;

use super::presets::CREDENTIAL_CODES;
use super::registry::Settings;
use super::sql::{self, Bursts, Query};
use super::util::{self, Draft, Tally, WindowState};
use super::{Detection, DetectionConfig, Events};
use crate::model::{Finding, Severity, SignIn, Text};
use serde::{Deserialize, Serialize};

pub struct BruteForce;

const KIND: &str = "brute_force";

/// The `[brute_force]` table of the settings file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BruteForceConfig {
    pub enabled: bool,
    pub window_minutes: u32,
    pub min_failures: u32,
    pub min_ips: u32,
    pub codes: Vec<i64>,
}

impl Default for BruteForceConfig {
    fn default() -> Self {
        // Splunk: more than 20 failures for a user in 10 minutes.
        BruteForceConfig {
            enabled: true,
            window_minutes: 10,
            min_failures: 20,
            min_ips: 1,
            codes: CREDENTIAL_CODES.to_vec(),
        }
    }
}

impl Settings for BruteForceConfig {}

impl Detection for BruteForce {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn title(&self) -> &'static str {
        "Brute force against one account"
    }

    fn techniques(&self) -> &'static [&'static str] {
        &["T1110.001"]
    }

    fn sql(&self, cfg: &DetectionConfig) -> Query {
        let c = &cfg.brute_force;
        let failures = format!("n >= {}", sql::at_least_one(c.min_failures));
        // One IP is always there; counting IPs only matters above that.
        let (distinct, qualifies): (&[(&str, &[&str])], String) = if c.min_ips > 1 {
            (
                &[("ips", &["ip"])],
                format!("{failures} AND ips >= {}", c.min_ips),
            )
        } else {
            (&[], failures)
        };
        Query::new()
            .cte(
                "guesses",
                format!(
                    "SELECT time, user_principal_name, ip FROM ev\n  \
                     WHERE user_principal_name <> '' AND {}",
                    sql::credential_failure(&c.codes)
                ),
            )
            .bursts(&Bursts {
                name: "brute",
                from: "guesses",
                keys: &["user_principal_name"],
                window_minutes: c.window_minutes,
                distinct,
                qualifies,
            })
            .select(format!(
                "SELECT {}, {}\nFROM brute\nGROUP BY user_principal_name, burst_start",
                sql::head(
                    KIND,
                    "user_principal_name",
                    Some("user_principal_name"),
                    None
                ),
                sql::SPAN
            ))
            // A burst is every guess at its account between its first and last.
            .member_cte(
                "bf_events",
                format!(
                    "SELECT f.actor, f.first_seen AS found_first, {}\n  \
                     FROM found f JOIN (SELECT * FROM ev WHERE user_principal_name <> '' AND {}) e\n    \
                     ON e.user_principal_name = f.user_principal_name AND e.time >= f.first_seen AND e.time <= f.last_seen",
                    sql::member_cols("e"),
                    sql::credential_failure(&c.codes)
                ),
            )
            .events("SELECT * FROM bf_events")
            // The account's first sign-in from a guessing IP, since the
            // burst began, whose password worked.
            .highlights(sql::first_per(
                &format!(
                    "SELECT DISTINCT g.actor, g.found_first, {}\n      \
                     FROM (SELECT DISTINCT actor, found_first, user_principal_name, ip FROM bf_events WHERE ip <> '') g\n      \
                     JOIN (SELECT * FROM ev WHERE password_worked) e\n        \
                     ON e.user_principal_name = g.user_principal_name AND e.ip = g.ip AND e.time >= g.found_first",
                    sql::member_cols("e")
                ),
                "",
            ))
            .severity("CASE WHEN a.n_highlights > 0 THEN 'critical' ELSE 'medium' END")
            .title(format!(
                "concat('Brute force on ', f.actor, ': ', {}, ' failed passwords in ', {}, ' from ', {}, ' IP', {},\n    \
                 CASE WHEN a.lockouts > 0 THEN concat(', ', {}, ' lockout', {}) ELSE '' END,\n    \
                 CASE WHEN a.n_highlights > 0 THEN concat('; then the password worked from ', a.first_highlight_ip) ELSE '' END)",
                sql::text_num("f.count"),
                sql::span_text("f.span_s"),
                sql::text_num("a.ev_ips"),
                sql::plural("a.ev_ips"),
                sql::text_num("a.lockouts"),
                sql::plural("a.lockouts")
            ))
            .fact("failures", sql::json_num("f.count"))
            .fact("lockouts", sql::json_num("a.lockouts"))
            .fact("password_worked", sql::json_bool("a.n_highlights > 0"))
            .fact("password_worked_ip", sql::json_str("a.first_highlight_ip"))
    }

    fn run(&self, ev: &Events, cfg: &DetectionConfig) -> Vec<Finding> {
        let c = &cfg.brute_force;
        let recs = ev.records;
        let window = util::minutes(c.window_minutes);
        let groups = util::group_unsuccessful_by(ev, cfg, |r| {
            (!r.user_principal_name.is_empty() && util::is_credential_failure(r, &c.codes))
                .then_some(r.user_principal_name.as_str())
        });
        let mut found = Vec::new();
        for (&user, events) in &groups {
            let mut st = Guesses {
                failures: 0,
                ips: Tally::default(),
                min_failures: c.min_failures as usize,
                min_ips: c.min_ips as usize,
            };
            for b in util::bursts(recs, events, window, &mut st) {
                found.push((user, events[b].to_vec()));
            }
        }
        let users: BTreeSet<&str> = found.iter().map(|(u, _)| *u).collect();
        let accounts = users.iter().map(|u| Text::from(*u));
        let worked_pool = util::group_of(ev, cfg, ev.by_user(), accounts, util::password_worked);
        found
            .into_iter()
            .map(|(user, burst)| {
                let ips: BTreeSet<&str> = burst
                    .iter()
                    .map(|&i| recs[i].ip.as_str())
                    .filter(|ip| !ip.is_empty())
                    .collect();
                let first = recs[burst[0]].time_us;
                // Only a success from a guessing IP: the owner signing in
                // from their usual device says nothing about the attacker.
                let worked = worked_pool.get(user).and_then(|pool| {
                    pool.iter()
                        .copied()
                        .find(|&i| recs[i].time_us >= first && ips.contains(recs[i].ip.as_str()))
                });
                util::finding(
                    ev,
                    draft(recs, c.window_minutes, user, burst, ips.len(), worked),
                )
            })
            .collect()
    }
}

struct Guesses<'a> {
    failures: usize,
    ips: Tally<&'a str>,
    min_failures: usize,
    min_ips: usize,
}

impl<'a> WindowState<'a> for Guesses<'a> {
    fn push(&mut self, r: &'a SignIn) {
        self.failures += 1;
        self.ips.add(r.ip.as_str());
    }

    fn pop(&mut self, r: &'a SignIn) {
        self.failures -= 1;
        self.ips.remove(&r.ip.as_str());
    }

    fn qualifies(&self) -> bool {
        self.failures >= self.min_failures.max(1) && self.ips.distinct() >= self.min_ips
    }
}

fn draft(
    recs: &[SignIn],
    window_minutes: u32,
    user: &str,
    burst: Vec<usize>,
    ips: usize,
    worked: Option<usize>,
) -> Draft {
    let first = recs[burst[0]].time_us;
    let last = burst.last().map_or(first, |&i| recs[i].time_us);
    let lockouts = burst
        .iter()
        .filter(|&&i| recs[i].error_code == 50053)
        .count();
    let mut title = format!(
        "Brute force on {user}: {} failed passwords in {} from {ips} IP{}",
        burst.len(),
        util::span_text(last - first),
        util::plural(ips)
    );
    if lockouts > 0 {
        title.push_str(&format!(", {lockouts} lockout{}", util::plural(lockouts)));
    }
    let severity = match worked {
        Some(i) => {
            title.push_str(&format!("; then the password worked from {}", recs[i].ip));
            Severity::Critical
        }
        None => Severity::Medium,
    };
    let mut remediation = Vec::new();
    if worked.is_some() {
        remediation.push(format!(
            "Treat {user} as compromised: reset the password, revoke sessions and refresh tokens, and review MFA methods, inbox rules and app consents added since {}.",
            util::rfc3339(first)
        ));
    }
    remediation.extend([
        format!("Ask the owner of {user} whether a device still holds an old password; if not, block the source IPs in the evidence."),
        format!("Make sure {user} is covered by MFA and that legacy protocols are blocked for it."),
        "Check the smart lockout threshold and duration (Entra ID > Authentication methods > Password protection).".to_string(),
    ]);
    let d = Draft {
        events: burst.clone(),
        highlights: worked.into_iter().collect(),
        window_seconds: i64::from(window_minutes) * 60,
        remediation,
        ..Draft::new(KIND, user, severity, title)
    };
    d.fact("failures", burst.len())
        .fact("lockouts", lockouts)
        .fact(
            "client_apps",
            util::json_list(&util::distinct(recs, &burst, |r| r.client_app.as_str())),
        )
        .fact(
            "countries",
            util::json_list(&util::distinct(recs, &burst, |r| r.country.as_str())),
        )
        .fact("password_worked", worked.is_some())
        .fact(
            "password_worked_ip",
            worked.map_or(serde_json::Value::Null, |i| recs[i].ip.as_str().into()),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::detect::util::testing::*;

    const VICTIM: &str = "cfo@contoso.com";

    /// 25 guesses in 6 minutes from two IPs, then the password works.
    fn attack() -> Vec<SignIn> {
        let mut v: Vec<SignIn> = (0..25)
            .map(|k| {
                let code = if k >= 10 { 50053 } else { 50126 };
                let mut r = signin(k * 15, VICTIM, if k % 2 == 0 { "203.0.113.7" } else { "203.0.113.8" }, code);
                if code == 50053 {
                    r.failure_reason = "Account is locked because user tried to sign in too many times with an incorrect user ID or password.".into();
                }
                r
            })
            .collect();
        v.push(signin(900, VICTIM, "203.0.113.8", 50074));
        // The owner, failing twice and then in, elsewhere.
        v.push(signin(2000, "clerk@contoso.com", "192.0.2.44", 50126));
        v.push(signin(2010, "clerk@contoso.com", "192.0.2.44", 50126));
        v.push(signin(2020, "clerk@contoso.com", "192.0.2.44", 0));
        v
    }

    #[test]
    fn fires_on_guessing_and_escalates_when_the_password_works() {
        let recs = fixture(attack());
        let f = run(&BruteForce, &recs, &DetectionConfig::default());
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].users, vec![VICTIM]);
        assert_eq!(f[0].severity, Severity::Critical);
        assert_eq!(f[0].count, 25);
        assert_eq!(fact(&f[0], "lockouts"), Some(&15.into()));
        assert_eq!(
            fact(&f[0], "password_worked_ip"),
            Some(&"203.0.113.8".into())
        );
    }

    #[test]
    fn a_few_typos_do_not_fire() {
        let recs = fixture(
            attack()
                .into_iter()
                .filter(|r| r.user_principal_name != VICTIM)
                .collect(),
        );
        assert!(run(&BruteForce, &recs, &DetectionConfig::default()).is_empty());
    }

    #[test]
    fn raising_thresholds_never_adds_findings() {
        let recs = fixture(attack());
        let mut cfg = DetectionConfig::default();
        let mut previous = usize::MAX;
        for min in [1, 2, 5, 10, 20, 25, 26] {
            cfg.brute_force.min_failures = min;
            let n = run(&BruteForce, &recs, &cfg).len();
            assert!(n <= previous, "min_failures {min}");
            previous = n;
        }
        assert_eq!(previous, 0);
        cfg.brute_force.min_failures = 5;
        assert_eq!(run(&BruteForce, &recs, &cfg).len(), 1);
        cfg.brute_force.min_ips = 3;
        assert!(run(&BruteForce, &recs, &cfg).is_empty());
    }
}
