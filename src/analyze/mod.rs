//! Analysis over normalized sign-ins: aggregations and attack detections.

pub mod aggregate;
pub mod detect;
pub mod summary;
pub mod timeline;

use crate::model::columns as col;

/// The table columns `summary` and `aggregate` read: `analyze` builds
/// only these (see `normalize::to_dataframe_of`).
pub const FRAME_COLUMNS: &[&str] = &[
    col::STATUS,
    col::USER,
    col::IP,
    col::APP_NAME,
    col::COUNTRY,
    col::CLIENT_APP,
];
