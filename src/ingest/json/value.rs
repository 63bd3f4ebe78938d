//! A borrowed JSON value for one record.
//!
//! Strings without escapes borrow from the record's bytes, objects keep
//! their keys in order as a list (so duplicate keys, which real Graph
//! responses contain, are tolerated), and lookups ignore ASCII case (so the
//! camelCase Graph names, the PascalCase names of older PowerShell
//! collectors and lowercased Azure Monitor envelopes all match).

use crate::model::{Id, Text};
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

    pub fn is_obj(&self) -> bool {
        matches!(self, JVal::Obj(_))
    }

    /// Case-insensitive member lookup; the first of duplicate keys wins.
    pub fn get(&self, key: &str) -> &JVal<'a> {
        if let JVal::Obj(members) = self {
            for (k, v) in members {
                if k.eq_ignore_ascii_case(key) {
                    return v;
                }
            }
        }
        &NULL
    }

    pub fn has(&self, key: &str) -> bool {
        match self {
            JVal::Obj(members) => members.iter().any(|(k, _)| k.eq_ignore_ascii_case(key)),
            _ => false,
        }
    }

    /// Follows a path of keys.
    pub fn at(&self, path: &[&str]) -> &JVal<'a> {
        let mut cur = self;
        for k in path {
            cur = cur.get(k);
        }
        cur
    }

    /// Text of a scalar: strings as is, numbers and booleans rendered,
    /// null/containers empty. Exports disagree on whether `Level`,
    /// `durationMs` or `ErrorNumber` are numbers or strings.
    pub fn text(&self) -> Cow<'_, str> {
        match self {
            JVal::Str(s) => Cow::Borrowed(s.as_ref()),
            JVal::Int(i) => Cow::Owned(i.to_string()),
            JVal::Float(f) => Cow::Owned(f.to_string()),
            JVal::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            _ => Cow::Borrowed(""),
        }
    }

    pub fn string(&self) -> String {
        self.text().trim().to_string()
    }

    /// Trimmed text as a record field.
    pub fn field(&self) -> Text {
        Text::from(self.text().trim())
    }

    pub fn id(&self) -> Id {
        Id::from(self.text().trim())
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            JVal::Int(i) => Some(*i),
            JVal::Float(f) if f.fract() == 0.0 && f.is_finite() => Some(*f as i64),
            JVal::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            JVal::Int(i) => Some(*i as f64),
            JVal::Float(f) if f.is_finite() => Some(*f),
            JVal::Str(s) => s.trim().parse().ok().filter(|v: &f64| v.is_finite()),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            JVal::Bool(b) => Some(*b),
            JVal::Str(s) => crate::ingest::fields::parse_bool(s),
            JVal::Int(i) => Some(*i != 0),
            _ => None,
        }
    }

    pub fn items(&self) -> &[JVal<'a>] {
        match self {
            JVal::Arr(v) => v,
            _ => &[],
        }
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        let members: &[(Cow<'a, str>, JVal<'a>)] = match self {
            JVal::Obj(m) => m,
            _ => &[],
        };
        members.iter().map(|(k, _)| k.as_ref())
    }

    /// Value of a `[{Name, Value}]` property bag entry (Purview's
    /// ExtendedProperties / DeviceProperties, Graph's key/value lists).
    pub fn bag(&self, name: &str) -> &JVal<'a> {
        for item in self.items() {
            let n = item.get("Name");
            let n = if matches!(n, JVal::Null) {
                item.get("key")
            } else {
                n
            };
            if let JVal::Str(s) = n {
                if s.eq_ignore_ascii_case(name) {
                    let v = item.get("Value");
                    return v;
                }
            }
        }
        &NULL
    }

    /// [`JVal::join`] as a record field, without building a string when the
    /// value is a plain one.
    pub fn join_field(&self) -> Text {
        match self {
            JVal::Str(s) if !s.trim_start().starts_with('[') => Text::from(s.trim()),
            _ => Text::from(self.join().as_str()),
        }
    }

    /// Joins an array of scalars with commas (risk event types, methods).
    pub fn join(&self) -> String {
        match self {
            JVal::Arr(v) => {
                let parts: Vec<_> = v
                    .iter()
                    .map(|x| x.string())
                    .filter(|x| !x.is_empty())
                    .collect();
                parts.join(",")
            }
            JVal::Str(s) => {
                // Log Analytics keeps some arrays as JSON text.
                let t = s.trim();
                if t.starts_with('[') {
                    match JVal::parse(t) {
                        Ok(inner) => inner.join(),
                        Err(_) => t.to_string(),
                    }
                } else {
                    t.to_string()
                }
            }
            _ => String::new(),
        }
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
        Ok(i64::try_from(v)
            .map(JVal::Int)
            .unwrap_or(JVal::Float(v as f64)))
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
/// without building a tree; the key stays, with a null value.
const UNREAD: [&str; 5] = [
    "appliedConditionalAccessPolicies",
    "authenticationProcessingDetails",
    "networkLocationDetails",
    "appliedEventListeners",
    "sessionLifetimePolicies",
];

fn unread(key: &str) -> bool {
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
