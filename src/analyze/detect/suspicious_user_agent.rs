//! Sign-ins by clients that name an attack tool or an HTTP library.
//!
//! What it finds, why it matters, tuning and false positives:
//! `docs/suspicious_user_agent.md` (the registry in `mod.rs` serves it).
//! The fingerprints are `data/fingerprints.toml`, compiled in.

use std::sync::Arc;

use super::datafile::{self, DataFileError};
use super::registry::{Invalid, Settings};
use super::sql::{self, Bursts, Query};
use super::util::{self, CountAtLeast, Draft, Fast};
use super::{Detection, DetectionConfig, Events};
use crate::analyze::coverage::Need;
use crate::model::{Finding, Severity, SignIn, StatusClass, Text};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

pub struct SuspiciousUserAgent;

const KIND: &str = "suspicious_user_agent";
const BUILTIN_NAME: &str = "built-in data/fingerprints.toml";
const BUILTIN: &str = include_str!("../../../data/fingerprints.toml");
/// A routine tool's first success comes within this many hours of the
/// data's start (see `routine_days`).
const ROUTINE_START_HOURS: u32 = 24;

/// The `[suspicious_user_agent]` table of the settings file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuspiciousUserAgentConfig {
    pub enabled: bool,
    pub window_minutes: u32,
    /// The user's own fingerprints (same shape as the built-in file),
    /// tried before the built-in ones; empty for none.
    pub fingerprints_file: String,
    /// Whether the built-in fingerprints are used as well.
    pub use_builtin: bool,
    /// An account's routine automation: a tool that signed in successfully
    /// as the account from one address on at least this many UTC days,
    /// the first of them within the data's first 24 hours. A finding whose
    /// every account runs the tool as routine is low and puts no account
    /// on the list by itself. 0: never routine.
    pub routine_days: u32,
    /// Loaded from `fingerprints_file` by [`load`]; not part of the TOML.
    #[serde(skip)]
    pub loaded: Option<Arc<Vec<Fingerprint>>>,
}

impl Default for SuspiciousUserAgentConfig {
    fn default() -> Self {
        SuspiciousUserAgentConfig {
            enabled: true,
            window_minutes: 24 * 60,
            fingerprints_file: String::new(),
            use_builtin: true,
            routine_days: 3,
            loaded: None,
        }
    }
}

impl Settings for SuspiciousUserAgentConfig {
    const UNSET: &'static [(&'static str, &'static str)] = &[
        ("fingerprints_file", "none (built-in only)"),
        ("routine_days", "never routine"),
    ];

    fn check(&self) -> Result<(), Invalid> {
        if !self.use_builtin && self.fingerprints_file.trim().is_empty() {
            return Err(Invalid::new(
                "use_builtin",
                "is false but no fingerprints_file is given: nothing would be matched",
            ));
        }
        Ok(())
    }
}

/// Which field of a sign-in a fingerprint reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    UserAgent,
    ClientApp,
    AppId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Match {
    Prefix,
    Contains,
    Exact,
}

/// One entry of a fingerprint file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fingerprint {
    pub tool: String,
    pub field: Field,
    #[serde(rename = "match")]
    pub how: Match,
    pub pattern: String,
    pub source: String,
    pub first_seen: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Pack {
    #[allow(dead_code)]
    version: String,
    updated: String,
    #[serde(default)]
    fingerprint: Vec<toml::Spanned<Fingerprint>>,
}

/// Parses and checks a fingerprint file: every entry needs a tool, a
/// pattern, a source URL and a first-seen date.
pub fn parse(text: &str, file: &str) -> Result<Vec<Fingerprint>, DataFileError> {
    let pack: Pack = datafile::parse(text, file)?;
    datafile::check_updated(&pack.updated, file)?;
    let mut out = Vec::with_capacity(pack.fingerprint.len());
    for entry in pack.fingerprint {
        let line = datafile::line_of(text, entry.span().start);
        let mut f = entry.into_inner();
        if f.tool.trim().is_empty() || f.pattern.trim().is_empty() {
            return Err(DataFileError {
                file: file.to_string(),
                line,
                problem: "`tool` and `pattern` must not be empty".to_string(),
            });
        }
        datafile::check_provenance(file, line, &f.source, &f.first_seen, "first_seen")?;
        f.pattern = f.pattern.to_ascii_lowercase();
        out.push(f);
    }
    Ok(out)
}

/// The built-in fingerprints (checked by a test, so this cannot fail in a
/// release).
fn builtin() -> Vec<Fingerprint> {
    parse(BUILTIN, BUILTIN_NAME).unwrap_or_default()
}

/// Reads the user's `fingerprints_file`, if any, into the settings.
pub(crate) fn load(c: &mut SuspiciousUserAgentConfig) -> Result<(), DataFileError> {
    let path = c.fingerprints_file.trim();
    if !path.is_empty() {
        let text = datafile::read(path)?;
        c.loaded = Some(Arc::new(parse(&text, path)?));
    }
    Ok(())
}

/// The fingerprints in force, the user's first.
fn in_force(c: &SuspiciousUserAgentConfig) -> Vec<Fingerprint> {
    let mut all: Vec<Fingerprint> = c.loaded.as_deref().cloned().unwrap_or_default();
    if c.use_builtin {
        all.extend(builtin());
    }
    all
}

fn matches(f: &Fingerprint, r: &SignIn) -> bool {
    let value = match f.field {
        Field::UserAgent => r.user_agent.as_str(),
        Field::ClientApp => r.client_app.trim(),
        Field::AppId => r.app_id.as_str(),
    };
    if value.is_empty() {
        return false;
    }
    let value = value.to_ascii_lowercase();
    match f.how {
        Match::Prefix => value.starts_with(&f.pattern),
        Match::Contains => value.contains(&f.pattern),
        Match::Exact => value == f.pattern,
    }
}

fn sql_test(f: &Fingerprint) -> String {
    let col = match f.field {
        Field::UserAgent => "lower(user_agent)",
        Field::ClientApp => "lower(trim(client_app))",
        Field::AppId => "lower(app_id)",
    };
    let p = sql::lit(&f.pattern);
    match f.how {
        Match::Prefix => format!("substr({col}, 1, {}) = {p}", f.pattern.chars().count()),
        Match::Contains => format!("position({p} IN {col}) > 0"),
        Match::Exact => format!("{col} = {p}"),
    }
}

impl Detection for SuspiciousUserAgent {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn title(&self) -> &'static str {
        "Sign-ins by attack tools and scripting clients"
    }

    fn techniques(&self) -> &'static [&'static str] {
        &["T1078.004", "T1110"]
    }

    fn needs(&self) -> &'static [Need] {
        &[Need::ClientInfo]
    }

    fn sql(&self, cfg: &DetectionConfig) -> Query {
        let c = &cfg.suspicious_user_agent;
        let prints = in_force(c);
        let tool = if prints.is_empty() {
            "CAST(NULL AS STRING)".to_string()
        } else {
            let arms: Vec<String> = prints
                .iter()
                .map(|f| format!("WHEN {} THEN {}", sql_test(f), sql::lit(&f.tool)))
                .collect();
            format!("CASE {} END", arms.join("\n      "))
        };
        Query::new()
            .note("fields are compared with lower() (client app trimmed of spaces only); analyze folds ASCII case and trims all whitespace")
            .cte(
                "tooled",
                format!(
                    "SELECT * FROM (\n    SELECT {}, {tool} AS tool FROM ev\n    WHERE user_principal_name <> ''\n  ) t WHERE tool IS NOT NULL",
                    sql::member_cols_bare()
                ),
            )
            .bursts(&Bursts {
                name: "tool_burst",
                from: "tooled",
                keys: &["tool", "ip"],
                window_minutes: c.window_minutes,
                distinct: &[],
                qualifies: "n >= 1".to_string(),
            })
            // `routine_accounts` in `run`.
            .cte(
                "tool_routine",
                format!(
                    "SELECT tool AS r_tool, ip AS r_ip, user_principal_name AS r_user\n  \
                     FROM tooled WHERE status = 'success'{}\n  \
                     GROUP BY tool, ip, user_principal_name\n  \
                     HAVING NOT ({}) AND COUNT(DISTINCT {}) >= {}",
                    if c.routine_days == 0 { " AND FALSE" } else { "" },
                    sql::after_baseline("MIN(time)", ROUTINE_START_HOURS),
                    sql::epoch_day("time"),
                    c.routine_days
                ),
            )
            .select(format!(
                "SELECT {}, {},\n  \
                 MIN(CASE WHEN r.r_user IS NULL THEN 0 ELSE 1 END) AS routine\n\
                 FROM tool_burst\n  \
                 LEFT JOIN tool_routine r ON r.r_tool = tool AND r.r_ip = ip AND r.r_user = user_principal_name\n\
                 GROUP BY tool, ip, burst_start",
                sql::head(KIND, "concat(tool, '|', ip)", None, Some("ip")),
                sql::SPAN
            ))
            .events(format!(
                "SELECT f.actor, f.first_seen AS found_first, {}\n    \
                 FROM found f JOIN tooled e ON concat(e.tool, '|', e.ip) = f.actor AND e.ip = f.ip\n      \
                 AND e.time >= f.first_seen AND e.time <= f.last_seen",
                sql::member_cols("e")
            ))
            .aggregate(
                "successes",
                "SUM(CASE WHEN m.role = 0 AND m.status = 'success' THEN 1 ELSE 0 END)",
            )
            .severity(
                "CASE WHEN f.routine = 1 THEN 'low' WHEN a.successes > 0 THEN 'high' ELSE 'medium' END",
            )
            .title(format!(
                "concat(substr(f.actor, 1, length(f.actor) - length(f.ip) - 1), ' against ', {}, ' from ', {},\n    \
                 ': ', {}, ' sign-in', {}, ', ', {}, ' succeeded',\n    \
                 CASE WHEN f.routine = 1 THEN ', routine since the data begins' ELSE '' END)",
                sql::accounts_text(),
                sql::source_text("f.ip"),
                sql::text_num("f.count"),
                sql::plural("f.count"),
                sql::text_num("a.successes")
            ))
            .fact(
                "tool",
                sql::json_str("substr(f.actor, 1, length(f.actor) - length(f.ip) - 1)"),
            )
            .fact("successes", sql::json_num("a.successes"))
            .fact("failures", sql::json_num("f.count - a.successes"))
            .succeeded_users()
            .fact("routine", sql::json_bool("f.routine = 1"))
    }

    fn run(&self, ev: &Events, cfg: &DetectionConfig) -> Vec<Finding> {
        let c = &cfg.suspicious_user_agent;
        let prints = in_force(c);
        if prints.is_empty() {
            return Vec::new();
        }
        let recs = ev.records;
        // One finding per tool and address: a tool spraying sixty accounts
        // from one host is one thing to block.
        // The three fields a fingerprint reads take a handful of values in
        // a run: which fingerprint a combination matches first is worked
        // out once, not lowercased and searched per sign-in.
        let mut first_match: HashMap<(Text, Text, Text), Option<usize>, Fast> = HashMap::default();
        let groups = util::group_by(ev, cfg, |r| {
            if r.user_principal_name.is_empty() {
                return None;
            }
            let k = (*first_match
                .entry((r.user_agent, r.client_app, r.app_id))
                .or_insert_with(|| prints.iter().position(|f| matches(f, r))))?;
            Some((prints[k].tool.as_str(), r.ip.as_str()))
        });
        let mut out = Vec::new();
        for ((tool, ip), events) in &groups {
            let print = prints.iter().find(|f| f.tool == *tool);
            let routine = routine_accounts(recs, events, ev.start_us(), c.routine_days);
            for b in util::bursts(
                recs,
                events,
                util::minutes(c.window_minutes),
                &mut CountAtLeast::new(1),
            ) {
                let burst = events[b].to_vec();
                let is_routine = burst
                    .iter()
                    .all(|&i| routine.contains(recs[i].user_principal_name.as_str()));
                out.push(util::finding(
                    ev,
                    draft(recs, c, tool, ip, print, burst, is_routine),
                ));
            }
        }
        out
    }
}

/// The accounts that run the tool from this address as routine (see
/// `routine_days`): successes on that many UTC days or more, the first
/// within the data's first 24 hours. A script that ran before the data
/// begins and every day since is the tenant's own; a tool that appears
/// mid-way, or sprays accounts it never gets into, is not.
fn routine_accounts<'a>(
    recs: &'a [SignIn],
    events: &[usize],
    start_us: Option<i64>,
    routine_days: u32,
) -> HashSet<&'a str, Fast> {
    let mut out = HashSet::default();
    let Some(start_us) = start_us.filter(|_| routine_days > 0) else {
        return out;
    };
    // account -> (first success, days with a success, last day counted)
    let mut seen: HashMap<&str, (i64, u32, i64), Fast> = HashMap::default();
    for &i in events {
        let r = &recs[i];
        if r.status != StatusClass::Success {
            continue;
        }
        let day = r.time_us.div_euclid(util::DAY_US);
        let (_, days, last) =
            seen.entry(r.user_principal_name.as_str())
                .or_insert((r.time_us, 0, i64::MIN));
        if *last != day {
            *days += 1;
            *last = day;
        }
    }
    for (user, (first, days, _)) in seen {
        if first < start_us + i64::from(ROUTINE_START_HOURS) * util::HOUR_US && days >= routine_days
        {
            out.insert(user);
        }
    }
    out
}

fn draft(
    recs: &[SignIn],
    c: &SuspiciousUserAgentConfig,
    tool: &str,
    ip: &str,
    print: Option<&Fingerprint>,
    burst: Vec<usize>,
    routine: bool,
) -> Draft {
    let who = util::accounts_text(&util::distinct(recs, &burst, |r| {
        r.user_principal_name.as_str()
    }));
    let source = util::source_text(ip);
    let succeeded = util::succeeded_users(recs, &burst);
    let successes = burst
        .iter()
        .filter(|&&i| recs[i].status == StatusClass::Success)
        .count();
    let title = format!(
        "{tool} against {who} from {source}: {} sign-in{}, {successes} succeeded{}",
        burst.len(),
        util::plural(burst.len()),
        if routine {
            ", routine since the data begins"
        } else {
            ""
        }
    );
    // A tool that got a token is an intrusion; one that only failed is a
    // tool pointed at the tenant; one the accounts ran every day from
    // before the data begins is their own automation.
    let severity = if routine {
        Severity::Low
    } else if successes > 0 {
        Severity::High
    } else {
        Severity::Medium
    };
    let remediation = if routine {
        vec![format!(
            "Confirm {tool} from {source} is the automation of {who} that the owners know of; move it to a workload identity (a service principal with a certificate or a managed identity) and limit it to that address.",
        )]
    } else {
        let mut steps = vec![format!(
            "Confirm nobody in the organisation runs {tool} against Entra ID from {source}; if not, block the address and review everything else it did."
        )];
        if successes > 0 {
            steps.push(format!(
                "Reset the passwords of {}, revoke their sessions and review their mailbox rules, app consents and registered devices.",
                succeeded.join(", ")
            ));
        }
        steps
    };
    let d = Draft {
        events: burst.clone(),
        window_seconds: i64::from(c.window_minutes) * 60,
        remediation,
        ..Draft::new(KIND, format!("{tool}|{ip}"), severity, title)
    };
    d.fact("tool", tool)
        .fact(
            "fingerprint",
            print.map_or(String::new(), |f| f.pattern.clone()),
        )
        .fact(
            "fingerprint_field",
            print.map_or(String::new(), |f| {
                serde_json::to_value(f.field)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            }),
        )
        .fact(
            "tool_first_seen",
            print.map_or(String::new(), |f| f.first_seen.clone()),
        )
        .fact("successes", successes)
        .fact("failures", burst.len() - successes)
        .fact("succeeded_users", util::json_list(&succeeded))
        .fact(
            "user_agents",
            util::json_list(&util::distinct(recs, &burst, |r| r.user_agent.as_str())),
        )
        .fact(
            "apps",
            util::json_list(&util::distinct(recs, &burst, |r| r.app_name.as_str())),
        )
        .fact("routine", routine)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::detect::util::testing::*;

    fn with_ua(mut r: SignIn, ua: &str) -> SignIn {
        r.user_agent = ua.into();
        r
    }

    #[test]
    fn the_built_in_pack_parses_and_carries_sources_and_dates() {
        let all = parse(BUILTIN, BUILTIN_NAME).unwrap();
        assert!(all.len() >= 15, "{}", all.len());
        for tool in [
            "python-requests",
            "axios",
            "node-fetch",
            "undici",
            "fasthttp",
            "Go-http-client",
            "curl",
            "TeamFiltration",
            "BAV2ROPC",
            "aiohttp",
            "kali365",
        ] {
            assert!(all.iter().any(|f| f.tool == tool), "{tool} missing");
        }
        assert!(all.iter().any(|f| f.tool.contains("AADInternals")));
    }

    #[test]
    fn tools_fire_and_a_success_raises_the_severity() {
        let v = vec![
            with_ua(signin(0, "a@contoso.com", "203.0.113.7", 50126), "python-requests/2.31.0"),
            with_ua(signin(30, "b@contoso.com", "203.0.113.7", 50126), "python-requests/2.31.0"),
            with_ua(signin(60, "c@contoso.com", "203.0.113.7", 0), "python-requests/2.31.0"),
            with_ua(signin(90, "d@contoso.com", "198.51.100.9", 50126), "fasthttp"),
            with_ua(
                signin(120, "e@contoso.com", "198.51.100.10", 0),
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Teams/1.3.00.30866 Chrome/80.0.3987.165 Electron/8.5.1 Safari/537.36",
            ),
        ];
        let recs = fixture(v);
        let f = run(&SuspiciousUserAgent, &recs, &DetectionConfig::default());
        assert_eq!(f.len(), 3, "{f:#?}");
        let py = f
            .iter()
            .find(|f| fact(f, "tool") == Some(&"python-requests".into()))
            .unwrap();
        assert_eq!(
            (py.severity, py.count, py.users.len()),
            (Severity::High, 3, 3)
        );
        assert_eq!(
            fact(py, "succeeded_users"),
            Some(&serde_json::json!(["c@contoso.com"]))
        );
        let fast = f
            .iter()
            .find(|f| fact(f, "tool") == Some(&"fasthttp".into()))
            .unwrap();
        assert_eq!(fast.severity, Severity::Medium);
        assert!(f
            .iter()
            .any(|f| fact(f, "tool") == Some(&"TeamFiltration".into())));
    }

    #[test]
    fn a_script_run_daily_since_the_data_begins_is_routine_and_one_that_starts_later_is_not() {
        const DAY: i64 = 86_400;
        let py = "python-requests/2.31.0";
        let mut v = Vec::new();
        for day in 0..5 {
            // svc's report job, from its host, every day from the first hour.
            v.push(with_ua(
                signin(day * DAY + 3600, "svc@contoso.com", "198.51.100.20", 0),
                py,
            ));
            // From day 2 on, a new script as ann from another address.
            if day >= 2 {
                v.push(with_ua(
                    signin(day * DAY + 7200, "ann@contoso.com", "203.0.113.50", 0),
                    py,
                ));
            }
        }
        // The same host fails as bob on day 3: not svc's routine alone.
        v.push(with_ua(
            signin(3 * DAY + 5400, "bob@contoso.com", "198.51.100.20", 50126),
            py,
        ));
        let recs = fixture(v);
        let cfg = DetectionConfig::default();
        let f = run(&SuspiciousUserAgent, &recs, &cfg);
        let of = |ip: &str| -> Vec<(Severity, bool)> {
            f.iter()
                .filter(|f| f.ips == [ip])
                .map(|f| (f.severity, fact(f, "routine") == Some(&true.into())))
                .collect()
        };
        // Daily runs pause less than the day-long window: one stretch per
        // address, and bob's failure falls in svc's.
        assert_eq!(of("198.51.100.20"), [(Severity::High, false)], "{f:#?}");
        assert_eq!(of("203.0.113.50"), [(Severity::High, false)], "{f:#?}");

        // Without bob, svc's stretch is routine.
        let recs: Vec<SignIn> = recs
            .iter()
            .filter(|r| r.user_principal_name.as_str() != "bob@contoso.com")
            .cloned()
            .collect();
        let recs = fixture(recs);
        let f = run(&SuspiciousUserAgent, &recs, &cfg);
        let svc = f.iter().find(|f| f.ips == ["198.51.100.20"]).unwrap();
        assert_eq!(svc.severity, Severity::Low, "{f:#?}");
        assert!(
            svc.title.ends_with(", routine since the data begins"),
            "{}",
            svc.title
        );
        assert_eq!(fact(svc, "routine"), Some(&true.into()));
        let mut off = cfg.clone();
        off.suspicious_user_agent.routine_days = 0;
        let f = run(&SuspiciousUserAgent, &recs, &off);
        assert!(f.iter().all(|f| f.severity == Severity::High), "{f:#?}");
    }

    #[test]
    fn browsers_office_and_teams_stay_quiet() {
        let v = vec![
            signin(0, "a@contoso.com", "192.0.2.1", 0),
            with_ua(
                signin(10, "a@contoso.com", "192.0.2.1", 0),
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0 Teams/24004.1403.2634.2418/49",
            ),
            with_ua(
                signin(20, "a@contoso.com", "192.0.2.1", 0),
                "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)",
            ),
            with_ua(signin(30, "a@contoso.com", "192.0.2.1", 0), "Windows-AzureAD-Authentication-Provider/1.0"),
        ];
        let recs = fixture(v);
        assert!(run(&SuspiciousUserAgent, &recs, &DetectionConfig::default()).is_empty());
    }

    #[test]
    fn a_users_file_extends_or_replaces_the_pack_and_errors_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mine.toml");
        let entry = "[[fingerprint]]\ntool = \"in-house scanner\"\nfield = \"app_id\"\nmatch = \"exact\"\npattern = \"11111111-2222-3333-4444-555555555555\"\nsource = \"https://intranet.example/scanner\"\nfirst_seen = \"2026-11-30\"\n";
        std::fs::write(
            &path,
            format!("version = \"1\"\nupdated = \"2026-12-01\"\n{entry}"),
        )
        .unwrap();
        let mut cfg = DetectionConfig::default();
        cfg.suspicious_user_agent.fingerprints_file = path.display().to_string();
        cfg.suspicious_user_agent.use_builtin = false;
        load(&mut cfg.suspicious_user_agent).unwrap();
        let mut hit = with_ua(signin(0, "a@contoso.com", "192.0.2.1", 0), "curl/8.4.0");
        hit.app_id = "11111111-2222-3333-4444-555555555555".into();
        let recs = fixture(vec![
            hit,
            with_ua(signin(5, "b@contoso.com", "192.0.2.2", 0), "curl/8.4.0"),
        ]);
        let f = run(&SuspiciousUserAgent, &recs, &cfg);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(fact(&f[0], "tool"), Some(&"in-house scanner".into()));
        cfg.suspicious_user_agent.use_builtin = true;
        assert_eq!(run(&SuspiciousUserAgent, &recs, &cfg).len(), 2);

        let bad = format!(
            "version = \"1\"\nupdated = \"2026-12-01\"\n{entry}\n{}",
            entry.replace("2026-11-30", "last week")
        );
        std::fs::write(&path, bad).unwrap();
        let err = load(&mut cfg.suspicious_user_agent)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!("{}:11: ", path.display())),
            "{err}"
        );
        assert!(err.contains("first_seen"), "{err}");
        std::fs::write(&path, "version = \"1\"\nupdated = \"2026-12-01\"\n[[fingerprint]]\ntool = \"x\"\nfield = \"referrer\"\n").unwrap();
        let err = load(&mut cfg.suspicious_user_agent)
            .unwrap_err()
            .to_string();
        assert!(err.contains(":5: "), "{err}");
    }
}
