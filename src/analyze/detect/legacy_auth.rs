//! Legacy authentication: protocols that send the password and skip MFA.
//!
//! What it finds, why it matters, tuning and false positives:
//! `docs/legacy_auth.md` (the registry in `mod.rs` serves it).

use super::registry::{strings, Settings};
use super::sql::{self, Bursts, Query};
use super::util::{self, CountAtLeast, Draft, Fast};
use super::{Detection, DetectionConfig, Events};
use crate::model::{Finding, Severity, SignIn, StatusClass, Text};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub struct LegacyAuth;

const KIND: &str = "legacy_auth";

/// The `[legacy_auth]` table of the settings file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegacyAuthConfig {
    pub enabled: bool,
    pub window_minutes: u32,
    pub min_events: u32,
    /// `clientAppUsed` values that mean legacy authentication
    /// (case-insensitive).
    pub client_apps: Vec<String>,
    /// User-agent substrings that mean ROPC (case-insensitive).
    pub user_agents: Vec<String>,
    pub successes_only: bool,
}

impl Default for LegacyAuthConfig {
    fn default() -> Self {
        // Sentinel's 12 legacy clients and 3 ROPC user agents.
        LegacyAuthConfig {
            enabled: true,
            window_minutes: 24 * 60,
            min_events: 1,
            client_apps: strings(&[
                "Authenticated SMTP",
                "AutoDiscover",
                "Exchange ActiveSync",
                "Exchange Online PowerShell",
                "Exchange Web Services",
                "IMAP4",
                "MAPI Over HTTP",
                "Outlook Anywhere (RPC over HTTP)",
                "Outlook Service",
                "POP3",
                "Reporting Web Services",
                "Other clients",
            ]),
            user_agents: strings(&["BAV2ROPC", "CBAinPROD", "CBAinTAR"]),
            successes_only: false,
        }
    }
}

impl Settings for LegacyAuthConfig {}

impl Detection for LegacyAuth {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn title(&self) -> &'static str {
        "Legacy authentication or ROPC sign-ins"
    }

    fn techniques(&self) -> &'static [&'static str] {
        &["T1078.004"]
    }

    fn needs(&self) -> &'static [crate::analyze::coverage::Need] {
        &[crate::analyze::coverage::Need::ClientInfo]
    }

    fn sql(&self, cfg: &DetectionConfig) -> Query {
        let c = &cfg.legacy_auth;
        let mut legacy = Vec::new();
        let clients: Vec<String> = c
            .client_apps
            .iter()
            .map(|s| sql::lit(&s.trim().to_ascii_lowercase()))
            .collect();
        if !clients.is_empty() {
            legacy.push(format!(
                "(trim(client_app) <> '' AND lower(trim(client_app)) IN ({}))",
                clients.join(", ")
            ));
        }
        for agent in &c.user_agents {
            let a = agent.to_ascii_lowercase();
            if !a.is_empty() {
                legacy.push(format!(
                    "(user_agent <> '' AND position({} IN lower(user_agent)) > 0)",
                    sql::lit(&a)
                ));
            }
        }
        let legacy = if legacy.is_empty() {
            "FALSE".to_string()
        } else {
            legacy.join("\n    OR ")
        };
        let status = if c.successes_only {
            "status = 'success'"
        } else {
            "status <> 'interrupted'"
        };
        Query::new()
            .note("client apps are trimmed of spaces only and compared with lower(); analyze trims all whitespace and folds ASCII case")
            .cte(
                "legacy",
                format!(
                    "SELECT time, lower(trim(client_app)) AS legacy_client, ip FROM ev\n  \
                     WHERE user_principal_name <> '' AND {status} AND (\n    {legacy})"
                ),
            )
            .bursts(&Bursts {
                name: "legacy_burst",
                from: "legacy",
                keys: &["legacy_client", "ip"],
                window_minutes: c.window_minutes,
                distinct: &[],
                qualifies: format!("n >= {}", sql::at_least_one(c.min_events)),
            })
            .select(format!(
                "SELECT {}, {}\nFROM legacy_burst\nGROUP BY legacy_client, ip, burst_start",
                sql::head(KIND, "concat(legacy_client, '|', ip)", None, Some("ip")),
                sql::SPAN
            ))
            .note("the title names at most two client apps; with more it names the first and how many others")
            .events(format!(
                "SELECT f.actor, f.first_seen AS found_first, {}\n    \
                 FROM found f JOIN (\n      \
                 SELECT concat(lower(trim(client_app)), '|', ip) AS legacy_key, * FROM ev\n      \
                 WHERE user_principal_name <> '' AND {status} AND (\n    {legacy})\n    \
                 ) e ON e.legacy_key = f.actor AND e.ip = f.ip AND e.time >= f.first_seen AND e.time <= f.last_seen",
                sql::member_cols("e")
            ))
            .few("client_app")
            .aggregate(
                "successes",
                "SUM(CASE WHEN m.role = 0 AND m.status = 'success' THEN 1 ELSE 0 END)",
            )
            .severity("CASE WHEN a.successes > 0 THEN 'medium' ELSE 'low' END")
            .title(format!(
                "concat('Legacy authentication (', CASE WHEN a.n_client_app = 0 THEN 'ROPC' ELSE {} END, ') from ', {}, ' to ', {},\n    \
                 ': ', {}, ' sign-in', {}, ', ', {}, ' succeeded')",
                sql::few_values("client_app"),
                sql::source_text("f.ip"),
                sql::accounts_text(),
                sql::text_num("f.count"),
                sql::plural("f.count"),
                sql::text_num("a.successes")
            ))
            .fact("successes", sql::json_num("a.successes"))
            .fact("failures", sql::json_num("f.count - a.successes"))
            .succeeded_users()
    }

    fn run(&self, ev: &Events, cfg: &DetectionConfig) -> Vec<Finding> {
        let c = &cfg.legacy_auth;
        let recs = ev.records;
        let clients: Vec<&str> = c.client_apps.iter().map(|s| s.trim()).collect();
        let agents: Vec<String> = c
            .user_agents
            .iter()
            .map(|s| s.to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .collect();
        let is_legacy = |r: &SignIn| {
            let client = r.client_app.trim();
            (!client.is_empty() && clients.iter().any(|c| c.eq_ignore_ascii_case(client)))
                || (!r.user_agent.is_empty() && {
                    let ua = r.user_agent.to_ascii_lowercase();
                    agents.iter().any(|a| ua.contains(a.as_str()))
                })
        };
        // One finding per client protocol and address, not per account:
        // a spray over Authenticated SMTP is one source trying sixty
        // accounts, and sixty cards would bury it.
        // A run holds a handful of (client app, agent) pairs: each is
        // judged once, not lowercased and searched per sign-in.
        let mut legacy: HashMap<(Text, Text), bool, Fast> = HashMap::default();
        let groups = util::group_by(ev, cfg, |r| {
            (!r.user_principal_name.is_empty()
                && r.status != StatusClass::Interrupted
                && (!c.successes_only || r.status == StatusClass::Success)
                && *legacy
                    .entry((r.client_app, r.user_agent))
                    .or_insert_with(|| is_legacy(r)))
            .then(|| (r.client_app.trim().to_ascii_lowercase(), r.ip.as_str()))
        });
        let mut out = Vec::new();
        for ((client, ip), events) in &groups {
            for b in util::bursts(
                recs,
                events,
                util::minutes(c.window_minutes),
                &mut CountAtLeast::new(c.min_events),
            ) {
                let actor = format!("{client}|{ip}");
                out.push(util::finding(
                    ev,
                    draft(recs, c.window_minutes, &actor, ip, events[b].to_vec()),
                ));
            }
        }
        out
    }
}

fn draft(recs: &[SignIn], window_minutes: u32, actor: &str, ip: &str, burst: Vec<usize>) -> Draft {
    let who = util::accounts_text(&util::distinct(recs, &burst, |r| {
        r.user_principal_name.as_str()
    }));
    let source = util::source_text(ip);
    let successes = burst
        .iter()
        .filter(|&&i| recs[i].status == StatusClass::Success)
        .count();
    let failures = burst.len() - successes;
    let clients = util::distinct(recs, &burst, |r| r.client_app.as_str());
    let ropc = burst
        .iter()
        .filter(|&&i| recs[i].user_agent.to_ascii_lowercase().contains("ropc"))
        .count();
    let how = if clients.is_empty() {
        "ROPC".to_string()
    } else {
        clients.join(", ")
    };
    let title = format!(
        "Legacy authentication ({how}) from {source} to {who}: {} sign-in{}, {successes} succeeded",
        burst.len(),
        util::plural(burst.len())
    );
    let severity = if successes > 0 {
        Severity::Medium
    } else {
        Severity::Low
    };
    let mut remediation = vec![
        "Block legacy authentication for everyone with a Conditional Access policy (client apps: Exchange ActiveSync clients and other clients), with exceptions only for named service accounts and IPs.".to_string(),
        format!("Turn off the protocols {who} do not need on the mailbox (IMAP, POP, SMTP AUTH, ActiveSync) and SMTP AUTH organisation-wide if nothing uses it."),
    ];
    if successes > 0 {
        remediation.push(format!(
            "If {source} is not the owners' own device or mail server, the passwords of the accounts that succeeded from it are known: reset them, revoke sessions and check mailbox rules and forwarding."
        ));
    }
    let d = Draft {
        events: burst.clone(),
        window_seconds: i64::from(window_minutes) * 60,
        remediation,
        ..Draft::new(KIND, actor, severity, title)
    };
    let succeeded = util::succeeded_users(recs, &burst);
    d.fact("successes", successes)
        .fact("succeeded_users", util::json_list(&succeeded))
        .fact("failures", failures)
        .fact("client_apps", util::json_list(&clients))
        .fact("ropc_user_agent", ropc)
        .fact(
            "apps",
            util::json_list(&util::distinct(recs, &burst, |r| r.app_name.as_str())),
        )
        .fact(
            "countries",
            util::json_list(&util::distinct(recs, &burst, |r| r.country.as_str())),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::detect::util::testing::*;

    #[test]
    fn imap_and_ropc_sign_ins_fire() {
        let v = vec![
            SignIn {
                client_app: "IMAP4".into(),
                ..signin(0, "shared.mailbox@contoso.com", "203.0.113.14", 0)
            },
            SignIn {
                client_app: "imap4".into(),
                ..signin(600, "shared.mailbox@contoso.com", "203.0.113.14", 50126)
            },
            SignIn {
                client_app: "Mobile Apps and Desktop clients".into(),
                user_agent: "BAV2ROPC".into(),
                ..signin(900, "intern@contoso.com", "198.51.100.31", 50126)
            },
        ];
        let recs = fixture(v);
        let f = run(&LegacyAuth, &recs, &DetectionConfig::default());
        assert_eq!(f.len(), 2, "{f:#?}");
        let imap = f
            .iter()
            .find(|f| f.users == vec!["shared.mailbox@contoso.com"])
            .unwrap();
        assert_eq!(imap.severity, Severity::Medium);
        assert_eq!(imap.count, 2);
        let ropc = f
            .iter()
            .find(|f| f.users == vec!["intern@contoso.com"])
            .unwrap();
        assert_eq!(ropc.severity, Severity::Low);
        assert_eq!(fact(ropc, "ropc_user_agent"), Some(&1.into()));
        // Sentinel and Elastic only look at successes.
        assert_eq!(
            run(
                &LegacyAuth,
                &recs,
                &DetectionConfig::preset("sentinel").unwrap()
            )
            .len(),
            1
        );
    }

    #[test]
    fn a_spray_over_smtp_is_one_finding_not_one_per_account() {
        let v: Vec<SignIn> = (0..60)
            .map(|k| SignIn {
                client_app: "Authenticated SMTP".into(),
                ..signin(
                    k * 20,
                    &format!("user{k:02}@contoso.com"),
                    "203.0.113.200",
                    50126,
                )
            })
            .collect();
        let recs = fixture(v);
        let f = run(&LegacyAuth, &recs, &DetectionConfig::default());
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].users.len(), 60);
        assert_eq!(f[0].ips, vec!["203.0.113.200"]);
        assert!(f[0].title.contains("60 accounts"), "{}", f[0].title);
    }

    #[test]
    fn modern_clients_do_not_fire() {
        let v = vec![
            signin(0, "a@contoso.com", "192.0.2.1", 0),
            SignIn {
                client_app: "Mobile Apps and Desktop clients".into(),
                user_agent:
                    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)"
                        .into(),
                ..signin(60, "a@contoso.com", "192.0.2.1", 0)
            },
        ];
        let recs = fixture(v);
        assert!(run(&LegacyAuth, &recs, &DetectionConfig::default()).is_empty());
    }
}
