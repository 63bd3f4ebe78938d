//! Log Analytics / Microsoft Sentinel exports of `SigninLogs`,
//! `AADNonInteractiveUserSignInLogs` (and the service-principal and
//! managed-identity tables) to CSV.
//!
//! The columns are the table's PascalCase names with `[UTC]`-suffixed
//! datetime headers; dynamic columns hold JSON text, sometimes split into
//! `_dynamic`/`_string` pairs. A row is rebuilt into a Graph-shaped object
//! and mapped by the Graph mapper, so the field semantics live in one place.

use super::graph::{first_step_time, map_signin};
use super::{cell, CsvFormat, CsvRows, Ctx, Header, Row, RowResult};
use crate::ingest::accounting::Reject;
use crate::ingest::json::value::JVal;
use crate::model::{SignInType, SourceFormat, Text};
use std::borrow::Cow;

pub struct LogAnalyticsCsv;

/// Graph property <- Log Analytics column(s). JSON-valued columns are
/// listed in `JSON_COLUMNS`.
const SCALARS: &[(&str, &[&str])] = &[
    ("createdDateTime", &["CreatedDateTime", "TimeGenerated"]),
    ("id", &["Id", "OriginalRequestId"]),
    ("correlationId", &["CorrelationId"]),
    ("sessionId", &["SessionId"]),
    ("userPrincipalName", &["UserPrincipalName"]),
    ("userId", &["UserId"]),
    ("userDisplayName", &["UserDisplayName", "Identity"]),
    ("ipAddress", &["IPAddress"]),
    ("appDisplayName", &["AppDisplayName"]),
    ("appId", &["AppId"]),
    ("resourceDisplayName", &["ResourceDisplayName"]),
    ("clientAppUsed", &["ClientAppUsed"]),
    ("userAgent", &["UserAgent"]),
    ("autonomousSystemNumber", &["AutonomousSystemNumber"]),
    ("isInteractive", &["IsInteractive"]),
    ("riskLevelDuringSignIn", &["RiskLevelDuringSignIn"]),
    ("riskLevelAggregated", &["RiskLevelAggregated"]),
    ("riskState", &["RiskState"]),
    ("conditionalAccessStatus", &["ConditionalAccessStatus"]),
    ("authenticationRequirement", &["AuthenticationRequirement"]),
    ("servicePrincipalId", &["ServicePrincipalId"]),
    ("servicePrincipalName", &["ServicePrincipalName"]),
    ("authenticationProtocol", &["AuthenticationProtocol"]),
    ("originalTransferMethod", &["OriginalTransferMethod"]),
    ("incomingTokenType", &["IncomingTokenType"]),
    ("uniqueTokenIdentifier", &["UniqueTokenIdentifier"]),
];

const JSON_COLUMNS: &[(&str, &str)] = &[
    ("status", "Status"),
    ("location", "LocationDetails"),
    ("deviceDetail", "DeviceDetail"),
    ("mfaDetail", "MfaDetail"),
    ("authenticationDetails", "AuthenticationDetails"),
    ("riskEventTypes_v2", "RiskEventTypes_V2"),
    ("riskEventTypes", "RiskEventTypes"),
    ("signInEventTypes", "SignInEventTypes"),
];

/// (graph name, plain column, `_dynamic` column, `_string` column)
type JsonColumn = (&'static str, Option<usize>, Option<usize>, Option<usize>);

struct Bound {
    scalars: Vec<(&'static str, Option<usize>)>,
    /// No time column: the time comes from the authentication steps.
    time_from_steps: bool,
    json: Vec<JsonColumn>,
    result_type: Option<usize>,
    result_description: Option<usize>,
    location: Option<usize>,
    table: Option<usize>,
    category: Option<usize>,
}

impl CsvFormat for LogAnalyticsCsv {
    fn format(&self) -> SourceFormat {
        SourceFormat::LogAnalyticsCsv
    }

    fn bind(&self, header: &[String], _ctx: &Ctx) -> Option<Result<Box<dyn CsvRows>, String>> {
        let h = Header::new(header);
        let looks_like = h.has("ResultType")
            || (h.has("UserPrincipalName")
                && h.has("IPAddress")
                && (h.has("TimeGenerated") || h.has("CreatedDateTime")));
        if !looks_like || h.has("AuditData") {
            return None;
        }
        if let Some(table) = other_table(&h) {
            return Some(Err(format!(
                "not a sign-in export: this is a Log Analytics {table} export (its columns are those of the {table} table)"
            )));
        }
        let scalars: Vec<_> = SCALARS
            .iter()
            .map(|(g, cols)| (*g, h.find_any(cols)))
            .collect();
        let json: Vec<_> = JSON_COLUMNS
            .iter()
            .map(|(g, c)| {
                (
                    *g,
                    h.find(c),
                    h.find(&format!("{c}_dynamic")),
                    h.find(&format!("{c}_string")),
                )
            })
            .collect();
        let time_from_steps = scalars[0].1.is_none() && h.has("AuthenticationDetails");
        let b = Bound {
            scalars,
            time_from_steps,
            json,
            result_type: h.find("ResultType"),
            result_description: h.find("ResultDescription"),
            location: h.find("Location"),
            table: h.find("Type"),
            category: h.find("Category"),
        };
        if b.scalars[0].1.is_none() && !b.time_from_steps {
            return Some(Err(
                "Log Analytics sign-in export has neither CreatedDateTime nor TimeGenerated nor AuthenticationDetails, so no time for its sign-ins".into(),
            ));
        }
        let has_status = b.json[0].1.is_some() || b.json[0].2.is_some() || b.json[0].3.is_some();
        if b.result_type.is_none() && !has_status {
            return Some(Err(
                "Log Analytics export has neither ResultType nor Status".into(),
            ));
        }
        Some(Ok(Box::new(b)))
    }
}

impl CsvRows for Bound {
    fn format(&self) -> SourceFormat {
        SourceFormat::LogAnalyticsCsv
    }

    fn notes(&self) -> Vec<String> {
        if self.time_from_steps {
            vec!["no TimeGenerated or CreatedDateTime column: each sign-in's time is the earliest step time in its AuthenticationDetails".into()]
        } else {
            Vec::new()
        }
    }

    fn map(&self, row: &[&str], _ctx: &Ctx) -> RowResult {
        let table = cell(row, self.table);
        if !table.is_empty() && !is_sign_in_table(table) {
            return Ok(Row::Skip(format!(
                "Log Analytics table {} is not a sign-in log",
                table.chars().take(60).collect::<String>()
            )));
        }
        let mut members: Vec<(Cow<str>, JVal)> = Vec::with_capacity(40);
        for (g, idx) in &self.scalars {
            let v = cell(row, *idx);
            if !v.is_empty() {
                members.push((Cow::Borrowed(*g), JVal::Str(Cow::Borrowed(v))));
            }
        }
        let mut status_seen = false;
        for (g, plain, dynamic, string) in &self.json {
            let text = [*plain, *dynamic, *string]
                .into_iter()
                .map(|i| cell(row, i))
                .find(|t| !t.is_empty());
            let Some(text) = text else { continue };
            let value = match JVal::parse(text) {
                Ok(v) => v,
                // Arrays of names are sometimes plain text.
                Err(_) if g.starts_with("risk") || g.starts_with("signIn") => {
                    JVal::Str(Cow::Borrowed(text))
                }
                Err(e) => {
                    return Err(Reject::BadJsonCell {
                        column: g,
                        error: e.to_string(),
                    })
                }
            };
            if *g == "status" {
                status_seen = true;
                members.push((
                    Cow::Borrowed("status"),
                    with_result_type(
                        value,
                        cell(row, self.result_type),
                        cell(row, self.result_description),
                    ),
                ));
            } else {
                members.push((Cow::Borrowed(*g), value));
            }
        }
        if !status_seen {
            members.push((
                Cow::Borrowed("status"),
                with_result_type(
                    JVal::Obj(Vec::new()),
                    cell(row, self.result_type),
                    cell(row, self.result_description),
                ),
            ));
        }
        let obj = JVal::Obj(members);
        let fallback = if self.time_from_steps {
            match first_step_time(&obj) {
                Some(t) => Some(t),
                None => {
                    return Err(Reject::NoTime {
                        field: "step time in AuthenticationDetails",
                    })
                }
            }
        } else {
            None
        };
        let (mut s, flaw) = map_signin(&obj, fallback)?;
        if s.country.is_empty() {
            s.country = Text::from(cell(row, self.location));
        }
        let table = cell(row, self.table).to_ascii_lowercase();
        let category = cell(row, self.category).to_ascii_lowercase();
        if let Some(t) = type_of_table(&table).or_else(|| type_of_table(&category)) {
            s.sign_in_type = t;
        }
        s.source_format = Some(
            if table == "adfssigninlogs" || category == "adfssigninlogs" {
                SourceFormat::Adfs
            } else {
                SourceFormat::LogAnalyticsCsv
            },
        );
        Ok(Row::sign_in((s, flaw)))
    }
}

fn type_of_table(t: &str) -> Option<SignInType> {
    Some(match t {
        "signinlogs" => SignInType::Interactive,
        "aadnoninteractiveusersigninlogs" | "noninteractiveusersigninlogs" => {
            SignInType::NonInteractive
        }
        "aadserviceprincipalsigninlogs" | "serviceprincipalsigninlogs" => {
            SignInType::ServicePrincipal
        }
        "aadmanagedidentitysigninlogs" | "managedidentitysigninlogs" => SignInType::ManagedIdentity,
        _ => return None,
    })
}

/// The Log Analytics tables of sign-ins, AD FS's included.
fn is_sign_in_table(t: &str) -> bool {
    [
        "SigninLogs",
        "AADNonInteractiveUserSignInLogs",
        "AADServicePrincipalSignInLogs",
        "AADManagedIdentitySignInLogs",
        "ADFSSignInLogs",
        "NonInteractiveUserSignInLogs",
        "ServicePrincipalSignInLogs",
        "ManagedIdentitySignInLogs",
    ]
    .iter()
    .any(|n| n.eq_ignore_ascii_case(t))
}

/// The table a header belongs to when its columns are those of a
/// Log Analytics table that is not a sign-in log.
fn other_table(h: &Header) -> Option<&'static str> {
    if h.has("UserPrincipalName") {
        return None;
    }
    if h.has("OperationNameValue") || h.has("ActivityStatusValue") || h.has("CategoryValue") {
        Some("AzureActivity")
    } else if h.has("ActivityDisplayName") || h.has("TargetResources") || h.has("InitiatedBy") {
        Some("AuditLogs")
    } else {
        None
    }
}

/// Fills `errorCode` / `failureReason` from `ResultType` /
/// `ResultDescription` when the Status JSON lacks them.
fn with_result_type<'a>(status: JVal<'a>, result_type: &'a str, description: &'a str) -> JVal<'a> {
    let mut members = match status {
        JVal::Obj(m) => m,
        _ => Vec::new(),
    };
    let has = |m: &Vec<(Cow<str>, JVal)>, k: &str| {
        m.iter()
            .any(|(n, v)| n.eq_ignore_ascii_case(k) && *v != JVal::Null)
    };
    if !has(&members, "errorCode") && !result_type.is_empty() {
        members.push((
            Cow::Borrowed("errorCode"),
            JVal::Str(Cow::Borrowed(result_type)),
        ));
    }
    if !has(&members, "failureReason") && !description.is_empty() {
        members.push((
            Cow::Borrowed("failureReason"),
            JVal::Str(Cow::Borrowed(description)),
        ));
    }
    JVal::Obj(members)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SignIn;

    fn read(text: &str) -> Vec<SignIn> {
        let mut r = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(text.as_bytes());
        let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
        let rows = LogAnalyticsCsv
            .bind(&header, &Ctx::default())
            .unwrap()
            .unwrap();
        r.records()
            .map(|rec| {
                let rec = rec.unwrap();
                let cells: Vec<&str> = rec.iter().collect();
                match rows.map(&cells, &Ctx::default()).unwrap() {
                    Row::SignIn(s) | Row::Flawed(s, _) => s,
                    other => panic!("{other:?}"),
                }
            })
            .collect()
    }

    #[test]
    fn sentinel_training_lab_multiline_json_cells() {
        let s = read(include_str!("../../../tests/fixtures/loganalytics-csv/sentinel-training-lab-sign-in_adelete.EXCERPT-first7.csv"));
        assert_eq!(s.len(), 7);
        assert!(s
            .iter()
            .all(|r| r.error_code == 0 && r.ip == "175.45.176.99"));
        assert!(s.iter().all(|r| r.time_us > 1_600_000_000_000_000));
    }

    #[test]
    fn portal_export_excerpt_with_interrupt() {
        let s = read(include_str!(
            "../../../tests/fixtures/loganalytics-csv/signinlogs-portal-export-excerpt.csv"
        ));
        let mut codes: Vec<_> = s.iter().map(|r| r.error_code).collect();
        codes.sort();
        assert_eq!(codes, vec![0, 50140]);
        assert!(s.iter().any(|r| r.risk_state == "atRisk"));
        // "9/19/2023, 1:45:17.287 PM" style values, read as UTC.
        assert!(
            s.iter().all(|r| r.time_us / 1_000_000 / 86_400 == 19_619),
            "{:?}",
            s.iter().map(|r| r.time_us).collect::<Vec<_>>()
        );
    }
}
