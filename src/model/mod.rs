//! Shared vocabulary: types only, no I/O.

#[macro_use]
mod string_like;

pub mod codes;
pub mod columns;
pub mod finding;
mod id;
pub mod lockout;
pub mod net;
pub mod record;
mod text;

pub use finding::{Evidence, Finding, Severity, SourceRef};
pub use id::Id;
pub use record::{SignIn, SignInType, SourceFormat, StatusClass};
pub use text::FastHash;
pub use text::Text;
