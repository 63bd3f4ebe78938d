//! The binary end to end: analyze finds every planted scenario in every
//! format, stays quiet on clean traffic, and is deterministic.

use crate::common::*;
use std::path::Path;
use std::process::Command;

fn analyze(inputs: &[&Path], out: &Path, extra: &[&str]) -> (i32, serde_json::Value) {
    let mut cmd = Command::new(bin());
    cmd.arg("analyze")
        .args(inputs)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .args(extra);
    let o = cmd.output().unwrap();
    let code = o.status.code().unwrap_or(-1);
    let text = std::fs::read_to_string(out.join("findings.json"))
        .unwrap_or_else(|_| panic!("no findings.json: {}", String::from_utf8_lossy(&o.stderr)));
    (code, serde_json::from_str(&text).unwrap())
}

/// A JSON array of strings.
fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

fn has_finding(doc: &serde_json::Value, kind: &str, ips: &[String], users: &[String]) -> bool {
    doc["findings"].as_array().unwrap().iter().any(|f| {
        f["kind"] == kind && {
            let fi: Vec<String> = strings(&f["ips"]);
            let fu: Vec<String> = strings(&f["users"]);
            ips.iter().any(|i| fi.contains(i)) || users.iter().any(|u| fu.contains(u))
        }
    })
}

#[test]
fn every_planted_scenario_is_found_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let truth = generate(dir.path(), 1500, true, 21);
    let scenarios = truth["scenarios"].as_array().unwrap();
    assert!(scenarios.len() >= 12);
    let out = tempfile::tempdir().unwrap();
    for (name, info) in truth["formats"].as_object().unwrap() {
        let subset = info["subset"].as_str().unwrap();
        let report = out.path().join(name);
        let (code, doc) = analyze(&[&dir.path().join(name)], &report, &[]);
        assert_eq!(code, 0, "{name}");
        assert_eq!(doc["schema_version"], 1);
        for s in scenarios {
            let kind = s["kind"].as_str().unwrap();
            let ips: Vec<String> = strings(&s["ips"]);
            let users: Vec<String> = strings(&s["users"]);
            // The audit log has no interrupts, no coordinates, no risk
            // fields and no ASN, so scenarios that need them cannot show
            // there.
            if subset == "purview"
                && matches!(
                    kind,
                    "impossible_travel"
                        | "risky_user"
                        | "legacy_auth"
                        | "distributed_spray"
                        | "hosting_provider_sign_in"
                )
            {
                continue;
            }
            // The audit log carries no authentication protocol and no
            // token refreshes; older Log Analytics exports no session id.
            // Workload sign-ins are only in the exports of every log.
            if subset != "all" && kind == "workload_new_network" {
                continue;
            }
            if (subset == "purview" && matches!(kind, "token_replay" | "device_code_phishing"))
                || (name.starts_with("log-analytics") && kind == "token_replay")
            {
                continue;
            }
            // The portal CSV has no coordinates (only "City, State, CC").
            if name == "portal-csv" && kind == "impossible_travel" {
                continue;
            }
            assert!(
                has_finding(&doc, kind, &ips, &users),
                "{name}: {kind} ({ips:?} {users:?}) not found"
            );
        }
    }
}

#[test]
fn clean_traffic_raises_nothing_above_low() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), 3000, false, 8);
    let out = tempfile::tempdir().unwrap();
    let (code, doc) = analyze(
        &[&dir.path().join("graph-pages")],
        out.path(),
        &["--fail-on", "medium"],
    );
    let loud: Vec<_> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !matches!(f["severity"].as_str(), Some("low" | "info")))
        .map(|f| f["title"].clone())
        .collect();
    assert!(loud.is_empty(), "{loud:?}");
    assert_eq!(code, 0);
}

#[test]
fn same_input_in_any_order_gives_identical_findings_json_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), 800, true, 4);
    let a = dir.path().join("portal-csv");
    let b = dir.path().join("graph-jsonl");
    let out = tempfile::tempdir().unwrap();
    let (c1, _) = analyze(
        &[&a, &b],
        &out.path().join("one"),
        &["--fail-on", "critical"],
    );
    let (c2, _) = analyze(
        &[&b, &a],
        &out.path().join("two"),
        &["--fail-on", "critical"],
    );
    let one = std::fs::read(out.path().join("one/findings.json")).unwrap();
    let two = std::fs::read(out.path().join("two/findings.json")).unwrap();
    assert!(one == two, "findings.json differs between input orders");
    assert_eq!((c1, c2), (1, 1), "critical findings must give exit code 1");
    // Raising thresholds never adds findings.
    let cfg = out.path().join("strict.toml");
    std::fs::write(
        &cfg,
        "[password_spray]\nmin_users = 1000\n[brute_force]\nmin_failures = 1000\n",
    )
    .unwrap();
    let (_, strict) = analyze(
        &[&a, &b],
        &out.path().join("strict"),
        &["--config", cfg.to_str().unwrap()],
    );
    let base: serde_json::Value = serde_json::from_slice(&one).unwrap();
    let ids = |d: &serde_json::Value| {
        d["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert!(ids(&strict).is_subset(&ids(&base)));
    assert!(ids(&strict).len() < ids(&base).len());
}

#[test]
fn partial_input_and_refused_output_have_their_own_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("x.jsonl"),
        "{\"createdDateTime\":\"2026-03-02T10:00:00Z\",\"status\":{\"errorCode\":0}}\nnot json\n",
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let (code, doc) = analyze(&[dir.path()], &out.path().join("r"), &[]);
    assert_eq!(code, 3);
    assert_eq!(doc["summary"]["rejected"], 1);
    let inside = dir.path().join("report");
    let o = Command::new(bin())
        .arg("analyze")
        .arg(dir.path())
        .arg("--out")
        .arg(&inside)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("inside or equal to input"));
    assert!(!inside.exists());
}

#[test]
fn ingest_and_explain_and_stdin() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), 300, true, 2);
    let o = Command::new(bin())
        .arg("ingest")
        .arg(dir.path().join("portal-csv"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("format portal_csv"), "{text}");
    // No progress line when standard error is not a terminal.
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(text.contains("total:"), "{text}");
    let o = Command::new(bin())
        .args(["explain", "AADSTS50053", "99999999"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.to_lowercase().contains("malicious"), "{text}");
    assert!(text.contains("not in the catalog"), "{text}");
    assert_eq!(o.status.code(), Some(0));
    // Standard input, gzip-compressed, format from content.
    let jsonl = std::fs::read(
        dir.path()
            .join("graph-jsonl/sof-elk/SignInLogs-servicePrincipal.jsonl"),
    )
    .unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &jsonl).unwrap();
    let gz = gz.finish().unwrap();
    let mut child = Command::new(bin())
        .args(["ingest", "-", "--json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), &gz).unwrap();
    drop(child.stdin.take());
    let o = child.wait_with_output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["records"].as_u64().unwrap() > 0);
    assert_eq!(v["inputs"][0]["format"], "graph_json");
}

#[test]
fn a_zip_archive_on_standard_input_is_read_member_by_member() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), 300, true, 21);
    // The portal CSV's sign-in type comes from the member's file name.
    let mut members = Vec::new();
    for folder in ["portal-csv", "portal-json"] {
        for e in std::fs::read_dir(dir.path().join(folder)).unwrap() {
            let path = e.unwrap().path();
            let name = format!("{folder}/{}", path.file_name().unwrap().to_string_lossy());
            members.push((name, std::fs::read(&path).unwrap()));
        }
    }
    members.sort();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in &members {
        zip.start_file(name.as_str(), zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut zip, bytes).unwrap();
    }
    let archive = zip.finish().unwrap().into_inner();
    std::fs::write(dir.path().join("exports.zip"), &archive).unwrap();
    let ingest = |stdin: bool, tmp: &Path| {
        let mut cmd = Command::new(bin());
        cmd.args(["ingest", "--json"]).env("TMPDIR", tmp);
        if stdin {
            cmd.arg("-").stdin(std::process::Stdio::piped());
        } else {
            cmd.arg(dir.path().join("exports.zip"));
        }
        let mut child = cmd.stdout(std::process::Stdio::piped()).spawn().unwrap();
        if let Some(mut input) = child.stdin.take() {
            std::io::Write::write_all(&mut input, &archive).unwrap();
        }
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "{o:?}");
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    let tmp = tempfile::tempdir().unwrap();
    let piped = ingest(true, tmp.path());
    let from_file = ingest(false, tmp.path());
    let inputs = piped["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), members.len());
    for (input, (name, _)) in inputs.iter().zip(&members) {
        assert_eq!(input["path"], format!("-!{name}"));
    }
    // The same sign-ins, formats and hashes as the archive read from disk.
    for key in ["records", "duplicates"] {
        assert_eq!(piped[key], from_file[key], "{key}");
    }
    for (a, b) in inputs.iter().zip(from_file["inputs"].as_array().unwrap()) {
        for key in ["format", "sha256", "parsed"] {
            assert_eq!(a[key], b[key], "{key} of {}", a["path"]);
        }
    }
    // The temporary copy is gone.
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

#[test]
fn convert_writes_every_table_format() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), 200, true, 9);
    let src = dir.path().join("azure-monitor-event-hub");
    let out = tempfile::tempdir().unwrap();
    for (to, name) in [
        ("csv", "t.csv"),
        ("jsonl", "t.jsonl"),
        ("parquet", "t.parquet"),
    ] {
        let o = Command::new(bin())
            .arg("convert")
            .arg(&src)
            .args(["--to", to, "--out"])
            .arg(out.path().join(name))
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{to}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let csv = std::fs::read_to_string(out.path().join("t.csv")).unwrap();
    assert!(csv.starts_with("time,request_id,"));
    let jsonl = std::fs::read_to_string(out.path().join("t.jsonl")).unwrap();
    assert_eq!(jsonl.lines().count() + 1, csv.lines().count().max(1));
    let pq = std::fs::read(out.path().join("t.parquet")).unwrap();
    assert_eq!(&pq[..4], b"PAR1");
}

#[test]
fn analyze_writes_failure_tables_that_rank_the_attackers() {
    let dir = tempfile::tempdir().unwrap();
    let truth = generate(dir.path(), 1500, true, 13);
    let out = tempfile::tempdir().unwrap();
    let report = out.path().join("r");
    analyze(&[&dir.path().join("graph-pages")], &report, &[]);
    let read = |name: &str| -> Vec<csv::StringRecord> {
        let mut r = csv::Reader::from_path(report.join("tables").join(name)).unwrap();
        assert_eq!(
            &r.headers().unwrap()[0],
            if name == "by_code.csv" { "code" } else { "key" }
        );
        r.records().map(|x| x.unwrap()).collect()
    };
    let scenario = |kind: &str| {
        truth["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["kind"] == kind)
            .unwrap()
            .clone()
    };
    // The spray IP has the most failures and targets the most users.
    let by_ip = read("by_ip.csv");
    let spray_ip = strings(&scenario("password_spray")["ips"])[0].clone();
    let users_col = csv::Reader::from_path(report.join("tables").join("by_ip.csv"))
        .unwrap()
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "users")
        .expect("a users column");
    let row = by_ip.iter().find(|r| r[0] == *spray_ip).unwrap();
    let users: u64 = row[users_col].parse().unwrap();
    assert!(users >= 25, "{row:?}");
    assert!(
        by_ip[..3].iter().any(|r| r[0] == *spray_ip),
        "{:?}",
        &by_ip[..3]
    );
    // The brute-forced user is the most-failing user.
    let victim = strings(&scenario("brute_force")["users"])[0].clone();
    assert_eq!(&read("by_user.csv")[0][0], victim.as_str());
    assert!(read("by_code.csv").iter().any(|r| &r[0] == "50126"));
    assert_eq!(read("by_hour.csv").len(), 24);
    for t in [
        "by_app.csv",
        "by_country.csv",
        "by_client_app.csv",
        "by_day.csv",
    ] {
        assert!(!read(t).is_empty(), "{t}");
    }
}

#[test]
fn hostile_keys_are_neutralised_in_tables() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("x.jsonl"),
        "{\"createdDateTime\":\"2026-03-02T10:00:00Z\",\"userPrincipalName\":\"=HYPERLINK(\\\"http://x\\\")\",\"ipAddress\":\"198.51.100.4\",\"status\":{\"errorCode\":50126}}\n",
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    analyze(&[dir.path()], &out.path().join("r"), &[]);
    let text = std::fs::read_to_string(out.path().join("r/tables/by_user.csv")).unwrap();
    assert!(text.contains("'=hyperlink"), "{text}");
    assert!(
        !text
            .lines()
            .any(|l| l.starts_with("=") || l.starts_with("\"=")),
        "{text}"
    );
}

/// Every file under `dir` (relative path -> bytes), manifest left out.
fn report_files(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if !p.ends_with("manifest.json") {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[test]
fn report_folder_is_complete_reproducible_and_accounted_in_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), 800, true, 17);
    let a = dir.path().join("portal-csv");
    let b = dir.path().join("azure-monitor-event-hub");
    let out = tempfile::tempdir().unwrap();
    analyze(&[&a, &b], &out.path().join("one"), &[]);
    analyze(&[&b, &a], &out.path().join("two"), &[]);
    let one = report_files(&out.path().join("one"));
    let two = report_files(&out.path().join("two"));
    for want in [
        "findings.json",
        "findings.csv",
        "summary.md",
        "report.html",
        "charts/failures_over_time.svg",
        "charts/failures_heatmap.svg",
        "tables/by_ip.csv",
        "tables/by_code.csv",
    ] {
        assert!(one.contains_key(want), "{want} missing: {:?}", one.keys());
    }
    assert!(one == two, "outputs differ between runs");
    let md = String::from_utf8(one["summary.md"].clone()).unwrap();
    assert!(
        md.contains("## Accounts to act on")
            && md.contains("## Incidents")
            && md.contains("50053 by cause"),
        "{md}"
    );
    let csv_text = String::from_utf8(one["findings.csv"].clone()).unwrap();
    assert!(csv_text.starts_with("id,kind,severity,title"));
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("one/manifest.json")).unwrap())
            .unwrap();
    assert_eq!(m["tool"], "entrasift");
    assert!(m["settings"].as_str().unwrap().contains("[password_spray]"));
    let inputs = m["inputs"].as_array().unwrap();
    assert!(inputs
        .iter()
        .all(|i| i["sha256"].as_str().unwrap().len() == 64));
    for o in m["outputs"].as_array().unwrap() {
        let path = out.path().join("one").join(o["path"].as_str().unwrap());
        use sha2::Digest;
        let hex: String = sha2::Sha256::digest(std::fs::read(path).unwrap())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(o["sha256"].as_str().unwrap(), hex);
    }
    // --format picks a subset; findings.json, history.json and
    // profiles.json (what a later --history run reads) are always there.
    analyze(&[&a], &out.path().join("md-only"), &["--format", "md"]);
    let sub = report_files(&out.path().join("md-only"));
    assert_eq!(
        sub.keys().cloned().collect::<Vec<_>>(),
        [
            "findings.json",
            "history.json",
            "profiles.json",
            "summary.md"
        ]
    );
}

#[test]
fn baseline_marks_findings_new_ongoing_and_resolved() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), 800, true, 19);
    let clean = tempfile::tempdir().unwrap();
    generate(clean.path(), 800, false, 19);
    let out = tempfile::tempdir().unwrap();
    let attacked = dir.path().join("graph-jsonl");
    let (_, week1) = analyze(&[&attacked], &out.path().join("w1"), &[]);
    let n = week1["findings"].as_array().unwrap().len();
    assert!(n > 5);
    // Same data again: everything ongoing.
    let w1 = out.path().join("w1");
    let (_, same) = analyze(
        &[&attacked],
        &out.path().join("w2"),
        &["--baseline", w1.to_str().unwrap()],
    );
    assert_eq!(same["baseline"]["ongoing"].as_array().unwrap().len(), n);
    assert!(same["baseline"]["new"].as_array().unwrap().is_empty());
    // A clean week: every earlier finding is resolved, failures went down.
    let (_, quiet) = analyze(
        &[&clean.path().join("graph-jsonl")],
        &out.path().join("w3"),
        &["--baseline", w1.join("findings.json").to_str().unwrap()],
    );
    assert_eq!(quiet["baseline"]["resolved"].as_array().unwrap().len(), n);
    let failures = &quiet["baseline"]["change"][0];
    assert_eq!(failures["name"], "failures");
    assert!(failures["current"].as_u64().unwrap() < failures["previous"].as_u64().unwrap());
    let md = std::fs::read_to_string(out.path().join("w3/summary.md")).unwrap();
    assert!(md.contains("Change since the baseline"));
}

#[test]
fn hostile_strings_are_escaped_in_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let rec = |id: &str, t: &str, code: i64| {
        format!(
            "{{\"createdDateTime\":\"2026-03-02T10:00:{t}Z\",\"id\":\"{id}\",\"userPrincipalName\":\"a\\\"b'@x.com\",\"userAgent\":\"<script>alert(1)</script>\",\"ipAddress\":\"198.51.100.4\",\"status\":{{\"errorCode\":{code},\"failureReason\":\"bad </td> | reason\"}}}}\n"
        )
    };
    let text: String = (0..40)
        .map(|i| rec(&format!("r{i}"), &format!("{:02}", i % 60), 50126))
        .collect();
    std::fs::write(dir.path().join("x.jsonl"), text).unwrap();
    let out = tempfile::tempdir().unwrap();
    analyze(&[dir.path()], &out.path().join("r"), &[]);
    let md = std::fs::read_to_string(out.path().join("r/summary.md")).unwrap();
    assert!(!md.contains("<script>"), "{md}");
    assert!(!md.contains("</td>"), "{md}");
    assert!(md.contains("a\"b'@x.com"), "{md}");
}

#[test]
fn colour_follows_the_color_flag() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), 300, true, 6);
    let out = tempfile::tempdir().unwrap();
    let run = |color: &str, dest: &str| {
        let o = Command::new(bin())
            .arg("analyze")
            .arg(dir.path().join("graph-jsonl"))
            .arg("--out")
            .arg(out.path().join(dest))
            .args(["--color", color])
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    assert!(run("always", "a").contains("\u{1b}[31m"));
    let plain = run("auto", "b");
    assert!(!plain.contains('\u{1b}'), "not a terminal: no colour");
    assert!(plain.contains("critical"));
}

#[test]
fn xlsx_workbook_when_asked_is_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), 400, true, 23);
    let out = tempfile::tempdir().unwrap();
    let src = dir.path().join("portal-csv");
    analyze(&[&src], &out.path().join("a"), &["--format", "xlsx"]);
    analyze(&[&src], &out.path().join("b"), &["--format", "xlsx"]);
    let a = std::fs::read(out.path().join("a/report.xlsx")).unwrap();
    let b = std::fs::read(out.path().join("b/report.xlsx")).unwrap();
    assert_eq!(&a[..2], b"PK");
    assert!(a == b, "workbook differs between identical runs");
    // Every sheet is there, with the findings' actors in it.
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(a)).unwrap();
    let mut names: Vec<String> = (0..zip.len())
        .map(|i| zip.by_index(i).unwrap().name().to_string())
        .collect();
    names.sort();
    let sheets = names
        .iter()
        .filter(|n| n.starts_with("xl/worksheets/sheet"))
        .count();
    // summary, accounts, findings, by_code, seven tables, user_agents,
    // asns, rare_countries, ip_enrichment, presets, sign_ins.
    assert_eq!(sheets, 17, "{names:?}");
    let mut shared = String::new();
    std::io::Read::read_to_string(
        &mut zip.by_name("xl/sharedStrings.xml").unwrap(),
        &mut shared,
    )
    .unwrap();
    assert!(shared.contains("password_spray"), "findings sheet content");
    assert!(shared.contains("192.0.2.45"), "spray IP in the sheets");
}

#[test]
fn the_binary_alone_self_tests_and_analyzes_in_an_empty_folder() {
    let lab = tempfile::tempdir().unwrap();
    let copy = lab.path().join("entrasift");
    std::fs::copy(bin(), &copy).unwrap();
    let o = Command::new(&copy)
        .arg("self-test")
        .current_dir(lab.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(
        text.contains("self-test passed") && !text.contains("FAIL"),
        "{text}"
    );
    assert!(
        text.lines().filter(|l| l.starts_with("PASS")).count() >= 25,
        "{text}"
    );
    let o = Command::new(&copy)
        .args([
            "generate",
            "--out",
            "data",
            "--records",
            "300",
            "--formats",
            "portal-csv",
        ])
        .current_dir(lab.path())
        .output()
        .unwrap();
    assert!(o.status.success());
    let o = Command::new(&copy)
        .args(["analyze", "data/portal-csv", "--out", "report", "-q"])
        .current_dir(lab.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(lab.path().join("report/report.html")).unwrap();
    assert!(html.contains("<svg"));
}

#[test]
fn version_about_and_verbose_describe_the_build_and_the_run() {
    let run = |args: &[&str]| {
        let o = Command::new(bin()).args(args).output().unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, short, _) = run(&["--version"]);
    assert_eq!(code, Some(0));
    assert!(short.starts_with(&format!("entrasift {} (", env!("CARGO_PKG_VERSION"))));
    assert_eq!(short.lines().count(), 1);

    let (code, long, _) = run(&["--version", "--verbose"]);
    assert_eq!(code, Some(0));
    assert!(
        long.contains("commit:") && long.contains("polars"),
        "{long}"
    );
    let (_, about, _) = run(&["about"]);
    assert_eq!(about, long, "about and --version --verbose print the same");

    let (code, json, _) = run(&["about", "--json"]);
    assert_eq!(code, Some(0));
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let deps = doc["dependencies"].as_array().unwrap();
    for name in [
        "polars", "rayon", "chrono", "clap", "csv", "serde", "plotters",
    ] {
        let d = deps
            .iter()
            .find(|d| d["name"] == name)
            .unwrap_or_else(|| panic!("{name} not listed"));
        assert!(!d["license"].as_str().unwrap().is_empty());
    }
    // Built from this checkout, so the commit is a real hash.
    let commit = doc["git_commit"].as_str().unwrap();
    assert!(
        commit.len() >= 40 && commit[..40].chars().all(|c| c.is_ascii_hexdigit()),
        "{commit}"
    );

    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), 200, true, 3);
    let src = dir.path().join("graph-jsonl");
    let out = dir.path().join("r");
    let (code, _, err) = run(&[
        "analyze",
        src.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-v",
    ]);
    assert_eq!(code, Some(0), "{err}");
    for stage in [
        "read, parse and de-duplicate:",
        "detect:",
        "wrote findings.json",
        "graph_json",
    ] {
        assert!(err.contains(stage), "verbose output lacks {stage}: {err}");
    }
    let (code, _, err) = run(&[
        "-q",
        "analyze",
        src.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-v",
    ]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--quiet and --verbose"), "{err}");
    let (code, _, _) = run(&["-v"]);
    assert_eq!(code, Some(2), "flags alone are a usage error");
}
