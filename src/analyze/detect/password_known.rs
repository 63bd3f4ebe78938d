//! The right password from a place the account does not sign in from,
//! stopped only by Conditional Access or MFA.
//!
//! What it finds, why it matters, tuning and false positives:
//! `docs/password_known.md` (the registry in `mod.rs` serves it).

use std::collections::{BTreeMap, BTreeSet};

use super::place::Place;
use super::registry::Settings;
use super::sql::{self, Query};
use super::util::{self, Draft};
use super::{Detection, DetectionConfig, Events};
use crate::model::{Finding, Severity, SignIn, SignInType, StatusClass, Text};
use serde::{Deserialize, Serialize};

pub struct PasswordKnown;

const KIND: &str = "password_known";
const HOUR_US: i64 = 60 * util::MINUTE_US;

/// The `[password_known]` table of the settings file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordKnownConfig {
    pub enabled: bool,
    /// Codes that mean "password accepted, then stopped": Conditional
    /// Access and MFA. Empty: any code that proves the password.
    pub codes: Vec<i64>,
    /// A success from the same place up to this long after the stop means
    /// the owner finished the sign-in: no finding.
    pub completion_window_minutes: u32,
    /// Hours of data before the stop that count as the baseline.
    pub min_baseline_hours: u32,
}

impl Default for PasswordKnownConfig {
    fn default() -> Self {
        PasswordKnownConfig {
            enabled: true,
            codes: vec![53003, 50074, 50076, 500121],
            completion_window_minutes: 60,
            min_baseline_hours: 24,
        }
    }
}

impl Settings for PasswordKnownConfig {
    const UNSET: &'static [(&'static str, &'static str)] = &[
        ("codes", "any code that proves the password"),
        ("min_baseline_hours", "no baseline needed"),
    ];
}

fn stopped_by(code: i64) -> String {
    match code {
        53003 => "Conditional Access block (53003)".to_string(),
        50074 | 50076 => format!("MFA required and not done ({code})"),
        500121 => "MFA prompt failed or denied (500121)".to_string(),
        other => format!("error {other}"),
    }
}

/// A typed password stopped after it was accepted. Non-interactive
/// sign-ins replay a refresh token, so a stop there proves no password.
fn is_stop(r: &SignIn, codes: &[i64]) -> bool {
    r.status != StatusClass::Success
        && r.sign_in_type == SignInType::Interactive
        && !r.user_principal_name.is_empty()
        && util::password_worked(r)
        && (codes.is_empty() || codes.contains(&r.error_code))
}

impl Detection for PasswordKnown {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn title(&self) -> &'static str {
        "Right password from an unfamiliar place, stopped only by CA or MFA"
    }

    fn techniques(&self) -> &'static [&'static str] {
        &["T1078.004", "T1110"]
    }

    fn sql(&self, cfg: &DetectionConfig) -> Query {
        let c = &cfg.password_known;
        let codes = if c.codes.is_empty() {
            "TRUE".to_string()
        } else {
            sql::codes_in(&c.codes)
        };
        let net = sql::network_of("ip");
        Query::new()
            .cte(
                "pk_ev",
                format!(
                    "SELECT {}, asn, device_id, password_worked,\n    {net} AS net,\n    ROW_NUMBER() OVER (ORDER BY {}) AS rid\n  FROM ev WHERE user_principal_name <> ''",
                    sql::member_cols_bare(),
                    sql::ORDER
                ),
            )
            .cte(
                "pk_stop",
                format!(
                    "SELECT * FROM pk_ev\n  WHERE status <> 'success' AND sign_in_type = 'interactive' AND password_worked AND {codes}\n    \
                     AND {}",
                    sql::after_baseline("time", c.min_baseline_hours)
                ),
            )
            .cte(
                "pk_seen",
                format!(
                    "SELECT c.rid,\n    \
                     MAX(CASE WHEN s.time < c.time THEN 1 ELSE 0 END) AS has_earlier,\n    \
                     MAX(CASE WHEN s.time <= c.time + {} AND (\n      \
                     (c.ip <> '' AND s.ip = c.ip) OR s.net = c.net\n      \
                     OR (s.asn = c.asn AND s.country = c.country)\n      \
                     OR (c.device_id <> '' AND s.device_id = c.device_id)) THEN 1 ELSE 0 END) AS familiar\n  \
                     FROM pk_stop c JOIN pk_ev s\n    ON s.user_principal_name = c.user_principal_name AND s.status = 'success'\n  \
                     GROUP BY c.rid",
                    sql::minutes(c.completion_window_minutes)
                ),
            )
            .select(format!(
                "SELECT {}, {}\nFROM pk_stop c JOIN pk_seen k ON k.rid = c.rid\n\
                 WHERE k.has_earlier = 1 AND k.familiar = 0\n\
                 GROUP BY c.user_principal_name, COALESCE(c.net, c.ip)",
                sql::head(
                    KIND,
                    "concat(c.user_principal_name, '|', COALESCE(c.net, c.ip))",
                    Some("c.user_principal_name"),
                    Some("MIN(c.ip)")
                ),
                sql::SPAN.replace("(time)", "(c.time)")
            ))
            .note("the title leaves out the networks, countries and what stopped the sign-ins; facts leave out those lists")
            .events(format!(
                "SELECT concat(c.user_principal_name, '|', COALESCE(c.net, c.ip)) AS actor,\n      \
                 MIN(c.time) OVER (PARTITION BY c.user_principal_name, COALESCE(c.net, c.ip)) AS found_first, {}\n    \
                 FROM pk_stop c JOIN pk_seen k ON k.rid = c.rid\n    \
                 WHERE k.has_earlier = 1 AND k.familiar = 0",
                sql::member_cols("c")
            ))
            .severity("'high'")
            .title(format!(
                "concat(f.user_principal_name, {}, {},\n    \
                 ', where the account does not sign in')",
                sql::lit("'s password was accepted from "),
                sql::source_text("substr(f.actor, length(f.user_principal_name) + 2)")
            ))
    }

    fn run(&self, ev: &Events, cfg: &DetectionConfig) -> Vec<Finding> {
        let c = &cfg.password_known;
        let recs = ev.records;
        let Some(start_us) = ev.start_us() else {
            return Vec::new();
        };
        let baseline_end = start_us + i64::from(c.min_baseline_hours) * HOUR_US;
        let stops = util::group_unsuccessful_by(ev, cfg, |r| {
            (is_stop(r, &c.codes)
                && (r.time_us >= baseline_end || ev.history_has(&r.user_principal_name)))
            .then_some(r.user_principal_name)
        });
        if stops.is_empty() {
            return Vec::new();
        }
        let users: Vec<Text> = stops.keys().copied().collect();
        let successes = util::group_of(ev, cfg, ev.by_user(), users, |r| {
            r.status == StatusClass::Success
        });
        let window = util::minutes(c.completion_window_minutes);
        let mut out = Vec::new();
        for (user, events) in &stops {
            let ok = successes
                .get(user.as_str())
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let known = ev.history_has(user);
            // Per place: the stops from it, and the account's successes
            // before the first of them (its baseline).
            let mut places: BTreeMap<String, Vec<usize>> = BTreeMap::new();
            for &i in events {
                let stop = &recs[i];
                let place = Place::of(stop);
                let has_earlier = known || ok.iter().any(|&s| recs[s].time_us < stop.time_us);
                let familiar = ev.history_knows(stop)
                    || ok
                        .iter()
                        .any(|&s| recs[s].time_us <= stop.time_us + window && place.same(&recs[s]));
                if has_earlier && !familiar {
                    places.entry(place.label()).or_default().push(i);
                }
            }
            for (label, hits) in places {
                let earlier = ok
                    .iter()
                    .filter(|&&s| recs[s].time_us < recs[hits[0]].time_us)
                    .count();
                let baseline_us = recs[hits[0]].time_us - start_us;
                let baseline = ev.baseline_text(user, baseline_us);
                out.push(util::finding(
                    ev,
                    draft(recs, user.as_str(), &label, hits, earlier, baseline_us)
                        .fact("baseline", baseline),
                ));
            }
        }
        out
    }
}

fn draft(
    recs: &[SignIn],
    user: &str,
    label: &str,
    hits: Vec<usize>,
    earlier_successes: usize,
    baseline_us: i64,
) -> Draft {
    let first = &recs[hits[0]];
    let codes: BTreeSet<i64> = hits.iter().map(|&i| recs[i].error_code).collect();
    let stops: Vec<String> = codes.iter().map(|&c| stopped_by(c)).collect();
    let asns: BTreeSet<String> = hits
        .iter()
        .filter_map(|&i| recs[i].asn.map(|a| format!("AS{a}")))
        .collect();
    let asns: Vec<String> = asns.into_iter().collect();
    let countries = util::distinct(recs, &hits, |r| r.country.as_str());
    let where_ = {
        let mut w = util::source_text(label).to_string();
        if !asns.is_empty() || !countries.is_empty() {
            let mut extra: Vec<String> = asns.clone();
            extra.extend(countries.iter().map(|c| c.to_string()));
            w = format!("{w} ({})", extra.join(", "));
        }
        w
    };
    let title = format!(
        "{user}'s password was accepted from {where_}, where the account does not sign in; stopped by {}",
        stops.join(" and ")
    );
    let remediation = vec![
        format!("Treat {user}'s password as known to someone else: reset it and revoke sessions, even though no sign-in from {} completed.", util::source_text(label)),
        format!("Check the MFA methods registered for {user} and any MFA prompts they did not start; tell them to deny prompts they did not ask for."),
        "Look for the same source trying other accounts (password spray and stuffing findings, the source's timeline).".to_string(),
    ];
    let d = Draft {
        events: hits.clone(),
        remediation,
        ..Draft::new(KIND, format!("{user}|{label}"), Severity::High, title)
    };
    d.fact("place", label)
        .fact("asns", util::json_list(&asns))
        .fact("countries", util::json_list(&countries))
        .fact(
            "devices",
            util::json_list(&util::distinct(recs, &hits, |r| r.device_id.as_str())),
        )
        .fact("stopped_by", util::json_list(&stops))
        .fact("first_stop", util::rfc3339(first.time_us))
        .fact("earlier_successes", earlier_successes)
        .fact("baseline_hours", baseline_us / HOUR_US)
        .fact(
            "apps",
            util::json_list(&util::distinct(recs, &hits, |r| r.app_name.as_str())),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::detect::util::testing::*;

    const DAY: i64 = 86_400;

    fn at(sec: i64, user: &str, ip: &str, code: i64, asn: i64, country: &str) -> SignIn {
        SignIn {
            asn: Some(asn),
            country: country.into(),
            ..signin(sec, user, ip, code)
        }
    }

    /// A week of office and home successes for two accounts.
    fn baseline() -> Vec<SignIn> {
        let mut v = Vec::new();
        for d in 0..5 {
            v.push(at(
                d * DAY,
                "alice@contoso.com",
                "192.0.2.10",
                0,
                7018,
                "US",
            ));
            v.push(at(
                d * DAY + 600,
                "bob@contoso.com",
                "192.0.2.11",
                0,
                7018,
                "US",
            ));
        }
        v
    }

    #[test]
    fn a_ca_block_and_an_mfa_stop_from_an_unfamiliar_place_fire() {
        let mut v = baseline();
        v.push(at(
            3 * DAY + 7200,
            "alice@contoso.com",
            "203.0.113.80",
            53003,
            14061,
            "NL",
        ));
        v.push(at(
            3 * DAY + 7300,
            "alice@contoso.com",
            "203.0.113.81",
            50074,
            14061,
            "NL",
        ));
        v.push(at(
            3 * DAY + 9000,
            "bob@contoso.com",
            "2001:db8:5:6::9",
            500121,
            24940,
            "DE",
        ));
        let recs = fixture(v);
        let f = run(&PasswordKnown, &recs, &DetectionConfig::default());
        assert_eq!(f.len(), 2, "{f:#?}");
        let a = f
            .iter()
            .find(|f| f.users == vec!["alice@contoso.com"])
            .unwrap();
        assert_eq!((a.severity, a.count), (Severity::High, 2));
        assert_eq!(fact(a, "place"), Some(&"203.0.113.0/24".into()));
        assert_eq!(fact(a, "earlier_successes"), Some(&4.into()));
        assert_eq!(fact(a, "baseline_hours"), Some(&(3 * 24 + 2).into()));
        let stops = fact(a, "stopped_by").unwrap().to_string();
        assert!(
            stops.contains("53003") && stops.contains("50074"),
            "{stops}"
        );
        let b = f
            .iter()
            .find(|f| f.users == vec!["bob@contoso.com"])
            .unwrap();
        assert_eq!(fact(b, "place"), Some(&"2001:db8:5:6::/64".into()));
        assert!(b.title.contains("AS24940"), "{}", b.title);
    }

    #[test]
    fn a_stop_without_an_address_still_reads_as_a_sentence() {
        let mut v = baseline();
        v.push(at(3 * DAY, "alice@contoso.com", "", 53003, 14061, "NL"));
        let f = run(&PasswordKnown, &fixture(v), &DetectionConfig::default());
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(fact(&f[0], "place"), Some(&"".into()));
        assert!(
            f[0].title.starts_with(
                "alice@contoso.com's password was accepted from an unknown address (AS14061, NL), "
            ),
            "{}",
            f[0].title
        );
        assert!(
            f[0].remediation[0].contains("no sign-in from an unknown address completed"),
            "{:?}",
            f[0].remediation
        );
    }

    #[test]
    fn office_egress_a_completed_mfa_and_a_known_device_stay_quiet() {
        let mut v = baseline();
        // The office /24, another address in it.
        v.push(at(
            3 * DAY,
            "alice@contoso.com",
            "192.0.2.99",
            53003,
            3356,
            "GB",
        ));
        // A new place, but the owner completes MFA there within the hour.
        v.push(at(
            3 * DAY + 100,
            "bob@contoso.com",
            "198.51.100.5",
            50074,
            7922,
            "US",
        ));
        v.push(at(
            3 * DAY + 160,
            "bob@contoso.com",
            "198.51.100.5",
            0,
            7922,
            "US",
        ));
        // A hotel network, but the account's own device.
        let mut hotel = at(
            4 * DAY,
            "alice@contoso.com",
            "203.0.113.90",
            50076,
            64_501,
            "FR",
        );
        hotel.device_id = "dev-1".into();
        v.push(hotel);
        let mut laptop = at(DAY, "alice@contoso.com", "192.0.2.10", 0, 7018, "US");
        laptop.device_id = "dev-1".into();
        v.push(laptop);
        // Too early to have a baseline.
        v.push(at(
            600,
            "alice@contoso.com",
            "203.0.113.91",
            53003,
            64_502,
            "BR",
        ));
        // A wrong password proves nothing.
        v.push(at(
            3 * DAY,
            "alice@contoso.com",
            "203.0.113.92",
            50126,
            64_503,
            "BR",
        ));
        let recs = fixture(v);
        let f = run(&PasswordKnown, &recs, &DetectionConfig::default());
        assert!(f.is_empty(), "{f:#?}");
    }
}
