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
pub mod time;

pub use finding::{Evidence, Finding, Severity, SourceRef};
pub use id::Id;
pub use record::{AuthDetail, SignIn, SignInType, SourceFormat, StatusClass};
pub use text::FastHash;
pub use text::Text;
