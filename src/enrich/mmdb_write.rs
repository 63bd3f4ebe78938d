//! A small writer for the MaxMind DB format (`.mmdb`), so tests and
//! `entrasift generate` can build City, ASN and IPinfo-style databases
//! without downloading anything.
//!
//! The layout follows the published MaxMind DB 2.0 specification: a binary
//! search tree over the 128 bits of an IPv6 address (IPv4 networks live
//! under `::/96`, where readers look for them), each node two records of
//! 24, 28 or 32 bits; sixteen zero bytes; the data section of typed values;
//! then the metadata map after the `\xAB\xCD\xEFMaxMind.com` marker.
//!
//! It writes what readers need and nothing more: no pointers inside the
//! data section (identical records are stored once instead), no aliases
//! for `::ffff:0:0/96` or `2002::/16`, and only the value types our
//! layouts use. A later insert replaces whatever part of the tree it
//! covers, so callers insert wide networks before narrow ones.

use std::collections::HashMap;
use std::net::IpAddr;

/// The marker that separates the data section from the metadata.
pub const METADATA_MARKER: &[u8] = b"\xAB\xCD\xEFMaxMind.com";
/// Zero bytes between the search tree and the data section.
const DATA_SEPARATOR: usize = 16;

/// A value in the data section (the subset of MaxMind DB types we write).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    String(String),
    Double(f64),
    Uint16(u16),
    Uint32(u32),
    Uint64(u64),
    Bool(bool),
    /// Keys in the order given; readers do not care about order.
    Map(Vec<(String, Value)>),
    Array(Vec<Value>),
}

impl Value {
    pub fn string(s: &str) -> Value {
        Value::String(s.to_string())
    }

    /// A map from `(key, value)` pairs.
    pub fn map<const N: usize>(pairs: [(&str, Value); N]) -> Value {
        Value::Map(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }
}

/// Bits per search-tree record; the node count and data size must fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordSize {
    Bits24,
    Bits28,
    Bits32,
}

impl RecordSize {
    fn bits(self) -> u16 {
        match self {
            RecordSize::Bits24 => 24,
            RecordSize::Bits28 => 28,
            RecordSize::Bits32 => 32,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WriteError {
    #[error("prefix length {len} is longer than the {max} bits of the address")]
    PrefixTooLong { len: u8, max: u8 },
    #[error("a /0 network would replace the whole tree")]
    EmptyPrefix,
    #[error("the tree and data need {needed} but {bits}-bit records hold at most {max}")]
    TooLarge { needed: u64, bits: u16, max: u64 },
    #[error("a value of {size} bytes or entries is over the format's limit of {MAX_SIZE}")]
    ValueTooLong { size: usize },
}

/// The largest size a control byte can express (28 + 256 + 65,536 +
/// 16,777,216).
const MAX_SIZE: usize = 16_843_036;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Empty,
    Node(u32),
    /// Index into `Writer::values`.
    Data(u32),
}

/// Builds one database in memory; [`Writer::to_bytes`] serialises it.
#[derive(Debug, Clone)]
pub struct Writer {
    database_type: String,
    description: String,
    build_epoch: u64,
    record_size: RecordSize,
    nodes: Vec<[Slot; 2]>,
    values: Vec<Value>,
}

impl Writer {
    /// An empty IPv6 database (IPv4 networks are stored under `::/96`).
    pub fn new(database_type: &str, record_size: RecordSize) -> Writer {
        Writer {
            database_type: database_type.to_string(),
            description: database_type.to_string(),
            build_epoch: 0,
            record_size,
            nodes: vec![[Slot::Empty; 2]],
            values: Vec::new(),
        }
    }

    /// The English description in the metadata.
    pub fn description(mut self, text: &str) -> Writer {
        self.description = text.to_string();
        self
    }

    /// Seconds since the Unix epoch, as the metadata's `build_epoch`. Left
    /// at 0 unless set, so the same inputs give the same bytes.
    pub fn build_epoch(mut self, epoch: u64) -> Writer {
        self.build_epoch = epoch;
        self
    }

    /// Maps `addr/prefix_len` to `value`; host bits of `addr` are ignored.
    pub fn insert(&mut self, addr: IpAddr, prefix_len: u8, value: Value) -> Result<(), WriteError> {
        let (bits, len) = match addr {
            IpAddr::V4(v4) => {
                if prefix_len > 32 {
                    return Err(WriteError::PrefixTooLong {
                        len: prefix_len,
                        max: 32,
                    });
                }
                (u128::from(u32::from(v4)), prefix_len + 96)
            }
            IpAddr::V6(v6) => {
                if prefix_len > 128 {
                    return Err(WriteError::PrefixTooLong {
                        len: prefix_len,
                        max: 128,
                    });
                }
                (u128::from(v6), prefix_len)
            }
        };
        if len == 0 {
            return Err(WriteError::EmptyPrefix);
        }
        let data = Slot::Data(self.values.len() as u32);
        self.values.push(value);
        let mut node = 0usize;
        for depth in 0..len {
            let bit = ((bits >> (127 - depth)) & 1) as usize;
            if depth + 1 == len {
                self.nodes[node][bit] = data;
                break;
            }
            node = match self.nodes[node][bit] {
                Slot::Node(n) => n as usize,
                // A wider network already covers this one: split it so both
                // halves keep its data and descend into the half we need.
                covering => {
                    let fill = match covering {
                        Slot::Data(_) => covering,
                        _ => Slot::Empty,
                    };
                    let n = self.nodes.len();
                    self.nodes.push([fill, fill]);
                    self.nodes[node][bit] = Slot::Node(n as u32);
                    n
                }
            };
        }
        Ok(())
    }

    /// The whole file: search tree, separator, data section, marker,
    /// metadata.
    pub fn to_bytes(&self) -> Result<Vec<u8>, WriteError> {
        let node_count = self.nodes.len() as u64;
        let mut data = Vec::new();
        let mut offsets = Vec::with_capacity(self.values.len());
        let mut seen: HashMap<Vec<u8>, u64> = HashMap::new();
        for v in &self.values {
            let mut bytes = Vec::new();
            encode(v, &mut bytes)?;
            let offset = *seen.entry(bytes).or_insert_with_key(|b| {
                let at = data.len() as u64;
                data.extend_from_slice(b);
                at
            });
            offsets.push(offset);
        }
        let bits = self.record_size.bits();
        let max = (1u64 << bits) - 1;
        let needed = node_count + DATA_SEPARATOR as u64 + data.len() as u64;
        if needed > max {
            return Err(WriteError::TooLarge { needed, bits, max });
        }
        let record = |s: Slot| -> u64 {
            match s {
                Slot::Empty => node_count,
                Slot::Node(n) => u64::from(n),
                Slot::Data(i) => node_count + DATA_SEPARATOR as u64 + offsets[i as usize],
            }
        };
        let mut out = Vec::with_capacity(self.nodes.len() * 8 + data.len() + 512);
        for [l, r] in &self.nodes {
            write_node(&mut out, self.record_size, record(*l), record(*r));
        }
        out.extend_from_slice(&[0u8; DATA_SEPARATOR]);
        out.extend_from_slice(&data);
        out.extend_from_slice(METADATA_MARKER);
        let metadata = Value::map([
            ("binary_format_major_version", Value::Uint16(2)),
            ("binary_format_minor_version", Value::Uint16(0)),
            ("build_epoch", Value::Uint64(self.build_epoch)),
            ("database_type", Value::string(&self.database_type)),
            (
                "description",
                Value::map([("en", Value::string(&self.description))]),
            ),
            ("ip_version", Value::Uint16(6)),
            ("languages", Value::Array(vec![Value::string("en")])),
            ("node_count", Value::Uint32(node_count as u32)),
            ("record_size", Value::Uint16(bits)),
        ]);
        encode(&metadata, &mut out)?;
        Ok(out)
    }
}

/// One node: left record (bit 0) then right record (bit 1), big-endian.
/// 28-bit records keep their top four bits in the middle byte.
fn write_node(out: &mut Vec<u8>, size: RecordSize, l: u64, r: u64) {
    let be = |v: u64, n: usize| (0..n).rev().map(move |i| (v >> (8 * i)) as u8);
    match size {
        RecordSize::Bits24 => {
            out.extend(be(l, 3));
            out.extend(be(r, 3));
        }
        RecordSize::Bits28 => {
            out.extend(be(l & 0xFF_FFFF, 3));
            out.push((((l >> 24) & 0x0F) << 4) as u8 | ((r >> 24) & 0x0F) as u8);
            out.extend(be(r & 0xFF_FFFF, 3));
        }
        RecordSize::Bits32 => {
            out.extend(be(l, 4));
            out.extend(be(r, 4));
        }
    }
}

/// Type numbers from the specification.
const TYPE_STRING: u8 = 2;
const TYPE_DOUBLE: u8 = 3;
const TYPE_UINT16: u8 = 5;
const TYPE_UINT32: u8 = 6;
const TYPE_MAP: u8 = 7;
const TYPE_UINT64: u8 = 9;
const TYPE_ARRAY: u8 = 11;
const TYPE_BOOL: u8 = 14;

/// The control byte(s): type in the top three bits (0 plus an extension
/// byte for types above 7), size in the low five, with 1-3 extra size bytes
/// for sizes of 29 and more.
fn control(out: &mut Vec<u8>, type_num: u8, size: usize) -> Result<(), WriteError> {
    let (low, extra): (u8, Vec<u8>) = match size {
        0..=28 => (size as u8, Vec::new()),
        29..=284 => (29, vec![(size - 29) as u8]),
        285..=65_820 => (30, ((size - 285) as u16).to_be_bytes().to_vec()),
        65_821..=MAX_SIZE => (31, ((size - 65_821) as u32).to_be_bytes()[1..].to_vec()),
        _ => return Err(WriteError::ValueTooLong { size }),
    };
    if type_num <= 7 {
        out.push((type_num << 5) | low);
    } else {
        out.push(low);
        out.push(type_num - 7);
    }
    out.extend_from_slice(&extra);
    Ok(())
}

/// An unsigned integer in as few big-endian bytes as it needs.
fn uint(out: &mut Vec<u8>, type_num: u8, v: u64) -> Result<(), WriteError> {
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    control(out, type_num, 8 - skip)?;
    out.extend_from_slice(&bytes[skip..]);
    Ok(())
}

fn encode(v: &Value, out: &mut Vec<u8>) -> Result<(), WriteError> {
    match v {
        Value::String(s) => {
            control(out, TYPE_STRING, s.len())?;
            out.extend_from_slice(s.as_bytes());
        }
        Value::Double(d) => {
            control(out, TYPE_DOUBLE, 8)?;
            out.extend_from_slice(&d.to_be_bytes());
        }
        Value::Uint16(n) => uint(out, TYPE_UINT16, u64::from(*n))?,
        Value::Uint32(n) => uint(out, TYPE_UINT32, u64::from(*n))?,
        Value::Uint64(n) => uint(out, TYPE_UINT64, *n)?,
        Value::Bool(b) => control(out, TYPE_BOOL, usize::from(*b))?,
        Value::Map(pairs) => {
            control(out, TYPE_MAP, pairs.len())?;
            for (k, v) in pairs {
                control(out, TYPE_STRING, k.len())?;
                out.extend_from_slice(k.as_bytes());
                encode(v, out)?;
            }
        }
        Value::Array(items) => {
            control(out, TYPE_ARRAY, items.len())?;
            for v in items {
                encode(v, out)?;
            }
        }
    }
    Ok(())
}

/// A record in the GeoIP2/GeoLite2 City layout (also DB-IP City Lite's):
/// English names, ISO country code, first subdivision, coordinates.
pub fn geoip2_city(city: &str, state: &str, country: &str, lat: f64, lon: f64) -> Value {
    let names = |s: &str| Value::map([("en", Value::string(s))]);
    let mut pairs = vec![
        (
            "country".to_string(),
            Value::map([("iso_code", Value::string(country))]),
        ),
        (
            "location".to_string(),
            Value::map([
                ("accuracy_radius", Value::Uint16(20)),
                ("latitude", Value::Double(lat)),
                ("longitude", Value::Double(lon)),
            ]),
        ),
    ];
    if !city.is_empty() {
        pairs.push(("city".to_string(), Value::map([("names", names(city))])));
    }
    if !state.is_empty() {
        pairs.push((
            "subdivisions".to_string(),
            Value::Array(vec![Value::map([("names", names(state))])]),
        ));
    }
    Value::Map(pairs)
}

/// A record in the GeoLite2-ASN layout (also DB-IP ASN Lite's).
pub fn geoip2_asn(asn: u32, organisation: &str) -> Value {
    Value::map([
        ("autonomous_system_number", Value::Uint32(asn)),
        (
            "autonomous_system_organization",
            Value::string(organisation),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use maxminddb::{geoip2, Reader};

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address")
    }

    #[test]
    fn every_record_size_reads_back_with_the_maxmind_reader() {
        for size in [RecordSize::Bits24, RecordSize::Bits28, RecordSize::Bits32] {
            let mut w = Writer::new("Test-City", size).build_epoch(1_767_225_600);
            w.insert(
                ip("203.0.113.0"),
                24,
                geoip2_city("Paris", "Ile-de-France", "FR", 48.8566, 2.3522),
            )
            .unwrap();
            // A narrower network inside the first one overrides it.
            w.insert(
                ip("203.0.113.128"),
                25,
                geoip2_city("Lyon", "", "FR", 45.764, 4.8357),
            )
            .unwrap();
            w.insert(
                ip("2001:db8::"),
                32,
                geoip2_city("Berlin", "Berlin", "DE", 52.52, 13.405),
            )
            .unwrap();
            let r = Reader::from_source(w.to_bytes().unwrap()).unwrap();
            r.verify().unwrap();
            let m = r.metadata();
            assert_eq!(
                (m.database_type.as_str(), m.record_size, m.ip_version),
                ("Test-City", size.bits(), 6)
            );
            assert_eq!(m.build_epoch, 1_767_225_600);
            let city = |a: &str| {
                let res = r.lookup(ip(a)).unwrap();
                res.decode::<geoip2::City>()
                    .unwrap()
                    .map(|c| c.city.names.english.unwrap_or("").to_string())
            };
            assert_eq!(city("203.0.113.5").as_deref(), Some("Paris"));
            assert_eq!(city("203.0.113.200").as_deref(), Some("Lyon"));
            assert_eq!(city("2001:db8:1::7").as_deref(), Some("Berlin"));
            assert_eq!(city("198.51.100.1"), None);
            let res = r.lookup(ip("203.0.113.5")).unwrap();
            assert_eq!(res.network().unwrap().to_string(), "203.0.113.0/25");
            let c: geoip2::City = res.decode().unwrap().unwrap();
            assert_eq!(c.country.iso_code, Some("FR"));
            assert_eq!(c.location.latitude, Some(48.8566));
            assert_eq!(c.subdivisions[0].names.english, Some("Ile-de-France"));
        }
    }

    #[test]
    fn long_strings_and_wide_integers_use_the_extended_sizes() {
        let long = "x".repeat(70_000);
        let mid = "y".repeat(300);
        let mut w = Writer::new("Test-ASN", RecordSize::Bits32);
        w.insert(ip("192.0.2.0"), 24, geoip2_asn(4_200_000_000, &long))
            .unwrap();
        w.insert(ip("198.51.100.0"), 24, geoip2_asn(64_500, &mid))
            .unwrap();
        let r = Reader::from_source(w.to_bytes().unwrap()).unwrap();
        r.verify().unwrap();
        let a: geoip2::Asn = r
            .lookup(ip("192.0.2.9"))
            .unwrap()
            .decode()
            .unwrap()
            .unwrap();
        assert_eq!(a.autonomous_system_number, Some(4_200_000_000));
        assert_eq!(a.autonomous_system_organization.map(str::len), Some(70_000));
        let b: geoip2::Asn = r
            .lookup(ip("198.51.100.9"))
            .unwrap()
            .decode()
            .unwrap()
            .unwrap();
        assert_eq!(b.autonomous_system_organization, Some(mid.as_str()));
    }

    #[test]
    fn identical_records_are_stored_once_and_output_is_stable() {
        let build = || {
            let mut w = Writer::new("Test-ASN", RecordSize::Bits24);
            for i in 0..50u8 {
                w.insert(
                    IpAddr::from([198, 18, i, 0]),
                    24,
                    geoip2_asn(64_496, "Example"),
                )
                .unwrap();
            }
            w.to_bytes().unwrap()
        };
        let a = build();
        assert_eq!(a, build());
        assert_eq!(a.windows(7).filter(|w| *w == b"Example").count(), 1);
    }

    #[test]
    fn impossible_inputs_are_errors() {
        let mut w = Writer::new("Test", RecordSize::Bits24);
        assert_eq!(
            w.insert(ip("192.0.2.0"), 33, Value::Bool(true)),
            Err(WriteError::PrefixTooLong { len: 33, max: 32 })
        );
        assert_eq!(
            w.insert(ip("::"), 0, Value::Bool(true)),
            Err(WriteError::EmptyPrefix)
        );
        // 24-bit records address at most 16 MiB of tree and data.
        w.insert(ip("192.0.2.0"), 24, Value::string(&"z".repeat(16 << 20)))
            .unwrap();
        assert!(matches!(
            w.to_bytes(),
            Err(WriteError::TooLarge { bits: 24, .. })
        ));
        let mut w = Writer::new("Test", RecordSize::Bits32);
        w.insert(
            ip("192.0.2.0"),
            24,
            Value::string(&"z".repeat(MAX_SIZE + 1)),
        )
        .unwrap();
        assert_eq!(
            w.to_bytes(),
            Err(WriteError::ValueTooLong { size: MAX_SIZE + 1 })
        );
    }
}
