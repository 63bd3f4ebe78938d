//! Shared vocabulary: types only, no I/O.

pub mod codes;
pub mod columns;
pub mod finding;
pub mod record;
mod text;

pub use finding::{Evidence, Finding, Severity, SourceRef};
pub use record::{SignIn, SignInType, SourceFormat, StatusClass};
pub use text::Text;
