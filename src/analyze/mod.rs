//! Analysis over normalized sign-ins: aggregations and attack detections.

pub mod agents;
pub mod aggregate;
pub mod detect;
pub mod summary;
pub mod timeline;

use crate::model::columns as col;

/// The table columns `summary` reads: `analyze` builds only these (see
/// `normalize::to_dataframe_of`).
pub const FRAME_COLUMNS: &[&str] = &[col::STATUS];
