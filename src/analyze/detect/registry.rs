//! The detection registry: what every detection gets from its one line in
//! `mod.rs`.
//!
//! A detection's settings are a serde struct in its own file (first field
//! `enabled: bool`, `Default` = the `default` preset, [`Settings`]
//! implemented). The [`registry!`] line naming the module, the detection
//! and that struct generates the rest: its table in `DetectionConfig`
//! (so TOML reading, unknown-key rejection and the dumped settings), its
//! place in the default preset, the `enabled` switch, validation, its
//! documentation (`docs/<kind>.md`, included here once) and its line in
//! `entrasift detections`, whose thresholds are the serialized settings.

use std::fmt::Debug;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::config::ConfigError;

/// A detection's settings table.
pub trait Settings: Default + Clone + Debug + PartialEq + Serialize + DeserializeOwned {
    /// Keys whose zero or empty value means something other than the
    /// number itself, with the text `entrasift detections` shows for it.
    /// Every `codes` key already reads "any failure" when empty.
    const UNSET: &'static [(&'static str, &'static str)] = &[];

    /// Rules beyond the one every detection gets (each `window_minutes`
    /// and `*_window_minutes` key at least 1).
    fn check(&self) -> Result<(), Invalid> {
        Ok(())
    }
}

/// A setting [`Settings::check`] rejects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// Key inside the detection's table; empty for the table as a whole.
    pub key: &'static str,
    pub message: &'static str,
}

impl Invalid {
    pub fn new(key: &'static str, message: &'static str) -> Self {
        Invalid { key, message }
    }
}

/// What an empty `codes` list means to every detection that has one
/// (`util::is_credential_failure`).
const UNSET_EVERYWHERE: &[(&str, &str)] = &[("codes", "any failure")];

/// The settings as a TOML table, keys in declaration order. Plain structs
/// of numbers, strings and lists always serialize; were one not to, it
/// would show no thresholds rather than stop the run.
fn table<S: Settings>(settings: &S) -> toml::Table {
    toml::Table::try_from(settings).unwrap_or_default()
}

/// Runs the generic window rule and the detection's own rules.
pub(crate) fn validate<S: Settings>(kind: &str, settings: &S) -> Result<(), ConfigError> {
    let invalid = |key: &str, message: &str| ConfigError::Invalid {
        key: if key.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}.{key}")
        },
        message: message.to_string(),
    };
    for (key, value) in table(settings) {
        let is_window = key == "window_minutes" || key.ends_with("_window_minutes");
        if is_window && value.as_integer() == Some(0) {
            return Err(invalid(&key, "must be at least 1 minute"));
        }
    }
    settings.check().map_err(|e| invalid(e.key, e.message))
}

/// The settings in force as (key, text) for `entrasift detections` and the
/// SQL header, in declaration order, `enabled` left out (shown apart).
pub(crate) fn thresholds<S: Settings>(settings: &S) -> Vec<(String, String)> {
    table(settings)
        .into_iter()
        .filter(|(key, _)| key != "enabled")
        .map(|(key, value)| {
            let unset = S::UNSET
                .iter()
                .chain(UNSET_EVERYWHERE)
                .find(|(k, _)| *k == key)
                .map(|(_, text)| *text);
            let text = match unset {
                Some(text) if is_unset(&value) => text.to_string(),
                _ => show(&value),
            };
            (key, text)
        })
        .collect()
}

fn is_unset(value: &toml::Value) -> bool {
    match value {
        toml::Value::Integer(n) => *n == 0,
        toml::Value::Float(x) => *x == 0.0,
        toml::Value::String(s) => s.is_empty(),
        toml::Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// Plain text: numbers as Rust prints them (`500`, `0.9`), lists joined
/// with ", ".
fn show(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(n) => n.to_string(),
        toml::Value::Float(x) => x.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Array(items) => items.iter().map(show).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// For settings defaults: owned strings from literals.
pub(crate) fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// One line per detection: `module => Detection, SettingsStruct;`. The
/// module name is the detection's kind and its settings table. Attributes
/// before a line (`#[cfg(test)]`) apply to everything it generates.
macro_rules! registry {
    ($($(#[$attr:meta])* $kind:ident => $detection:ident, $settings:ident;)+) => {
        /// Every detection, in registry order.
        pub static DETECTIONS: &[&dyn Detection] = &[$($(#[$attr])* &$kind::$detection),+];

        /// The kinds in registry order, as the registry spells them.
        #[cfg(test)]
        pub(crate) const KINDS: &[&str] = &[$($(#[$attr])* stringify!($kind)),+];

        /// Everything the detections read besides the sign-ins themselves:
        /// one table per detection, named after its kind. `Default` is the
        /// `default` preset.
        #[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct DetectionConfig {
            /// Name of the preset the values started from.
            pub preset: String,
            pub allowlist: Allowlist,
            /// Loaded from `--ip-list`; not part of the TOML file.
            #[serde(skip)]
            pub ip_list: IpList,
            $($(#[$attr])* pub $kind: $kind::$settings,)+
        }

        impl Default for DetectionConfig {
            fn default() -> Self {
                DetectionConfig {
                    preset: "default".to_string(),
                    allowlist: Allowlist::default(),
                    ip_list: IpList::default(),
                    $($(#[$attr])* $kind: Default::default(),)+
                }
            }
        }

        impl DetectionConfig {
            /// False for a kind no detection has.
            pub fn is_enabled(&self, kind: &str) -> bool {
                match kind {
                    $($(#[$attr])* stringify!($kind) => self.$kind.enabled,)+
                    _ => false,
                }
            }

            /// Turns one detection on or off (`--disable`, `--only`).
            pub fn set_enabled(&mut self, kind: &str, on: bool) -> Result<(), ConfigError> {
                let flag = match kind {
                    $($(#[$attr])* stringify!($kind) => &mut self.$kind.enabled,)+
                    _ => return Err(ConfigError::UnknownDetection(kind.to_string())),
                };
                *flag = on;
                Ok(())
            }

            /// Rejects values that would make a detection meaningless (a
            /// zero-length window, a ratio above 1, a speed of zero); the
            /// first problem in registry order is reported.
            pub fn validate(&self) -> Result<(), ConfigError> {
                $($(#[$attr])* registry::validate(stringify!($kind), &self.$kind)?;)+
                Ok(())
            }

            /// The kinds whose settings differ between the two, in registry
            /// order.
            pub fn kinds_differing(&self, other: &Self) -> Vec<&'static str> {
                let mut kinds = Vec::new();
                $($(#[$attr])* if self.$kind != other.$kind {
                    kinds.push(stringify!($kind));
                })+
                kinds
            }

            /// Takes `kind`'s thresholds from `other`, keeping this
            /// configuration's switch for it.
            pub fn adopt(&mut self, other: &Self, kind: &str) {
                match kind {
                    $($(#[$attr])* stringify!($kind) => {
                        let on = self.$kind.enabled;
                        self.$kind = other.$kind.clone();
                        self.$kind.enabled = on;
                    })+
                    _ => {}
                }
            }

            /// A detection's settings in force, for display.
            pub fn thresholds(&self, kind: &str) -> Vec<(String, String)> {
                match kind {
                    $($(#[$attr])* stringify!($kind) => registry::thresholds(&self.$kind),)+
                    _ => Vec::new(),
                }
            }
        }

        /// A detection's documentation (`docs/<kind>.md`); empty for a kind
        /// no detection has.
        pub fn doc(kind: &str) -> &'static str {
            match kind {
                $($(#[$attr])* stringify!($kind) => include_str!(concat!("docs/", stringify!($kind), ".md")),)+
                _ => "",
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::super::{brute_force, distributed_spray, impossible_travel};
    use super::*;

    fn shown(list: &[(String, String)], key: &str) -> String {
        list.iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{key} not shown"))
    }

    #[test]
    fn thresholds_render_the_serialized_settings() {
        let mut spray = distributed_spray::DistributedSprayConfig::default();
        let list = thresholds(&spray);
        assert_eq!(list[0].0, "window_minutes");
        assert!(list.iter().all(|(k, _)| k != "enabled"));
        assert_eq!(shown(&list, "max_users_per_ip"), "3");
        assert_eq!(shown(&list, "group_by"), "user_agent, app");
        assert_eq!(shown(&list, "codes"), "50126, 50053, 50055, 50056, 50064");
        spray.max_users_per_ip = 0.0;
        assert_eq!(shown(&thresholds(&spray), "max_users_per_ip"), "no ceiling");
        let brute = brute_force::BruteForceConfig {
            codes: Vec::new(),
            ..Default::default()
        };
        assert_eq!(shown(&thresholds(&brute), "codes"), "any failure");
        let travel = impossible_travel::ImpossibleTravelConfig::default();
        let list = thresholds(&travel);
        assert_eq!(shown(&list, "min_distance_km"), "500");
        assert_eq!(shown(&list, "interactive_only"), "true");
    }

    #[test]
    fn validation_names_the_table_and_key() {
        let brute = brute_force::BruteForceConfig {
            window_minutes: 0,
            ..Default::default()
        };
        let err = validate("brute_force", &brute).unwrap_err().to_string();
        assert!(
            err.contains("`brute_force.window_minutes` must be at least 1 minute"),
            "{err}"
        );
        let travel = impossible_travel::ImpossibleTravelConfig {
            min_speed_kmh: 0.0,
            ..Default::default()
        };
        let err = validate("impossible_travel", &travel)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`impossible_travel` min_speed_kmh"), "{err}");
        let spray = distributed_spray::DistributedSprayConfig {
            group_by: Vec::new(),
            ..Default::default()
        };
        let err = validate("distributed_spray", &spray)
            .unwrap_err()
            .to_string();
        assert!(err.contains("distributed_spray.group_by"), "{err}");
    }
}
