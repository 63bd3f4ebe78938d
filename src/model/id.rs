//! [`Id`], the string type of per-record identifiers.
//!
//! Request and correlation ids are GUIDs, nearly all different. Interning
//! them as [`Text`] would store every one in the process-wide table for
//! nothing: on a million portal-CSV rows that cost about a fifth of the
//! parsing CPU and 150 MB. An `Id` of up to [`INLINE`] bytes (every GUID)
//! lives inside the record instead; a longer one, which no export writes
//! but a hostile file may, is interned.

use super::Text;
use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

/// The longest id held inline; a GUID with dashes is 36.
pub const INLINE: usize = 38;

#[derive(Clone, Copy)]
pub struct Id(Repr);

string_like!(Id);

/// Each string has exactly one representation (inline when it fits), so
/// equality and hashing may look at the representation.
#[derive(Clone, Copy)]
enum Repr {
    Inline { len: u8, buf: [u8; INLINE] },
    Long(Text),
}

impl Id {
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Built from a `&str` cut at its end, so always UTF-8.
            Repr::Inline { len, buf } => std::str::from_utf8(&buf[..*len as usize]).unwrap_or(""),
            Repr::Long(t) => t.as_str(),
        }
    }

    fn bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, buf } => &buf[..*len as usize],
            Repr::Long(t) => t.as_bytes(),
        }
    }
}

impl Default for Id {
    fn default() -> Self {
        Id(Repr::Inline {
            len: 0,
            buf: [0; INLINE],
        })
    }
}

impl From<&str> for Id {
    fn from(s: &str) -> Self {
        if s.len() <= INLINE {
            let mut buf = [0; INLINE];
            buf[..s.len()].copy_from_slice(s.as_bytes());
            Id(Repr::Inline {
                len: s.len() as u8,
                buf,
            })
        } else {
            Id(Repr::Long(Text::from(s)))
        }
    }
}

impl PartialEq for Id {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (Repr::Long(a), Repr::Long(b)) => a == b,
            _ => self.bytes() == other.bytes(),
        }
    }
}

impl Eq for Id {}

impl Ord for Id {
    fn cmp(&self, other: &Self) -> Ordering {
        // Byte order is `str` order.
        self.bytes().cmp(other.bytes())
    }
}

impl PartialOrd for Id {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Hash for Id {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match &self.0 {
            Repr::Inline { .. } => state.write(self.bytes()),
            Repr::Long(t) => t.hash(state),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn short_and_long_ids_compare_hash_and_order_as_their_text() {
        let guid = "933f20c0-efdf-477f-9586-e5cc566d2e00";
        let long = "x".repeat(INLINE + 1);
        let edge = "y".repeat(INLINE);
        let texts = [
            "",
            "r1",
            guid,
            "933f20c0-efdf-477f-9586-e5cc566d2e0",
            &long,
            &edge,
            "é€",
        ];
        let ids: Vec<Id> = texts.iter().map(|t| Id::from(*t)).collect();
        for (id, t) in ids.iter().zip(texts) {
            assert_eq!(id.as_str(), t);
            assert_eq!(*id, t);
            assert_eq!(*id, Id::from(t.to_string()));
            assert_eq!(format!("{id}"), t);
            assert_eq!(
                serde_json::to_string(id).unwrap(),
                serde_json::to_string(t).unwrap()
            );
        }
        let set: HashSet<Id> = ids.iter().chain(ids.iter()).copied().collect();
        assert_eq!(set.len(), texts.len());
        let mut by_id = ids.clone();
        by_id.sort();
        let mut by_text = texts.to_vec();
        by_text.sort();
        assert_eq!(by_id.iter().map(Id::as_str).collect::<Vec<_>>(), by_text);
        assert!(Id::default().is_empty());
        assert_eq!(Id::default(), Id::from(""));
    }
}
