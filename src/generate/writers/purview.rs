//! Purview unified audit log: the new search export, the classic export,
//! `Search-UnifiedAuditLog | Export-Csv`, and bare AuditData JSON Lines.
//!
//! Only interactive user sign-ins that succeeded or failed appear
//! (`UserLoggedIn` / `UserLoginFailed`); a few unrelated operations are
//! mixed in, as in any real audit search, for readers to skip.

use crate::model::{SignIn, StatusClass};

use super::super::catalog::logon_error;
use super::super::json::{self, Style, J};
use super::super::rng::{guid_for, hash_salted};
use super::super::shape::{self, Ctx};
use super::super::timefmt::{self, US_PER_DAY, US_PER_MIN};
use super::super::{Dataset, GenerateError, GenerateOptions, Subset};
use super::{window_end, Output};

/// The classic export stops at 50,000 rows.
const CLASSIC_CAP: usize = 50_000;

/// One audit record, sign-in or not.
struct Record<'a> {
    time_us: i64,
    id: String,
    record_type: i64,
    record_type_name: &'static str,
    operation: &'static str,
    user: &'a str,
    audit: J<'a>,
}

fn client_ip(e: &SignIn) -> String {
    let h = hash_salted(&e.request_id, 61);
    let port = 1024 + (h >> 8) % 60_000;
    match (h % 10, e.ip.contains(':')) {
        (0 | 1, true) => format!("[{}]:{}", e.ip, port),
        (0 | 1, false) => format!("{}:{}", e.ip, port),
        _ => e.ip.to_string(),
    }
}

fn request_type(e: &SignIn) -> &'static str {
    if shape::is_legacy_client(&e.client_app) {
        "OAuth2:Token"
    } else if !e.mfa_method.is_empty() && e.mfa_method != "Previously satisfied" {
        "SAS:EndAuth"
    } else if e.client_app == "Browser" {
        if hash_salted(&e.request_id, 62).is_multiple_of(3) {
            "Login:login"
        } else {
            "OAuth2:Authorize"
        }
    } else {
        "OAuth2:Authorize"
    }
}

fn name_value<'a>(name: &'static str, value: J<'a>) -> J<'a> {
    J::Obj(vec![("Name", J::s(name)), ("Value", value)])
}

/// `loose_types`: some collectors write the numeric fields as strings.
fn sign_in_record<'a>(ctx: &'a Ctx, e: &'a SignIn, loose_types: bool) -> Record<'a> {
    let failed = e.status == StatusClass::Failure;
    let operation = if failed {
        "UserLoginFailed"
    } else {
        "UserLoggedIn"
    };
    let h = hash_salted(&e.request_id, 63);
    // ResultStatus is unreliable: failures are often still "Success".
    let result_status = if !failed || h.is_multiple_of(3) {
        "Success"
    } else {
        "Failed"
    };
    let ip = client_ip(e);
    let resource_id = shape::resource_id(e);
    let int = |v: i64| {
        if loose_types {
            J::own(v.to_string())
        } else {
            J::Int(v)
        }
    };
    let user_key = if e.user_id.is_empty() {
        "Not Available".to_string()
    } else {
        e.user_id.to_string()
    };
    let mut ext = vec![
        name_value(
            "ResultStatusDetail",
            J::s(if e.client_app == "Browser" && !failed {
                "Redirect"
            } else {
                "Success"
            }),
        ),
        name_value("UserAgent", J::s(&e.user_agent)),
        name_value("UserAuthenticationMethod", J::s("1")),
        name_value("RequestType", J::s(request_type(e))),
    ];
    if !failed && h.is_multiple_of(4) {
        ext.push(name_value("KeepMeSignedIn", J::s("true")));
    }
    let compliant = matches!((e.compliant, e.managed), (Some(true), Some(true)));
    let mut device = vec![
        name_value("OS", J::s(&e.os)),
        name_value("BrowserType", J::s(browser_type(e))),
        name_value(
            "IsCompliantAndManaged",
            J::s(if compliant { "True" } else { "False" }),
        ),
        name_value("SessionId", J::s(&e.session_id)),
    ];
    if !e.device_id.is_empty() {
        device.insert(0, name_value("Id", J::s(&e.device_id)));
    }
    let mut members = vec![
        ("CreationTime", J::own(timefmt::iso_plain_sec(e.time_us))),
        ("Id", J::s(&e.request_id)),
        ("Operation", J::s(operation)),
        ("OrganizationId", J::s(&ctx.tenant_id)),
        ("RecordType", int(15)),
        ("ResultStatus", J::s(result_status)),
        ("UserKey", J::own(user_key.clone())),
        ("UserType", int(0)),
        ("Version", int(1)),
        ("Workload", J::s("AzureActiveDirectory")),
        ("ClientIP", J::own(ip.clone())),
        ("ObjectId", J::own(resource_id.clone())),
        ("UserId", J::s(&e.user_principal_name)),
        ("AzureActiveDirectoryEventType", int(1)),
        ("ExtendedProperties", J::Arr(ext)),
        ("ModifiedProperties", J::Arr(Vec::new())),
        (
            "Actor",
            J::Arr(vec![
                J::Obj(vec![("ID", J::own(user_key)), ("Type", int(0))]),
                J::Obj(vec![("ID", J::s(&e.user_principal_name)), ("Type", int(5))]),
            ]),
        ),
        ("ActorContextId", J::s(&ctx.tenant_id)),
        ("ActorIpAddress", J::own(ip)),
        ("InterSystemsId", J::s(&e.correlation_id)),
        ("IntraSystemId", J::s(&e.request_id)),
        ("SupportTicketId", J::s("")),
        (
            "Target",
            J::Arr(vec![J::Obj(vec![
                ("ID", J::own(resource_id)),
                ("Type", int(0)),
            ])]),
        ),
        ("TargetContextId", J::s(&ctx.tenant_id)),
        ("ApplicationId", J::s(&e.app_id)),
        ("DeviceProperties", J::Arr(device)),
        ("ErrorNumber", J::own(e.error_code.to_string())),
    ];
    if failed {
        let logon = logon_error(e.error_code);
        members.push((
            "LogonError",
            J::s(if logon.is_empty() {
                "OtherError"
            } else {
                logon
            }),
        ));
    }
    Record {
        time_us: e.time_us,
        id: e.request_id.to_string(),
        record_type: 15,
        record_type_name: "AzureActiveDirectoryStsLogon",
        operation,
        user: &e.user_principal_name,
        audit: J::Obj(members),
    }
}

fn browser_type(e: &SignIn) -> &'static str {
    let b = e.browser.as_str();
    if b.starts_with("Edge") {
        "Edge"
    } else if b.starts_with("Chrome") {
        "Chrome"
    } else if b.starts_with("Firefox") {
        "Firefox"
    } else if b.contains("Safari") {
        "Safari"
    } else {
        "Other"
    }
}

/// Unrelated audit records (mailbox access, file access, a directory
/// change) attached to real sign-ins so they look like the same sessions.
fn other_records<'a>(ctx: &'a Ctx, anchors: &[&'a SignIn]) -> Vec<Record<'a>> {
    let successes: Vec<&SignIn> = anchors
        .iter()
        .copied()
        .filter(|e| e.error_code == 0 && !e.user_id.is_empty())
        .collect();
    let n = (anchors.len() / 40).max(5).min(successes.len());
    let mut out = Vec::with_capacity(n);
    for k in 0..n {
        let e = successes[(k * 7919) % successes.len()];
        let t = e.time_us + (2 + k as i64 % 9) * US_PER_MIN;
        let id = guid_for(&format!("audit:{}:{k}", e.request_id));
        let when = J::own(timefmt::iso_plain_sec(t));
        let (record_type, record_type_name, operation, audit) = match k % 3 {
            0 => (
                50,
                "ExchangeItemAggregated",
                "MailItemsAccessed",
                J::Obj(vec![
                    ("CreationTime", when),
                    ("Id", J::own(id.clone())),
                    ("Operation", J::s("MailItemsAccessed")),
                    ("OrganizationId", J::s(&ctx.tenant_id)),
                    ("RecordType", J::Int(50)),
                    ("ResultStatus", J::s("Succeeded")),
                    ("UserKey", J::s(&e.user_id)),
                    ("UserType", J::Int(0)),
                    ("Version", J::Int(1)),
                    ("Workload", J::s("Exchange")),
                    ("UserId", J::s(&e.user_principal_name)),
                    ("AppId", J::s(&e.app_id)),
                    ("ClientIPAddress", J::s(&e.ip)),
                    ("ClientInfoString", J::s("Client=OWA;Action=ViaProxy")),
                    ("ExternalAccess", J::Bool(false)),
                    ("LogonType", J::Int(0)),
                    ("MailboxGuid", J::own(guid_for(&format!("mbx:{}", e.user_id)))),
                    ("MailboxOwnerUPN", J::s(&e.user_principal_name)),
                    (
                        "OperationProperties",
                        J::Arr(vec![
                            name_value("MailAccessType", J::s("Bind")),
                            name_value("IsThrottled", J::s("False")),
                        ]),
                    ),
                    ("SessionId", J::s(&e.session_id)),
                ]),
            ),
            1 => (
                6,
                "SharePointFileOperation",
                "FileAccessed",
                J::Obj(vec![
                    ("CreationTime", when),
                    ("Id", J::own(id.clone())),
                    ("Operation", J::s("FileAccessed")),
                    ("OrganizationId", J::s(&ctx.tenant_id)),
                    ("RecordType", J::Int(6)),
                    ("UserKey", J::own(format!("i:0h.f|membership|{}@live.com", e.user_id))),
                    ("UserType", J::Int(0)),
                    ("Version", J::Int(1)),
                    ("Workload", J::s("SharePoint")),
                    ("ClientIP", J::s(&e.ip)),
                    ("ObjectId", J::s("https://contoso.sharepoint.com/sites/Finance/Shared Documents/Q1-forecast.xlsx")),
                    ("UserId", J::s(&e.user_principal_name)),
                    ("UserAgent", J::s(&e.user_agent)),
                    ("SiteUrl", J::s("https://contoso.sharepoint.com/sites/Finance/")),
                    ("SourceFileName", J::s("Q1-forecast.xlsx")),
                ]),
            ),
            _ => (
                8,
                "AzureActiveDirectory",
                "Update user.",
                J::Obj(vec![
                    ("CreationTime", when),
                    ("Id", J::own(id.clone())),
                    ("Operation", J::s("Update user.")),
                    ("OrganizationId", J::s(&ctx.tenant_id)),
                    ("RecordType", J::Int(8)),
                    ("ResultStatus", J::s("Success")),
                    ("UserKey", J::s("Not Available")),
                    ("UserType", J::Int(4)),
                    ("Version", J::Int(1)),
                    ("Workload", J::s("AzureActiveDirectory")),
                    ("ObjectId", J::s(&e.user_principal_name)),
                    ("UserId", J::s("ServicePrincipal_contoso-hr-sync")),
                    ("AzureActiveDirectoryEventType", J::Int(1)),
                    ("ExtendedProperties", J::Arr(vec![name_value("extendedAuditEventCategory", J::s("User"))])),
                    ("ModifiedProperties", J::Arr(Vec::new())),
                    ("Target", J::Arr(vec![J::Obj(vec![("ID", J::s(&e.user_principal_name)), ("Type", J::Int(5))])])),
                ]),
            ),
        };
        out.push(Record {
            time_us: t,
            id,
            record_type,
            record_type_name,
            operation,
            user: if k % 3 == 2 {
                "ServicePrincipal_contoso-hr-sync"
            } else {
                &e.user_principal_name
            },
            audit,
        });
    }
    out
}

/// Sign-in and other records, newest first (how the exports list them);
/// returns the records and how many are not sign-ins.
fn records<'a>(ds: &'a Dataset, ctx: &'a Ctx, loose_every: u64) -> (Vec<Record<'a>>, usize) {
    let subset: Vec<&SignIn> = ds
        .events
        .iter()
        .filter(|e| Subset::Purview.includes(e))
        .collect();
    let mut all: Vec<Record<'a>> = subset
        .iter()
        .map(|e| {
            let loose =
                loose_every > 0 && hash_salted(&e.request_id, 64).is_multiple_of(loose_every);
            sign_in_record(ctx, e, loose)
        })
        .collect();
    let others = other_records(ctx, &subset);
    let extra = others.len();
    all.extend(others);
    all.sort_by(|a, b| b.time_us.cmp(&a.time_us).then_with(|| a.id.cmp(&b.id)));
    (all, extra)
}

fn audit_text(r: &Record<'_>) -> String {
    json::to_string(&r.audit, Style::Compact)
}

/// The 2023+ Purview search export, split in two files: the first with
/// `M/d/yyyy h:mm:ss AM` dates, the second fully quoted with ISO dates
/// that carry a trailing space.
pub fn new_export(
    ds: &Dataset,
    ctx: &Ctx,
    opts: &GenerateOptions,
    dir: &str,
    out: &mut Output,
) -> Result<usize, GenerateError> {
    let (all, extra) = records(ds, ctx, 0);
    let middle = opts.start_us + i64::from(opts.days.max(1)) * US_PER_DAY / 2;
    let exported = window_end(opts) + 2 * 60 * US_PER_MIN;
    let header = [
        "RecordId",
        "CreationDate",
        "RecordType",
        "Operation",
        "UserId",
        "AuditData",
        "AssociatedAdminUnits",
        "AssociatedAdminUnitsNames",
    ];
    for (part, iso) in [(0, false), (1, true)] {
        let stamp = timefmt::compact(exported + part * US_PER_MIN);
        let rel = format!("{dir}/AuditLog_{}_{}.csv", &stamp[..8], &stamp[8..]);
        let mut builder = csv::WriterBuilder::new();
        if iso {
            builder.quote_style(csv::QuoteStyle::Always);
        }
        let mut csv = out.create(&rel)?.csv(&builder);
        csv.row(header)?;
        for r in all.iter().filter(|r| (r.time_us >= middle) == (part == 0)) {
            let date = if iso {
                format!("{} ", timefmt::iso_z_zero7(r.time_us))
            } else {
                timefmt::us_datetime(r.time_us)
            };
            csv.row([
                r.id.as_str(),
                date.as_str(),
                &r.record_type.to_string(),
                r.operation,
                r.user,
                &audit_text(r),
                "",
                "",
            ])?;
        }
        csv.finish()?;
    }
    Ok(extra)
}

/// The classic (pre-2023) search export: four columns, 50,000 rows a file.
pub fn classic(
    ds: &Dataset,
    ctx: &Ctx,
    opts: &GenerateOptions,
    dir: &str,
    out: &mut Output,
) -> Result<usize, GenerateError> {
    let (all, extra) = records(ds, ctx, 0);
    for (n, chunk) in all.chunks(CLASSIC_CAP).enumerate() {
        let rel = format!(
            "{dir}/AuditLog_{}_part{}.csv",
            timefmt::ymd(opts.start_us),
            n + 1
        );
        let mut csv = out.create(&rel)?.csv(&csv::WriterBuilder::new());
        csv.row(["CreationDate", "UserIds", "Operations", "AuditData"])?;
        for r in chunk {
            csv.row([
                timefmt::iso_z_zero7(r.time_us).as_str(),
                r.user,
                r.operation,
                &audit_text(r),
            ])?;
        }
        csv.finish()?;
    }
    Ok(extra)
}

/// `Search-UnifiedAuditLog | Export-Csv -NoTypeInformation` (and
/// Microsoft-Extractor-Suite `Get-UAL -Output CSV`): every cell quoted,
/// the record type by name, en-US dates, oldest first.
pub fn search_ual(
    ds: &Dataset,
    ctx: &Ctx,
    _opts: &GenerateOptions,
    dir: &str,
    out: &mut Output,
) -> Result<usize, GenerateError> {
    let (mut all, extra) = records(ds, ctx, 0);
    all.reverse();
    let mut builder = csv::WriterBuilder::new();
    builder
        .quote_style(csv::QuoteStyle::Always)
        .terminator(csv::Terminator::CRLF);
    let mut csv = out
        .create(&format!("{dir}/UAL-Combined.csv"))?
        .csv(&builder);
    csv.row([
        "RecordType",
        "CreationDate",
        "UserIds",
        "Operations",
        "AuditData",
        "ResultIndex",
        "ResultCount",
        "Identity",
        "IsValid",
        "ObjectState",
    ])?;
    let total = all.len().to_string();
    for (i, r) in all.iter().enumerate() {
        csv.row([
            r.record_type_name,
            &timefmt::us_datetime(r.time_us),
            r.user,
            r.operation,
            &audit_text(r),
            &(i + 1).to_string(),
            &total,
            &r.id,
            "True",
            "Unchanged",
        ])?;
    }
    csv.finish()?;
    Ok(extra)
}

/// Bare AuditData objects, one per line, one file per day (DFIR-O365RC,
/// Management Activity API dumps); a share of records carries the numeric
/// fields as strings.
pub fn audit_data_jsonl(
    ds: &Dataset,
    ctx: &Ctx,
    _opts: &GenerateOptions,
    dir: &str,
    out: &mut Output,
) -> Result<usize, GenerateError> {
    let (mut all, extra) = records(ds, ctx, 4);
    all.reverse();
    let mut buf = String::with_capacity(4096);
    let mut i = 0;
    while i < all.len() {
        let day = timefmt::ymd(all[i].time_us);
        let mut sink = out.create(&format!(
            "{dir}/UnifiedAuditLog_{}_{day}.json",
            ctx.tenant_id
        ))?;
        while i < all.len() && timefmt::ymd(all[i].time_us) == day {
            buf.clear();
            json::write(&all[i].audit, Style::Compact, &mut buf);
            buf.push('\n');
            sink.write(buf.as_bytes())?;
            i += 1;
        }
        sink.finish()?;
    }
    Ok(extra)
}
