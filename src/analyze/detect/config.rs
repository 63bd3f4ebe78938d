//! Reading detection settings: presets by name, the TOML file that
//! overrides them, the IP allowlist, and their errors.
//!
//! Every detection has a table named after its kind with an `enabled`
//! switch and its thresholds (its settings struct, in its own file; the
//! registry in `mod.rs` puts them together into [`DetectionConfig`]). A
//! preset fills all of them; a TOML file then replaces only the keys it
//! names:
//!
//! ```toml
//! preset = "sentinel"                 # optional: start from this preset
//! allowlist = ["198.51.100.0/24", "2001:db8:1::/48"]
//!
//! [password_spray]
//! min_users = 8
//!
//! [legacy_auth]
//! enabled = false
//! ```
//!
//! Unknown keys are errors, so a misspelt threshold cannot be silently
//! ignored. The `--ip-list` file is loaded separately
//! ([`IpList::parse`](super::IpList::parse)) and kept across TOML merges.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::presets::{self, PRESETS};
use super::DetectionConfig;
use crate::model::net::{Cidr, CidrTable};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("unknown detection preset `{0}` (expected one of: {names})", names = PRESETS.join(", "))]
    UnknownPreset(String),
    #[error("detection config is not valid TOML: {0}")]
    Toml(String),
    #[error("detection config: {0}")]
    Schema(String),
    #[error("detection config: `{key}` {message}")]
    Invalid { key: String, message: String },
    #[error("allowlist entry `{entry}`: {message}")]
    Allowlist { entry: String, message: String },
    #[error("unknown detection `{0}`")]
    UnknownDetection(String),
}

/// IPs and networks whose sign-ins no detection looks at (your own egress,
/// VPN concentrators, scanners you run).
#[derive(Debug, Clone, Default)]
pub struct Allowlist {
    entries: Vec<String>,
    table: CidrTable<()>,
}

impl Allowlist {
    pub fn new<S: AsRef<str>>(entries: impl IntoIterator<Item = S>) -> Result<Self, ConfigError> {
        let mut list = Allowlist::default();
        for e in entries {
            list.add(e.as_ref())?;
        }
        Ok(list)
    }

    pub fn add(&mut self, entry: &str) -> Result<(), ConfigError> {
        let net = Cidr::parse(entry).map_err(|e| ConfigError::Allowlist {
            entry: entry.to_string(),
            message: e.to_string(),
        })?;
        self.table.insert(net, ());
        self.entries.push(entry.trim().to_string());
        Ok(())
    }

    /// `ip` in the canonical text form of `SignIn::ip`.
    pub fn contains(&self, ip: &str) -> bool {
        self.table.lookup_str(ip).is_some()
    }

    pub fn entries(&self) -> &[String] {
        &self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Serialize for Allowlist {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.entries.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Allowlist {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let entries = Vec::<String>::deserialize(d)?;
        Allowlist::new(entries).map_err(serde::de::Error::custom)
    }
}

impl DetectionConfig {
    /// One of [`PRESETS`].
    pub fn preset(name: &str) -> Result<Self, ConfigError> {
        presets::preset(name)
    }

    /// Applies a TOML file over `base`. A `preset` key in the file replaces
    /// `base` with that preset first. The loaded `--ip-list` of `base` is kept.
    pub fn from_toml_str(text: &str, base: &DetectionConfig) -> Result<Self, ConfigError> {
        let overrides: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| ConfigError::Toml(e.to_string()))?;
        let start = match overrides.get("preset") {
            Some(toml::Value::String(name)) => Self::preset(name)?,
            Some(_) => {
                return Err(ConfigError::Invalid {
                    key: "preset".into(),
                    message: "must be a string".into(),
                })
            }
            None => base.clone(),
        };
        let mut merged =
            toml::Table::try_from(&start).map_err(|e| ConfigError::Schema(e.to_string()))?;
        merge(&mut merged, overrides);
        let mut cfg: DetectionConfig = toml::Value::Table(merged)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Schema(e.message().to_string()))?;
        cfg.ip_list = base.ip_list.clone();
        cfg.validate()?;
        Ok(cfg)
    }

    /// The effective settings as TOML, for `--dump-config`-style output;
    /// feeding it back through [`Self::from_toml_str`] gives the same values.
    pub fn to_toml_string(&self) -> Result<String, ConfigError> {
        toml::to_string(self).map_err(|e| ConfigError::Schema(e.to_string()))
    }
}

/// Tables merge key by key; any other value (including arrays) replaces.
fn merge(into: &mut toml::Table, from: toml::Table) {
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(toml::Value::Table(dst)), toml::Value::Table(src)) => merge(dst, src),
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::detect::IpList;

    #[test]
    fn toml_overrides_only_named_keys_and_keeps_the_ip_list() {
        let base = DetectionConfig {
            ip_list: IpList::parse("203.0.113.0/24 feed", "feed.txt").unwrap(),
            ..DetectionConfig::default()
        };
        let text = r#"
            allowlist = ["198.51.100.0/24", "2001:db8:1::/48"]
            [password_spray]
            min_users = 7
            [legacy_auth]
            enabled = false
            client_apps = ["IMAP4"]
        "#;
        let cfg = DetectionConfig::from_toml_str(text, &base).unwrap();
        assert_eq!(cfg.password_spray.min_users, 7);
        assert_eq!(cfg.password_spray.window_minutes, 30);
        assert!(!cfg.is_enabled("legacy_auth"));
        assert!(cfg.is_enabled("password_spray"));
        assert_eq!(cfg.legacy_auth.client_apps, vec!["IMAP4".to_string()]);
        assert!(cfg.allowlist.contains("198.51.100.23"));
        assert!(cfg.allowlist.contains("2001:db8:1:5::1"));
        assert!(!cfg.allowlist.contains("198.51.101.1"));
        assert_eq!(cfg.ip_list.lookup("203.0.113.8"), Some("feed"));
    }

    #[test]
    fn toml_preset_key_starts_from_that_preset() {
        let cfg = DetectionConfig::from_toml_str(
            "preset = \"splunk\"\n[brute_force]\nmin_failures = 50\n",
            &DetectionConfig::default(),
        )
        .unwrap();
        assert_eq!(cfg.preset, "splunk");
        assert_eq!(cfg.password_spray.min_users, 31);
        assert_eq!(cfg.brute_force.min_failures, 50);
    }

    #[test]
    fn toml_errors_name_the_problem() {
        let base = DetectionConfig::default();
        let typo = DetectionConfig::from_toml_str("[password_spray]\nmin_user = 3\n", &base)
            .unwrap_err()
            .to_string();
        assert!(typo.contains("min_user"), "{typo}");
        let bad_cidr = DetectionConfig::from_toml_str("allowlist = [\"10.0.0.0/40\"]\n", &base)
            .unwrap_err()
            .to_string();
        assert!(bad_cidr.contains("10.0.0.0/40"), "{bad_cidr}");
        let zero = DetectionConfig::from_toml_str("[brute_force]\nwindow_minutes = 0\n", &base)
            .unwrap_err()
            .to_string();
        assert!(zero.contains("brute_force.window_minutes"), "{zero}");
        let syntax = DetectionConfig::from_toml_str("[brute_force\n", &base).unwrap_err();
        assert!(matches!(syntax, ConfigError::Toml(_)));
        let group =
            DetectionConfig::from_toml_str("[distributed_spray]\ngroup_by = [\"asn\"]\n", &base)
                .unwrap_err()
                .to_string();
        assert!(group.contains("asn"), "{group}");
    }

    #[test]
    fn dumped_toml_round_trips() {
        for name in PRESETS {
            let cfg = DetectionConfig::preset(name).unwrap();
            let text = cfg.to_toml_string().unwrap();
            let back = DetectionConfig::from_toml_str(&text, &DetectionConfig::default()).unwrap();
            assert_eq!(back.to_toml_string().unwrap(), text, "{name}");
        }
    }

    #[test]
    fn set_enabled_rejects_unknown_kinds() {
        let mut cfg = DetectionConfig::default();
        cfg.set_enabled("mfa_fatigue", false).unwrap();
        assert!(!cfg.is_enabled("mfa_fatigue"));
        assert!(cfg.set_enabled("mfa_fatique", false).is_err());
    }
}
