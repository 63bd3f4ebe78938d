//! IP addresses and networks: the small CIDR matcher behind the allowlist,
//! and the `--ip-list` file of known-bad sources.
//!
//! An `--ip-list` file holds one entry a line, `IP_or_CIDR [label]`, with `#`
//! starting a comment. Threat feeds can run to hundreds of thousands of
//! entries, so lookups go through one hash table per prefix length (longest
//! prefix first) instead of a scan over every entry.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::IpAddr;

use super::config::ConfigError;

/// An IPv4 or IPv6 network. IPv4 and IPv6 never match each other, except
/// that IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) count as IPv4, because
/// some exports write IPv4 sources that way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cidr {
    v6: bool,
    /// Network bits, host bits cleared.
    addr: u128,
    len: u8,
}

impl Cidr {
    /// Parses `1.2.3.4`, `1.2.3.0/24`, `2001:db8::1` or `2001:db8::/32`.
    /// Host bits below the prefix are ignored (`10.1.2.3/8` is `10.0.0.0/8`),
    /// as lists copied from firewalls often carry them.
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let text = text.trim();
        let (addr_text, len_text) = match text.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (text, None),
        };
        let ip: IpAddr = addr_text
            .parse()
            .map_err(|_| format!("`{addr_text}` is not an IP address"))?;
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
                    .map_err(|_| format!("`{l}` is not a prefix length"))?;
                let n = if mapped { n.saturating_sub(96) } else { n };
                if n > max {
                    return Err(format!("prefix length /{l} is longer than {max} bits"));
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

    /// (is IPv6, network bits, prefix length); IPv4 uses the low 32 bits.
    pub(crate) fn parts(&self) -> (bool, u128, u8) {
        (self.v6, self.addr, self.len)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let (v6, bits) = ip_bits(ip);
        v6 == self.v6 && bits & mask(v6, self.len) == self.addr
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.v6 {
            write!(f, "{}/{}", std::net::Ipv6Addr::from(self.addr), self.len)
        } else {
            write!(
                f,
                "{}/{}",
                std::net::Ipv4Addr::from(self.addr as u32),
                self.len
            )
        }
    }
}

/// (is IPv6, address bits); IPv4 and mapped IPv4 use the low 32 bits.
fn ip_bits(ip: IpAddr) -> (bool, u128) {
    match ip {
        IpAddr::V4(a) => (false, u128::from(u32::from(a))),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => (false, u128::from(u32::from(v4))),
            None => (true, u128::from(a)),
        },
    }
}

fn mask(v6: bool, len: u8) -> u128 {
    let ones: u128 = if v6 { u128::MAX } else { u128::from(u32::MAX) };
    // Keep the top `len` bits of a 32- or 128-bit number.
    ones & !ones.checked_shr(u32::from(len)).unwrap_or(0)
}

/// Networks with a value each; lookup returns the most specific match.
#[derive(Clone)]
pub(crate) struct CidrTable<V> {
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
    pub(crate) fn insert(&mut self, net: Cidr, value: V) {
        let slot = self.by_prefix.entry((net.v6, net.len)).or_default();
        if let std::collections::hash_map::Entry::Vacant(e) = slot.entry(net.addr) {
            e.insert(value);
            self.len += 1;
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn lookup(&self, ip: IpAddr) -> Option<&V> {
        let (v6, bits) = ip_bits(ip);
        self.by_prefix
            .range((v6, 0)..=(v6, 128))
            .rev()
            .find_map(|(&(_, len), nets)| nets.get(&(bits & mask(v6, len))))
    }

    /// Looks up the text form used in `SignIn::ip`; unparsable or empty
    /// text matches nothing.
    pub(crate) fn lookup_str(&self, ip: &str) -> Option<&V> {
        if self.is_empty() || ip.is_empty() {
            return None;
        }
        ip.parse().ok().and_then(|a| self.lookup(a))
    }
}

/// A user-supplied list of suspicious sources (`--ip-list`), each with an
/// optional label such as the feed name.
#[derive(Debug, Clone, Default)]
pub struct IpList {
    source: String,
    table: CidrTable<String>,
}

impl IpList {
    /// Parses the list. `source_name` (usually the file path) is only used
    /// in error messages and in findings, so they say which list matched.
    pub fn parse(text: &str, source_name: &str) -> Result<IpList, ConfigError> {
        let mut table = CidrTable::default();
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (n, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let (net, label) = match line.find(|c: char| c.is_whitespace() || c == ',') {
                Some(at) => (
                    &line[..at],
                    line[at + 1..].trim_matches(|c: char| c.is_whitespace() || c == ','),
                ),
                None => (line, ""),
            };
            let net = Cidr::parse(net).map_err(|message| ConfigError::IpList {
                origin: source_name.to_string(),
                line: n + 1,
                message,
            })?;
            table.insert(net, label.to_string());
        }
        Ok(IpList {
            source: source_name.to_string(),
            table,
        })
    }

    /// The label of the most specific entry containing `ip` (empty when the
    /// entry had none), or `None` when the IP is not listed.
    pub fn lookup(&self, ip: &str) -> Option<&str> {
        self.table.lookup_str(ip).map(String::as_str)
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Number of distinct entries.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
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
        assert!(net.contains(ip("::ffff:203.0.113.9")));
        let odd = Cidr::parse("10.1.2.3/8").unwrap();
        assert_eq!(odd.to_string(), "10.0.0.0/8");
        let v6 = Cidr::parse("2001:db8:abcd::/48").unwrap();
        assert!(v6.contains(ip("2001:db8:abcd:12::1")));
        assert!(!v6.contains(ip("2001:db8:abce::1")));
        assert!(!v6.contains(ip("203.0.113.1")));
        let all = Cidr::parse("0.0.0.0/0").unwrap();
        assert!(all.contains(ip("198.51.100.1")));
        assert!(!all.contains(ip("2001:db8::1")));
        assert!(Cidr::parse("2001:db8::1")
            .unwrap()
            .contains(ip("2001:db8::1")));
        assert!(Cidr::parse("1.2.3.4/33").is_err());
        assert!(Cidr::parse("1.2.3/24").is_err());
        assert!(Cidr::parse("1.2.3.4/x").is_err());
    }

    #[test]
    fn ip_list_parses_labels_comments_and_picks_the_most_specific() {
        let text = "\u{feff}# feed export 2024-03-01\n\
                    203.0.113.0/24 hosting-range\n\
                    203.0.113.66   tor exit   # seen in case 17\n\
                    \n\
                    2001:db8:bad::/48,vps\n\
                    198.51.100.7\n";
        let list = IpList::parse(text, "bad.txt").unwrap();
        assert_eq!(list.len(), 4);
        assert_eq!(list.lookup("203.0.113.66"), Some("tor exit"));
        assert_eq!(list.lookup("203.0.113.5"), Some("hosting-range"));
        assert_eq!(list.lookup("2001:db8:bad:1::9"), Some("vps"));
        assert_eq!(list.lookup("198.51.100.7"), Some(""));
        assert_eq!(list.lookup("198.51.100.8"), None);
        assert_eq!(list.lookup(""), None);
        assert_eq!(list.lookup("not-an-ip"), None);
    }

    #[test]
    fn ip_list_error_names_source_and_line() {
        let err =
            IpList::parse("10.0.0.0/8 corp\n\n10.0.0.300 typo\n", "lists/bad.txt").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("lists/bad.txt:3"), "{msg}");
        assert!(msg.contains("10.0.0.300"), "{msg}");
    }
}
