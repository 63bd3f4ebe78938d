//! Golden findings per detection, as ruff keeps snapshots per rule.
//!
//! One realistic generated tenant (fixed seed, every attack planted) is
//! read through the Graph JSON Lines reader and each detection runs alone
//! with the default settings; its findings, serialized as `findings.json`
//! serializes them, must equal `tests/golden/<kind>.json`. A change to what
//! a detection finds therefore shows up as a diff to review. After a
//! deliberate change, rewrite the files with
//!
//! ```text
//! ENTRASIFT_BLESS=1 cargo test --release --test integration golden
//! ```
//!
//! and review `git diff tests/golden` before committing.

use entrasift::analyze::detect::{run_all, DetectionConfig, Events, DETECTIONS};
use entrasift::commands::load;
use entrasift::generate::{build_dataset, write_dataset, GenerateOptions, OutputKind};
use entrasift::model::Finding;
use std::path::{Path, PathBuf};

const SEED: u64 = 2026;
const RECORDS: usize = 3000;
/// Stands for the temporary directory in evidence paths, so the files do
/// not depend on where the test ran.
const DATA_DIR: &str = "<generated>";

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn bless() -> bool {
    std::env::var("ENTRASIFT_BLESS").is_ok_and(|v| v == "1")
}

/// Each detection's findings on the generated tenant, as pretty JSON.
fn findings_per_detection() -> Vec<(&'static str, usize, String)> {
    let tmp = tempfile::tempdir().unwrap();
    let opts = GenerateOptions {
        records: RECORDS,
        seed: SEED,
        formats: vec![OutputKind::GraphJsonl],
        attacks: true,
        ..GenerateOptions::default()
    };
    write_dataset(&build_dataset(&opts), &opts, tmp.path()).expect("generate");
    let input = tmp.path().join(OutputKind::GraphJsonl.as_str());
    let loaded = load(&[input], true);
    assert!(loaded.records.len() > RECORDS, "generator wrote too little");
    let ev = Events::new(&loaded.records, &loaded.paths);
    let prefix = tmp.path().to_string_lossy().into_owned();
    DETECTIONS
        .iter()
        .map(|d| {
            let mut cfg = DetectionConfig::default();
            for other in DETECTIONS {
                cfg.set_enabled(other.kind(), other.kind() == d.kind())
                    .unwrap();
            }
            let found: Vec<Finding> = run_all(&ev, &cfg);
            assert!(found.iter().all(|f| f.kind == d.kind()));
            let mut text = serde_json::to_string_pretty(&found).unwrap();
            text = text.replace(&prefix, DATA_DIR);
            text.push('\n');
            (d.kind(), found.len(), text)
        })
        .collect()
}

/// The differing middle of two texts (common first and last lines left
/// out), with line numbers; enough to see what changed in a JSON file.
fn diff(want: &str, got: &str) -> String {
    const MAX: usize = 40;
    let a: Vec<&str> = want.lines().collect();
    let b: Vec<&str> = got.lines().collect();
    let head = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let mut out = format!(
        "@@ line {}: {} line(s) in the golden file, {} now @@\n",
        head + 1,
        a.len() - head - tail,
        b.len() - head - tail
    );
    for (sign, lines) in [
        ("-", &a[head..a.len() - tail]),
        ("+", &b[head..b.len() - tail]),
    ] {
        for line in lines.iter().take(MAX) {
            out.push_str(&format!("{sign} {line}\n"));
        }
        if lines.len() > MAX {
            out.push_str(&format!("{sign} ... {} more line(s)\n", lines.len() - MAX));
        }
    }
    out
}

#[test]
fn golden_findings_per_detection() {
    let dir = golden_dir();
    let results = findings_per_detection();
    // The planted attacks reach most detections; a fixture where nearly
    // nothing fires would make the snapshots pointless.
    let firing = results.iter().filter(|(_, n, _)| *n > 0).count();
    assert!(firing >= 8, "only {firing} detections fired on the fixture");
    if bless() {
        std::fs::create_dir_all(&dir).unwrap();
    }
    let mut failures = Vec::new();
    for (kind, _, got) in &results {
        let path = dir.join(format!("{kind}.json"));
        if bless() {
            std::fs::write(&path, got).unwrap();
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(want) if want == *got => {}
            Ok(want) => failures.push(format!(
                "{kind}: findings differ from {}\n{}",
                path.display(),
                diff(&want, got)
            )),
            Err(e) => failures.push(format!("{kind}: cannot read {}: {e}", path.display())),
        }
    }
    // A golden file whose detection is gone is stale.
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let kind = name.strip_suffix(".json").unwrap_or(&name);
        if !results.iter().any(|(k, _, _)| *k == kind) {
            failures.push(format!(
                "{name}: no detection of that kind; remove the file"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n\nIf the change is intended: ENTRASIFT_BLESS=1 cargo test --release --test \
         integration golden, then review `git diff tests/golden`.",
        failures.join("\n\n")
    );
}

#[test]
fn golden_diff_shows_the_changed_lines() {
    let want = "[\n  {\n    \"count\": 12,\n    \"kind\": \"x\"\n  }\n]\n";
    let got = "[\n  {\n    \"count\": 13,\n    \"kind\": \"x\"\n  }\n]\n";
    let d = diff(want, got);
    assert!(
        d.contains("@@ line 3: 1 line(s) in the golden file, 1 now @@"),
        "{d}"
    );
    assert!(d.contains("-     \"count\": 12,"), "{d}");
    assert!(d.contains("+     \"count\": 13,"), "{d}");
    assert!(!d.contains("\"kind\""), "{d}");
}
