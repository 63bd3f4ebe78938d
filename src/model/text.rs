//! [`Text`], the string type of record fields.
//!
//! Sign-in logs repeat the same few thousand values (accounts, addresses,
//! apps, agents, reasons) millions of times. A `Text` is an interned
//! string, one pointer wide: each value is stored once for the life of the
//! process, a record is a fifth of the size it has with `String`s, and
//! copying a field copies a pointer. Equality is identity; ordering is by
//! content, so no result depends on the order values were first seen.
//!
//! Interned text is never freed. A process runs one analysis, and what it
//! keeps is bounded by the distinct values of its inputs.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::sync::OnceLock;
use ustr::Ustr;

#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Text(Ustr);

string_like!(Text);

/// Most cells of an export are empty. Interning takes a lock per value,
/// so the empty string is interned once and handed out from here: without
/// this, every thread queued on the same lock for it.
fn empty() -> Text {
    static EMPTY: OnceLock<Text> = OnceLock::new();
    *EMPTY.get_or_init(|| Text(Ustr::from("")))
}

/// The hasher for maps and sets keyed by record values, hashed once or
/// more per sign-in: seeded per process (the values are attacker-
/// controlled, so collisions cannot be aimed) and several times cheaper
/// than SipHash on short keys. A `Text` key hashes as its precomputed hash.
pub type FastHash = foldhash::fast::RandomState;

impl Text {
    pub fn as_str(&self) -> &'static str {
        self.0.as_str()
    }
}

impl Default for Text {
    fn default() -> Self {
        empty()
    }
}

/// Slots in each thread's cache of recently interned values (32 KiB: a
/// week of sign-ins keeps a few thousand values in play at once).
const RECENT: usize = 4096;

thread_local! {
    static RECENT_TEXT: RefCell<[Option<Text>; RECENT]> = const { RefCell::new([None; RECENT]) };
}

/// A cheap slot for `s`. Values of eight bytes or more are placed by their
/// first and last eight bytes: columns of GUIDs (user, device, session
/// ids) share length and layout, and their first, middle and last bytes
/// alone put thousands of values on a few hundred slots, where they
/// evicted each other on every row.
fn slot(s: &[u8]) -> usize {
    let n = s.len();
    let h = match (s.first_chunk::<8>(), s.last_chunk::<8>()) {
        (Some(head), Some(tail)) => {
            u64::from_le_bytes(*head) ^ u64::from_le_bytes(*tail).rotate_left(23) ^ n as u64
        }
        _ => {
            let at = |i: usize| s.get(i).copied().unwrap_or(0) as u64;
            at(0) | at(n / 2) << 8 | at(n.wrapping_sub(1)) << 16 | (n as u64) << 24
        }
    };
    (h.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 52) as usize % RECENT
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        if s.is_empty() {
            return empty();
        }
        // Most fields repeat a value seen a moment ago on this thread.
        // Interning hashes the whole string and locks a shard of the
        // process-wide table, which both threads then queue on; comparing
        // with a remembered value costs one short memcmp.
        RECENT_TEXT.with_borrow_mut(|recent| {
            let at = &mut recent[slot(s.as_bytes())];
            match *at {
                Some(t) if t.as_str() == s => t,
                _ => {
                    let t = Text(Ustr::from(s));
                    *at = Some(t);
                    t
                }
            }
        })
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Self) -> Ordering {
        if self.0 == other.0 {
            Ordering::Equal
        } else {
            self.as_str().cmp(other.as_str())
        }
    }
}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Interning already hashed the content.
        state.write_u64(self.0.precomputed_hash());
    }
}

impl PartialEq<Text> for &str {
    fn eq(&self, other: &Text) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Text> for str {
    fn eq(&self, other: &Text) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Text> for String {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recent_value_cache_never_answers_with_other_content() {
        // Same length, first, middle and last bytes: the same slot.
        let (a, b) = ("a1x2b", "a9x8b");
        assert_eq!(slot(a.as_bytes()), slot(b.as_bytes()));
        for s in [a, b, a, a, b, "", "a1x2b"] {
            let t = Text::from(s);
            assert_eq!(t.as_str(), s);
            assert_eq!(t, Text(Ustr::from(s)));
        }
        assert_eq!(Text::from(a), Text::from(String::from(a)));
        assert_ne!(Text::from(a), Text::from(b));
    }

    #[test]
    fn equal_text_is_one_value_and_orders_by_content() {
        let a = Text::from("b@contoso.com");
        let b = Text::from(String::from("b@contoso.com"));
        assert_eq!(a, b);
        assert_eq!(a, "b@contoso.com");
        assert_eq!(Text::default(), Text::from(""));
        assert!(Text::default().is_empty());
        // Interned later, sorts earlier: order never depends on history.
        let z = Text::from("zz-first-interned");
        let y = Text::from("aa-second-interned");
        let mut v = [z, y, a];
        v.sort();
        assert_eq!(
            v.iter().map(Text::as_str).collect::<Vec<_>>(),
            ["aa-second-interned", "b@contoso.com", "zz-first-interned"]
        );
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(json, "\"b@contoso.com\"");
        let back: Text = serde_json::from_str("\"x\\u0041\"").unwrap();
        assert_eq!(back, "xA");
    }
}
