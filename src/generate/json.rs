//! A small ordered JSON tree and the four serializer dialects the
//! collectors produce.
//!
//! serde_json would sort keys (no `preserve_order` feature here) and has no
//! PowerShell 5.1 or Python dialect; the tree borrows its strings from the
//! record, so building one per record costs only the vectors.

use std::borrow::Cow;
use std::fmt::Write as _;

#[derive(Debug, Clone, PartialEq)]
pub enum J<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Num(f64),
    Str(Cow<'a, str>),
    Arr(Vec<J<'a>>),
    Obj(Vec<(&'static str, J<'a>)>),
}

impl<'a> J<'a> {
    pub fn s(v: &'a str) -> J<'a> {
        J::Str(Cow::Borrowed(v))
    }

    pub fn own(v: String) -> J<'a> {
        J::Str(Cow::Owned(v))
    }

    /// A string, or `null` when empty (Graph's habit for absent ids).
    pub fn s_or_null(v: &'a str) -> J<'a> {
        if v.is_empty() {
            J::Null
        } else {
            J::s(v)
        }
    }

    pub fn opt_bool(v: Option<bool>) -> J<'a> {
        v.map_or(J::Null, J::Bool)
    }

    pub fn strs(items: &[&'a str]) -> J<'a> {
        J::Arr(items.iter().map(|s| J::s(s)).collect())
    }

    /// Looks a key up in an object (tests and a few writers).
    pub fn get(&self, key: &str) -> Option<&J<'a>> {
        match self {
            J::Obj(members) => members.iter().find(|(k, _)| *k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Serializer dialects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// No whitespace: Graph responses, Azure Monitor `properties`.
    Compact,
    /// Python `json.dumps` defaults: `", "` and `": "`, non-ASCII escaped.
    Python,
    /// Two-space indent, `"key": value` (Newtonsoft/serde style; Log
    /// Analytics pretty cells, portal JSON).
    Pretty,
    /// Windows PowerShell 5.1 `ConvertTo-Json`: `"key":  value`, nested
    /// containers indented from the column where they open, CRLF, and
    /// `' < > &` escaped as `\u00XX`.
    Ps51,
}

pub fn to_string(j: &J<'_>, style: Style) -> String {
    let mut out = String::with_capacity(1024);
    write(j, style, &mut out);
    out
}

pub fn write(j: &J<'_>, style: Style, out: &mut String) {
    write_at(j, style, 0, out);
}

/// Writes a value that starts at column `col` (matters only for the
/// indented dialects, when the value is an element of a larger document).
pub fn write_at(j: &J<'_>, style: Style, col: usize, out: &mut String) {
    match style {
        Style::Compact => write_flat(j, out, ",", ":", false),
        Style::Python => write_flat(j, out, ", ", ": ", true),
        Style::Pretty => write_pretty(j, out, col),
        Style::Ps51 => write_ps(j, out, col),
    }
}

fn write_scalar(j: &J<'_>, out: &mut String, ascii: bool, ps: bool) {
    match j {
        J::Null => out.push_str("null"),
        J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        J::Int(i) => {
            let _ = write!(out, "{i}");
        }
        J::Num(f) => write_num(*f, out),
        J::Str(s) => write_str(s, out, ascii, ps),
        J::Arr(_) | J::Obj(_) => {}
    }
}

fn write_num(f: f64, out: &mut String) {
    if !f.is_finite() {
        out.push_str("null");
    } else if f.fract() == 0.0 && f.abs() < 1e15 {
        let _ = write!(out, "{f:.1}");
    } else {
        let _ = write!(out, "{f}");
    }
}

pub fn write_str(s: &str, out: &mut String, ascii: bool, ps: bool) {
    out.push('"');
    // Copy runs that need no escaping in one go; most text is plain.
    let needs_escape = |b: u8| {
        b < 0x20
            || b == b'"'
            || b == b'\\'
            || (ascii && b >= 0x80)
            || (ps && matches!(b, b'\'' | b'<' | b'>' | b'&'))
    };
    let bytes = s.as_bytes();
    let mut start = 0;
    while start < bytes.len() {
        let run = bytes[start..]
            .iter()
            .position(|&b| needs_escape(b))
            .unwrap_or(bytes.len() - start);
        // `needs_escape` is true for every non-ASCII byte in ASCII mode and
        // false for all of them otherwise, so runs end on char boundaries.
        out.push_str(&s[start..start + run]);
        start += run;
        if start == bytes.len() {
            break;
        }
        let c = s[start..].chars().next().unwrap_or('\0');
        start += c.len_utf8();
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\'' | '<' | '>' | '&' if ps => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if ascii && !c.is_ascii() => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_flat(j: &J<'_>, out: &mut String, comma: &str, colon: &str, ascii: bool) {
    match j {
        J::Arr(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(comma);
                }
                write_flat(item, out, comma, colon, ascii);
            }
            out.push(']');
        }
        J::Obj(members) => {
            out.push('{');
            for (i, (k, v)) in members.iter().enumerate() {
                if i > 0 {
                    out.push_str(comma);
                }
                write_str(k, out, ascii, false);
                out.push_str(colon);
                write_flat(v, out, comma, colon, ascii);
            }
            out.push('}');
        }
        scalar => write_scalar(scalar, out, ascii, false),
    }
}

fn pad(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push(' ');
    }
}

fn write_pretty(j: &J<'_>, out: &mut String, indent: usize) {
    match j {
        J::Arr(items) if items.is_empty() => out.push_str("[]"),
        J::Obj(members) if members.is_empty() => out.push_str("{}"),
        J::Arr(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(",\n");
                }
                pad(out, indent + 2);
                write_pretty(item, out, indent + 2);
            }
            out.push('\n');
            pad(out, indent);
            out.push(']');
        }
        J::Obj(members) => {
            out.push_str("{\n");
            for (i, (k, v)) in members.iter().enumerate() {
                if i > 0 {
                    out.push_str(",\n");
                }
                pad(out, indent + 2);
                write_str(k, out, false, false);
                out.push_str(": ");
                write_pretty(v, out, indent + 2);
            }
            out.push('\n');
            pad(out, indent);
            out.push('}');
        }
        scalar => write_scalar(scalar, out, false, false),
    }
}

/// `col` is the column at which the value starts; PowerShell 5.1 indents
/// the members of a container four columns past its opening bracket.
fn write_ps(j: &J<'_>, out: &mut String, col: usize) {
    match j {
        J::Arr(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                out.push_str(if i > 0 { ",\r\n" } else { "\r\n" });
                pad(out, col + 4);
                write_ps(item, out, col + 4);
            }
            out.push_str("\r\n");
            pad(out, col);
            out.push(']');
        }
        J::Obj(members) => {
            out.push('{');
            for (i, (k, v)) in members.iter().enumerate() {
                out.push_str(if i > 0 { ",\r\n" } else { "\r\n" });
                pad(out, col + 4);
                write_str(k, out, false, true);
                out.push_str(":  ");
                // Keys are ASCII, so bytes equal columns.
                write_ps(v, out, col + 4 + k.len() + 5);
            }
            out.push_str("\r\n");
            pad(out, col);
            out.push('}');
        }
        scalar => write_scalar(scalar, out, false, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> J<'static> {
        J::Obj(vec![
            ("id", J::s("a")),
            ("n", J::Int(3)),
            (
                "geo",
                J::Obj(vec![("lat", J::Num(47.606201171875)), ("lon", J::Num(0.0))]),
            ),
            ("tags", J::strs(&["x", "y"])),
            ("city", J::s("München")),
            ("why", J::s("'Keep me signed in'")),
            ("none", J::Null),
        ])
    }

    #[test]
    fn compact_and_python_dialects() {
        assert_eq!(
            to_string(&sample(), Style::Compact),
            r#"{"id":"a","n":3,"geo":{"lat":47.606201171875,"lon":0.0},"tags":["x","y"],"city":"München","why":"'Keep me signed in'","none":null}"#
        );
        assert_eq!(
            to_string(&sample(), Style::Python),
            r#"{"id": "a", "n": 3, "geo": {"lat": 47.606201171875, "lon": 0.0}, "tags": ["x", "y"], "city": "M\u00fcnchen", "why": "'Keep me signed in'", "none": null}"#
        );
    }

    #[test]
    fn powershell_51_layout() {
        let j = J::Arr(vec![J::Obj(vec![
            ("a", J::Obj(vec![("b", J::Int(1))])),
            ("c", J::strs(&["x"])),
            ("d", J::s("it's <b>")),
        ])]);
        let expected = "[\r\n    {\r\n        \"a\":  {\r\n                  \"b\":  1\r\n              },\r\n        \"c\":  [\r\n                  \"x\"\r\n              ],\r\n        \"d\":  \"it\\u0027s \\u003cb\\u003e\"\r\n    }\r\n]";
        assert_eq!(to_string(&j, Style::Ps51), expected);
    }

    #[test]
    fn every_dialect_parses_back_to_the_same_value() {
        let reference: serde_json::Value =
            serde_json::from_str(&to_string(&sample(), Style::Compact)).expect("compact parses");
        for style in [Style::Python, Style::Pretty, Style::Ps51] {
            let text = to_string(&sample(), style);
            let v: serde_json::Value = serde_json::from_str(&text).expect("dialect parses");
            assert_eq!(v, reference, "{style:?}");
        }
        let astral = J::s("a😀b");
        let text = to_string(&astral, Style::Python);
        assert_eq!(text, r#""a\ud83d\ude00b""#);
        let back: String = serde_json::from_str(&text).expect("surrogates parse");
        assert_eq!(back, "a😀b");
    }
}
