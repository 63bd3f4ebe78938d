//! Shared helpers: generated datasets and projections of normalized records.

use entrasift::generate::{build_dataset, write_dataset, GenerateOptions};
use entrasift::model::SignIn;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub fn generate(dir: &Path, records: usize, attacks: bool, seed: u64) -> serde_json::Value {
    let opts = GenerateOptions {
        records,
        seed,
        attacks,
        ..GenerateOptions::default()
    };
    let ds = build_dataset(&opts);
    write_dataset(&ds, &opts, dir).expect("generate");
    let text = std::fs::read_to_string(dir.join("truth.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The identity of a sign-in independent of where it was read from.
pub fn identity(r: &SignIn) -> (String, i64, i64, String, String) {
    (
        r.request_id.to_string(),
        r.time_us.div_euclid(1_000_000),
        r.error_code,
        r.user_principal_name.to_string(),
        r.ip.to_string(),
    )
}

pub fn identities(records: &[SignIn]) -> Vec<(String, i64, i64, String, String)> {
    let mut v: Vec<_> = records.iter().map(identity).collect();
    v.sort();
    v
}

pub fn counts<K: Ord>(records: &[SignIn], key: impl Fn(&SignIn) -> Option<K>) -> BTreeMap<K, u64> {
    let mut m = BTreeMap::new();
    for r in records {
        if let Some(k) = key(r) {
            *m.entry(k).or_insert(0) += 1;
        }
    }
    m
}

pub fn json_counts(v: &serde_json::Value) -> BTreeMap<String, u64> {
    v.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default()
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_entrasift"))
}
