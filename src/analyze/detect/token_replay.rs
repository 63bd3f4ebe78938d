//! One sign-in session (or one token) used from a second network: the
//! mark of a stolen session cookie or refresh token replayed by an
//! adversary-in-the-middle kit.
//!
//! What it finds, why it matters, tuning and false positives:
//! `docs/token_replay.md` (the registry in `mod.rs` serves it).

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::place::{network_key as network, NetworkKey, NetworkKeys, Place};
use super::registry::Settings;
use super::sql::{self, Query};
use super::util::{self, Draft, Fast, HOUR_US};
use super::{Detection, DetectionConfig, Events};
use crate::analyze::coverage::Need;
use crate::model::{Finding, Id, Severity, SignIn, SignInType, StatusClass, Text};
use serde::{Deserialize, Serialize};

pub struct TokenReplay;

const KIND: &str = "token_replay";

/// The `[token_replay]` table of the settings file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenReplayConfig {
    pub enabled: bool,
    /// How long after a session's first sign-in a use still counts as the
    /// same session (a browser session cookie lives about a day; a
    /// refresh token up to 90 days, so raise this for long exports).
    pub max_session_hours: u32,
    /// A second network this soon after the first sign-in is the
    /// adversary-in-the-middle pattern, and raises the severity.
    pub quick_minutes: u32,
    /// Hours of data before a use that count as the account's baseline:
    /// earlier uses cannot be called new.
    pub min_baseline_hours: u32,
}

impl Default for TokenReplayConfig {
    fn default() -> Self {
        TokenReplayConfig {
            enabled: true,
            max_session_hours: 24,
            quick_minutes: 60,
            min_baseline_hours: 24,
        }
    }
}

impl Settings for TokenReplayConfig {
    const UNSET: &'static [(&'static str, &'static str)] =
        &[("min_baseline_hours", "no baseline needed")];
}

/// The session a success belongs to: its session id, else the token it
/// used.
fn session_key(r: &SignIn) -> Option<Id> {
    if !r.session_id.is_empty() {
        Some(Id::from(r.session_id.as_str()))
    } else if !r.token_id.is_empty() {
        Some(r.token_id)
    } else {
        None
    }
}

impl Detection for TokenReplay {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn title(&self) -> &'static str {
        "One session used from a second network"
    }

    fn techniques(&self) -> &'static [&'static str] {
        &["T1550.001", "T1539", "T1078.004"]
    }

    fn needs(&self) -> &'static [Need] {
        &[Need::Session]
    }

    fn sql(&self, cfg: &DetectionConfig) -> Query {
        let c = &cfg.token_replay;
        let order = format!("ORDER BY {}, source_file, source_record", sql::ORDER);
        let session = "user_principal_name, skey";
        // The walk in `run`, said with window functions. Within a session's
        // lifetime every use adds its network's keys (ASN, /24 or /64) to
        // the session's, so a use is judged only if it is the first of
        // each of its keys there; it is foreign when it comes after the
        // baseline, on no device the session used before, from no place
        // the account used outside the session before, and (when neither
        // it nor an earlier use of the session names a device) from
        // another country or client than the session's first sign-in;
        // and every use sharing a key with a foreign one counts.
        Query::new()
            .note(sql::NO_HISTORY)
            .note("a device seen in the session only on later uses from a network already judged foreign counts as the session's device; analyze does not learn devices from those uses")
            .note("the title lists at most three networks and three countries and counts the rest; facts leave out the networks, countries and user agents")
            .cte(
                "tr_use",
                format!(
                    "SELECT {}, asn, device_id, os, browser, user_agent,\n    \
                     COALESCE(NULLIF(session_id, ''), NULLIF(unique_token_identifier, '')) AS skey,\n    \
                     {} AS net,\n    \
                     {} AS ipnet\n  \
                     FROM ev WHERE status = 'success' AND user_principal_name <> ''",
                    sql::member_cols_bare(),
                    sql::network_key("asn", "ip"),
                    sql::network_of("ip")
                ),
            )
            .cte(
                "tr_s",
                format!(
                    "SELECT u.*, ROW_NUMBER() OVER (PARTITION BY {session} {order}) AS rn\n  \
                     FROM tr_use u WHERE skey IS NOT NULL"
                ),
            )
            .cte(
                // A session whose first use has no network says nothing.
                "tr_anchor",
                "SELECT user_principal_name, skey, time AS a_time, ip AS a_ip, net AS a_net,\n    \
                 country AS a_country, os AS a_os, browser AS a_browser, user_agent AS a_ua\n  \
                 FROM tr_s WHERE rn = 1 AND net IS NOT NULL",
            )
            .cte(
                "tr_valid",
                format!(
                    "SELECT v.*,\n    \
                     MIN(rn) OVER (PARTITION BY {session}, asn) AS asn_first,\n    \
                     MIN(rn) OVER (PARTITION BY {session}, ipnet) AS ipnet_first,\n    \
                     MIN(CASE WHEN device_id <> '' THEN rn END) OVER (PARTITION BY {session}, device_id) AS device_first,\n    \
                     MIN(CASE WHEN device_id <> '' THEN rn END) OVER (PARTITION BY {session}) AS any_device_first\n  \
                     FROM (\n    \
                     SELECT s.*, a.a_time, a.a_ip, a.a_net, a.a_country, a.a_os, a.a_browser, a.a_ua\n    \
                     FROM tr_s s JOIN tr_anchor a ON a.user_principal_name = s.user_principal_name AND a.skey = s.skey\n    \
                     WHERE s.net IS NOT NULL AND s.time <= a.a_time + {}\n  \
                     ) v",
                    sql::minutes(c.max_session_hours * 60)
                ),
            )
            .cte(
                "tr_cand",
                format!(
                    "SELECT * FROM tr_valid\n  \
                     WHERE (asn IS NULL OR rn = asn_first) AND (ipnet IS NULL OR rn = ipnet_first)\n    \
                     AND rn > 1 AND NOT (device_id <> '' AND device_first < rn)\n    \
                     AND NOT (device_id = '' AND (any_device_first IS NULL OR any_device_first > rn)\n      \
                     AND NOT ({OTHER_COUNTRY} OR {OTHER_CLIENT}))\n    \
                     AND {}",
                    sql::after_baseline("time", c.min_baseline_hours)
                ),
            )
            .cte(
                "tr_familiar",
                format!(
                    "SELECT c.user_principal_name, c.skey, c.rn\n  \
                     FROM tr_cand c JOIN tr_use o\n    \
                     ON o.user_principal_name = c.user_principal_name AND o.time < c.time\n    \
                     AND (o.skey IS NULL OR o.skey <> c.skey)\n  \
                     WHERE {}\n  \
                     GROUP BY c.user_principal_name, c.skey, c.rn",
                    sql::same_place("c", "o", "ipnet")
                ),
            )
            .cte(
                "tr_foreign",
                "SELECT c.user_principal_name, c.skey, c.asn, c.ipnet\n  \
                 FROM tr_cand c LEFT JOIN tr_familiar k\n    \
                 ON k.user_principal_name = c.user_principal_name AND k.skey = c.skey AND k.rn = c.rn\n  \
                 WHERE k.rn IS NULL",
            )
            .cte(
                // A use shares a foreign network when it shares its ASN or
                // its /24 or /64 (`NetworkKeys::all`).
                "tr_replay",
                "SELECT v.*, concat(v.user_principal_name, '|', v.skey) AS actor\n  \
                 FROM tr_valid v\n  \
                 WHERE EXISTS (SELECT 1 FROM tr_foreign c\n    \
                 WHERE c.user_principal_name = v.user_principal_name AND c.skey = v.skey\n      \
                 AND ((c.asn IS NOT NULL AND c.asn = v.asn) OR (c.ipnet IS NOT NULL AND c.ipnet = v.ipnet)))",
            )
            .per_actor(
                KIND,
                "tr_replay",
                Some("MIN(user_principal_name)"),
                Some("MIN(ip)"),
            )
            .member_cte(
                "tr_head",
                format!(
                "SELECT actor, MIN(skey) AS skey, MIN(a_time) AS a_time, MIN(a_ip) AS a_ip, MIN(a_net) AS a_net,\n    \
                 MIN(a_country) AS a_country, MIN(a_ua) AS a_ua,\n    \
                 MAX(CASE WHEN {OTHER_COUNTRY} THEN 1 ELSE 0 END) AS country_changed,\n    \
                 MAX(CASE WHEN {OTHER_CLIENT} THEN 1 ELSE 0 END) AS client_changed,\n    \
                 SUM(CASE WHEN sign_in_type = 'non_interactive' THEN 1 ELSE 0 END) AS non_interactive\n  \
                 FROM tr_replay GROUP BY actor"),
            )
            .member_cte("tr_ips", sql::first_three("tr_replay", "ip"))
            .member_cte("tr_nets", sql::first_three("tr_replay", "net"))
            .member_cte("tr_countries", sql::first_three("tr_replay", "country"))
            .member_cte("tr_start", sql::RUN_START)
            .join("JOIN tr_head h ON h.actor = f.actor")
            .join("LEFT JOIN tr_ips i ON i.actor = f.actor")
            .join("JOIN tr_nets n ON n.actor = f.actor")
            .join("LEFT JOIN tr_countries c ON c.actor = f.actor")
            .join("CROSS JOIN tr_start x")
            .severity(format!(
                "CASE WHEN h.country_changed = 1 OR h.client_changed = 1 OR f.first_seen <= h.a_time + {} THEN 'high' ELSE 'medium' END",
                sql::minutes(c.quick_minutes)
            ))
            .title(format!(
                "concat(f.user_principal_name, {}, {}, ' (', h.a_net,\n    \
                 CASE WHEN h.a_country = '' THEN '' ELSE concat(', ', h.a_country) END, ') was used ', {},\n    \
                 ' later from ', CASE WHEN i.n IS NULL THEN {} ELSE {} END,\n    \
                 ' (', concat_ws(', ', {}, CASE WHEN c.n IS NULL THEN NULL ELSE {} END), ')',\n    \
                 CASE WHEN h.client_changed = 1 THEN ' by another client' ELSE '' END)",
                sql::lit("'s session from "),
                sql::source_text("h.a_ip"),
                sql::span_text(&sql::seconds_between("h.a_time", "f.first_seen")),
                sql::lit(util::UNKNOWN_ADDRESS),
                sql::three_or_count("i", "addresses"),
                sql::three_text("n"),
                sql::three_text("c")
            ))
            .fact("session", sql::json_str("h.skey"))
            .fact("first_ip", sql::json_str("h.a_ip"))
            .fact("first_network", sql::json_str("h.a_net"))
            .fact("first_country", sql::json_str("h.a_country"))
            .fact("first_user_agent", sql::json_str("h.a_ua"))
            .fact("first_sign_in", sql::json_str(&sql::rfc3339("h.a_time")))
            .fact(
                "minutes_after_first",
                sql::json_num(&sql::whole_minutes("h.a_time", "f.first_seen")),
            )
            .fact("non_interactive_uses", sql::json_num("h.non_interactive"))
            .fact("country_changed", sql::json_bool("h.country_changed = 1"))
            .fact("client_changed", sql::json_bool("h.client_changed = 1"))
            .baseline_facts("x.start", "h.a_time")
    }

    fn run(&self, ev: &Events, cfg: &DetectionConfig) -> Vec<Finding> {
        let c = &cfg.token_replay;
        let recs = ev.records;
        let order = ev.in_time_order();
        let Some(start_us) = order.first().map(|&i| recs[i].time_us) else {
            return Vec::new();
        };
        let baseline_end = start_us + i64::from(c.min_baseline_hours) * HOUR_US;
        let lifetime = i64::from(c.max_session_hours) * HOUR_US;
        let quick = util::minutes(c.quick_minutes);
        // One walk over the run in time order. Following each session
        // through a group of record indexes cost a cache miss per use;
        // walking the records in order reads memory in order, and keeps
        // per session only what a later use is judged by.
        let mut sessions: HashMap<(Text, Id), Session, Fast> = HashMap::default();
        let by_user = ev.by_user();
        let mut nets = NetworkKeys::default();
        for i in order {
            let r = &recs[i];
            if r.status != StatusClass::Success
                || r.user_principal_name.is_empty()
                || !util::visible(cfg, r)
            {
                continue;
            }
            let user = r.user_principal_name;
            let Some(key) = session_key(r) else {
                continue;
            };
            let s = match sessions.entry((user, key)) {
                Entry::Vacant(v) => {
                    v.insert(Session::start(i, r, &mut nets));
                    continue;
                }
                Entry::Occupied(o) => o.into_mut(),
            };
            if s.over {
                continue;
            }
            let anchor = &recs[s.anchor];
            if r.time_us > anchor.time_us + lifetime {
                s.over = true;
                continue;
            }
            // Most uses come from the network of the session's last use:
            // they are judged as that use was, without the sets.
            if let Some(last) = s.last.filter(|l| l.ip == r.ip && l.asn == r.asn) {
                if last.replay {
                    s.replays.push(i);
                } else if !r.device_id.is_empty() {
                    s.seen_devices.insert(r.device_id);
                }
                continue;
            }
            let mut keys = nets.all(r).peekable();
            if keys.peek().is_none() {
                continue;
            }
            let judged = |replay: bool| {
                Some(LastUse {
                    ip: r.ip,
                    asn: r.asn,
                    replay,
                })
            };
            if keys.clone().any(|k| s.foreign.contains(&k)) {
                s.seen_nets.extend(keys);
                s.replays.push(i);
                s.last = judged(true);
                continue;
            }
            let new_net = !keys.clone().any(|k| s.seen_nets.contains(&k));
            let own_device = !r.device_id.is_empty() && s.seen_devices.contains(&r.device_id);
            // Neither this use nor the session so far names a device (an
            // unregistered phone or laptop): a new network alone is the
            // owner changing networks as often as a replay. Only another
            // country or another client than the session's first sign-in
            // tells them apart.
            let no_device = r.device_id.is_empty() && s.seen_devices.is_empty();
            s.seen_nets.extend(keys.clone());
            if !r.device_id.is_empty() {
                s.seen_devices.insert(r.device_id);
            }
            if !new_net
                || own_device
                || (no_device && !other_country(anchor, r) && !other_client(anchor, r))
                || (r.time_us < baseline_end && !ev.history_has(&user))
                || ev.history_knows(r)
            {
                s.last = judged(false);
                continue;
            }
            // A network the account itself used before, outside this
            // session, is the owner moving (home, office, phone).
            let place = Place::of(r);
            let familiar = by_user
                .get(&user)
                .into_iter()
                .flatten()
                .map(|&o| &recs[o])
                .filter(|o| o.status == StatusClass::Success && util::visible(cfg, o))
                .take_while(|o| o.time_us < r.time_us)
                .any(|o| session_key(o) != Some(key) && place.same(o));
            if !familiar {
                s.foreign.extend(keys);
                s.replays.push(i);
            }
            s.last = judged(!familiar);
        }
        // Findings in (account, session) order, as the report lists them.
        let replayed: BTreeMap<(Text, Id), Session> = sessions
            .into_iter()
            .filter(|(_, s)| !s.replays.is_empty())
            .collect();
        let mut out = Vec::new();
        for ((user, key), s) in replayed {
            let anchor = &recs[s.anchor];
            let d = Replay {
                user: user.as_str(),
                key: key.as_str(),
                anchor: s.anchor,
                replays: s.replays,
                quick,
                baseline_us: anchor.time_us - start_us,
            };
            let baseline = ev.baseline_text(&user, d.baseline_us);
            out.push(util::finding(ev, d.draft(recs).fact("baseline", baseline)));
        }
        out
    }
}

/// One session as the walk has seen it so far.
struct Session {
    /// Its first sign-in: the session's own network and device.
    anchor: usize,
    /// Past its lifetime, or its first sign-in had no network to compare:
    /// later uses say nothing.
    over: bool,
    /// Every key ([`NetworkKeys::all`]) of the networks used so far.
    seen_nets: HashSet<NetworkKey, Fast>,
    seen_devices: HashSet<Text, Fast>,
    /// Keys of the networks already judged foreign: later uses sharing
    /// one count too.
    foreign: HashSet<NetworkKey, Fast>,
    replays: Vec<usize>,
    /// The address and ASN of the last use judged, and whether it was a
    /// replay: a later use from the same address and ASN has the same
    /// network keys, so it is judged the same way (a replay's keys are
    /// foreign by then; another use's are seen and not foreign).
    last: Option<LastUse>,
}

#[derive(Clone, Copy)]
struct LastUse {
    ip: Text,
    asn: Option<i64>,
    replay: bool,
}

impl Session {
    fn start(i: usize, anchor: &SignIn, nets: &mut NetworkKeys) -> Self {
        let seen_nets: HashSet<NetworkKey, Fast> = nets.all(anchor).collect();
        let mut seen_devices = HashSet::default();
        if !anchor.device_id.is_empty() {
            seen_devices.insert(anchor.device_id);
        }
        let last = (!seen_nets.is_empty()).then_some(LastUse {
            ip: anchor.ip,
            asn: anchor.asn,
            replay: false,
        });
        Session {
            anchor: i,
            over: seen_nets.is_empty(),
            last,
            seen_nets,
            seen_devices,
            foreign: HashSet::default(),
            replays: Vec::new(),
        }
    }
}

/// [`other_country`] and [`other_client`] in SQL, of a use's columns
/// against its session's first sign-in's (`a_`).
const OTHER_COUNTRY: &str = "(country <> '' AND a_country <> '' AND country <> a_country)";
const OTHER_CLIENT: &str = "((os <> '' AND a_os <> '' AND os <> a_os) OR (browser <> '' AND a_browser <> '' AND browser <> a_browser))";

/// A field the log left empty on either side says nothing.
fn differs(x: &str, y: &str) -> bool {
    !x.is_empty() && !y.is_empty() && x != y
}

/// `r` is in another country than the session's first sign-in `a`.
fn other_country(a: &SignIn, r: &SignIn) -> bool {
    differs(&a.country, &r.country)
}

/// `r` came from another operating system or browser than `a`.
fn other_client(a: &SignIn, r: &SignIn) -> bool {
    differs(&a.os, &r.os) || differs(&a.browser, &r.browser)
}

struct Replay<'a> {
    user: &'a str,
    key: &'a str,
    anchor: usize,
    replays: Vec<usize>,
    quick: i64,
    baseline_us: i64,
}

impl Replay<'_> {
    fn draft(self, recs: &[SignIn]) -> Draft {
        let a = &recs[self.anchor];
        let first = &recs[self.replays[0]];
        let gap_us = first.time_us - a.time_us;
        let country_changed = self.replays.iter().any(|&i| other_country(a, &recs[i]));
        let client_changed = self.replays.iter().any(|&i| other_client(a, &recs[i]));
        let quick = gap_us <= self.quick;
        let severity = if country_changed || client_changed || quick {
            Severity::High
        } else {
            Severity::Medium
        };
        let net = |r: &SignIn| network(r).unwrap_or_default();
        let replay_nets: BTreeSet<String> = self.replays.iter().map(|&i| net(&recs[i])).collect();
        let replay_nets: Vec<String> = replay_nets.into_iter().collect();
        let countries = util::distinct(recs, &self.replays, |r| r.country.as_str());
        let ips = util::distinct(recs, &self.replays, |r| r.ip.as_str());
        let non_interactive = self
            .replays
            .iter()
            .filter(|&&i| recs[i].sign_in_type == SignInType::NonInteractive)
            .count();
        let user = self.user;
        let mut where_ = replay_nets.clone();
        where_.extend(countries.iter().map(|c| c.to_string()));
        let title = format!(
            "{user}'s session from {} ({}{}) was used {} later from {} ({}){}",
            util::source_text(&a.ip),
            net(a),
            if a.country.is_empty() {
                String::new()
            } else {
                format!(", {}", a.country)
            },
            util::span_text(gap_us),
            util::addresses_text(&ips),
            where_.join(", "),
            if client_changed {
                " by another client"
            } else {
                ""
            }
        );
        let remediation = vec![
            format!("Revoke {user}'s sessions and refresh tokens (Revoke-MgUserSignInSession) and reset the password: a stolen session survives MFA."),
            if ips.is_empty() {
                format!("The log gives no address for these uses: look for other accounts signing in from {} at the same times.", replay_nets.join(", "))
            } else {
                format!("Block {} and look for other accounts signing in from them.", ips.join(", "))
            },
            "Look for the phishing mail or page that proxied the sign-in (adversary-in-the-middle kits), and for inbox rules, new MFA methods or app consents made after it.".to_string(),
            "Require compliant or hybrid-joined devices, or token protection, for the apps that matter: a replayed cookie then stops at Conditional Access.".to_string(),
        ];
        let d = Draft {
            // The first sign-in is the owner's: it stays out of the
            // finding's addresses (they feed block lists) and is told in
            // the facts instead.
            events: self.replays.clone(),
            remediation,
            ..Draft::new(KIND, format!("{user}|{}", self.key), severity, title)
        };
        d.fact("session", self.key)
            .fact("first_ip", a.ip.as_str())
            .fact("first_network", net(a))
            .fact("first_country", a.country.as_str())
            .fact("first_user_agent", a.user_agent.as_str())
            .fact("first_sign_in", util::rfc3339(a.time_us))
            .fact("networks", util::json_list(&replay_nets))
            .fact("countries", util::json_list(&countries))
            .fact(
                "user_agents",
                util::json_list(&util::distinct(recs, &self.replays, |r| {
                    r.user_agent.as_str()
                })),
            )
            .fact("minutes_after_first", gap_us / util::MINUTE_US)
            .fact("non_interactive_uses", non_interactive)
            .fact("country_changed", country_changed)
            .fact("client_changed", client_changed)
            .fact("baseline_hours", self.baseline_us / HOUR_US)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::detect::util::testing::*;

    const DAY: i64 = 86_400;

    #[allow(clippy::too_many_arguments)]
    fn at(
        sec: i64,
        user: &str,
        ip: &str,
        asn: i64,
        country: &str,
        session: &str,
        kind: SignInType,
        os: &str,
    ) -> SignIn {
        SignIn {
            asn: Some(asn),
            country: country.into(),
            session_id: session.into(),
            sign_in_type: kind,
            os: os.into(),
            ..signin(sec, user, ip, 0)
        }
    }

    fn baseline(user: &str) -> Vec<SignIn> {
        (0..4)
            .map(|d| {
                at(
                    d * DAY,
                    user,
                    "192.0.2.10",
                    7018,
                    "US",
                    &format!("s-{user}-{d}"),
                    SignInType::Interactive,
                    "Windows10",
                )
            })
            .collect()
    }

    /// A baseline, then a session opened at home and used from abroad
    /// ten and fifteen minutes later.
    fn replayed_from_abroad(u: &str) -> Vec<SignIn> {
        let mut v = baseline(u);
        v.push(at(
            2 * DAY + 100,
            u,
            "192.0.2.10",
            7018,
            "US",
            "aitm",
            SignInType::Interactive,
            "Windows10",
        ));
        v.push(at(
            2 * DAY + 700,
            u,
            "203.0.113.9",
            14061,
            "NL",
            "aitm",
            SignInType::NonInteractive,
            "Linux",
        ));
        v.push(at(
            2 * DAY + 900,
            u,
            "203.0.113.9",
            14061,
            "NL",
            "aitm",
            SignInType::NonInteractive,
            "Linux",
        ));
        v
    }

    #[test]
    fn records_out_of_time_order_are_walked_in_time_order() {
        let sorted = fixture(replayed_from_abroad("alice@contoso.com"));
        let mut reversed = sorted.clone();
        reversed.reverse();
        let cfg = DetectionConfig::default();
        let want = run(&TokenReplay, &sorted, &cfg);
        assert_eq!(want.len(), 1);
        assert_eq!(run(&TokenReplay, &reversed, &cfg), want);
    }

    #[test]
    fn a_session_replayed_from_abroad_minutes_later_is_high() {
        let recs = fixture(replayed_from_abroad("alice@contoso.com"));
        let f = run(&TokenReplay, &recs, &DetectionConfig::default());
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::High);
        assert_eq!(f[0].count, 2);
        assert_eq!(f[0].ips, vec!["203.0.113.9"]);
        assert_eq!(fact(&f[0], "minutes_after_first"), Some(&10.into()));
        assert_eq!(fact(&f[0], "country_changed"), Some(&true.into()));
        assert!(f[0].title.contains("AS14061"), "{}", f[0].title);
    }

    #[test]
    fn a_device_first_named_on_a_repeat_use_vouches_for_a_later_network() {
        // The session opens at home without a device id; the next use,
        // from the same address, names the laptop; the laptop then signs
        // in from abroad on the same session: the owner, not a replay.
        let u = "carol@contoso.com";
        let home = |sec| {
            at(
                sec,
                u,
                "192.0.2.10",
                7018,
                "US",
                "s-trip",
                SignInType::Interactive,
                "Windows10",
            )
        };
        let with_laptop = |r: SignIn| SignIn {
            device_id: "laptop-1".into(),
            ..r
        };
        let mut v = baseline(u);
        v.push(home(2 * DAY + 100));
        v.push(with_laptop(home(2 * DAY + 200)));
        let abroad = at(
            2 * DAY + 300,
            u,
            "203.0.113.9",
            14061,
            "NL",
            "s-trip",
            SignInType::Interactive,
            "Windows10",
        );
        v.push(with_laptop(abroad.clone()));
        let cfg = DetectionConfig::default();
        assert_eq!(run(&TokenReplay, &fixture(v.clone()), &cfg), vec![]);
        // Without the laptop's id on the second use it is a replay, and
        // every later use from that address counts with it.
        v[5].device_id = "".into();
        v.push(with_laptop(SignIn {
            time_us: abroad.time_us + 60_000_000,
            ..abroad
        }));
        let f = run(&TokenReplay, &fixture(v), &cfg);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].count, 2);
    }

    #[test]
    fn an_address_logged_with_and_without_its_asn_is_one_network() {
        let u = "alice@contoso.com";
        let mut v = baseline(u);
        // A session opened at a hotel the account never used, then the
        // hotel's address logged once without its ASN: the same network.
        let hotel = |sec, asn| SignIn {
            asn,
            ..at(
                sec,
                u,
                "198.51.100.7",
                0,
                "US",
                "s-1",
                SignInType::Interactive,
                "Windows10",
            )
        };
        v.push(hotel(2 * DAY, Some(64500)));
        v.push(hotel(2 * DAY + 600, None));
        // From abroad, then its /24 logged without the ASN: both count.
        v.push(at(
            2 * DAY + 900,
            u,
            "203.0.113.9",
            14061,
            "NL",
            "s-1",
            SignInType::Interactive,
            "Windows10",
        ));
        v.push(SignIn {
            asn: None,
            ..at(
                2 * DAY + 960,
                u,
                "203.0.113.12",
                0,
                "NL",
                "s-1",
                SignInType::Interactive,
                "Windows10",
            )
        });
        let f = run(&TokenReplay, &fixture(v), &DetectionConfig::default());
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(
            f[0].title,
            "alice@contoso.com's session from 198.51.100.7 (AS64500, US) was used 15 min later from 203.0.113.12, 203.0.113.9 (203.0.113.0/24, AS14061, NL)"
        );
        assert_eq!(f[0].count, 2);
    }

    #[test]
    fn what_the_log_leaves_empty_is_not_said_to_differ() {
        // The uses from abroad carry no address and no operating system:
        // the network is still the ASN, but neither "another client" nor
        // an empty address may be claimed.
        let mut v = replayed_from_abroad("alice@contoso.com");
        for r in v.iter_mut().filter(|r| r.asn == Some(14061)) {
            r.ip = "".into();
            r.os = "".into();
        }
        let f = run(&TokenReplay, &fixture(v), &DetectionConfig::default());
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(
            f[0].title,
            "alice@contoso.com's session from 192.0.2.10 (AS7018, US) was used 10 min later from an unknown address (AS14061, NL)"
        );
        assert_eq!(fact(&f[0], "client_changed"), Some(&false.into()));
        assert!(
            f[0].remediation[1].starts_with("The log gives no address for these uses: look for other accounts signing in from AS14061"),
            "{:?}",
            f[0].remediation
        );
        // A known operating system that differs is another client.
        let recs = fixture(replayed_from_abroad("alice@contoso.com"));
        let f = run(&TokenReplay, &recs, &DetectionConfig::default());
        assert!(f[0].title.ends_with(" by another client"), "{}", f[0].title);
    }

    #[test]
    fn the_owner_moving_between_known_networks_or_on_one_device_stays_quiet() {
        let u = "bob@contoso.com";
        let mut v = baseline(u);
        // Bob's phone network, known from an earlier day.
        v.push(at(
            DAY + 500,
            u,
            "198.51.100.4",
            21928,
            "US",
            "phone-1",
            SignInType::Interactive,
            "iOS",
        ));
        // Today: one session on the office network, then on the phone
        // network Bob used before.
        v.push(at(
            3 * DAY + 100,
            u,
            "192.0.2.10",
            7018,
            "US",
            "s",
            SignInType::Interactive,
            "Windows10",
        ));
        v.push(at(
            3 * DAY + 5000,
            u,
            "198.51.100.77",
            21928,
            "US",
            "s",
            SignInType::NonInteractive,
            "Windows10",
        ));
        // A new network, but the same registered device as the session's
        // first sign-in: the laptop moved.
        let mut a = at(
            3 * DAY + 200,
            u,
            "192.0.2.10",
            7018,
            "US",
            "laptop",
            SignInType::Interactive,
            "Windows10",
        );
        a.device_id = "dev-1".into();
        let mut b = at(
            3 * DAY + 9000,
            u,
            "203.0.113.40",
            3320,
            "US",
            "laptop",
            SignInType::NonInteractive,
            "Windows10",
        );
        b.device_id = "dev-1".into();
        v.extend([a, b]);
        // Beyond the session's lifetime.
        v.push(at(
            3 * DAY + 300,
            u,
            "192.0.2.10",
            7018,
            "US",
            "old",
            SignInType::Interactive,
            "Windows10",
        ));
        v.push(at(
            5 * DAY,
            u,
            "203.0.113.41",
            3320,
            "US",
            "old",
            SignInType::NonInteractive,
            "Windows10",
        ));
        let recs = fixture(v);
        let f = run(&TokenReplay, &recs, &DetectionConfig::default());
        assert!(f.is_empty(), "{f:#?}");
    }

    #[test]
    fn a_slow_move_to_a_new_network_in_the_same_country_is_medium() {
        // The session opened on a registered device; the use from the new
        // network names none.
        let u = "carol@contoso.com";
        let mut v = baseline(u);
        v.push(SignIn {
            device_id: "dev-1".into(),
            ..at(
                2 * DAY + 100,
                u,
                "192.0.2.10",
                7018,
                "US",
                "x",
                SignInType::Interactive,
                "Windows10",
            )
        });
        v.push(at(
            2 * DAY + 4 * 3600,
            u,
            "203.0.113.60",
            7922,
            "US",
            "x",
            SignInType::NonInteractive,
            "Windows10",
        ));
        let recs = fixture(v);
        let f = run(&TokenReplay, &recs, &DetectionConfig::default());
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Medium);
    }

    #[test]
    fn without_any_device_only_another_country_or_client_tells_a_replay() {
        // Dana's phone is not registered: no sign-in names a device. Her
        // session moves from home Wi-Fi to a carrier the data never saw
        // her use, same country, same phone: the owner, not a replay.
        let u = "dana@contoso.com";
        let session = |os: &str, country: &str| {
            let mut v = baseline(u);
            v.push(at(
                2 * DAY + 100,
                u,
                "192.0.2.10",
                7018,
                "US",
                "phone",
                SignInType::Interactive,
                "Ios",
            ));
            v.push(at(
                2 * DAY + 400,
                u,
                "198.51.100.9",
                7922,
                country,
                "phone",
                SignInType::NonInteractive,
                os,
            ));
            run(&TokenReplay, &fixture(v), &DetectionConfig::default())
        };
        assert!(session("Ios", "US").is_empty());
        // A country or operating system the log leaves empty is no change.
        assert!(session("", "").is_empty());
        // Another operating system, or another country: a replay.
        for (os, country) in [("Linux", "US"), ("Ios", "NL")] {
            let f = session(os, country);
            assert_eq!(f.len(), 1, "{os} {country}: {f:#?}");
            assert_eq!(f[0].severity, Severity::High);
        }
    }
}
