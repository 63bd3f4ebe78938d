//! The fuzz corpus (`tests/fuzz-corpus/<target>/`: seeds and every input a
//! fuzzer ever broke the tool with) replayed through the entry points the
//! fuzz targets use, on the stable toolchain, so CI guards against
//! regressions without nightly or libFuzzer.

use entrasift::fuzzing::{run, TARGETS};
use std::path::{Path, PathBuf};

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-corpus")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

#[test]
fn every_corpus_input_replays_without_panic_and_with_balanced_accounting() {
    let mut failures = Vec::new();
    for target in TARGETS {
        let mut produced = 0;
        let inputs = files(&corpus_root().join(target));
        assert!(!inputs.is_empty(), "no corpus for {target}");
        for path in inputs {
            let data = std::fs::read(&path).unwrap();
            match std::panic::catch_unwind(|| run(target, &data)) {
                Ok(Ok(n)) => produced += n,
                Ok(Err(broken)) => failures.push(format!("{}: {broken}", path.display())),
                Err(_) => failures.push(format!("{}: panicked", path.display())),
            }
        }
        // The seeds are real exports: each reader must get records out of
        // them, or the corpus no longer reaches the code it is meant for.
        if *target != "sniff" {
            assert!(produced > 0, "{target}: no corpus input produced a record");
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn corpus_folders_and_fuzz_targets_match() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut corpus: Vec<String> = files(&corpus_root())
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let mut targets: Vec<String> = files(&root.join("fuzz/fuzz_targets"))
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    let mut listed: Vec<String> = TARGETS.iter().map(|t| t.to_string()).collect();
    corpus.sort();
    targets.sort();
    listed.sort();
    assert_eq!(corpus, listed);
    assert_eq!(targets, listed);
}
