//! Attacks that never fail a password: a session replayed after an
//! adversary-in-the-middle sign-in, device-code phishing that ends in a
//! registered device, a spray slowed to one attempt per account per
//! day, and a service principal's secret used from abroad. Each comes with its look-alike (a meeting-room account that uses
//! device code at the office every day), and like the footholds they need
//! a baseline, so they are planted only when the data covers at least
//! three days.

use super::super::catalog::{self as cat, reason};
use super::super::events::{user_event, with_mfa, workload_event, Actor, Device, Shape};
use super::super::tenant::Workload;
use super::super::timefmt::{US_PER_DAY, US_PER_HOUR, US_PER_MIN, US_PER_SEC};
use super::footholds::{in_office, office_net, MIN_DAYS};
use super::{attempt, net, Attempt, Planter, Story};
use crate::model::SignInType;

impl Planter<'_> {
    pub(super) fn tokens(&mut self) {
        if self.days < MIN_DAYS {
            return;
        }
        self.token_replay();
        self.device_code_phishing();
        self.low_and_slow_spray();
        self.workload_new_network();
    }

    /// The backup job's client secret, leaked, used from Moscow: three
    /// token requests on day five from a network the job never ran in.
    fn workload_new_network(&mut self) {
        let Some(sp) = self.service_principals.first() else {
            return;
        };
        let mut s = Story::new("workload_new_network");
        let attacker = net("192.0.2.242", cat::MOSCOW, cat::ASN_ROSTELECOM);
        let stolen = Workload {
            net: Some(attacker.clone()),
            ..sp.clone()
        };
        let mut t = self.day(5) + 2 * US_PER_HOUR + self.rng.range(0, 30 * US_PER_MIN);
        for _ in 0..3 {
            s.events.push(workload_event(
                self.rng,
                t,
                0,
                &stolen,
                SignInType::ServicePrincipal,
            ));
            t += self.rng.range(3, 15) * US_PER_MIN + self.jitter();
        }
        s.ips.push(attacker.ip.clone());
        let d = format!(
            "the service principal {} signs in from Moscow ({}), where it never ran, with its own secret",
            sp.name, attacker.ip
        );
        s.finish(d, &mut self.out);
    }

    /// The victim signs in at the office through a phishing proxy; eight
    /// minutes later the same session refreshes tokens from a rented
    /// server in Amsterdam, with another browser.
    fn token_replay(&mut self) {
        let users = self.users;
        let Some(v) = self.take_where(in_office) else {
            return;
        };
        let user = &users[v];
        let Some(office) = office_net(user) else {
            return;
        };
        let mut s = Story::new("token_replay");
        let t0 = self.day(2) + 9 * US_PER_HOUR + self.rng.range(0, 30 * US_PER_MIN);
        // The day before at the office: the baseline.
        if let Some(e) = self.office_success(v, t0 - 22 * US_PER_HOUR) {
            self.out.events.push(e);
        }
        let session = self.rng.guid();
        let correlation = self.rng.guid();
        let shape = Shape {
            kind: SignInType::Interactive,
            actor: Actor::from(user),
            net: &office,
            client: user.laptop,
            client_app: cat::CLIENT_BROWSER,
            app: cat::OFFICE_HOME,
            resource: cat::OFFICE_HOME,
            device: Device::UNKNOWN,
            session: &session,
        };
        let mut e = user_event(self.rng, t0, 0, &correlation, &shape);
        with_mfa(&mut e, user.mfa_method, reason::MFA_DONE);
        e.authentication_requirement = "multiFactorAuthentication".into();
        s.events.push(e);
        let attacker = net("192.0.2.236", cat::AMSTERDAM, cat::ASN_DIGITALOCEAN);
        let mut t = t0 + 8 * US_PER_MIN + self.jitter();
        for (app, resource) in [
            (cat::OUTLOOK_WEB, cat::RES_EXCHANGE),
            (cat::MS_OFFICE, cat::RES_GRAPH),
            (cat::MS_OFFICE, cat::RES_SHAREPOINT),
        ] {
            let correlation = self.rng.guid();
            let shape = Shape {
                kind: SignInType::NonInteractive,
                actor: Actor::from(user),
                net: &attacker,
                client: cat::LINUX_FIREFOX,
                client_app: cat::CLIENT_BROWSER,
                app,
                resource,
                device: Device::UNKNOWN,
                session: &session,
            };
            let mut e = user_event(self.rng, t, 0, &correlation, &shape);
            with_mfa(&mut e, "Previously satisfied", reason::MFA_BY_CLAIM);
            s.events.push(e);
            t += self.rng.range(5, 20) * US_PER_MIN + self.jitter();
        }
        self.quiet(v, t0, t);
        s.ips.push(attacker.ip.clone());
        s.users.push(user.upn.clone());
        let d = format!(
            "{}'s session from the office is replayed 8 minutes later from DigitalOcean in Amsterdam ({}) with another browser",
            user.upn, attacker.ip
        );
        s.finish(d, &mut self.out);
    }

    /// Storm-2372's 2025 pattern: a device code for the Authentication
    /// Broker entered by the victim, a device registered with the token,
    /// then sign-ins with the new device's primary refresh token. And the
    /// look-alike, a meeting-room account that signs in by device code
    /// from its office every day.
    fn device_code_phishing(&mut self) {
        let users = self.users;
        let Some(v) = self.take_where(in_office) else {
            return;
        };
        let user = &users[v];
        let mut s = Story::new("device_code_phishing");
        let t0 = self.day(4) + 15 * US_PER_HOUR + self.rng.range(0, 30 * US_PER_MIN);
        if let Some(e) = self.office_success(v, t0 - 21 * US_PER_HOUR) {
            self.out.events.push(e);
        }
        let attacker = net("192.0.2.238", cat::FRANKFURT, cat::ASN_HETZNER);
        let steps = [
            (SignInType::Interactive, cat::AUTH_BROKER, cat::RES_GRAPH, 0),
            (
                SignInType::NonInteractive,
                cat::AUTH_BROKER,
                cat::RES_DEVICE_REGISTRATION,
                6,
            ),
            (
                SignInType::Interactive,
                cat::OFFICE_HOME,
                cat::OFFICE_HOME,
                31,
            ),
        ];
        let new_device = self.rng.guid();
        for (k, (kind, app, resource, minutes)) in steps.into_iter().enumerate() {
            let session = self.rng.guid();
            let correlation = self.rng.guid();
            let device = if k == 2 {
                Device {
                    id: &new_device,
                    compliant: Some(false),
                    managed: Some(false),
                }
            } else {
                Device::UNKNOWN
            };
            let shape = Shape {
                kind,
                actor: Actor::from(user),
                net: &attacker,
                client: cat::WIN_CHROME,
                client_app: cat::CLIENT_MOBILE_DESKTOP,
                app,
                resource,
                device,
                session: &session,
            };
            let t = t0 + minutes * US_PER_MIN + self.jitter();
            let mut e = user_event(self.rng, t, 0, &correlation, &shape);
            match k {
                0 => {
                    e.auth_protocol = "deviceCode".into();
                    e.transfer_method = "deviceCodeFlow".into();
                    with_mfa(&mut e, user.mfa_method, reason::MFA_DONE);
                    e.authentication_requirement = "multiFactorAuthentication".into();
                }
                1 => with_mfa(&mut e, "Previously satisfied", reason::MFA_BY_CLAIM),
                _ => {
                    e.incoming_token = "primaryRefreshToken".into();
                    with_mfa(&mut e, "Previously satisfied", reason::MFA_BY_CLAIM);
                }
            }
            s.events.push(e);
        }
        self.quiet(v, t0, t0 + US_PER_HOUR);
        s.ips.push(attacker.ip.clone());
        s.users.push(user.upn.clone());
        let d = format!(
            "{} enters an attacker's device code for the Microsoft Authentication Broker; from Hetzner ({}) a device is registered and its primary refresh token used",
            user.upn, attacker.ip
        );
        s.finish(d, &mut self.out);

        // The meeting room: device code from its office every morning.
        let Some(r) = self.take_where(in_office) else {
            return;
        };
        let room = &users[r];
        let Some(office) = office_net(room) else {
            return;
        };
        for day in 0..self.days {
            let t =
                self.start_us + day * US_PER_DAY + 7 * US_PER_HOUR + self.rng.range(0, US_PER_HOUR);
            let a = Attempt {
                net: &office,
                client: cat::WIN_TEAMS,
                client_app: cat::CLIENT_MOBILE_DESKTOP,
                app: cat::TEAMS,
                resource: cat::RES_TEAMS,
            };
            let mut e = attempt(self.rng, t, 0, Actor::from(room), &a);
            e.auth_protocol = "deviceCode".into();
            e.transfer_method = "deviceCodeFlow".into();
            self.out.events.push(e);
        }
    }

    /// CovertNetwork-1658 style: sixteen accounts, one password a day
    /// each for four days, every attempt from another home router in
    /// three countries, all with the same outdated Chrome.
    fn low_and_slow_spray(&mut self) {
        let users = self.users;
        let targets = self.take(16);
        if targets.len() < 12 {
            return;
        }
        let mut s = Story::new("low_and_slow_spray");
        let homes = [
            (cat::HANOI, cat::ASN_VIETTEL),
            (cat::SAO_PAULO, cat::ASN_CLARO_BR),
            (cat::BEIJING, cat::ASN_CHINANET),
        ];
        for k in 0..4i64 {
            let day_start = self.start_us + (1 + k * (self.days - 1) / 4) * US_PER_DAY;
            for (j, &u) in targets.iter().enumerate() {
                let (place, asn) = homes[j % homes.len()];
                let ip = format!("2001:db8:5107:{:x}::{:x}", j + 1, k + 1);
                let router = net(&ip, place, asn);
                let a = Attempt {
                    net: &router,
                    client: cat::STALE_CHROME,
                    client_app: cat::CLIENT_BROWSER,
                    app: cat::OFFICE_HOME,
                    resource: cat::OFFICE_HOME,
                };
                let t = day_start
                    + j as i64 * 55 * US_PER_MIN
                    + self.rng.range(0, 20 * US_PER_MIN)
                    + self.rng.range(0, US_PER_SEC);
                s.events
                    .push(attempt(self.rng, t, 50126, Actor::from(&users[u]), &a));
                s.ips.push(ip);
            }
        }
        s.users
            .extend(targets.iter().map(|&u| users[u].upn.clone()));
        let d = format!(
            "{} accounts get one wrong password a day for four days, each attempt from another home router (Viettel, Claro, China Telecom), all with Chrome 103",
            targets.len()
        );
        s.finish(d, &mut self.out);
    }
}
