//! Planted attacks, each recorded as a `Scenario` in the truth file.
//!
//! Every scenario has its own attacker addresses and victims, so a test
//! can match a finding to a scenario by kind and actor without ambiguity.
//! Victims whose attacker gets in from abroad are kept quiet in the
//! background for a day either side, otherwise their ordinary sign-ins
//! would turn every such success into an extra impossible-travel finding.

use std::collections::BTreeSet;

use crate::model::{SignIn, SignInType};

use super::catalog::{self as cat, reason, App, Client};
use super::events::{user_event, with_mfa, Actor, Device, Shape};
use super::rng::Rng;
use super::tenant::{Net, Tenant, User, Workload, DOMAIN};
use super::timefmt::{US_PER_DAY, US_PER_HOUR, US_PER_MIN, US_PER_SEC};
use super::Scenario;

mod footholds;
mod tokens;

/// A span of time in which one user's background sign-ins are dropped.
pub struct Quiet {
    pub upn: String,
    pub from_us: i64,
    pub to_us: i64,
}

pub struct Planted {
    pub events: Vec<SignIn>,
    pub scenarios: Vec<Scenario>,
    pub quiet: Vec<Quiet>,
}

const SLOTS: i64 = 11;
/// UTC hour each slot starts at; every scenario ends within four hours.
const SLOT_HOURS: [i64; SLOTS as usize] = [2, 14, 4, 19, 9, 6, 16, 11, 1, 13, 17];
const QUIET_MARGIN: i64 = 24 * US_PER_HOUR;

fn net(ip: &str, place: usize, asn: i64) -> Net {
    Net {
        ip: ip.to_string(),
        place,
        asn,
    }
}

/// Collects one scenario's events and actors.
struct Story {
    kind: &'static str,
    events: Vec<SignIn>,
    ips: Vec<String>,
    users: Vec<String>,
    /// Set when the story reuses another story's events.
    window: Option<(i64, i64)>,
}

impl Story {
    fn new(kind: &'static str) -> Self {
        Story {
            kind,
            events: Vec::new(),
            ips: Vec::new(),
            users: Vec::new(),
            window: None,
        }
    }

    fn finish(mut self, description: String, out: &mut Planted) {
        self.ips.sort();
        self.ips.dedup();
        self.users.sort();
        self.users.dedup();
        let (first_us, last_us) = self.window.unwrap_or_else(|| {
            let first = self.events.iter().map(|e| e.time_us).min().unwrap_or(0);
            let last = self.events.iter().map(|e| e.time_us).max().unwrap_or(0);
            (first, last)
        });
        out.scenarios.push(Scenario {
            kind: self.kind.to_string(),
            ips: self.ips,
            users: self.users,
            first_us,
            last_us,
            description,
        });
        out.events.extend(self.events);
    }
}

struct Attempt<'a> {
    net: &'a Net,
    client: Client,
    client_app: &'static str,
    app: App,
    resource: App,
}

fn attempt(rng: &mut Rng, t: i64, code: i64, actor: Actor<'_>, a: &Attempt<'_>) -> SignIn {
    let session = rng.guid();
    let correlation = rng.guid();
    let shape = Shape {
        kind: SignInType::Interactive,
        actor,
        net: a.net,
        client: a.client,
        client_app: a.client_app,
        app: a.app,
        resource: a.resource,
        device: Device::UNKNOWN,
        session: &session,
    };
    user_event(rng, t, code, &correlation, &shape)
}

pub fn plant(rng: &mut Rng, tenant: &Tenant, start_us: i64, days: u32) -> Planted {
    let mut victims: Vec<usize> = (0..tenant.users.len())
        .filter(|&i| tenant.users[i].is_regular() && Some(i) != tenant.traveller)
        .collect();
    rng.shuffle(&mut victims);
    let mut p = Planter {
        rng,
        users: &tenant.users,
        service_principals: &tenant.service_principals,
        victims,
        out: Planted {
            events: Vec::new(),
            scenarios: Vec::new(),
            quiet: Vec::new(),
        },
        start_us,
        days: i64::from(days.max(1)),
    };
    p.password_spray();
    p.distributed_spray();
    p.brute_force();
    p.malicious_ip();
    p.risky_user();
    p.mfa_fatigue();
    p.impossible_travel();
    p.enumeration();
    p.disabled_account();
    p.legacy_auth();
    p.lockout();
    p.footholds();
    p.tokens();
    p.out
}

struct Planter<'a> {
    rng: &'a mut Rng,
    users: &'a [User],
    service_principals: &'a [Workload],
    /// Regular users not yet used by a scenario, in random order.
    victims: Vec<usize>,
    out: Planted,
    start_us: i64,
    days: i64,
}

impl Planter<'_> {
    /// Start of scenario slot `i`: slots are spread over the days, each at
    /// its own hour.
    fn slot(&mut self, i: i64) -> i64 {
        self.start_us
            + (i * self.days / SLOTS) * US_PER_DAY
            + SLOT_HOURS[i as usize] * US_PER_HOUR
            + self.rng.range(0, 40 * US_PER_MIN)
    }

    fn take(&mut self, n: usize) -> Vec<usize> {
        let k = n.min(self.victims.len());
        self.victims.drain(..k).collect()
    }

    fn take_one(&mut self) -> Option<usize> {
        self.take(1).first().copied()
    }

    /// The first victim matching `pred`, else the first one left.
    fn take_where(&mut self, pred: impl Fn(&User) -> bool) -> Option<usize> {
        if self.victims.is_empty() {
            return None;
        }
        let users = self.users;
        let pos = self
            .victims
            .iter()
            .position(|&u| pred(&users[u]))
            .unwrap_or(0);
        Some(self.victims.remove(pos))
    }

    fn jitter(&mut self) -> i64 {
        self.rng.range(0, US_PER_SEC)
    }

    /// Keeps `user`'s background away from a successful intrusion.
    fn quiet(&mut self, user: usize, from_us: i64, to_us: i64) {
        self.out.quiet.push(Quiet {
            upn: self.users[user].upn.clone(),
            from_us: from_us - QUIET_MARGIN,
            to_us: to_us + QUIET_MARGIN,
        });
    }

    /// One address, one or two passwords across thirty accounts.
    fn password_spray(&mut self) {
        let users = self.users;
        let mut s = Story::new("password_spray");
        let ip = net("192.0.2.45", cat::AMSTERDAM, cat::ASN_M247);
        let a = Attempt {
            net: &ip,
            client: cat::LINUX_CHROME_SPRAY,
            client_app: cat::CLIENT_BROWSER,
            app: cat::OFFICE_HOME,
            resource: cat::OFFICE_HOME,
        };
        let targets = self.take(30);
        let mut t = self.slot(0);
        for &u in &targets {
            s.events
                .push(attempt(self.rng, t, 50126, Actor::from(&users[u]), &a));
            t += self.rng.range(40, 60) * US_PER_SEC + self.jitter();
        }
        let mut second = targets.clone();
        self.rng.shuffle(&mut second);
        t += 2 * US_PER_MIN;
        for (k, &u) in second.iter().enumerate() {
            let code = if k % 6 == 5 { 50053 } else { 50126 };
            s.events
                .push(attempt(self.rng, t, code, Actor::from(&users[u]), &a));
            t += self.rng.range(40, 60) * US_PER_SEC + self.jitter();
        }
        s.ips.push(ip.ip.clone());
        s.users
            .extend(targets.iter().map(|&u| users[u].upn.clone()));
        let d = format!(
            "{} tries two passwords against {} accounts within an hour (50126, smart lockout 50053 on some)",
            ip.ip,
            targets.len()
        );
        s.finish(d, &mut self.out);
    }

    /// Rotating proxies, one shared user agent, 2-3 accounts each.
    fn distributed_spray(&mut self) {
        let users = self.users;
        let mut s = Story::new("distributed_spray");
        let targets = self.take(24);
        if targets.is_empty() {
            return;
        }
        let mut t0 = self.slot(1);
        let span = 12 * US_PER_MIN;
        let mut countries = BTreeSet::new();
        for k in 0..20usize {
            let place = cat::PROXY_PLACES[k % cat::PROXY_PLACES.len()];
            countries.insert(cat::PLACES[place].country);
            let ip = net(
                &format!("192.0.2.{}", 101 + k),
                place,
                cat::PROXY_ASNS[k % cat::PROXY_ASNS.len()],
            );
            let a = Attempt {
                net: &ip,
                client: cat::FIREFOX_115_WIN,
                client_app: cat::CLIENT_BROWSER,
                app: cat::OFFICE_HOME,
                resource: cat::OFFICE_HOME,
            };
            let mut picks = vec![
                targets[(2 * k) % targets.len()],
                targets[(2 * k + 1) % targets.len()],
            ];
            if k % 2 == 0 {
                picks.push(targets[(2 * k + 7) % targets.len()]);
            }
            for u in picks {
                let t = t0 + self.rng.range(0, span);
                s.events
                    .push(attempt(self.rng, t, 50126, Actor::from(&users[u]), &a));
                s.users.push(users[u].upn.clone());
            }
            s.ips.push(ip.ip);
            t0 += self.rng.range(0, 3) * US_PER_SEC;
        }
        let d = format!(
            "20 addresses in {} countries each try 2-3 of {} accounts within {} minutes, all with one Firefox 115 user agent",
            countries.len(),
            targets.len(),
            span / US_PER_MIN + 1
        );
        s.finish(d, &mut self.out);
    }

    /// Brute force on one account from three addresses, then in.
    fn brute_force(&mut self) {
        let users = self.users;
        let Some(b) = self.take_one() else {
            return;
        };
        let nets = [
            net("192.0.2.60", cat::FRANKFURT, cat::ASN_HETZNER),
            net("192.0.2.61", cat::FRANKFURT, cat::ASN_HETZNER),
            net("192.0.2.62", cat::FRANKFURT, cat::ASN_OVH),
        ];
        let mut s = Story::new("brute_force");
        let mut t = self.slot(2);
        for k in 0..45usize {
            let a = Attempt {
                net: &nets[k / 15],
                client: cat::LINUX_FIREFOX,
                client_app: cat::CLIENT_BROWSER,
                app: cat::OFFICE_HOME,
                resource: cat::OFFICE_HOME,
            };
            s.events
                .push(attempt(self.rng, t, 50126, Actor::from(&users[b]), &a));
            t += self.rng.range(15, 22) * US_PER_SEC + self.jitter();
        }
        t += 25 * US_PER_SEC;
        let a = Attempt {
            net: &nets[0],
            client: cat::LINUX_FIREFOX,
            client_app: cat::CLIENT_BROWSER,
            app: cat::OFFICE_HOME,
            resource: cat::OFFICE_HOME,
        };
        let success = attempt(self.rng, t, 0, Actor::from(&users[b]), &a);
        let success_time = success.time_us;
        s.events.push(success);
        s.ips.extend(nets.iter().map(|n| n.ip.clone()));
        s.users.push(users[b].upn.clone());
        let first = s.events[0].time_us;
        self.quiet(b, first, success_time);
        s.finish(
            format!(
                "45 wrong passwords for {} from 192.0.2.60-62 within 16 minutes, then a success from 192.0.2.60",
                users[b].upn
            ),
            &mut self.out,
        );
        // Shares the brute force's events, so it carries their window.
        let mut s = Story::new("success_after_failures");
        s.window = Some((first, success_time));
        s.ips.push(nets[0].ip.clone());
        s.users.push(users[b].upn.clone());
        s.finish(
            format!(
                "{} signs in from 192.0.2.60 right after the 45-failure brute force (same events as the brute_force scenario)",
                users[b].upn
            ),
            &mut self.out,
        );
    }

    /// Entra's own verdict on a hostile address.
    fn malicious_ip(&mut self) {
        let users = self.users;
        let mut s = Story::new("malicious_ip");
        let ip = net("192.0.2.66", cat::LAGOS, cat::ASN_MTN_NG);
        let a = Attempt {
            net: &ip,
            client: cat::PY_REQUESTS,
            client_app: cat::CLIENT_MOBILE_DESKTOP,
            app: cat::MS_OFFICE,
            resource: cat::RES_GRAPH,
        };
        // A slow botnet source: a dozen accounts over three hours, never
        // enough of them in half an hour to read as a spray, but a failure
        // record that stands out even where the reason text is lost (the
        // audit log keeps only "IdsLocked").
        let targets = self.take(12);
        let t0 = self.slot(3);
        for (k, &u) in targets.iter().enumerate() {
            let mut t = t0 + k as i64 * 15 * US_PER_MIN + self.rng.range(0, 5 * US_PER_MIN);
            for _ in 0..(2 + k % 2) {
                let mut e = attempt(self.rng, t, 50053, Actor::from(&users[u]), &a);
                e.failure_reason = reason::MALICIOUS_IP.into();
                s.events.push(e);
                t += self.rng.range(2, 6) * US_PER_MIN + self.jitter();
            }
            s.users.push(users[u].upn.clone());
        }
        s.ips.push(ip.ip.clone());
        let d = format!(
            "Entra refuses {} (malicious-activity 50053) for {} accounts over three hours",
            ip.ip,
            targets.len()
        );
        s.finish(d, &mut self.out);
    }

    /// Identity Protection blocks a user flagged high risk.
    fn risky_user(&mut self) {
        let users = self.users;
        let Some(r) = self.take_one() else {
            return;
        };
        let mut s = Story::new("risky_user");
        let ip = net("192.0.2.88", cat::BUCHAREST, cat::ASN_RCS_RDS);
        let a = Attempt {
            net: &ip,
            client: cat::WIN_CHROME,
            client_app: cat::CLIENT_BROWSER,
            app: cat::OFFICE_HOME,
            resource: cat::OFFICE_HOME,
        };
        let t0 = self.slot(4);
        for m in [0, 3, 9, 20] {
            let t = t0 + m * US_PER_MIN + self.rng.range(0, 40) * US_PER_SEC;
            let mut e = attempt(self.rng, t, 53011, Actor::from(&users[r]), &a);
            e.risk_level_during_sign_in = "high".into();
            e.risk_level_aggregated = "high".into();
            e.risk_state = "atRisk".into();
            e.risk_event_types = "unfamiliarFeatures,anonymizedIPAddress".into();
            e.conditional_access_status = "failure".into();
            s.events.push(e);
        }
        s.ips.push(ip.ip.clone());
        s.users.push(users[r].upn.clone());
        let d = format!(
            "{} is blocked as a high-risk user (53011, riskState atRisk) from {}",
            users[r].upn, ip.ip
        );
        s.finish(d, &mut self.out);
    }

    /// Push bombing until the user gives in.
    fn mfa_fatigue(&mut self) {
        let users = self.users;
        let Some(m) = self.take_where(|u| u.mfa_method == "Mobile app notification") else {
            return;
        };
        let mut s = Story::new("mfa_fatigue");
        let ip = net("192.0.2.93", cat::ASHBURN, cat::ASN_DIGITALOCEAN);
        let a = Attempt {
            net: &ip,
            client: cat::WIN_EDGE,
            client_app: cat::CLIENT_BROWSER,
            app: cat::OFFICE_HOME,
            resource: cat::OFFICE_HOME,
        };
        let method = "Mobile app notification";
        let mut t = self.slot(5);
        let mut e = attempt(self.rng, t, 50074, Actor::from(&users[m]), &a);
        e.authentication_requirement = "multiFactorAuthentication".into();
        e.mfa_result = reason::MFA_REQUIRED_STEP.into();
        s.events.push(e);
        t += 30 * US_PER_SEC;
        for _ in 0..12 {
            let mut e = attempt(self.rng, t, 500121, Actor::from(&users[m]), &a);
            e.authentication_requirement = "multiFactorAuthentication".into();
            e.mfa_method = method.into();
            e.mfa_result = reason::MFA_DENIED.into();
            e.additional_details = reason::MFA_DENIED.into();
            e.conditional_access_status = "failure".into();
            s.events.push(e);
            t += self.rng.range(30, 45) * US_PER_SEC + self.jitter();
        }
        t += 20 * US_PER_SEC;
        let mut e = attempt(self.rng, t, 0, Actor::from(&users[m]), &a);
        with_mfa(&mut e, method, reason::MFA_DONE);
        s.events.push(e);
        s.ips.push(ip.ip.clone());
        s.users.push(users[m].upn.clone());
        self.quiet(m, s.events[0].time_us, t);
        let d = format!(
            "{} denies 12 push prompts from {} within 8 minutes (500121), then approves one",
            users[m].upn, ip.ip
        );
        s.finish(d, &mut self.out);
    }

    /// The same account succeeds in Seattle and Moscow 30 minutes apart.
    fn impossible_travel(&mut self) {
        let users = self.users;
        let Some(tu) = self
            .take_where(|u| u.office == cat::SEATTLE && !u.remote && u.home.ip.starts_with("198."))
        else {
            return;
        };
        let user = &users[tu];
        let mut s = Story::new("impossible_travel");
        let t0 = self.slot(6);
        let home = user.home.clone();
        let device = Device {
            id: &user.laptop_device,
            compliant: Some(user.laptop_managed),
            managed: Some(user.laptop_managed),
        };
        let session = self.rng.guid();
        let correlation = self.rng.guid();
        let shape = Shape {
            kind: SignInType::Interactive,
            actor: Actor::from(user),
            net: &home,
            client: user.laptop,
            client_app: cat::CLIENT_BROWSER,
            app: cat::OUTLOOK_WEB,
            resource: cat::RES_EXCHANGE,
            device,
            session: &session,
        };
        let mut e = user_event(self.rng, t0, 0, &correlation, &shape);
        with_mfa(&mut e, "Previously satisfied", reason::MFA_BY_CLAIM);
        s.events.push(e);
        let moscow = net("192.0.2.77", cat::MOSCOW, cat::ASN_ROSTELECOM);
        let a = Attempt {
            net: &moscow,
            client: cat::WIN_CHROME,
            client_app: cat::CLIENT_BROWSER,
            app: cat::OFFICE_HOME,
            resource: cat::OFFICE_HOME,
        };
        let t1 = t0 + 30 * US_PER_MIN + self.rng.range(0, 60) * US_PER_SEC;
        let mut e = attempt(self.rng, t1, 0, Actor::from(user), &a);
        with_mfa(&mut e, user.mfa_method, reason::MFA_DONE);
        s.events.push(e);
        s.ips.push(moscow.ip.clone());
        s.users.push(user.upn.clone());
        self.quiet(tu, t0, t1);
        let d = format!(
            "{} signs in from home in {} and from Moscow ({}) 30 minutes later (~8,400 km)",
            user.upn,
            cat::PLACES[home.place].city,
            moscow.ip
        );
        s.finish(d, &mut self.out);
    }

    /// Guessing which accounts exist.
    fn enumeration(&mut self) {
        let mut s = Story::new("enumeration");
        let ip = net("192.0.2.99", cat::HANOI, cat::ASN_VIETTEL);
        let a = Attempt {
            net: &ip,
            client: cat::AXIOS,
            client_app: cat::CLIENT_MOBILE_DESKTOP,
            app: cat::MS_OFFICE,
            resource: cat::RES_GRAPH,
        };
        let names: Vec<String> = cat::GUESSED_NAMES
            .iter()
            .take(25)
            .map(|n| format!("{n}@{DOMAIN}"))
            .collect();
        let mut t = self.slot(7);
        for (k, name) in names.iter().enumerate() {
            let actor = Actor {
                upn: name,
                id: "",
                display: "",
            };
            s.events.push(attempt(self.rng, t, 50034, actor, &a));
            if k % 9 == 4 {
                t += self.rng.range(2, 6) * US_PER_SEC;
                s.events.push(attempt(self.rng, t, 50034, actor, &a));
            }
            t += self.rng.range(25, 45) * US_PER_SEC + self.jitter();
        }
        s.ips.push(ip.ip.clone());
        s.users.extend(names.iter().cloned());
        let d = format!(
            "{} probes {} names that do not exist (50034)",
            ip.ip,
            names.len()
        );
        s.finish(d, &mut self.out);
    }

    /// Leaver accounts tried across apps from an address that also signs a
    /// valid user in.
    fn disabled_account(&mut self) {
        let users = self.users;
        let disabled: Vec<usize> = (0..users.len())
            .filter(|&i| users[i].disabled)
            .take(3)
            .collect();
        if disabled.is_empty() {
            return;
        }
        let Some(ok) = self.take_one() else {
            return;
        };
        let mut s = Story::new("disabled_account");
        let ip = net("192.0.2.150", cat::SAO_PAULO, cat::ASN_CLARO_BR);
        let apps = [
            (cat::OFFICE_HOME, cat::OFFICE_HOME),
            (cat::OUTLOOK_WEB, cat::RES_EXCHANGE),
            (cat::TEAMS, cat::RES_TEAMS),
        ];
        let t0 = self.slot(8);
        for (k, &d) in disabled.iter().enumerate() {
            for (j, (app, resource)) in apps.into_iter().enumerate() {
                let a = Attempt {
                    net: &ip,
                    client: cat::WIN_CHROME,
                    client_app: cat::CLIENT_BROWSER,
                    app,
                    resource,
                };
                let t = t0
                    + (k as i64 * 9 + j as i64 * 3) * US_PER_MIN
                    + self.rng.range(0, 90) * US_PER_SEC;
                s.events
                    .push(attempt(self.rng, t, 50057, Actor::from(&users[d]), &a));
            }
            s.users.push(users[d].upn.clone());
        }
        let a = Attempt {
            net: &ip,
            client: cat::WIN_CHROME,
            client_app: cat::CLIENT_BROWSER,
            app: cat::OFFICE_HOME,
            resource: cat::OFFICE_HOME,
        };
        let t = t0 + 35 * US_PER_MIN + self.rng.range(0, 60) * US_PER_SEC;
        s.events
            .push(attempt(self.rng, t, 0, Actor::from(&users[ok]), &a));
        s.users.push(users[ok].upn.clone());
        s.ips.push(ip.ip.clone());
        self.quiet(ok, t, t);
        let d = format!(
            "{} tries {} disabled accounts in three apps each (50057) and signs {} in",
            ip.ip,
            disabled.len(),
            users[ok].upn
        );
        s.finish(d, &mut self.out);
    }

    /// Basic authentication with stolen passwords.
    fn legacy_auth(&mut self) {
        let users = self.users;
        let mut s = Story::new("legacy_auth");
        let ip = net("192.0.2.170", cat::SINGAPORE, cat::ASN_DIGITALOCEAN);
        let targets = self.take(4);
        let t0 = self.slot(9);
        let kinds: [(Client, &'static str, usize); 4] = [
            (cat::NO_UA, cat::CLIENT_IMAP, 3),
            (cat::NO_UA, cat::CLIENT_SMTP, 3),
            (cat::BAV2ROPC, cat::CLIENT_OTHER, 2),
            (cat::EAS_IPHONE, cat::CLIENT_EAS, 2),
        ];
        for (k, &u) in targets.iter().enumerate() {
            let (client, client_app, n) = kinds[k % kinds.len()];
            let a = Attempt {
                net: &ip,
                client,
                client_app,
                app: cat::EXCHANGE_APP,
                resource: cat::RES_EXCHANGE,
            };
            let mut t = t0 + k as i64 * 11 * US_PER_MIN;
            let first = t;
            if client_app == cat::CLIENT_SMTP {
                s.events
                    .push(attempt(self.rng, t, 50126, Actor::from(&users[u]), &a));
                t += self.rng.range(20, 60) * US_PER_SEC;
            }
            for _ in 0..n {
                s.events
                    .push(attempt(self.rng, t, 0, Actor::from(&users[u]), &a));
                t += self.rng.range(3, 8) * US_PER_MIN + self.jitter();
            }
            self.quiet(u, first, t);
            s.users.push(users[u].upn.clone());
        }
        s.ips.push(ip.ip.clone());
        let d = format!(
            "{} signs {} accounts in over IMAP4, Authenticated SMTP, BAV2ROPC and Exchange ActiveSync with single-factor passwords",
            ip.ip,
            targets.len()
        );
        s.finish(d, &mut self.out);
    }

    /// One account locked out again and again.
    fn lockout(&mut self) {
        let users = self.users;
        let Some(k) = self.take_one() else {
            return;
        };
        let mut s = Story::new("lockout");
        let ip = net("192.0.2.180", cat::BEIJING, cat::ASN_CHINANET);
        let a = Attempt {
            net: &ip,
            client: cat::WIN_CHROME,
            client_app: cat::CLIENT_BROWSER,
            app: cat::OFFICE_HOME,
            resource: cat::OFFICE_HOME,
        };
        let t0 = self.slot(10);
        for episode in 0..3 {
            let mut t = t0 + episode * 45 * US_PER_MIN;
            for _ in 0..8 {
                s.events
                    .push(attempt(self.rng, t, 50126, Actor::from(&users[k]), &a));
                t += self.rng.range(60, 70) * US_PER_SEC + self.jitter();
            }
            for _ in 0..6 {
                s.events
                    .push(attempt(self.rng, t, 50053, Actor::from(&users[k]), &a));
                t += self.rng.range(50, 70) * US_PER_SEC + self.jitter();
            }
        }
        s.ips.push(ip.ip.clone());
        s.users.push(users[k].upn.clone());
        let d = format!(
            "{} is locked out three times in two hours from {} (18 smart-lockout 50053 after 24 wrong passwords)",
            users[k].upn, ip.ip
        );
        s.finish(d, &mut self.out);
    }
}
