//! entrasift: offline analyzer for Microsoft Entra ID sign-in logs.
//!
//! The pipeline reads top to bottom:
//! `ingest` (find inputs, recognise the export format, parse records in
//! parallel) -> `normalize` (one schema in UTC, de-duplication, the polars
//! table) -> `analyze` (summary, aggregations, detections, and the
//! breakdown of every other number a report shows) -> `report` (HTML,
//! Markdown, JSON, CSV, charts, rendered from what analyze computed).
//! `model` is the vocabulary all of them share; `enrich` fills location and
//! ASN from local MaxMind DB files between normalize and analyze; `trace`
//! times the stages for `--verbose`. ARCHITECTURE.md draws the data path.

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
