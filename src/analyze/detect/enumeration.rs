//! Enumeration: one IP trying many account names that do not exist.
//!
//! What it finds, why it matters, tuning and false positives:
//! `docs/enumeration.md` (the registry in `mod.rs` serves it).

use std::collections::BTreeSet;

use super::presets::CREDENTIAL_CODES;
use super::registry::Settings;
use super::sql::{self, Bursts, Query};
use super::util::{self, Draft, UsersAtLeast};
use super::{Detection, DetectionConfig, Events};
use crate::model::{Finding, Severity, SignIn};
use serde::{Deserialize, Serialize};

pub struct Enumeration;

const KIND: &str = "enumeration";

/// The `[enumeration]` table of the settings file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnumerationConfig {
    pub enabled: bool,
    pub window_minutes: u32,
    /// Distinct non-existent accounts (50034) tried from one IP.
    pub min_users: u32,
}

impl Default for EnumerationConfig {
    fn default() -> Self {
        // No anchor has a rule; same scale as password spray.
        EnumerationConfig {
            enabled: true,
            window_minutes: 30,
            min_users: 10,
        }
    }
}

impl Settings for EnumerationConfig {}

/// No such user in the tenant.
const USER_NOT_FOUND: i64 = 50034;

impl Detection for Enumeration {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn title(&self) -> &'static str {
        "Account enumeration from one IP"
    }

    fn techniques(&self) -> &'static [&'static str] {
        &["T1087.004"]
    }

    fn sql(&self, cfg: &DetectionConfig) -> Query {
        let c = &cfg.enumeration;
        Query::new()
            .cte(
                "unknown_names",
                format!(
                    "SELECT time, ip, user_principal_name FROM ev\n  \
                     WHERE error_code = {USER_NOT_FOUND} AND ip <> '' AND user_principal_name <> ''"
                ),
            )
            .bursts(&Bursts {
                name: "enumeration",
                from: "unknown_names",
                keys: &["ip"],
                window_minutes: c.window_minutes,
                distinct: &[("users", &["user_principal_name"])],
                qualifies: format!("users >= {}", sql::at_least_one(c.min_users)),
            })
            .select(format!(
                "SELECT {}, {}\nFROM enumeration\nGROUP BY ip, burst_start",
                sql::head(KIND, "ip", None, Some("ip")),
                sql::SPAN
            ))
            .events(format!(
                "SELECT f.actor, f.first_seen AS found_first, {}\n    \
                 FROM found f JOIN (SELECT * FROM ev WHERE error_code = {USER_NOT_FOUND} AND user_principal_name <> '') e\n      \
                 ON e.ip = f.ip AND e.time >= f.first_seen AND e.time <= f.last_seen",
                sql::member_cols("e")
            ))
            // The source's first sign-in since the burst began whose
            // password worked, for any account.
            .highlights(sql::first_per(
                &format!(
                    "SELECT f.actor, f.first_seen AS found_first, {}\n      \
                     FROM found f JOIN (SELECT * FROM ev WHERE password_worked) e ON e.ip = f.ip AND e.time >= f.first_seen",
                    sql::member_cols("e")
                ),
                "",
            ))
            // Real accounts the source failed against since then.
            .member_cte(
                "en_existing",
                format!(
                    "SELECT f.actor, f.first_seen AS found_first, COUNT(DISTINCT e.user_principal_name) AS accounts\n  \
                     FROM found f JOIN (SELECT * FROM ev WHERE {}) e ON e.ip = f.ip AND e.time >= f.first_seen\n  \
                     GROUP BY f.actor, f.first_seen",
                    sql::credential_failure(CREDENTIAL_CODES)
                ),
            )
            .join("LEFT JOIN en_existing x ON x.actor = f.actor AND x.found_first = f.first_seen")
            .severity("CASE WHEN a.n_highlights > 0 THEN 'high' ELSE 'medium' END")
            .title(format!(
                "concat('Account enumeration from ', f.ip, ': ', {}, ' non-existent account', {}, ' tried in ', {},\n    \
                 CASE WHEN COALESCE(x.accounts, 0) > 0 THEN concat(', then ', {}, ' real account', {}, ' attacked') ELSE '' END,\n    \
                 CASE WHEN a.n_highlights > 0 THEN concat('; the password of ', a.first_highlight_user, ' worked') ELSE '' END)",
                sql::text_num("a.ev_users"),
                sql::plural("a.ev_users"),
                sql::span_text("f.span_s"),
                sql::text_num("x.accounts"),
                sql::plural("x.accounts")
            ))
            .fact("names_tried", sql::json_num("a.ev_users"))
            .fact("existing_accounts_failed", sql::json_num("COALESCE(x.accounts, 0)"))
            .fact("password_worked", sql::json_bool("a.n_highlights > 0"))
    }

    fn run(&self, ev: &Events, cfg: &DetectionConfig) -> Vec<Finding> {
        let c = &cfg.enumeration;
        let recs = ev.records;
        let groups = util::group_unsuccessful_by(ev, cfg, |r| {
            (r.error_code == USER_NOT_FOUND
                && !r.ip.is_empty()
                && !r.user_principal_name.is_empty())
            .then_some(r.ip.as_str())
        });
        let mut found = Vec::new();
        for (&ip, events) in &groups {
            for b in util::bursts(
                recs,
                events,
                util::minutes(c.window_minutes),
                &mut UsersAtLeast::new(c.min_users),
            ) {
                found.push((ip, events[b].to_vec()));
            }
        }
        let ips: BTreeSet<&str> = found.iter().map(|(ip, _)| *ip).collect();
        let pools = util::records_by_ip(ev, cfg, &ips);
        found
            .into_iter()
            .map(|(ip, burst)| {
                let pool = pools.get(ip).map_or(&[][..], Vec::as_slice);
                util::finding(ev, draft(recs, c.window_minutes, ip, burst, pool))
            })
            .collect()
    }
}

fn draft(
    recs: &[SignIn],
    window_minutes: u32,
    ip: &str,
    burst: Vec<usize>,
    pool: &[usize],
) -> Draft {
    let first = recs[burst[0]].time_us;
    let last = burst.last().map_or(first, |&i| recs[i].time_us);
    let names = util::distinct(recs, &burst, |r| r.user_principal_name.as_str());
    // What the same source did to accounts that do exist, from the start
    // of the enumeration on.
    let later: Vec<usize> = pool
        .iter()
        .copied()
        .filter(|&i| recs[i].time_us >= first)
        .collect();
    let existing_failed: BTreeSet<&str> = later
        .iter()
        .map(|&i| &recs[i])
        .filter(|r| util::is_credential_failure(r, CREDENTIAL_CODES))
        .map(|r| r.user_principal_name.as_str())
        .collect();
    let worked = later
        .iter()
        .copied()
        .find(|&i| util::password_worked(&recs[i]));
    let domains: BTreeSet<&str> = names
        .iter()
        .filter_map(|n| n.rsplit_once('@').map(|(_, d)| d))
        .collect();
    let mut title = format!(
        "Account enumeration from {ip}: {} non-existent account{} tried in {}",
        names.len(),
        util::plural(names.len()),
        util::span_text(last - first)
    );
    if !existing_failed.is_empty() {
        title.push_str(&format!(
            ", then {} real account{} attacked",
            existing_failed.len(),
            util::plural(existing_failed.len())
        ));
    }
    let severity = match worked {
        Some(i) => {
            title.push_str(&format!(
                "; the password of {} worked",
                recs[i].user_principal_name
            ));
            Severity::High
        }
        None => Severity::Medium,
    };
    let mut remediation = vec![
        format!("Block {ip} unless it belongs to one of your applications; if it does, fix the sign-in names it uses (see `domains_tried`)."),
        "Expect a spray against the names that exist: check `password_spray` findings and make sure every account has MFA.".to_string(),
    ];
    if let Some(i) = worked {
        remediation.insert(
            0,
            format!(
                "Treat {} as compromised: reset the password and revoke sessions.",
                recs[i].user_principal_name
            ),
        );
    }
    let d = Draft {
        events: burst.clone(),
        highlights: worked.into_iter().collect(),
        window_seconds: i64::from(window_minutes) * 60,
        remediation,
        ..Draft::new(KIND, ip, severity, title)
    };
    d.fact("names_tried", names.len())
        .fact(
            "domains_tried",
            util::json_list(&domains.into_iter().collect::<Vec<_>>()),
        )
        .fact("existing_accounts_failed", existing_failed.len())
        .fact("password_worked", worked.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::detect::util::testing::*;

    #[test]
    fn guessed_names_from_one_ip_fire() {
        let mut v: Vec<SignIn> = [
            "j.smith",
            "jsmith",
            "john.smith",
            "smithj",
            "a.jones",
            "ajones",
            "anna.jones",
            "jonesa",
            "m.brown",
            "mbrown",
            "mark.brown",
        ]
        .iter()
        .enumerate()
        .map(|(k, n)| {
            signin(
                k as i64 * 40,
                &format!("{n}@contoso.com"),
                "203.0.113.88",
                USER_NOT_FOUND,
            )
        })
        .collect();
        v.push(signin(600, "marketing@contoso.com", "203.0.113.88", 50126));
        let recs = fixture(v);
        let f = run(&Enumeration, &recs, &DetectionConfig::default());
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Medium);
        assert_eq!(f[0].count, 11);
        assert_eq!(fact(&f[0], "existing_accounts_failed"), Some(&1.into()));
        assert_eq!(
            fact(&f[0], "domains_tried"),
            Some(&serde_json::json!(["contoso.com"]))
        );
    }

    #[test]
    fn a_few_typos_in_user_names_do_not_fire() {
        let v: Vec<SignIn> = (0..5)
            .map(|k| {
                signin(
                    k * 400,
                    &format!("new.hire{k}@contoso.con"),
                    "192.0.2.10",
                    USER_NOT_FOUND,
                )
            })
            .collect();
        let recs = fixture(v);
        assert!(run(&Enumeration, &recs, &DetectionConfig::default()).is_empty());
    }
}
