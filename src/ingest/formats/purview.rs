//! Purview unified audit log: the three CSV export headers (new Purview
//! search, classic search, `Search-UnifiedAuditLog | Export-Csv`) and raw
//! AuditData objects (JSON Lines from collectors or the Management API).
//!
//! Only `UserLoggedIn` / `UserLoginFailed` from the AzureActiveDirectory
//! workload are sign-ins; every other operation is counted as skipped.
//! `ResultStatus` is ignored: real failures carry "Success" there.

use super::{cell, ip_field, CsvFormat, CsvRows, Ctx, Header, JsonFormat, Row, RowResult};
use crate::ingest::accounting::Reject;
use crate::ingest::fields::{lowercase, parse_bool, parse_code};
use crate::ingest::json::tape::Tv;
use crate::ingest::json::value::JVal;
use crate::ingest::json::view::Json;
use crate::model::codes::status_class;
use crate::model::time::parse_time;
use crate::model::{SignIn, SignInType, SourceFormat, Text};

pub struct AuditDataJson;

impl JsonFormat for AuditDataJson {
    fn format(&self) -> SourceFormat {
        SourceFormat::PurviewAudit
    }

    fn claims(&self, r: Tv) -> bool {
        r.has("CreationTime") && (r.has("Workload") || r.has("Operation") || r.has("RecordType"))
    }

    fn map(&self, r: Tv, _ctx: &Ctx) -> RowResult {
        map_audit_data(r, None)
    }
}

/// `LogonError` names for the codes collectors sometimes omit.
fn code_from_logon_error(e: &str) -> Option<i64> {
    Some(match e {
        "InvalidUserNameOrPassword" => 50126,
        "UserAccountNotFound" => 50034,
        "IdsLocked" => 50053,
        "UserAccountDisabled" => 50057,
        "UserStrongAuthClientAuthNRequired" => 50076,
        "AuthenticationFailedSasError" => 500121,
        "UserPasswordExpired" => 50055,
        "DeviceAuthenticationFailed" => 50155,
        _ => return None,
    })
}

pub fn map_audit_data<'r>(r: impl Json<'r>, fallback_time: Option<i64>) -> RowResult {
    let op = r.get("Operation").string();
    let workload = r.get("Workload").string();
    let is_signin_op =
        op.eq_ignore_ascii_case("UserLoggedIn") || op.eq_ignore_ascii_case("UserLoginFailed");
    if !is_signin_op
        || (!workload.is_empty() && !workload.eq_ignore_ascii_case("AzureActiveDirectory"))
    {
        let op = if op.is_empty() {
            "(none)".to_string()
        } else {
            op.chars().take(60).collect()
        };
        return Ok(Row::Skip(format!("audit operation {op} is not a sign-in")));
    }
    let time_us = match parse_time(&r.get("CreationTime").text()).or(fallback_time) {
        Some(t) => t,
        None => {
            return Err(Reject::NoTime {
                field: "readable CreationTime",
            })
        }
    };
    let logon_error = r.get("LogonError").field();
    let mut code_text = r.get("ErrorNumber").text().into_owned();
    if code_text.trim().is_empty() {
        code_text = r.get("ErrorCode").text().into_owned();
    }
    let error_code = if code_text.trim().is_empty() {
        if op.eq_ignore_ascii_case("UserLoggedIn") {
            0
        } else {
            match code_from_logon_error(&logon_error) {
                Some(c) => c,
                None => {
                    return Err(Reject::UnknownLogonError {
                        value: logon_error.chars().take(60).collect(),
                    })
                }
            }
        }
    } else {
        match parse_code(&code_text) {
            Some(c) => c,
            None => {
                return Err(Reject::BadErrorCode {
                    field: "ErrorNumber",
                    value: code_text.chars().take(40).collect(),
                })
            }
        }
    };
    let ext = r.get("ExtendedProperties");
    let dev = r.get("DeviceProperties");
    let (mut ip, mut flaw) = ip_field("ClientIP", &r.get("ClientIP").text());
    if ip.is_empty() {
        let (actor_ip, actor_flaw) = ip_field("ActorIpAddress", &r.get("ActorIpAddress").text());
        ip = actor_ip;
        flaw = flaw.or(actor_flaw);
    }
    let mut request_id = r.get("IntraSystemId").id();
    if request_id.is_empty() {
        request_id = r.get("Id").id();
    }
    let compliant = parse_bool(&dev.bag("IsCompliant").text())
        .or_else(|| parse_bool(&dev.bag("IsCompliantAndManaged").text()));
    let user_key = r.get("UserKey").text();
    let user_key = user_key.trim();
    let user_id = if user_key.len() == 36 && user_key.matches('-').count() == 4 {
        Text::from(user_key)
    } else {
        Text::default()
    };
    let s = SignIn {
        time_us,
        request_id,
        correlation_id: r.get("InterSystemsId").id(),
        session_id: dev.bag("SessionId").field(),
        user_principal_name: lowercase(&r.get("UserId").text()),
        user_id,
        ip,
        error_code,
        status: status_class(error_code),
        failure_reason: logon_error,
        app_id: r.get("ApplicationId").field(),
        user_agent: ext.bag("UserAgent").field(),
        os: dev.bag("OS").field(),
        browser: dev.bag("BrowserType").field(),
        device_id: dev.bag("Id").field(),
        compliant,
        managed: parse_bool(&dev.bag("IsCompliantAndManaged").text()),
        sign_in_type: SignInType::Interactive,
        source_format: Some(SourceFormat::PurviewAudit),
        ..SignIn::default()
    };
    Ok(Row::sign_in((s, flaw)))
}

pub struct PurviewCsv;

struct PurviewRows {
    audit: usize,
    date: Option<usize>,
    operation: Option<usize>,
}

impl CsvFormat for PurviewCsv {
    fn format(&self) -> SourceFormat {
        SourceFormat::PurviewAudit
    }

    fn bind(&self, header: &[String], _ctx: &Ctx) -> Option<Result<Box<dyn CsvRows>, String>> {
        let h = Header::new(header);
        let audit = h.find("AuditData")?;
        Some(Ok(Box::new(PurviewRows {
            audit,
            date: h.find("CreationDate"),
            operation: h.find_any(&["Operation", "Operations"]),
        })))
    }
}

impl CsvRows for PurviewRows {
    fn format(&self) -> SourceFormat {
        SourceFormat::PurviewAudit
    }

    fn map(&self, row: &[&str], _ctx: &Ctx) -> RowResult {
        let op = cell(row, self.operation);
        if !op.is_empty()
            && !op.eq_ignore_ascii_case("UserLoggedIn")
            && !op.eq_ignore_ascii_case("UserLoginFailed")
        {
            return Ok(Row::Skip(format!(
                "audit operation {} is not a sign-in",
                op.chars().take(60).collect::<String>()
            )));
        }
        let text = cell(row, Some(self.audit));
        if text.is_empty() {
            return Err(Reject::EmptyCell {
                column: "AuditData",
            });
        }
        let v = JVal::parse(text).map_err(|e| Reject::BadJsonCell {
            column: "AuditData",
            error: e.to_string(),
        })?;
        map_audit_data(&v, parse_time(cell(row, self.date)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::StatusClass;

    fn signin(r: RowResult) -> SignIn {
        match r.unwrap() {
            Row::SignIn(s) | Row::Flawed(s, _) => s,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sekoia_failed_login_keeps_code_despite_result_status() {
        let text = include_str!(
            "../../../tests/fixtures/purview-ual/sekoia-doc-UserLoginFailed-500121.auditdata.json"
        );
        let s = Tv::with_record(text.as_bytes(), |v| {
            let v = v.unwrap();
            assert!(AuditDataJson.claims(v));
            signin(AuditDataJson.map(v, &Ctx::default()))
        });
        // The same object from a CSV cell.
        let cell = signin(map_audit_data(&JVal::parse(text).unwrap(), None));
        assert_eq!(cell, s);
        assert_eq!(s.error_code, 500121);
        assert_eq!(s.status, StatusClass::Failure);
        assert_eq!(s.user_principal_name, "user@mycompany.com");
        assert_eq!(s.ip, "20.250.8.183");
        assert_eq!(s.request_id, "4af0b443-42dd-4dc6-9bd1-751a55441000");
        assert_eq!(s.os, "Windows 10");
    }

    #[test]
    fn panther_cases_without_error_number() {
        let text = include_str!("../../../tests/fixtures/synthetic-testcases/panther-purview-ual-auditdata-testcases.jsonl");
        let mut codes = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let s = Tv::with_record(line.as_bytes(), |w| {
                signin(AuditDataJson.map(w.unwrap().get("Log"), &Ctx::default()))
            });
            codes.push(s.error_code);
        }
        codes.sort();
        assert_eq!(codes, vec![0, 50126]);
    }

    #[test]
    fn other_operations_are_skipped_and_ports_stripped() {
        let v = JVal::parse(r#"{"CreationTime":"2023-09-20T04:05:03","Operation":"Add service principal.","Workload":"AzureActiveDirectory"}"#).unwrap();
        assert!(matches!(map_audit_data(&v, None), Ok(Row::Skip(_))));
        let v = JVal::parse(r#"{"CreationTime":"2023-09-20T04:05:03","Operation":"UserLoggedIn","Workload":"AzureActiveDirectory","ClientIP":"[2001:db8::1]:443","UserId":"A@B.com"}"#).unwrap();
        let s = signin(map_audit_data(&v, None));
        assert_eq!(s.ip, "2001:db8::1");
        assert_eq!(s.error_code, 0);
    }
}
