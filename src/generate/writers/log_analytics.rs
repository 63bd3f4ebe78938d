//! Log Analytics / Sentinel "Export to CSV" of `SigninLogs` and
//! `AADNonInteractiveUserSignInLogs`: `[UTC]`-suffixed datetime columns in
//! en-US format with milliseconds, dynamic columns as JSON text (some
//! pretty-printed across lines), `TRUE`/`FALSE`/empty booleans, `Type`
//! last, and one file with the `_dynamic`/`_string` column pairs an
//! export gets when a column's type changed inside the queried range.

use std::borrow::Cow;

use crate::model::{SignIn, SignInType};

use super::super::json::{self, Style, J};
use super::super::rng::{guid_for, hash_salted};
use super::super::shape::{self, Ctx, Flavor};
use super::super::timefmt::{self, US_PER_DAY};
use super::super::{Dataset, GenerateError, GenerateOptions};
use super::Output;

/// `SigninLogs` export header, in the order of a real 2023 export.
const SIGNIN_LOGS: &[&str] = &[
    "TenantId",
    "SourceSystem",
    "TimeGenerated [UTC]",
    "ResourceId",
    "OperationName",
    "OperationVersion",
    "Category",
    "ResultType",
    "ResultSignature",
    "ResultDescription",
    "DurationMs",
    "CorrelationId",
    "Resource",
    "ResourceGroup",
    "ResourceProvider",
    "Identity",
    "Level",
    "Location",
    "AlternateSignInName",
    "AppDisplayName",
    "AppId",
    "AuthenticationContextClassReferences",
    "AuthenticationDetails",
    "AppliedEventListeners",
    "AuthenticationMethodsUsed",
    "AuthenticationProcessingDetails",
    "AuthenticationRequirement",
    "AuthenticationRequirementPolicies",
    "ClientAppUsed",
    "ConditionalAccessPolicies",
    "ConditionalAccessStatus",
    "CreatedDateTime [UTC]",
    "DeviceDetail",
    "IsInteractive",
    "Id",
    "IPAddress",
    "IsRisky",
    "LocationDetails",
    "MfaDetail",
    "NetworkLocationDetails",
    "OriginalRequestId",
    "ProcessingTimeInMilliseconds",
    "RiskDetail",
    "RiskEventTypes",
    "RiskEventTypes_V2",
    "RiskLevelAggregated",
    "RiskLevelDuringSignIn",
    "RiskState",
    "ResourceDisplayName",
    "ResourceIdentity",
    "ResourceServicePrincipalId",
    "ServicePrincipalId",
    "ServicePrincipalName",
    "Status",
    "TokenIssuerName",
    "TokenIssuerType",
    "UserAgent",
    "UserDisplayName",
    "UserId",
    "UserPrincipalName",
    "AADTenantId",
    "UserType",
    "FlaggedForReview",
    "IPAddressFromResourceProvider",
    "SignInIdentifier",
    "SignInIdentifierType",
    "ResourceTenantId",
    "HomeTenantId",
    "UniqueTokenIdentifier",
    "SessionLifetimePolicies",
    "AutonomousSystemNumber",
    "AuthenticationProtocol",
    "CrossTenantAccessType",
    "AppliedConditionalAccessPolicies",
    "RiskLevel",
    "Type",
];

/// `AADNonInteractiveUserSignInLogs`: the same columns except the renamed
/// processing time and the added `SignInEventTypes`.
fn non_interactive_header(split: bool) -> Vec<&'static str> {
    let mut cols = Vec::with_capacity(SIGNIN_LOGS.len() + 6);
    for &c in SIGNIN_LOGS {
        match c {
            "ProcessingTimeInMilliseconds" => cols.push("ProcessingTimeInMs"),
            "Type" => {
                cols.push("SignInEventTypes");
                cols.push("Type");
            }
            "ConditionalAccessPolicies"
            | "DeviceDetail"
            | "LocationDetails"
            | "MfaDetail"
            | "Status"
                if split =>
            {
                cols.push(split_name(c, true));
                cols.push(split_name(c, false));
            }
            _ => cols.push(c),
        }
    }
    cols
}

fn split_name(base: &str, dynamic: bool) -> &'static str {
    match (base, dynamic) {
        ("ConditionalAccessPolicies", true) => "ConditionalAccessPolicies_dynamic",
        ("ConditionalAccessPolicies", false) => "ConditionalAccessPolicies_string",
        ("DeviceDetail", true) => "DeviceDetail_dynamic",
        ("DeviceDetail", false) => "DeviceDetail_string",
        ("LocationDetails", true) => "LocationDetails_dynamic",
        ("LocationDetails", false) => "LocationDetails_string",
        ("MfaDetail", true) => "MfaDetail_dynamic",
        ("MfaDetail", false) => "MfaDetail_string",
        ("Status", true) => "Status_dynamic",
        _ => "Status_string",
    }
}

struct Row<'a> {
    ctx: &'a Ctx,
    e: &'a SignIn,
    props: J<'a>,
    /// Pretty-print the JSON string columns, as some exports do.
    pretty: bool,
    /// Which half of a `_dynamic`/`_string` pair holds the value.
    dynamic_half: bool,
}

impl<'a> Row<'a> {
    fn json(&self, key: &str) -> String {
        let Some(v) = self.props.get(key) else {
            return String::new();
        };
        let mut s = String::new();
        json::write(
            v,
            if self.pretty {
                Style::Pretty
            } else {
                Style::Compact
            },
            &mut s,
        );
        s
    }

    fn compact(&self, key: &str) -> String {
        self.props
            .get(key)
            .map(|v| json::to_string(v, Style::Compact))
            .unwrap_or_default()
    }

    fn cell(&self, col: &str) -> Cow<'a, str> {
        let e = self.e;
        let b = |s: &'a str| Cow::Borrowed(s);
        let o = Cow::Owned;
        match col {
            "TenantId" => b(&self.ctx.workspace_id),
            "SourceSystem" => b("Azure AD"),
            "TimeGenerated [UTC]" => {
                // Ingestion lags the sign-in by seconds to minutes; readers
                // must use CreatedDateTime.
                let lag = (hash_salted(&e.request_id, 51) % 150_000_000) as i64;
                o(timefmt::la_datetime(e.time_us + lag))
            }
            "ResourceId" => o(format!(
                "/tenants/{}/providers/Microsoft.aadiam",
                self.ctx.tenant_id
            )),
            "OperationName" => b("Sign-in activity"),
            "OperationVersion" => b("1"),
            "Category" => b(super::azure_monitor::category(e.sign_in_type)),
            "ResultType" => o(e.error_code.to_string()),
            "ResultSignature" => b("None"),
            "ResultDescription" => b(&e.failure_reason),
            "DurationMs" => b("0"),
            "CorrelationId" => b(&e.correlation_id),
            "Resource" | "ResourceGroup" => b("Microsoft.aadiam"),
            "Identity" => b(&e.user_display_name),
            "Level" => b("4"),
            "Location" => b(&e.country),
            "AppDisplayName" => b(&e.app_name),
            "AppId" => b(&e.app_id),
            "AuthenticationContextClassReferences"
            | "AuthenticationRequirementPolicies"
            | "SessionLifetimePolicies" => b("[]"),
            "AuthenticationDetails" => o(self.json("authenticationDetails")),
            "AuthenticationMethodsUsed" => o(self.compact("authenticationMethodsUsed")),
            "AuthenticationProcessingDetails" => o(self.json("authenticationProcessingDetails")),
            "AuthenticationRequirement" => b(&e.authentication_requirement),
            "ClientAppUsed" => b(&e.client_app),
            "ConditionalAccessPolicies" => o(self.compact("appliedConditionalAccessPolicies")),
            "ConditionalAccessStatus" => b(&e.conditional_access_status),
            "CreatedDateTime [UTC]" => o(timefmt::la_datetime(e.time_us)),
            "DeviceDetail" => o(self.compact("deviceDetail")),
            "IsInteractive" => b(if e.sign_in_type == SignInType::Interactive {
                "TRUE"
            } else {
                "FALSE"
            }),
            "Id" | "OriginalRequestId" => b(&e.request_id),
            "IPAddress" => b(&e.ip),
            "IsRisky" => b(if e.risk_state == "atRisk" { "TRUE" } else { "" }),
            "LocationDetails" => o(self.compact("location")),
            "MfaDetail" => o(self.compact("mfaDetail")),
            "NetworkLocationDetails" => o(self.compact("networkLocationDetails")),
            "ProcessingTimeInMilliseconds" | "ProcessingTimeInMs" => {
                o(shape::processing_ms(e).to_string())
            }
            "RiskDetail" => o(self.text("riskDetail")),
            "RiskEventTypes" | "RiskEventTypes_V2" => o(self.compact("riskEventTypes_v2")),
            "RiskLevelAggregated" => b(&e.risk_level_aggregated),
            "RiskLevelDuringSignIn" => b(&e.risk_level_during_sign_in),
            "RiskState" => b(&e.risk_state),
            "ResourceDisplayName" => b(&e.resource),
            "ResourceIdentity" => o(shape::resource_id(e)),
            "ResourceServicePrincipalId" => {
                o(guid_for(&format!("{}:{}", self.ctx.tenant_id, e.resource)))
            }
            "Status" => o(self.compact("status")),
            "TokenIssuerType" => b("AzureAD"),
            "UserAgent" => b(&e.user_agent),
            "UserDisplayName" => b(&e.user_display_name),
            "UserId" => b(&e.user_id),
            "UserPrincipalName" => b(&e.user_principal_name),
            "AADTenantId" | "ResourceTenantId" => b(&self.ctx.tenant_id),
            "UserType" => b(shape::user_type(e, Flavor::AzureMonitor)),
            "SignInIdentifier" => b(&e.user_principal_name),
            "HomeTenantId" => o(shape::home_tenant(self.ctx, e)),
            "UniqueTokenIdentifier" => o(shape::unique_token_id(e)),
            "AutonomousSystemNumber" => o(e.asn.map(|a| a.to_string()).unwrap_or_default()),
            "AuthenticationProtocol" => b(shape::auth_protocol(e)),
            "CrossTenantAccessType" => b(shape::cross_tenant(e)),
            "SignInEventTypes" => o(self.compact("signInEventTypes")),
            "Type" => b(match e.sign_in_type {
                SignInType::Interactive => "SigninLogs",
                _ => "AADNonInteractiveUserSignInLogs",
            }),
            c if c.ends_with("_dynamic") || c.ends_with("_string") => {
                let dynamic = c.ends_with("_dynamic");
                if dynamic == self.dynamic_half {
                    let base = c.trim_end_matches("_dynamic").trim_end_matches("_string");
                    self.cell(base)
                } else {
                    b("")
                }
            }
            _ => b(""),
        }
    }

    fn text(&self, key: &str) -> String {
        match self.props.get(key) {
            Some(J::Str(s)) => s.to_string(),
            _ => String::new(),
        }
    }
}

fn write_file(
    ctx: &Ctx,
    records: &[&SignIn],
    header: &[&str],
    pretty_every: u64,
    rel: &str,
    out: &mut Output,
) -> Result<(), GenerateError> {
    let sink = out.create(rel)?;
    let mut csv = sink.csv(&csv::WriterBuilder::new());
    csv.row(header)?;
    for e in records {
        let h = hash_salted(&e.request_id, 53);
        let row = Row {
            ctx,
            e,
            props: shape::sign_in_object(ctx, e, Flavor::AzureMonitor),
            pretty: pretty_every > 0 && h.is_multiple_of(pretty_every),
            dynamic_half: (h >> 8).is_multiple_of(2),
        };
        let cells: Vec<Cow<'_, str>> = header.iter().map(|c| row.cell(c)).collect();
        csv.row(cells.iter().map(|c| c.as_bytes()))?;
    }
    csv.finish()
}

pub fn write(
    ds: &Dataset,
    ctx: &Ctx,
    opts: &GenerateOptions,
    dir: &str,
    out: &mut Output,
) -> Result<(), GenerateError> {
    let interactive: Vec<&SignIn> = ds
        .events
        .iter()
        .filter(|e| e.sign_in_type == SignInType::Interactive)
        .collect();
    write_file(
        ctx,
        &interactive,
        SIGNIN_LOGS,
        3,
        &format!("{dir}/SigninLogs-export.csv"),
        out,
    )?;

    let middle = opts.start_us + i64::from(opts.days.max(1)) * US_PER_DAY / 2;
    let (first, second): (Vec<&SignIn>, Vec<&SignIn>) = ds
        .events
        .iter()
        .filter(|e| e.sign_in_type == SignInType::NonInteractive)
        .partition(|e| e.time_us < middle);
    let header = non_interactive_header(false);
    write_file(
        ctx,
        &first,
        &header,
        0,
        &format!("{dir}/AADNonInteractiveUserSignInLogs-export-1.csv"),
        out,
    )?;
    let header = non_interactive_header(true);
    write_file(
        ctx,
        &second,
        &header,
        0,
        &format!("{dir}/AADNonInteractiveUserSignInLogs-export-2.csv"),
        out,
    )
}
