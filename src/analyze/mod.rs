//! Analysis over normalized sign-ins: aggregations and attack detections.

pub mod detect;
pub mod summary;
