//! Successful sign-ins from a hosting, VPN or Tor network that the account
//! had not signed in from before.
//!
//! What it finds, why it matters, tuning and false positives:
//! `docs/hosting_provider_sign_in.md` (the registry in `mod.rs` serves
//! it). The networks are `data/hosting_asns.toml`, compiled in.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::datafile::{self, DataFileError};
use super::registry::{Invalid, Settings};
use super::sql::{self, Query};
use super::util::{self, Draft, HOUR_US};
use super::{Detection, DetectionConfig, Events};
use crate::analyze::coverage::Need;
use crate::model::{Finding, Severity, StatusClass};
use serde::{Deserialize, Serialize};

pub struct HostingProviderSignIn;

const KIND: &str = "hosting_provider_sign_in";
const BUILTIN_NAME: &str = "built-in data/hosting_asns.toml";
const BUILTIN: &str = include_str!("../../../data/hosting_asns.toml");

/// The `[hosting_provider_sign_in]` table of the settings file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostingProviderSignInConfig {
    pub enabled: bool,
    /// Hours of data before a sign-in that count as the baseline; a
    /// sign-in earlier than that cannot be called new.
    pub min_baseline_hours: u32,
    /// The user's own networks (same shape as the built-in file), used
    /// before the built-in ones; empty for none.
    pub asn_file: String,
    pub use_builtin: bool,
    /// Loaded from `asn_file` by [`load`]; not part of the TOML.
    #[serde(skip)]
    pub loaded: Option<Arc<Vec<Network>>>,
}

impl Default for HostingProviderSignInConfig {
    fn default() -> Self {
        HostingProviderSignInConfig {
            enabled: true,
            min_baseline_hours: 24,
            asn_file: String::new(),
            use_builtin: true,
            loaded: None,
        }
    }
}

impl Settings for HostingProviderSignInConfig {
    const UNSET: &'static [(&'static str, &'static str)] = &[
        ("asn_file", "none (built-in only)"),
        ("min_baseline_hours", "no baseline needed"),
    ];

    fn check(&self) -> Result<(), Invalid> {
        if !self.use_builtin && self.asn_file.trim().is_empty() {
            return Err(Invalid::new(
                "use_builtin",
                "is false but no asn_file is given: no network would count",
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Hosting,
    Vpn,
    Tor,
}

impl Category {
    fn as_str(self) -> &'static str {
        match self {
            Category::Hosting => "hosting",
            Category::Vpn => "vpn",
            Category::Tor => "tor",
        }
    }
}

/// One entry of a network file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    pub asn: i64,
    pub name: String,
    pub category: Category,
    pub source: String,
    pub added: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Pack {
    #[allow(dead_code)]
    version: String,
    updated: String,
    #[serde(default)]
    network: Vec<toml::Spanned<Network>>,
}

/// Parses and checks a network file: every entry needs a positive ASN, a
/// name, a source URL and the date it was added.
pub fn parse(text: &str, file: &str) -> Result<Vec<Network>, DataFileError> {
    let pack: Pack = datafile::parse(text, file)?;
    datafile::check_updated(&pack.updated, file)?;
    let mut out = Vec::with_capacity(pack.network.len());
    for entry in pack.network {
        let line = datafile::line_of(text, entry.span().start);
        let n = entry.into_inner();
        if n.asn <= 0 || n.asn > i64::from(u32::MAX) || n.name.trim().is_empty() {
            return Err(DataFileError {
                file: file.to_string(),
                line,
                problem: format!(
                    "`asn` must be a number from 1 to 4294967295 and `name` not empty (asn = {})",
                    n.asn
                ),
            });
        }
        datafile::check_provenance(file, line, &n.source, &n.added, "added")?;
        out.push(n);
    }
    Ok(out)
}

fn builtin() -> Vec<Network> {
    parse(BUILTIN, BUILTIN_NAME).unwrap_or_default()
}

/// Reads the user's `asn_file`, if any, into the settings.
pub(crate) fn load(c: &mut HostingProviderSignInConfig) -> Result<(), DataFileError> {
    let path = c.asn_file.trim();
    if !path.is_empty() {
        let text = datafile::read(path)?;
        c.loaded = Some(Arc::new(parse(&text, path)?));
    }
    Ok(())
}

/// ASN -> network in force; the user's entry wins over a built-in one.
fn in_force(c: &HostingProviderSignInConfig) -> BTreeMap<i64, Network> {
    let mut all = BTreeMap::new();
    if c.use_builtin {
        all.extend(builtin().into_iter().map(|n| (n.asn, n)));
    }
    if let Some(mine) = &c.loaded {
        all.extend(mine.iter().map(|n| (n.asn, n.clone())));
    }
    all
}

impl Detection for HostingProviderSignIn {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn title(&self) -> &'static str {
        "Success from a hosting, VPN or Tor network new to the account"
    }

    fn techniques(&self) -> &'static [&'static str] {
        &["T1078.004"]
    }

    fn needs(&self) -> &'static [Need] {
        &[Need::Asn]
    }

    fn sql(&self, cfg: &DetectionConfig) -> Query {
        let c = &cfg.hosting_provider_sign_in;
        let nets = in_force(c);
        let asns: Vec<String> = nets.keys().map(i64::to_string).collect();
        // The finding's network, from its actor `<account>|AS<asn>`.
        let asn = "substr(f.actor, length(f.user_principal_name) + 4)";
        let listed = if asns.is_empty() {
            "FALSE".to_string()
        } else {
            format!("asn IN ({})", asns.join(", "))
        };
        Query::new()
            .cte(
                "hosted",
                format!(
                    "SELECT {}, asn, {} AS on_managed\n  \
                     FROM ev\n  \
                     WHERE status = 'success' AND user_principal_name <> '' AND {listed}",
                    sql::member_cols_bare(),
                    sql::ON_MANAGED
                ),
            )
            .cte(
                "hosted_first",
                "SELECT user_principal_name, asn, MIN(time) AS first_time FROM hosted GROUP BY user_principal_name, asn",
            )
            .select(format!(
                "SELECT {}, {}, MIN(h.on_managed) AS on_managed\nFROM hosted h JOIN hosted_first f\n  \
                 ON h.user_principal_name = f.user_principal_name AND h.asn = f.asn\n\
                 WHERE {}\n\
                 GROUP BY h.user_principal_name, h.asn",
                sql::head(
                    KIND,
                    "concat(h.user_principal_name, '|AS', CAST(h.asn AS STRING))",
                    Some("h.user_principal_name"),
                    Some("MIN(h.ip)")
                ),
                sql::SPAN,
                sql::after_baseline("f.first_time", c.min_baseline_hours)
            ))
            .events(format!(
                "SELECT f.actor, f.first_seen AS found_first, {}\n    \
                 FROM found f JOIN hosted e ON concat(e.user_principal_name, '|AS', CAST(e.asn AS STRING)) = f.actor",
                sql::member_cols("e")
            ))
            .member_cte("hp_start", sql::RUN_START)
            .join("CROSS JOIN hp_start x")
            .severity(format!(
                "CASE WHEN f.on_managed = 1 THEN 'low' {} ELSE 'medium' END",
                nets.values()
                    .map(|n| format!(
                        "WHEN {asn} = '{}' THEN '{}'",
                        n.asn,
                        match n.category {
                            Category::Hosting => "medium",
                            Category::Vpn | Category::Tor => "high",
                        }
                    ))
                    .collect::<Vec<_>>()
                    .join(" ")
            ))
            .title(format!(
                "concat(f.user_principal_name, ' signed in from ', CASE WHEN FALSE THEN NULL {} ELSE '' END, ' (AS', {asn}, ') for the first time in ',\n    \
                 {}, ' of data: ', {}, ' success', CASE WHEN f.count = 1 THEN '' ELSE 'es' END,\n    \
                 CASE WHEN f.on_managed = 1 THEN ', each from a managed device' ELSE '' END)",
                nets.values()
                    .map(|n| format!(
                        "WHEN {asn} = '{}' THEN {}",
                        n.asn,
                        sql::lit(&format!(
                            "{} {}",
                            match n.category {
                                Category::Hosting => "hosting provider",
                                Category::Vpn => "VPN provider",
                                Category::Tor => "Tor exit operator",
                            },
                            n.name
                        ))
                    ))
                    .collect::<Vec<_>>()
                    .join(" "),
                sql::span_text(&sql::seconds_between("x.start", "f.first_seen")),
                sql::text_num("f.count")
            ))
            .fact("asn", asn)
            .fact(
                "network",
                sql::json_str(&format!(
                    "CASE WHEN FALSE THEN NULL {} END",
                    nets.values()
                        .map(|n| format!("WHEN {asn} = '{}' THEN {}", n.asn, sql::lit(&n.name)))
                        .collect::<Vec<_>>()
                        .join(" ")
                )),
            )
            .fact(
                "category",
                sql::json_str(&format!(
                    "CASE WHEN FALSE THEN NULL {} END",
                    nets.values()
                        .map(|n| format!("WHEN {asn} = '{}' THEN '{}'", n.asn, n.category.as_str()))
                        .collect::<Vec<_>>()
                        .join(" ")
                )),
            )
            .fact("managed_device", sql::json_bool("f.on_managed = 1"))
            .baseline_facts("x.start", "f.first_seen")
    }

    fn run(&self, ev: &Events, cfg: &DetectionConfig) -> Vec<Finding> {
        let c = &cfg.hosting_provider_sign_in;
        let nets = in_force(c);
        let recs = ev.records;
        let Some(start_us) = ev.start_us() else {
            return Vec::new();
        };
        let groups = util::group_by(ev, cfg, |r| {
            let asn = r.asn?;
            (r.status == StatusClass::Success
                && !r.user_principal_name.is_empty()
                && nets.contains_key(&asn))
            .then(|| (r.user_principal_name.as_str(), asn))
        });
        let mut out = Vec::new();
        for ((user, asn), events) in groups {
            let first = recs[events[0]].time_us;
            let baseline_us = first - start_us;
            // A success from this network inside the baseline means the
            // account works from it (a company VPN, a jump host).
            // With history, a network the account used in earlier runs is
            // its own, and the history is a baseline however early in this
            // data the sign-in comes.
            if ev.history_used_asn(user, asn)
                || (baseline_us < i64::from(c.min_baseline_hours) * HOUR_US
                    && !ev.history_has(user))
            {
                continue;
            }
            let net = &nets[&asn];
            let baseline = ev.baseline_text(user, baseline_us);
            out.push(util::finding(
                ev,
                draft(ev, user, net, baseline_us, events).fact("baseline", baseline),
            ));
        }
        out
    }
}

fn draft(ev: &Events, user: &str, net: &Network, baseline_us: i64, events: Vec<usize>) -> Draft {
    let recs = ev.records;
    let first = &recs[events[0]];
    let what = match net.category {
        Category::Hosting => "hosting provider",
        Category::Vpn => "VPN provider",
        Category::Tor => "Tor exit operator",
    };
    // Every success from a device the tenant manages (Intune compliant, or
    // joined): a Windows 365 or Azure Virtual Desktop host, or the owner's
    // laptop on a VPN. A rented server presents no such device.
    let managed = events.iter().all(|&i| recs[i].on_managed_device());
    let devices = if managed {
        ", each from a managed device"
    } else {
        ""
    };
    let title = format!(
        "{user} signed in from {what} {} (AS{}) for the first time in {} of data: {} success{}{devices}",
        net.name,
        net.asn,
        util::span_text(baseline_us),
        events.len(),
        if events.len() == 1 { "" } else { "es" },
    );
    // Anonymising networks are chosen to hide; a cloud host may be a
    // forgotten jump box.
    let severity = match net.category {
        _ if managed => Severity::Low,
        Category::Hosting => Severity::Medium,
        Category::Vpn | Category::Tor => Severity::High,
    };
    let remediation = vec![
        format!("Ask {user} whether they used {} (AS{}) at {}; if not, revoke their sessions, reset the password and review MFA methods and devices registered since.", net.name, net.asn, util::rfc3339(first.time_us)),
        "If the organisation has no business on hosting or anonymising networks, block them for sign-in with a Conditional Access named location or require a compliant device.".to_string(),
    ];
    let d = Draft {
        events: events.clone(),
        remediation,
        ..Draft::new(KIND, format!("{user}|AS{}", net.asn), severity, title)
    };
    d.fact("asn", net.asn)
        .fact("network", net.name.clone())
        .fact("category", net.category.as_str())
        .fact("managed_device", managed)
        .fact("baseline_hours", baseline_us / HOUR_US)
        .fact(
            "countries",
            util::json_list(&util::distinct(recs, &events, |r| r.country.as_str())),
        )
        .fact(
            "apps",
            util::json_list(&util::distinct(recs, &events, |r| r.app_name.as_str())),
        )
        .fact(
            "user_agents",
            util::json_list(&util::distinct(recs, &events, |r| r.user_agent.as_str())),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::detect::util::testing::*;
    use crate::model::SignIn;

    const DAY: i64 = 86_400;

    fn at(sec: i64, user: &str, ip: &str, code: i64, asn: i64) -> SignIn {
        SignIn {
            asn: Some(asn),
            ..signin(sec, user, ip, code)
        }
    }

    #[test]
    fn the_built_in_list_parses_with_sources() {
        let all = parse(BUILTIN, BUILTIN_NAME).unwrap();
        for asn in [
            16509, 14618, 8075, 396982, 15169, 14061, 16276, 24940, 9009, 20473, 63949, 51167,
            12876,
        ] {
            assert!(all.iter().any(|n| n.asn == asn), "AS{asn} missing");
        }
        assert!(all.iter().any(|n| n.category == Category::Tor));
        assert!(all.iter().any(|n| n.name.contains("Leaseweb")));
    }

    #[test]
    fn a_new_hosting_network_fires_and_the_company_vpn_stays_quiet() {
        let v = vec![
            // Office traffic for a week; the VPN user works through M247
            // from the first hour.
            at(0, "alice@contoso.com", "192.0.2.10", 0, 7018),
            at(60, "vpn.user@contoso.com", "198.51.100.77", 0, 9009),
            at(3 * DAY, "vpn.user@contoso.com", "198.51.100.78", 0, 9009),
            at(2 * DAY, "alice@contoso.com", "192.0.2.10", 0, 7018),
            // Alice from DigitalOcean on day 4: new.
            at(4 * DAY, "alice@contoso.com", "203.0.113.40", 0, 14061),
            at(4 * DAY + 600, "alice@contoso.com", "203.0.113.40", 0, 14061),
            // A failure from a hosting network is not a sign-in.
            at(4 * DAY, "bob@contoso.com", "203.0.113.41", 50126, 14061),
        ];
        let recs = fixture(v);
        let f = run(&HostingProviderSignIn, &recs, &DetectionConfig::default());
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].users, vec!["alice@contoso.com"]);
        assert_eq!((f[0].count, f[0].severity), (2, Severity::Medium));
        assert_eq!(fact(&f[0], "baseline_hours"), Some(&(4 * 24).into()));
        assert_eq!(fact(&f[0], "asn"), Some(&14061.into()));
        assert!(f[0].title.contains("4 days of data"), "{}", f[0].title);
    }

    #[test]
    fn too_short_a_baseline_says_nothing_and_a_users_list_adds_networks() {
        let recs = fixture(vec![
            at(0, "alice@contoso.com", "192.0.2.10", 0, 7018),
            at(3600, "alice@contoso.com", "203.0.113.40", 0, 14061),
            at(3 * DAY, "alice@contoso.com", "203.0.113.50", 0, 64_500),
        ]);
        assert!(run(&HostingProviderSignIn, &recs, &DetectionConfig::default()).is_empty());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nets.toml");
        std::fs::write(&path, "version = \"1\"\nupdated = \"2026-12-01\"\n\n[[network]]\nasn = 64500\nname = \"Example VPN\"\ncategory = \"vpn\"\nsource = \"https://example.net/asn\"\nadded = \"2026-12-01\"\n").unwrap();
        let mut cfg = DetectionConfig::default();
        cfg.hosting_provider_sign_in.asn_file = path.display().to_string();
        load(&mut cfg.hosting_provider_sign_in).unwrap();
        let f = run(&HostingProviderSignIn, &recs, &cfg);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::High);
        std::fs::write(&path, "version = \"1\"\nupdated = \"2026-12-01\"\n\n[[network]]\nasn = 64500\nname = \"Example VPN\"\ncategory = \"vpn\"\nsource = \"an email\"\nadded = \"2026-12-01\"\n").unwrap();
        let err = load(&mut cfg.hosting_provider_sign_in)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with(&format!("{}:4: ", path.display())), "{err}");
    }

    #[test]
    fn a_cloud_pc_on_a_managed_device_is_low_and_one_unmanaged_success_is_not() {
        let cloud_pc = |sec, user: &str, compliant: Option<bool>, managed: Option<bool>| SignIn {
            device_id: "cpc-host-01".into(),
            compliant,
            managed,
            ..at(sec, user, "20.42.7.9", 0, 8075)
        };
        let recs = fixture(vec![
            at(0, "carol@contoso.com", "192.0.2.10", 0, 7018),
            at(0, "dan@contoso.com", "192.0.2.11", 0, 7018),
            // Carol's first day on her Windows 365 cloud PC.
            cloud_pc(3 * DAY, "carol@contoso.com", Some(true), Some(true)),
            cloud_pc(3 * DAY + 900, "carol@contoso.com", None, Some(true)),
            // Dan on the same network: one success from no managed device.
            cloud_pc(3 * DAY, "dan@contoso.com", Some(true), None),
            at(3 * DAY + 600, "dan@contoso.com", "20.42.7.10", 0, 8075),
        ]);
        let f = run(&HostingProviderSignIn, &recs, &DetectionConfig::default());
        let of = |u: &str| f.iter().find(|f| f.users == [u]).unwrap();
        let carol = of("carol@contoso.com");
        assert_eq!(carol.severity, Severity::Low);
        assert_eq!(fact(carol, "managed_device"), Some(&true.into()));
        assert!(
            carol.title.ends_with(", each from a managed device"),
            "{}",
            carol.title
        );
        let dan = of("dan@contoso.com");
        assert_eq!(dan.severity, Severity::Medium);
        assert_eq!(fact(dan, "managed_device"), Some(&false.into()));
    }
}
