//! Reading Sigma rule files and folders: parse each file on its own (so a
//! failure names its file and line), keep the rules for Entra sign-in logs
//! and the correlations built on them, count the rest, compile everything
//! before any input is read, and list the field names no export provides.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rsigma_eval::{FieldSource, RuleFieldSet};
use rsigma_parser::{CorrelationRule, FilterRule, LogSource, SigmaCollection, SigmaRule};

use super::fields;

/// Why the rules could not be loaded. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum SigmaError {
    #[error("Sigma rules {path}: cannot read: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("Sigma rules {path}: no .yml or .yaml file")]
    NoRules { path: String },
    #[error("Sigma rule {path}, line {line}: {message}")]
    Parse {
        path: String,
        line: usize,
        message: String,
    },
    #[error("Sigma rule {path}: {message}")]
    Compile { path: String, message: String },
}

/// One loaded rule, detection or correlation, as findings name it.
#[derive(Debug, Clone)]
pub struct RuleInfo {
    /// The rule's `id`, else its `name`, else its title: what findings
    /// carry as `rule_id` and what the engine's results are matched on.
    pub key: String,
    pub id: Option<String>,
    pub name: Option<String>,
    pub title: String,
    pub level: Option<rsigma_parser::Level>,
    pub tags: Vec<String>,
    pub description: String,
    pub falsepositives: Vec<String>,
    /// The file it came from, as given or found in a folder.
    pub file: String,
    /// For a correlation: its type, group-by fields and timespan.
    pub correlation: Option<CorrelationInfo>,
}

#[derive(Debug, Clone)]
pub struct CorrelationInfo {
    pub kind: &'static str,
    /// The rules it counts, as it names them (id, name or title).
    pub rules: Vec<String>,
    /// The spec's `generate`: whether those rules are also reported by
    /// themselves.
    pub generate: bool,
    pub group_by: Vec<String>,
    pub timespan_secs: u64,
}

/// The rules of a run.
#[derive(Debug, Default)]
pub struct Loaded {
    pub collection: SigmaCollection,
    pub rules: Vec<RuleInfo>,
    /// Every rule file read, in the order read (for the manifest).
    pub files: Vec<PathBuf>,
    /// Detection rules for another log source (and the correlations and
    /// filters built only on them), not run.
    pub skipped_other_source: usize,
    /// Per rule (title), the field names it uses that no export provides:
    /// conditions on them are never true.
    pub unmapped: BTreeMap<String, BTreeSet<String>>,
    /// Per rule (title), the field names it uses that a sign-in can carry,
    /// as the rule spells them: an input may still leave one empty
    /// throughout (see `Rules::coverage_on`).
    pub mapped: BTreeMap<String, BTreeSet<String>>,
}

/// The log source this tool reads.
pub fn is_signin_source(ls: &LogSource) -> bool {
    let eq =
        |v: &Option<String>, want: &str| v.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(want));
    eq(&ls.product, "azure") && eq(&ls.service, "signinlogs")
}

/// Rule files under each path (a file is taken as it is; a folder is
/// walked in sorted order for `.yml`/`.yaml`).
fn rule_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, SigmaError> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), SigmaError> {
        let read = |e| SigmaError::Read {
            path: dir.display().to_string(),
            source: e,
        };
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(read)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .map_err(read)?;
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out)?;
            } else if is_rule_file(&p) {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| SigmaError::Read {
            path: p.display().to_string(),
            source: e,
        })?;
        if meta.is_dir() {
            let before = out.len();
            walk(p, &mut out)?;
            if out.len() == before {
                return Err(SigmaError::NoRules {
                    path: p.display().to_string(),
                });
            }
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// A `.yml` or `.yaml` file name.
pub fn is_rule_file(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"))
}

/// The documents of a YAML stream with the line each starts on (1-based):
/// a `---` line starts a new one.
fn documents(text: &str) -> Vec<(usize, String)> {
    let mut docs = vec![(1, String::new())];
    for (i, line) in text.lines().enumerate() {
        if line.trim_end() == "---" {
            docs.push((i + 2, String::new()));
        } else if let Some((_, d)) = docs.last_mut() {
            d.push_str(line);
            d.push('\n');
        }
    }
    docs
}

/// Whether a document holds anything but blank lines and comments.
fn has_content(doc: &str) -> bool {
    doc.lines()
        .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
}

/// The line a YAML parser message points at (`... at line 7 column 3`),
/// relative to the document.
fn yaml_line(message: &str) -> Option<usize> {
    let at = message.find("line ")?;
    let digits: String = message[at + 5..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Parse errors the parser reports that do not cost a document (a bad
/// `date`, a malformed `related` entry): the rule still runs, as pySigma
/// runs it.
fn is_warning(message: &str) -> bool {
    message.starts_with("related[")
        || message.starts_with("invalid ")
        || message.contains("not a list")
}

/// Parses one file; a document that yields no rule, correlation or filter
/// is an error at the line it starts on (or the YAML error's own line).
fn parse_file(path: &Path) -> Result<SigmaCollection, SigmaError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| SigmaError::Read {
        path: name.clone(),
        source: e,
    })?;
    let whole = rsigma_parser::parse_sigma_yaml(&text).map_err(|e| SigmaError::Parse {
        path: name.clone(),
        line: 1,
        message: e.to_string(),
    })?;
    let fatal: Vec<&String> = whole.errors.iter().filter(|m| !is_warning(m)).collect();
    if fatal.is_empty() {
        return Ok(whole);
    }
    // Find the document at fault by parsing each on its own. A stream
    // that uses `action: global` cannot be cut apart, so its error is
    // placed at line 1.
    let uses_actions = text.lines().any(|l| l.trim_start().starts_with("action:"));
    if !uses_actions {
        for (start, doc) in documents(&text).iter().filter(|(_, d)| has_content(d)) {
            let one = rsigma_parser::parse_sigma_yaml(doc);
            let message = match one {
                Err(e) => Some(e.to_string()),
                Ok(c) => c.errors.into_iter().find(|m| !is_warning(m)),
            };
            if let Some(message) = message {
                let line = start + yaml_line(&message).map_or(0, |l| l.saturating_sub(1));
                return Err(SigmaError::Parse {
                    path: name,
                    line,
                    message,
                });
            }
        }
    }
    Err(SigmaError::Parse {
        path: name,
        line: 1,
        message: fatal[0].clone(),
    })
}

fn rule_info(r: &SigmaRule, file: &str) -> RuleInfo {
    RuleInfo {
        key: r
            .id
            .clone()
            .or_else(|| r.name.clone())
            .unwrap_or_else(|| r.title.clone()),
        id: r.id.clone(),
        name: r.name.clone(),
        title: r.title.clone(),
        level: r.level,
        tags: r.tags.clone(),
        description: r.description.clone().unwrap_or_default(),
        falsepositives: r.falsepositives.clone(),
        file: file.to_string(),
        correlation: None,
    }
}

fn correlation_info(c: &CorrelationRule, file: &str) -> RuleInfo {
    RuleInfo {
        key: c
            .id
            .clone()
            .or_else(|| c.name.clone())
            .unwrap_or_else(|| c.title.clone()),
        id: c.id.clone(),
        name: c.name.clone(),
        title: c.title.clone(),
        level: c.level,
        tags: c.tags.clone(),
        description: c.description.clone().unwrap_or_default(),
        falsepositives: c.falsepositives.clone(),
        file: file.to_string(),
        correlation: Some(CorrelationInfo {
            kind: c.correlation_type.as_str(),
            rules: c.rules.clone(),
            generate: c.generate,
            group_by: c.group_by.clone(),
            timespan_secs: c.timespan.seconds,
        }),
    }
}

/// Reads, filters and compiles the rules under `paths`.
pub fn load(paths: &[PathBuf]) -> Result<Loaded, SigmaError> {
    let files = rule_files(paths)?;
    let mut out = Loaded {
        files: files.clone(),
        ..Loaded::default()
    };
    // Per file: kept detection rules, all correlations and filters (kept
    // or not is decided once every file is read, since a correlation may
    // name a rule in another file).
    let mut rules: Vec<(SigmaRule, String)> = Vec::new();
    let mut skipped: Vec<SigmaRule> = Vec::new();
    let mut correlations: Vec<(CorrelationRule, String)> = Vec::new();
    let mut filters: Vec<(FilterRule, String)> = Vec::new();
    for f in &files {
        let name = f.display().to_string();
        let c = parse_file(f)?;
        for r in c.rules {
            // Compile now, so a rule the engine cannot run stops the run
            // here with its file, not later without one.
            rsigma_eval::compile_rule(&r).map_err(|e| SigmaError::Compile {
                path: name.clone(),
                message: format!("rule {:?}: {e}", r.title),
            })?;
            if is_signin_source(&r.logsource) {
                rules.push((r, name.clone()));
            } else {
                skipped.push(r);
            }
        }
        correlations.extend(c.correlations.into_iter().map(|r| (r, name.clone())));
        filters.extend(c.filters.into_iter().map(|r| (r, name.clone())));
    }
    out.skipped_other_source = skipped.len();
    // What references to a skipped rule look like: its id, name or title.
    let mut skipped_names: BTreeSet<String> = BTreeSet::new();
    for s in &skipped {
        skipped_names.extend(s.id.iter().chain(&s.name).cloned());
        skipped_names.insert(s.title.clone());
    }
    // A correlation over a skipped rule cannot run here: it is skipped too,
    // and so, in turn, is one over such a correlation.
    let mut kept_corr: Vec<(CorrelationRule, String)> = Vec::new();
    let mut pending = correlations;
    loop {
        let before = pending.len();
        let mut next = Vec::new();
        for (c, file) in pending {
            if c.rules.iter().any(|r| skipped_names.contains(r)) {
                out.skipped_other_source += 1;
                skipped_names.extend(c.id.iter().chain(&c.name).cloned());
                skipped_names.insert(c.title.clone());
            } else {
                next.push((c, file));
            }
        }
        pending = next;
        if pending.len() == before {
            break;
        }
    }
    kept_corr.extend(pending);
    for (f, _) in filters {
        let ours = f.logsource.as_ref().is_none_or(is_signin_source);
        if ours {
            out.collection.filters.push(f);
        } else {
            out.skipped_other_source += 1;
        }
    }
    for (r, file) in &rules {
        out.rules.push(rule_info(r, file));
    }
    for (c, file) in &kept_corr {
        out.rules.push(correlation_info(c, file));
    }
    out.collection.rules = rules.into_iter().map(|(r, _)| r).collect();
    out.collection.correlations = kept_corr.into_iter().map(|(c, _)| c).collect();
    // Fields no export provides, per rule.
    let fields = RuleFieldSet::collect(&out.collection, &[], true);
    for (name, origin) in fields.iter() {
        if origin.sources.iter().all(|s| *s == FieldSource::Metadata) {
            continue;
        }
        let per_rule = if fields::resolve(name).is_none() {
            &mut out.unmapped
        } else {
            &mut out.mapped
        };
        for title in &origin.rule_titles {
            per_rule
                .entry(title.clone())
                .or_default()
                .insert(name.to_string());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_keep_their_start_line() {
        let d = documents("a: 1\n---\nb: 2\nc: 3\n---\n");
        assert_eq!(d.iter().map(|(l, _)| *l).collect::<Vec<_>>(), vec![1, 3, 6]);
        assert!(has_content(&d[1].1));
        assert!(!has_content(&d[2].1));
    }

    #[test]
    fn yaml_error_line_is_read() {
        assert_eq!(
            yaml_line("mapping values are not allowed at line 4 column 7"),
            Some(4)
        );
        assert_eq!(yaml_line("no position"), None);
    }
}
