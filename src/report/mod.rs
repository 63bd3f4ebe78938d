//! Output side of the pipeline: renders what analyze computed (summary,
//! tables, findings, breakdown; see `data::ReportData`) as files for
//! people and programs. No writer reads the sign-ins themselves, and log
//! text reaches an output only through `escape`. `write_all` writes the
//! whole report folder.

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

pub use folder::{write_all, Folder, Parts, Workbook, WriteError};
