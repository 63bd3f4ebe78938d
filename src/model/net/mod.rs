//! IP addresses and networks: parsing the addresses the logs spell in
//! many ways (`address`), and the one CIDR type with its IPv4-mapped rule
//! (`cidr`).

mod address;
mod cidr;

pub use address::*;
pub use cidr::*;
