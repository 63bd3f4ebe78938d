//! One JSON record parsed by simd-json and read in place from its tape.
//!
//! simd-json finds the structure and checks UTF-8 with SIMD, then lays the
//! record out as a flat tape of nodes, each container followed by its
//! contents and carrying their node count. A [`Tv`] is a position on the
//! tape, so a member lookup steps over every other member's subtree in one
//! move, and nothing is built per record but a small hash of the large
//! objects' member names (in reused memory): no value tree, no
//! allocation. Strings borrow from a per-thread copy of the record, where
//! the parser undoes escapes in place.

use super::view::{Json, Kind};
use simd_json::{Node, StaticNode, Tape};
use std::cell::RefCell;

/// A value on a record's tape: the tape and where the value's head node
/// is. An empty tape is a missing value, which reads as null.
#[derive(Debug, Clone, Copy)]
pub struct Tv<'a> {
    tape: &'a [Node<'a>],
    at: usize,
    index: &'a Index,
}

/// How many tape nodes the value headed by `node` spans.
fn width(node: &Node) -> usize {
    match node {
        Node::Object { count, .. } | Node::Array { count, .. } => count + 1,
        _ => 1,
    }
}

/// Objects with fewer members are searched member by member.
const INDEXED_MEMBERS: usize = 16;

/// The member names of the record's large objects (the record itself and,
/// for an envelope, its `properties`), hashed: a mapper looks up some
/// fifty names in an object of as many members, and stepping over the
/// tape for each cost more than building a value tree did.
///
/// Each slot holds the tape position of an object and of one of its keys
/// (0: empty; position 0 is always the record's head, never a key). Only
/// the first of duplicate names (ignoring ASCII case) is entered, so the
/// first wins, as in a member-by-member search.
#[derive(Debug, Default)]
pub struct Index {
    slots: Vec<(u32, u32)>,
    /// Tape positions of the indexed objects.
    objects: Vec<u32>,
}

static NO_INDEX: Index = Index {
    slots: Vec::new(),
    objects: Vec::new(),
};

/// A hash of a name that ignores ASCII case, from its length and its first
/// and last eight bytes: cheap, and distinct for the names records carry.
/// Setting bit 5 of every byte folds case (it also folds a few
/// punctuation pairs together, which only costs a comparison).
fn name_hash(name: &[u8]) -> u64 {
    const FOLD: u64 = 0x2020_2020_2020_2020;
    let n = name.len() as u64;
    let h = match (name.first_chunk::<8>(), name.last_chunk::<8>()) {
        (Some(head), Some(tail)) => {
            (u64::from_le_bytes(*head) | FOLD) ^ (u64::from_le_bytes(*tail) | FOLD).rotate_left(29)
        }
        _ => name
            .iter()
            .fold(0u64, |h, b| h.rotate_left(8) ^ u64::from(b | 0x20)),
    };
    (h ^ n.rotate_left(56)).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

impl Index {
    fn slot_of(&self, object: u32, name: &[u8]) -> usize {
        let h = name_hash(name) ^ u64::from(object).wrapping_mul(0xff51_afd7_ed55_8ccd);
        (h >> 32) as usize & (self.slots.len() - 1)
    }

    /// Indexes the record's head object and the large objects directly in
    /// it, when they are large enough to be worth it.
    fn build(&mut self, tape: &[Node]) {
        self.objects.clear();
        let mut members = 0;
        if let Some(Node::Object { len, .. }) = tape.first() {
            if *len >= INDEXED_MEMBERS {
                self.objects.push(0);
                members += len;
            }
            let root = Tv {
                tape,
                at: 0,
                index: &NO_INDEX,
            };
            for (_, v) in root.members() {
                if let Some(Node::Object { len, .. }) = tape.get(v.at) {
                    if *len >= INDEXED_MEMBERS {
                        self.objects.push(v.at as u32);
                        members += len;
                    }
                }
            }
        }
        if members == 0 || tape.len() > u32::MAX as usize {
            self.objects.clear();
            return;
        }
        let size = (members * 2).next_power_of_two().max(64);
        self.slots.clear();
        self.slots.resize(size, (0, 0));
        for i in 0..self.objects.len() {
            let object = self.objects[i];
            let mut at = object as usize + 1;
            let len = match tape[object as usize] {
                Node::Object { len, .. } => len,
                _ => 0,
            };
            for _ in 0..len {
                let Node::String(name) = tape[at] else {
                    unreachable!("simd-json tapes hold a string key before each member value")
                };
                let mut s = self.slot_of(object, name.as_bytes());
                loop {
                    match self.slots[s] {
                        (_, 0) => {
                            self.slots[s] = (object, at as u32);
                            break;
                        }
                        (o, k) if o == object && same_name(key_at(tape, k), name) => {
                            break;
                        }
                        _ => s = (s + 1) & (self.slots.len() - 1),
                    }
                }
                at += 1 + width(&tape[at + 1]);
            }
        }
    }

    /// Where the value of `object`'s first member called `name` is, if
    /// `object` is indexed (`None` if it is not, `Some(None)` if it has no
    /// such member).
    fn find(&self, tape: &[Node], object: usize, name: &str) -> Option<Option<usize>> {
        if !self.objects.contains(&(object as u32)) {
            return None;
        }
        let mut s = self.slot_of(object as u32, name.as_bytes());
        loop {
            match self.slots[s] {
                (_, 0) => return Some(None),
                (o, k) if o as usize == object && same_name(key_at(tape, k), name) => {
                    return Some(Some(k as usize + 1))
                }
                _ => s = (s + 1) & (self.slots.len() - 1),
            }
        }
    }
}

/// Whether two member names are the same, ignoring ASCII case. Nearly
/// every lookup spells a name as the record does, so the bytes are first
/// compared a word at a time; byte-by-byte case folding is the fallback.
#[inline]
fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let n = a.len();
    let exact = if (8..=16).contains(&n) {
        let word =
            |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().unwrap_or([0; 8]));
        word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8)
    } else if (4..8).contains(&n) {
        let word =
            |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().unwrap_or([0; 4]));
        word(a, 0) == word(b, 0) && word(a, n - 4) == word(b, n - 4)
    } else {
        a == b
    };
    exact || a.eq_ignore_ascii_case(b)
}

fn key_at<'a>(tape: &[Node<'a>], at: u32) -> &'a str {
    match tape[at as usize] {
        Node::String(k) => k,
        _ => "",
    }
}

impl<'a> Tv<'a> {
    fn head(self) -> Option<&'a Node<'a>> {
        self.tape.get(self.at)
    }

    fn value_at(self, at: usize) -> Self {
        Tv { at, ..self }
    }

    /// The members of an object in order, duplicates included; none for
    /// anything else.
    pub fn members(self) -> impl Iterator<Item = (&'a str, Tv<'a>)> + 'a {
        let len = match self.head() {
            Some(Node::Object { len, .. }) => *len,
            _ => 0,
        };
        let mut at = self.at + 1;
        (0..len).map(move |_| {
            let key = key_at(self.tape, at as u32);
            let value = self.value_at(at + 1);
            at += 1 + width(&self.tape[at + 1]);
            (key, value)
        })
    }

    /// The value of the first member called `name` (ignoring ASCII case).
    fn find(self, name: &str) -> Option<Self> {
        let Some(Node::Object { len, .. }) = self.head() else {
            return None;
        };
        if *len >= INDEXED_MEMBERS {
            if let Some(found) = self.index.find(self.tape, self.at, name) {
                return found.map(|at| self.value_at(at));
            }
        }
        let mut at = self.at + 1;
        for _ in 0..*len {
            if same_name(key_at(self.tape, at as u32), name) {
                return Some(self.value_at(at + 1));
            }
            at += 1 + width(&self.tape[at + 1]);
        }
        None
    }

    /// Parses one record's bytes and hands its value to `f`.
    ///
    /// The tape, the copy of the record and the name hash live in
    /// per-thread buffers reused from record to record, so `f` must not
    /// parse another record (the buffers are in use).
    pub fn with_record<T>(
        bytes: &[u8],
        f: impl for<'v> FnOnce(Result<Tv<'v>, RecordError>) -> T,
    ) -> T {
        SCRATCH.with_borrow_mut(|scratch| {
            let Scratch {
                input,
                buffers,
                tape,
                index,
            } = scratch;
            input.clear();
            input.extend_from_slice(bytes);
            input.resize(bytes.len() + simd_json::INPUT_PADDING, 0);
            let mut nodes = tape.take().unwrap_or_else(Tape::null).reset();
            let out = match simd_json::fill_tape_padded(input, bytes.len(), buffers, &mut nodes) {
                Ok(()) => {
                    index.build(&nodes.0);
                    f(Ok(Tv {
                        tape: &nodes.0,
                        at: 0,
                        index,
                    }))
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
}

impl<'a> Json<'a> for Tv<'a> {
    fn kind(self) -> Kind<'a> {
        match self.head() {
            None | Some(Node::Static(StaticNode::Null)) => Kind::Null,
            Some(Node::String(s)) => Kind::Str(s),
            Some(Node::Static(StaticNode::Bool(b))) => Kind::Bool(*b),
            Some(Node::Static(StaticNode::I64(i))) => Kind::Int(*i),
            // Integers past i64 are kept as (approximate) numbers.
            Some(Node::Static(StaticNode::U64(u))) => {
                i64::try_from(*u).map_or(Kind::Float(*u as f64), Kind::Int)
            }
            Some(Node::Static(StaticNode::F64(x))) => Kind::Float(*x),
            Some(Node::Array { .. }) => Kind::Arr,
            Some(Node::Object { .. }) => Kind::Obj,
        }
    }

    fn null() -> Self {
        Tv {
            tape: &[],
            at: 0,
            index: &NO_INDEX,
        }
    }

    fn get(self, key: &str) -> Self {
        self.find(key).unwrap_or(Self::null())
    }

    fn has(self, key: &str) -> bool {
        self.find(key).is_some()
    }

    fn items(self) -> impl Iterator<Item = Self> + 'a {
        let len = match self.head() {
            Some(Node::Array { len, .. }) => *len,
            _ => 0,
        };
        let mut at = self.at + 1;
        (0..len).map(move |_| {
            let item = self.value_at(at);
            at += width(&self.tape[at]);
            item
        })
    }

    fn keys(self) -> impl Iterator<Item = &'a str> + 'a {
        self.members().map(|(k, _)| k)
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
/// error from the parser, so a hostile record cannot make anything that
/// walks its values recurse deeply.
const MAX_DEPTH: usize = 128;

struct Scratch {
    input: Vec<u8>,
    buffers: simd_json::Buffers,
    tape: Option<Tape<'static>>,
    index: Index,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch {
        input: Vec::new(),
        buffers: simd_json::Buffers::with_max_depth(64 << 10, MAX_DEPTH),
        tape: None,
        index: Index {
            slots: Vec::new(),
            objects: Vec::new(),
        },
    });
}

#[cfg(test)]
mod tests {
    use super::super::value::{unread, JVal};
    use super::*;
    use std::borrow::Cow;

    /// The tree of a tape value, with the members the serde path leaves
    /// unbuilt nulled the same way, so the two can be compared.
    fn owned(v: Tv) -> JVal<'static> {
        match v.kind() {
            Kind::Null => JVal::Null,
            Kind::Bool(b) => JVal::Bool(b),
            Kind::Int(i) => JVal::Int(i),
            Kind::Float(f) => JVal::Float(f),
            Kind::Str(s) => JVal::Str(Cow::Owned(s.to_string())),
            Kind::Arr => JVal::Arr(v.items().map(owned).collect()),
            Kind::Obj => JVal::Obj(
                v.members()
                    .map(|(k, v)| {
                        let v = if unread(k) { JVal::Null } else { owned(v) };
                        (Cow::Owned(k.to_string()), v)
                    })
                    .collect(),
            ),
        }
    }

    fn via_tape(text: &str) -> Result<JVal<'static>, RecordError> {
        Tv::with_record(text.as_bytes(), |v| v.map(owned))
    }

    /// Every lookup the mappers make answers alike on the tape and on the
    /// tree: each member by its own name and by its name in other case,
    /// and a name no member has.
    fn same_lookups(t: Tv, j: &JVal) {
        assert_eq!(t.kind(), j.kind());
        assert_eq!(t.keys().collect::<Vec<_>>(), j.keys().collect::<Vec<_>>());
        for k in t.keys() {
            assert!(t.has(k) && j.has(k));
            for name in [
                k.to_string(),
                k.to_ascii_uppercase(),
                k.to_ascii_lowercase(),
            ] {
                if !unread(k) {
                    same_lookups(t.get(&name), j.get(&name));
                }
            }
        }
        assert!(t.get("no such member").is_null() && !t.has("no such member"));
        assert_eq!(t.items().count(), j.items().count());
        for (ti, ji) in t.items().zip(j.items()) {
            same_lookups(ti, ji);
        }
        assert_eq!(t.text(), j.text());
        assert_eq!(t.join(), j.join());
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
        // Objects large enough to be indexed, with duplicate names in other
        // case, names that differ only past their first and last eight
        // bytes, short names and an object-valued member that is indexed
        // too.
        let mut big = String::from(r#"{"Id":"first","iD":"second""#);
        for i in 0..40 {
            big += &format!(r#","member{i}":{i},"userXX{i:02}PrincipalName":"u{i}","k{i}":[{i}]"#);
        }
        big += r#","properties":{"#;
        for i in 0..20 {
            big += &format!(r#""p{i}":"v{i}","P{i}":"dup{i}","#);
        }
        big += r#""e":{}},"":"empty name","ID":"third"}"#;
        texts.push(big);
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
            Tv::with_record(text.as_bytes(), |t| same_lookups(t.unwrap(), &want));
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
        let e = Tv::with_record(b"{\"a\":\"caf\xe9\"}", |v| v.map(|_| ())).unwrap_err();
        assert!(e.utf8, "{e:?}");
        let deep = "[".repeat(100_000);
        assert!(via_tape(&deep).is_err());
        // The per-thread buffers serve the next record after an error.
        assert_eq!(via_tape(r#"{"a":1}"#).unwrap().get("A").as_i64(), Some(1));
    }

    #[test]
    fn names_compare_like_eq_ignore_ascii_case() {
        let base = "userPrincipalName@x"; // 19 bytes
        for n in 0..=base.len() {
            let a = &base[..n];
            for i in 0..n {
                // One byte changed: in case only, or to another letter.
                let mut upper = a.as_bytes().to_vec();
                upper[i] = upper[i].to_ascii_uppercase();
                let mut other = a.as_bytes().to_vec();
                other[i] = if other[i] == b'q' { b'r' } else { b'q' };
                for b in [upper, other] {
                    let b = std::str::from_utf8(&b).unwrap();
                    assert_eq!(same_name(a, b), a.eq_ignore_ascii_case(b), "{a} {b}");
                }
            }
            assert!(same_name(a, a));
            assert!(!same_name(a, &base[..n.saturating_sub(1)]) || n == 0);
        }
        assert!(!same_name("é", "É"));
    }

    #[test]
    fn bags_read_off_the_tape() {
        let text = r#"{"E":[{"Name":"UserAgent","Value":"curl"},{"key":"OS","Value":"Linux"}]}"#;
        Tv::with_record(text.as_bytes(), |v| {
            let e = v.unwrap().get("e");
            assert_eq!(e.bag("useragent").text(), "curl");
            assert_eq!(e.bag("os").text(), "Linux");
            assert!(e.bag("none").is_null());
        });
    }
}
