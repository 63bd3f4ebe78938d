//! From one `SignIn` to the Graph signIn object and the details every
//! export derives from it (authentication steps, Conditional Access
//! policies, token ids, the 7th fraction digit).
//!
//! Everything here is a pure function of the record and the tenant, so
//! each writer computes the same values independently and the formats
//! agree with each other without shared state.

use crate::model::{SignIn, SignInType, StatusClass};

use super::catalog::{self as cat, reason};
use super::json::J;
use super::rng::{guid_for, hash_salted};
use super::tenant::{office_network, DOMAIN, TENANT_NAME};
use super::timefmt;

/// Tenant-wide values the writers need.
pub struct Ctx {
    pub tenant_id: String,
    /// Log Analytics workspace id (the `TenantId` column of LA exports).
    pub workspace_id: String,
    pub tenant_name: &'static str,
    /// Ids of the Conditional Access policies, in `POLICY_NAMES` order.
    policy_ids: Vec<String>,
}

impl Ctx {
    pub fn new(seed: u64) -> Ctx {
        let tenant_id = super::tenant::tenant_id(seed);
        let policy_ids = POLICY_NAMES
            .iter()
            .map(|name| guid_for(&format!("{tenant_id}:{name}")))
            .collect();
        Ctx {
            tenant_id,
            workspace_id: guid_for(&format!("contoso-workspace-{seed}")),
            tenant_name: TENANT_NAME,
            policy_ids,
        }
    }
}

/// The two dialects of the signIn object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// Graph API (portal JSON, Graph pages, collectors).
    Graph,
    /// Azure Monitor `properties` (also the source of Log Analytics).
    AzureMonitor,
}

/// The 100-ns digit Graph prints after the microseconds.
pub fn tick(e: &SignIn) -> u8 {
    (hash_salted(&e.request_id, 7) % 10) as u8
}

pub fn is_user(e: &SignIn) -> bool {
    matches!(
        e.sign_in_type,
        SignInType::Interactive | SignInType::NonInteractive
    )
}

pub fn is_guest(e: &SignIn) -> bool {
    is_user(e) && !e.user_id.is_empty() && !e.user_principal_name.ends_with(&format!("@{DOMAIN}"))
}

pub fn user_type(e: &SignIn, flavor: Flavor) -> &'static str {
    match (is_guest(e), flavor) {
        (true, Flavor::Graph) => "guest",
        (true, Flavor::AzureMonitor) => "Guest",
        (false, Flavor::Graph) => "member",
        (false, Flavor::AzureMonitor) => "Member",
    }
}

pub fn event_type(e: &SignIn) -> &'static str {
    match e.sign_in_type {
        SignInType::Interactive => "interactiveUser",
        SignInType::NonInteractive => "nonInteractiveUser",
        SignInType::ServicePrincipal => "servicePrincipal",
        SignInType::ManagedIdentity => "managedIdentity",
    }
}

pub fn resource_id(e: &SignIn) -> String {
    cat::resource_id(&e.resource)
        .map(str::to_string)
        .unwrap_or_else(|| guid_for(&format!("resource:{}", e.resource)))
}

pub fn app_owner_tenant(ctx: &Ctx, e: &SignIn) -> String {
    if cat::is_first_party(&e.app_id) {
        cat::MICROSOFT_SERVICES_TENANT.to_string()
    } else {
        ctx.tenant_id.clone()
    }
}

pub fn home_tenant(ctx: &Ctx, e: &SignIn) -> String {
    if is_guest(e) {
        let domain = e.user_principal_name.rsplit('@').next().unwrap_or("");
        guid_for(&format!("home-tenant:{domain}"))
    } else {
        ctx.tenant_id.clone()
    }
}

pub fn cross_tenant(e: &SignIn) -> &'static str {
    if is_guest(e) {
        "b2bCollaboration"
    } else {
        "none"
    }
}

pub fn service_principal_id(e: &SignIn) -> String {
    guid_for(&format!("sp:{}", e.app_id))
}

pub fn credential_key_id(e: &SignIn) -> String {
    guid_for(&format!("key:{}", e.app_id))
}

pub fn msi_type(e: &SignIn) -> &'static str {
    if e.app_name.starts_with("id-") {
        "userAssigned"
    } else {
        "systemAssigned"
    }
}

pub fn msi_resource(ctx: &Ctx, e: &SignIn) -> String {
    let provider = if e.app_name.starts_with("func-") || e.app_name.starts_with("logic-") {
        "Microsoft.Web/sites"
    } else if e.app_name.starts_with("vm-") {
        "Microsoft.Compute/virtualMachines"
    } else {
        "Microsoft.ManagedIdentity/userAssignedIdentities"
    };
    format!(
        "/subscriptions/{}/resourcegroups/rg-contoso-prod/providers/{}/{}",
        guid_for(&format!("subscription:{}", ctx.tenant_id)),
        provider,
        e.app_name
    )
}

pub fn processing_ms(e: &SignIn) -> i64 {
    let h = hash_salted(&e.request_id, 11);
    match e.sign_in_type {
        SignInType::Interactive => 60 + (h % 900) as i64,
        _ => (h % 120) as i64,
    }
}

const B64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// 22-character unpadded base64url of 16 bytes, as Entra prints its
/// unique token identifiers.
pub fn unique_token_id(e: &SignIn) -> String {
    // A scenario that replays one token names it; every other sign-in
    // gets its own, derived from its request id.
    if !e.token_id.is_empty() {
        return e.token_id.to_string();
    }
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&hash_salted(&e.request_id, 21).to_le_bytes());
    bytes[8..].copy_from_slice(&hash_salted(&e.request_id, 22).to_le_bytes());
    let mut out = String::with_capacity(22);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for k in 0..chars {
            out.push(B64URL[((n >> (18 - 6 * k)) & 63) as usize] as char);
        }
    }
    out
}

pub fn is_legacy_client(client_app: &str) -> bool {
    matches!(
        client_app,
        cat::CLIENT_IMAP | cat::CLIENT_SMTP | cat::CLIENT_OTHER | cat::CLIENT_EAS | "POP3"
    )
}

pub fn auth_protocol(e: &SignIn) -> &str {
    if !e.auth_protocol.is_empty() {
        e.auth_protocol.as_str()
    } else if e.user_agent == cat::BAV2ROPC.ua || is_legacy_client(&e.client_app) {
        "ropc"
    } else {
        "none"
    }
}

pub fn incoming_token_type(e: &SignIn) -> &str {
    if !e.incoming_token.is_empty() {
        e.incoming_token.as_str()
    } else if e.sign_in_type == SignInType::Interactive
        && e.managed == Some(true)
        && e.os == "Windows10"
    {
        "primaryRefreshToken"
    } else {
        "none"
    }
}

/// `originalTransferMethod`: set only by the scenarios that use the
/// device-code flow.
pub fn transfer_method(e: &SignIn) -> &str {
    if e.transfer_method.is_empty() {
        "none"
    } else {
        e.transfer_method.as_str()
    }
}

pub fn trust_type(e: &SignIn) -> &'static str {
    match (e.device_id.is_empty(), e.managed) {
        (true, _) => "",
        (false, Some(true)) if e.os == "Windows10" => "Azure AD joined",
        (false, _) => "Azure AD registered",
    }
}

pub fn device_name(e: &SignIn) -> String {
    if e.device_id.is_empty() {
        return String::new();
    }
    let n = hash_salted(&e.device_id, 3) % 10_000;
    if e.os.starts_with("Ios") {
        "iPhone".to_string()
    } else if e.os.starts_with("Android") {
        "SM-S918B".to_string()
    } else if e.os == "MacOs" {
        format!("CONTOSO-MBP-{n:04}")
    } else {
        format!("CONTOSO-LT-{n:04}")
    }
}

/// Masked phone number for SMS and voice MFA (the portal's "auth detail").
pub fn mfa_detail(e: &SignIn) -> String {
    if matches!(e.mfa_method.as_str(), "Text message" | "Phone call") {
        format!("+X XXXXXXXX{:02}", hash_salted(&e.user_id, 5) % 100)
    } else {
        String::new()
    }
}

/// One row of `authenticationDetails`.
pub struct Step<'a> {
    pub method: &'a str,
    pub method_detail: String,
    pub succeeded: bool,
    pub result: &'a str,
    pub requirement: &'static str,
}

const PRIMARY: &str = "Primary authentication";
const SECONDARY: &str = "Multi-factor authentication";
const PASSWORD: &str = "Password";
const PASSWORD_DETAIL: &str = "Password in the cloud";
const CLAIM: &str = "Previously satisfied";
const FIRST_FACTOR_CLAIM: &str = "First factor requirement satisfied by claim in the token";
const CORRECT_PASSWORD: &str = "Correct password";

/// The authentication steps a sign-in went through. The MFA step, when
/// present, carries exactly `mfa_method` and `mfa_result`, so readers of
/// any format recover the same two fields.
pub fn auth_steps(e: &SignIn) -> Vec<Step<'_>> {
    let password = |ok: bool, result: &'static str| Step {
        method: PASSWORD,
        method_detail: PASSWORD_DETAIL.to_string(),
        succeeded: ok,
        result,
        requirement: PRIMARY,
    };
    let mut steps = Vec::with_capacity(2);
    match e.sign_in_type {
        SignInType::ServicePrincipal | SignInType::ManagedIdentity => return steps,
        SignInType::NonInteractive => steps.push(Step {
            method: CLAIM,
            method_detail: String::new(),
            succeeded: e.error_code == 0 || e.error_code == 50076,
            result: if e.error_code == 0 || e.error_code == 50076 {
                FIRST_FACTOR_CLAIM
            } else {
                &e.failure_reason
            },
            requirement: PRIMARY,
        }),
        SignInType::Interactive => match e.error_code {
            16000 => return steps,
            50126 => {
                steps.push(password(false, reason::BAD_PASSWORD_STEP));
                return steps;
            }
            50053 | 50057 | 50034 => {
                steps.push(Step {
                    method: PASSWORD,
                    method_detail: PASSWORD_DETAIL.to_string(),
                    succeeded: false,
                    result: &e.failure_reason,
                    requirement: PRIMARY,
                });
                return steps;
            }
            _ => {
                if e.client_app == cat::CLIENT_MOBILE_DESKTOP && e.mfa_method == CLAIM {
                    steps.push(Step {
                        method: CLAIM,
                        method_detail: String::new(),
                        succeeded: true,
                        result: FIRST_FACTOR_CLAIM,
                        requirement: PRIMARY,
                    });
                } else {
                    steps.push(password(true, CORRECT_PASSWORD));
                }
            }
        },
    }
    if !e.mfa_method.is_empty() || !e.mfa_result.is_empty() {
        steps.push(Step {
            method: &e.mfa_method,
            method_detail: mfa_detail(e),
            succeeded: e.status != StatusClass::Failure
                && e.error_code != 50074
                && e.error_code != 50076,
            result: &e.mfa_result,
            requirement: SECONDARY,
        });
    }
    steps
}

pub struct Policy {
    pub name: &'static str,
    pub result: &'static str,
    pub grant: &'static [&'static str],
}

const POLICY_NAMES: [&str; 5] = [
    "Require MFA outside trusted locations",
    "Block legacy authentication",
    "Require compliant device for unmanaged access",
    "Block high-risk users",
    "Sign-in frequency 12 hours",
];

/// The tenant's Conditional Access policies (in `POLICY_NAMES` order) and
/// how each applied.
pub fn policies(e: &SignIn) -> Vec<Policy> {
    if !is_user(e) {
        return Vec::new();
    }
    let multi = e.authentication_requirement == "multiFactorAuthentication";
    let mfa = match (e.error_code, e.conditional_access_status.as_str()) {
        (500121, _) => "failure",
        (_, "success") if multi => "success",
        _ => "notApplied",
    };
    let legacy = if is_legacy_client(&e.client_app) {
        "reportOnlyFailure"
    } else {
        "reportOnlyNotApplied"
    };
    let pick = |code: i64, on: &'static str| {
        if e.error_code == code {
            on
        } else {
            "notApplied"
        }
    };
    vec![
        Policy {
            name: POLICY_NAMES[0],
            result: mfa,
            grant: &["Mfa"],
        },
        Policy {
            name: POLICY_NAMES[1],
            result: legacy,
            grant: &["Block"],
        },
        Policy {
            name: POLICY_NAMES[2],
            result: pick(53003, "failure"),
            grant: &["RequireCompliantDevice"],
        },
        Policy {
            name: POLICY_NAMES[3],
            result: pick(53011, "failure"),
            grant: &["Block"],
        },
        Policy {
            name: POLICY_NAMES[4],
            result: pick(70043, "failure"),
            grant: &[],
        },
    ]
}

fn policies_json<'a>(ctx: &'a Ctx, e: &SignIn) -> J<'a> {
    J::Arr(
        policies(e)
            .into_iter()
            .zip(&ctx.policy_ids)
            .map(|(p, id)| {
                let applied = matches!(p.result, "success" | "failure");
                J::Obj(vec![
                    ("id", J::s(id)),
                    ("displayName", J::s(p.name)),
                    (
                        "enforcedGrantControls",
                        if applied {
                            J::strs(p.grant)
                        } else {
                            J::Arr(Vec::new())
                        },
                    ),
                    ("enforcedSessionControls", J::Arr(Vec::new())),
                    ("result", J::s(p.result)),
                    ("conditionsSatisfied", J::Int(if applied { 3 } else { 1 })),
                    (
                        "conditionsNotSatisfied",
                        J::Int(if applied { 0 } else { 2 }),
                    ),
                ])
            })
            .collect(),
    )
}

fn steps_json<'a>(e: &'a SignIn, flavor: Flavor) -> J<'a> {
    let tick = tick(e);
    let when = match flavor {
        Flavor::Graph => timefmt::iso_z7(e.time_us, tick),
        Flavor::AzureMonitor => timefmt::iso_offset(e.time_us, tick),
    };
    J::Arr(
        auth_steps(e)
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                let mut members = vec![
                    ("authenticationStepDateTime", J::own(when.clone())),
                    ("authenticationMethod", J::s(s.method)),
                    ("authenticationMethodDetail", J::own(s.method_detail)),
                    ("succeeded", J::Bool(s.succeeded)),
                    ("authenticationStepResultDetail", J::s(s.result)),
                    ("authenticationStepRequirement", J::s(s.requirement)),
                ];
                if flavor == Flavor::AzureMonitor {
                    members.push(("StatusSequence", J::Int(if i == 0 { 0 } else { 1 })));
                    members.push(("RequestSequence", J::Int(i as i64)));
                }
                J::Obj(members)
            })
            .collect(),
    )
}

fn methods_used(e: &SignIn) -> J<'_> {
    J::Arr(
        auth_steps(e)
            .into_iter()
            .filter(|s| s.succeeded && s.method != CLAIM && !s.method.is_empty())
            .map(|s| J::s(s.method))
            .collect(),
    )
}

fn processing_details(e: &SignIn) -> J<'static> {
    let kv = |k: &'static str, v: &'static str| J::Obj(vec![("key", J::s(k)), ("value", J::s(v))]);
    match e.sign_in_type {
        SignInType::ServicePrincipal | SignInType::ManagedIdentity => J::Arr(vec![kv(
            "Azure AD App Authentication Library",
            "Family: MSAL Library: MSAL.NET 4.59.0.0 Platform: .NET",
        )]),
        _ => {
            let mut items = Vec::with_capacity(3);
            if e.sign_in_type == SignInType::Interactive
                && hash_salted(&e.request_id, 13).is_multiple_of(2)
            {
                items.push(kv("Login Hint Present", "True"));
            }
            items.push(kv("Legacy TLS (TLS 1.0, 1.1, 3DES)", "False"));
            items.push(kv("Is CAE Token", "False"));
            J::Arr(items)
        }
    }
}

fn network_details(e: &SignIn) -> J<'static> {
    match office_network(&e.ip) {
        Some(name) => J::Arr(vec![
            J::Obj(vec![
                ("networkType", J::s("namedNetwork")),
                ("networkNames", J::strs(&[name])),
            ]),
            J::Obj(vec![
                ("networkType", J::s("trustedNamedLocation")),
                ("networkNames", J::strs(&[name])),
            ]),
        ]),
        None => J::Arr(Vec::new()),
    }
}

fn risk_types(e: &SignIn) -> J<'_> {
    J::Arr(
        e.risk_event_types
            .split(',')
            .filter(|s| !s.is_empty())
            .map(J::s)
            .collect(),
    )
}

fn risk_detail(e: &SignIn) -> &'static str {
    if e.risk_state == "dismissed" {
        "adminDismissedAllRiskForUser"
    } else {
        "none"
    }
}

pub fn status_json<'a>(e: &'a SignIn, flavor: Flavor) -> J<'a> {
    let mut members = vec![("errorCode", J::Int(e.error_code))];
    match (e.error_code, flavor) {
        (0, Flavor::Graph) => {
            members.push(("failureReason", J::s("Other.")));
            members.push(("additionalDetails", J::s_or_null(&e.additional_details)));
        }
        (0, Flavor::AzureMonitor) => {
            if !e.additional_details.is_empty() {
                members.push(("additionalDetails", J::s(&e.additional_details)));
            }
        }
        (_, Flavor::Graph) => {
            members.push(("failureReason", J::s(&e.failure_reason)));
            members.push(("additionalDetails", J::s_or_null(&e.additional_details)));
        }
        (_, Flavor::AzureMonitor) => {
            members.push(("failureReason", J::s(&e.failure_reason)));
            if !e.additional_details.is_empty() {
                members.push(("additionalDetails", J::s(&e.additional_details)));
            }
        }
    }
    J::Obj(members)
}

pub fn location_json<'a>(e: &'a SignIn, flavor: Flavor) -> J<'a> {
    let geo = match (e.latitude, e.longitude, flavor) {
        (Some(lat), Some(lon), Flavor::Graph) => J::Obj(vec![
            ("altitude", J::Null),
            ("latitude", J::Num(lat)),
            ("longitude", J::Num(lon)),
        ]),
        (Some(lat), Some(lon), Flavor::AzureMonitor) => {
            J::Obj(vec![("latitude", J::Num(lat)), ("longitude", J::Num(lon))])
        }
        // Managed identities: Graph leaves the coordinates out, Azure
        // Monitor writes 0.0/0.0.
        (_, _, Flavor::Graph) => J::Obj(Vec::new()),
        (_, _, Flavor::AzureMonitor) => {
            J::Obj(vec![("latitude", J::Num(0.0)), ("longitude", J::Num(0.0))])
        }
    };
    J::Obj(vec![
        ("city", J::s(&e.city)),
        ("state", J::s(&e.state)),
        ("countryOrRegion", J::s(&e.country)),
        ("geoCoordinates", geo),
    ])
}

pub fn device_json(e: &SignIn) -> J<'_> {
    J::Obj(vec![
        ("deviceId", J::s(&e.device_id)),
        ("displayName", J::own(device_name(e))),
        ("operatingSystem", J::s(&e.os)),
        ("browser", J::s(&e.browser)),
        ("isCompliant", J::opt_bool(e.compliant)),
        ("isManaged", J::opt_bool(e.managed)),
        ("trustType", J::s(trust_type(e))),
    ])
}

pub fn mfa_json(e: &SignIn) -> J<'_> {
    if e.mfa_method.is_empty() {
        J::Obj(Vec::new())
    } else {
        J::Obj(vec![
            ("authMethod", J::s(&e.mfa_method)),
            ("authDetail", J::own(mfa_detail(e))),
        ])
    }
}

fn created(e: &SignIn, flavor: Flavor) -> String {
    match flavor {
        Flavor::Graph => timefmt::iso_z7(e.time_us, tick(e)),
        Flavor::AzureMonitor => timefmt::iso_offset(e.time_us, tick(e)),
    }
}

/// The signIn object for one record.
pub fn sign_in_object<'a>(ctx: &'a Ctx, e: &'a SignIn, flavor: Flavor) -> J<'a> {
    match e.sign_in_type {
        SignInType::Interactive | SignInType::NonInteractive => user_object(ctx, e, flavor),
        SignInType::ServicePrincipal | SignInType::ManagedIdentity => {
            workload_object(ctx, e, flavor)
        }
    }
}

fn user_object<'a>(ctx: &'a Ctx, e: &'a SignIn, flavor: Flavor) -> J<'a> {
    let asn = e.asn.map_or(J::Null, J::Int);
    J::Obj(vec![
        ("id", J::s(&e.request_id)),
        ("createdDateTime", J::own(created(e, flavor))),
        ("userDisplayName", J::s(&e.user_display_name)),
        ("userPrincipalName", J::s(&e.user_principal_name)),
        ("userId", J::s(&e.user_id)),
        ("appId", J::s(&e.app_id)),
        ("appDisplayName", J::s(&e.app_name)),
        ("ipAddress", J::s(&e.ip)),
        ("clientAppUsed", J::s(&e.client_app)),
        ("userAgent", J::s(&e.user_agent)),
        ("correlationId", J::s(&e.correlation_id)),
        (
            "conditionalAccessStatus",
            J::s(&e.conditional_access_status),
        ),
        ("originalRequestId", J::s(&e.request_id)),
        (
            "isInteractive",
            J::Bool(e.sign_in_type == SignInType::Interactive),
        ),
        ("tokenIssuerName", J::s("")),
        ("tokenIssuerType", J::s("AzureAD")),
        ("processingTimeInMilliseconds", J::Int(processing_ms(e))),
        ("riskDetail", J::s(risk_detail(e))),
        ("riskLevelAggregated", J::s(&e.risk_level_aggregated)),
        ("riskLevelDuringSignIn", J::s(&e.risk_level_during_sign_in)),
        ("riskState", J::s(&e.risk_state)),
        ("riskEventTypes", risk_types(e)),
        ("riskEventTypes_v2", risk_types(e)),
        ("resourceDisplayName", J::s(&e.resource)),
        ("resourceId", J::own(resource_id(e))),
        ("resourceTenantId", J::s(&ctx.tenant_id)),
        ("homeTenantId", J::own(home_tenant(ctx, e))),
        ("homeTenantName", J::s("")),
        ("authenticationMethodsUsed", methods_used(e)),
        (
            "authenticationRequirement",
            J::s(&e.authentication_requirement),
        ),
        ("signInIdentifier", J::s(&e.user_principal_name)),
        ("signInIdentifierType", J::s("userPrincipalName")),
        ("servicePrincipalId", J::s("")),
        ("userType", J::s(user_type(e, flavor))),
        ("flaggedForReview", J::Bool(false)),
        ("isTenantRestricted", J::Bool(false)),
        ("autonomousSystemNumber", asn),
        ("crossTenantAccessType", J::s(cross_tenant(e))),
        ("uniqueTokenIdentifier", J::own(unique_token_id(e))),
        ("incomingTokenType", J::s(incoming_token_type(e))),
        ("authenticationProtocol", J::s(auth_protocol(e))),
        ("originalTransferMethod", J::s(transfer_method(e))),
        ("sessionId", J::s(&e.session_id)),
        ("signInEventTypes", J::strs(&[event_type(e)])),
        ("status", status_json(e, flavor)),
        ("deviceDetail", device_json(e)),
        ("location", location_json(e, flavor)),
        ("mfaDetail", mfa_json(e)),
        ("appliedConditionalAccessPolicies", policies_json(ctx, e)),
        ("authenticationProcessingDetails", processing_details(e)),
        ("networkLocationDetails", network_details(e)),
        ("authenticationDetails", steps_json(e, flavor)),
        ("authenticationRequirementPolicies", J::Arr(Vec::new())),
        ("sessionLifetimePolicies", J::Arr(Vec::new())),
    ])
}

fn workload_object<'a>(ctx: &'a Ctx, e: &'a SignIn, flavor: Flavor) -> J<'a> {
    let msi = e.sign_in_type == SignInType::ManagedIdentity;
    let mut members = vec![
        ("id", J::s(&e.request_id)),
        ("createdDateTime", J::own(created(e, flavor))),
        ("userDisplayName", J::s("")),
        ("userPrincipalName", J::s("")),
        ("userId", J::Null),
        ("appId", J::s(&e.app_id)),
        ("appDisplayName", J::s(&e.app_name)),
        ("ipAddress", J::s(&e.ip)),
        ("status", status_json(e, flavor)),
        ("location", location_json(e, flavor)),
        ("correlationId", J::s(&e.correlation_id)),
        (
            "conditionalAccessStatus",
            J::s(&e.conditional_access_status),
        ),
        ("appliedConditionalAccessPolicies", J::Arr(Vec::new())),
        ("originalRequestId", J::s(&e.request_id)),
        ("isInteractive", J::Bool(false)),
        ("tokenIssuerType", J::s("AzureAD")),
        ("authenticationProcessingDetails", processing_details(e)),
        ("processingTimeInMilliseconds", J::Int(processing_ms(e))),
        ("riskDetail", J::s("none")),
        ("riskLevelAggregated", J::s(&e.risk_level_aggregated)),
        ("riskLevelDuringSignIn", J::s(&e.risk_level_during_sign_in)),
        ("riskState", J::s(&e.risk_state)),
        ("resourceDisplayName", J::s(&e.resource)),
        ("resourceId", J::own(resource_id(e))),
        ("resourceTenantId", J::s(&ctx.tenant_id)),
        ("servicePrincipalName", J::s(&e.app_name)),
        ("servicePrincipalId", J::own(service_principal_id(e))),
        ("flaggedForReview", J::Bool(false)),
        ("isTenantRestricted", J::Bool(false)),
        ("crossTenantAccessType", J::s("none")),
        ("uniqueTokenIdentifier", J::own(unique_token_id(e))),
        ("incomingTokenType", J::s("none")),
        ("authenticationProtocol", J::s("none")),
        ("signInEventTypes", J::strs(&[event_type(e)])),
    ];
    if msi {
        members.push((
            "managedServiceIdentity",
            J::Obj(vec![
                ("msiType", J::s(msi_type(e))),
                ("associatedResourceId", J::own(msi_resource(ctx, e))),
                ("federatedTokenId", J::s("")),
                ("federatedTokenIssuer", J::s("")),
            ]),
        ));
    } else {
        members.push((
            "servicePrincipalCredentialKeyId",
            J::own(credential_key_id(e)),
        ));
        members.push(("servicePrincipalCredentialThumbprint", J::s("")));
        members.push(("clientCredentialType", J::s("clientSecret")));
        members.push(("autonomousSystemNumber", e.asn.map_or(J::Null, J::Int)));
    }
    J::Obj(members)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(code: i64) -> SignIn {
        SignIn {
            time_us: 1_772_409_600_000_000 + 123_456,
            request_id: "933f20c0-efdf-477f-9586-e5cc566d2e00".into(),
            user_principal_name: "adele.vance@contoso.com".into(),
            user_id: "2ce85a15-8640-465d-b916-d2eac620a717".into(),
            error_code: code,
            status: crate::model::codes::status_class(code),
            failure_reason: super::super::events::reason_for(code).into(),
            client_app: "Browser".into(),
            authentication_requirement: "singleFactorAuthentication".into(),
            conditional_access_status: "notApplied".into(),
            ..SignIn::default()
        }
    }

    #[test]
    fn token_ids_are_22_char_base64url() {
        let id = unique_token_id(&record(0));
        assert_eq!(id.len(), 22);
        assert!(id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }

    #[test]
    fn failed_password_has_one_failed_password_step() {
        let e = record(50126);
        let steps = auth_steps(&e);
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].method, "Password");
        assert!(!steps[0].succeeded);
    }

    #[test]
    fn mfa_step_carries_method_and_result_verbatim() {
        let mut e = record(500121);
        e.mfa_method = "Mobile app notification".into();
        e.mfa_result = reason::MFA_DENIED.into();
        let steps = auth_steps(&e);
        assert_eq!(steps.len(), 2);
        assert!(steps[0].succeeded, "the password was right");
        assert_eq!(steps[1].method, "Mobile app notification");
        assert_eq!(steps[1].result, reason::MFA_DENIED);
        assert!(!steps[1].succeeded);
        let policies = policies(&e);
        assert!(policies.iter().any(|p| p.result == "failure"));
    }

    #[test]
    fn graph_and_monitor_flavors_differ_where_the_exports_do() {
        let ctx = Ctx::new(1);
        let e = record(0);
        let g = sign_in_object(&ctx, &e, Flavor::Graph);
        let m = sign_in_object(&ctx, &e, Flavor::AzureMonitor);
        let text = |j: &J<'_>, k: &str| match j.get(k) {
            Some(J::Str(s)) => s.to_string(),
            other => panic!("{k}: {other:?}"),
        };
        assert_eq!(
            text(&g, "createdDateTime").len(),
            "2026-03-02T00:00:00.1234567Z".len()
        );
        assert!(text(&m, "createdDateTime").ends_with("+00:00"));
        assert_eq!(text(&g, "userType"), "member");
        assert_eq!(text(&m, "userType"), "Member");
        assert_eq!(
            g.get("status").and_then(|s| s.get("failureReason")),
            Some(&J::s("Other."))
        );
        assert_eq!(m.get("status").and_then(|s| s.get("failureReason")), None);
    }
}
