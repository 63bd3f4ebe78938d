//! Where a sign-in came from, and whether another sign-in came from the
//! same place: the familiarity test of the detections that ask "does this
//! account sign in from here?" (a right password stopped by CA or MFA, a
//! device-code sign-in, a session used from a second network).

pub(crate) use crate::model::net::network_of;
use crate::model::SignIn;

/// The network a sign-in came from, as coarse as the record allows: its
/// ASN (`AS8075`), else its /24 or /64. How the session and workload
/// detections tell "another network".
pub(crate) fn network_key(r: &SignIn) -> Option<String> {
    match r.asn {
        Some(a) => Some(format!("AS{a}")),
        None => network_of(&r.ip),
    }
}

/// Where a sign-in came from, in the four ways an account is familiar
/// with a place.
pub(crate) struct Place<'a> {
    ip: &'a str,
    /// /24 for IPv4, /64 for IPv6.
    network: Option<String>,
    asn: Option<i64>,
    country: &'a str,
    device: &'a str,
}

impl<'a> Place<'a> {
    pub(crate) fn of(r: &'a SignIn) -> Self {
        Place {
            ip: r.ip.as_str(),
            network: network_of(&r.ip),
            asn: r.asn,
            country: r.country.as_str(),
            device: r.device_id.as_str(),
        }
    }

    /// Whether `s` came from this place by address, network, ASN and
    /// country, or device.
    pub(crate) fn same(&self, s: &SignIn) -> bool {
        (!self.ip.is_empty() && s.ip == self.ip)
            || self
                .network
                .as_deref()
                .is_some_and(|n| network_of(&s.ip).as_deref() == Some(n))
            || (self.asn.is_some() && s.asn == self.asn && s.country == self.country)
            || (!self.device.is_empty() && s.device_id == self.device)
    }

    pub(crate) fn label(&self) -> String {
        self.network.clone().unwrap_or_else(|| self.ip.to_string())
    }
}
