//! Sigma rules (issue 24): SigmaHQ's sign-in rules match exactly the
//! sign-ins that satisfy them, in the JSON and portal CSV exports; a
//! value_count correlation names the generated spray's address; a bad rule
//! stops the run before any input is read.
//!
//! The expected matches are computed here from the normalized records with
//! plain Rust predicates written from each rule's text, not with the
//! Sigma engine.

use crate::common::*;
use entrasift::commands::load;
use entrasift::model::time::format_time;
use entrasift::model::{SignIn, StatusClass};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixtures(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sigma")
        .join(sub)
}

fn contains(hay: &str, needle: &str) -> bool {
    hay.to_lowercase().contains(&needle.to_lowercase())
}

/// `Status` answers with the outcome word, the failure reason and the
/// additional details (README, "Sigma rules").
fn status_is(r: &SignIn, word: &str) -> bool {
    let outcome = match r.status {
        StatusClass::Success => "Success",
        StatusClass::Interrupted => "Interrupted",
        StatusClass::Failure => "Failure",
    };
    [
        outcome,
        r.failure_reason.as_str(),
        r.additional_details.as_str(),
    ]
    .iter()
    .any(|v| v.eq_ignore_ascii_case(word))
}

type Predicate = fn(&SignIn) -> bool;

/// Each SigmaHQ rule in tests/fixtures/sigma/sigmahq, by id, as a
/// predicate over the normalized record.
fn sigmahq_rules() -> Vec<(&'static str, Predicate)> {
    vec![
        // Account Lockout: ResultType 50053.
        ("2b7d6fc0-71ac-4cf7-8ed1-b5788ee5257a", |r| {
            r.error_code == 50053
        }),
        // User Access Blocked by Azure Conditional Access: ResultType 53003.
        ("9a60e676-26ac-44c3-814b-0c2a8b977adf", |r| {
            r.error_code == 53003
        }),
        // Multifactor Authentication Interrupted: two code + text pairs.
        ("5496ff55-42ec-4369-81cb-00f417029e25", |r| {
            (r.error_code == 50074 && contains(&r.failure_reason, "Strong Auth required"))
                || (r.error_code == 500121
                    && contains(
                        &r.failure_reason,
                        "Authentication failed during strong authentication request",
                    ))
        }),
        // Potential MFA Bypass Using Legacy Client Authentication.
        ("53bb4f7f-48a8-4475-ac30-5a82ddfdf6fc", |r| {
            status_is(r, "Success")
                && ["BAV2ROPC", "CBAinPROD", "CBAinTAR"]
                    .iter()
                    .any(|n| contains(&r.user_agent, n))
        }),
        // Azure AD Only Single Factor Authentication Required.
        ("28eea407-28d7-4e42-b0be-575d5ba60b2c", |r| {
            status_is(r, "Success")
                && r.authentication_requirement
                    .eq_ignore_ascii_case("singleFactorAuthentication")
        }),
    ]
}

fn fact<'a>(f: &'a Value, key: &str) -> &'a Value {
    f["evidence"]["facts"]
        .as_array()
        .and_then(|a| a.iter().find(|kv| kv[0] == key))
        .map(|kv| &kv[1])
        .unwrap_or(&Value::Null)
}

fn strings(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

fn run_sigma(args: &[&Path]) -> (i32, Value, String) {
    let o = Command::new(bin())
        .arg("sigma")
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    let v = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
    (o.status.code().unwrap_or(-1), v, stderr)
}

fn second(us: i64) -> String {
    format_time(us - us.rem_euclid(1_000_000))
}

#[test]
fn sigmahq_rules_match_exactly_in_json_and_portal_csv() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), 1500, true, 24);
    let rules = fixtures("sigmahq");
    for export in ["portal-json", "portal-csv", "graph-pages"] {
        let input = dir.path().join(export);
        let records = load(std::slice::from_ref(&input), true).records;
        assert!(records.len() > 1000, "{export}");
        let (code, out, stderr) = run_sigma(&[&rules, &input]);
        assert_eq!(code, 0, "{export}: {stderr}");
        // Loading: 6 rules for sign-ins, the risk-detection rule skipped,
        // and the rule on `properties.message` reported by name.
        assert_eq!(out["rules"]["detection_rules"], 6, "{export}");
        assert_eq!(out["rules"]["skipped_other_source"], 1, "{export}");
        assert_eq!(
            out["rules"]["unmapped_fields"]["Application Using Device Code Authentication Flow"],
            serde_json::json!(["properties.message"]),
            "{export}"
        );
        let findings = out["findings"].as_array().unwrap();
        let mut matched_rules = BTreeSet::new();
        for (id, pred) in sigmahq_rules() {
            let hits: Vec<&SignIn> = records.iter().filter(|r| pred(r)).collect();
            let got: Vec<&Value> = findings
                .iter()
                .filter(|f| fact(f, "rule_id") == id)
                .collect();
            if hits.is_empty() {
                assert!(got.is_empty(), "{export} {id}: {got:?}");
                continue;
            }
            matched_rules.insert(id);
            assert_eq!(
                got.len(),
                1,
                "{export} {id}: one finding per detection rule"
            );
            let f = got[0];
            assert_eq!(f["kind"], "sigma");
            assert_eq!(f["count"], hits.len() as u64, "{export} {id}");
            let users: BTreeSet<String> = hits
                .iter()
                .map(|r| r.user_principal_name.to_string())
                .filter(|u| !u.is_empty())
                .collect();
            let ips: BTreeSet<String> = hits
                .iter()
                .map(|r| r.ip.to_string())
                .filter(|u| !u.is_empty())
                .collect();
            assert_eq!(strings(&f["users"]), users, "{export} {id}");
            assert_eq!(strings(&f["ips"]), ips, "{export} {id}");
            let first = hits.iter().map(|r| r.time_us).min().unwrap();
            let last = hits.iter().map(|r| r.time_us).max().unwrap();
            assert_eq!(f["first_seen"], second(first), "{export} {id}");
            assert_eq!(f["last_seen"], second(last), "{export} {id}");
        }
        // The data exercises the rules: lockouts, CA blocks, MFA denials,
        // legacy BAV2ROPC successes and single-factor successes are planted.
        assert!(matched_rules.len() >= 5, "{export}: {matched_rules:?}");
        // Severity and techniques come from the rule.
        let lockout = findings
            .iter()
            .find(|f| fact(f, "rule_id") == "2b7d6fc0-71ac-4cf7-8ed1-b5788ee5257a")
            .unwrap();
        assert_eq!(lockout["severity"], "medium");
        assert_eq!(lockout["techniques"], serde_json::json!(["T1110"]));
        assert_eq!(lockout["title"], "Account Lockout");
    }
}

/// Per address, whether some 30-minute window holds 50126 failures of at
/// least `n` different accounts: the correlation, computed by hand.
fn spraying_addresses(records: &[SignIn], n: usize) -> BTreeSet<String> {
    let mut by_ip: BTreeMap<&str, Vec<(i64, &str)>> = BTreeMap::new();
    for r in records.iter().filter(|r| r.error_code == 50126) {
        by_ip
            .entry(r.ip.as_str())
            .or_default()
            .push((r.time_us / 1_000_000, r.user_principal_name.as_str()));
    }
    by_ip
        .into_iter()
        .filter(|(_, ev)| {
            ev.iter().any(|&(end, _)| {
                let users: BTreeSet<&str> = ev
                    .iter()
                    .filter(|&&(t, _)| t <= end && t > end - 1800)
                    .map(|&(_, u)| u)
                    .collect();
                users.len() >= n
            })
        })
        .map(|(ip, _)| ip.to_string())
        .collect()
}

#[test]
fn value_count_correlation_names_the_spray_address() {
    let dir = tempfile::tempdir().unwrap();
    let truth = generate(dir.path(), 1500, true, 24);
    let spray_ip = truth["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "password_spray")
        .map(|s| s["ips"][0].as_str().unwrap().to_string())
        .unwrap();
    for export in ["portal-csv", "portal-json"] {
        let input = dir.path().join(export);
        let records = load(std::slice::from_ref(&input), true).records;
        let (code, out, stderr) = run_sigma(&[&fixtures("own"), &input]);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(out["rules"]["correlation_rules"], 1);
        let findings = out["findings"].as_array().unwrap();
        // The base rule is only the correlation's input: not reported.
        assert!(
            findings
                .iter()
                .all(|f| fact(f, "correlation_type") == "value_count"),
            "{findings:?}"
        );
        let named: BTreeSet<String> = findings
            .iter()
            .map(|f| {
                fact(f, "group_by")["IPAddress"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert!(
            named.contains(&spray_ip),
            "{export}: {named:?} lacks {spray_ip}"
        );
        assert_eq!(named, spraying_addresses(&records, 10), "{export}");
        let spray = findings
            .iter()
            .find(|f| fact(f, "group_by")["IPAddress"] == spray_ip.as_str())
            .unwrap();
        assert_eq!(spray["severity"], "high");
        assert_eq!(spray["techniques"], serde_json::json!(["T1110.003"]));
        assert_eq!(spray["window_seconds"], 1800);
        assert_eq!(strings(&spray["ips"]), BTreeSet::from([spray_ip.clone()]));
        assert!(spray["users"].as_array().unwrap().len() >= 10);
        assert!(fact(spray, "aggregated_value").as_f64().unwrap() >= 10.0);
    }
}

#[test]
fn analyze_puts_sigma_findings_in_every_output_and_the_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let truth = generate(dir.path(), 800, true, 5);
    let spray_ip = truth["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "password_spray")
        .map(|s| s["ips"][0].as_str().unwrap().to_string())
        .unwrap();
    let out = dir.path().join("report");
    let o = Command::new(bin())
        .arg("analyze")
        .arg(dir.path().join("portal-csv"))
        .arg("--out")
        .arg(&out)
        .arg("--sigma")
        .arg(fixtures("own"))
        .arg(fixtures("sigmahq"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    // The unmapped field is said once, naming the rule (in the coverage
    // notes of the terminal summary).
    assert_eq!(stderr.matches("properties.message").count(), 1, "{stderr}");
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("findings.json")).unwrap()).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let spray = findings
        .iter()
        .find(|f| f["kind"] == "sigma" && fact(f, "group_by")["IPAddress"] == spray_ip.as_str())
        .expect("the correlation's finding");
    let id = spray["id"].as_str().unwrap();
    let title = spray["title"].as_str().unwrap();
    for file in ["findings.csv", "summary.md", "report.html"] {
        let text = std::fs::read_to_string(out.join(file)).unwrap();
        assert!(text.contains(id), "{file} lacks {id}");
    }
    assert!(title.contains(&spray_ip));
    // Each sprayed account's verdict lists the finding among its evidence.
    let accounts = v["accounts"].as_array().unwrap();
    let sprayed = spray["users"][0].as_str().unwrap();
    let acct = accounts
        .iter()
        .find(|a| a["user"] == sprayed)
        .unwrap_or_else(|| panic!("{sprayed} has no verdict"));
    assert!(
        acct.to_string().contains(id),
        "{sprayed}'s verdict does not cite {id}: {acct}"
    );
    // ... and in the report's coverage statements.
    let gap = v["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "sigma")
        .expect("a coverage statement for the rule on properties.message");
    assert!(
        gap["note"].as_str().unwrap().contains("properties.message"),
        "{gap}"
    );
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("properties.message"));
    // The rule files are hashed in the manifest, so `verify` sees an edit.
    let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    assert!(manifest.contains("password_spray_value_count.yml"));

    // `timeline --finding` follows the rule's finding when given the same
    // rules, and says it does not know the id without them.
    let timeline = |sigma: bool| {
        let mut c = Command::new(bin());
        c.arg("timeline").arg(dir.path().join("portal-csv")).args([
            "--finding",
            id,
            "--format",
            "json",
            "-q",
        ]);
        if sigma {
            c.arg("--sigma")
                .arg(fixtures("own"))
                .arg(fixtures("sigmahq"));
        }
        c.output().unwrap()
    };
    let o = timeline(true);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let rows: Vec<Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let marked = rows.iter().filter(|r| r.to_string().contains(id)).count();
    assert!(marked >= 10, "{marked} of {} rows carry {id}", rows.len());
    assert!(rows.iter().any(|r| r.to_string().contains(&spray_ip)));
    let o = timeline(false);
    assert_ne!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no finding"));
}

/// A rule on a field the input leaves empty throughout is named in the
/// coverage statements (and by `entrasift sigma`), since its silence says
/// nothing; where the field is carried nothing is said.
#[test]
fn a_rule_on_a_field_the_input_never_fills_is_named() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), 600, true, 11);
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(
        rules.join("risk.yml"),
        "title: Success at high risk\n\
         id: 0f8a1d2e-3b4c-4d5e-8f90-a1b2c3d4e5f6\n\
         logsource:\n  product: azure\n  service: signinlogs\n\
         detection:\n  selection:\n    RiskLevelDuringSignIn: high\n    ResultType: 0\n  \
         condition: selection\n\
         level: high\n",
    )
    .unwrap();
    let gaps = |export: &str| -> Vec<String> {
        let out = dir.path().join(format!("report-{export}"));
        let o = Command::new(bin())
            .arg("analyze")
            .arg(dir.path().join(export))
            .arg("--out")
            .arg(&out)
            .arg("--sigma")
            .arg(&rules)
            .arg("-q")
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let v: Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("findings.json")).unwrap())
                .unwrap();
        v["coverage"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["kind"] == "sigma")
            .map(|c| c["note"].as_str().unwrap().to_string())
            .collect()
    };
    // The portal CSV has no risk columns.
    let csv = gaps("portal-csv");
    assert_eq!(csv.len(), 1, "{csv:?}");
    assert!(
        csv[0].contains("Success at high risk") && csv[0].contains("RiskLevelDuringSignIn"),
        "{csv:?}"
    );
    assert!(!csv[0].contains("ResultType"), "{csv:?}");
    // Graph pages carry the risk level.
    assert_eq!(gaps("graph-jsonl"), Vec::<String>::new());
    let (code, _, stderr) = run_sigma(&[&rules, &dir.path().join("portal-csv")]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("RiskLevelDuringSignIn") && stderr.contains("no sign-in of this input"),
        "{stderr}"
    );
}

#[test]
fn a_bad_rule_stops_the_run_before_any_input_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::copy(
        fixtures("sigmahq/azure_account_lockout.yml"),
        rules.join("a_good.yml"),
    )
    .unwrap();
    // Second document, line 9: the condition names no selection.
    std::fs::write(
        rules.join("b_bad.yml"),
        "title: fine\nlogsource: {product: azure, service: signinlogs}\n\
         detection:\n  sel:\n    ResultType: 0\n  condition: sel\n---\n\
         title: broken\nlogsource: {product: azure, service: signinlogs}\n\
         detection:\n  sel:\n    ResultType: 0\n  condition: sel and (\n",
    )
    .unwrap();
    // An input that would make the run exit 3 if it were read.
    let missing = dir.path().join("no-such-export.csv");
    let out = dir.path().join("report");
    let o = Command::new(bin())
        .arg("analyze")
        .arg(&missing)
        .arg("--out")
        .arg(&out)
        .arg("--sigma")
        .arg(&rules)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("b_bad.yml, line 8"), "{stderr}");
    assert!(!stderr.contains("no-such-export"), "{stderr}");
    assert!(!out.exists());
    // The same from `entrasift sigma`, and for a YAML syntax error.
    std::fs::write(
        rules.join("b_bad.yml"),
        "title: x\nlogsource:\n  product: azure\n   service: signinlogs\n",
    )
    .unwrap();
    let o = Command::new(bin())
        .arg("sigma")
        .arg(&rules)
        .arg(&missing)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("b_bad.yml, line 4"), "{stderr}");
}
