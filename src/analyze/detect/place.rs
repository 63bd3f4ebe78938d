//! Where a sign-in came from, and whether another sign-in came from the
//! same place: the familiarity test of the detections that ask "does this
//! account sign in from here?" (a right password stopped by CA or MFA, a
//! device-code sign-in, a session used from a second network).

use super::util::Fast;
use crate::model::net::Network;
use crate::model::{SignIn, Text};
use std::collections::HashMap;

/// The network a sign-in came from, as coarse as the record allows: its
/// ASN, else its /24 or /64. How the session and workload detections tell
/// "another network". A value, so a walk over a session compares networks
/// without spelling them; [`network_key`] gives the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum NetworkKey {
    Asn(i64),
    Network(Network),
}

impl NetworkKey {
    pub(crate) fn of(r: &SignIn) -> Option<NetworkKey> {
        match r.asn {
            Some(a) => Some(NetworkKey::Asn(a)),
            None => Network::of(&r.ip).map(NetworkKey::Network),
        }
    }
}

/// Every key a sign-in's network is known by: its ASN and its /24 or /64,
/// those the record has. Two sign-ins share a network when they share any
/// of them: the same address logged once with its ASN and once without is
/// one network, not two.
///
/// Each address is parsed once per walk: a run meets the same addresses
/// over and over, and looking up an interned address costs less than
/// parsing it again.
#[derive(Default)]
pub(crate) struct NetworkKeys {
    parsed: HashMap<Text, Option<Network>, Fast>,
}

impl NetworkKeys {
    pub(crate) fn all(&mut self, r: &SignIn) -> impl Iterator<Item = NetworkKey> + Clone {
        let asn = r.asn.map(NetworkKey::Asn);
        let net = *self
            .parsed
            .entry(r.ip)
            .or_insert_with(|| Network::of(&r.ip));
        asn.into_iter().chain(net.map(NetworkKey::Network))
    }
}

impl std::fmt::Display for NetworkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NetworkKey::Asn(a) => write!(f, "AS{a}"),
            NetworkKey::Network(n) => n.fmt(f),
        }
    }
}

/// [`NetworkKey`] as text: `AS8075`, `203.0.113.0/24`.
pub(crate) fn network_key(r: &SignIn) -> Option<String> {
    NetworkKey::of(r).map(|k| k.to_string())
}

/// Where a sign-in came from, in the four ways an account is familiar
/// with a place.
pub(crate) struct Place<'a> {
    ip: &'a str,
    /// /24 for IPv4, /64 for IPv6.
    network: Option<Network>,
    asn: Option<i64>,
    country: &'a str,
    device: &'a str,
}

impl<'a> Place<'a> {
    pub(crate) fn of(r: &'a SignIn) -> Self {
        Place {
            ip: r.ip.as_str(),
            network: Network::of(&r.ip),
            asn: r.asn,
            country: r.country.as_str(),
            device: r.device_id.as_str(),
        }
    }

    /// Whether `s` came from this place by address, network, ASN and
    /// country, or device.
    pub(crate) fn same(&self, s: &SignIn) -> bool {
        (!self.ip.is_empty() && s.ip == self.ip)
            || (self.asn.is_some() && s.asn == self.asn && s.country == self.country)
            || (!self.device.is_empty() && s.device_id == self.device)
            || self.network.is_some_and(|n| Network::of(&s.ip) == Some(n))
    }

    /// The network (or address) findings group by; empty when the
    /// sign-in carries no address.
    pub(crate) fn label(&self) -> String {
        match self.network {
            Some(n) => n.to_string(),
            None => self.ip.to_string(),
        }
    }
}
