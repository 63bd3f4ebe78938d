//! Attack detections over de-duplicated, time-sorted sign-ins.
//!
//! Each detection is a unit struct in its own module implementing
//! [`Detection`], with its settings struct beside it, and one line in the
//! registry below (see `registry.rs` for what that line generates:
//! [`DETECTIONS`], [`DetectionConfig`], presets' starting values,
//! switches, validation, docs and the listing). [`run_all`] runs the
//! enabled ones in parallel and returns their findings in a fixed order
//! (severity, first seen, kind, id), so the same input and settings always
//! give the same report. Windows slide over each key's own timestamps (see
//! `util`), so a burst is never cut in two by a bin edge.
//!
//! Adding a detection: write `<kind>.rs` (its Rust, its SQL and its
//! settings struct) with its `docs/<kind>.md`, declare the module and add
//! one line to the registry, then bless its golden findings
//! (`tests/golden/<kind>.json`, see `tests/integration/golden.rs`).
//! Nothing else names it: a preset that does not mention it gives it its
//! defaults. `probe.rs`, registered for the test build only, is the test
//! of that. (A module declared but not registered is dead code, which the
//! lint gate rejects.)

use rayon::prelude::*;

use crate::analyze::coverage::{self, Coverage, Need, Presence};
use crate::analyze::profiles::Profiles;
use crate::model::{FastHash, Finding, SignIn, StatusClass, Text};
use std::collections::HashMap;
use std::sync::OnceLock;

#[macro_use]
mod registry;

mod brute_force;
pub mod config;
pub mod datafile;
mod device_code_phishing;
mod disabled_account;
mod distributed_spray;
mod enumeration;
mod hosting_provider_sign_in;
mod impossible_travel;
pub mod iplist;
mod legacy_auth;
mod lockout;
mod low_and_slow_spray;
mod malicious_ip;
mod mfa_fatigue;
mod password_known;
mod password_spray;
mod place;
mod presets;
#[cfg(test)]
mod probe;
mod risky_user;
pub mod sql;
mod success_after_failures;
mod suspicious_user_agent;
mod token_replay;
pub(crate) mod util;
mod workload_new_network;

pub(crate) use util::lockout_cause;
// `entrasift render` names engine findings as `run_all` names its own.
pub(crate) use util::stable_id;

pub use config::{Allowlist, ConfigError};
pub use datafile::DataFileError;
pub use distributed_spray::SprayGroup;
pub use iplist::{IpList, IpListError};
pub use presets::PRESETS;

// The registry: one line per detection, in report order.
registry! {
    password_spray => PasswordSpray, PasswordSprayConfig;
    distributed_spray => DistributedSpray, DistributedSprayConfig;
    brute_force => BruteForce, BruteForceConfig;
    success_after_failures => SuccessAfterFailures, SuccessAfterFailuresConfig;
    lockout => Lockout, LockoutConfig;
    malicious_ip => MaliciousIp, MaliciousIpConfig;
    risky_user => RiskyUser, RiskyUserConfig;
    mfa_fatigue => MfaFatigue, MfaFatigueConfig;
    enumeration => Enumeration, EnumerationConfig;
    disabled_account => DisabledAccount, DisabledAccountConfig;
    legacy_auth => LegacyAuth, LegacyAuthConfig;
    impossible_travel => ImpossibleTravel, ImpossibleTravelConfig;
    suspicious_user_agent => SuspiciousUserAgent, SuspiciousUserAgentConfig;
    hosting_provider_sign_in => HostingProviderSignIn, HostingProviderSignInConfig;
    password_known => PasswordKnown, PasswordKnownConfig;
    token_replay => TokenReplay, TokenReplayConfig;
    device_code_phishing => DeviceCodePhishing, DeviceCodePhishingConfig;
    low_and_slow_spray => LowAndSlowSpray, LowAndSlowSprayConfig;
    workload_new_network => WorkloadNewNetwork, WorkloadNewNetworkConfig;
    // Only in the test build: proves a file, its doc and this line suffice.
    #[cfg(test)]
    probe => Probe, ProbeConfig;
}

/// Reads the user's own data files the settings name (attack-tool
/// fingerprints, hosting networks), so a bad file stops the run before
/// any sign-in is read, with its name and line.
pub fn load_data_files(cfg: &mut DetectionConfig) -> Result<(), DataFileError> {
    suspicious_user_agent::load(&mut cfg.suspicious_user_agent)?;
    hosting_provider_sign_in::load(&mut cfg.hosting_provider_sign_in)
}

/// The sign-ins a detection reads.
pub struct Events<'a> {
    /// De-duplicated and sorted by `time_us` ascending.
    pub records: &'a [SignIn],
    /// Input paths; `SignIn::source_file` indexes this.
    pub files: &'a [String],
    /// Indexes of the records that are not clean successes (a failure, an
    /// interrupt, or any non-zero code), ascending. Most detections start
    /// from these, and on a normal tenant they are a small fraction: a
    /// pass over them instead of every record (each several cache lines)
    /// is most of what those detections cost.
    unsuccessful: Vec<usize>,
    /// Every record's index per IP and per account, ascending; built on
    /// first use, once, for all detections. Looking at what a few
    /// suspicious sources or accounts did then costs their records rather
    /// than a pass over the whole run each time.
    by_ip: OnceLock<KeyIndex>,
    by_user: OnceLock<KeyIndex>,
    /// The records are in time order, as `normalize` leaves them; hand-
    /// built inputs (tests, library callers) may not be. When they are, a
    /// group gathered in index order is already in time order, and
    /// sorting it would cost a cache miss per record for nothing.
    time_sorted: bool,
    /// The first sign-in's time, found once for the detections that
    /// measure a baseline from it.
    start_us: Option<i64>,
    /// Earlier runs' profiles (`--history`): the baseline of the
    /// detections that ask whether an account has been somewhere before.
    history: Option<&'a Profiles>,
}

/// Record indexes per non-empty value of a field, each list in time
/// order (ties in index order).
pub(crate) type KeyIndex = HashMap<Text, Vec<usize>, FastHash>;

fn key_index(records: &[SignIn], time_sorted: bool, field: fn(&SignIn) -> Text) -> KeyIndex {
    let mut index = KeyIndex::default();
    for (i, r) in records.iter().enumerate() {
        let k = field(r);
        if !k.is_empty() {
            index.entry(k).or_default().push(i);
        }
    }
    if !time_sorted {
        for list in index.values_mut() {
            list.sort_by_key(|&i| records[i].time_us);
        }
    }
    index
}

impl<'a> Events<'a> {
    pub fn new(records: &'a [SignIn], files: &'a [String]) -> Self {
        let unsuccessful = records
            .par_iter()
            .enumerate()
            .filter(|(_, r)| r.status != StatusClass::Success || r.error_code != 0)
            .map(|(i, _)| i)
            .collect();
        let time_sorted = records.par_windows(2).all(|w| w[0].time_us <= w[1].time_us);
        let start_us = if time_sorted {
            records.first().map(|r| r.time_us)
        } else {
            records.par_iter().map(|r| r.time_us).min()
        };
        Events {
            records,
            files,
            unsuccessful,
            by_ip: OnceLock::new(),
            by_user: OnceLock::new(),
            time_sorted,
            start_us,
            history: None,
        }
    }

    /// The time of the run's first sign-in (`None` when there is none).
    pub(crate) fn start_us(&self) -> Option<i64> {
        self.start_us
    }

    /// Every record index, in time order (ties in index order): the
    /// order a walk over the run meets its sign-ins, and the order of
    /// each group [`util::group_by`] returns.
    pub(crate) fn in_time_order(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.records.len()).collect();
        if !self.time_sorted {
            order.sort_by_key(|&i| self.records[i].time_us);
        }
        order
    }

    /// Whether the records are in time order (see `time_sorted`).
    pub(crate) fn time_sorted(&self) -> bool {
        self.time_sorted
    }

    /// Uses earlier runs' profiles as the accounts' baseline.
    pub fn with_history(mut self, history: Option<&'a Profiles>) -> Self {
        self.history = history.filter(|h| !h.accounts.is_empty());
        self
    }

    /// The account had successes in the history: its baseline is there.
    pub(crate) fn history_has(&self, user: &str) -> bool {
        self.history.is_some_and(|h| h.get(user).is_some())
    }

    /// The history saw the account sign in from `r`'s network, ASN and
    /// country, or device.
    pub(crate) fn history_knows(&self, r: &SignIn) -> bool {
        self.history
            .and_then(|h| h.get(&r.user_principal_name))
            .is_some_and(|p| p.knows(r))
    }

    /// The history saw the account use this ASN.
    pub(crate) fn history_used_asn(&self, user: &str, asn: i64) -> bool {
        self.history
            .and_then(|h| h.get(user))
            .is_some_and(|p| p.used_asn(asn))
    }

    /// What a finding says its baseline was: the history when it knows
    /// the account, and the data before the finding.
    pub(crate) fn baseline_text(&self, user: &str, data_us: i64) -> String {
        let data = format!("{} h of this data", (data_us / 3_600_000_000).max(0));
        match self.history {
            Some(h) if h.get(user).is_some() => format!("{} and {data}", h.describe()),
            _ => data,
        }
    }

    /// Builds the account and address indexes now, side by side. Most
    /// detections read one or both; built on first use instead, the
    /// first detection to ask builds it alone while every other that asks
    /// waits, leaving the other threads idle.
    pub fn index_actors(self) -> Self {
        rayon::join(|| self.by_ip(), || self.by_user());
        self
    }

    pub(crate) fn by_ip(&self) -> &KeyIndex {
        self.by_ip
            .get_or_init(|| key_index(self.records, self.time_sorted, |r| r.ip))
    }

    pub(crate) fn by_user(&self) -> &KeyIndex {
        self.by_user
            .get_or_init(|| key_index(self.records, self.time_sorted, |r| r.user_principal_name))
    }

    /// See the field.
    pub(crate) fn unsuccessful(&self) -> &[usize] {
        &self.unsuccessful
    }
}

pub trait Detection: Sync {
    /// Stable machine name, e.g. `password_spray`; also the settings table.
    fn kind(&self) -> &'static str;
    fn title(&self) -> &'static str;
    /// What it finds, why it matters, how to tune it, false positives
    /// (`docs/<kind>.md`).
    fn doc(&self) -> &'static str {
        doc(self.kind())
    }
    fn run(&self, ev: &Events, cfg: &DetectionConfig) -> Vec<Finding>;
    /// The settings in effect, as (name, value) for display: the
    /// serialized settings table unless a detection has more to show.
    fn thresholds(&self, cfg: &DetectionConfig) -> Vec<(String, String)> {
        cfg.thresholds(self.kind())
    }
    /// The same detection as SQL over the normalized table, thresholds
    /// from `cfg` substituted (see `sql`).
    fn sql(&self, cfg: &DetectionConfig) -> sql::Query;
    /// MITRE ATT&CK techniques its findings point to (IDs such as
    /// `T1110.003`), copied onto every finding.
    fn techniques(&self) -> &'static [&'static str] {
        &[]
    }
    /// Fields it cannot do without, for the coverage statement.
    fn needs(&self) -> &'static [Need] {
        &[]
    }
}

/// The one order of findings in every output: severity (highest first),
/// first seen, kind and id. Rendering an engine's results uses it too.
pub fn sort_in_report_order(findings: &mut [Finding]) {
    findings.sort_by(report_order);
}

/// The comparison behind [`sort_in_report_order`].
pub fn report_order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    b.severity
        .cmp(&a.severity)
        .then_with(|| a.first_seen.cmp(&b.first_seen))
        .then_with(|| a.kind.cmp(&b.kind))
        .then_with(|| a.id.cmp(&b.id))
}

/// Runs every enabled detection and returns the findings sorted by
/// severity (highest first), first seen, kind and id.
pub fn run_all(ev: &Events, cfg: &DetectionConfig) -> Vec<Finding> {
    run_where(ev, cfg, |_| true, "")
}

/// [`run_all`] for the enabled detections among `kinds`; `label` follows
/// each detection's name in the `-v` stage times.
pub fn run_some(ev: &Events, cfg: &DetectionConfig, kinds: &[&str], label: &str) -> Vec<Finding> {
    run_where(ev, cfg, |k| kinds.contains(&k), label)
}

fn run_where(
    ev: &Events,
    cfg: &DetectionConfig,
    pick: impl Fn(&str) -> bool + Sync,
    label: &str,
) -> Vec<Finding> {
    let mut findings: Vec<Finding> = DETECTIONS
        .par_iter()
        .filter(|d| cfg.is_enabled(d.kind()) && pick(d.kind()))
        .flat_map_iter(|d| {
            let techniques: Vec<String> = d.techniques().iter().map(|t| t.to_string()).collect();
            let _timed = crate::trace::Stage::start(format!("detection: {}{label}", d.kind()));
            d.run(ev, cfg).into_iter().map(move |mut f| {
                f.techniques = techniques.clone();
                f
            })
        })
        .collect();
    // Detections already skip allowlisted sources record by record; this
    // catches a finding whose every address is allowlisted anyway.
    if !cfg.allowlist.is_empty() {
        findings.retain(|f| f.ips.is_empty() || f.ips.iter().any(|ip| !cfg.allowlist.contains(ip)));
    }
    sort_in_report_order(&mut findings);
    findings
}

/// For every detection, whether it could run on these sign-ins.
pub fn coverage_all(records: &[SignIn], cfg: &DetectionConfig) -> Vec<Coverage> {
    let presence = Presence::of(records);
    DETECTIONS
        .iter()
        .map(|d| coverage::of(d.kind(), cfg.is_enabled(d.kind()), d.needs(), &presence))
        .collect()
}

/// One row of `entrasift detections`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DetectionDescription {
    pub kind: &'static str,
    pub title: &'static str,
    pub enabled: bool,
    pub thresholds: Vec<(String, String)>,
    /// Markdown: what / why / tuning / false positives.
    pub doc: &'static str,
}

pub fn describe_all(cfg: &DetectionConfig) -> Vec<DetectionDescription> {
    DETECTIONS
        .iter()
        .map(|d| DetectionDescription {
            kind: d.kind(),
            title: d.title(),
            enabled: cfg.is_enabled(d.kind()),
            thresholds: d.thresholds(cfg),
            doc: d.doc(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::util::testing::*;
    use super::*;
    use crate::model::Severity;

    /// A small tenant morning: normal sign-ins, a spray from one IP that
    /// gets one password right, and an impossible trip.
    fn morning() -> Vec<SignIn> {
        let mut v = Vec::new();
        for k in 0..30 {
            v.push(signin(
                k * 40,
                &format!("user{k:02}@contoso.com"),
                "192.0.2.10",
                0,
            ));
        }
        for k in 0..15 {
            v.push(signin(
                600 + k * 20,
                &format!("user{k:02}@contoso.com"),
                "203.0.113.50",
                50126,
            ));
        }
        v.push(signin(1200, "user03@contoso.com", "203.0.113.50", 50074));
        v
    }

    /// What the one registry line gives a detection, checked entry by
    /// entry, so a detection added later is covered without being named
    /// here or anywhere else.
    #[test]
    fn every_registry_entry_gets_settings_presets_switch_checks_doc_and_listing() {
        let kinds: Vec<&str> = DETECTIONS.iter().map(|d| d.kind()).collect();
        assert_eq!(kinds, KINDS, "a detection's kind() must be its module name");
        let mut unique = kinds.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), kinds.len());

        let default = DetectionConfig::default();
        let listing = describe_all(&default);
        assert_eq!(listing.len(), DETECTIONS.len());
        for (d, row) in DETECTIONS.iter().zip(&listing) {
            let k = d.kind();
            // A table in every preset, switched on.
            for name in PRESETS {
                let cfg = DetectionConfig::preset(name).unwrap();
                cfg.validate().unwrap();
                let table = toml::Table::try_from(&cfg).unwrap();
                let own = table[k].as_table().expect("a table per detection");
                assert_eq!(own.get("enabled"), Some(&toml::Value::Boolean(true)));
                assert!(cfg.is_enabled(k), "{k} off in {name}");
            }
            // Switched off by name and by the settings file.
            let mut off = default.clone();
            off.set_enabled(k, false).unwrap();
            assert!(!off.is_enabled(k), "{k} cannot be switched off");
            let off =
                DetectionConfig::from_toml_str(&format!("[{k}]\nenabled = false\n"), &default)
                    .unwrap();
            assert!(!off.is_enabled(k));
            // An unknown key in its table is an error naming the key.
            let typo =
                DetectionConfig::from_toml_str(&format!("[{k}]\nno_such_key = 1\n"), &default)
                    .unwrap_err()
                    .to_string();
            assert!(typo.contains("no_such_key"), "{k}: {typo}");
            // Every window is checked.
            let own = toml::Table::try_from(&default).unwrap()[k].clone();
            let keys: Vec<String> = own.as_table().unwrap().keys().cloned().collect();
            for key in keys.iter().filter(|key| key.ends_with("window_minutes")) {
                let err = DetectionConfig::from_toml_str(&format!("[{k}]\n{key} = 0\n"), &default)
                    .unwrap_err()
                    .to_string();
                assert!(err.contains(&format!("{k}.{key}")), "{err}");
            }
            // Its doc, with the four sections.
            for section in [
                "What it finds",
                "Why it matters",
                "Tuning",
                "False positives",
            ] {
                assert!(d.doc().contains(section), "{k} doc lacks {section}");
            }
            // The listing shows every setting but the switch, in order.
            assert_eq!((row.kind, row.title, row.doc), (k, d.title(), d.doc()));
            let shown: Vec<&str> = row.thresholds.iter().map(|(key, _)| key.as_str()).collect();
            let settings: Vec<&str> = keys
                .iter()
                .map(String::as_str)
                .filter(|key| *key != "enabled")
                .collect();
            assert!(!settings.is_empty(), "{k} has no thresholds");
            let in_order: Vec<&str> = shown
                .iter()
                .copied()
                .filter(|key| settings.contains(key))
                .collect();
            assert_eq!(in_order, settings, "{k}");
        }
        assert!(!default.is_enabled("no_such_detection"));
        assert!(doc("no_such_detection").is_empty());
    }

    #[test]
    fn no_preset_counts_a_password_proving_code_as_a_failed_password() {
        // Refused MFA prompts, Conditional Access blocks and MFA demands:
        // each says the password was right. A preset may change how many
        // make a finding, never that they are guesses.
        let user = "lee.garcia@contoso.com";
        let mut v = Vec::new();
        for k in 0..26 {
            v.push(signin(k * 10, user, "203.0.113.93", 500121));
        }
        // The owner gives in and approves one.
        v.push(signin(265, user, "203.0.113.93", 0));
        for k in 0..15 {
            v.push(signin(400 + k * 10, user, "203.0.113.93", 53003));
            v.push(signin(405 + k * 10, user, "203.0.113.93", 50076));
        }
        let recs = fixture(v);
        let files = files();
        for preset in PRESETS {
            let cfg = DetectionConfig::preset(preset).unwrap();
            let found = run_all(&Events::new(&recs, &files), &cfg);
            for f in &found {
                assert!(
                    !matches!(
                        f.kind.as_str(),
                        "brute_force"
                            | "password_spray"
                            | "distributed_spray"
                            | "success_after_failures"
                    ),
                    "{preset} took accepted passwords for guesses: {f:#?}"
                );
            }
            assert!(
                found.iter().any(|f| f.kind == "mfa_fatigue"),
                "{preset}: MFA fatigue not found: {found:#?}"
            );
        }
    }

    #[test]
    fn run_all_is_deterministic_and_ordered() {
        let recs = fixture(morning());
        let files = files();
        let ev = Events::new(&recs, &files);
        let cfg = DetectionConfig::default();
        let a = run_all(&ev, &cfg);
        let b = run_all(&ev, &cfg);
        assert_eq!(a, b);
        let ids: std::collections::BTreeSet<&str> = a.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids.len(), a.len());
        assert!(a
            .iter()
            .any(|f| f.kind == "password_spray" && f.severity == Severity::Critical));
        for w in a.windows(2) {
            assert!(w[0].severity >= w[1].severity);
        }
    }

    #[test]
    fn allowlisted_sources_and_disabled_detections_produce_nothing() {
        let recs = fixture(morning());
        let files = files();
        let ev = Events::new(&recs, &files);
        let cfg = DetectionConfig {
            allowlist: Allowlist::new(["203.0.113.0/24"]).unwrap(),
            ..DetectionConfig::default()
        };
        assert!(run_all(&ev, &cfg)
            .iter()
            .all(|f| f.kind != "password_spray"));
        let mut cfg = DetectionConfig::default();
        cfg.set_enabled("password_spray", false).unwrap();
        assert!(run_all(&ev, &cfg)
            .iter()
            .all(|f| f.kind != "password_spray"));
    }
}
