//! Microsoft Graph `signIn` objects: portal JSON downloads, Graph
//! `auditLogs/signIns` pages and what collectors write from them
//! (Microsoft-Extractor-Suite, CISA Goose, DFIR-O365RC).
//!
//! Lookups ignore case, so the camelCase Graph names and the PascalCase
//! names of the older AzureAD PowerShell module map through one table. The
//! same mapping serves the `properties` of Azure Monitor records and the
//! dynamic columns of Log Analytics exports.

use super::{ip_field, Ctx, JsonFormat, Mapped, Row, RowResult};
use crate::ingest::accounting::Reject;
use crate::ingest::fields::{lowercase, parse_asn, parse_code, protocol_value};
use crate::ingest::json::tape::Tv;
use crate::ingest::json::view::Json;
use crate::model::codes::status_class;
use crate::model::time::parse_time;
use crate::model::{SignIn, SignInType, SourceFormat, Text};

pub struct Graph;

impl JsonFormat for Graph {
    fn format(&self) -> SourceFormat {
        SourceFormat::GraphJson
    }

    fn claims(&self, r: Tv) -> bool {
        r.has("createdDateTime")
    }

    fn map(&self, r: Tv, _ctx: &Ctx) -> RowResult {
        let (mut s, flaw) = map_signin(r, None)?;
        s.source_format = Some(SourceFormat::GraphJson);
        Ok(Row::sign_in((s, flaw)))
    }
}

/// Maps a Graph-shaped sign-in object. `fallback_time` is used when the
/// object has no readable `createdDateTime` (Azure Monitor's envelope
/// `time`).
pub fn map_signin<'r>(r: impl Json<'r>, fallback_time: Option<i64>) -> Result<Mapped, Reject> {
    let time_text = r.get("createdDateTime").text();
    let time_us = match parse_time(&time_text) {
        Some(t) => t,
        None => match fallback_time {
            Some(t) => t,
            None if time_text.is_empty() => {
                return Err(Reject::NoTime {
                    field: "createdDateTime",
                })
            }
            None => {
                return Err(Reject::BadTime {
                    field: "createdDateTime",
                    value: clip(&time_text),
                })
            }
        },
    };
    let status = r.get("status");
    let code_val = status.get("errorCode");
    let error_code = match code_val {
        v if v.is_null() => {
            return Err(Reject::NoErrorCode {
                field: "status.errorCode",
            })
        }
        v => match v
            .as_i64()
            .filter(|c| (0..=99_999_999).contains(c))
            .or_else(|| parse_code(&v.text()))
        {
            Some(c) => c,
            None => {
                return Err(Reject::BadErrorCode {
                    field: "error code",
                    value: clip(&v.text()),
                })
            }
        },
    };
    Ok(fill(r, time_us, error_code))
}

/// The earliest `authenticationStepDateTime` of the record's
/// authentication steps: when the sign-in happened, for exports whose
/// chosen columns left out its own time.
pub fn first_step_time<'r>(r: impl Json<'r>) -> Option<i64> {
    r.get("authenticationDetails")
        .items()
        .filter_map(|step| parse_time(&step.get("authenticationStepDateTime").text()))
        .min()
}

fn clip(s: &str) -> String {
    s.chars().take(60).collect()
}

/// Everything but time and code, which callers decide (they may come from
/// an envelope).
pub fn fill<'r>(r: impl Json<'r>, time_us: i64, error_code: i64) -> Mapped {
    let status = r.get("status");
    let loc = r.get("location");
    let dev = r.get("deviceDetail");
    let geo = loc.get("geoCoordinates");
    let (mut latitude, mut longitude) =
        (geo.get("latitude").as_f64(), geo.get("longitude").as_f64());
    // Managed-identity records carry 0.0/0.0 for "unknown".
    if latitude == Some(0.0) && longitude == Some(0.0) {
        latitude = None;
        longitude = None;
    }
    let mut risk_event_types = r.get("riskEventTypes_v2").join_field();
    if risk_event_types.is_empty() {
        risk_event_types = r.get("riskEventTypes").join_field();
    }
    let (mfa_method, mfa_result) = mfa(r);
    let mut display = r.get("userDisplayName").field();
    let sign_in_type = sign_in_type(r);
    if display.is_empty()
        && matches!(
            sign_in_type,
            SignInType::ServicePrincipal | SignInType::ManagedIdentity
        )
    {
        display = r.get("servicePrincipalName").field();
    }
    let mut user_id = r.get("userId").field();
    if user_id.is_empty()
        && matches!(
            sign_in_type,
            SignInType::ServicePrincipal | SignInType::ManagedIdentity
        )
    {
        // The service principal is the account that signed in.
        user_id = r.get("servicePrincipalId").field();
    }
    let (ip, flaw) = ip_field("ipAddress", &r.get("ipAddress").text());
    let s = SignIn {
        time_us,
        request_id: r.get("id").id(),
        correlation_id: r.get("correlationId").id(),
        session_id: r.get("sessionId").field(),
        user_principal_name: lowercase(&r.get("userPrincipalName").text()),
        user_id,
        user_display_name: display,
        ip,
        error_code,
        status: status_class(error_code),
        failure_reason: status.get("failureReason").field(),
        additional_details: status.get("additionalDetails").field(),
        app_name: r.get("appDisplayName").field(),
        app_id: r.get("appId").field(),
        resource: r.get("resourceDisplayName").field(),
        client_app: r.get("clientAppUsed").field(),
        user_agent: r.get("userAgent").field(),
        os: dev.get("operatingSystem").field(),
        browser: dev.get("browser").field(),
        device_id: dev.get("deviceId").field(),
        compliant: dev.get("isCompliant").as_bool(),
        managed: dev.get("isManaged").as_bool(),
        city: loc.get("city").field(),
        state: loc.get("state").field(),
        country: loc.get("countryOrRegion").field(),
        latitude,
        longitude,
        asn: parse_asn(&r.get("autonomousSystemNumber").text()),
        sign_in_type,
        risk_level_during_sign_in: r.get("riskLevelDuringSignIn").field(),
        risk_level_aggregated: r.get("riskLevelAggregated").field(),
        risk_state: r.get("riskState").field(),
        risk_event_types,
        conditional_access_status: r.get("conditionalAccessStatus").field(),
        authentication_requirement: r.get("authenticationRequirement").field(),
        mfa_method,
        mfa_result,
        auth_protocol: protocol_value(&r.get("authenticationProtocol").text()),
        transfer_method: protocol_value(&r.get("originalTransferMethod").text()),
        incoming_token: protocol_value(&r.get("incomingTokenType").text()),
        token_id: r.get("uniqueTokenIdentifier").id(),
        source_format: None,
        source_file: 0,
        source_record: 0,
        lockout: Default::default(),
    };
    (s, flaw)
}

/// The type from the strongest signal present: `signInEventTypes` (beta),
/// then service-principal / managed-identity markers, then `isInteractive`.
pub fn sign_in_type<'r>(r: impl Json<'r>) -> SignInType {
    for t in r.get("signInEventTypes").items() {
        match t.text().to_ascii_lowercase().as_str() {
            "interactiveuser" => return SignInType::Interactive,
            "noninteractiveuser" => return SignInType::NonInteractive,
            "serviceprincipal" => return SignInType::ServicePrincipal,
            "managedidentity" => return SignInType::ManagedIdentity,
            _ => {}
        }
    }
    let msi_type = r.at(&["managedServiceIdentity", "msiType"]);
    for marker in [msi_type, r.get("managedIdentityType")] {
        let t = marker.text();
        if !t.trim().is_empty() && !t.trim().eq_ignore_ascii_case("none") {
            return SignInType::ManagedIdentity;
        }
    }
    if r.get("userPrincipalName").text().trim().is_empty()
        && !r.get("servicePrincipalId").text().trim().is_empty()
    {
        return SignInType::ServicePrincipal;
    }
    match r.get("isInteractive").as_bool() {
        Some(false) => SignInType::NonInteractive,
        _ => SignInType::Interactive,
    }
}

/// MFA method and result: the deprecated `mfaDetail` when filled, else the
/// first non-password step of `authenticationDetails`.
fn mfa<'r>(r: impl Json<'r>) -> (Text, Text) {
    let detail = r.get("mfaDetail");
    let method = detail.get("authMethod").field();
    if !method.is_empty() {
        return (method, detail.get("authDetail").field());
    }
    for step in r.get("authenticationDetails").items() {
        let m = step.get("authenticationMethod").field();
        if m.is_empty()
            || m.eq_ignore_ascii_case("password")
            || m.eq_ignore_ascii_case("previously satisfied")
        {
            continue;
        }
        let result = step.get("authenticationStepResultDetail").field();
        let result = if result.is_empty() {
            match step.get("succeeded").as_bool() {
                Some(true) => Text::from("succeeded"),
                Some(false) => Text::from("failed"),
                None => Text::default(),
            }
        } else {
            result
        };
        return (m, result);
    }
    (Text::default(), Text::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::json::value::JVal;

    #[test]
    fn graph_docs_sample_maps() {
        let text = include_str!(
            "../../../tests/fixtures/graph-api/msdocs-beta-signin-list-example1-response.json"
        );
        let s = Tv::with_record(text.as_bytes(), |v| {
            let rec = v.unwrap().get("value").items().next().unwrap();
            assert!(Graph.claims(rec));
            map_signin(rec, None).unwrap().0
        });
        assert_eq!(s.error_code, 50126);
        assert_eq!(s.status, crate::model::StatusClass::Failure);
        assert!(!s.user_principal_name.is_empty());
        assert_eq!(s.user_principal_name, s.user_principal_name.to_lowercase());
        assert!(s.time_us > 0);
        // The same record as a value tree (as Log Analytics builds one)
        // maps to the same sign-in.
        let v = JVal::parse(text).unwrap();
        let rec = v.get("value").items().next().unwrap();
        assert_eq!(map_signin(rec, None).unwrap().0, s);
    }

    #[test]
    fn pascal_case_and_string_codes() {
        let v = JVal::parse(r#"{"CreatedDateTime":"2024-03-02T07:41:09Z","UserPrincipalName":"Alex@Contoso.com","IpAddress":"203.0.113.5","Status":{"ErrorCode":"50053","FailureReason":"x"},"IsInteractive":false,"Location":{"CountryOrRegion":"NG","GeoCoordinates":{"Latitude":6.45,"Longitude":3.39}}}"#).unwrap();
        let (s, _) = map_signin(&v, None).unwrap();
        assert_eq!(s.user_principal_name, "alex@contoso.com");
        assert_eq!(s.error_code, 50053);
        assert_eq!(s.country, "NG");
        assert_eq!(s.latitude, Some(6.45));
        assert_eq!(s.sign_in_type, SignInType::NonInteractive);
    }

    #[test]
    fn missing_pieces_are_reasons() {
        let v =
            JVal::parse(r#"{"createdDateTime":"2024-13-02T07:41:09Z","status":{"errorCode":0}}"#)
                .unwrap();
        assert!(map_signin(&v, None)
            .unwrap_err()
            .to_string()
            .contains("createdDateTime"));
        let v = JVal::parse(r#"{"createdDateTime":"2024-03-02T07:41:09Z"}"#).unwrap();
        assert!(map_signin(&v, None)
            .unwrap_err()
            .to_string()
            .contains("errorCode"));
        let v = JVal::parse(
            r#"{"createdDateTime":"2024-03-02T07:41:09Z","status":{"errorCode":"abc"}}"#,
        )
        .unwrap();
        assert!(map_signin(&v, None).is_err());
    }
}
