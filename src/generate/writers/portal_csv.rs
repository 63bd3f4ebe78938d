//! Entra admin center › Sign-in logs › Download › CSV: one file per log
//! plus the interactive AuthDetails file, newest first, second-precision
//! `Date (UTC)`, `Location` as "City, State, CC".

use std::borrow::Cow;

use crate::model::{SignIn, SignInType, StatusClass};

use super::super::shape::{self, Ctx};
use super::super::timefmt;
use super::super::{Dataset, GenerateError, GenerateOptions};
use super::{date_span, newest_first, Output, UTF8_BOM};

/// The interactive/non-interactive header as the portal writes it: note
/// the trailing spaces in "Application ID " and "Resource ID ", the double
/// space in "Autonomous system  number" and the repeated "Incoming token
/// type".
pub const USER_HEADER: [&str; 57] = [
    "Date (UTC)",
    "Request ID",
    "User agent",
    "Correlation ID",
    "User ID",
    "User",
    "Username",
    "User type",
    "Cross tenant access type",
    "Incoming token type",
    "Authentication Protocol",
    "Unique token identifier",
    "Original transfer method",
    "Client credential type",
    "Token Protection - Sign In Session",
    "Token Protection - Sign In Session StatusCode",
    "Application",
    "Application ID ",
    "App owner tenant ID",
    "Resource",
    "Resource ID ",
    "Resource tenant ID",
    "Resource owner tenant ID",
    "Home tenant ID",
    "Home tenant name",
    "IP address",
    "Location",
    "Status",
    "Sign-in error code",
    "Failure reason",
    "Client app",
    "Device ID",
    "Browser",
    "Operating System",
    "Compliant",
    "Managed",
    "Join Type",
    "Multifactor authentication result",
    "Multifactor authentication auth method",
    "Multifactor authentication auth detail",
    "Authentication requirement",
    "Sign-in identifier",
    "Session ID",
    "IP address (seen by resource)",
    "Through Global Secure Access",
    "Global Secure Access IP address",
    "Autonomous system  number",
    "Flagged for review",
    "Token issuer type",
    "Incoming token type",
    "Token issuer name",
    "Latency",
    "Conditional Access",
    "Managed Identity type",
    "Associated Resource Id",
    "Federated Token Id",
    "Federated Token Issuer",
];

/// ApplicationSignIns (service principals): 22 columns, no user fields.
pub const APP_HEADER: [&str; 22] = [
    "Date (UTC)",
    "Request ID",
    "Correlation ID",
    "Service principal ID",
    "Service principal name",
    "Credential key ID",
    "Credential thumbprint",
    "Application",
    "Application ID ",
    "App owner tenant ID",
    "Resource",
    "Resource ID ",
    "Resource tenant ID",
    "Resource owner tenant ID",
    "Home tenant ID",
    "Home tenant name",
    "IP address",
    "Location",
    "Status",
    "Sign-in error code",
    "Failure reason",
    "Conditional Access",
];

/// No MSISignIns header has been published; this is the ApplicationSignIns
/// core plus the managed-identity columns of the interactive header.
const MSI_EXTRA: [&str; 4] = [
    "Managed Identity type",
    "Associated Resource Id",
    "Federated Token Id",
    "Federated Token Issuer",
];

pub const AUTH_DETAILS_HEADER: [&str; 7] = [
    "Request ID",
    "Authentication Date",
    "Authentication method",
    "Authentication method detail",
    "Succeeded",
    "Result detail",
    "Requirement",
];

fn status_text(e: &SignIn) -> &'static str {
    match e.status {
        StatusClass::Success => "Success",
        StatusClass::Failure => "Failure",
        StatusClass::Interrupted => "Interrupted",
    }
}

fn location(e: &SignIn) -> String {
    if e.city.is_empty() && e.state.is_empty() && e.country.is_empty() {
        String::new()
    } else {
        format!("{}, {}, {}", e.city, e.state, e.country)
    }
}

fn yes_no(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "True",
        Some(false) => "False",
        None => "",
    }
}

fn failure_text(e: &SignIn) -> &str {
    if e.error_code == 0 {
        "Other."
    } else {
        &e.failure_reason
    }
}

fn user_row<'a>(ctx: &'a Ctx, e: &'a SignIn) -> Vec<Cow<'a, str>> {
    let b = |s: &'a str| Cow::Borrowed(s);
    let o = Cow::Owned;
    let token_type = shape::incoming_token_type(e);
    vec![
        o(timefmt::iso_z_sec(e.time_us)),
        b(&e.request_id),
        b(&e.user_agent),
        b(&e.correlation_id),
        b(&e.user_id),
        b(&e.user_display_name),
        b(&e.user_principal_name),
        b(if shape::is_guest(e) {
            "Guest"
        } else {
            "Member"
        }),
        b(shape::cross_tenant(e)),
        b(token_type),
        b(shape::auth_protocol(e)),
        o(shape::unique_token_id(e)),
        b(shape::transfer_method(e)),
        b("none"),
        b("unbound"),
        b(""),
        b(&e.app_name),
        b(&e.app_id),
        o(shape::app_owner_tenant(ctx, e)),
        b(&e.resource),
        o(shape::resource_id(e)),
        b(&ctx.tenant_id),
        b(&ctx.tenant_id),
        o(shape::home_tenant(ctx, e)),
        b(if shape::is_guest(e) {
            ""
        } else {
            ctx.tenant_name
        }),
        b(&e.ip),
        o(location(e)),
        b(status_text(e)),
        o(e.error_code.to_string()),
        b(failure_text(e)),
        b(&e.client_app),
        b(&e.device_id),
        b(&e.browser),
        b(&e.os),
        b(yes_no(e.compliant)),
        b(yes_no(e.managed)),
        b(shape::trust_type(e)),
        b(&e.mfa_result),
        b(&e.mfa_method),
        o(shape::mfa_detail(e)),
        b(&e.authentication_requirement),
        b(&e.user_principal_name),
        b(&e.session_id),
        b(""),
        b("False"),
        b(""),
        o(e.asn.map(|a| a.to_string()).unwrap_or_default()),
        b("False"),
        b("AzureAD"),
        b(token_type),
        b(""),
        o(shape::processing_ms(e).to_string()),
        b(&e.conditional_access_status),
        b(""),
        b(""),
        b(""),
        b(""),
    ]
}

fn app_row<'a>(ctx: &'a Ctx, e: &'a SignIn) -> Vec<Cow<'a, str>> {
    let b = |s: &'a str| Cow::Borrowed(s);
    let o = Cow::Owned;
    let msi = e.sign_in_type == SignInType::ManagedIdentity;
    let mut row = vec![
        o(timefmt::iso_z_sec(e.time_us)),
        b(&e.request_id),
        b(&e.correlation_id),
        o(shape::service_principal_id(e)),
        b(&e.app_name),
        if msi {
            b("")
        } else {
            o(shape::credential_key_id(e))
        },
        b(""),
        b(&e.app_name),
        b(&e.app_id),
        o(ctx.tenant_id.clone()),
        b(&e.resource),
        o(shape::resource_id(e)),
        b(&ctx.tenant_id),
        b(&ctx.tenant_id),
        b(&ctx.tenant_id),
        b(ctx.tenant_name),
        b(&e.ip),
        o(location(e)),
        b(status_text(e)),
        o(e.error_code.to_string()),
        b(failure_text(e)),
        b(&e.conditional_access_status),
    ];
    if msi {
        row.push(b(shape::msi_type(e)));
        row.push(o(shape::msi_resource(ctx, e)));
        row.push(b(""));
        row.push(b(""));
    }
    row
}

pub fn write(
    ds: &Dataset,
    ctx: &Ctx,
    opts: &GenerateOptions,
    dir: &str,
    out: &mut Output,
) -> Result<(), GenerateError> {
    let span = date_span(opts);
    let builder = csv::WriterBuilder::new();
    let files: [(&str, SignInType); 4] = [
        ("InteractiveSignIns", SignInType::Interactive),
        ("NonInteractiveSignIns", SignInType::NonInteractive),
        ("ApplicationSignIns", SignInType::ServicePrincipal),
        ("MSISignIns", SignInType::ManagedIdentity),
    ];
    for (name, kind) in files {
        let mut sink = out.create(&format!("{dir}/{name}_{span}.csv"))?;
        // Exports saved through newer tooling carry a BOM; the portal's own
        // do not. One file of the set has it so readers handle both.
        if kind == SignInType::Interactive {
            sink.write(UTF8_BOM)?;
        }
        let mut csv = sink.csv(&builder);
        match kind {
            SignInType::Interactive | SignInType::NonInteractive => csv.row(USER_HEADER)?,
            SignInType::ServicePrincipal => csv.row(APP_HEADER)?,
            SignInType::ManagedIdentity => csv.row(APP_HEADER.iter().chain(MSI_EXTRA.iter()))?,
        }
        for e in newest_first(ds, |e| e.sign_in_type == kind) {
            let row = match kind {
                SignInType::Interactive | SignInType::NonInteractive => user_row(ctx, e),
                _ => app_row(ctx, e),
            };
            csv.row(row.iter().map(|c| c.as_bytes()))?;
        }
        csv.finish()?;
    }

    let sink = out.create(&format!("{dir}/InteractiveSignIns_AuthDetails_{span}.csv"))?;
    let mut csv = sink.csv(&builder);
    csv.row(AUTH_DETAILS_HEADER)?;
    for e in newest_first(ds, |e| e.sign_in_type == SignInType::Interactive) {
        let when = timefmt::iso_z_sec(e.time_us);
        for step in shape::auth_steps(e) {
            csv.row([
                e.request_id.as_str(),
                when.as_str(),
                step.method,
                step.method_detail.as_str(),
                if step.succeeded { "true" } else { "false" },
                step.result,
                step.requirement,
            ])?;
        }
    }
    csv.finish()
}
