//! Analysis over normalized sign-ins: the summary, aggregate tables,
//! attack detections, and the breakdowns the reports show.

pub mod aggregate;
pub mod breakdown;
pub mod detect;
pub mod summary;
pub mod timeline;
