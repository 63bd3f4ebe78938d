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

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::OnceLock;
use ustr::Ustr;

#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Text(Ustr);

/// Most cells of an export are empty. Interning takes a lock per value,
/// so the empty string is interned once and handed out from here: without
/// this, every thread queued on the same lock for it.
fn empty() -> Text {
    static EMPTY: OnceLock<Text> = OnceLock::new();
    *EMPTY.get_or_init(|| Text(Ustr::from("")))
}

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

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        if s.is_empty() {
            empty()
        } else {
            Text(Ustr::from(s))
        }
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text::from(s.as_str())
    }
}

impl From<&String> for Text {
    fn from(s: &String) -> Self {
        Text::from(s.as_str())
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
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

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
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

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Ok(Text::from(s.as_ref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
