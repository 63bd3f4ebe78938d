//! Analysis over normalized sign-ins: aggregations and attack detections.

pub mod aggregate;
pub mod detect;
pub mod summary;
pub mod timeline;
