//! Ordinary tenant traffic: what a clean week of Contoso sign-ins looks
//! like.
//!
//! Noise that detections must tolerate is bounded per user-day, not per
//! record, so a bigger `records` adds token refreshes (as in real tenants,
//! where non-interactive sign-ins dominate) without ever adding enough
//! failures to look like an attack: single typos followed by a success,
//! MFA and "stay signed in" interrupts, the odd Conditional Access block,
//! token-lifetime refusals, one expired client secret.

use crate::model::{SignIn, SignInType};

use super::catalog::{self as cat, reason, App, Client};
use super::events::{user_event, with_mfa, workload_event, Actor, Device, Shape};
use super::rng::Rng;
use super::tenant::{Net, Tenant, OFFICES};
use super::timefmt::{weekday, US_PER_DAY, US_PER_HOUR, US_PER_MIN, US_PER_SEC};

/// Share of the record budget for each log.
const INTERACTIVE_SHARE: f64 = 0.35;
const SP_SHARE: f64 = 0.03;
const MSI_SHARE: f64 = 0.02;
/// Interactive events a session produces on average (interrupts included).
const EVENTS_PER_SESSION: f64 = 1.6;

pub struct Window {
    pub start_us: i64,
    pub days: u32,
}

impl Window {
    pub fn end_us(&self) -> i64 {
        self.start_us + i64::from(self.days) * US_PER_DAY
    }

    fn contains(&self, t: i64) -> bool {
        t >= self.start_us && t < self.end_us()
    }
}

/// The day's context for one user.
struct Day {
    user: usize,
    t0: i64,
    len: i64,
    net: Net,
    mobile: Option<Net>,
    at_office: bool,
    session: String,
    phone_session: String,
}

pub fn generate(rng: &mut Rng, tenant: &mut Tenant, records: usize, w: &Window) -> Vec<SignIn> {
    let active: Vec<usize> = (0..tenant.users.len())
        .filter(|&i| !tenant.users[i].disabled)
        .collect();
    let workdays = (0..w.days)
        .filter(|d| weekday(w.start_us + i64::from(*d) * US_PER_DAY) < 5)
        .count() as f64;
    let weekend = f64::from(w.days) - workdays;
    let user_days = (active.len() as f64 * (workdays * 0.95 + weekend * 0.25)).max(1.0);
    let budget = records as f64;
    let sessions_per_day =
        (budget * INTERACTIVE_SHARE / (user_days * EVENTS_PER_SESSION)).clamp(0.4, 3.0);
    let interactive_estimate = user_days * sessions_per_day * EVENTS_PER_SESSION;
    let sp_total = ((budget * SP_SHARE) as usize).max(30);
    let msi_total = ((budget * MSI_SHARE) as usize).max(20);
    let ni_per_day = ((budget - interactive_estimate - (sp_total + msi_total) as f64).max(0.0)
        / user_days)
        .max(0.5);

    let mut out = Vec::with_capacity(records + records / 8);
    let traveller = tenant.traveller;
    let travel_day = if w.days >= 4 { Some(w.days / 2) } else { None };
    for d in 0..w.days {
        let day_start = w.start_us + i64::from(d) * US_PER_DAY;
        let workday = weekday(day_start) < 5;
        for &u in &active {
            let mut abroad = false;
            if let (Some(tr), Some(td)) = (traveller, travel_day) {
                if tr == u && d == td {
                    // In the air: no sign-ins on the flight day.
                    continue;
                }
                abroad = tr == u && d > td;
            }
            if !rng.chance(if workday { 0.95 } else { 0.25 }) {
                continue;
            }
            let day = plan_day(rng, tenant, u, day_start, workday, abroad);
            sessions(rng, tenant, &day, sessions_per_day, w, &mut out);
            refreshes(rng, tenant, &day, ni_per_day, w, &mut out);
        }
    }
    workloads(rng, tenant, sp_total, msi_total, w, &mut out);
    out
}

fn plan_day(
    rng: &mut Rng,
    tenant: &mut Tenant,
    u: usize,
    day_start: i64,
    workday: bool,
    abroad: bool,
) -> Day {
    let (remote, guest, office_place, home, home_v6) = {
        let user = &tenant.users[u];
        (
            user.remote,
            user.guest,
            user.office,
            user.home.clone(),
            user.home_v6.clone(),
        )
    };
    let (place, net, at_office) = if abroad {
        // The traveller works from a London hotel for the rest of the week.
        let hotel = Net {
            ip: "198.51.100.88".to_string(),
            place: cat::LONDON,
            asn: cat::ASN_BT,
        };
        (cat::LONDON, hotel, false)
    } else if workday && !remote && !guest && rng.chance(0.65) {
        let office = OFFICES
            .iter()
            .find(|o| o.place == office_place)
            .unwrap_or(&OFFICES[0]);
        let ip = *rng.pick(office.egress);
        (
            office.place,
            Net {
                ip: ip.to_string(),
                place: office.place,
                asn: office.asn,
            },
            true,
        )
    } else {
        let mut home = home;
        if let Some(v6) = home_v6 {
            if rng.chance(0.5) {
                home.ip = v6;
            }
        }
        (home.place, home, false)
    };
    let offset = cat::PLACES[place].utc_offset;
    let (first_hour, len_hours) = if workday { (7.0, 8.0) } else { (9.0, 1.0) };
    let local_start = first_hour + rng.unit() * 3.0;
    let t0 = day_start + ((local_start - offset as f64) * US_PER_HOUR as f64) as i64;
    let len = ((len_hours + rng.unit() * 2.0) * US_PER_HOUR as f64) as i64;
    let mobile = if !abroad && rng.chance(0.45) {
        Some(tenant.mobile_net(rng, u))
    } else {
        None
    };
    Day {
        user: u,
        t0,
        len,
        net,
        mobile,
        at_office,
        session: rng.guid(),
        phone_session: rng.guid(),
    }
}

fn count(rng: &mut Rng, mean: f64) -> usize {
    let whole = mean.floor();
    whole as usize + usize::from(rng.chance(mean - whole))
}

/// Interactive sign-in flows: each session may start with an account
/// picker or a typo, may need MFA or be blocked by CA, and ends in success.
fn sessions(
    rng: &mut Rng,
    tenant: &Tenant,
    day: &Day,
    per_day: f64,
    w: &Window,
    out: &mut Vec<SignIn>,
) {
    let user = &tenant.users[day.user];
    let n = count(rng, per_day).max(1);
    let mut mfa_done_today = false;
    for _ in 0..n {
        let mut t = day.t0 + rng.range(0, day.len);
        let (net, client, client_app, app, resource, device, session) =
            pick_surface(rng, tenant, day, true);
        let correlation = rng.guid();
        let shape = Shape {
            kind: SignInType::Interactive,
            actor: Actor::from(user),
            net: &net,
            client,
            client_app,
            app,
            resource,
            device,
            session,
        };
        let push = |e: SignIn, out: &mut Vec<SignIn>| {
            if w.contains(e.time_us) {
                out.push(e);
            }
        };
        if rng.chance(0.03) {
            push(user_event(rng, t, 16000, &correlation, &shape), out);
            t += rng.range(3, 12) * US_PER_SEC + rng.range(0, US_PER_SEC);
        }
        if rng.chance(0.025) {
            push(user_event(rng, t, 50126, &correlation, &shape), out);
            t += rng.range(8, 45) * US_PER_SEC + rng.range(0, US_PER_SEC);
        }
        let away = !day.at_office;
        if away && client_app == cat::CLIENT_BROWSER && !user.guest && rng.chance(0.012) {
            // Unmanaged browser outside the office hitting a device policy.
            let mut e = user_event(rng, t, 53003, &correlation, &shape);
            e.conditional_access_status = "failure".into();
            push(e, out);
            continue;
        }
        let needs_mfa = away && (!mfa_done_today || rng.chance(0.2));
        if needs_mfa {
            let mut e = user_event(rng, t, 50074, &correlation, &shape);
            e.authentication_requirement = "multiFactorAuthentication".into();
            e.mfa_result = reason::MFA_REQUIRED_STEP.into();
            push(e, out);
            t += rng.range(15, 70) * US_PER_SEC + rng.range(0, US_PER_SEC);
        }
        if client_app == cat::CLIENT_BROWSER && rng.chance(0.25) {
            let mut e = user_event(rng, t, 50140, &correlation, &shape);
            if needs_mfa {
                with_mfa(&mut e, user.mfa_method, reason::MFA_DONE);
            }
            push(e, out);
            t += rng.range(3, 15) * US_PER_SEC + rng.range(0, US_PER_SEC);
        }
        let mut e = user_event(rng, t, 0, &correlation, &shape);
        if needs_mfa {
            with_mfa(&mut e, user.mfa_method, reason::MFA_DONE);
            mfa_done_today = true;
        } else if away || rng.chance(0.3) {
            with_mfa(&mut e, "Previously satisfied", reason::MFA_BY_CLAIM);
        }
        if rng.chance(0.004) {
            e.risk_level_during_sign_in = "low".into();
            e.risk_level_aggregated = "low".into();
            e.risk_state = "dismissed".into();
            e.risk_event_types = "unfamiliarFeatures".into();
        }
        push(e, out);
    }
}

type Surface<'a> = (Net, Client, &'static str, App, App, Device<'a>, &'a str);

/// Which device, app and network a sign-in uses.
fn pick_surface<'a>(
    rng: &mut Rng,
    tenant: &'a Tenant,
    day: &'a Day,
    interactive: bool,
) -> Surface<'a> {
    let user = &tenant.users[day.user];
    let laptop_device = if user.laptop_device.is_empty() {
        Device::UNKNOWN
    } else {
        Device {
            id: &user.laptop_device,
            compliant: Some(user.laptop_managed),
            managed: Some(user.laptop_managed),
        }
    };
    let phone_device = Device {
        id: &user.phone_device,
        compliant: Some(false),
        managed: Some(false),
    };
    let on_phone = day.mobile.is_some() && rng.chance(if interactive { 0.3 } else { 0.35 });
    if on_phone {
        let net = match &day.mobile {
            Some(m) if rng.chance(0.6) => m.clone(),
            _ => day.net.clone(),
        };
        let (app, res) = if user.phone == cat::IOS_OUTLOOK {
            (cat::OUTLOOK_MOBILE, cat::RES_EXCHANGE)
        } else {
            (cat::TEAMS, cat::RES_TEAMS)
        };
        return (
            net,
            user.phone,
            cat::CLIENT_MOBILE_DESKTOP,
            app,
            res,
            phone_device,
            &day.phone_session,
        );
    }
    let windows = user.laptop.os == "Windows10";
    if !interactive {
        let client = if windows {
            cat::WIN_WAM
        } else {
            cat::MAC_OFFICE
        };
        let (app, res) = match rng.below(10) {
            0..=2 => (cat::MS_OFFICE, cat::RES_EXCHANGE),
            3..=4 => (cat::MS_OFFICE, cat::RES_SHAREPOINT),
            5..=6 => (cat::TEAMS, cat::RES_TEAMS),
            7 => (cat::ONEDRIVE_SYNC, cat::RES_SHAREPOINT),
            8 => (cat::AUTH_BROKER, cat::RES_GRAPH),
            _ => (cat::EDGE, cat::RES_GRAPH),
        };
        return (
            day.net.clone(),
            client,
            cat::CLIENT_MOBILE_DESKTOP,
            app,
            res,
            laptop_device,
            &day.session,
        );
    }
    if !user.guest && rng.chance(0.35) {
        let (client, app, res) = match (windows, rng.chance(0.5)) {
            (true, true) => (cat::WIN_OFFICE, cat::MS_OFFICE, cat::RES_EXCHANGE),
            (true, false) => (cat::WIN_TEAMS, cat::TEAMS, cat::RES_TEAMS),
            (false, _) => (cat::MAC_OFFICE, cat::MS_OFFICE, cat::RES_EXCHANGE),
        };
        return (
            day.net.clone(),
            client,
            cat::CLIENT_MOBILE_DESKTOP,
            app,
            res,
            laptop_device,
            &day.session,
        );
    }
    let (app, res) = if user.admin && rng.chance(0.4) {
        (cat::AZURE_PORTAL, cat::RES_AZURE_MGMT)
    } else {
        match rng.below(10) {
            0..=4 => (cat::OFFICE_HOME, cat::OFFICE_HOME),
            5..=8 => (cat::OUTLOOK_WEB, cat::RES_EXCHANGE),
            _ => (cat::MY_SIGNINS, cat::MY_SIGNINS),
        }
    };
    (
        day.net.clone(),
        user.laptop,
        cat::CLIENT_BROWSER,
        app,
        res,
        laptop_device,
        &day.session,
    )
}

/// Non-interactive token refreshes; at most one token-lifetime refusal and
/// one MFA re-prompt per user-day.
fn refreshes(
    rng: &mut Rng,
    tenant: &Tenant,
    day: &Day,
    per_day: f64,
    w: &Window,
    out: &mut Vec<SignIn>,
) {
    let user = &tenant.users[day.user];
    let n = ((per_day * (0.5 + rng.unit())).round() as usize).max(1);
    let failure_at = if rng.chance(0.08) {
        Some(rng.index(n))
    } else {
        None
    };
    let reprompt_at = if !day.at_office && rng.chance(0.05) {
        Some(rng.index(n))
    } else {
        None
    };
    let multi = !day.at_office;
    for i in 0..n {
        let t = day.t0 - US_PER_HOUR + rng.range(0, day.len + 3 * US_PER_HOUR);
        if !w.contains(t) {
            continue;
        }
        let (net, client, client_app, app, resource, device, session) =
            pick_surface(rng, tenant, day, false);
        let shape = Shape {
            kind: SignInType::NonInteractive,
            actor: Actor::from(user),
            net: &net,
            client,
            client_app,
            app,
            resource,
            device,
            session,
        };
        let code = if failure_at == Some(i) {
            if rng.chance(0.5) {
                70043
            } else {
                50173
            }
        } else if reprompt_at == Some(i) {
            50076
        } else {
            0
        };
        let correlation = rng.guid();
        let mut e = user_event(rng, t, code, &correlation, &shape);
        if code == 0 && multi {
            with_mfa(&mut e, "Previously satisfied", reason::MFA_BY_CLAIM);
        } else if code == 70043 {
            e.conditional_access_status = "failure".into();
        } else if code == 50076 {
            e.authentication_requirement = "multiFactorAuthentication".into();
            e.mfa_result = reason::MFA_REQUIRED_STEP.into();
        }
        out.push(e);
    }
}

/// Service principals and managed identities on their schedules; one
/// principal keeps using an expired secret for a few minutes.
fn workloads(
    rng: &mut Rng,
    tenant: &Tenant,
    sp_total: usize,
    msi_total: usize,
    w: &Window,
    out: &mut Vec<SignIn>,
) {
    let span = w.end_us() - w.start_us;
    for (kind, list, total) in [
        (
            SignInType::ServicePrincipal,
            &tenant.service_principals,
            sp_total,
        ),
        (
            SignInType::ManagedIdentity,
            &tenant.managed_identities,
            msi_total,
        ),
    ] {
        let weight: u32 = list.iter().map(|x| x.weight).sum();
        for wl in list {
            let n = (total * wl.weight as usize / weight.max(1) as usize).max(2);
            let step = span / n as i64;
            for k in 0..n {
                let t = w.start_us + step * k as i64 + rng.range(0, step.max(1));
                out.push(workload_event(rng, t, 0, wl, kind));
            }
        }
    }
    if let Some(sp) = tenant.service_principals.get(2) {
        let t = w.start_us + span / 3 + 17 * US_PER_MIN;
        for k in 0..2 {
            let at = t + k * 5 * US_PER_MIN + rng.range(0, US_PER_SEC);
            out.push(workload_event(
                rng,
                at,
                7000215,
                sp,
                SignInType::ServicePrincipal,
            ));
        }
    }
}
