//! Network addresses as the sign-in logs spell them.

use crate::model::Text;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Canonical text of an IP address: strips a port, brackets and a zone,
/// compresses IPv6 and lowercases it; IPv4-mapped IPv6 becomes IPv4.
/// Anything that is not an address is returned trimmed, unchanged, so no
/// information is lost (for text a person typed, such as `timeline --ip`).
pub fn canonical_ip(raw: &str) -> Text {
    parse_ip(raw).unwrap_or_else(|NotAnAddress| Text::from(raw.trim()))
}

/// A log field meant to hold an address held something else (a
/// documentation placeholder such as `<IP ADDRESS>`, a host name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAnAddress;

/// The canonical text of the address in a log field (see
/// [`canonical_ip`]), empty for an empty field, or [`NotAnAddress`], so a
/// value that is not an address never reaches the `ip` column.
pub fn parse_ip(raw: &str) -> Result<Text, NotAnAddress> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(Text::default());
    }
    // The common case needs no formatting: Rust's IPv4 parser accepts only
    // the canonical dotted form (no leading zeros), so the input is its own
    // canonical text.
    if s.parse::<Ipv4Addr>().is_ok() {
        return Ok(Text::from(s));
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(canon(ip));
    }
    // [v6]:port or [v6]
    if let Some(rest) = s.strip_prefix('[') {
        if let Some(end) = rest.find(']') {
            if let Ok(ip) = rest[..end].parse::<IpAddr>() {
                return Ok(canon(ip));
            }
        }
    }
    // v4:port
    if let Some((host, port)) = s.rsplit_once(':') {
        if port.bytes().all(|c| c.is_ascii_digit()) && !host.contains(':') {
            if let Ok(ip) = host.parse::<IpAddr>() {
                return Ok(canon(ip));
            }
        }
    }
    // v6%zone
    if let Some((host, _zone)) = s.split_once('%') {
        if let Ok(ip) = host.parse::<Ipv6Addr>() {
            return Ok(canon(IpAddr::V6(ip)));
        }
    }
    Err(NotAnAddress)
}

fn canon(ip: IpAddr) -> Text {
    let text = match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => v6.to_string(),
        },
        IpAddr::V4(v4) => v4.to_string(),
    };
    Text::from(text.as_str())
}

/// `a.b.c.0/24` or the first four IPv6 groups and `::/64`, spelt as the
/// SQL spells them.
pub fn network_of(ip: &str) -> Option<String> {
    Network::of(ip).map(|n| n.to_string())
}

/// The /24 (IPv4) or /64 (IPv6) an address is in, as a small value: the
/// detections that compare networks record by record do so without
/// building the text of [`network_of`] each time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Network {
    V4([u8; 3]),
    V6([u16; 4]),
}

impl Network {
    /// An IPv4-mapped IPv6 address is in its IPv4 network (record
    /// addresses are already canonical; text from elsewhere may not be).
    pub fn of(ip: &str) -> Option<Network> {
        let v4 = |o: [u8; 4]| Network::V4([o[0], o[1], o[2]]);
        Some(match ip.parse::<IpAddr>().ok()? {
            IpAddr::V4(a) => v4(a.octets()),
            IpAddr::V6(a) => match a.to_ipv4_mapped() {
                Some(m) => v4(m.octets()),
                None => {
                    let g = a.segments();
                    Network::V6([g[0], g[1], g[2], g[3]])
                }
            },
        })
    }
}

impl std::fmt::Display for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Network::V4(o) => write!(f, "{}.{}.{}.0/24", o[0], o[1], o[2]),
            Network::V6(g) => write!(f, "{:x}:{:x}:{:x}:{:x}::/64", g[0], g[1], g[2], g[3]),
        }
    }
}

#[cfg(test)]
mod address_parsing_tests {
    use super::*;
    #[test]
    fn networks_are_values_with_the_text_of_network_of() {
        assert_eq!(
            Network::of("198.51.100.7"),
            Some(Network::V4([198, 51, 100]))
        );
        assert_eq!(
            Network::of("::ffff:198.51.100.7"),
            Network::of("198.51.100.9")
        );
        assert_eq!(
            network_of("198.51.100.7").as_deref(),
            Some("198.51.100.0/24")
        );
        assert_eq!(
            network_of("2001:db8:a:b::1").as_deref(),
            Some("2001:db8:a:b::/64")
        );
        assert_eq!(Network::of("not an address"), None);
    }

    #[test]
    fn ips_are_canonical() {
        assert_eq!(canonical_ip(" 192.0.2.40:30129 "), "192.0.2.40");
        assert_eq!(canonical_ip("[2001:DB8:0::1]:443"), "2001:db8::1");
        assert_eq!(
            canonical_ip("2001:0db8:0000:0000:0000:0000:0000:0001"),
            "2001:db8::1"
        );
        assert_eq!(canonical_ip("::ffff:198.51.100.7"), "198.51.100.7");
        assert_eq!(canonical_ip("not-an-ip"), "not-an-ip");
        assert_eq!(parse_ip(" <IP ADDRESS> "), Err(NotAnAddress));
        assert_eq!(parse_ip("host.example:443"), Err(NotAnAddress));
        assert_eq!(parse_ip("  ").unwrap(), "");
        assert_eq!(parse_ip("[2001:DB8::1]:443").unwrap(), "2001:db8::1");
    }
}
