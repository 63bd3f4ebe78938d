//! The owner's usual places: where an account had signed in successfully
//! so far. A success from one of them is the owner, not an attacker, even
//! in the middle of an attack; the success-after-failures detection and
//! the account verdicts judge by the same rule.

use std::collections::HashSet;

use crate::model::{FastHash, SignIn, Text};

/// Addresses, devices and networks (AS number with country) of an
/// account's successes.
#[derive(Debug, Default)]
pub struct Usual {
    ips: HashSet<Text, FastHash>,
    devices: HashSet<Text, FastHash>,
    networks: HashSet<(i64, Text), FastHash>,
    /// The place last learnt: an account's successes mostly repeat it, and
    /// comparing four fields is cheaper than three set insertions.
    last: Option<Spot>,
}

/// Address, device, AS number and country of one success.
type Spot = (Text, Text, Option<i64>, Text);

impl Usual {
    /// Learns the place of a success.
    pub fn add(&mut self, r: &SignIn) {
        let place = (r.ip, r.device_id, r.asn, r.country);
        if self.last == Some(place) {
            return;
        }
        self.last = Some(place);
        if !r.ip.is_empty() {
            self.ips.insert(r.ip);
        }
        if !r.device_id.is_empty() {
            self.devices.insert(r.device_id);
        }
        if let Some(asn) = r.asn {
            self.networks.insert((asn, r.country));
        }
    }

    /// Nothing is known yet: "not a usual place" then says nothing.
    pub fn is_empty(&self) -> bool {
        self.ips.is_empty() && self.devices.is_empty() && self.networks.is_empty()
    }

    pub fn has_ip(&self, ip: &str) -> bool {
        self.ips.contains(&Text::from(ip))
    }

    /// The very address or device the owner used.
    pub fn owns(&self, r: &SignIn) -> bool {
        self.ips.contains(&r.ip) || (!r.device_id.is_empty() && self.devices.contains(&r.device_id))
    }

    /// The owner's address or device, or a network in a country the owner
    /// used.
    pub fn fits(&self, r: &SignIn) -> bool {
        self.owns(r)
            || r.asn
                .is_some_and(|asn| self.networks.contains(&(asn, r.country)))
    }
}
