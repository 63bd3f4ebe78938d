//! Output side of the pipeline: turns findings and summaries into text for people.

pub mod explain;
pub mod json;
pub mod table;
pub mod text;
pub mod write;
pub mod data;
