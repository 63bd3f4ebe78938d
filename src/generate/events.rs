//! Building one `SignIn`: the common constructor the background and the
//! planted scenarios share, with Entra's texts for each code.

use crate::model::codes::status_class;
use crate::model::{SignIn, SignInType};

use super::catalog::{self as cat, reason, App, Client};
use super::rng::Rng;
use super::tenant::{Net, User, Workload};

/// Who signs in. `id` and `display` are empty for names that do not exist
/// in the directory.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub upn: &'a str,
    pub id: &'a str,
    pub display: &'a str,
}

impl<'a> From<&'a User> for Actor<'a> {
    fn from(u: &'a User) -> Self {
        Actor {
            upn: &u.upn,
            id: &u.id,
            display: &u.display,
        }
    }
}

/// The device a sign-in came from.
#[derive(Debug, Clone, Copy)]
pub struct Device<'a> {
    pub id: &'a str,
    pub compliant: Option<bool>,
    pub managed: Option<bool>,
}

impl Device<'static> {
    /// An unregistered machine: Entra reports `false`, not absent.
    pub const UNKNOWN: Device<'static> = Device {
        id: "",
        compliant: Some(false),
        managed: Some(false),
    };
}

/// What a user sign-in is made of besides time and code.
#[derive(Debug, Clone, Copy)]
pub struct Shape<'a> {
    pub kind: SignInType,
    pub actor: Actor<'a>,
    pub net: &'a Net,
    pub client: Client,
    pub client_app: &'static str,
    pub app: App,
    pub resource: App,
    pub device: Device<'a>,
    pub session: &'a str,
}

/// The failure reason Entra writes for a code (empty on success).
pub fn reason_for(code: i64) -> &'static str {
    match code {
        0 => "",
        50126 => reason::BAD_PASSWORD,
        50053 => reason::LOCKOUT,
        50074 => reason::MFA_REQUIRED,
        50076 => reason::MFA_REQUIRED_NI,
        50140 => reason::KMSI,
        16000 => reason::ACCOUNT_PICKER,
        53003 => reason::CA_BLOCK,
        53011 => reason::RISK_BLOCK,
        500121 => reason::MFA_FAILED,
        50034 => reason::NOT_FOUND,
        50057 => reason::DISABLED,
        50173 => reason::SIGN_IN_FREQUENCY,
        70043 => reason::TOKEN_EXPIRED_FREQ,
        7000215 => reason::BAD_CLIENT_SECRET,
        _ => "Other.",
    }
}

fn fill_place(e: &mut SignIn, net: &Net) {
    let p = &cat::PLACES[net.place];
    e.city = p.city.into();
    e.state = p.state.into();
    e.country = p.country.into();
    e.latitude = Some(f64::from(p.lat));
    e.longitude = Some(f64::from(p.lon));
    e.asn = Some(net.asn);
}

fn base(rng: &mut Rng, t_us: i64, code: i64, correlation: &str) -> SignIn {
    SignIn {
        time_us: t_us,
        request_id: rng.request_id().into(),
        correlation_id: correlation.into(),
        error_code: code,
        status: status_class(code),
        failure_reason: reason_for(code).into(),
        risk_level_during_sign_in: "none".into(),
        risk_level_aggregated: "none".into(),
        risk_state: "none".into(),
        conditional_access_status: "notApplied".into(),
        ..SignIn::default()
    }
}

/// A user sign-in (interactive or not) with single-factor defaults; the
/// caller adjusts MFA, CA and risk fields for its story.
pub fn user_event(rng: &mut Rng, t_us: i64, code: i64, correlation: &str, s: &Shape<'_>) -> SignIn {
    let mut e = base(rng, t_us, code, correlation);
    e.sign_in_type = s.kind;
    e.session_id = s.session.into();
    e.user_principal_name = s.actor.upn.to_ascii_lowercase().into();
    e.user_id = s.actor.id.into();
    e.user_display_name = s.actor.display.into();
    e.ip = s.net.ip.clone().into();
    e.app_name = s.app.name.into();
    e.app_id = s.app.id.into();
    e.resource = s.resource.name.into();
    e.client_app = s.client_app.into();
    e.user_agent = s.client.ua.into();
    e.os = s.client.os.into();
    e.browser = s.client.browser.into();
    e.device_id = s.device.id.into();
    e.compliant = s.device.compliant;
    e.managed = s.device.managed;
    fill_place(&mut e, s.net);
    e.authentication_requirement = "singleFactorAuthentication".into();
    if code == 50126 {
        e.additional_details = reason::BAD_PASSWORD_DETAIL.into();
    }
    e
}

/// Marks a sign-in as passing MFA with `method`; `result` is the step's
/// result text ("MFA successfully completed", "MFA requirement satisfied
/// by claim in the token" …).
pub fn with_mfa(e: &mut SignIn, method: &str, result: &str) {
    e.authentication_requirement = "multiFactorAuthentication".into();
    e.mfa_method = method.into();
    e.mfa_result = result.into();
    e.conditional_access_status = "success".into();
    if e.error_code == 0 && e.additional_details.is_empty() {
        e.additional_details = if result == reason::MFA_BY_CLAIM {
            reason::MFA_BY_CLAIM.into()
        } else {
            reason::MFA_COMPLETED_IN_AAD.into()
        };
    }
}

/// A service-principal or managed-identity sign-in: no user fields, and
/// managed identities have no address or location either.
pub fn workload_event(
    rng: &mut Rng,
    t_us: i64,
    code: i64,
    w: &Workload,
    kind: SignInType,
) -> SignIn {
    let correlation = rng.guid();
    let mut e = base(rng, t_us, code, &correlation);
    e.sign_in_type = kind;
    e.app_name = w.name.into();
    e.app_id = w.app_id.clone().into();
    e.resource = w.resource.name.into();
    if let Some(net) = &w.net {
        e.ip = net.ip.clone().into();
        fill_place(&mut e, net);
    }
    e.risk_level_during_sign_in = "low".into();
    e.risk_level_aggregated = "low".into();
    e
}
