//! Risky users: Identity Protection blocks, high risk levels, at-risk states.
//!
//! What it finds, why it matters, tuning and false positives:
//! `docs/risky_user.md` (the registry in `mod.rs` serves it).

use std::collections::{BTreeMap, HashMap};

use super::registry::{strings, Settings};
use super::sql::{self, Bursts, Query};
use super::util::{self, CountAtLeast, Draft};
use super::{Detection, DetectionConfig, Events};
use crate::model::{FastHash, Finding, Severity, SignIn, StatusClass, Text};
use serde::{Deserialize, Serialize};

pub struct RiskyUser;

const KIND: &str = "risky_user";

/// The `[risky_user]` table of the settings file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskyUserConfig {
    pub enabled: bool,
    /// Quiet time after which a user's next risky sign-in starts a new finding.
    pub window_minutes: u32,
    pub min_events: u32,
    pub codes: Vec<i64>,
    /// Sign-in or aggregated risk levels that count (case-insensitive).
    pub risk_levels: Vec<String>,
    /// Risk states that count (case-insensitive, `_` ignored).
    pub risk_states: Vec<String>,
}

impl Default for RiskyUserConfig {
    fn default() -> Self {
        RiskyUserConfig {
            enabled: true,
            window_minutes: 24 * 60,
            min_events: 1,
            codes: vec![53011, 530032, 53004],
            risk_levels: strings(&["high"]),
            risk_states: strings(&["atRisk", "confirmedCompromised"]),
        }
    }
}

impl Settings for RiskyUserConfig {}

impl Detection for RiskyUser {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn title(&self) -> &'static str {
        "Account flagged as risky"
    }

    fn techniques(&self) -> &'static [&'static str] {
        &["T1078.004"]
    }

    fn needs(&self) -> &'static [crate::analyze::coverage::Need] {
        &[crate::analyze::coverage::Need::RiskDetail]
    }

    fn sql(&self, cfg: &DetectionConfig) -> Query {
        let c = &cfg.risky_user;
        let mut hits = Vec::new();
        if !c.codes.is_empty() {
            hits.push(sql::codes_in(&c.codes));
        }
        for level in &c.risk_levels {
            let l = sql::lit(&level.to_lowercase());
            hits.push(format!(
                "lower(risk_level_during_sign_in) = {l} OR lower(risk_level_aggregated) = {l}"
            ));
        }
        if !c.risk_states.is_empty() {
            let states: Vec<String> = c.risk_states.iter().map(|s| sql::lit(&squash(s))).collect();
            hits.push(format!(
                "(risk_state <> '' AND lower(replace(replace(risk_state, '_', ''), ' ', '')) IN ({}))",
                states.join(", ")
            ));
        }
        let level = if c.risk_levels.is_empty() {
            "FALSE".to_string()
        } else {
            c.risk_levels
                .iter()
                .map(|l| {
                    let l = sql::lit(&l.to_lowercase());
                    format!("lower(e.risk_level_during_sign_in) = {l} OR lower(e.risk_level_aggregated) = {l}")
                })
                .collect::<Vec<_>>()
                .join(" OR ")
        };
        let hit = if hits.is_empty() {
            "FALSE".to_string()
        } else {
            hits.join("\n    OR ")
        };
        Query::new()
            .note("risk levels are compared with lower(), which folds non-ASCII letters too; analyze folds ASCII only")
            .cte(
                "risky",
                format!(
                    "SELECT time, user_principal_name FROM ev\n  \
                     WHERE user_principal_name <> '' AND (\n    {hit})"
                ),
            )
            .bursts(&Bursts {
                name: "risky_burst",
                from: "risky",
                keys: &["user_principal_name"],
                window_minutes: c.window_minutes,
                distinct: &[],
                qualifies: format!("n >= {}", sql::at_least_one(c.min_events)),
            })
            .select(format!(
                "SELECT {}, {}\nFROM risky_burst\nGROUP BY user_principal_name, burst_start",
                sql::head(
                    KIND,
                    "user_principal_name",
                    Some("user_principal_name"),
                    None
                ),
                sql::SPAN
            ))
            .note("the title gives the counts of risky sign-ins only; analyze also lists the blocks per code and the risk states, and the facts leave those lists out")
            .member_cte(
                "ru_events",
                format!(
                    "SELECT f.actor, f.first_seen AS found_first, e.*, CASE WHEN {level} THEN 1 ELSE 0 END AS level_hit\n  \
                     FROM found f JOIN (SELECT * FROM ev WHERE user_principal_name <> '' AND (\n    {hit})) e\n    \
                     ON e.user_principal_name = f.user_principal_name AND e.time >= f.first_seen AND e.time <= f.last_seen"
                ),
            )
            .member_cte(
                "ru_detail",
                "SELECT actor, found_first, SUM(level_hit) AS high_risk,\n    \
                 SUM(CASE WHEN status = 'success' THEN level_hit ELSE 0 END) AS risky_successes,\n    \
                 SUM(CASE WHEN lower(replace(replace(risk_state, '_', ''), ' ', '')) = 'confirmedcompromised' THEN 1 ELSE 0 END) AS compromised\n  \
                 FROM ru_events GROUP BY actor, found_first",
            )
            .events(format!(
                "SELECT actor, found_first, {} FROM ru_events",
                sql::member_cols_bare()
            ))
            .join("JOIN ru_detail x ON x.actor = f.actor AND x.found_first = f.first_seen")
            .severity("CASE WHEN x.compromised > 0 OR x.risky_successes > 0 THEN 'critical' ELSE 'high' END")
            .title(format!(
                "concat(f.actor, ' flagged as risky: ', {}, ' flagged sign-in', {},\n    \
                 CASE WHEN x.high_risk > 0 THEN concat(', ', {}, ' risky sign-in', {}) ELSE '' END,\n    \
                 CASE WHEN x.risky_successes > 0 THEN concat('; ', {}, ' risky sign-in', {}, ' succeeded') ELSE '' END)",
                sql::text_num("f.count"),
                sql::plural("f.count"),
                sql::text_num("x.high_risk"),
                sql::plural("x.high_risk"),
                sql::text_num("x.risky_successes"),
                sql::plural("x.risky_successes")
            ))
            .fact("risky_sign_ins", sql::json_num("x.high_risk"))
            .fact("risky_successes", sql::json_num("x.risky_successes"))
    }

    fn run(&self, ev: &Events, cfg: &DetectionConfig) -> Vec<Finding> {
        let c = &cfg.risky_user;
        let recs = ev.records;
        let states: Vec<String> = c.risk_states.iter().map(|s| squash(s)).collect();
        let level_hit = |r: &SignIn| {
            c.risk_levels.iter().any(|l| {
                r.risk_level_during_sign_in.eq_ignore_ascii_case(l)
                    || r.risk_level_aggregated.eq_ignore_ascii_case(l)
            })
        };
        // Judged once per distinct state: most sign-ins carry one, and
        // squashing it allocated per sign-in.
        let mut judged: HashMap<Text, bool, FastHash> = HashMap::default();
        let mut state_hit = |r: &SignIn| {
            !r.risk_state.is_empty()
                && *judged
                    .entry(r.risk_state)
                    .or_insert_with(|| states.contains(&squash(&r.risk_state)))
        };
        let groups = util::group_by(ev, cfg, |r| {
            (!r.user_principal_name.is_empty()
                && (c.codes.contains(&r.error_code) || level_hit(r) || state_hit(r)))
            .then_some(r.user_principal_name.as_str())
        });
        let mut out = Vec::new();
        for (&user, events) in &groups {
            for b in util::bursts(
                recs,
                events,
                util::minutes(c.window_minutes),
                &mut CountAtLeast::new(c.min_events),
            ) {
                let burst = events[b].to_vec();
                let risky_successes = burst
                    .iter()
                    .filter(|&&i| recs[i].status == StatusClass::Success && level_hit(&recs[i]))
                    .count();
                let high_risk = burst.iter().filter(|&&i| level_hit(&recs[i])).count();
                out.push(util::finding(
                    ev,
                    draft(recs, c, user, burst, high_risk, risky_successes),
                ));
            }
        }
        out
    }
}

/// `confirmedCompromised`, `confirmed_compromised` and `ConfirmedCompromised`
/// are the same state in different exports.
fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '_' && *c != ' ')
        .flat_map(char::to_lowercase)
        .collect()
}

fn draft(
    recs: &[SignIn],
    c: &RiskyUserConfig,
    user: &str,
    burst: Vec<usize>,
    high_risk: usize,
    risky_successes: usize,
) -> Draft {
    let mut per_code: BTreeMap<i64, usize> = BTreeMap::new();
    for &i in &burst {
        if c.codes.contains(&recs[i].error_code) {
            *per_code.entry(recs[i].error_code).or_default() += 1;
        }
    }
    let states = util::distinct(recs, &burst, |r| r.risk_state.as_str());
    let compromised = states.iter().any(|s| squash(s) == "confirmedcompromised");
    let mut event_types: Vec<String> = burst
        .iter()
        .flat_map(|&i| recs[i].risk_event_types.split(','))
        .map(|s| {
            s.trim()
                .trim_matches(|c| c == '[' || c == ']' || c == '"')
                .to_string()
        })
        .filter(|s| !s.is_empty())
        .collect();
    event_types.sort();
    event_types.dedup();

    let mut parts: Vec<String> = per_code
        .iter()
        .map(|(code, n)| format!("blocked {n} time{} ({code})", util::plural(*n)))
        .collect();
    if high_risk > 0 {
        parts.push(format!(
            "{high_risk} risky sign-in{}",
            util::plural(high_risk)
        ));
    }
    if !states.is_empty() {
        parts.push(format!("risk state {}", states.join("/")));
    }
    let mut title = format!("{user} flagged as risky: {}", parts.join(", "));
    let severity = if compromised || risky_successes > 0 {
        if risky_successes > 0 {
            title.push_str(&format!(
                "; {risky_successes} risky sign-in{} succeeded",
                util::plural(risky_successes)
            ));
        }
        Severity::Critical
    } else {
        Severity::High
    };
    let mut remediation = vec![
        format!("Open {user} under ID Protection > Risky users and read the detections behind the risk before deciding anything."),
        format!("If the account is compromised: reset the password (force a change at next sign-in), revoke sessions and refresh tokens, and confirm the compromise so the risk is recorded."),
        "A 53011 block clears only when the risk is remediated: an admin password reset, a secure password change or MFA through a risk-based Conditional Access policy, or dismissing the risk after investigation (dismissing leaves the old password in place).".to_string(),
    ];
    if per_code.contains_key(&53004) {
        remediation.push(format!(
            "53004 means someone tried to register MFA methods on {user} while it was risky: list its authentication methods and remove any the owner does not recognise."
        ));
    }
    let d = Draft {
        events: burst.clone(),
        window_seconds: i64::from(c.window_minutes) * 60,
        remediation,
        ..Draft::new(KIND, user, severity, title)
    };
    d.fact(
        "blocks_by_code",
        serde_json::Value::Object(
            per_code
                .iter()
                .map(|(k, v)| (k.to_string(), (*v).into()))
                .collect(),
        ),
    )
    .fact("risky_sign_ins", high_risk)
    .fact("risky_successes", risky_successes)
    .fact("risk_states", util::json_list(&states))
    .fact("risk_event_types", util::json_list(&event_types))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::detect::util::testing::*;

    #[test]
    fn risk_blocks_and_compromised_state_fire() {
        let v = vec![
            signin(0, "sales@contoso.com", "203.0.113.40", 53011),
            signin(90, "sales@contoso.com", "203.0.113.40", 53011),
            signin(200, "sales@contoso.com", "203.0.113.41", 53004),
            SignIn {
                risk_level_during_sign_in: "high".into(),
                risk_state: "confirmedCompromised".into(),
                risk_event_types: "unfamiliarFeatures,anonymizedIPAddress".into(),
                ..signin(5000, "ops@contoso.com", "198.51.100.3", 0)
            },
        ];
        let recs = fixture(v);
        let f = run(&RiskyUser, &recs, &DetectionConfig::default());
        assert_eq!(f.len(), 2, "{f:#?}");
        let sales = f
            .iter()
            .find(|f| f.users == vec!["sales@contoso.com"])
            .unwrap();
        assert_eq!(sales.severity, Severity::High);
        assert_eq!(sales.count, 3);
        assert!(
            sales.title.contains("53011") && sales.title.contains("53004"),
            "{}",
            sales.title
        );
        assert!(sales.remediation.iter().any(|r| r.contains("53004")));
        let ops = f
            .iter()
            .find(|f| f.users == vec!["ops@contoso.com"])
            .unwrap();
        assert_eq!(ops.severity, Severity::Critical);
        assert_eq!(
            fact(ops, "risk_event_types"),
            Some(&serde_json::json!([
                "anonymizedIPAddress",
                "unfamiliarFeatures"
            ]))
        );
    }

    #[test]
    fn low_risk_and_remediated_users_do_not_fire() {
        let v = vec![
            SignIn {
                risk_level_during_sign_in: "low".into(),
                risk_state: "remediated".into(),
                ..signin(0, "a@contoso.com", "192.0.2.3", 0)
            },
            SignIn {
                risk_level_aggregated: "none".into(),
                risk_state: "dismissed".into(),
                ..signin(60, "b@contoso.com", "192.0.2.4", 50126)
            },
        ];
        let recs = fixture(v);
        assert!(run(&RiskyUser, &recs, &DetectionConfig::default()).is_empty());
    }
}
