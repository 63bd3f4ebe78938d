//! A borrowed JSON value for one record.
//!
//! Strings without escapes borrow from the record's bytes, objects keep
//! their keys in order as a list (so duplicate keys, which real Graph
//! responses contain, are tolerated), and lookups ignore ASCII case (so the
//! camelCase Graph names, the PascalCase names of older PowerShell
//! collectors and lowercased Azure Monitor envelopes all match).

use crate::ingest::fields::trim;
use crate::model::{Id, Text};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use simd_json::{Node, StaticNode, Tape};
use std::borrow::Cow;
use std::cell::RefCell;
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

    /// Parses one record's bytes and hands the value to `f`.
    ///
    /// simd-json finds the structure and checks UTF-8 with SIMD, then lays
    /// the record out as a flat tape; the value is built from the tape,
    /// with strings borrowed from a per-thread copy of the record (escapes
    /// are undone in place) and the members no format reads skipped by
    /// their node count. About a quarter fewer instructions per record than
    /// serde_json's visitor, and no separate UTF-8 pass. `f` must not parse
    /// another record (the per-thread buffers are in use).
    pub fn with_record<T>(
        bytes: &[u8],
        f: impl for<'v> FnOnce(Result<JVal<'v>, RecordError>) -> T,
    ) -> T {
        SCRATCH.with_borrow_mut(|scratch| {
            let Scratch {
                input,
                buffers,
                tape,
            } = scratch;
            input.clear();
            input.extend_from_slice(bytes);
            input.resize(bytes.len() + simd_json::INPUT_PADDING, 0);
            let mut nodes = tape.take().unwrap_or_else(Tape::null).reset();
            let out = match simd_json::fill_tape_padded(input, bytes.len(), buffers, &mut nodes) {
                Ok(()) => {
                    let mut at = 0;
                    f(Ok(from_tape(&nodes.0, &mut at)))
                }
                Err(e) => f(Err(RecordError {
                    utf8: matches!(e.error(), simd_json::ErrorType::InvalidUtf8),
                    message: format!("{} at byte {}", describe(e.error()), e.index()),
                    at: e.index(),
                })),
            };
            *tape = Some(nodes.reset());
            out
        })
    }

    /// Integers past i64 are kept as (approximate) numbers.
    fn from_u64(u: u64) -> Self {
        i64::try_from(u)
            .map(JVal::Int)
            .unwrap_or(JVal::Float(u as f64))
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
        Text::from(trim(&self.text()))
    }

    pub fn id(&self) -> Id {
        Id::from(trim(&self.text()))
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

/// Why a record is not JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordError {
    /// The record is not valid UTF-8 (it may be JSON once repaired).
    pub utf8: bool,
    pub message: String,
    /// Where the parser stopped, in bytes from the record's start.
    pub at: usize,
}

/// The parser's error kind in words: `ExpectedMapComma` reads
/// "expected map comma".
fn describe(kind: &simd_json::ErrorType) -> String {
    use simd_json::ErrorType as E;
    match kind {
        E::InvalidNumber | E::InvalidExponent => "number out of range or malformed".into(),
        E::DepthLimitExceeded => format!("nested deeper than {MAX_DEPTH} levels"),
        E::Eof => "record ends early".into(),
        other => {
            let name = format!("{other:?}");
            let mut words = String::new();
            for c in name.chars().take_while(|c| c.is_ascii_alphanumeric()) {
                if c.is_ascii_uppercase() && !words.is_empty() {
                    words.push(' ');
                }
                words.push(c.to_ascii_lowercase());
            }
            words
        }
    }
}

/// Nesting deeper than any sign-in record (serde_json's limit too) is an
/// error rather than a deep recursion when the value is built.
const MAX_DEPTH: usize = 128;

struct Scratch {
    input: Vec<u8>,
    buffers: simd_json::Buffers,
    tape: Option<Tape<'static>>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch {
        input: Vec::new(),
        buffers: simd_json::Buffers::with_max_depth(64 << 10, MAX_DEPTH),
        tape: None,
    });
}

/// Builds the value starting at `nodes[*at]`, leaving `*at` after it.
fn from_tape<'a>(nodes: &[Node<'a>], at: &mut usize) -> JVal<'a> {
    let node = nodes[*at];
    *at += 1;
    match node {
        Node::String(s) => JVal::Str(Cow::Borrowed(s)),
        Node::Static(StaticNode::Null) => JVal::Null,
        Node::Static(StaticNode::Bool(b)) => JVal::Bool(b),
        Node::Static(StaticNode::I64(i)) => JVal::Int(i),
        Node::Static(StaticNode::U64(u)) => JVal::from_u64(u),
        Node::Static(StaticNode::F64(x)) => JVal::Float(x),
        Node::Array { len, .. } => JVal::Arr((0..len).map(|_| from_tape(nodes, at)).collect()),
        Node::Object { len, .. } => {
            let mut members = Vec::with_capacity(len);
            for _ in 0..len {
                let Node::String(key) = nodes[*at] else {
                    unreachable!("simd-json tapes hold a string key before each member value")
                };
                *at += 1;
                if unread(key) {
                    *at += match nodes[*at] {
                        Node::Object { count, .. } | Node::Array { count, .. } => count + 1,
                        _ => 1,
                    };
                    members.push((Cow::Borrowed(key), JVal::Null));
                } else {
                    members.push((Cow::Borrowed(key), from_tape(nodes, at)));
                }
            }
            JVal::Obj(members)
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

    fn via_tape(text: &str) -> Result<JVal<'static>, RecordError> {
        JVal::with_record(text.as_bytes(), |v| v.map(owned))
    }

    fn owned(v: JVal) -> JVal<'static> {
        match v {
            JVal::Null => JVal::Null,
            JVal::Bool(b) => JVal::Bool(b),
            JVal::Int(i) => JVal::Int(i),
            JVal::Float(f) => JVal::Float(f),
            JVal::Str(s) => JVal::Str(Cow::Owned(s.into_owned())),
            JVal::Arr(a) => JVal::Arr(a.into_iter().map(owned).collect()),
            JVal::Obj(m) => JVal::Obj(
                m.into_iter()
                    .map(|(k, v)| (Cow::Owned(k.into_owned()), owned(v)))
                    .collect(),
            ),
        }
    }

    #[test]
    fn records_read_the_same_through_the_tape_as_through_serde() {
        let edge = [
            r#"{"a":"\u00e9\ud83d\ude00 \"q\" \\ \/ \n","b":[],"c":{},"d":[[],{}]}"#,
            r#"{"n":[0,-1,9223372036854775807,18446744073709551615,99999999999999999999]}"#,
            r#"{"f":[0.1,-2.5e-7,47.606201171875,-122.33209991455078,11.581999778747559,42.045101165771484,1E3,-0.0]}"#,
            r#"{"id":"a","ID":"b","appliedConditionalAccessPolicies":[{"x":[1,{"y":2}]}],"z":true}"#,
            r#"{"sessionLifetimePolicies":"text","networkLocationDetails":7,"t":null,"u":false}"#,
            "  {\n  \"pretty\" :\t[ 1 , 2 ]\r\n}  ",
        ];
        let mut texts: Vec<String> = edge.iter().map(|s| s.to_string()).collect();
        // Every record of the bundled public samples.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut dirs = vec![root];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                match path.extension().and_then(|e| e.to_str()) {
                    Some("json") => texts.push(text),
                    Some("jsonl") => texts.extend(text.lines().map(str::to_string)),
                    _ => {}
                }
            }
        }
        let mut compared = 0;
        for text in &texts {
            let Ok(want) = JVal::parse(text) else {
                assert!(via_tape(text).is_err(), "{text:.200}");
                continue;
            };
            assert_eq!(via_tape(text).unwrap(), want, "{text:.200}");
            compared += 1;
        }
        assert!(compared > 20, "only {compared} JSON texts compared");
    }

    #[test]
    fn tape_errors_say_what_and_where_and_flag_bad_utf8() {
        let e = via_tape(r#"{"a":1,,"b":2}"#).unwrap_err();
        assert!(!e.utf8);
        assert!(e.message.contains("at byte"), "{e:?}");
        let e = via_tape(r#"{"a":1e400}"#).unwrap_err();
        assert!(e.message.contains("number out of range"), "{e:?}");
        let e = JVal::with_record(b"{\"a\":\"caf\xe9\"}", |v| v.map(|_| ())).unwrap_err();
        assert!(e.utf8, "{e:?}");
        let deep = "[".repeat(100_000);
        assert!(via_tape(&deep).is_err());
        // The per-thread buffers serve the next record after an error.
        assert_eq!(via_tape(r#"{"a":1}"#).unwrap().get("A").as_i64(), Some(1));
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
