//! Output side of the pipeline: turns findings and summaries into text for people.

pub mod baseline;
pub mod charts;
pub mod data;
pub mod enrichment;
pub mod explain;
pub mod html;
pub mod json;
pub mod manifest;
pub mod markdown;
pub mod table;
pub mod text;
pub mod write;
pub mod xlsx;
