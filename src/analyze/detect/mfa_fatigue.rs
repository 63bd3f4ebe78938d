//! MFA fatigue: bursts of failed MFA prompts for one account.
//!
//! What it finds, why it matters, tuning and false positives:
//! `docs/mfa_fatigue.md` (the registry in `mod.rs` serves it).

use std::collections::BTreeSet;

use super::registry::Settings;
use super::sql::{self, Bursts, Query};
use super::util::{self, CountAtLeast, Draft};
use super::{Detection, DetectionConfig, Events};
use crate::model::{Finding, Severity, SignIn, StatusClass, Text};
use serde::{Deserialize, Serialize};

pub struct MfaFatigue;

const KIND: &str = "mfa_fatigue";

/// The `[mfa_fatigue]` table of the settings file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MfaFatigueConfig {
    pub enabled: bool,
    pub window_minutes: u32,
    /// 500121 failures for one account within the window.
    pub min_failures: u32,
    /// Only report bursts followed by a successful sign-in.
    pub require_success: bool,
}

impl Default for MfaFatigueConfig {
    fn default() -> Self {
        // Splunk: more than 9 in 10 minutes.
        MfaFatigueConfig {
            enabled: true,
            window_minutes: 10,
            min_failures: 10,
            require_success: false,
        }
    }
}

impl Settings for MfaFatigueConfig {}

/// Strong-authentication (second factor) step not completed.
const MFA_FAILED: i64 = 500121;

impl Detection for MfaFatigue {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn title(&self) -> &'static str {
        "MFA fatigue (push bombing)"
    }

    fn techniques(&self) -> &'static [&'static str] {
        &["T1621", "T1078.004"]
    }

    fn needs(&self) -> &'static [crate::analyze::coverage::Need] {
        &[crate::analyze::coverage::Need::MfaDetail]
    }

    fn sql(&self, cfg: &DetectionConfig) -> Query {
        let c = &cfg.mfa_fatigue;
        let q = Query::new()
            .cte(
                "prompts",
                format!(
                    "SELECT time, user_principal_name FROM ev\n  \
                     WHERE error_code = {MFA_FAILED} AND user_principal_name <> ''"
                ),
            )
            .bursts(&Bursts {
                name: "fatigue",
                from: "prompts",
                keys: &["user_principal_name"],
                window_minutes: c.window_minutes,
                distinct: &[],
                qualifies: format!("n >= {}", sql::at_least_one(c.min_failures)),
            })
            .cte(
                "fatigue_found",
                format!(
                    "SELECT user_principal_name, burst_start, {}\n  \
                     FROM fatigue GROUP BY user_principal_name, burst_start",
                    sql::SPAN
                ),
            );
        let head = sql::head(
            KIND,
            "f.user_principal_name",
            Some("f.user_principal_name"),
            None,
        );
        if !c.require_success {
            return complete(
                q.select(format!(
                    "SELECT {head}, f.first_seen AS first_seen, f.last_seen AS last_seen, f.count AS count\nFROM fatigue_found f"
                )),
                c.window_minutes,
            );
        }
        let q = q.cte(
            "fatigue_success",
            format!(
                "SELECT DISTINCT f.user_principal_name, f.burst_start\n  \
                 FROM fatigue_found f JOIN ev s\n    \
                 ON s.user_principal_name = f.user_principal_name AND s.status = 'success'\n    \
                 AND s.time >= f.first_seen AND s.time <= f.last_seen + {}",
                sql::minutes(c.window_minutes)
            ),
        )
        .select(format!(
            "SELECT {head}, f.first_seen AS first_seen, f.last_seen AS last_seen, f.count AS count\n\
             FROM fatigue_found f JOIN fatigue_success s\n  \
             ON s.user_principal_name = f.user_principal_name AND s.burst_start = f.burst_start"
        ))
;
        complete(q, c.window_minutes)
    }

    fn run(&self, ev: &Events, cfg: &DetectionConfig) -> Vec<Finding> {
        let c = &cfg.mfa_fatigue;
        let recs = ev.records;
        let window = util::minutes(c.window_minutes);
        let prompts = util::group_unsuccessful_by(ev, cfg, |r| {
            (r.error_code == MFA_FAILED && !r.user_principal_name.is_empty())
                .then_some(r.user_principal_name.as_str())
        });
        let mut found = Vec::new();
        for (&user, events) in &prompts {
            for b in util::bursts(recs, events, window, &mut CountAtLeast::new(c.min_failures)) {
                found.push((user, events[b].to_vec()));
            }
        }
        let users: BTreeSet<&str> = found.iter().map(|(u, _)| *u).collect();
        let accounts = users.iter().map(|u| Text::from(*u));
        let successes = util::group_of(ev, cfg, ev.by_user(), accounts, |r| {
            r.status == StatusClass::Success
        });
        let mut out = Vec::new();
        for (user, burst) in found {
            let first = recs[burst[0]].time_us;
            let last = burst.last().map_or(first, |&i| recs[i].time_us);
            let success = successes.get(user).and_then(|pool| {
                pool.iter()
                    .copied()
                    .find(|&i| recs[i].time_us >= first && recs[i].time_us <= last + window)
            });
            if c.require_success && success.is_none() {
                continue;
            }
            out.push(util::finding(
                ev,
                draft(recs, c.window_minutes, user, burst, success),
            ));
        }
        out
    }
}

/// [`mentions`] in SQL over `ev` columns of alias `e`.
fn mentions_sql(needles: &[&str]) -> String {
    let mut any = Vec::new();
    for col in ["failure_reason", "additional_details", "mfa_result"] {
        for n in needles {
            any.push(format!(
                "position({} IN lower(COALESCE(e.{col}, ''))) > 0",
                sql::lit(n)
            ));
        }
    }
    format!("({})", any.join(" OR "))
}

/// The findings' prompts, the sign-in that followed, severity, title
/// and facts, after `found`.
fn complete(q: Query, window_minutes: u32) -> Query {
    let count_of =
        |needles: &[&str]| format!("SUM(CASE WHEN {} THEN 1 ELSE 0 END)", mentions_sql(needles));
    q.member_cte(
        "mf_prompts",
        format!(
            "SELECT f.actor, f.first_seen AS found_first, e.*\n  \
             FROM found f JOIN (SELECT * FROM ev WHERE error_code = {MFA_FAILED}) e\n    \
             ON e.user_principal_name = f.user_principal_name AND e.time >= f.first_seen AND e.time <= f.last_seen"
        ),
    )
    .member_cte(
        "mf_detail",
        format!(
            "SELECT e.actor, e.found_first,\n    \
             {} AS declined,\n    \
             {} AS unanswered,\n    \
             {} AS fraud,\n    \
             SUM(CASE WHEN COALESCE(e.additional_details, '') <> '' OR COALESCE(e.mfa_result, '') <> '' THEN 1 ELSE 0 END) AS detail\n  \
             FROM mf_prompts e GROUP BY e.actor, e.found_first",
            count_of(&["declined"]),
            count_of(&["did not respond", "timed out", "timeout", "not responded"]),
            count_of(&["fraud"])
        ),
    )
    .events(format!(
        "SELECT e.actor, e.found_first, {} FROM mf_prompts e",
        sql::member_cols("e")
    ))
    // The account's first successful sign-in from the first prompt to a
    // window after the last.
    .highlights(sql::first_per(
        &format!(
            "SELECT f.actor, f.first_seen AS found_first, {}\n      \
             FROM found f JOIN (SELECT * FROM ev WHERE status = 'success') e\n        \
             ON e.user_principal_name = f.user_principal_name AND e.time >= f.first_seen AND e.time <= f.last_seen + {}",
            sql::member_cols("e"),
            sql::minutes(window_minutes)
        ),
        "",
    ))
    .join("JOIN mf_detail x ON x.actor = f.actor AND x.found_first = f.first_seen")
    .severity(
        "CASE WHEN a.n_highlights > 0 THEN 'critical' WHEN x.fraud > 0 THEN 'high' ELSE 'medium' END",
    )
    .title(format!(
        "concat('MFA fatigue against ', f.actor, ': ', {}, ' failed MFA prompt', {}, ' in ', {},\n    \
         CASE WHEN x.declined > 0 THEN concat(', ', {}, ' declined') ELSE '' END,\n    \
         CASE WHEN a.n_highlights > 0 THEN concat('; then a sign-in succeeded from ',\n      \
         CASE WHEN a.first_highlight_ip = '' THEN 'an unknown IP' ELSE a.first_highlight_ip END)\n    \
         WHEN x.fraud > 0 THEN '; the user reported fraud' ELSE '' END)",
        sql::text_num("f.count"),
        sql::plural("f.count"),
        sql::span_text("f.span_s"),
        sql::text_num("x.declined")
    ))
    .fact("mfa_failures", sql::json_num("f.count"))
    .fact("declined", sql::json_num("CASE WHEN x.detail > 0 THEN x.declined END"))
    .fact("unanswered", sql::json_num("CASE WHEN x.detail > 0 THEN x.unanswered END"))
    .fact("fraud_reported", sql::json_num("CASE WHEN x.detail > 0 THEN x.fraud END"))
    .fact("success_after", sql::json_bool("a.n_highlights > 0"))
}

fn mentions(r: &SignIn, needles: &[&str]) -> bool {
    [&r.failure_reason, &r.additional_details, &r.mfa_result]
        .iter()
        .any(|text| {
            let t = text.to_ascii_lowercase();
            needles.iter().any(|n| t.contains(n))
        })
}

fn draft(
    recs: &[SignIn],
    window_minutes: u32,
    user: &str,
    burst: Vec<usize>,
    success: Option<usize>,
) -> Draft {
    let first = recs[burst[0]].time_us;
    let last = burst.last().map_or(first, |&i| recs[i].time_us);
    let declined = burst
        .iter()
        .filter(|&&i| mentions(&recs[i], &["declined"]))
        .count();
    let unanswered = burst
        .iter()
        .filter(|&&i| {
            mentions(
                &recs[i],
                &["did not respond", "timed out", "timeout", "not responded"],
            )
        })
        .count();
    let fraud = burst
        .iter()
        .filter(|&&i| mentions(&recs[i], &["fraud"]))
        .count();
    let prompt_ips = util::distinct(recs, &burst, |r| r.ip.as_str());
    let mut title = format!(
        "MFA fatigue against {user}: {} failed MFA prompt{} in {}",
        burst.len(),
        util::plural(burst.len()),
        util::span_text(last - first)
    );
    if declined > 0 {
        title.push_str(&format!(", {declined} declined"));
    }
    let severity = if let Some(s) = success {
        let r = &recs[s];
        title.push_str(&format!(
            "; then a sign-in succeeded from {}",
            if r.ip.is_empty() {
                "an unknown IP"
            } else {
                r.ip.as_str()
            }
        ));
        Severity::Critical
    } else if fraud > 0 {
        title.push_str("; the user reported fraud");
        Severity::High
    } else {
        Severity::Medium
    };
    let mut remediation = vec![
        format!("The prompts prove the password of {user} is known to whoever triggered them: reset it and revoke sessions and refresh tokens."),
        format!("Ask the owner of {user} whether they approved a prompt around {}; if a sign-in succeeded, review what that session did.", util::rfc3339(last)),
        "Turn on number matching and additional context in Microsoft Authenticator, or move the account to phishing-resistant MFA.".to_string(),
    ];
    if !prompt_ips.is_empty() {
        remediation.push(format!(
            "Block the prompting IPs ({}) unless they are the owner's.",
            prompt_ips.join(", ")
        ));
    }
    let d = Draft {
        events: burst.clone(),
        highlights: success.into_iter().collect(),
        window_seconds: i64::from(window_minutes) * 60,
        remediation,
        ..Draft::new(KIND, user, severity, title)
    };
    // Without any MFA detail in the export, "0 declined" would be a claim
    // the data cannot make: say unknown (null) instead.
    let detail = burst
        .iter()
        .any(|&i| !recs[i].additional_details.is_empty() || !recs[i].mfa_result.is_empty());
    let known = |n: usize| {
        if detail {
            serde_json::Value::from(n)
        } else {
            serde_json::Value::Null
        }
    };
    d.fact("mfa_failures", burst.len())
        .fact("declined", known(declined))
        .fact("unanswered", known(unanswered))
        .fact("fraud_reported", known(fraud))
        .fact("success_after", success.is_some())
        .fact(
            "success_from_prompting_ip",
            success.is_some_and(|s| prompt_ips.contains(&recs[s].ip.as_str())),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::detect::util::testing::*;

    fn denied(sec: i64) -> SignIn {
        SignIn {
            failure_reason: "Authentication failed during strong authentication request.".into(),
            additional_details: "MFA denied; user declined the authentication".into(),
            ..signin(sec, "finance@contoso.com", "203.0.113.61", MFA_FAILED)
        }
    }

    #[test]
    fn push_bombing_then_approval_is_critical() {
        let mut v: Vec<SignIn> = (0..12).map(|k| denied(k * 25)).collect();
        v.push(signin(340, "finance@contoso.com", "203.0.113.61", 0));
        let recs = fixture(v);
        let f = run(&MfaFatigue, &recs, &DetectionConfig::default());
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Critical);
        assert_eq!(f[0].count, 12);
        assert_eq!(fact(&f[0], "declined"), Some(&12.into()));
        assert_eq!(fact(&f[0], "success_from_prompting_ip"), Some(&true.into()));
        // Sentinel's preset needs more than 10 within 5 minutes: 12 over
        // 4.6 minutes qualifies there too.
        assert_eq!(
            run(
                &MfaFatigue,
                &recs,
                &DetectionConfig::preset("sentinel").unwrap()
            )
            .len(),
            1
        );
    }

    #[test]
    fn a_few_timeouts_do_not_fire() {
        let v: Vec<SignIn> = (0..4)
            .map(|k| SignIn {
                additional_details: "MFA denied; user did not respond to mobile app notification"
                    .into(),
                ..signin(k * 120, "finance@contoso.com", "192.0.2.8", MFA_FAILED)
            })
            .collect();
        let recs = fixture(v);
        assert!(run(&MfaFatigue, &recs, &DetectionConfig::default()).is_empty());
        let mut cfg = DetectionConfig::default();
        cfg.mfa_fatigue.min_failures = 4;
        cfg.mfa_fatigue.require_success = true;
        assert!(run(&MfaFatigue, &recs, &cfg).is_empty());
    }
}
