//! JSON plumbing shared by the JSON formats: framing a stream into records
//! and a borrowed value to read each one.

pub mod frame;
pub mod value;
