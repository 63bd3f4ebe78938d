//! Who the sign-ins came through: one row per user-agent string and per
//! autonomous system, the user agents that name attack tooling, and the
//! countries rarely seen in this tenant. The workbook renders these; they
//! are counted here, once.

use crate::enrich::EnrichReport;
use crate::model::time::format_time;
use crate::model::{SignIn, StatusClass, Text};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

type Fixed = foldhash::fast::FixedState;

/// Substrings (matched without case) of user agents that scripted attacks
/// send, with what they are. Password sprays and enumerations are run
/// from HTTP libraries and command-line tools far more than from browsers;
/// `BAV2ROPC` is the agent Exchange Online logs for the legacy
/// resource-owner password flow that spray tools drive. A browser string
/// can be forged, so an empty `tool` clears nothing.
pub const ATTACK_AGENTS: &[(&str, &str)] = &[
    ("python-requests", "Python HTTP library"),
    ("python-urllib", "Python HTTP library"),
    ("aiohttp", "Python HTTP library"),
    ("httpx", "Python HTTP library"),
    ("axios", "Node.js HTTP library"),
    ("node-fetch", "Node.js HTTP library"),
    ("go-http-client", "Go HTTP library"),
    ("curl/", "command-line HTTP client"),
    ("wget/", "command-line HTTP client"),
    ("libwww-perl", "Perl HTTP library"),
    ("java/", "Java HTTP library"),
    ("okhttp", "Java HTTP library"),
    ("powershell", "PowerShell"),
    ("bav2ropc", "legacy password flow (ROPC) client"),
];

/// A country is rare below this share of the sign-ins that name one.
pub const RARE_SHARE: f64 = 0.01;

/// What a user agent says it is, when it names attack tooling.
pub fn attack_tool(user_agent: &str) -> Option<&'static str> {
    let ua = user_agent.to_ascii_lowercase();
    ATTACK_AGENTS
        .iter()
        .find(|(marker, _)| ua.contains(marker))
        .map(|(_, what)| *what)
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AgentRow {
    pub user_agent: String,
    /// Attack tooling the string names (see [`ATTACK_AGENTS`]), or empty.
    pub tool: String,
    pub sign_ins: u64,
    pub successes: u64,
    pub failures: u64,
    pub interrupts: u64,
    pub users: u64,
    pub ips: u64,
    pub first_seen: String,
    pub last_seen: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AsnRow {
    pub asn: i64,
    /// From the `--asn` database, when one named it.
    pub org: String,
    pub sign_ins: u64,
    pub successes: u64,
    pub failures: u64,
    pub interrupts: u64,
    pub users: u64,
    pub ips: u64,
    /// Distinct countries, ascending, `;`-separated.
    pub countries: String,
    pub first_seen: String,
    pub last_seen: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CountryShare {
    pub country: String,
    pub sign_ins: u64,
    /// Share of the sign-ins that name a country.
    pub share: f64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentTables {
    /// Most failures first, then most sign-ins, then the string.
    pub user_agents: Vec<AgentRow>,
    /// Same order; sign-ins without an AS number are not counted.
    pub asns: Vec<AsnRow>,
    /// Countries below [`RARE_SHARE`], fewest sign-ins first.
    pub rare_countries: Vec<CountryShare>,
}

#[derive(Default)]
struct Acc {
    sign_ins: u64,
    successes: u64,
    failures: u64,
    interrupts: u64,
    users: HashSet<Text, Fixed>,
    ips: HashSet<Text, Fixed>,
    countries: BTreeSet<Text>,
    first: i64,
    last: i64,
}

impl Acc {
    fn add(&mut self, r: &SignIn) {
        if self.sign_ins == 0 {
            self.first = r.time_us;
        }
        self.sign_ins += 1;
        self.first = self.first.min(r.time_us);
        self.last = self.last.max(r.time_us);
        match r.status {
            StatusClass::Success => self.successes += 1,
            StatusClass::Failure => self.failures += 1,
            StatusClass::Interrupted => self.interrupts += 1,
        }
        if !r.user_principal_name.is_empty() {
            self.users.insert(r.user_principal_name);
        }
        if !r.ip.is_empty() {
            self.ips.insert(r.ip);
        }
        if !r.country.is_empty() {
            self.countries.insert(r.country);
        }
    }
}

fn ranked<K>(map: HashMap<K, Acc, Fixed>, name: impl Fn(&K) -> String) -> Vec<(K, String, Acc)> {
    let mut v: Vec<(K, String, Acc)> = map
        .into_iter()
        .map(|(k, a)| {
            let n = name(&k);
            (k, n, a)
        })
        .collect();
    v.sort_by(|a, b| {
        (b.2.failures, b.2.sign_ins)
            .cmp(&(a.2.failures, a.2.sign_ins))
            .then_with(|| a.1.cmp(&b.1))
    });
    v
}

/// The tables over de-duplicated sign-ins; AS organisations come from the
/// enrichment's per-address table.
pub fn tables(records: &[SignIn], enrichment: Option<&EnrichReport>) -> AgentTables {
    let mut by_ua: HashMap<Text, Acc, Fixed> = HashMap::default();
    let mut by_asn: HashMap<i64, Acc, Fixed> = HashMap::default();
    let mut by_country: HashMap<Text, u64, Fixed> = HashMap::default();
    for r in records {
        by_ua.entry(r.user_agent).or_default().add(r);
        if let Some(a) = r.asn {
            by_asn.entry(a).or_default().add(r);
        }
        if !r.country.is_empty() {
            *by_country.entry(r.country).or_default() += 1;
        }
    }
    let mut orgs: BTreeMap<i64, &str> = BTreeMap::new();
    for row in enrichment.map_or(&[][..], |e| &e.ips[..]) {
        if let (Some(a), false) = (row.asn, row.org.is_empty()) {
            orgs.entry(a).or_insert(&row.org);
        }
    }
    let user_agents = ranked(by_ua, |k| k.to_string())
        .into_iter()
        .map(|(k, ua, a)| AgentRow {
            tool: attack_tool(k.as_str()).unwrap_or("").to_string(),
            user_agent: ua,
            sign_ins: a.sign_ins,
            successes: a.successes,
            failures: a.failures,
            interrupts: a.interrupts,
            users: a.users.len() as u64,
            ips: a.ips.len() as u64,
            first_seen: format_time(a.first),
            last_seen: format_time(a.last),
        })
        .collect();
    // Numbers sort as numbers: ties break on the zero-padded text.
    let asns = ranked(by_asn, |k| format!("{k:020}"))
        .into_iter()
        .map(|(asn, _, a)| AsnRow {
            asn,
            org: orgs.get(&asn).copied().unwrap_or("").to_string(),
            sign_ins: a.sign_ins,
            successes: a.successes,
            failures: a.failures,
            interrupts: a.interrupts,
            users: a.users.len() as u64,
            ips: a.ips.len() as u64,
            countries: a
                .countries
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(";"),
            first_seen: format_time(a.first),
            last_seen: format_time(a.last),
        })
        .collect();
    let located: u64 = by_country.values().sum();
    let mut rare_countries: Vec<CountryShare> = by_country
        .into_iter()
        .map(|(c, n)| CountryShare {
            country: c.to_string(),
            sign_ins: n,
            share: n as f64 / located.max(1) as f64,
        })
        .filter(|c| c.share < RARE_SHARE)
        .collect();
    rare_countries.sort_by(|a, b| {
        a.sign_ins
            .cmp(&b.sign_ins)
            .then_with(|| a.country.cmp(&b.country))
    });
    AgentTables {
        user_agents,
        asns,
        rare_countries,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::codes::status_class;

    fn at(
        sec: i64,
        user: &str,
        ip: &str,
        ua: &str,
        code: i64,
        cc: &str,
        asn: Option<i64>,
    ) -> SignIn {
        SignIn {
            time_us: sec * 1_000_000,
            user_principal_name: user.into(),
            ip: ip.into(),
            user_agent: ua.into(),
            error_code: code,
            status: status_class(code),
            country: cc.into(),
            asn,
            ..SignIn::default()
        }
    }

    #[test]
    fn counts_per_agent_and_network_with_tools_named_and_rare_countries() {
        let mut recs = Vec::new();
        for i in 0..400 {
            recs.push(at(
                i,
                "alex@contoso.com",
                "192.0.2.1",
                "Mozilla/5.0 Edge",
                0,
                "US",
                Some(7922),
            ));
        }
        for i in 0..3 {
            let user = format!("u{i}@contoso.com");
            recs.push(at(
                300 + i,
                &user,
                "203.0.113.9",
                "python-requests/2.31.0",
                50126,
                "NG",
                Some(64500),
            ));
        }
        recs.push(at(
            400,
            "alex@contoso.com",
            "198.51.100.3",
            "BAV2ROPC",
            50053,
            "US",
            None,
        ));
        let t = tables(&recs, None);
        assert_eq!(t.user_agents.len(), 3);
        let py = &t.user_agents[0];
        assert_eq!(
            (
                py.user_agent.as_str(),
                py.tool.as_str(),
                py.failures,
                py.users,
                py.ips
            ),
            ("python-requests/2.31.0", "Python HTTP library", 3, 3, 1)
        );
        assert_eq!(py.first_seen, "1970-01-01T00:05:00Z");
        assert_eq!(t.user_agents[1].tool, "legacy password flow (ROPC) client");
        assert_eq!(t.user_agents[2].tool, "");
        assert_eq!(t.user_agents[2].successes, 400);
        assert_eq!(
            t.asns.iter().map(|a| a.asn).collect::<Vec<_>>(),
            [64500, 7922]
        );
        assert_eq!(t.asns[0].countries, "NG");
        assert_eq!(t.asns.iter().map(|a| a.sign_ins).sum::<u64>(), 403);
        let rare: Vec<&str> = t
            .rare_countries
            .iter()
            .map(|c| c.country.as_str())
            .collect();
        assert_eq!(rare, ["NG"]);
        assert_eq!(
            attack_tool("Mozilla/5.0 (compatible) Go-http-client/1.1"),
            Some("Go HTTP library")
        );
        assert_eq!(attack_tool(""), None);
    }
}
