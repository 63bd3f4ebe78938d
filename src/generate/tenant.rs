//! The synthetic Contoso tenant: users with their offices, homes and
//! devices, the shared office egress addresses, and the workload
//! identities (service principals and managed identities).

use std::collections::BTreeSet;

use super::catalog::{self as cat, App, Client};
use super::rng::{guid_for, Rng};

pub const DOMAIN: &str = "contoso.com";
pub const TENANT_NAME: &str = "Contoso";

/// A source address with what Entra knows about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Net {
    pub ip: String,
    pub place: usize,
    pub asn: i64,
}

/// Office egress addresses, shared by everyone working there.
pub struct Office {
    pub place: usize,
    pub network_name: &'static str,
    pub egress: &'static [&'static str],
    pub asn: i64,
}

pub static OFFICES: &[Office] = &[
    Office {
        place: cat::SEATTLE,
        network_name: "Contoso HQ",
        egress: &["203.0.113.10", "203.0.113.11"],
        asn: cat::ASN_LUMEN,
    },
    Office {
        place: cat::CHICAGO,
        network_name: "Contoso Chicago",
        egress: &["203.0.113.40"],
        asn: cat::ASN_ATT,
    },
    Office {
        place: cat::LONDON,
        network_name: "Contoso London",
        egress: &["203.0.113.70"],
        asn: cat::ASN_BT,
    },
];

/// The named network an address belongs to (for `networkLocationDetails`).
pub fn office_network(ip: &str) -> Option<&'static str> {
    OFFICES
        .iter()
        .find(|o| o.egress.contains(&ip))
        .map(|o| o.network_name)
}

#[derive(Debug, Clone)]
pub struct User {
    pub upn: String,
    pub id: String,
    pub display: String,
    /// Office place (or home place for remote staff and guests).
    pub office: usize,
    pub remote: bool,
    pub guest: bool,
    pub disabled: bool,
    pub admin: bool,
    pub home: Net,
    /// Dual-stack homes also sign in over IPv6.
    pub home_v6: Option<String>,
    pub laptop: Client,
    pub laptop_device: String,
    pub laptop_managed: bool,
    pub phone: Client,
    pub phone_device: String,
    pub mfa_method: &'static str,
}

impl User {
    /// Staff who can be picked as attack targets.
    pub fn is_regular(&self) -> bool {
        !self.guest && !self.disabled
    }
}

/// A service principal or managed identity.
#[derive(Debug, Clone)]
pub struct Workload {
    pub name: &'static str,
    pub app_id: String,
    pub resource: App,
    pub net: Option<Net>,
    /// Runs per day relative to the others.
    pub weight: u32,
}

pub struct Tenant {
    pub users: Vec<User>,
    pub service_principals: Vec<Workload>,
    pub managed_identities: Vec<Workload>,
    /// Index of the benign business traveller (Seattle → London).
    pub traveller: Option<usize>,
    used_ips: BTreeSet<String>,
}

pub fn tenant_id(seed: u64) -> String {
    guid_for(&format!("contoso-tenant-{seed}"))
}

const GUEST_DOMAINS: &[(&str, usize)] = &[
    ("fabrikam.com", cat::TORONTO),
    ("northwindtraders.com", cat::DALLAS),
    ("adatum.com", cat::TORONTO),
];

const MFA_METHODS: &[(&str, u32)] = &[
    ("Mobile app notification", 70),
    ("Text message", 15),
    ("OATH verification code", 10),
    ("Phone call", 5),
];

impl Tenant {
    pub fn build(rng: &mut Rng, user_count: usize) -> Tenant {
        let mut t = Tenant {
            users: Vec::with_capacity(user_count),
            service_principals: Vec::new(),
            managed_identities: Vec::new(),
            traveller: None,
            used_ips: BTreeSet::new(),
        };
        let mut names = BTreeSet::new();
        let staff = user_count.saturating_sub(GUEST_DOMAINS.len());
        for i in 0..staff {
            let (first, last) = loop {
                let f = *rng.pick(cat::FIRST_NAMES);
                let l = *rng.pick(cat::LAST_NAMES);
                if names.insert((f.1, l.1)) {
                    break (f, l);
                }
            };
            let remote = i % 31 == 7;
            let office = if remote {
                cat::MUNICH
            } else {
                match rng.below(100) {
                    0..=59 => cat::SEATTLE,
                    60..=84 => cat::CHICAGO,
                    _ => cat::LONDON,
                }
            };
            let upn = format!("{}.{}@{}", first.1, last.1, DOMAIN);
            let display = format!("{} {}", first.0, last.0);
            // Former employees: still in the directory, never sign in.
            let disabled = i % 41 == 13;
            let user = t.new_user(rng, upn, display, office, remote, false, disabled);
            t.users.push(user);
        }
        for (domain, place) in GUEST_DOMAINS {
            let (first, last) = loop {
                let f = *rng.pick(cat::FIRST_NAMES);
                let l = *rng.pick(cat::LAST_NAMES);
                if names.insert((f.1, l.1)) {
                    break (f, l);
                }
            };
            let upn = format!("{}.{}@{}", first.1, last.1, domain);
            let display = format!(
                "{} {} ({})",
                first.0,
                last.0,
                domain.split('.').next().unwrap_or(domain)
            );
            let user = t.new_user(rng, upn, display, *place, true, true, false);
            t.users.push(user);
        }
        t.traveller = t
            .users
            .iter()
            .position(|u| u.office == cat::SEATTLE && u.is_regular() && !u.remote && !u.admin);
        t.build_workloads(rng);
        t
    }

    #[allow(clippy::too_many_arguments)]
    fn new_user(
        &mut self,
        rng: &mut Rng,
        upn: String,
        display: String,
        office: usize,
        remote: bool,
        guest: bool,
        disabled: bool,
    ) -> User {
        let metro = cat::metro(office);
        let home_place = *rng.pick(metro);
        let asn = home_asn(home_place);
        let home_ip = self.fresh_v4(rng, 18);
        let home_v6 = if rng.chance(0.3) {
            Some(self.fresh_v6(rng))
        } else {
            None
        };
        let laptop = match rng.below(10) {
            0..=5 => cat::WIN_EDGE,
            6..=7 => cat::WIN_CHROME,
            8 => cat::MAC_SAFARI,
            _ => cat::MAC_CHROME,
        };
        let phone = if rng.chance(0.6) {
            cat::IOS_OUTLOOK
        } else {
            cat::ANDROID_TEAMS
        };
        let mut w = rng.below(100) as u32;
        let mut mfa_method = MFA_METHODS[0].0;
        for (m, weight) in MFA_METHODS {
            if w < *weight {
                mfa_method = m;
                break;
            }
            w -= weight;
        }
        User {
            upn,
            id: rng.guid(),
            display,
            office,
            remote,
            guest,
            disabled,
            admin: !guest && rng.chance(0.08),
            home: Net {
                ip: home_ip,
                place: home_place,
                asn,
            },
            home_v6,
            laptop,
            laptop_device: if guest { String::new() } else { rng.guid() },
            laptop_managed: !guest && laptop.os == "Windows10",
            phone,
            // About four phones in ten are not registered in Entra, and
            // their sign-ins carry no device id, as real tenants' personal
            // phones do. Decided by the id drawn anyway, so every other
            // random choice of the data stays as it was.
            phone_device: Some(rng.guid())
                .filter(|g| !g.starts_with(['0', '1', '2', '3', '4', '5']))
                .unwrap_or_default(),
            mfa_method,
        }
    }

    /// A not-yet-used IPv4 address in 198.18.0.0/15 (`second` = 18 or 19).
    pub fn fresh_v4(&mut self, rng: &mut Rng, second: u8) -> String {
        loop {
            let ip = format!("198.{}.{}.{}", second, rng.range(1, 255), rng.range(1, 255));
            if self.used_ips.insert(ip.clone()) {
                return ip;
            }
        }
    }

    /// A not-yet-used IPv6 address in 2001:db8::/32, canonical text form.
    pub fn fresh_v6(&mut self, rng: &mut Rng) -> String {
        loop {
            let ip = format!(
                "2001:db8:{:x}:{:x}::{:x}",
                rng.range(1, 0x10000),
                rng.range(1, 0x10000),
                rng.range(1, 0x10000)
            );
            if self.used_ips.insert(ip.clone()) {
                return ip;
            }
        }
    }

    /// A phone's carrier address for one day, geolocated somewhere in the
    /// owner's metro area.
    pub fn mobile_net(&mut self, rng: &mut Rng, user: usize) -> Net {
        let office = self.users[user].office;
        let place = *rng.pick(cat::metro(office));
        let asn = match cat::PLACES[place].country {
            "GB" => cat::ASN_VODAFONE_UK,
            "DE" => cat::ASN_TELEKOM,
            "CA" => cat::ASN_ROGERS,
            _ => {
                if rng.chance(0.5) {
                    cat::ASN_TMOBILE
                } else {
                    cat::ASN_VERIZON_WIRELESS
                }
            }
        };
        Net {
            ip: self.fresh_v4(rng, 19),
            place,
            asn,
        }
    }

    fn build_workloads(&mut self, rng: &mut Rng) {
        let sps: [(&'static str, App, usize, &str, u32); 5] = [
            (
                "contoso-backup-sync",
                cat::RES_GRAPH,
                cat::BOYDTON,
                "198.51.100.130",
                4,
            ),
            (
                "HR-Workday-Connector",
                cat::RES_GRAPH,
                cat::QUINCY,
                "198.51.100.131",
                2,
            ),
            (
                "Terraform-Deploy",
                cat::RES_AZURE_MGMT,
                cat::BOYDTON,
                "198.51.100.132",
                1,
            ),
            (
                "contoso-crm-integration",
                cat::RES_SHAREPOINT,
                cat::QUINCY,
                "198.51.100.133",
                3,
            ),
            (
                "MDE-Inventory-Sync",
                cat::RES_GRAPH,
                cat::BOYDTON,
                "198.51.100.134",
                2,
            ),
        ];
        for (name, resource, place, ip, weight) in sps {
            self.service_principals.push(Workload {
                name,
                app_id: rng.guid(),
                resource,
                net: Some(Net {
                    ip: ip.to_string(),
                    place,
                    asn: cat::ASN_MICROSOFT,
                }),
                weight,
            });
        }
        let msis: [(&'static str, App, u32); 4] = [
            ("func-contoso-invoices", cat::RES_KEY_VAULT, 3),
            ("vm-build-agent-01", cat::RES_STORAGE, 2),
            ("id-contoso-aks-workload", cat::RES_GRAPH, 3),
            ("logic-contoso-approvals", cat::RES_AZURE_MGMT, 1),
        ];
        for (name, resource, weight) in msis {
            self.managed_identities.push(Workload {
                name,
                app_id: rng.guid(),
                resource,
                net: None,
                weight,
            });
        }
    }
}

fn home_asn(place: usize) -> i64 {
    match cat::PLACES[place].country {
        "GB" => cat::ASN_BT,
        "DE" => cat::ASN_TELEKOM,
        "CA" => cat::ASN_ROGERS,
        _ => cat::ASN_COMCAST,
    }
}
