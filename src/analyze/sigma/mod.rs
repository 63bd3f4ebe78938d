//! Sigma rules (`--sigma`): the community's detection and correlation
//! rules for Entra sign-in logs, run over the normalized sign-ins of the
//! run, with no second read of the input.
//!
//! Parsing and matching are rsigma's (`rsigma-parser`, `rsigma-eval`);
//! this module loads the rules ([`load`]), answers the rules' field names
//! from [`crate::model::SignIn`] ([`fields`]), and turns what matched into
//! findings of kind `sigma`: one per detection rule, with every sign-in it
//! matched, and one per group and window for a correlation rule.

pub mod fields;
pub mod load;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;

use rayon::prelude::*;
use rsigma_eval::{
    CorrelationConfig, CorrelationEngine, CorrelationEventMode, EvaluationResult, ResultBody,
    RuleFieldSet,
};
use serde_json::Value;

use crate::analyze::detect::util::{self, Draft};
use crate::analyze::detect::Events;
use crate::model::{Finding, Severity, SignIn};
use fields::{FieldTable, SignInEvent};
pub use load::{is_rule_file, CorrelationInfo, RuleInfo, SigmaError};

/// The kind every Sigma finding carries.
pub const KIND: &str = "sigma";

/// What was loaded, for the terminal and `entrasift sigma --json`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LoadReport {
    pub files: usize,
    pub detection_rules: usize,
    pub correlation_rules: usize,
    pub filters: usize,
    /// Rules for another log source (and correlations over them), not run.
    pub skipped_other_source: usize,
    /// Per rule title, the field names it uses that no export provides.
    pub unmapped_fields: BTreeMap<String, BTreeSet<String>>,
}

/// Rules loaded, compiled and ready to run once over a run's sign-ins.
pub struct Rules {
    loaded: load::Loaded,
    /// Detection rules only correlations use (`generate: false`, the
    /// default): they feed the correlations and are not reported alone.
    silent: BTreeSet<usize>,
    /// Detection rules some correlation counts: their matches go through
    /// the correlation engine.
    feeds: BTreeSet<usize>,
    engine: CorrelationEngine,
    table: FieldTable,
}

impl std::fmt::Debug for Rules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rules")
            .field("rules", &self.loaded.rules.len())
            .finish()
    }
}

impl Rules {
    /// Reads the rule files and folders and compiles every rule; any
    /// failure names the file (and line, for a parse error).
    pub fn load(paths: &[PathBuf]) -> Result<Rules, SigmaError> {
        let loaded = load::load(paths)?;
        let mut engine = CorrelationEngine::new(CorrelationConfig {
            // Every match comes back; `generate` is applied in `run` by
            // rule, since the engine's own filter only knows rules that a
            // correlation names by id (not by name).
            emit_detections: true,
            // Each counted sign-in is kept by its index (see
            // `SignInEvent::to_json`), so a correlation's finding lists
            // every sign-in in its window.
            correlation_event_mode: CorrelationEventMode::Refs,
            max_correlation_events: 1_000_000,
            ..CorrelationConfig::default()
        });
        engine
            .add_collection(&loaded.collection)
            .map_err(|e| SigmaError::Compile {
                path: paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                message: e.to_string(),
            })?;
        let names = RuleFieldSet::collect(&loaded.collection, &[], true);
        let table = FieldTable::of(names.names());
        let (silent, feeds) = correlated(&loaded.rules);
        Ok(Rules {
            loaded,
            silent,
            feeds,
            engine,
            table,
        })
    }

    /// The rule files read (for the manifest's settings hashes).
    pub fn files(&self) -> &[PathBuf] {
        &self.loaded.files
    }

    pub fn report(&self) -> LoadReport {
        let correlations = self
            .loaded
            .rules
            .iter()
            .filter(|r| r.correlation.is_some())
            .count();
        LoadReport {
            files: self.loaded.files.len(),
            detection_rules: self.loaded.rules.len() - correlations,
            correlation_rules: correlations,
            filters: self.loaded.collection.filters.len(),
            skipped_other_source: self.loaded.skipped_other_source,
            unmapped_fields: self.loaded.unmapped.clone(),
        }
    }

    /// " (FILE)" for the rule of this title, to follow its name in a note.
    fn file_of(&self, title: &str) -> String {
        self.loaded
            .rules
            .iter()
            .find(|r| r.title == title)
            .map_or(String::new(), |r| format!(" ({})", r.file))
    }

    /// One coverage statement per rule that names fields no export
    /// provides, so the report says which conditions could never be true.
    pub fn coverage(&self) -> Vec<crate::analyze::coverage::Coverage> {
        use crate::analyze::coverage::{Coverage, Status};
        self.loaded
            .unmapped
            .iter()
            .map(|(title, names)| {
                let file = self.file_of(title);
                Coverage {
                    kind: KIND,
                    status: Status::Partial,
                    note: format!(
                        "rule \"{title}\"{file} uses {} which no sign-in export provides; conditions on {} are never true",
                        names.iter().cloned().collect::<Vec<_>>().join(", "),
                        if names.len() == 1 { "it" } else { "them" }
                    ),
                }
            })
            .collect()
    }

    /// One coverage statement per rule that names fields this input
    /// leaves empty in every sign-in (risk levels in a portal CSV, device
    /// ids in a service principal log): a condition that needs a value
    /// there can never be true on this data, which is not the same as the
    /// rule finding nothing. Nothing is said of an empty input.
    pub fn coverage_on(&self, records: &[SignIn]) -> Vec<crate::analyze::coverage::Coverage> {
        use crate::analyze::coverage::{Coverage, Status};
        if records.is_empty() {
            return Vec::new();
        }
        // Rules spell one field several ways (`RiskLevelDuringSignIn`,
        // `riskLevelDuringSignIn`): each field is looked for once, until a
        // sign-in carries it; usually within the first few, and a whole
        // pass only for one that is never there.
        let used: HashSet<fields::Field> = self
            .loaded
            .mapped
            .values()
            .flatten()
            .filter_map(|name| fields::resolve(name))
            .collect();
        let empty: HashSet<fields::Field> = used
            .into_par_iter()
            .filter(|&f| !records.iter().any(|r| fields::carried(r, f)))
            .collect();
        self.loaded
            .mapped
            .iter()
            .filter_map(|(title, names)| {
                let missing: Vec<&str> = names
                    .iter()
                    .map(String::as_str)
                    .filter(|n| fields::resolve(n).is_some_and(|f| empty.contains(&f)))
                    .collect();
                if missing.is_empty() {
                    return None;
                }
                let file = self.file_of(title);
                Some(Coverage {
                    kind: KIND,
                    status: Status::Partial,
                    note: format!(
                        "rule \"{title}\"{file} reads {}, which no sign-in of this input carries; \
                         conditions that need a value there are never true",
                        missing.join(", ")
                    ),
                })
            })
            .collect()
    }

    /// Runs every rule over the sign-ins (in time order) and returns the
    /// findings, in no particular order. Detection is spread over the
    /// pool; the correlation state then advances through the matches in
    /// time order. Consumes the rules: correlation state is per run.
    pub fn run(mut self, ev: &Events) -> Vec<Finding> {
        let records = ev.records;
        let table = &self.table;
        let detector = self.engine.engine();
        let by_key: HashMap<(Option<&str>, &str), usize> = self
            .loaded
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| ((r.id.as_deref(), r.title.as_str()), i))
            .collect();
        let n = self.loaded.rules.len();
        let (silent, feeds) = (&self.silent, &self.feeds);
        // Each match is kept as a rule number; the engine's full result
        // (titles, tags, matched fields) only for the rules a correlation
        // counts. A broad rule matches half a million sign-ins on a
        // million, and its full results held gigabytes.
        let hits = records
            .par_iter()
            .enumerate()
            .fold(
                || Hits::new(n),
                |mut acc, (index, record)| {
                    let e = SignInEvent {
                        record,
                        index,
                        table,
                    };
                    let mut feed = Vec::new();
                    for res in detector.evaluate(&e) {
                        let key = (
                            res.header.rule_id.as_deref(),
                            res.header.rule_title.as_str(),
                        );
                        let Some(&rule) = by_key.get(&key) else {
                            continue;
                        };
                        if !silent.contains(&rule) {
                            acc.matched[rule].push(index);
                        }
                        if feeds.contains(&rule) {
                            feed.push(res);
                        }
                    }
                    if !feed.is_empty() {
                        acc.feed.push((index, feed));
                    }
                    acc
                },
            )
            .reduce(|| Hits::new(n), Hits::merge);
        let Hits {
            mut matched,
            mut feed,
        } = hits;
        for m in &mut matched {
            m.sort_unstable();
        }
        feed.sort_by_key(|(index, _)| *index);

        let mut windows = Windows::new();
        for (index, detections) in feed {
            let record = &records[index];
            let e = SignInEvent {
                record,
                index,
                table,
            };
            let ts = record.time_us.div_euclid(1_000_000);
            for res in self.engine.process_with_detections(&e, detections, ts) {
                let ResultBody::Correlation(c) = res.body else {
                    continue;
                };
                let key = (
                    res.header.rule_id.as_deref(),
                    res.header.rule_title.as_str(),
                );
                let Some(&rule) = by_key.get(&key) else {
                    continue;
                };
                let list = windows.entry((rule, c.group_key)).or_default();
                let ids = c
                    .event_refs
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|r| r.id.and_then(|id| id.parse::<usize>().ok()))
                    .chain([index]);
                match list.last_mut() {
                    // Still inside the window that fired last: the same
                    // burst, told once.
                    Some(w) if ts - w.last_alert <= c.timespan_secs as i64 => {
                        w.last_alert = ts;
                        w.value = w.value.max(c.aggregated_value);
                        w.events.extend(ids);
                    }
                    _ => list.push(Window {
                        last_alert: ts,
                        value: c.aggregated_value,
                        events: ids.collect(),
                    }),
                }
            }
        }

        let rules = &self.loaded.rules;
        let mut findings: Vec<Finding> = matched
            .into_iter()
            .enumerate()
            .filter(|(_, events)| !events.is_empty())
            .map(|(rule, events)| detection_finding(ev, &rules[rule], events))
            .collect();
        for ((rule, group), list) in windows {
            for w in list {
                findings.push(correlation_finding(ev, &rules[rule], &group, w));
            }
        }
        findings
    }
}

/// The detection rules correlations count (by id, name or title): those
/// only correlations with `generate: false` refer to (not reported by
/// themselves), and all of them (fed to the correlation engine).
fn correlated(rules: &[RuleInfo]) -> (BTreeSet<usize>, BTreeSet<usize>) {
    let refers = |reference: &str, r: &RuleInfo| {
        r.id.as_deref() == Some(reference)
            || r.name.as_deref() == Some(reference)
            || r.title == reference
    };
    let mut silent = BTreeSet::new();
    let mut loud = BTreeSet::new();
    for c in rules.iter().filter_map(|r| r.correlation.as_ref()) {
        for reference in &c.rules {
            for (i, r) in rules.iter().enumerate() {
                if r.correlation.is_none() && refers(reference, r) {
                    if c.generate {
                        loud.insert(i);
                    } else {
                        silent.insert(i);
                    }
                }
            }
        }
    }
    let feeds = silent.union(&loud).copied().collect();
    (silent.difference(&loud).copied().collect(), feeds)
}

/// What the parallel pass keeps: per rule, the sign-ins it matched; and
/// the sign-ins (with their results) the correlations need.
struct Hits {
    matched: Vec<Vec<usize>>,
    feed: Vec<(usize, Vec<EvaluationResult>)>,
}

impl Hits {
    fn new(rules: usize) -> Self {
        Hits {
            matched: vec![Vec::new(); rules],
            feed: Vec::new(),
        }
    }

    fn merge(mut self, other: Hits) -> Hits {
        for (a, b) in self.matched.iter_mut().zip(other.matched) {
            a.extend(b);
        }
        self.feed.extend(other.feed);
        self
    }
}

/// A correlation's windows per rule and group (the group-by values).
type Windows = BTreeMap<(usize, Vec<(String, String)>), Vec<Window>>;

/// One burst of a correlation for one group: the alerts that followed
/// each other within the timespan.
struct Window {
    last_alert: i64,
    value: f64,
    events: BTreeSet<usize>,
}

fn severity(level: Option<rsigma_parser::Level>) -> Severity {
    use rsigma_parser::Level;
    match level {
        Some(Level::Informational) => Severity::Info,
        Some(Level::Low) => Severity::Low,
        // The spec makes `level` optional; a rule without one is treated
        // as the middle of the scale rather than hidden among the notes.
        Some(Level::Medium) | None => Severity::Medium,
        Some(Level::High) => Severity::High,
        Some(Level::Critical) => Severity::Critical,
    }
}

/// ATT&CK technique ids from Sigma tags (`attack.t1110.003` ->
/// `T1110.003`); tactics and other namespaces are left out.
pub fn techniques(tags: &[String]) -> Vec<String> {
    let mut out: Vec<String> = tags
        .iter()
        .filter_map(|t| {
            let id = t.to_ascii_lowercase().strip_prefix("attack.t")?.to_string();
            let ok = id
                .split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
            ok.then(|| format!("T{id}"))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

fn remediation(rule: &RuleInfo) -> Vec<String> {
    let mut out = Vec::new();
    if !rule.description.trim().is_empty() {
        out.push(format!("Sigma rule: {}", rule.description.trim()));
    }
    if !rule.falsepositives.is_empty() {
        out.push(format!(
            "Known false positives (from the rule): {}",
            rule.falsepositives.join("; ")
        ));
    }
    out.push(
        "Review the matched sign-ins (the samples, or entrasift timeline --user ACCOUNT / --ip ADDRESS) before acting."
            .into(),
    );
    out
}

fn base_draft(rule: &RuleInfo, actor: String, title: String) -> Draft {
    let mut d = Draft::new(KIND, actor, severity(rule.level), title)
        .fact("rule_id", rule.key.clone())
        .fact("rule_title", rule.title.clone())
        .fact("rule_file", rule.file.clone());
    d.remediation = remediation(rule);
    d
}

fn detection_finding(ev: &Events, rule: &RuleInfo, events: Vec<usize>) -> Finding {
    let mut d = base_draft(rule, rule.key.clone(), rule.title.clone());
    d.events = events;
    let mut f = util::finding(ev, d);
    f.techniques = techniques(&rule.tags);
    f
}

fn correlation_finding(
    ev: &Events,
    rule: &RuleInfo,
    group: &[(String, String)],
    w: Window,
) -> Finding {
    let info = rule.correlation.as_ref();
    let group_text = group
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let title = if group_text.is_empty() {
        rule.title.clone()
    } else {
        format!("{} ({group_text})", rule.title)
    };
    let group_obj: serde_json::Map<String, Value> = group
        .iter()
        .map(|(k, v)| (k.clone(), Value::from(v.clone())))
        .collect();
    let mut d = base_draft(rule, format!("{}|{group_text}", rule.key), title)
        .fact("correlation_type", info.map_or("", |c| c.kind))
        .fact("group_by", Value::Object(group_obj))
        .fact("aggregated_value", w.value);
    d.window_seconds = info.map_or(0, |c| c.timespan_secs as i64);
    d.events = w.events.into_iter().collect();
    let mut f = util::finding(ev, d);
    f.techniques = techniques(&rule.tags);
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn techniques_come_from_attack_tags() {
        let tags = [
            "attack.credential-access",
            "attack.t1110.003",
            "attack.T1078",
            "cve.2021-1234",
            "attack.t1110.003",
        ]
        .map(String::from);
        assert_eq!(techniques(&tags), vec!["T1078", "T1110.003"]);
    }
}
