//! Footholds that no failure count shows: an attack tool that announces
//! itself, a success from a hosting network, and a right password stopped
//! only by Conditional Access and MFA. Each comes with the benign sign-ins
//! that look like it (a company VPN at a hosting provider, a block at the
//! office egress, an MFA prompt the owner completes), which must stay
//! quiet. All of them need a baseline before them, so they are planted
//! only when the data covers at least three days.

use super::super::catalog::{self as cat, reason};
use super::super::events::{user_event, with_mfa, Actor, Device, Shape};
use super::super::tenant::{Net, User, OFFICES};
use super::super::timefmt::{US_PER_DAY, US_PER_HOUR, US_PER_MIN, US_PER_SEC};
use super::{attempt, net, Attempt, Planter, Story};
use crate::model::{SignIn, SignInType};

/// Shortest data span these scenarios are planted in.
pub(super) const MIN_DAYS: i64 = 3;

/// The office egress a user works from, if they work in an office.
pub(super) fn office_net(u: &User) -> Option<Net> {
    OFFICES.iter().find(|o| o.place == u.office).map(|o| Net {
        ip: o.egress[0].to_string(),
        place: o.place,
        asn: o.asn,
    })
}

pub(super) fn in_office(u: &User) -> bool {
    !u.remote && !u.guest && office_net(u).is_some()
}

impl Planter<'_> {
    /// Start of day `k` of a seven-day week stretched over the data, never
    /// the first day (which is the baseline).
    pub(super) fn day(&self, k: i64) -> i64 {
        self.start_us + (k * self.days / 7).max(1) * US_PER_DAY
    }

    /// A clean interactive success of `u` on its own laptop at the
    /// office, so the account has a baseline before a scenario.
    pub(super) fn office_success(&mut self, u: usize, t: i64) -> Option<SignIn> {
        let users = self.users;
        let user = &users[u];
        let office = office_net(user)?;
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
            device: Device {
                id: &user.laptop_device,
                compliant: Some(user.laptop_managed),
                managed: Some(user.laptop_managed),
            },
            session: &session,
        };
        let mut e = user_event(self.rng, t, 0, &correlation, &shape);
        with_mfa(&mut e, "Previously satisfied", reason::MFA_BY_CLAIM);
        Some(e)
    }

    pub(super) fn footholds(&mut self) {
        if self.days < MIN_DAYS {
            return;
        }
        self.suspicious_user_agent();
        self.hosting_provider_sign_in();
        self.password_known();
    }

    /// fasthttp, as in the January 2025 campaign: a few passwords tried
    /// from Brazil over "Other clients", one of them right.
    fn suspicious_user_agent(&mut self) {
        let users = self.users;
        let targets = self.take(4);
        if targets.is_empty() {
            return;
        }
        let mut s = Story::new("suspicious_user_agent");
        let ip = net("192.0.2.240", cat::SAO_PAULO, cat::ASN_CLARO_BR);
        let a = Attempt {
            net: &ip,
            client: cat::FASTHTTP,
            client_app: cat::CLIENT_OTHER,
            app: cat::OFFICE_HOME,
            resource: cat::OFFICE_HOME,
        };
        let mut t = self.day(4) + 3 * US_PER_HOUR + self.rng.range(0, 30 * US_PER_MIN);
        let last = targets.len() - 1;
        for (k, &u) in targets.iter().enumerate() {
            let actor = Actor::from(&users[u]);
            s.events.push(attempt(self.rng, t, 50126, actor, &a));
            t += self.rng.range(40, 90) * US_PER_SEC + self.jitter();
            let code = if k == last { 0 } else { 50126 };
            s.events.push(attempt(self.rng, t, code, actor, &a));
            if code == 0 {
                self.quiet(u, t, t);
            }
            t += self.rng.range(2, 5) * US_PER_MIN + self.jitter();
            s.users.push(users[u].upn.clone());
        }
        s.ips.push(ip.ip.clone());
        let d = format!(
            "{} tries {} accounts with the fasthttp client over Other clients and gets into {}",
            ip.ip,
            targets.len(),
            users[targets[last]].upn
        );
        s.finish(d, &mut self.out);
    }

    /// A stolen password used from a rented server; and the look-alike,
    /// an account that always works through its company VPN at M247.
    fn hosting_provider_sign_in(&mut self) {
        let users = self.users;
        let Some(v) = self.take_one() else {
            return;
        };
        let mut s = Story::new("hosting_provider_sign_in");
        let ip = net("192.0.2.245", cat::PARIS, cat::ASN_OVH);
        let a = Attempt {
            net: &ip,
            client: cat::LINUX_FIREFOX,
            client_app: cat::CLIENT_BROWSER,
            app: cat::OFFICE_HOME,
            resource: cat::OFFICE_HOME,
        };
        let mut t = self.day(5) + 12 * US_PER_HOUR + self.rng.range(0, 30 * US_PER_MIN);
        let first = t;
        for _ in 0..2 {
            let mut e = attempt(self.rng, t, 0, Actor::from(&users[v]), &a);
            with_mfa(&mut e, "Previously satisfied", reason::MFA_BY_CLAIM);
            s.events.push(e);
            t += self.rng.range(8, 20) * US_PER_MIN + self.jitter();
        }
        self.quiet(v, first, t);
        s.ips.push(ip.ip.clone());
        s.users.push(users[v].upn.clone());
        let d = format!(
            "{} signs in from OVH ({}, AS16276), a network it had not used in the days before",
            users[v].upn, ip.ip
        );
        s.finish(d, &mut self.out);

        // The company VPN: every day from the first hour, in the user's
        // own city, so it is part of the account's baseline.
        let Some(w) = self.take_one() else {
            return;
        };
        let vpn = net("192.0.2.250", users[w].office, cat::ASN_M247);
        let a = Attempt {
            net: &vpn,
            client: users[w].laptop,
            client_app: cat::CLIENT_BROWSER,
            app: cat::OFFICE_HOME,
            resource: cat::OFFICE_HOME,
        };
        for day in 0..self.days {
            let t =
                self.start_us + day * US_PER_DAY + 2 * US_PER_HOUR + self.rng.range(0, US_PER_HOUR);
            let mut e = attempt(self.rng, t, 0, Actor::from(&users[w]), &a);
            with_mfa(&mut e, "Previously satisfied", reason::MFA_BY_CLAIM);
            self.out.events.push(e);
        }
    }

    /// Someone with the right password from Bucharest, stopped by a
    /// device policy and then by MFA they cannot answer; and the
    /// look-alikes, a block at the office egress and an MFA prompt
    /// completed on a hotel network.
    fn password_known(&mut self) {
        let users = self.users;
        let Some(v) = self.take_where(in_office) else {
            return;
        };
        let mut s = Story::new("password_known");
        let t0 = self.day(3) + 20 * US_PER_HOUR + self.rng.range(0, 30 * US_PER_MIN);
        // The owner at the office the day before: the baseline.
        if let Some(e) = self.office_success(v, t0 - 20 * US_PER_HOUR) {
            self.out.events.push(e);
        }
        let first = net("192.0.2.230", cat::BUCHAREST, cat::ASN_RCS_RDS);
        let second = net("192.0.2.231", cat::BUCHAREST, cat::ASN_RCS_RDS);
        let mut t = t0;
        for (place, code) in [(&first, 53003), (&second, 50074), (&second, 500121)] {
            let a = Attempt {
                net: place,
                client: cat::WIN_CHROME,
                client_app: cat::CLIENT_BROWSER,
                app: cat::OFFICE_HOME,
                resource: cat::OFFICE_HOME,
            };
            let mut e = attempt(self.rng, t, code, Actor::from(&users[v]), &a);
            match code {
                53003 => e.conditional_access_status = "failure".into(),
                50074 => {
                    e.authentication_requirement = "multiFactorAuthentication".into();
                    e.mfa_result = reason::MFA_REQUIRED_STEP.into();
                }
                _ => {
                    e.authentication_requirement = "multiFactorAuthentication".into();
                    e.mfa_method = users[v].mfa_method.into();
                    e.mfa_result = reason::MFA_DENIED.into();
                    e.additional_details = reason::MFA_DENIED.into();
                }
            }
            s.events.push(e);
            t += self.rng.range(2, 6) * US_PER_MIN + self.jitter();
        }
        s.ips.extend([first.ip.clone(), second.ip.clone()]);
        s.users.push(users[v].upn.clone());
        let d = format!(
            "{}'s password is accepted from Bucharest ({} and {}), then Conditional Access (53003) and an unanswered MFA prompt (50074, 500121) stop it",
            users[v].upn, first.ip, second.ip
        );
        s.finish(d, &mut self.out);

        // A block at the office egress the owner signs in from.
        if let Some(o) = self.take_where(in_office) {
            let t = t0 + 2 * US_PER_HOUR;
            if let Some(e) = self.office_success(o, t - 22 * US_PER_HOUR) {
                self.out.events.push(e);
            }
            if let Some(office) = office_net(&users[o]) {
                let a = Attempt {
                    net: &office,
                    client: cat::MAC_SAFARI,
                    client_app: cat::CLIENT_BROWSER,
                    app: cat::OFFICE_HOME,
                    resource: cat::OFFICE_HOME,
                };
                let mut e = attempt(self.rng, t, 53003, Actor::from(&users[o]), &a);
                e.conditional_access_status = "failure".into();
                self.out.events.push(e);
            }
        }
        // A hotel network, where the owner answers the MFA prompt.
        if let Some(h) = self.take_where(in_office) {
            let t = t0 + 3 * US_PER_HOUR;
            if let Some(e) = self.office_success(h, t - 22 * US_PER_HOUR) {
                self.out.events.push(e);
            }
            let hotel = net("192.0.2.251", users[h].office, cat::ASN_COMCAST);
            let a = Attempt {
                net: &hotel,
                client: users[h].laptop,
                client_app: cat::CLIENT_BROWSER,
                app: cat::OFFICE_HOME,
                resource: cat::OFFICE_HOME,
            };
            let mut e = attempt(self.rng, t, 50074, Actor::from(&users[h]), &a);
            e.authentication_requirement = "multiFactorAuthentication".into();
            e.mfa_result = reason::MFA_REQUIRED_STEP.into();
            self.out.events.push(e);
            let t = t + self.rng.range(20, 50) * US_PER_SEC;
            let mut e = attempt(self.rng, t, 0, Actor::from(&users[h]), &a);
            with_mfa(&mut e, users[h].mfa_method, reason::MFA_DONE);
            self.out.events.push(e);
        }
    }
}
