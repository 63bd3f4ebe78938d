//! Per-account profiles kept across weekly runs: where each account
//! signed in successfully (countries, networks, devices, clients, apps).
//!
//! Every report folder carries `profiles.json` for its own data; a later
//! `analyze --history DIR` reads those of the earlier runs and the
//! detections that ask "has this account been here before?" (a replayed
//! session, device-code phishing, a hosting network, a known password from
//! a new place) use them as the baseline, so "new" means new for weeks,
//! not new since the start of this export. Without history the earlier
//! part of the data is the baseline, and each finding says how long it
//! was.
//!
//! A profile grows with the places an account uses, not with its sign-ins.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::net::network_of;
use crate::model::time::format_time;
use crate::model::{FastHash, SignIn, StatusClass, Text};

/// File name of a run's profiles inside its report folder.
pub const FILE: &str = "profiles.json";
const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum ProfilesError {
    #[error("cannot read history folder {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// Where one account signed in successfully.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub countries: BTreeSet<String>,
    /// Autonomous system numbers, each with the country it was used in.
    pub asns: BTreeSet<(i64, String)>,
    /// /24 and /64 networks.
    pub networks: BTreeSet<String>,
    pub devices: BTreeSet<String>,
    pub user_agents: BTreeSet<String>,
    pub apps: BTreeSet<String>,
}

impl Profile {
    fn merge(&mut self, other: Profile) {
        self.countries.extend(other.countries);
        self.asns.extend(other.asns);
        self.networks.extend(other.networks);
        self.devices.extend(other.devices);
        self.user_agents.extend(other.user_agents);
        self.apps.extend(other.apps);
    }

    /// Whether `r` came from a place of the profile: its network, its ASN
    /// in the same country, or its device.
    pub fn knows(&self, r: &SignIn) -> bool {
        network_of(&r.ip).is_some_and(|n| self.networks.contains(&n))
            || r.asn
                .is_some_and(|a| self.asns.contains(&(a, r.country.to_string())))
            || (!r.device_id.is_empty() && self.devices.contains(r.device_id.as_str()))
    }

    /// Whether the account used this ASN, in any country.
    pub fn used_asn(&self, asn: i64) -> bool {
        self.asns.iter().any(|(a, _)| *a == asn)
    }
}

/// One account's distinct values while the run is read: interned values
/// hash as a pointer, so a sign-in costs a few lookups, and the text of
/// networks is spelt once per address rather than once per sign-in.
#[derive(Default)]
struct Seen {
    countries: HashSet<Text, FastHash>,
    asns: HashSet<(i64, Text), FastHash>,
    ips: HashSet<Text, FastHash>,
    devices: HashSet<Text, FastHash>,
    user_agents: HashSet<Text, FastHash>,
    apps: HashSet<Text, FastHash>,
}

impl Seen {
    fn add(&mut self, r: &SignIn) {
        let put = |set: &mut HashSet<Text, FastHash>, v: Text| {
            if !v.is_empty() {
                set.insert(v);
            }
        };
        put(&mut self.countries, r.country);
        put(&mut self.devices, r.device_id);
        put(&mut self.user_agents, r.user_agent);
        put(&mut self.apps, r.app_name);
        put(&mut self.ips, r.ip);
        if let Some(a) = r.asn {
            self.asns.insert((a, r.country));
        }
    }

    fn profile(self) -> Profile {
        let text = |set: HashSet<Text, FastHash>| set.into_iter().map(|t| t.to_string()).collect();
        Profile {
            countries: text(self.countries),
            asns: self
                .asns
                .into_iter()
                .map(|(a, c)| (a, c.to_string()))
                .collect(),
            networks: self.ips.iter().filter_map(|ip| network_of(ip)).collect(),
            devices: text(self.devices),
            user_agents: text(self.user_agents),
            apps: text(self.apps),
        }
    }
}

/// Profiles of every account with a success, and the period they cover.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Profiles {
    pub schema_version: u32,
    /// First and last sign-in of the data the profiles were learnt from.
    pub period_start: Option<String>,
    pub period_end: Option<String>,
    /// Report folders they came from (for a history baseline).
    #[serde(default)]
    pub runs: Vec<String>,
    pub accounts: BTreeMap<String, Profile>,
}

impl Profiles {
    /// Learns from the successful user sign-ins of one run.
    pub fn of(records: &[SignIn]) -> Self {
        let mut seen: HashMap<Text, Seen, FastHash> = HashMap::default();
        // The period is found in the same pass: each pass over the run
        // reads a cache line or more per sign-in.
        let mut period: Option<(i64, i64)> = None;
        for r in records {
            let (first, last) = period.get_or_insert((r.time_us, r.time_us));
            (*first, *last) = ((*first).min(r.time_us), (*last).max(r.time_us));
            if r.status != StatusClass::Success || r.user_principal_name.is_empty() {
                continue;
            }
            seen.entry(r.user_principal_name).or_default().add(r);
        }
        Profiles {
            schema_version: SCHEMA_VERSION,
            period_start: period.map(|(first, _)| format_time(first)),
            period_end: period.map(|(_, last)| format_time(last)),
            runs: Vec::new(),
            accounts: seen
                .into_iter()
                .map(|(user, s)| (user.to_string(), s.profile()))
                .collect(),
        }
    }

    pub fn get(&self, user: &str) -> Option<&Profile> {
        self.accounts.get(user)
    }

    /// "history of 3 earlier runs, 2026-11-02 to 2026-11-29": what a
    /// finding says its baseline was.
    pub fn describe(&self) -> String {
        let day = |t: &Option<String>| t.as_deref().map(|s| s.chars().take(10).collect::<String>());
        format!(
            "history of {} earlier run{}, {} to {}",
            self.runs.len(),
            if self.runs.len() == 1 { "" } else { "s" },
            day(&self.period_start).unwrap_or_default(),
            day(&self.period_end).unwrap_or_default()
        )
    }
}

/// The report folders directly under `dir` that hold `file`, as (folder
/// name, path) sorted by name, leaving out `exclude` (this run's own
/// folder, when it lives there). `--history` reads both its files this way.
pub fn run_folders(
    dir: &Path,
    exclude: &Path,
    file: &str,
) -> std::io::Result<Vec<(String, PathBuf)>> {
    let skip = std::fs::canonicalize(exclude).ok();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join(file).is_file())
        .filter(|p| skip.is_none() || std::fs::canonicalize(p).ok() != skip)
        .collect();
    entries.sort();
    Ok(entries
        .into_iter()
        .map(|p| {
            let label = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (label, p)
        })
        .collect())
}

/// The merged profiles of the report folders directly under `dir` whose
/// data ended before `before` (RFC 3339 UTC, this run's first sign-in), so
/// a re-run of an old week does not learn from later ones; `exclude` is
/// this run's own folder. Folders without a readable `profiles.json` are
/// returned with why, for a warning.
pub fn load(
    dir: &Path,
    exclude: &Path,
    before: Option<&str>,
) -> Result<(Profiles, Vec<(String, String)>), ProfilesError> {
    let io = |source| ProfilesError::Io {
        path: dir.display().to_string(),
        source,
    };
    let entries = run_folders(dir, exclude, FILE).map_err(io)?;
    let mut merged = Profiles {
        schema_version: SCHEMA_VERSION,
        ..Profiles::default()
    };
    let mut unreadable = Vec::new();
    for (label, p) in entries {
        let parsed = std::fs::read_to_string(p.join(FILE))
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str::<Profiles>(&t).map_err(|e| e.to_string()));
        let run = match parsed {
            Ok(r) if r.schema_version == SCHEMA_VERSION => r,
            Ok(r) => {
                unreadable.push((label, format!("schema_version {}", r.schema_version)));
                continue;
            }
            Err(e) => {
                unreadable.push((label, e));
                continue;
            }
        };
        // RFC 3339 UTC strings of one format sort as times.
        let earlier = match (before, run.period_end.as_deref()) {
            (Some(b), Some(end)) => end < b,
            _ => false,
        };
        if !earlier {
            continue;
        }
        if merged.period_start.is_none() || run.period_start < merged.period_start {
            merged.period_start = run.period_start.clone();
        }
        if run.period_end > merged.period_end {
            merged.period_end = run.period_end.clone();
        }
        merged.runs.push(label);
        for (user, profile) in run.accounts {
            merged.accounts.entry(user).or_default().merge(profile);
        }
    }
    Ok((merged, unreadable))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Text;

    fn ok(user: &str, ip: &str, asn: i64, cc: &str, t: i64) -> SignIn {
        SignIn {
            time_us: t,
            user_principal_name: Text::from(user),
            ip: Text::from(ip),
            asn: Some(asn),
            country: Text::from(cc),
            ..SignIn::default()
        }
    }

    #[test]
    fn profiles_learn_successes_and_merge_only_earlier_runs() {
        let dir = tempfile::tempdir().unwrap();
        let week = |name: &str, recs: &[SignIn]| {
            let d = dir.path().join(name);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(
                d.join(FILE),
                serde_json::to_string(&Profiles::of(recs)).unwrap(),
            )
            .unwrap();
        };
        let mut failed = ok("a@x", "198.51.100.9", 64501, "NL", 3_000_000);
        failed.status = StatusClass::Failure;
        week(
            "w1",
            &[ok("a@x", "192.0.2.10", 7018, "US", 1_000_000), failed],
        );
        week(
            "w3",
            &[ok("a@x", "203.0.113.5", 3320, "DE", 9_000_000_000_000)],
        );
        std::fs::create_dir_all(dir.path().join("broken")).unwrap();
        std::fs::write(dir.path().join("broken").join(FILE), "{").unwrap();
        let now = format_time(5_000_000_000_000);
        let (p, bad) = load(dir.path(), &dir.path().join("w2"), Some(&now)).unwrap();
        assert_eq!(p.runs, vec!["w1"]);
        assert_eq!(bad.len(), 1);
        let a = p.get("a@x").unwrap();
        assert!(a.knows(&ok("a@x", "192.0.2.77", 1, "US", 0)), "same /24");
        assert!(a.knows(&ok("a@x", "10.0.0.1", 7018, "US", 0)), "same ASN");
        // The failure taught nothing, and the later week is not read.
        assert!(!a.knows(&ok("a@x", "198.51.100.9", 64501, "NL", 0)));
        assert!(!a.knows(&ok("a@x", "203.0.113.5", 3320, "DE", 0)));
        assert!(p.describe().starts_with("history of 1 earlier run,"));
    }
}
