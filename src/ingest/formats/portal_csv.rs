//! Entra admin center "Download CSV" files: `InteractiveSignIns_*`,
//! `NonInteractiveSignIns_*`, `ApplicationSignIns_*`, `MSISignIns_*` and
//! the `*_AuthDetails_*` companions.
//!
//! Columns are found by name (the portal adds columns over time, pads some
//! names with spaces and repeats `Incoming token type`). The sign-in type
//! is only in the file name.

use super::{
    cell, ip_field, type_from_file_name, AuthDetail, CsvFormat, CsvRows, Ctx, Header, Row,
    RowResult,
};
use crate::ingest::accounting::Reject;
use crate::ingest::fields::{lowercase, parse_asn, parse_bool, parse_code, protocol_value};
use crate::model::codes::status_class;
use crate::model::time::parse_time;
use crate::model::{Id, SignIn, SignInType, SourceFormat, Text};

pub struct PortalCsv;

#[derive(Default)]
struct Cols {
    date: Option<usize>,
    request_id: Option<usize>,
    correlation_id: Option<usize>,
    session_id: Option<usize>,
    user_id: Option<usize>,
    user: Option<usize>,
    username: Option<usize>,
    sp_id: Option<usize>,
    sp_name: Option<usize>,
    ip: Option<usize>,
    location: Option<usize>,
    code: Option<usize>,
    reason: Option<usize>,
    details: Option<usize>,
    app: Option<usize>,
    app_id: Option<usize>,
    resource: Option<usize>,
    client_app: Option<usize>,
    user_agent: Option<usize>,
    device_id: Option<usize>,
    browser: Option<usize>,
    os: Option<usize>,
    compliant: Option<usize>,
    managed: Option<usize>,
    mfa_result: Option<usize>,
    mfa_method: Option<usize>,
    auth_requirement: Option<usize>,
    asn: Option<usize>,
    ca: Option<usize>,
    risk_during: Option<usize>,
    risk_aggregated: Option<usize>,
    risk_state: Option<usize>,
    risk_events: Option<usize>,
    protocol: Option<usize>,
    transfer: Option<usize>,
    incoming_token: Option<usize>,
    token_id: Option<usize>,
}

struct SignInRows {
    c: Cols,
    sign_in_type: SignInType,
    note: Option<String>,
}

struct AuthDetailRows {
    request_id: usize,
    method: Option<usize>,
    succeeded: Option<usize>,
    result: Option<usize>,
}

impl CsvFormat for PortalCsv {
    fn format(&self) -> SourceFormat {
        SourceFormat::PortalCsv
    }

    fn bind(&self, header: &[String], ctx: &Ctx) -> Option<Result<Box<dyn CsvRows>, String>> {
        let h = Header::new(header);
        let auth_details = h.has("Authentication method") && !h.has("Sign-in error code");
        if auth_details || ctx.file_name.to_ascii_lowercase().contains("_authdetails_") {
            let request_id = h.find("Request ID")?;
            return Some(Ok(Box::new(AuthDetailRows {
                request_id,
                method: h.find("Authentication method"),
                succeeded: h.find("Succeeded"),
                result: h.find("Result detail"),
            })));
        }
        if !(h.has("Date (UTC)") || (h.has("Request ID") && h.has("Sign-in error code"))) {
            return None;
        }
        let c = Cols {
            date: h.find_any(&["Date (UTC)", "Date"]),
            request_id: h.find("Request ID"),
            correlation_id: h.find("Correlation ID"),
            session_id: h.find("Session ID"),
            user_id: h.find("User ID"),
            user: h.find("User"),
            username: h.find_any(&["Username", "User principal name"]),
            sp_id: h.find("Service principal ID"),
            sp_name: h.find("Service principal name"),
            ip: h.find("IP address"),
            location: h.find("Location"),
            code: h.find("Sign-in error code"),
            reason: h.find("Failure reason"),
            details: h.find("Additional Details"),
            app: h.find("Application"),
            app_id: h.find("Application ID"),
            resource: h.find("Resource"),
            client_app: h.find("Client app"),
            user_agent: h.find("User agent"),
            device_id: h.find("Device ID"),
            browser: h.find("Browser"),
            os: h.find("Operating System"),
            compliant: h.find("Compliant"),
            managed: h.find("Managed"),
            mfa_result: h.find("Multifactor authentication result"),
            mfa_method: h.find("Multifactor authentication auth method"),
            auth_requirement: h.find("Authentication requirement"),
            asn: h.find("Autonomous system number"),
            ca: h.find("Conditional Access"),
            risk_during: h.find_any(&["Risk level during sign-in", "Risk level (during sign-in)"]),
            risk_aggregated: h.find_any(&["Risk level aggregated", "Risk level (aggregated)"]),
            risk_state: h.find("Risk state"),
            risk_events: h.find_any(&["Risk event types", "Risk event types v2"]),
            protocol: h.find("Authentication Protocol"),
            transfer: h.find("Original transfer method"),
            // The portal repeats this header; both copies hold the same.
            incoming_token: h.find("Incoming token type"),
            token_id: h.find("Unique token identifier"),
        };
        let mut missing = Vec::new();
        if c.date.is_none() {
            missing.push("Date (UTC)");
        }
        if c.code.is_none() {
            missing.push("Sign-in error code");
        }
        if !missing.is_empty() {
            return Some(Err(format!(
                "portal CSV is missing required column(s): {}",
                missing.join(", ")
            )));
        }
        let (sign_in_type, note) = match type_from_file_name(&ctx.file_name) {
            Some(t) => (t, None),
            None if c.sp_id.is_some() => (SignInType::ServicePrincipal, Some("sign-in type taken from the service-principal columns (file name does not say)".to_string())),
            None => (SignInType::Interactive, Some("file name does not say interactive or non-interactive; assumed interactive".to_string())),
        };
        Some(Ok(Box::new(SignInRows {
            c,
            sign_in_type,
            note,
        })))
    }
}

impl CsvRows for SignInRows {
    fn format(&self) -> SourceFormat {
        SourceFormat::PortalCsv
    }

    fn notes(&self) -> Vec<String> {
        self.note.iter().cloned().collect()
    }

    fn map(&self, row: &[&str], _ctx: &Ctx) -> RowResult {
        let c = &self.c;
        let date = cell(row, c.date);
        let Some(time_us) = parse_time(date) else {
            return Err(if date.is_empty() {
                Reject::NoTime {
                    field: "Date (UTC)",
                }
            } else {
                Reject::BadTime {
                    field: "Date (UTC)",
                    value: date.chars().take(40).collect(),
                }
            });
        };
        let code_text = cell(row, c.code);
        let Some(error_code) = parse_code(code_text) else {
            return Err(Reject::BadErrorCode {
                field: "Sign-in error code",
                value: code_text.chars().take(40).collect(),
            });
        };
        let (city, state, country) = split_location(cell(row, c.location));
        let display = Text::from(first_filled(cell(row, c.user), cell(row, c.sp_name)));
        let user_id = Text::from(first_filled(cell(row, c.user_id), cell(row, c.sp_id)));
        let (ip, flaw) = ip_field("IP address", cell(row, c.ip));
        let s = SignIn {
            time_us,
            request_id: Id::from(cell(row, c.request_id)),
            correlation_id: Id::from(cell(row, c.correlation_id)),
            session_id: Text::from(cell(row, c.session_id)),
            user_principal_name: lowercase(cell(row, c.username)),
            user_id,
            user_display_name: display,
            ip,
            error_code,
            status: status_class(error_code),
            failure_reason: Text::from(cell(row, c.reason)),
            additional_details: Text::from(cell(row, c.details)),
            app_name: Text::from(cell(row, c.app)),
            app_id: Text::from(cell(row, c.app_id)),
            resource: Text::from(cell(row, c.resource)),
            client_app: Text::from(cell(row, c.client_app)),
            user_agent: Text::from(cell(row, c.user_agent)),
            os: Text::from(cell(row, c.os)),
            browser: Text::from(cell(row, c.browser)),
            device_id: Text::from(cell(row, c.device_id)),
            compliant: parse_bool(cell(row, c.compliant)),
            managed: parse_bool(cell(row, c.managed)),
            city,
            state,
            country,
            asn: parse_asn(cell(row, c.asn)),
            sign_in_type: self.sign_in_type,
            risk_level_during_sign_in: Text::from(cell(row, c.risk_during)),
            risk_level_aggregated: Text::from(cell(row, c.risk_aggregated)),
            risk_state: Text::from(cell(row, c.risk_state)),
            risk_event_types: Text::from(cell(row, c.risk_events)),
            conditional_access_status: Text::from(cell(row, c.ca)),
            authentication_requirement: Text::from(cell(row, c.auth_requirement)),
            mfa_method: Text::from(cell(row, c.mfa_method)),
            mfa_result: Text::from(cell(row, c.mfa_result)),
            auth_protocol: protocol_value(cell(row, c.protocol)),
            transfer_method: protocol_value(cell(row, c.transfer)),
            incoming_token: protocol_value(cell(row, c.incoming_token)),
            token_id: Id::from(cell(row, c.token_id)),
            source_format: Some(SourceFormat::PortalCsv),
            ..SignIn::default()
        };
        Ok(Row::sign_in((s, flaw)))
    }
}

impl CsvRows for AuthDetailRows {
    fn format(&self) -> SourceFormat {
        SourceFormat::PortalCsv
    }

    fn map(&self, row: &[&str], _ctx: &Ctx) -> RowResult {
        let request_id = cell(row, Some(self.request_id));
        if request_id.is_empty() {
            return Err(Reject::NoRequestId);
        }
        Ok(Row::AuthDetail(AuthDetail {
            request_id: request_id.to_string(),
            method: cell(row, self.method).to_string(),
            succeeded: parse_bool(cell(row, self.succeeded)),
            result_detail: cell(row, self.result).to_string(),
        }))
    }
}

fn first_filled<'a>(a: &'a str, b: &'a str) -> &'a str {
    if a.is_empty() {
        b
    } else {
        a
    }
}

/// `City, State, CC` from the right, since city names may hold commas.
fn split_location(loc: &str) -> (Text, Text, Text) {
    let mut parts = loc.rsplitn(3, ',').map(str::trim);
    let (last, middle, first) = (parts.next(), parts.next(), parts.next());
    let t = |s: Option<&str>| Text::from(s.unwrap_or(""));
    match (first, middle, last) {
        (Some(_), Some(_), Some(_)) => (t(first), t(middle), t(last)),
        (None, Some(_), Some(_)) => (Text::default(), t(middle), t(last)),
        (None, None, Some(cc)) if cc.len() == 2 => (Text::default(), Text::default(), t(last)),
        _ => (Text::default(), Text::default(), Text::default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(text: &str) -> Vec<String> {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes());
        r.records()
            .next()
            .unwrap()
            .unwrap()
            .iter()
            .map(String::from)
            .collect()
    }

    #[test]
    fn interactive_header_with_quirks_binds() {
        let h = header(include_str!(
            "../../../tests/fixtures/reference/portal-csv-InteractiveSignIns-header.SECONDARY.txt"
        ));
        let ctx = Ctx {
            file_name: "NonInteractiveSignIns_2025-03-01_2025-03-02.csv".into(),
        };
        let rows = PortalCsv.bind(&h, &ctx).unwrap().unwrap();
        let mut row = vec![""; h.len()];
        let hh = Header::new(&h);
        row[hh.find("Date (UTC)").unwrap()] = "2025-03-02T07:41:09Z";
        row[hh.find("Sign-in error code").unwrap()] = "50126";
        row[hh.find("Username").unwrap()] = "Alex@Contoso.com";
        row[hh.find("Application ID").unwrap()] = "app-guid";
        row[hh.find("Autonomous system number").unwrap()] = "8075";
        row[hh.find("Location").unwrap()] = "Lagos, Lagos, NG";
        let s = match rows.map(&row, &ctx).unwrap() {
            Row::SignIn(s) | Row::Flawed(s, _) => s,
            other => panic!("{other:?}"),
        };
        assert_eq!(s.sign_in_type, SignInType::NonInteractive);
        assert_eq!(s.user_principal_name, "alex@contoso.com");
        assert_eq!(s.app_id, "app-guid");
        assert_eq!(s.asn, Some(8075));
        assert_eq!((s.city.as_str(), s.country.as_str()), ("Lagos", "NG"));
    }

    #[test]
    fn application_header_is_service_principal() {
        let h = header(include_str!(
            "../../../tests/fixtures/reference/portal-csv-ApplicationSignIns-header.SECONDARY.txt"
        ));
        let rows = PortalCsv.bind(&h, &Ctx::default()).unwrap().unwrap();
        assert!(rows.notes()[0].contains("service-principal"));
    }

    #[test]
    fn missing_code_column_is_a_clear_error() {
        let h: Vec<String> = ["Date (UTC)", "Request ID", "Username"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let err = PortalCsv.bind(&h, &Ctx::default()).unwrap().err().unwrap();
        assert!(err.contains("Sign-in error code"));
    }
}
