//! entrasift: offline analyzer for Microsoft Entra ID sign-in logs.
//!
//! The pipeline reads top to bottom:
//! `ingest` (find inputs, recognise the export format, parse records in
//! parallel) -> `normalize` (one schema in UTC, de-duplication, the polars
//! table) -> `analyze` (aggregations and detections) -> `report` (HTML,
//! Markdown, JSON, CSV, charts). `model` is the vocabulary all of them share;
//! `enrich` fills location and ASN from local MaxMind DB files between
//! normalize and analyze.

pub mod analyze;
pub mod cli;
pub mod commands;
pub mod enrich;
#[doc(hidden)]
pub mod fuzzing;
pub mod generate;
pub mod ingest;
pub mod model;
pub mod normalize;
pub mod report;
pub mod trace;
