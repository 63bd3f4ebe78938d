//! Address ranges recognised without any database: special-purpose
//! blocks (private, loopback, documentation, CGNAT...) and a compiled-in
//! list of well-known Microsoft prefixes.

use crate::model::net::{Cidr, CidrTable};
use serde::Serialize;
use std::net::IpAddr;
use std::sync::OnceLock;

/// What kind of range an address falls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RangeClass {
    Unspecified,
    Loopback,
    Private,
    UniqueLocal,
    SharedCgnat,
    LinkLocal,
    Documentation,
    Benchmarking,
    Multicast,
    Broadcast,
    /// Reserved, deprecated or protocol-assignment blocks.
    Reserved,
    /// Translation and tunnelling prefixes that embed another address.
    Translation,
    Microsoft,
}

impl RangeClass {
    pub fn as_str(self) -> &'static str {
        match self {
            RangeClass::Unspecified => "unspecified",
            RangeClass::Loopback => "loopback",
            RangeClass::Private => "private",
            RangeClass::UniqueLocal => "unique_local",
            RangeClass::SharedCgnat => "shared_cgnat",
            RangeClass::LinkLocal => "link_local",
            RangeClass::Documentation => "documentation",
            RangeClass::Benchmarking => "benchmarking",
            RangeClass::Multicast => "multicast",
            RangeClass::Broadcast => "broadcast",
            RangeClass::Reserved => "reserved",
            RangeClass::Translation => "translation",
            RangeClass::Microsoft => "microsoft",
        }
    }
}

/// The range an address was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RangeLabel {
    pub class: RangeClass,
    pub prefix: &'static str,
    pub what: &'static str,
}

use RangeClass as C;

/// IANA's IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and
/// the RFCs each entry names), plus multicast (RFC 5771, RFC 4291).
const SPECIAL: &[(&str, RangeClass, &str)] = &[
    ("0.0.0.0/8", C::Reserved, "\"this network\" (RFC 791)"),
    ("10.0.0.0/8", C::Private, "private network (RFC 1918)"),
    (
        "100.64.0.0/10",
        C::SharedCgnat,
        "shared address space for carrier-grade NAT (RFC 6598)",
    ),
    ("127.0.0.0/8", C::Loopback, "loopback (RFC 1122)"),
    ("169.254.0.0/16", C::LinkLocal, "link-local (RFC 3927)"),
    ("172.16.0.0/12", C::Private, "private network (RFC 1918)"),
    (
        "192.0.0.0/24",
        C::Reserved,
        "IETF protocol assignments (RFC 6890)",
    ),
    (
        "192.0.2.0/24",
        C::Documentation,
        "documentation TEST-NET-1 (RFC 5737)",
    ),
    (
        "192.88.99.0/24",
        C::Reserved,
        "former 6to4 relay anycast (RFC 7526)",
    ),
    ("192.168.0.0/16", C::Private, "private network (RFC 1918)"),
    (
        "198.18.0.0/15",
        C::Benchmarking,
        "network benchmarking (RFC 2544)",
    ),
    (
        "198.51.100.0/24",
        C::Documentation,
        "documentation TEST-NET-2 (RFC 5737)",
    ),
    (
        "203.0.113.0/24",
        C::Documentation,
        "documentation TEST-NET-3 (RFC 5737)",
    ),
    ("224.0.0.0/4", C::Multicast, "multicast (RFC 5771)"),
    (
        "240.0.0.0/4",
        C::Reserved,
        "reserved for future use (RFC 1112)",
    ),
    (
        "255.255.255.255/32",
        C::Broadcast,
        "limited broadcast (RFC 919)",
    ),
    ("::/128", C::Unspecified, "unspecified address (RFC 4291)"),
    ("::1/128", C::Loopback, "loopback (RFC 4291)"),
    (
        "64:ff9b::/96",
        C::Translation,
        "NAT64 well-known prefix (RFC 6052)",
    ),
    (
        "64:ff9b:1::/48",
        C::Translation,
        "local-use NAT64 (RFC 8215)",
    ),
    ("100::/64", C::Reserved, "discard-only (RFC 6666)"),
    ("2001::/32", C::Translation, "Teredo tunnelling (RFC 4380)"),
    (
        "2001:2::/48",
        C::Benchmarking,
        "network benchmarking (RFC 5180)",
    ),
    ("2001:10::/28", C::Reserved, "deprecated ORCHID (RFC 4843)"),
    ("2001:20::/28", C::Reserved, "ORCHIDv2 (RFC 7343)"),
    (
        "2001:db8::/32",
        C::Documentation,
        "documentation (RFC 3849)",
    ),
    ("2002::/16", C::Translation, "6to4 (RFC 3056)"),
    ("3fff::/20", C::Documentation, "documentation (RFC 9637)"),
    (
        "fc00::/7",
        C::UniqueLocal,
        "unique local address (RFC 4193)",
    ),
    ("fe80::/10", C::LinkLocal, "link-local (RFC 4291)"),
    ("ff00::/8", C::Multicast, "multicast (RFC 4291)"),
];

/// Well-known Microsoft prefixes. PARTIAL by design: Microsoft announces
/// far more address space than this, and it changes. The service entries
/// are from Microsoft's published "Microsoft 365 URLs and IP address
/// ranges" list (Exchange Online, SharePoint and Microsoft Entra ID
/// endpoint sets); the wider blocks are registered to Microsoft Corporation
/// at ARIN (whois). For complete coverage pass an ASN database: Microsoft
/// originates its space from AS8075, which labels those addresses too.
const MICROSOFT: &[(&str, &str)] = &[
    ("20.20.32.0/19", "Microsoft Entra ID endpoints"),
    ("20.190.128.0/18", "Microsoft Entra ID endpoints"),
    ("20.231.128.0/19", "Microsoft Entra ID endpoints"),
    ("40.126.0.0/18", "Microsoft Entra ID endpoints"),
    ("13.107.6.152/31", "Exchange Online endpoints"),
    ("13.107.18.10/31", "Exchange Online endpoints"),
    ("13.107.128.0/22", "Exchange Online endpoints"),
    ("23.103.160.0/20", "Exchange Online endpoints"),
    ("40.92.0.0/15", "Exchange Online Protection endpoints"),
    ("40.96.0.0/13", "Exchange Online endpoints"),
    ("40.104.0.0/15", "Exchange Online endpoints"),
    ("40.107.0.0/16", "Exchange Online Protection endpoints"),
    ("52.96.0.0/14", "Exchange Online endpoints"),
    ("52.100.0.0/14", "Exchange Online Protection endpoints"),
    ("104.47.0.0/17", "Exchange Online Protection endpoints"),
    ("132.245.0.0/16", "Exchange Online endpoints"),
    ("150.171.32.0/22", "Exchange Online endpoints"),
    ("13.107.136.0/22", "SharePoint Online endpoints"),
    ("40.108.128.0/17", "SharePoint Online endpoints"),
    ("52.104.0.0/14", "SharePoint Online endpoints"),
    ("104.146.128.0/17", "SharePoint Online endpoints"),
    ("150.171.40.0/22", "SharePoint Online endpoints"),
    ("13.64.0.0/11", "Microsoft-registered block (Azure)"),
    ("23.96.0.0/13", "Microsoft-registered block (Azure)"),
    (
        "40.64.0.0/10",
        "Microsoft-registered block (Azure and Microsoft 365)",
    ),
    ("65.52.0.0/14", "Microsoft-registered block"),
    ("104.40.0.0/13", "Microsoft-registered block (Azure)"),
    ("157.54.0.0/15", "Microsoft-registered block"),
    ("157.56.0.0/14", "Microsoft-registered block"),
    ("207.46.0.0/16", "Microsoft-registered block"),
    (
        "2603:1000::/24",
        "Microsoft-registered block (Azure and Microsoft 365)",
    ),
];

/// Microsoft's main autonomous system.
pub const MICROSOFT_ASN: i64 = 8075;

/// Both tables parsed once. An entry that does not parse is a programming
/// error caught by the tests; at run time it is skipped, never a panic.
fn table() -> &'static CidrTable<RangeLabel> {
    static TABLE: OnceLock<CidrTable<RangeLabel>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let special = SPECIAL
            .iter()
            .map(|&(prefix, class, what)| (prefix, class, what));
        let microsoft = MICROSOFT
            .iter()
            .map(|&(prefix, what)| (prefix, RangeClass::Microsoft, what));
        let mut table = CidrTable::default();
        for (prefix, class, what) in special.chain(microsoft) {
            if let Ok(net) = Cidr::parse(prefix) {
                table.insert(
                    net,
                    RangeLabel {
                        class,
                        prefix,
                        what,
                    },
                );
            }
        }
        table
    })
}

/// The most specific recognised range holding `ip`, if any. An
/// IPv4-mapped IPv6 address is judged as the IPv4 address it carries (the
/// rule in `model::net`).
pub fn label(ip: IpAddr) -> Option<RangeLabel> {
    table().lookup(ip).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(s: &str) -> Option<RangeClass> {
        label(s.parse().expect("test address")).map(|l| l.class)
    }

    #[test]
    fn every_table_entry_parses_once_and_has_no_host_bits() {
        let prefixes = SPECIAL
            .iter()
            .map(|e| e.0)
            .chain(MICROSOFT.iter().map(|e| e.0));
        for prefix in prefixes {
            // Canonical text round-trips only without host bits.
            let net = Cidr::parse(prefix).expect(prefix);
            assert_eq!(net.to_string(), prefix, "{prefix} has host bits set");
        }
        // No network twice: the table keeps one value per network.
        assert_eq!(table().len(), SPECIAL.len() + MICROSOFT.len());
    }

    #[test]
    fn special_purpose_addresses_are_recognised() {
        for (ip, want) in [
            ("10.1.2.3", C::Private),
            ("172.31.255.254", C::Private),
            ("192.168.0.10", C::Private),
            ("100.64.0.1", C::SharedCgnat),
            ("100.127.255.255", C::SharedCgnat),
            ("127.0.0.1", C::Loopback),
            ("169.254.169.254", C::LinkLocal),
            ("192.0.2.15", C::Documentation),
            ("198.51.100.1", C::Documentation),
            ("203.0.113.140", C::Documentation),
            ("198.19.7.7", C::Benchmarking),
            ("224.0.0.251", C::Multicast),
            ("255.255.255.255", C::Broadcast),
            ("250.1.1.1", C::Reserved),
            ("0.1.2.3", C::Reserved),
            ("::", C::Unspecified),
            ("::1", C::Loopback),
            ("fd12:3456::1", C::UniqueLocal),
            ("fe80::1", C::LinkLocal),
            ("ff02::1", C::Multicast),
            ("2001:db8:1::7", C::Documentation),
            ("3fff::1", C::Documentation),
            ("2001:2::9", C::Benchmarking),
            ("64:ff9b::192.0.2.1", C::Translation),
            ("2001:0:1::1", C::Translation),
        ] {
            assert_eq!(class(ip), Some(want), "{ip}");
        }
        // IPv4-mapped IPv6 is judged as the IPv4 address it carries.
        assert_eq!(class("::ffff:10.0.0.1"), Some(C::Private));
    }

    #[test]
    fn public_neighbours_of_special_ranges_are_not_labelled() {
        for ip in [
            "8.8.8.8",
            "11.0.0.1",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.3.1",
            "198.17.255.255",
            "198.20.0.0",
            "203.0.114.1",
            "223.255.255.255",
            "2001:db9::1",
            "2a00:1450::1",
        ] {
            assert_eq!(class(ip), None, "{ip}");
        }
    }

    #[test]
    fn microsoft_service_prefixes_win_over_wider_blocks() {
        let l = label("40.126.32.10".parse().unwrap()).unwrap();
        assert_eq!((l.class, l.prefix), (C::Microsoft, "40.126.0.0/18"));
        assert!(l.what.contains("Entra ID"));
        let l = label("40.70.1.1".parse().unwrap()).unwrap();
        assert_eq!(l.prefix, "40.64.0.0/10");
        assert_eq!(class("20.190.160.1"), Some(C::Microsoft));
        assert_eq!(class("2603:1036:3000::5"), Some(C::Microsoft));
        assert_eq!(class("20.189.255.255"), None);
    }
}
