//! JSON plumbing shared by the JSON formats: framing a stream into records,
//! reading each record off the parser's tape, a value tree for JSON held in
//! CSV cells, and the one interface the format mappers read both through.

pub mod frame;
pub mod tape;
pub mod value;
pub mod view;
