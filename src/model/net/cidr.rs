//! Networks (CIDR) shared by the detections (allowlist, `--ip-list`, SQL
//! network tests) and enrichment (special-purpose and Microsoft ranges).
//!
//! The IPv4-mapped rule, the same everywhere an address meets a network:
//! an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, RFC 4291 section 2.5.5.2)
//! IS the IPv4 address it carries. It matches the IPv4 networks containing
//! `a.b.c.d` and no IPv6 network, because some exports write IPv4 sources
//! that way and the same source must not escape a rule by its spelling. A
//! network written in mapped form (`::ffff:203.0.113.0/120`) is the IPv4
//! network it covers (`203.0.113.0/24`); a mapped prefix shorter than /96
//! would reach past the mapped range and is rejected. Otherwise IPv4 and
//! IPv6 never match each other (`::/0` holds no IPv4 address).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why a network's text was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    #[error("`{0}` is not an IP address")]
    Address(String),
    #[error("`{0}` is not a prefix length")]
    PrefixText(String),
    #[error("prefix length /{len} is longer than {max} bits")]
    PrefixTooLong { len: String, max: u8 },
    #[error("prefix length /{0} on an IPv4-mapped address reaches past the mapped range (/96 or longer)")]
    MappedTooShort(u8),
}

/// An IPv4 or IPv6 network (see the IPv4-mapped rule above).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cidr {
    v6: bool,
    /// Network bits, host bits cleared; IPv4 uses the low 32 bits.
    addr: u128,
    /// Counted on the family's own width (0..=32 for IPv4).
    len: u8,
}

impl Cidr {
    /// Parses `1.2.3.4`, `1.2.3.0/24`, `2001:db8::1` or `2001:db8::/32`.
    /// Host bits below the prefix are ignored (`10.1.2.3/8` is `10.0.0.0/8`),
    /// as lists copied from firewalls often carry them.
    pub fn parse(text: &str) -> Result<Cidr, CidrError> {
        let text = text.trim();
        let (addr_text, len_text) = match text.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (text, None),
        };
        let ip: IpAddr = addr_text
            .parse()
            .map_err(|_| CidrError::Address(addr_text.to_string()))?;
        let (v6, bits) = ip_bits(ip);
        // A mapped address keeps its IPv6 prefix length in the text, so
        // shift it down to the IPv4 range.
        let mapped = !v6 && matches!(ip, IpAddr::V6(_));
        let max = if v6 { 128 } else { 32 };
        let len = match len_text {
            None => max,
            Some(l) => {
                let n: u8 = l
                    .parse()
                    .map_err(|_| CidrError::PrefixText(l.to_string()))?;
                if mapped && n > 128 {
                    return Err(CidrError::PrefixTooLong {
                        len: l.to_string(),
                        max: 128,
                    });
                }
                if mapped && n < 96 {
                    return Err(CidrError::MappedTooShort(n));
                }
                let n = if mapped { n - 96 } else { n };
                if n > max {
                    return Err(CidrError::PrefixTooLong {
                        len: l.to_string(),
                        max,
                    });
                }
                n
            }
        };
        Ok(Cidr {
            v6,
            addr: bits & mask(v6, len),
            len,
        })
    }

    /// (is IPv6, network bits, prefix length); IPv4 uses the low 32 bits
    /// and a prefix length of at most 32.
    pub fn parts(&self) -> (bool, u128, u8) {
        (self.v6, self.addr, self.len)
    }

    /// Prefix length on the family's own width (at most 32 for IPv4).
    pub fn prefix_len(&self) -> u8 {
        self.len
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let (v6, bits) = ip_bits(ip);
        v6 == self.v6 && bits & mask(v6, self.len) == self.addr
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.v6 {
            write!(f, "{}/{}", Ipv6Addr::from(self.addr), self.len)
        } else {
            // Only the low 32 bits are ever set for IPv4.
            let v4 = Ipv4Addr::from(u32::try_from(self.addr).unwrap_or(u32::MAX));
            write!(f, "{v4}/{}", self.len)
        }
    }
}

/// (is IPv6, address bits); IPv4 and IPv4-mapped IPv6 use the low 32 bits.
fn ip_bits(ip: IpAddr) -> (bool, u128) {
    match ip.to_canonical() {
        IpAddr::V4(a) => (false, u128::from(u32::from(a))),
        IpAddr::V6(a) => (true, u128::from(a)),
    }
}

fn mask(v6: bool, len: u8) -> u128 {
    let ones: u128 = if v6 { u128::MAX } else { u128::from(u32::MAX) };
    // Keep the top `len` bits of a 32- or 128-bit number.
    ones & !ones.checked_shr(u32::from(len)).unwrap_or(0)
}

/// Networks with a value each; lookup returns the most specific match.
#[derive(Clone)]
pub struct CidrTable<V> {
    // Only ever probed by key, never iterated, so the HashMap order cannot
    // leak into output.
    by_prefix: BTreeMap<(bool, u8), HashMap<u128, V>>,
    len: usize,
}

// Threat feeds can be huge; a debug print of the config should not be.
impl<V> fmt::Debug for CidrTable<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CidrTable({} networks)", self.len)
    }
}

impl<V> Default for CidrTable<V> {
    fn default() -> Self {
        CidrTable {
            by_prefix: BTreeMap::new(),
            len: 0,
        }
    }
}

impl<V> CidrTable<V> {
    /// Keeps the first value given for a network.
    pub fn insert(&mut self, net: Cidr, value: V) {
        let slot = self.by_prefix.entry((net.v6, net.len)).or_default();
        if let std::collections::hash_map::Entry::Vacant(e) = slot.entry(net.addr) {
            e.insert(value);
            self.len += 1;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of distinct networks.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The value of the longest prefix holding `ip`.
    pub fn lookup(&self, ip: IpAddr) -> Option<&V> {
        let (v6, bits) = ip_bits(ip);
        self.by_prefix
            .range((v6, 0)..=(v6, 128))
            .rev()
            .find_map(|(&(_, len), nets)| nets.get(&(bits & mask(v6, len))))
    }

    /// Looks up the text form used in `SignIn::ip`; unparsable or empty
    /// text matches nothing.
    pub fn lookup_str(&self, ip: &str) -> Option<&V> {
        if self.is_empty() || ip.is_empty() {
            return None;
        }
        ip.parse().ok().and_then(|a| self.lookup(a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn cidr_matches_v4_and_v6_prefixes() {
        let net = Cidr::parse("203.0.113.0/24").unwrap();
        assert!(net.contains(ip("203.0.113.200")));
        assert!(!net.contains(ip("203.0.114.1")));
        let odd = Cidr::parse("10.1.2.3/8").unwrap();
        assert_eq!(odd.to_string(), "10.0.0.0/8");
        let v6 = Cidr::parse("2001:db8:abcd::/48").unwrap();
        assert!(v6.contains(ip("2001:db8:abcd:12::1")));
        assert!(!v6.contains(ip("2001:db8:abce::1")));
        assert!(!v6.contains(ip("203.0.113.1")));
        let all = Cidr::parse("0.0.0.0/0").unwrap();
        assert!(all.contains(ip("198.51.100.1")));
        assert!(!all.contains(ip("2001:db8::1")));
        assert!(!Cidr::parse("::/0").unwrap().contains(ip("198.51.100.1")));
        assert!(Cidr::parse("2001:db8::1")
            .unwrap()
            .contains(ip("2001:db8::1")));
        assert!(Cidr::parse("1.2.3.4/33").is_err());
        assert!(Cidr::parse("1.2.3/24").is_err());
        assert!(Cidr::parse("1.2.3.4/x").is_err());
    }

    #[test]
    fn ipv4_mapped_addresses_and_networks_are_ipv4() {
        let net = Cidr::parse("203.0.113.0/24").unwrap();
        assert!(net.contains(ip("::ffff:203.0.113.9")));
        assert!(!net.contains(ip("::ffff:203.0.114.9")));
        // Written in mapped form, the network is the IPv4 one.
        let mapped = Cidr::parse("::ffff:203.0.113.0/120").unwrap();
        assert_eq!(mapped, net);
        assert_eq!(mapped.to_string(), "203.0.113.0/24");
        assert!(mapped.contains(ip("203.0.113.77")));
        assert_eq!(
            Cidr::parse("::ffff:198.51.100.7").unwrap(),
            Cidr::parse("198.51.100.7/32").unwrap()
        );
        assert_eq!(
            Cidr::parse("::ffff:0:0/80"),
            Err(CidrError::MappedTooShort(80))
        );
        assert!(Cidr::parse("::ffff:1.2.3.4/129").is_err());
        // Not mapped: NAT64 and IPv4-compatible forms stay IPv6.
        assert!(!net.contains(ip("64:ff9b::203.0.113.9")));
        let nat64 = Cidr::parse("64:ff9b::/96").unwrap();
        assert!(nat64.contains(ip("64:ff9b::203.0.113.9")));
        assert!(!nat64.contains(ip("203.0.113.9")));
        // A table looks up a mapped address under its IPv4 networks.
        let mut t = CidrTable::default();
        t.insert(net, "doc");
        assert_eq!(t.lookup_str("::ffff:203.0.113.1"), Some(&"doc"));
        assert_eq!(t.lookup_str("2001:db8::1"), None);
    }

    #[test]
    fn table_picks_the_longest_prefix_and_keeps_the_first_value() {
        let mut t = CidrTable::default();
        t.insert(Cidr::parse("10.0.0.0/8").unwrap(), 1);
        t.insert(Cidr::parse("10.1.0.0/16").unwrap(), 2);
        t.insert(Cidr::parse("10.1.0.0/16").unwrap(), 3);
        assert_eq!(t.len(), 2);
        assert_eq!(t.lookup_str("10.1.2.3"), Some(&2));
        assert_eq!(t.lookup_str("10.2.0.1"), Some(&1));
        assert_eq!(t.lookup_str("11.0.0.1"), None);
        assert_eq!(t.lookup_str("not an ip"), None);
    }

    #[test]
    fn errors_keep_their_wording() {
        assert_eq!(
            Cidr::parse("10.0.0.300").unwrap_err().to_string(),
            "`10.0.0.300` is not an IP address"
        );
        assert_eq!(
            Cidr::parse("10.0.0.0/40").unwrap_err().to_string(),
            "prefix length /40 is longer than 32 bits"
        );
        assert_eq!(
            Cidr::parse("10.0.0.0/x").unwrap_err().to_string(),
            "`x` is not a prefix length"
        );
    }
}
