//! Azure Monitor diagnostic-setting records: storage `PT1H.json` blobs
//! (JSON Lines) and Event Hub `{"records":[…]}` messages, every sign-in
//! category, AD FS sign-ins (`ADFSSignInLogs`, sent by Connect Health)
//! included. Envelope keys are matched without regard to case because
//! some pipelines lowercase them.

use super::graph::{fill, map_signin};
use super::{ip_field, Ctx, JsonFormat, Row, RowResult};
use crate::ingest::accounting::Reject;
use crate::ingest::fields::parse_code;
use crate::ingest::json::tape::Tv;
use crate::ingest::json::view::Json;
use crate::model::time::parse_time;
use crate::model::{SignInType, SourceFormat};

pub struct AzureMonitor;

impl JsonFormat for AzureMonitor {
    fn format(&self) -> SourceFormat {
        SourceFormat::AzureMonitor
    }

    fn claims(&self, r: Tv) -> bool {
        r.get("properties").is_obj()
            && (r.has("category") || r.has("operationName") || r.has("time"))
    }

    fn map(&self, r: Tv, _ctx: &Ctx) -> RowResult {
        let category = r.get("category").string();
        let lower = category.to_ascii_lowercase();
        if !category.is_empty() && !lower.contains("signinlogs") {
            return Ok(Row::Skip(format!(
                "Azure Monitor category {category} is not a sign-in log"
            )));
        }
        let p = r.get("properties");
        let envelope_time = parse_time(&r.get("time").text());
        let (mut s, mut flaw) = if !p.at(&["status", "errorCode"]).is_null() {
            map_signin(p, envelope_time)?
        } else {
            // Some pipelines drop `status`; the envelope still has the code.
            let rt = r.get("resultType").text();
            let code = match parse_code(&rt) {
                Some(c) => c,
                None if rt.eq_ignore_ascii_case("success") => 0,
                None => {
                    return Err(Reject::BadErrorCode {
                        field: "resultType (with no status.errorCode)",
                        value: rt.chars().take(40).collect(),
                    })
                }
            };
            let t = parse_time(&p.get("createdDateTime").text()).or(envelope_time);
            let Some(t) = t else {
                return Err(Reject::NoTime {
                    field: "readable createdDateTime or time",
                });
            };
            let (mut s, flaw) = fill(p, t, code);
            s.failure_reason = r.get("resultDescription").field();
            (s, flaw)
        };
        if s.ip.is_empty() {
            let (ip, caller_flaw) = ip_field("callerIpAddress", &r.get("callerIpAddress").text());
            s.ip = ip;
            flaw = flaw.or(caller_flaw);
        }
        if s.correlation_id.is_empty() {
            s.correlation_id = r.get("correlationId").id();
        }
        if s.user_display_name.is_empty() {
            s.user_display_name = r.get("identity").field();
        }
        if s.country.is_empty() {
            s.country = r.get("location").field();
        }
        s.sign_in_type = match lower.as_str() {
            "noninteractiveusersigninlogs" => SignInType::NonInteractive,
            "serviceprincipalsigninlogs" | "microsoftserviceprincipalsigninlogs" => {
                SignInType::ServicePrincipal
            }
            "managedidentitysigninlogs" => SignInType::ManagedIdentity,
            "signinlogs" => SignInType::Interactive,
            _ => s.sign_in_type,
        };
        // AD FS sign-ins keep their own type (from signInEventTypes or
        // isInteractive), error codes and reasons; the format says where
        // they came from.
        s.source_format = Some(if lower == "adfssigninlogs" {
            SourceFormat::Adfs
        } else {
            SourceFormat::AzureMonitor
        });
        Ok(Row::sign_in((s, flaw)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::StatusClass;

    fn map_lines(text: &str) -> Vec<RowResult> {
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                Tv::with_record(l.as_bytes(), |v| {
                    let v = v.unwrap();
                    assert!(AzureMonitor.claims(v), "{l}");
                    AzureMonitor.map(v, &Ctx::default())
                })
            })
            .collect()
    }

    fn signins(rows: Vec<RowResult>) -> Vec<crate::model::SignIn> {
        rows.into_iter()
            .map(|r| match r.unwrap() {
                Row::SignIn(s) | Row::Flawed(s, _) => s,
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn elastic_raw_capture_every_category() {
        let rows = map_lines(include_str!(
            "../../../tests/fixtures/azure-monitor-diag/elastic-test-signinlogs-raw.log"
        ));
        let s = signins(rows);
        assert_eq!(s.len(), 5);
        assert!(s
            .iter()
            .all(|r| r.error_code == 50140 && r.status == StatusClass::Interrupted));
        let types: Vec<_> = s.iter().map(|r| r.sign_in_type).collect();
        assert!(types.contains(&SignInType::NonInteractive));
        assert!(types.contains(&SignInType::ServicePrincipal));
        assert!(types.contains(&SignInType::ManagedIdentity));
    }

    #[test]
    fn elastic_samples_success_and_string_duration() {
        for text in [
            include_str!("../../../tests/fixtures/azure-monitor-diag/elastic-test-signinlogs-sample.log"),
            include_str!("../../../tests/fixtures/azure-monitor-diag/elastic-test-alternative-time-and-duration-as-string.log"),
            include_str!("../../../tests/fixtures/azure-monitor-diag/elastic-test-service-principal-signinlogs-sample.log"),
            include_str!("../../../tests/fixtures/azure-monitor-diag/elastic-test-managed-identity-sample.EXCERPT-first2.log"),
        ] {
            let s = signins(map_lines(text));
            assert!(!s.is_empty());
            assert!(s.iter().all(|r| r.error_code == 0 && r.time_us > 1_500_000_000_000_000));
        }
    }
}
