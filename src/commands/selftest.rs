//! `entrasift self-test`: validates this copy of the tool before it is used
//! on evidence.
//!
//! The reference data is produced by the generator compiled into the
//! binary (fixed seed: every export format, every planted attack); it runs
//! through the whole pipeline and the results are compared with the
//! expected results compiled in beside it (`selftest_expected.json`). A
//! changed reader, de-duplication, catalog or detection shows up as FAIL.

use super::{load, Outcome};
use crate::analyze::detect::{run_all, DetectionConfig, Events};
use crate::generate::{build_dataset, write_dataset, GenerateOptions, OutputKind};
use crate::model::StatusClass;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;

const EXPECTED: &str = include_str!("selftest_expected.json");
const SEED: u64 = 2026;
const RECORDS: usize = 600;

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct FormatResult {
    pub records: u64,
    pub rejected: u64,
    pub skipped: u64,
    pub by_error_code: BTreeMap<String, u64>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Results {
    pub formats: BTreeMap<String, FormatResult>,
    pub combined_records: u64,
    pub combined_duplicates: u64,
    pub combined_failures: u64,
    pub combined_interrupts: u64,
    /// `kind|severity|ips|users` of every finding on the combined input.
    pub findings: Vec<String>,
}

fn measure() -> anyhow::Result<Results> {
    let dir = std::env::temp_dir().join(format!("entrasift-self-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let opts = GenerateOptions {
        records: RECORDS,
        seed: SEED,
        formats: OutputKind::ALL.to_vec(),
        attacks: true,
        ..GenerateOptions::default()
    };
    let result = (|| {
        write_dataset(&build_dataset(&opts), &opts, &dir)?;
        let mut formats = BTreeMap::new();
        let mut all_inputs = Vec::new();
        for kind in OutputKind::ALL {
            let path = dir.join(kind.as_str());
            let l = load(std::slice::from_ref(&path), true);
            let mut by_code = BTreeMap::new();
            for r in &l.records {
                *by_code.entry(r.error_code.to_string()).or_insert(0) += 1;
            }
            formats.insert(
                kind.as_str().to_string(),
                FormatResult {
                    records: l.records.len() as u64,
                    rejected: l.rejected(),
                    skipped: l.skipped(),
                    by_error_code: by_code,
                },
            );
            all_inputs.push(path);
        }
        let all = load(&all_inputs, true);
        // Paths in evidence would differ per run; findings are compared on
        // kind, severity and actors.
        let findings = run_all(
            &Events::new(&all.records, &all.paths),
            &DetectionConfig::default(),
        )
        .iter()
        .map(|f| {
            format!(
                "{}|{}|{}|{}",
                f.kind,
                f.severity.as_str(),
                f.ips.join(","),
                f.users.join(",")
            )
        })
        .collect();
        let count = |s: StatusClass| all.records.iter().filter(|r| r.status == s).count() as u64;
        anyhow::Ok(Results {
            formats,
            combined_records: all.records.len() as u64,
            combined_duplicates: all.duplicates(),
            combined_failures: count(StatusClass::Failure),
            combined_interrupts: count(StatusClass::Interrupted),
            findings,
        })
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Runs the checks; `print_actual` prints the measured results as JSON
/// instead (for a lab to diff, or to refresh the expectations after an
/// intended change).
pub fn run(print_actual: bool) -> anyhow::Result<Outcome> {
    let actual = measure()?;
    let mut out = std::io::stdout().lock();
    if print_actual {
        serde_json::to_writer_pretty(&mut out, &actual)?;
        writeln!(out)?;
        return Ok(Outcome::Clean);
    }
    let expected: Results = serde_json::from_str(EXPECTED)?;
    let mut failed = 0;
    let mut check = |name: String, ok: bool, detail: String| -> std::io::Result<()> {
        if !ok {
            failed += 1;
        }
        writeln!(
            out,
            "{} {name}{}",
            if ok { "PASS" } else { "FAIL" },
            if ok {
                String::new()
            } else {
                format!(": {detail}")
            }
        )
    };
    for (name, want) in &expected.formats {
        let got = actual.formats.get(name);
        check(
            format!(
                "read {name} ({} sign-ins, {} error codes)",
                want.records,
                want.by_error_code.len()
            ),
            got == Some(want),
            format!(
                "got {}",
                got.map(|g| serde_json::to_string(g).unwrap_or_default())
                    .unwrap_or_else(|| "nothing".into())
            ),
        )?;
    }
    check(
        format!(
            "all formats together collapse to {} sign-ins ({} duplicates)",
            expected.combined_records, expected.combined_duplicates
        ),
        (actual.combined_records, actual.combined_duplicates)
            == (expected.combined_records, expected.combined_duplicates),
        format!(
            "got {} ({} duplicates)",
            actual.combined_records, actual.combined_duplicates
        ),
    )?;
    check(
        format!(
            "status classes: {} failures, {} interrupts",
            expected.combined_failures, expected.combined_interrupts
        ),
        (actual.combined_failures, actual.combined_interrupts)
            == (expected.combined_failures, expected.combined_interrupts),
        format!(
            "got {} failures, {} interrupts",
            actual.combined_failures, actual.combined_interrupts
        ),
    )?;
    for f in &expected.findings {
        let kind = f.split('|').next().unwrap_or("");
        check(
            format!("detects {kind} ({})", f.split('|').nth(1).unwrap_or("")),
            actual.findings.contains(f),
            format!("missing {f}"),
        )?;
    }
    for f in actual
        .findings
        .iter()
        .filter(|f| !expected.findings.contains(f))
    {
        check("no unexpected finding".into(), false, f.clone())?;
    }
    let text = crate::report::explain::explain("50053");
    check(
        "catalog explains 50053's causes".into(),
        text.to_lowercase().contains("malicious"),
        "no malicious-IP cause".into(),
    )?;
    writeln!(
        out,
        "{}",
        if failed == 0 {
            "self-test passed".to_string()
        } else {
            format!("self-test FAILED: {failed} check(s)")
        }
    )?;
    Ok(if failed == 0 {
        Outcome::Clean
    } else {
        Outcome::CheckFailed
    })
}
