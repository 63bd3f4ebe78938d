//! Disabled accounts: sign-in attempts against accounts that were turned off.
//!
//! What it finds, why it matters, tuning and false positives:
//! `docs/disabled_account.md` (the registry in `mod.rs` serves it).

use std::collections::BTreeSet;

use super::registry::Settings;
use super::sql::{self, Bursts, Query};
use super::util::{self, CountAtLeast, Draft};
use super::{Detection, DetectionConfig, Events};
use crate::model::{Finding, Severity, SignIn};
use serde::{Deserialize, Serialize};

pub struct DisabledAccount;

const KIND: &str = "disabled_account";

/// The `[disabled_account]` table of the settings file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisabledAccountConfig {
    pub enabled: bool,
    /// Quiet time after which an IP's next attempt starts a new finding.
    pub window_minutes: u32,
    pub min_attempts: u32,
    /// An IP that let in this many other accounts or more is treated as
    /// shared egress: its finding stays low instead of being raised.
    pub max_other_users: u32,
}

impl Default for DisabledAccountConfig {
    fn default() -> Self {
        // Sigma: every 50057. Sentinel: fewer than 50 other users.
        DisabledAccountConfig {
            enabled: true,
            window_minutes: 24 * 60,
            min_attempts: 1,
            max_other_users: 50,
        }
    }
}

impl Settings for DisabledAccountConfig {}

const USER_DISABLED: i64 = 50057;

impl Detection for DisabledAccount {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn title(&self) -> &'static str {
        "Sign-in attempts to disabled accounts"
    }

    fn techniques(&self) -> &'static [&'static str] {
        &["T1110", "T1078.004"]
    }

    fn sql(&self, cfg: &DetectionConfig) -> Query {
        let c = &cfg.disabled_account;
        Query::new()
            .cte(
                "disabled_tries",
                format!(
                    "SELECT {} FROM ev\n  \
                     WHERE error_code = {USER_DISABLED} AND ip <> ''",
                    sql::member_cols_bare()
                ),
            )
            .bursts(&Bursts {
                name: "disabled",
                from: "disabled_tries",
                keys: &["ip"],
                window_minutes: c.window_minutes,
                distinct: &[],
                qualifies: format!("n >= {}", sql::at_least_one(c.min_attempts)),
            })
            // Other accounts whose password worked from the IP at any time;
            // the first two are part of the finding when they raise it.
            .cte(
                "disabled_others",
                "SELECT b.ip, b.burst_start, e.user_principal_name, MIN(e.time) AS first_time\n  \
                 FROM (SELECT DISTINCT ip, burst_start FROM disabled) b\n  \
                 JOIN ev e ON e.ip = b.ip AND e.password_worked AND e.user_principal_name <> ''\n  \
                 LEFT JOIN (SELECT DISTINCT ip, burst_start, user_principal_name FROM disabled) d\n    \
                 ON d.ip = b.ip AND d.burst_start = b.burst_start AND d.user_principal_name = e.user_principal_name\n  \
                 WHERE d.ip IS NULL\n  \
                 GROUP BY b.ip, b.burst_start, e.user_principal_name",
            )
            .cte(
                "disabled_raised",
                format!(
                    "SELECT ip, burst_start, MIN(first_time) AS shown_first, MAX(first_time) AS shown_last\n  \
                     FROM (\n    \
                     SELECT ip, burst_start, first_time,\n      \
                     ROW_NUMBER() OVER (PARTITION BY ip, burst_start ORDER BY first_time) AS k,\n      \
                     COUNT(*) OVER (PARTITION BY ip, burst_start) AS others\n    \
                     FROM disabled_others\n  \
                     ) o WHERE k <= 2 AND others < {}\n  \
                     GROUP BY ip, burst_start",
                    c.max_other_users
                ),
            )
            .cte(
                "disabled_found",
                format!(
                    "SELECT ip, burst_start, {}\n  FROM disabled GROUP BY ip, burst_start",
                    sql::SPAN
                ),
            )
            .select(format!(
                "SELECT {},\n  \
                 CASE WHEN r.ip IS NULL THEN f.first_seen ELSE LEAST(f.first_seen, r.shown_first) END AS first_seen,\n  \
                 CASE WHEN r.ip IS NULL THEN f.last_seen ELSE GREATEST(f.last_seen, r.shown_last) END AS last_seen,\n  \
                 f.count AS count\n\
                 FROM disabled_found f LEFT JOIN disabled_raised r\n  \
                 ON r.ip = f.ip AND r.burst_start = f.burst_start",
                sql::head(KIND, "f.ip", None, Some("f.ip"))
            ))
            .member_cte(
                "da_key",
                "SELECT f.ip, f.burst_start, CASE WHEN r.ip IS NULL THEN f.first_seen ELSE LEAST(f.first_seen, r.shown_first) END AS found_first,\n    \
                 COALESCE(o.others, 0) AS others\n  \
                 FROM disabled_found f LEFT JOIN disabled_raised r ON r.ip = f.ip AND r.burst_start = f.burst_start\n  \
                 LEFT JOIN (SELECT ip, burst_start, COUNT(*) AS others FROM disabled_others GROUP BY ip, burst_start) o\n    \
                 ON o.ip = f.ip AND o.burst_start = f.burst_start",
            )
            .events(format!(
                "SELECT k.ip AS actor, k.found_first, {}\n    \
                 FROM da_key k JOIN disabled d ON d.ip = k.ip AND d.burst_start = k.burst_start",
                sql::member_cols("d")
            ))
            // The first two other accounts that got in from the source,
            // when they are few enough to raise the finding.
            .highlights(sql::first_per(
                &format!(
                    "SELECT k.ip AS actor, k.found_first, {}\n      \
                     FROM da_key k JOIN (\n        \
                     SELECT ip, burst_start, user_principal_name, first_time,\n          \
                     ROW_NUMBER() OVER (PARTITION BY ip, burst_start ORDER BY first_time, user_principal_name) AS k\n        \
                     FROM disabled_others\n      \
                     ) o ON o.ip = k.ip AND o.burst_start = k.burst_start AND o.k <= 2 AND k.others < {}\n      \
                     JOIN (SELECT * FROM ev WHERE password_worked) e\n        \
                     ON e.ip = o.ip AND e.user_principal_name = o.user_principal_name AND e.time = o.first_time",
                    sql::member_cols("e"),
                    c.max_other_users
                ),
                "user_principal_name",
            ))
            .member_cte(
                "da_others",
                "SELECT ip AS actor, found_first, others FROM da_key",
            )
            .join("JOIN da_others x ON x.actor = f.actor AND x.found_first = f.first_seen")
            .aggregate(
                "disabled_users",
                "COUNT(DISTINCT CASE WHEN m.role = 0 THEN m.user_principal_name END)",
            )
            .severity("CASE WHEN a.n_highlights > 0 THEN 'high' ELSE 'low' END")
            .title(format!(
                "concat(f.ip, ' tried ', {}, ' disabled account', {}, ' (', {}, ' attempt', {}, ')',\n    \
                 CASE WHEN a.n_highlights > 0 THEN concat('; ', {}, ' other account', {}, ' signed in from it') ELSE '' END)",
                sql::text_num("a.disabled_users"),
                sql::plural("a.disabled_users"),
                sql::text_num("f.count"),
                sql::plural("f.count"),
                sql::text_num("x.others"),
                sql::plural("x.others")
            ))
            .fact("attempts", sql::json_num("f.count"))
            .fact("disabled_accounts", sql::json_num("a.disabled_users"))
            .fact("other_accounts_signed_in", sql::json_num("x.others"))
            .fact("shared_egress", sql::json_bool(&format!("x.others >= {}", c.max_other_users)))
    }

    fn run(&self, ev: &Events, cfg: &DetectionConfig) -> Vec<Finding> {
        let c = &cfg.disabled_account;
        let recs = ev.records;
        let groups = util::group_unsuccessful_by(ev, cfg, |r| {
            (r.error_code == USER_DISABLED && !r.ip.is_empty()).then_some(r.ip.as_str())
        });
        let mut found = Vec::new();
        for (&ip, events) in &groups {
            for b in util::bursts(
                recs,
                events,
                util::minutes(c.window_minutes),
                &mut CountAtLeast::new(c.min_attempts),
            ) {
                found.push((ip, events[b].to_vec()));
            }
        }
        let ips: BTreeSet<&str> = found.iter().map(|(ip, _)| *ip).collect();
        let pools = util::records_by_ip(ev, cfg, &ips);
        found
            .into_iter()
            .map(|(ip, burst)| {
                let disabled: BTreeSet<&str> = burst
                    .iter()
                    .map(|&i| recs[i].user_principal_name.as_str())
                    .collect();
                // Other accounts whose password worked from this IP at any
                // time in the input.
                let mut others: Vec<usize> = Vec::new();
                let mut seen = BTreeSet::new();
                for &i in pools.get(ip).map_or(&[][..], Vec::as_slice) {
                    let u = recs[i].user_principal_name.as_str();
                    if util::password_worked(&recs[i])
                        && !u.is_empty()
                        && !disabled.contains(u)
                        && seen.insert(u)
                    {
                        others.push(i);
                    }
                }
                util::finding(ev, draft(recs, c, ip, burst, disabled.len(), others))
            })
            .collect()
    }
}

fn draft(
    recs: &[SignIn],
    c: &DisabledAccountConfig,
    ip: &str,
    burst: Vec<usize>,
    disabled: usize,
    others: Vec<usize>,
) -> Draft {
    let shared = others.len() >= c.max_other_users as usize;
    let mut title = format!(
        "{ip} tried {disabled} disabled account{} ({} attempt{})",
        util::plural(disabled),
        burst.len(),
        util::plural(burst.len())
    );
    let severity = if !others.is_empty() && !shared {
        title.push_str(&format!(
            "; {} other account{} signed in from it",
            others.len(),
            util::plural(others.len())
        ));
        Severity::High
    } else {
        Severity::Low
    };
    let mut remediation = vec![
        "Confirm the disabled accounts belong to people who left or were disabled on purpose, and find the device or script still using them (client app and user agent are in the evidence).".to_string(),
    ];
    if severity == Severity::High {
        let names: Vec<&str> = others
            .iter()
            .map(|&i| recs[i].user_principal_name.as_str())
            .collect();
        remediation.push(format!(
            "The same source holds working credentials for {}: check with those users, reset their passwords and revoke sessions if the sign-ins were not theirs, and block {ip}.",
            names.join(", ")
        ));
    }
    remediation.push("Keep leaver accounts disabled with sessions revoked, and remove them from groups and app assignments.".to_string());
    let other_names: Vec<&str> = others
        .iter()
        .map(|&i| recs[i].user_principal_name.as_str())
        .collect();
    let d = Draft {
        events: burst.clone(),
        highlights: if severity == Severity::High {
            others.iter().copied().take(2).collect()
        } else {
            Vec::new()
        },
        window_seconds: i64::from(c.window_minutes) * 60,
        remediation,
        ..Draft::new(KIND, ip, severity, title)
    };
    d.fact("attempts", burst.len())
        .fact("disabled_accounts", disabled)
        .fact("other_accounts_signed_in", others.len())
        .fact("other_accounts", util::json_list(&other_names))
        .fact("shared_egress", shared)
        .fact(
            "apps",
            util::json_list(&util::distinct(recs, &burst, |r| r.app_name.as_str())),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::detect::util::testing::*;

    #[test]
    fn credential_list_source_is_high() {
        let v = vec![
            signin(0, "leaver1@contoso.com", "203.0.113.30", USER_DISABLED),
            signin(40, "leaver2@contoso.com", "203.0.113.30", USER_DISABLED),
            signin(80, "active@contoso.com", "203.0.113.30", 0),
        ];
        let recs = fixture(v);
        let f = run(&DisabledAccount, &recs, &DetectionConfig::default());
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::High);
        assert_eq!(
            fact(&f[0], "other_accounts"),
            Some(&serde_json::json!(["active@contoso.com"]))
        );
        assert_eq!(f[0].count, 2);
    }

    #[test]
    fn leaver_phone_stays_low_and_a_higher_minimum_silences_it() {
        let v: Vec<SignIn> = (0..3)
            .map(|k| {
                signin(
                    k * 3600,
                    "leaver1@contoso.com",
                    "198.51.100.70",
                    USER_DISABLED,
                )
            })
            .collect();
        let recs = fixture(v);
        let f = run(&DisabledAccount, &recs, &DetectionConfig::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Low);
        let mut cfg = DetectionConfig::default();
        cfg.disabled_account.min_attempts = 4;
        assert!(run(&DisabledAccount, &recs, &cfg).is_empty());
    }
}
