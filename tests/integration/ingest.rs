//! Ingestion on generated exports: every format normalizes back to the
//! generator's truth, and the normalized set does not depend on how the
//! input is split, ordered or duplicated.

use crate::common::*;
use entrasift::commands::load;
use std::collections::BTreeMap;

#[test]
fn every_format_normalizes_to_the_same_records() {
    let dir = tempfile::tempdir().unwrap();
    let truth = generate(dir.path(), 1500, true, 11);
    let formats = truth["formats"].as_object().unwrap();
    assert!(formats.len() >= 12, "{formats:?}");
    for (name, info) in formats {
        let subset = info["subset"].as_str().unwrap();
        let want = &truth["expected"][subset];
        let loaded = load(&[dir.path().join(name)], true);
        assert_eq!(
            loaded.rejected(),
            0,
            "{name}: {:?}",
            loaded
                .inputs
                .iter()
                .filter(|i| i.is_partial())
                .collect::<Vec<_>>()
        );
        assert!(loaded.inputs.iter().all(|i| i.error.is_none()), "{name}");
        assert_eq!(
            loaded.records.len() as u64,
            want["records"].as_u64().unwrap(),
            "{name}: record count"
        );
        let by_code: BTreeMap<String, u64> =
            counts(&loaded.records, |r| Some(r.error_code.to_string()));
        assert_eq!(
            by_code,
            json_counts(&want["by_error_code"]),
            "{name}: by error code"
        );
        let by_user = counts(&loaded.records, |r| {
            (!r.user_principal_name.is_empty()).then(|| r.user_principal_name.to_string())
        });
        assert_eq!(by_user, json_counts(&want["by_user"]), "{name}: by user");
        let by_ip = counts(&loaded.records, |r| {
            (!r.ip.is_empty()).then(|| r.ip.to_string())
        });
        assert_eq!(by_ip, json_counts(&want["by_ip"]), "{name}: by IP");
        let by_type = counts(&loaded.records, |r| {
            Some(r.sign_in_type.as_str().to_string())
        });
        assert_eq!(
            by_type,
            json_counts(&want["by_sign_in_type"]),
            "{name}: by sign-in type"
        );
        // Skipped rows are non-sign-ins the generator planted on purpose.
        let skipped_expected = info["non_sign_in_records"].as_u64().unwrap_or(0);
        let skipped_non_auth: u64 = loaded
            .inputs
            .iter()
            .flat_map(|i| i.skipped_by_reason.iter())
            .filter(|(k, _)| !k.starts_with("authentication-detail"))
            .map(|(_, n)| *n)
            .sum();
        assert_eq!(skipped_non_auth, skipped_expected, "{name}: skipped");
    }
}

#[test]
fn all_formats_together_collapse_to_one_copy_of_each_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let truth = generate(dir.path(), 800, true, 5);
    let mut inputs = vec![];
    for name in truth["formats"].as_object().unwrap().keys() {
        inputs.push(dir.path().join(name));
    }
    let all = load(&inputs, true);
    assert_eq!(
        all.records.len() as u64,
        truth["expected"]["all"]["records"].as_u64().unwrap()
    );
    let read: u64 = all.inputs.iter().map(|i| i.parsed).sum();
    assert_eq!(read - all.duplicates(), all.records.len() as u64);
    // The audit log carries fewer fields: the richer copy must win.
    assert!(all
        .records
        .iter()
        .all(|r| r.source_format != Some(entrasift::model::SourceFormat::PurviewAudit)));
    // Order of inputs changes nothing.
    inputs.reverse();
    let again = load(&inputs, true);
    assert_eq!(identities(&again.records), identities(&all.records));
    // Inputs are listed in path order, so even the provenance is identical.
    assert_eq!(again.records, all.records);
}

#[test]
fn splitting_and_duplicating_files_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), 600, true, 3);
    let base = load(&[dir.path().join("graph-jsonl")], true);
    // Split every JSON Lines file in two, in a fresh folder, and add a
    // second copy of one half elsewhere.
    let split = tempfile::tempdir().unwrap();
    for (n, entry) in walk(&dir.path().join("graph-jsonl"))
        .into_iter()
        .enumerate()
    {
        let text = std::fs::read_to_string(&entry).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let (a, b) = lines.split_at(lines.len() / 2);
        std::fs::write(split.path().join(format!("part{n}-a.jsonl")), a.join("\n")).unwrap();
        std::fs::write(split.path().join(format!("part{n}-b.jsonl")), b.join("\n")).unwrap();
        if n == 0 {
            std::fs::create_dir_all(split.path().join("copy")).unwrap();
            std::fs::write(split.path().join("copy").join("again.jsonl"), b.join("\n")).unwrap();
        }
    }
    let again = load(&[split.path().to_path_buf()], true);
    assert_eq!(identities(&again.records), identities(&base.records));
    assert!(again.duplicates() > 0);
}

fn walk(p: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(p).unwrap() {
        let e = e.unwrap().path();
        if e.is_dir() {
            out.extend(walk(&e));
        } else {
            out.push(e);
        }
    }
    out.sort();
    out
}

#[test]
fn real_public_samples_read_without_rejects() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for (dir, want_min) in [
        ("graph-api", 1),
        ("azure-monitor-diag", 18),
        ("loganalytics-csv", 9),
    ] {
        let loaded = load(&[root.join(dir)], true);
        // Elastic's captures repeat some sign-ins across files: those are
        // duplicates, not losses.
        assert_eq!(
            loaded.records.len() as u64 + loaded.duplicates(),
            want_min,
            "{dir}"
        );
        for i in &loaded.inputs {
            // The corner-case capture holds only {time, category} records,
            // which are not sign-ins and must be rejected with a reason.
            if i.path.contains("corner-cases") {
                assert_eq!(i.rejected, 11, "{i:?}");
                continue;
            }
            assert_eq!(i.rejected, 0, "{i:?}");
        }
    }
    // The Purview sample is an "Add service principal." record: skipped.
    let p = load(&[root.join("purview-ual")], true);
    assert_eq!(p.records.len(), 1);
    assert!(p.skipped() >= 1);
}
