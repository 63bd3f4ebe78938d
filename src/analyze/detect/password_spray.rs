//! Password spray: one source IP failing against many accounts.
//!
//! What it finds, why it matters, tuning and false positives:
//! `docs/password_spray.md` (the registry in `mod.rs` serves it).

use std::collections::{BTreeMap, BTreeSet};

use super::presets::CREDENTIAL_CODES;
use super::registry::Settings;
use super::sql::{self, Bursts, Query};
use super::util::{self, Draft, UsersAtLeast};
use super::{Detection, DetectionConfig, Events};
use crate::model::{Finding, Severity, SignIn};
use serde::{Deserialize, Serialize};

pub struct PasswordSpray;

const KIND: &str = "password_spray";

/// The `[password_spray]` table of the settings file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordSprayConfig {
    pub enabled: bool,
    pub window_minutes: u32,
    /// Distinct accounts failing from one IP within the window.
    pub min_users: u32,
    /// Error codes counted as a failed password attempt; empty means every
    /// failure.
    pub codes: Vec<i64>,
    /// Key on IP and application, as Sentinel does, instead of IP alone.
    pub per_app: bool,
    /// Ignore IPs where more distinct accounts got in than failed (shared
    /// corporate or carrier egress).
    pub skip_shared_egress: bool,
}

impl Default for PasswordSprayConfig {
    fn default() -> Self {
        // Window: Elastic's 30-minute span (Sentinel bins 20 min). Users:
        // Splunk's outlier floor of 10 (Sentinel 5, Elastic 15).
        PasswordSprayConfig {
            enabled: true,
            window_minutes: 30,
            min_users: 10,
            codes: CREDENTIAL_CODES.to_vec(),
            per_app: false,
            skip_shared_egress: true,
        }
    }
}

impl Settings for PasswordSprayConfig {}

impl Detection for PasswordSpray {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn title(&self) -> &'static str {
        "Password spray from one IP"
    }

    fn techniques(&self) -> &'static [&'static str] {
        &["T1110.003"]
    }

    fn sql(&self, cfg: &DetectionConfig) -> Query {
        let c = &cfg.password_spray;
        let failure = sql::credential_failure(&c.codes);
        let app = if c.per_app { "app_name" } else { "''" };
        let q = Query::new()
            .cte(
                "spray_events",
                format!(
                    "SELECT time, ip, {app} AS app_key, user_principal_name FROM ev\n  \
                     WHERE ip <> '' AND user_principal_name <> '' AND {failure}"
                ),
            )
            .bursts(&Bursts {
                name: "spray",
                from: "spray_events",
                keys: &["ip", "app_key"],
                window_minutes: c.window_minutes,
                distinct: &[("users", &["user_principal_name"])],
                qualifies: format!("users >= {}", sql::at_least_one(c.min_users)),
            });
        // Shared egress: more accounts got in from the IP than failed.
        let (q, keep) = if c.skip_shared_egress {
            let q = q.cte(
                "egress",
                format!(
                    "SELECT ip,\n    \
                     COUNT(DISTINCT CASE WHEN password_worked THEN user_principal_name END) AS worked_users,\n    \
                     COUNT(DISTINCT CASE WHEN NOT password_worked AND {failure} THEN user_principal_name END) AS failed_users\n  \
                     FROM ev WHERE ip IN (SELECT ip FROM spray)\n  GROUP BY ip"
                ),
            );
            (
                q,
                "\nWHERE ip NOT IN (SELECT ip FROM egress WHERE worked_users > failed_users)",
            )
        } else {
            (q, "")
        };
        let actor =
            |app: &str| format!("CASE WHEN {app} = '' THEN ip ELSE concat(ip, '|', {app}) END");
        q.select(format!(
            "SELECT {}, {}\nFROM spray{keep}\nGROUP BY ip, app_key, burst_start",
            sql::head(KIND, &actor("app_key"), None, Some("ip")),
            sql::SPAN
        ))
        // A burst is every failure from its source (and app) between its
        // first and last.
        .member_cte(
            "ps_events",
            format!(
                "SELECT f.actor, f.first_seen AS found_first, {}\n  \
                 FROM found f JOIN (SELECT {} AS actor_key, * FROM ev WHERE ip <> '' AND user_principal_name <> '' AND {failure}) e\n    \
                 ON e.ip = f.ip AND e.actor_key = f.actor AND e.time >= f.first_seen AND e.time <= f.last_seen",
                sql::member_cols("e"),
                actor(app)
            ),
        )
        .events("SELECT * FROM ps_events")
        // Per targeted account, the first sign-in from the source since
        // its first failure there whose password worked.
        .highlights(sql::first_per(
            &format!(
                "SELECT t.actor, t.found_first, {}\n      \
                 FROM (SELECT actor, found_first, ip, user_principal_name, MIN(time) AS since FROM ps_events\n        \
                 GROUP BY actor, found_first, ip, user_principal_name) t\n      \
                 JOIN (SELECT * FROM ev WHERE password_worked) e\n        \
                 ON e.ip = t.ip AND e.user_principal_name = t.user_principal_name AND e.time >= t.since",
                sql::member_cols("e")
            ),
            "user_principal_name",
        ))
        .severity("CASE WHEN a.n_highlights > 0 THEN 'critical' ELSE 'high' END")
        .title(format!(
            "concat('Password spray from ', f.ip, ': ', {}, ' account', {}, ' failed in ', {},\n    \
             CASE WHEN f.actor = f.ip THEN '' ELSE concat(' against ', substr(f.actor, length(f.ip) + 2)) END,\n    \
             CASE WHEN a.n_highlights > 0 THEN concat('; the password worked for ', {}, ' of them') ELSE '' END)",
            sql::text_num("a.ev_users"),
            sql::plural("a.ev_users"),
            sql::span_text("f.span_s"),
            sql::text_num("a.n_highlights")
        ))
        .fact("failures", sql::json_num("f.count"))
        .fact("lockouts", sql::json_num("a.lockouts"))
        .fact("password_worked_count", sql::json_num("a.n_highlights"))
    }

    fn run(&self, ev: &Events, cfg: &DetectionConfig) -> Vec<Finding> {
        let c = &cfg.password_spray;
        let recs = ev.records;
        let window = util::minutes(c.window_minutes);
        let groups = util::group_unsuccessful_by(ev, cfg, |r| {
            (!r.ip.is_empty()
                && !r.user_principal_name.is_empty()
                && util::is_credential_failure(r, &c.codes))
            .then_some((
                r.ip.as_str(),
                if c.per_app { r.app_name.as_str() } else { "" },
            ))
        });
        let mut bursts = Vec::new();
        for (&key, events) in &groups {
            for b in util::bursts(recs, events, window, &mut UsersAtLeast::new(c.min_users)) {
                bursts.push((key, events[b].to_vec()));
            }
        }
        let ips: BTreeSet<&str> = bursts.iter().map(|((ip, _), _)| *ip).collect();
        let pools = util::records_by_ip(ev, cfg, &ips);
        let shared: BTreeSet<&str> = if c.skip_shared_egress {
            pools
                .iter()
                .filter(|(_, pool)| is_shared_egress(recs, pool, &c.codes))
                .map(|(ip, _)| *ip)
                .collect()
        } else {
            BTreeSet::new()
        };

        let mut out = Vec::new();
        for ((ip, app), burst) in bursts {
            if shared.contains(ip) {
                continue;
            }
            let pool = pools.get(ip).map_or(&[][..], Vec::as_slice);
            let targets = util::first_time_per_user(recs, &burst);
            let worked = util::password_worked_after(recs, pool, &targets);
            out.push(util::finding(
                ev,
                draft(recs, c.window_minutes, ip, app, burst, &targets, worked),
            ));
        }
        out
    }
}

/// More distinct accounts got in from the IP than failed from it: an
/// office or carrier NAT, not an attacker (Sentinel's test).
fn is_shared_egress(recs: &[SignIn], pool: &[usize], codes: &[i64]) -> bool {
    let mut failed = BTreeSet::new();
    let mut worked = BTreeSet::new();
    for &i in pool {
        let r = &recs[i];
        if util::password_worked(r) {
            worked.insert(r.user_principal_name.as_str());
        } else if util::is_credential_failure(r, codes) {
            failed.insert(r.user_principal_name.as_str());
        }
    }
    worked.len() > failed.len()
}

fn draft(
    recs: &[SignIn],
    window_minutes: u32,
    ip: &str,
    app: &str,
    burst: Vec<usize>,
    targets: &BTreeMap<&str, i64>,
    worked: BTreeMap<&str, usize>,
) -> Draft {
    let first = burst.first().map_or(0, |&i| recs[i].time_us);
    let last = burst.last().map_or(0, |&i| recs[i].time_us);
    let users = targets.len();
    let lockouts = burst
        .iter()
        .filter(|&&i| recs[i].error_code == 50053)
        .count();
    let mut title = format!(
        "Password spray from {ip}: {users} account{} failed in {}",
        util::plural(users),
        util::span_text(last - first)
    );
    if !app.is_empty() {
        title.push_str(&format!(" against {app}"));
    }
    let severity = if worked.is_empty() {
        Severity::High
    } else {
        title.push_str(&format!(
            "; the password worked for {} of them",
            worked.len()
        ));
        Severity::Critical
    };
    let actor = if app.is_empty() {
        ip.to_string()
    } else {
        format!("{ip}|{app}")
    };
    let mut remediation = vec![
        format!("Block {ip} (firewall, or a Conditional Access named location marked as blocked) unless it is a known egress of yours."),
    ];
    if !worked.is_empty() {
        let names: Vec<&str> = worked.keys().copied().collect();
        remediation.push(format!(
            "Treat {} as compromised: reset the password, revoke refresh tokens and sessions, and review MFA methods and inbox rules added since {}.",
            names.join(", "),
            util::rfc3339(first)
        ));
    }
    remediation.extend([
        "Check that legacy authentication is blocked tenant-wide; sprays favour protocols that cannot do MFA.".to_string(),
        "Make sure every targeted account must use MFA, and add the sprayed passwords' patterns to the custom banned-password list.".to_string(),
    ]);
    let d = Draft {
        events: burst.clone(),
        highlights: worked.values().copied().collect(),
        window_seconds: i64::from(window_minutes) * 60,
        remediation,
        ..Draft::new(KIND, actor, severity, title)
    };
    d.fact("failures", burst.len())
        .fact("lockouts", lockouts)
        .fact("password_worked_count", worked.len())
        .fact("password_worked", util::worked_json(recs, &worked))
        .fact(
            "apps",
            util::json_list(&util::distinct(recs, &burst, |r| r.app_name.as_str())),
        )
        .fact(
            "user_agents",
            util::json_list(&util::distinct(recs, &burst, |r| r.user_agent.as_str())),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::detect::util::testing::*;
    use crate::model::SignIn;

    const SPRAY_IP: &str = "203.0.113.50";

    /// 12 accounts tried from one IP between 08:14 and 08:25, straddling a
    /// 20-minute bin edge; one account later gets an MFA prompt (password
    /// right). An office NAT has normal traffic with a few typos.
    fn tenant() -> Vec<SignIn> {
        let mut v = Vec::new();
        for k in 0..12 {
            v.push(signin(
                14 * 60 + k * 55,
                &format!("user{k:02}@contoso.com"),
                SPRAY_IP,
                50126,
            ));
        }
        v.push(signin(26 * 60, "user07@contoso.com", SPRAY_IP, 50074));
        for k in 0..40 {
            v.push(signin(
                k * 45,
                &format!("staff{k:02}@contoso.com"),
                "192.0.2.10",
                0,
            ));
        }
        for k in 0..11 {
            v.push(signin(
                60 + k * 70,
                &format!("staff{k:02}@contoso.com"),
                "192.0.2.10",
                50126,
            ));
        }
        fixture(v)
    }

    #[test]
    fn fires_on_spray_and_flags_the_working_password() {
        let recs = tenant();
        let f = run(&PasswordSpray, &recs, &DetectionConfig::default());
        assert_eq!(f.len(), 1, "{f:#?}");
        let f = &f[0];
        assert_eq!(f.kind, KIND);
        assert_eq!(f.ips, vec![SPRAY_IP]);
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(f.count, 12);
        assert_eq!(f.users.len(), 12);
        assert_eq!(
            fact(f, "password_worked_count"),
            Some(&serde_json::Value::from(1))
        );
        assert!(f.title.contains("12 accounts"), "{}", f.title);
        assert_eq!(f.first_seen, "2024-03-04T08:14:00Z");
        assert_eq!(f.last_seen, "2024-03-04T08:26:00Z");
        assert_eq!(
            f.evidence.samples[0].record,
            recs.iter()
                .find(|r| r.error_code == 50074)
                .unwrap()
                .source_record
        );
    }

    #[test]
    fn office_nat_and_small_bursts_do_not_fire() {
        let recs = tenant();
        let mut cfg = DetectionConfig::default();
        cfg.password_spray.min_users = 13;
        assert!(run(&PasswordSpray, &recs, &cfg).is_empty());
        // Without the egress filter the office NAT (11 typos) shows up.
        cfg.password_spray.min_users = 10;
        cfg.password_spray.skip_shared_egress = false;
        let f = run(&PasswordSpray, &recs, &cfg);
        assert_eq!(f.iter().filter(|f| f.ips == vec!["192.0.2.10"]).count(), 1);
    }

    #[test]
    fn raising_min_users_never_adds_findings() {
        let recs = tenant();
        let mut cfg = DetectionConfig::default();
        cfg.password_spray.skip_shared_egress = false;
        let mut previous = usize::MAX;
        for min in 1..=14 {
            cfg.password_spray.min_users = min;
            let n = run(&PasswordSpray, &recs, &cfg).len();
            assert!(n <= previous, "min_users {min}: {n} > {previous}");
            previous = n;
        }
        assert_eq!(previous, 0);
    }
}
