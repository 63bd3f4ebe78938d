//! One integration-test binary (linking polars once instead of per file).
//!
//! - `ingest`: every export format normalizes to the generator's truth;
//!   splitting, reordering and duplicating inputs changes nothing; the real
//!   public samples read cleanly.
//! - `malformed`: broken input is accounted for, never fatal.
//! - `fuzz_replay`: the fuzz corpus replayed on stable.
//! - `hostile_output`: hostile log text comes out inert; unwritable
//!   outputs fail cleanly.
//! - `cli`: the binary end to end (analyze, ingest, convert, explain, exit
//!   codes, determinism).

mod cli;
mod common;
mod fuzz_replay;
mod hostile_output;
mod ingest;
mod malformed;
