//! How the format mappers read a JSON record, whatever holds it.
//!
//! A record parsed from a JSON input is read straight from the parser's
//! tape ([`super::tape::Tv`]); a record assembled from CSV cells (Log
//! Analytics) or parsed from one (Purview's AuditData) is a
//! [`super::value::JVal`] tree. Both answer the same questions through
//! [`Json`], so each format's field table is written once. Lookups ignore
//! ASCII case (camelCase Graph names, the PascalCase of older PowerShell
//! collectors and lowercased Azure Monitor envelopes all match) and the
//! first of duplicate keys wins.

use super::value::JVal;
use crate::ingest::fields::trim;
use crate::model::{Id, Text};
use std::borrow::Cow;

/// One value as far as a mapper looks at it: a scalar, or which kind of
/// container (its contents are reached through [`Json`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind<'r> {
    /// Also what a missing member reads as.
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'r str),
    Arr,
    Obj,
}

/// A JSON value (or a missing one, which reads as null) borrowed for `'r`.
pub trait Json<'r>: Copy + Sized + 'r {
    fn kind(self) -> Kind<'r>;

    /// A null value (what a missing member reads as).
    fn null() -> Self;

    /// Case-insensitive member lookup; the first of duplicate keys wins.
    /// Null when this is not an object or has no such member.
    fn get(self, key: &str) -> Self;

    /// The elements of an array; none for anything else.
    fn items(self) -> impl Iterator<Item = Self> + 'r;

    /// The member names of an object, in order; none for anything else.
    fn keys(self) -> impl Iterator<Item = &'r str> + 'r;

    fn has(self, key: &str) -> bool {
        self.keys().any(|k| k.eq_ignore_ascii_case(key))
    }

    fn is_obj(self) -> bool {
        self.kind() == Kind::Obj
    }

    fn is_null(self) -> bool {
        self.kind() == Kind::Null
    }

    /// Follows a path of keys.
    fn at(self, path: &[&str]) -> Self {
        let mut cur = self;
        for k in path {
            cur = cur.get(k);
        }
        cur
    }

    /// Text of a scalar: strings as is, numbers and booleans rendered,
    /// null/containers empty. Exports disagree on whether `Level`,
    /// `durationMs` or `ErrorNumber` are numbers or strings.
    fn text(self) -> Cow<'r, str> {
        match self.kind() {
            Kind::Str(s) => Cow::Borrowed(s),
            Kind::Int(i) => Cow::Owned(i.to_string()),
            Kind::Float(f) => Cow::Owned(f.to_string()),
            Kind::Bool(b) => Cow::Borrowed(if b { "true" } else { "false" }),
            Kind::Null | Kind::Arr | Kind::Obj => Cow::Borrowed(""),
        }
    }

    fn string(self) -> String {
        self.text().trim().to_string()
    }

    /// Trimmed text as a record field.
    fn field(self) -> Text {
        Text::from(trim(&self.text()))
    }

    fn id(self) -> Id {
        Id::from(trim(&self.text()))
    }

    fn as_i64(self) -> Option<i64> {
        match self.kind() {
            Kind::Int(i) => Some(i),
            Kind::Float(f) if f.fract() == 0.0 && f.is_finite() => Some(f as i64),
            Kind::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    fn as_f64(self) -> Option<f64> {
        match self.kind() {
            Kind::Int(i) => Some(i as f64),
            Kind::Float(f) if f.is_finite() => Some(f),
            Kind::Str(s) => s.trim().parse().ok().filter(|v: &f64| v.is_finite()),
            _ => None,
        }
    }

    fn as_bool(self) -> Option<bool> {
        match self.kind() {
            Kind::Bool(b) => Some(b),
            Kind::Str(s) => crate::ingest::fields::parse_bool(s),
            Kind::Int(i) => Some(i != 0),
            _ => None,
        }
    }

    /// Value of a `[{Name, Value}]` property bag entry (Purview's
    /// ExtendedProperties / DeviceProperties, Graph's key/value lists).
    fn bag(self, name: &str) -> Self {
        for item in self.items() {
            let n = item.get("Name");
            let n = if n.is_null() { item.get("key") } else { n };
            if let Kind::Str(s) = n.kind() {
                if s.eq_ignore_ascii_case(name) {
                    return item.get("Value");
                }
            }
        }
        Self::null()
    }

    /// [`Json::join`] as a record field, without building a string when
    /// the value is a plain one.
    fn join_field(self) -> Text {
        match self.kind() {
            Kind::Str(s) if !s.trim_start().starts_with('[') => Text::from(s.trim()),
            _ => Text::from(self.join().as_str()),
        }
    }

    /// Joins an array of scalars with commas (risk event types, methods).
    fn join(self) -> String {
        match self.kind() {
            Kind::Arr => {
                let parts: Vec<_> = self
                    .items()
                    .map(|x| x.string())
                    .filter(|x| !x.is_empty())
                    .collect();
                parts.join(",")
            }
            Kind::Str(s) => {
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
