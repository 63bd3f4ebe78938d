//! Output side of the pipeline: turns findings and summaries into text for people.

pub mod baseline;
pub mod charts;
pub mod data;
pub mod dataset;
pub mod enrichment;
pub mod escape;
pub mod explain;
pub mod folder;
pub mod history;
pub mod html;
pub mod json;
pub mod manifest;
pub mod markdown;
pub mod table;
pub mod text;
pub mod timeline;
pub mod write;
pub mod xlsx;
pub mod zone;

pub use folder::{write_all, Folder, Parts, WriteError};
