//! One integration-test binary (linking polars once instead of per file).
//!
//! - `ingest`: every export format normalizes to the generator's truth;
//!   splitting, reordering and duplicating inputs changes nothing; the real
//!   public samples read cleanly.
//! - `malformed`: broken input is accounted for, never fatal.
//! - `real_exports`: public exports as people hand them over (other
//!   tables, AD FS, UTF-16 re-saves, syntax errors, missing columns).
//! - `sql`: the day-partitioned Parquet dataset and the SQL detections run
//!   by DuckDB agree with `analyze` (skipped with a note without DuckDB).
//! - `fuzz_replay`: the fuzz corpus replayed on stable.
//! - `golden`: each detection's findings on a generated tenant against
//!   `tests/golden/<kind>.json` (`ENTRASIFT_BLESS=1` rewrites them).
//! - `hostile_output`: hostile log text comes out inert; unwritable
//!   outputs fail cleanly.
//! - `cli`: the binary end to end (analyze, ingest, convert, explain, exit
//!   codes, determinism, version and about).
//! - `forensic`: actor timelines, local time beside UTC, `verify`.
//! - `weekly`: `--history` trends and what is new since the last run.
//! - `story`: account verdicts per planted attack in every export,
//!   lockouts apart from address blocks, coverage statements.
//! - `enrich`: `--geoip`/`--asn` with the databases `generate --mmdb` writes.
//! - `presets`: what the report says each preset raises is what running
//!   that preset raises.

mod cli;
mod common;
mod enrich;
mod forensic;
mod fuzz_replay;
mod golden;
mod hostile_output;
mod ingest;
mod malformed;
mod presets;
mod real_exports;
mod sigma;
mod sql;
mod story;
mod weekly;
