//! `manifest.json`: what produced this report — tool, command line,
//! settings in force, every input with its hash and accounting, every
//! output with its hash — so the run can be reproduced and verified. The
//! only non-deterministic fields are the run times.

use crate::ingest::InputReport;
use serde::Serialize;

#[derive(Debug, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct OutputFile {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

#[derive(Debug, Serialize)]
pub struct Manifest<'a> {
    pub tool: &'static str,
    pub version: &'static str,
    /// The source the binary was built from (`entrasift about`).
    pub git_commit: &'static str,
    pub command_line: Vec<String>,
    /// Where relative paths in the command line were resolved, so
    /// `entrasift verify` can re-run from there.
    pub working_directory: String,
    /// Files that shaped the result besides the inputs: --config,
    /// --ip-list, --baseline. Their content matters, not only their name.
    pub settings_files: Vec<OutputFile>,
    pub preset: &'a str,
    /// The detection settings in force, as TOML.
    pub settings: String,
    pub fail_on: String,
    pub inputs: &'a [InputReport],
    /// The `--geoip`/`--asn` files used, with hash, type and build time:
    /// the same lookups need the same database.
    pub enrichment_databases: &'a [crate::enrich::DatabaseInfo],
    pub outputs: Vec<OutputFile>,
    pub started: String,
    pub finished: String,
    pub seconds: f64,
}

/// The current time in UTC as the manifest records run times.
pub fn utc_now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// SHA-256 and size of a written file.
pub fn describe(dir: &std::path::Path, rel: &str) -> std::io::Result<OutputFile> {
    let mut f = hash_file(&dir.join(rel))?;
    f.path = rel.to_string();
    Ok(f)
}

/// SHA-256 and size of any file, named as given.
pub fn hash_file(path: &std::path::Path) -> std::io::Result<OutputFile> {
    use sha2::{Digest, Sha256};
    let bytes = std::fs::read(path)?;
    let hash: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(OutputFile {
        path: path.display().to_string(),
        sha256: hash,
        bytes: bytes.len() as u64,
    })
}
