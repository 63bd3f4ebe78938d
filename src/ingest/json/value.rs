//! A borrowed JSON value tree, for JSON that arrives inside a CSV cell
//! (Log Analytics' dynamic columns, Purview's AuditData) and for records
//! assembled from cells. Records of JSON inputs are read from the parser's
//! tape instead ([`super::tape::Tv`]).
//!
//! Strings without escapes borrow from the text, and objects keep their
//! keys in order as a list (so duplicate keys, which real Graph responses
//! contain, are tolerated); lookups go through [`Json`].

use super::view::{Json, Kind};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum JVal<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Cow<'a, str>),
    Arr(Vec<JVal<'a>>),
    Obj(Vec<(Cow<'a, str>, JVal<'a>)>),
}

static NULL: JVal<'static> = JVal::Null;

impl<'a> JVal<'a> {
    /// Parses one record. serde_json's recursion limit turns absurd nesting
    /// into an error instead of a stack overflow.
    pub fn parse(text: &'a str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Integers past i64 are kept as (approximate) numbers.
    fn from_u64(u: u64) -> Self {
        i64::try_from(u)
            .map(JVal::Int)
            .unwrap_or(JVal::Float(u as f64))
    }
}

impl<'r, 'a: 'r> Json<'r> for &'r JVal<'a> {
    fn kind(self) -> Kind<'r> {
        match self {
            JVal::Null => Kind::Null,
            JVal::Bool(b) => Kind::Bool(*b),
            JVal::Int(i) => Kind::Int(*i),
            JVal::Float(f) => Kind::Float(*f),
            JVal::Str(s) => Kind::Str(s),
            JVal::Arr(_) => Kind::Arr,
            JVal::Obj(_) => Kind::Obj,
        }
    }

    fn null() -> Self {
        &NULL
    }

    fn get(self, key: &str) -> Self {
        if let JVal::Obj(members) = self {
            for (k, v) in members {
                if k.eq_ignore_ascii_case(key) {
                    return v;
                }
            }
        }
        &NULL
    }

    fn items(self) -> impl Iterator<Item = Self> + 'r {
        let items: &'r [JVal<'a>] = match self {
            JVal::Arr(v) => v,
            _ => &[],
        };
        items.iter()
    }

    fn keys(self) -> impl Iterator<Item = &'r str> + 'r {
        let members: &'r [(Cow<'a, str>, JVal<'a>)] = match self {
            JVal::Obj(m) => m,
            _ => &[],
        };
        members.iter().map(|(k, _)| k.as_ref())
    }
}

struct JValVisitor;

impl<'de> Visitor<'de> for JValVisitor {
    type Value = JVal<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(JVal::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(JVal::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(JVal::from_u64(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(JVal::Float(v))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(JVal::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(JVal::Str(Cow::Owned(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(JVal::Str(Cow::Owned(v)))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(JVal::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(JVal::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut v = Vec::new();
        while let Some(x) = seq.next_element()? {
            v.push(x);
        }
        Ok(JVal::Arr(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut v = Vec::new();
        while let Some(k) = map.next_key::<Key<'de>>()? {
            if unread(&k.0) {
                // Still checked as JSON, but no tree is built for it.
                map.next_value::<de::IgnoredAny>()?;
                v.push((k.0, JVal::Null));
                continue;
            }
            let val: JVal<'de> = map.next_value()?;
            v.push((k.0, val));
        }
        Ok(JVal::Obj(v))
    }
}

impl<'de> Deserialize<'de> for JVal<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JValVisitor)
    }
}

/// Members of Graph sign-in records that no format reads, and that are a
/// large share of each record (the Conditional Access policy list alone is
/// about a quarter of an Azure Monitor record). Their values are parsed
/// without building a tree; the key stays, with a null value. (Records
/// read off the tape build no tree at all, so there the rule is moot.)
const UNREAD: [&str; 5] = [
    "appliedConditionalAccessPolicies",
    "authenticationProcessingDetails",
    "networkLocationDetails",
    "appliedEventListeners",
    "sessionLifetimePolicies",
];

pub(super) fn unread(key: &str) -> bool {
    key.len() >= 21 && UNREAD.iter().any(|u| u.eq_ignore_ascii_case(key))
}

struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KV;
        impl<'de> Visitor<'de> for KV {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(KV)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_ignore_case_and_keep_duplicates() {
        let text =
            r#"{"CreatedDateTime":"x","status":{"ErrorCode":50126},"id":"a","id":"b","Level":"4"}"#;
        let v = JVal::parse(text).unwrap();
        assert_eq!(v.get("createdDateTime").text(), "x");
        assert_eq!(v.at(&["Status", "errorCode"]).as_i64(), Some(50126));
        assert_eq!(v.get("id").text(), "a");
        assert_eq!(v.get("level").as_i64(), Some(4));
        assert!(matches!(v.get("missing"), JVal::Null));
    }

    #[test]
    fn unread_members_keep_their_key_but_not_their_tree() {
        let v = JVal::parse(
            r#"{"AppliedConditionalAccessPolicies":[{"id":"p","result":"success"}],"status":{"errorCode":0}}"#,
        )
        .unwrap();
        assert!(matches!(
            v.get("appliedConditionalAccessPolicies"),
            JVal::Null
        ));
        assert_eq!(v.keys().count(), 2);
        assert_eq!(v.at(&["status", "errorCode"]).as_i64(), Some(0));
        // Skipped, but still checked.
        assert!(JVal::parse(r#"{"appliedConditionalAccessPolicies":[{"id":}]}"#).is_err());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = "[".repeat(100_000);
        assert!(JVal::parse(&deep).is_err());
    }

    #[test]
    fn bags_and_joins() {
        let v = JVal::parse(
            r#"{"E":[{"Name":"UserAgent","Value":"curl"}],"R":["a","b"],"S":"[\"x\",\"y\"]"}"#,
        )
        .unwrap();
        assert_eq!(v.get("e").bag("useragent").text(), "curl");
        assert_eq!(v.get("r").join(), "a,b");
        assert_eq!(v.get("s").join(), "x,y");
    }
}
