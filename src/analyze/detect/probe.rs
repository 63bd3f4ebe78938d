//! Test-only registry probe: a detection that exists only in the test
//! build, to prove that a detection needs nothing but this file, its
//! `docs/probe.md` and its line in the registry. No other code names it,
//! yet it gets a settings table, a place in every preset, its switch,
//! validation, its documentation, its listing line and its SQL. It finds
//! nothing, so every other test's findings are unchanged.

use serde::{Deserialize, Serialize};

use super::registry::{Invalid, Settings};
use super::sql::{self, Query};
use super::{Detection, DetectionConfig, Events};
use crate::model::Finding;

pub struct Probe;

const KIND: &str = "probe";

/// The `[probe]` table of the settings file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeConfig {
    pub enabled: bool,
    pub window_minutes: u32,
    pub min_events: u32,
    pub codes: Vec<i64>,
    /// 0 means no ceiling.
    pub max_share: f64,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        ProbeConfig {
            enabled: true,
            window_minutes: 15,
            min_events: 3,
            codes: Vec::new(),
            max_share: 0.0,
        }
    }
}

impl Settings for ProbeConfig {
    const UNSET: &'static [(&'static str, &'static str)] = &[("max_share", "no ceiling")];

    fn check(&self) -> Result<(), Invalid> {
        if self.min_events == 0 {
            return Err(Invalid::new("min_events", "must be at least 1"));
        }
        Ok(())
    }
}

impl Detection for Probe {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn title(&self) -> &'static str {
        "Registry probe (test build only)"
    }

    fn sql(&self, cfg: &DetectionConfig) -> Query {
        Query::new()
            .select(format!(
                "SELECT {}, {}\nFROM ev\nWHERE FALSE AND error_code >= {}\nGROUP BY ip",
                sql::head(KIND, "ip", None, Some("ip")),
                sql::SPAN,
                cfg.probe.min_events
            ))
            .events(format!(
            "SELECT f.actor, f.first_seen AS found_first, {} FROM found f JOIN ev e ON e.ip = f.ip",
            sql::member_cols("e")
        ))
            .severity("'info'")
    }

    fn run(&self, _ev: &Events, _cfg: &DetectionConfig) -> Vec<Finding> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::super::{describe_all, sql::sql_all, PRESETS};
    use super::*;

    #[test]
    fn one_file_a_doc_and_a_registry_line_make_a_whole_detection() {
        let default = DetectionConfig::default();
        // Settings from its Default, in every preset.
        for name in PRESETS {
            let cfg = DetectionConfig::preset(name).unwrap();
            assert_eq!(cfg.probe, ProbeConfig::default(), "{name}");
            assert!(cfg.is_enabled(KIND));
        }
        // Its TOML table: keys override, unknown keys and bad values fail.
        let cfg =
            DetectionConfig::from_toml_str("[probe]\nmin_events = 7\ncodes = [50126]\n", &default)
                .unwrap();
        assert_eq!(
            (cfg.probe.min_events, cfg.probe.codes.clone()),
            (7, vec![50126])
        );
        let typo = DetectionConfig::from_toml_str("[probe]\nmin_event = 7\n", &default)
            .unwrap_err()
            .to_string();
        assert!(typo.contains("min_event"), "{typo}");
        let zero = DetectionConfig::from_toml_str("[probe]\nmin_events = 0\n", &default)
            .unwrap_err()
            .to_string();
        assert!(
            zero.contains("`probe.min_events` must be at least 1"),
            "{zero}"
        );
        let window = DetectionConfig::from_toml_str("[probe]\nwindow_minutes = 0\n", &default)
            .unwrap_err()
            .to_string();
        assert!(window.contains("`probe.window_minutes`"), "{window}");
        // The dumped settings carry it.
        assert!(default.to_toml_string().unwrap().contains("[probe]"));
        // Switch, doc, listing and SQL.
        let mut off = default.clone();
        off.set_enabled(KIND, false).unwrap();
        assert!(!off.is_enabled(KIND));
        assert!(Probe.doc().contains("## What it finds"));
        let row = describe_all(&default)
            .into_iter()
            .find(|d| d.kind == KIND)
            .unwrap();
        let shown: Vec<(&str, &str)> = row
            .thresholds
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            shown,
            [
                ("window_minutes", "15"),
                ("min_events", "3"),
                ("codes", "any failure"),
                ("max_share", "no ceiling"),
            ]
        );
        let q = sql_all(&cfg).unwrap();
        let probe = q.iter().find(|q| q.kind == KIND).unwrap();
        assert!(probe.text.contains("--   min_events = 7"), "{}", probe.text);
        assert!(sql_all(&off).unwrap().iter().all(|q| q.kind != KIND));
    }
}
