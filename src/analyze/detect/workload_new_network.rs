//! A service principal or managed identity signing in from a network it
//! had not used: its secret, certificate or token in someone else's hands.
//!
//! What it finds, why it matters, tuning and false positives:
//! `docs/workload_new_network.md` (the registry in `mod.rs` serves it).

use std::collections::{BTreeSet, HashSet};

use super::place::{NetworkKey, NetworkKeys};
use super::registry::Settings;
use super::sql::{self, Query};
use super::util::{self, Draft, HOUR_US};
use super::{Detection, DetectionConfig, Events};
use crate::model::{Finding, Severity, SignIn, SignInType, StatusClass, Text};
use serde::{Deserialize, Serialize};

pub struct WorkloadNewNetwork;

const KIND: &str = "workload_new_network";

/// The `[workload_new_network]` table of the settings file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadNewNetworkConfig {
    pub enabled: bool,
    /// Hours of data that teach each workload its networks; a sign-in
    /// earlier than that cannot be called new.
    pub min_baseline_hours: u32,
    /// A workload already seen on this many address blocks (/24 or /64)
    /// roams, as cloud egress pools do: a new block logged without an ASN
    /// then counts only from a country the workload had not used. 0: no
    /// workload roams.
    pub roaming_networks: u32,
}

impl Default for WorkloadNewNetworkConfig {
    fn default() -> Self {
        WorkloadNewNetworkConfig {
            enabled: true,
            min_baseline_hours: 24,
            roaming_networks: 2,
        }
    }
}

impl Settings for WorkloadNewNetworkConfig {
    const UNSET: &'static [(&'static str, &'static str)] = &[
        ("min_baseline_hours", "no baseline needed"),
        ("roaming_networks", "no workload roams"),
    ];
}

fn is_workload(r: &SignIn) -> bool {
    matches!(
        r.sign_in_type,
        SignInType::ServicePrincipal | SignInType::ManagedIdentity
    )
}

/// Which workload: its application id, else its object id or name.
fn workload_key(r: &SignIn) -> Option<&str> {
    [
        r.app_id.as_str(),
        r.user_id.as_str(),
        r.user_display_name.as_str(),
    ]
    .into_iter()
    .find(|s| !s.is_empty())
}

impl Detection for WorkloadNewNetwork {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn title(&self) -> &'static str {
        "Service principal or managed identity from a new network"
    }

    fn techniques(&self) -> &'static [&'static str] {
        &["T1078.004", "T1552.001"]
    }

    fn sql(&self, cfg: &DetectionConfig) -> Query {
        let c = &cfg.workload_new_network;
        let first = format!("ORDER BY {}, source_file, source_record", sql::ORDER);
        // The walk in `run`, said as sets: a use is from a new network when
        // it is the workload's first use of each of its network's keys
        // (ASN, /24 or /64), comes after the baseline, is not the
        // workload's first use (which teaches it a network however late it
        // comes) and, logged without an ASN after `roaming_networks`
        // blocks, is from a new country; a later use sharing a key with it
        // counts with it, with the earliest such one.
        Query::new()
            .note("the title lists at most three countries and counts the rest; facts leave out the known networks, countries and resources")
            .cte(
                "wn_use",
                format!(
                    "SELECT * FROM (\n    \
                     SELECT {}, user_display_name,\n      \
                     COALESCE(NULLIF(app_id, ''), NULLIF(user_id, ''), NULLIF(user_display_name, '')) AS workload,\n      \
                     asn, {} AS net, {} AS ipnet\n    \
                     FROM ev\n    \
                     WHERE sign_in_type IN ('service_principal', 'managed_identity') AND status = 'success' AND ip <> ''\n  \
                     ) u WHERE workload IS NOT NULL AND net IS NOT NULL",
                    sql::member_cols_bare(),
                    sql::network_key("asn", "ip"),
                    sql::network_of("ip")
                ),
            )
            .cte(
                // blocks_before: the distinct address blocks of the
                // workload's earlier uses.
                "wn_n",
                format!(
                    "SELECT v.*,\n    \
                     COALESCE(SUM(CASE WHEN ipnet IS NOT NULL AND rn = ipnet_first THEN 1 ELSE 0 END)\n      \
                     OVER (PARTITION BY workload ORDER BY rn ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS blocks_before\n  \
                     FROM (\n    \
                     SELECT u.*,\n      \
                     MIN(rn) OVER (PARTITION BY workload, asn) AS asn_first,\n      \
                     MIN(rn) OVER (PARTITION BY workload, ipnet) AS ipnet_first,\n      \
                     MIN(rn) OVER (PARTITION BY workload, country) AS country_first\n    \
                     FROM (SELECT w.*, ROW_NUMBER() OVER (PARTITION BY workload {first}) AS rn FROM wn_use w) u\n  \
                     ) v"
                ),
            )
            .cte(
                "wn_new",
                format!(
                    "SELECT workload, rn, net, asn, ipnet FROM wn_n\n  \
                     WHERE rn > 1 AND (asn IS NULL OR rn = asn_first) AND (ipnet IS NULL OR rn = ipnet_first)\n    \
                     AND {}{}",
                    sql::after_baseline("time", c.min_baseline_hours),
                    if c.roaming_networks > 0 {
                        format!(
                            "\n    AND NOT (asn IS NULL AND blocks_before >= {}\n      \
                             AND (COALESCE(country, '') = '' OR country_first < rn))",
                            c.roaming_networks
                        )
                    } else {
                        String::new()
                    }
                ),
            )
            .cte(
                "wn_pick",
                "SELECT u.workload, u.rn, MIN(m.rn) AS new_rn\n  \
                 FROM wn_n u JOIN wn_new m ON m.workload = u.workload AND m.rn <= u.rn\n    \
                 AND ((m.asn IS NOT NULL AND m.asn = u.asn) OR (m.ipnet IS NOT NULL AND m.ipnet = u.ipnet))\n  \
                 GROUP BY u.workload, u.rn",
            )
            .cte(
                "wn_hit",
                "SELECT u.*, concat(u.workload, '|', n.net) AS actor\n  \
                 FROM wn_n u JOIN wn_pick p ON p.workload = u.workload AND p.rn = u.rn\n  \
                 JOIN wn_new n ON n.workload = p.workload AND n.rn = p.new_rn",
            )
            .per_actor(KIND, "wn_hit", None, Some("MIN(ip)"))
            .member_cte(
                "wn_head",
                format!(
                    "SELECT actor, workload, net, what, name FROM (\n    \
                     SELECT actor, workload, net,\n      \
                     CASE WHEN sign_in_type = 'managed_identity' THEN 'Managed identity' ELSE 'Service principal' END AS what,\n      \
                     CASE WHEN COALESCE(app_name, '') <> '' THEN app_name ELSE COALESCE(user_display_name, '') END AS name,\n      \
                     ROW_NUMBER() OVER (PARTITION BY actor {first}) AS nth\n    \
                     FROM wn_hit\n  \
                     ) h WHERE nth = 1"
                ),
            )
            .member_cte("wn_ips", sql::first_three("wn_hit", "ip"))
            .member_cte("wn_countries", sql::first_three("wn_hit", "country"))
            .join("JOIN wn_head h ON h.actor = f.actor")
            .join("JOIN wn_ips i ON i.actor = f.actor")
            .join("LEFT JOIN wn_countries c ON c.actor = f.actor")
            .member_cte("wn_start", sql::RUN_START)
            .join("CROSS JOIN wn_start x")
            .severity("'high'")
            .title(format!(
                "concat(h.what, ' ', CASE WHEN h.name = '' THEN h.workload ELSE h.name END, ' signed in from ',\n    \
                 {},\n    \
                 ' (', h.net, CASE WHEN c.n IS NULL THEN '' ELSE concat(', ', {}) END,\n    \
                 '), a network it had not used: ', {}, ' sign-in', {})",
                sql::three_or_count("i", "addresses"),
                sql::three_text("c"),
                sql::text_num("f.count"),
                sql::plural("f.count")
            ))
            .fact("workload", sql::json_str("h.workload"))
            .fact("name", sql::json_str("h.name"))
            .fact("network", sql::json_str("h.net"))
            .fact("baseline_hours", sql::json_num(&sql::whole_hours("x.start", "f.first_seen")))
    }

    fn run(&self, ev: &Events, cfg: &DetectionConfig) -> Vec<Finding> {
        let c = &cfg.workload_new_network;
        let recs = ev.records;
        let Some(start_us) = ev.start_us() else {
            return Vec::new();
        };
        let baseline_end = start_us + i64::from(c.min_baseline_hours) * HOUR_US;
        let workloads = util::group_by(ev, cfg, |r| {
            (is_workload(r) && r.status == StatusClass::Success && !r.ip.is_empty())
                .then(|| workload_key(r))
                .flatten()
        });
        let mut out = Vec::new();
        let mut nets = NetworkKeys::default();
        for (key, uses) in workloads {
            // Every key (`NetworkKeys::all`) of the networks used so far:
            // a use sharing none of them after the baseline is from a new
            // network, and later uses sharing a key with it count with it.
            let mut seen: HashSet<NetworkKey> = HashSet::new();
            // The networks it used before, each by its first key, spelt
            // only for a finding.
            let mut known: HashSet<NetworkKey> = HashSet::new();
            let mut new: Vec<New> = Vec::new();
            // Address blocks and countries used so far: a workload on
            // many blocks is in a cloud's egress pool, where a block
            // without an ASN says little and a country says more.
            let mut blocks = 0;
            let mut countries: HashSet<Text> = HashSet::new();
            for &i in &uses {
                let r = &recs[i];
                let keys = nets.all(r);
                // The first key is the one a finding names the network by
                // (`NetworkKey::of`).
                let Some(first) = keys.clone().next() else {
                    continue;
                };
                if let Some(n) = new
                    .iter_mut()
                    .find(|n| keys.clone().any(|k| n.keys.contains(&k)))
                {
                    n.hits.push(i);
                } else if r.time_us >= baseline_end
                    && !seen.is_empty()
                    && !keys.clone().any(|k| seen.contains(&k))
                    && !(r.asn.is_none()
                        && c.roaming_networks > 0
                        && blocks >= c.roaming_networks
                        && (r.country.is_empty() || countries.contains(&r.country)))
                {
                    new.push(New {
                        net: first.to_string(),
                        keys: keys.clone().collect(),
                        hits: vec![i],
                    });
                } else {
                    known.insert(first);
                }
                for k in keys {
                    if seen.insert(k) && matches!(k, NetworkKey::Network(_)) {
                        blocks += 1;
                    }
                }
                countries.insert(r.country);
            }
            new.sort_by(|a, b| a.net.cmp(&b.net));
            let known: BTreeSet<String> = if new.is_empty() {
                BTreeSet::new()
            } else {
                known.iter().map(NetworkKey::to_string).collect()
            };
            for n in new {
                out.push(util::finding(
                    ev,
                    draft(recs, key, &n.net, &known, n.hits, start_us),
                ));
            }
        }
        out
    }
}

/// A network new to a workload: named by its first use's
/// [`NetworkKey`], known by all of that use's keys.
struct New {
    net: String,
    keys: Vec<NetworkKey>,
    hits: Vec<usize>,
}

fn draft(
    recs: &[SignIn],
    key: &str,
    net: &str,
    known: &BTreeSet<String>,
    hits: Vec<usize>,
    start_us: i64,
) -> Draft {
    let first = &recs[hits[0]];
    let name = if first.app_name.is_empty() {
        first.user_display_name.as_str()
    } else {
        first.app_name.as_str()
    };
    let what = match first.sign_in_type {
        SignInType::ManagedIdentity => "Managed identity",
        _ => "Service principal",
    };
    let ips = util::distinct(recs, &hits, |r| r.ip.as_str());
    let countries = util::distinct(recs, &hits, |r| r.country.as_str());
    let title = format!(
        "{what} {} signed in from {} ({net}{}), a network it had not used: {} sign-in{}",
        if name.is_empty() { key } else { name },
        util::addresses_text(&ips),
        if countries.is_empty() {
            String::new()
        } else {
            format!(", {}", countries.join(", "))
        },
        hits.len(),
        if hits.len() == 1 { "" } else { "s" }
    );
    let remediation = vec![
        format!("Check who holds the credentials of {} ({key}): rotate its client secrets and certificates, and revoke what it issued if the network is not one of yours.", if name.is_empty() { key } else { name }),
        "Review what it did from there: the resources in these sign-ins, and the audit log for role assignments, new credentials and consents it made.".to_string(),
        "Limit where the workload may sign in from with Conditional Access for workload identities, once its networks are known.".to_string(),
    ];
    let known: Vec<&str> = known.iter().map(String::as_str).collect();
    let d = Draft {
        events: hits.clone(),
        remediation,
        ..Draft::new(KIND, format!("{key}|{net}"), Severity::High, title)
    };
    d.fact("workload", key)
        .fact("name", name)
        .fact("network", net)
        .fact("known_networks", util::json_list(&known))
        .fact("countries", util::json_list(&countries))
        .fact(
            "resources",
            util::json_list(&util::distinct(recs, &hits, |r| r.resource.as_str())),
        )
        .fact("baseline_hours", (first.time_us - start_us) / HOUR_US)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::detect::util::testing::*;

    const DAY: i64 = 86_400;

    fn sp(sec: i64, ip: &str, asn: i64, country: &str) -> SignIn {
        SignIn {
            sign_in_type: SignInType::ServicePrincipal,
            app_id: "app-backup".into(),
            app_name: "Backup job".into(),
            asn: Some(asn),
            country: country.into(),
            ..signin(sec, "", ip, 0)
        }
    }

    #[test]
    fn a_workload_from_a_new_network_after_its_baseline_fires() {
        let mut v: Vec<SignIn> = (0..6)
            .map(|d| sp(d * DAY, "192.0.2.50", 8075, "US"))
            .collect();
        v.push(sp(4 * DAY + 60, "203.0.113.77", 12389, "RU"));
        v.push(sp(4 * DAY + 120, "203.0.113.77", 12389, "RU"));
        let recs = fixture(v);
        let f = run(&WorkloadNewNetwork, &recs, &DetectionConfig::default());
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!((f[0].severity, f[0].count), (Severity::High, 2));
        assert_eq!(f[0].ips, vec!["203.0.113.77"]);
        assert!(f[0].title.contains("Backup job"), "{}", f[0].title);
    }

    #[test]
    fn an_address_logged_with_and_without_its_asn_is_one_network() {
        let mut v: Vec<SignIn> = (0..2)
            .map(|d| sp(d * DAY, "192.0.2.50", 8075, "US"))
            .collect();
        // Its own address without the ASN, after the baseline: quiet.
        v.push(SignIn {
            asn: None,
            ..sp(3 * DAY, "192.0.2.50", 0, "US")
        });
        // A new network, then its /24 without the ASN: one finding.
        v.push(sp(4 * DAY, "203.0.113.77", 12389, "RU"));
        v.push(SignIn {
            asn: None,
            ..sp(4 * DAY + 60, "203.0.113.78", 0, "RU")
        });
        let f = run(
            &WorkloadNewNetwork,
            &fixture(v),
            &DetectionConfig::default(),
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].count, 2);
        assert_eq!(fact(&f[0], "network"), Some(&"AS12389".into()));
    }

    #[test]
    fn its_usual_networks_a_failure_and_the_baseline_stay_quiet() {
        let mut v: Vec<SignIn> = (0..6)
            .map(|d| sp(d * DAY, "192.0.2.50", 8075, "US"))
            .collect();
        // Two networks in the first day are both its own.
        v.push(sp(3600, "198.51.100.4", 3356, "US"));
        v.push(sp(3 * DAY, "198.51.100.9", 3356, "US"));
        // A failed attempt with a wrong secret teaches nothing and is not
        // a sign-in from there.
        let mut bad = sp(2 * DAY, "203.0.113.77", 12389, "RU");
        bad.error_code = 7000215;
        bad.status = StatusClass::Failure;
        v.push(bad);
        let recs = fixture(v);
        assert!(run(&WorkloadNewNetwork, &recs, &DetectionConfig::default()).is_empty());
    }

    #[test]
    fn a_workload_in_a_cloud_egress_pool_is_judged_by_country_without_an_asn() {
        // Logged without ASNs, as the portal's ApplicationSignIns download
        // is: a job whose cloud hands it a new address block every run.
        let pooled = |sec, ip: &str, country: &str| SignIn {
            asn: None,
            ..sp(sec, ip, 0, country)
        };
        let mut v: Vec<SignIn> = ["20.1.2.3", "40.5.6.7", "52.8.9.10", "13.11.12.13"]
            .iter()
            .enumerate()
            .map(|(n, ip)| pooled(n as i64 * 3600, ip, "US"))
            .collect();
        v.push(pooled(2 * DAY, "20.99.1.1", "US"));
        v.push(pooled(2 * DAY + 60, "51.7.7.7", "US"));
        let recs = fixture(v.clone());
        let f = run(&WorkloadNewNetwork, &recs, &DetectionConfig::default());
        assert!(f.is_empty(), "{f:#?}");
        // From a country it never used: a finding.
        v.push(pooled(3 * DAY, "203.0.113.77", "RU"));
        let f = run(
            &WorkloadNewNetwork,
            &fixture(v.clone()),
            &DetectionConfig::default(),
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].ips, vec!["203.0.113.77"]);
        // With roaming off every new block counts.
        let mut cfg = DetectionConfig::default();
        cfg.workload_new_network.roaming_networks = 0;
        assert_eq!(run(&WorkloadNewNetwork, &fixture(v), &cfg).len(), 3);
        // A job that always ran from one block is not roaming: a second
        // block in its own country counts.
        let fixed = vec![
            pooled(0, "192.0.2.50", "US"),
            pooled(3600, "192.0.2.51", "US"),
            pooled(2 * DAY, "198.51.100.9", "US"),
        ];
        let f = run(
            &WorkloadNewNetwork,
            &fixture(fixed),
            &DetectionConfig::default(),
        );
        assert_eq!(f.len(), 1, "{f:#?}");
    }
}
