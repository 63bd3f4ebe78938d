//! A device-code sign-in that succeeded from a place the account does not
//! sign in from: someone else entered the code the victim was sent.
//!
//! What it finds, why it matters, tuning and false positives:
//! `docs/device_code_phishing.md` (the registry in `mod.rs` serves it).

use std::collections::BTreeMap;

use super::place::Place;
use super::registry::Settings;
use super::sql::{self, Query};
use super::util::{self, Draft, HOUR_US};
use super::{Detection, DetectionConfig, Events};
use crate::analyze::coverage::Need;
use crate::model::{Finding, Severity, SignIn, StatusClass, Text};
use serde::{Deserialize, Serialize};

pub struct DeviceCodePhishing;

const KIND: &str = "device_code_phishing";

/// Microsoft Authentication Broker: the client Storm-2372 moved its
/// device-code lures to in 2025, because its tokens can register a device
/// and obtain a primary refresh token.
pub(crate) const BROKER_APP_ID: &str = "29d9ed98-a469-4536-ade2-f981bc1d605e";
/// Device Registration Service, the resource a new device is joined with.
pub(crate) const DRS_APP_ID: &str = "01cb2876-7ebd-4aa4-9cc9-d28bd4d359a9";

/// The `[device_code_phishing]` table of the settings file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceCodePhishingConfig {
    pub enabled: bool,
    /// Hours of data before a sign-in that count as the baseline; an
    /// earlier device-code sign-in cannot be judged.
    pub min_baseline_hours: u32,
    /// How long after the device-code sign-in a device registration or a
    /// primary refresh token from the same place counts as its sequel.
    pub follow_up_minutes: u32,
}

impl Default for DeviceCodePhishingConfig {
    fn default() -> Self {
        DeviceCodePhishingConfig {
            enabled: true,
            min_baseline_hours: 24,
            follow_up_minutes: 120,
        }
    }
}

impl Settings for DeviceCodePhishingConfig {
    const UNSET: &'static [(&'static str, &'static str)] =
        &[("min_baseline_hours", "no baseline needed")];
}

/// A sign-in by the device-code flow, as the protocol or the transfer
/// method says.
pub(crate) fn is_device_code(r: &SignIn) -> bool {
    r.auth_protocol == "deviceCode" || r.transfer_method == "deviceCodeFlow"
}

/// A sign-in to the Device Registration Service: a device joined or
/// registered with the account's token.
fn is_registration(r: &SignIn) -> bool {
    r.app_id.eq_ignore_ascii_case(DRS_APP_ID)
        || r.resource
            .eq_ignore_ascii_case("Device Registration Service")
}

/// A sign-in that registers a device or carries a primary refresh token:
/// what turns one stolen token into a lasting foothold.
fn is_persistence(r: &SignIn) -> bool {
    is_registration(r) || r.incoming_token == "primaryRefreshToken"
}

impl Detection for DeviceCodePhishing {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn title(&self) -> &'static str {
        "Device-code sign-in from a place the account does not use"
    }

    fn techniques(&self) -> &'static [&'static str] {
        &["T1528", "T1566.002", "T1078.004"]
    }

    fn needs(&self) -> &'static [Need] {
        &[Need::AuthProtocol]
    }

    fn sql(&self, cfg: &DetectionConfig) -> Query {
        let c = &cfg.device_code_phishing;
        let order = format!("ORDER BY {}, source_file, source_record", sql::ORDER);
        let id = sql::sign_in_id;
        let same_id: Vec<String> = id("c")
            .iter()
            .zip(id("j"))
            .map(|(a, b)| format!("{a} = {b}"))
            .collect();
        let registration = format!(
            "({} = {} OR {} = 'device registration service')",
            sql::ascii_lower("o.app_id"),
            sql::lit(DRS_APP_ID),
            sql::ascii_lower("o.resource")
        );
        // `run` in sets: a device-code success past the baseline is judged
        // against the account's successes before it (any, and one from
        // the same place), which a join says without a walk; hits group by
        // the place's label, and the sequel is judged against the first.
        Query::new()
            .note(sql::NO_HISTORY)
            .note("the title lists at most three countries and counts the rest; facts leave out the countries, ASNs and apps")
            .cte(
                "dc_ok",
                format!(
                    "SELECT {}, asn, device_id, resource, incoming_token_type,\n    \
                     authentication_protocol, original_transfer_method, {} AS net\n  \
                     FROM ev WHERE status = 'success' AND user_principal_name <> ''",
                    sql::member_cols_bare(),
                    sql::network_of("ip")
                ),
            )
            .cte(
                "dc_code",
                format!(
                    "SELECT * FROM dc_ok\n  \
                     WHERE (authentication_protocol = 'deviceCode' OR original_transfer_method = 'deviceCodeFlow')\n    \
                     AND {}",
                    sql::after_baseline("time", c.min_baseline_hours)
                ),
            )
            .cte(
                // Only a code sign-in with an earlier success has a row.
                "dc_judged",
                format!(
                    "SELECT {}, MAX(CASE WHEN {} THEN 1 ELSE 0 END) AS familiar\n  \
                     FROM dc_code c JOIN dc_ok o\n    \
                     ON o.user_principal_name = c.user_principal_name AND o.time < c.time\n  \
                     GROUP BY {}",
                    id("c").join(", "),
                    sql::same_place("c", "o", "net"),
                    id("c").join(", ")
                ),
            )
            .cte(
                "dc_hit",
                format!(
                    "SELECT c.*, COALESCE(c.net, c.ip) AS label,\n    \
                     concat(c.user_principal_name, '|', COALESCE(c.net, c.ip)) AS actor\n  \
                     FROM dc_code c JOIN dc_judged j ON {}\n  \
                     WHERE j.familiar = 0",
                    same_id.join(" AND ")
                ),
            )
            .per_actor(KIND, "dc_hit", Some("MIN(user_principal_name)"), None)
            .member_cte(
                "dc_first",
                format!(
                    "SELECT * FROM (\n    \
                     SELECT h.*, ROW_NUMBER() OVER (PARTITION BY actor {order}) AS nth FROM dc_hit h\n  \
                     ) p WHERE nth = 1"
                ),
            )
            .member_cte(
                // Device registrations and primary refresh tokens from the
                // first hit's place, from its time to the follow-up's end.
                "dc_next",
                format!(
                    "SELECT f.actor, f.first_seen AS found_first, {}, o.resource, o.incoming_token_type,\n    \
                     CASE WHEN {registration} THEN 1 ELSE 0 END AS registered\n  \
                     FROM found f JOIN dc_first p ON p.actor = f.actor\n  \
                     JOIN dc_ok o ON o.user_principal_name = f.user_principal_name\n    \
                     AND o.time >= f.first_seen AND o.time <= f.last_seen + {}\n  \
                     WHERE ({registration} OR o.incoming_token_type = 'primaryRefreshToken')\n    \
                     AND {}",
                    sql::member_cols("o"),
                    sql::minutes(c.follow_up_minutes),
                    sql::same_place("p", "o", "net")
                ),
            )
            .highlights(format!(
                "SELECT actor, found_first, {} FROM dc_next",
                sql::member_cols_bare()
            ))
            .member_cte(
                "dc_head",
                format!(
                    "SELECT actor, MIN(label) AS label,\n    \
                     MAX(CASE WHEN {} = {} THEN 1 ELSE 0 END) AS broker\n  \
                     FROM dc_hit GROUP BY actor",
                    sql::ascii_lower("app_id"),
                    sql::lit(BROKER_APP_ID)
                ),
            )
            .member_cte(
                "dc_earlier",
                "SELECT f.actor, COUNT(*) AS earlier\n  \
                 FROM found f JOIN dc_ok o ON o.user_principal_name = f.user_principal_name AND o.time < f.first_seen\n  \
                 GROUP BY f.actor",
            )
            .member_cte(
                "dc_sequel",
                "SELECT actor, MAX(registered) AS registered,\n    \
                 MAX(CASE WHEN incoming_token_type = 'primaryRefreshToken' THEN 1 ELSE 0 END) AS prt\n  \
                 FROM dc_next GROUP BY actor",
            )
            .member_cte("dc_countries", sql::first_three("dc_hit", "country"))
            .member_cte("dc_start", sql::RUN_START)
            .join("JOIN dc_head h ON h.actor = f.actor")
            .join("JOIN dc_earlier e ON e.actor = f.actor")
            .join("LEFT JOIN dc_sequel s ON s.actor = f.actor")
            .join("LEFT JOIN dc_countries c ON c.actor = f.actor")
            .join("CROSS JOIN dc_start x")
            .severity("CASE WHEN h.broker = 1 OR a.n_highlights > 0 THEN 'critical' ELSE 'high' END")
            .title(format!(
                "concat(f.user_principal_name, ' completed a device-code sign-in from ', {},\n    \
                 CASE WHEN c.n IS NULL THEN '' ELSE concat(' (', {}, ')') END,\n    \
                 ', where the account does not sign in',\n    \
                 CASE WHEN h.broker = 1 THEN ', to the Microsoft Authentication Broker' ELSE '' END,\n    \
                 CASE WHEN s.registered = 1 THEN '; a device was registered from there next'\n      \
                 WHEN s.prt = 1 THEN '; a primary refresh token was used from there next' ELSE '' END)",
                sql::source_text("h.label"),
                sql::three_text("c")
            ))
            .fact("place", sql::json_str("h.label"))
            .fact("broker", sql::json_bool("h.broker = 1"))
            .fact("device_registered", sql::json_bool("s.registered = 1"))
            .fact("primary_refresh_token", sql::json_bool("s.prt = 1"))
            .fact("earlier_successes", sql::json_num("e.earlier"))
            .baseline_facts("x.start", "f.first_seen")
    }

    fn run(&self, ev: &Events, cfg: &DetectionConfig) -> Vec<Finding> {
        let c = &cfg.device_code_phishing;
        let recs = ev.records;
        let Some(start_us) = ev.start_us() else {
            return Vec::new();
        };
        let baseline_end = start_us + i64::from(c.min_baseline_hours) * HOUR_US;
        let codes = util::group_by(ev, cfg, |r| {
            (is_device_code(r)
                && r.status == StatusClass::Success
                && !r.user_principal_name.is_empty()
                && (r.time_us >= baseline_end || ev.history_has(&r.user_principal_name)))
            .then_some(r.user_principal_name)
        });
        if codes.is_empty() {
            return Vec::new();
        }
        let users: Vec<Text> = codes.keys().copied().collect();
        let successes = util::group_of(ev, cfg, ev.by_user(), users, |r| {
            r.status == StatusClass::Success
        });
        let follow = util::minutes(c.follow_up_minutes);
        let mut out = Vec::new();
        for (user, events) in &codes {
            let ok = successes
                .get(user.as_str())
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let mut places: BTreeMap<String, Vec<usize>> = BTreeMap::new();
            for &i in events {
                let r = &recs[i];
                let place = Place::of(r);
                // Familiar: an earlier success of the account from the
                // same address, network, ASN and country, or device. A
                // meeting-room account that uses device code from the
                // office every day is familiar with the office.
                let earlier: Vec<usize> = ok
                    .iter()
                    .copied()
                    .filter(|&s| recs[s].time_us < r.time_us)
                    .collect();
                let known = ev.history_has(user);
                if (earlier.is_empty() && !known)
                    || ev.history_knows(r)
                    || earlier.iter().any(|&s| place.same(&recs[s]))
                {
                    continue;
                }
                places.entry(place.label()).or_default().push(i);
            }
            for (label, hits) in places {
                let first = &recs[hits[0]];
                let place = Place::of(first);
                let last_t = recs[*hits.last().unwrap_or(&hits[0])].time_us;
                let sequel: Vec<usize> = ok
                    .iter()
                    .copied()
                    .filter(|&s| {
                        let r = &recs[s];
                        r.time_us >= first.time_us
                            && r.time_us <= last_t + follow
                            && is_persistence(r)
                            && place.same(r)
                    })
                    .collect();
                let earlier = ok
                    .iter()
                    .filter(|&&s| recs[s].time_us < first.time_us)
                    .count();
                let d = Found {
                    user: user.as_str(),
                    label: &label,
                    hits,
                    sequel,
                    earlier,
                    baseline_us: first.time_us - start_us,
                };
                let baseline = ev.baseline_text(user, d.baseline_us);
                out.push(util::finding(ev, d.draft(recs).fact("baseline", baseline)));
            }
        }
        out
    }
}

struct Found<'a> {
    user: &'a str,
    label: &'a str,
    hits: Vec<usize>,
    /// Device registrations and primary-refresh-token sign-ins after it.
    sequel: Vec<usize>,
    earlier: usize,
    baseline_us: i64,
}

impl Found<'_> {
    fn draft(self, recs: &[SignIn]) -> Draft {
        let (user, label) = (self.user, self.label);
        let shown = util::source_text(label);
        let broker = self
            .hits
            .iter()
            .any(|&i| recs[i].app_id.eq_ignore_ascii_case(BROKER_APP_ID));
        let registered = self.sequel.iter().any(|&i| is_registration(&recs[i]));
        let prt = self
            .sequel
            .iter()
            .any(|&i| recs[i].incoming_token == "primaryRefreshToken");
        let severity = if broker || !self.sequel.is_empty() {
            Severity::Critical
        } else {
            Severity::High
        };
        let apps = util::distinct(recs, &self.hits, |r| r.app_name.as_str());
        let countries = util::distinct(recs, &self.hits, |r| r.country.as_str());
        let mut title = format!(
            "{user} completed a device-code sign-in from {shown}{}, where the account does not sign in",
            if countries.is_empty() {
                String::new()
            } else {
                format!(" ({})", countries.join(", "))
            }
        );
        if broker {
            title.push_str(", to the Microsoft Authentication Broker");
        }
        match (registered, prt) {
            (true, _) => title.push_str("; a device was registered from there next"),
            (false, true) => title.push_str("; a primary refresh token was used from there next"),
            _ => {}
        }
        let mut remediation = vec![
            format!("Revoke {user}'s sessions and refresh tokens now (Revoke-MgUserSignInSession), then ask them whether they entered a code on microsoft.com/devicelogin for someone."),
            "Block the device-code flow for everyone who does not need it with a Conditional Access authentication-flows policy.".to_string(),
        ];
        if registered || prt {
            remediation.push(format!("Find and delete the device registered for {user} from {shown} (Entra ID > Devices); a primary refresh token survives a password reset until the device is removed."));
        }
        remediation.push(format!("Review what {user}'s tokens reached after the sign-in: mail access, files, new inbox rules and MFA methods."));
        let events = self.hits.clone();
        let mut d = Draft {
            events,
            highlights: self.sequel.clone(),
            remediation,
            ..Draft::new(KIND, format!("{user}|{label}"), severity, title)
        };
        d = d
            .fact("place", label)
            .fact("countries", util::json_list(&countries))
            .fact(
                "asns",
                util::json_list(
                    &self
                        .hits
                        .iter()
                        .filter_map(|&i| recs[i].asn.map(|a| format!("AS{a}")))
                        .collect::<std::collections::BTreeSet<_>>()
                        .into_iter()
                        .collect::<Vec<_>>(),
                ),
            )
            .fact("apps", util::json_list(&apps))
            .fact("broker", broker)
            .fact("device_registered", registered)
            .fact("primary_refresh_token", prt)
            .fact("earlier_successes", self.earlier)
            .fact("baseline_hours", self.baseline_us / HOUR_US);
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::detect::util::testing::*;

    const DAY: i64 = 86_400;

    fn at(sec: i64, user: &str, ip: &str, asn: i64, country: &str) -> SignIn {
        SignIn {
            asn: Some(asn),
            country: country.into(),
            ..signin(sec, user, ip, 0)
        }
    }

    fn device_code(mut s: SignIn, app_id: &str) -> SignIn {
        s.auth_protocol = "deviceCode".into();
        s.app_id = app_id.into();
        s
    }

    fn week_at_the_office(user: &str, ip: &str) -> Vec<SignIn> {
        (0..5).map(|d| at(d * DAY, user, ip, 7018, "US")).collect()
    }

    #[test]
    fn a_broker_code_from_abroad_then_a_device_registration_is_critical() {
        let mut v = week_at_the_office("alice@contoso.com", "192.0.2.10");
        v.push(device_code(
            at(
                3 * DAY + 3600,
                "alice@contoso.com",
                "203.0.113.7",
                9009,
                "NL",
            ),
            BROKER_APP_ID,
        ));
        let mut reg = at(
            3 * DAY + 3900,
            "alice@contoso.com",
            "203.0.113.7",
            9009,
            "NL",
        );
        reg.resource = "Device Registration Service".into();
        v.push(reg);
        let recs = fixture(v);
        let f = run(&DeviceCodePhishing, &recs, &DetectionConfig::default());
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Critical);
        assert_eq!(f[0].users, vec!["alice@contoso.com"]);
        assert_eq!(fact(&f[0], "device_registered"), Some(&true.into()));
        assert_eq!(fact(&f[0], "broker"), Some(&true.into()));
        assert!(
            f[0].title.contains("Authentication Broker"),
            "{}",
            f[0].title
        );
    }

    #[test]
    fn a_plain_code_from_a_new_place_is_high() {
        let mut v = week_at_the_office("bob@contoso.com", "192.0.2.11");
        let mut s = at(2 * DAY + 60, "bob@contoso.com", "198.51.100.9", 3320, "DE");
        s.transfer_method = "deviceCodeFlow".into();
        v.push(s);
        let recs = fixture(v);
        let f = run(&DeviceCodePhishing, &recs, &DetectionConfig::default());
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::High);
        assert_eq!(fact(&f[0], "place"), Some(&"198.51.100.0/24".into()));
    }

    #[test]
    fn a_meeting_room_using_device_code_at_the_office_stays_quiet() {
        let room = "room-4a@contoso.com";
        let v: Vec<SignIn> = (0..6)
            .map(|d| device_code(at(d * DAY, room, "192.0.2.20", 7018, "US"), BROKER_APP_ID))
            .collect();
        let recs = fixture(v);
        assert!(run(&DeviceCodePhishing, &recs, &DetectionConfig::default()).is_empty());
    }

    #[test]
    fn failures_the_baseline_and_an_account_never_seen_before_stay_quiet() {
        let mut v = week_at_the_office("carol@contoso.com", "192.0.2.12");
        // Inside the first day: no baseline yet.
        v.push(device_code(
            at(3600, "carol@contoso.com", "203.0.113.50", 9009, "NL"),
            "",
        ));
        // Failed device-code attempt.
        let mut failed = device_code(
            at(2 * DAY, "carol@contoso.com", "203.0.113.51", 9009, "NL"),
            "",
        );
        failed.error_code = 50126;
        failed.status = StatusClass::Failure;
        v.push(failed);
        // An account with no earlier success at all.
        v.push(device_code(
            at(3 * DAY, "new@contoso.com", "203.0.113.52", 9009, "NL"),
            "",
        ));
        let recs = fixture(v);
        assert!(run(&DeviceCodePhishing, &recs, &DetectionConfig::default()).is_empty());
    }
}
