//! Forensic review: actor timelines, local time beside UTC, and
//! re-verifying a report against its evidence.

use crate::common::*;
use std::path::Path;
use std::process::Command;

fn run(args: &[&str], cwd: Option<&Path>) -> (i32, String, String) {
    let mut cmd = Command::new(bin());
    cmd.args(args);
    if let Some(d) = cwd {
        cmd.current_dir(d);
    }
    let o = cmd.output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn csv_rows(text: &str) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let head = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            head.iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

#[test]
fn timeline_follows_an_account_through_brute_force_and_success() {
    let dir = tempfile::tempdir().unwrap();
    let truth = generate(dir.path(), 1500, true, 41);
    let brute = truth["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "brute_force")
        .unwrap();
    let user = brute["users"][0].as_str().unwrap().to_string();
    // Interactive and non-interactive sign-ins come from separate files.
    let src = dir.path().join("graph-jsonl");
    let (code, out, err) = run(
        &[
            "timeline",
            src.to_str().unwrap(),
            "--user",
            &user.to_uppercase(),
            "--format",
            "csv",
            "-q",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let rows = csv_rows(&out);
    assert!(rows.len() > 45, "{} rows", rows.len());
    assert!(rows.iter().all(|r| r["user"] == user));
    let times: Vec<&str> = rows.iter().map(|r| r["time_utc"].as_str()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "time order");
    let types: std::collections::BTreeSet<&str> =
        rows.iter().map(|r| r["sign_in_type"].as_str()).collect();
    assert!(
        types.contains("interactive") && types.contains("non_interactive"),
        "{types:?}"
    );
    assert!(
        !rows[0].contains_key("time_local"),
        "no local column without --display-tz"
    );
    // The brute-force window is marked on the failures, and the success
    // that ends it is flagged as the first after failures.
    let in_window = rows
        .iter()
        .filter(|r| r["markers"].contains("brute_force ("))
        .count();
    assert!(
        in_window >= 45,
        "{in_window} rows inside the brute-force window"
    );
    let first_success = rows
        .iter()
        .find(|r| r["markers"].contains("first success after"))
        .expect("success after failures marked");
    assert_eq!(first_success["result"], "success");
    assert!(first_success["time_utc"].as_str() >= brute["first"].as_str().unwrap());
    assert!(rows
        .iter()
        .any(|r| r["explanation"].contains("InvalidUserNameOrPassword")));
    // Every row points back to its evidence.
    assert!(rows
        .iter()
        .all(|r| r["source_file"].contains("graph-jsonl") && !r["request_id"].is_empty()));

    // A time range keeps only what lies inside it (a bare --to date is the whole day).
    let day = &brute["first"].as_str().unwrap()[..10];
    let (_, out, _) = run(
        &[
            "timeline",
            src.to_str().unwrap(),
            "--user",
            &user,
            "--from",
            day,
            "--to",
            day,
            "--format",
            "csv",
            "-q",
        ],
        None,
    );
    let ranged = csv_rows(&out);
    assert!(!ranged.is_empty() && ranged.len() < rows.len());
    assert!(ranged.iter().all(|r| r["time_utc"].starts_with(day)));
}

#[test]
fn timeline_of_a_finding_and_its_html_and_json_forms() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), 800, true, 43);
    let src = dir.path().join("azure-monitor-blob");
    let report = dir.path().join("report");
    let (code, _, err) = run(
        &[
            "analyze",
            src.to_str().unwrap(),
            "--out",
            report.to_str().unwrap(),
            "-q",
            "--display-tz",
            "Asia/Kathmandu",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("findings.json")).unwrap())
            .unwrap();
    let spray = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "password_spray")
        .unwrap();
    let id = spray["id"].as_str().unwrap();
    let ip = spray["ips"][0].as_str().unwrap();

    // JSON Lines: the spray IP's attempts carry the finding's id.
    let (code, out, err) = run(
        &[
            "timeline",
            src.to_str().unwrap(),
            "--finding",
            &id[..id.len() - 4],
            "--format",
            "json",
            "-q",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let marked = lines
        .iter()
        .filter(|l| {
            l["markers"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["type"] == "finding" && m["id"] == id)
        })
        .count();
    assert_eq!(
        marked as u64,
        spray["count"].as_u64().unwrap(),
        "every event of the finding is marked"
    );
    assert!(lines.iter().all(|l| l["ip"] == ip
        || spray["users"]
            .as_array()
            .unwrap()
            .contains(&l["user_principal_name"])));

    // HTML page: self-contained, local time beside UTC.
    let page = dir.path().join("spray.html");
    let (code, _, err) = run(
        &[
            "timeline",
            src.to_str().unwrap(),
            "--finding",
            id,
            "--format",
            "html",
            "--out",
            page.to_str().unwrap(),
            "--display-tz",
            "+05:45",
            "-q",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("default-src 'none'") && !html.contains("<script"));
    assert!(html.contains("Local (UTC+05:45)") && html.contains("+05:45</td>"));

    // The report carries the same timeline folded into the finding card,
    // with local time (Nepal, +05:45) beside UTC.
    let report_html = std::fs::read_to_string(report.join("report.html")).unwrap();
    assert!(report_html.contains("<details>\n<summary>Sign-ins of these accounts and IPs"));
    assert!(report_html.contains("Asia/Kathmandu") && report_html.contains("+05:45"));

    // Unknown finding and unreadable zone are usage errors naming the value.
    let (code, _, err) = run(
        &["timeline", src.to_str().unwrap(), "--finding", "nope", "-q"],
        None,
    );
    assert_eq!(code, 2);
    assert!(err.contains("\"nope\""), "{err}");
    let (code, _, err) = run(
        &[
            "timeline",
            src.to_str().unwrap(),
            "--ip",
            ip,
            "--display-tz",
            "Mars/Base",
        ],
        None,
    );
    assert_eq!(code, 2);
    assert!(err.contains("Mars/Base"), "{err}");
}

fn verdict(report: &Path, extra: &[&str]) -> (i32, serde_json::Value) {
    let mut args = vec!["verify", report.to_str().unwrap(), "--json"];
    args.extend_from_slice(extra);
    let (code, out, err) = run(&args, None);
    let v = serde_json::from_str(&out).unwrap_or_else(|_| panic!("{code} {out} {err}"));
    (code, v)
}

fn differing(v: &serde_json::Value) -> Vec<(String, String)> {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] != "ok" && c["status"] != "not_checked")
        .map(|c| {
            (
                c["group"].as_str().unwrap().to_string(),
                c["path"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn verify_proves_a_report_and_names_what_changed() {
    let case = tempfile::tempdir().unwrap();
    generate(&case.path().join("evidence"), 600, true, 47);
    std::fs::write(case.path().join("bad-ips.txt"), "192.0.2.45 spray source\n").unwrap();
    // Relative paths, as an analyst types them in the case folder.
    let (code, _, err) = run(
        &[
            "analyze",
            "evidence/graph-jsonl",
            "evidence/portal-csv",
            "--ip-list",
            "bad-ips.txt",
            "--out",
            "report",
            "-q",
        ],
        Some(case.path()),
    );
    assert_eq!(code, 0, "{err}");
    let report = case.path().join("report");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["settings_files"][0]["path"], "bad-ips.txt");
    assert!(manifest["git_commit"].as_str().unwrap().len() >= 40);

    // From anywhere: the manifest says where the relative paths live.
    let (code, v) = verdict(&report, &[]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["verified"], true);
    let groups: std::collections::BTreeSet<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["group"].as_str().unwrap())
        .collect();
    assert_eq!(groups, ["input", "report", "rerun", "settings"].into());

    // The re-run's scratch folder goes away with the check.
    let scratch = case.path().join("tmp");
    std::fs::create_dir(&scratch).unwrap();
    let o = Command::new(bin())
        .args(["verify", report.to_str().unwrap(), "-q"])
        .env("TMPDIR", &scratch)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let left: Vec<_> = std::fs::read_dir(&scratch).unwrap().collect();
    assert!(left.is_empty(), "verify left {left:?} behind");

    // An edited report file.
    let html = report.join("report.html");
    let original = std::fs::read(&html).unwrap();
    std::fs::write(&html, b"<p>nothing to see</p>").unwrap();
    let (code, v) = verdict(&report, &["--hashes-only"]);
    assert_eq!(code, 1);
    assert_eq!(
        differing(&v),
        [("report".to_string(), "report.html".to_string())]
    );
    std::fs::write(&html, original).unwrap();

    // A changed IP list changes the settings and the findings.
    std::fs::write(case.path().join("bad-ips.txt"), "198.51.100.1\n").unwrap();
    let (code, v) = verdict(&report, &[]);
    assert_eq!(code, 1);
    let diff = differing(&v);
    assert!(
        diff.contains(&("settings".into(), "bad-ips.txt".into())),
        "{diff:?}"
    );
    assert!(
        diff.contains(&("rerun".into(), "findings.json".into())),
        "{diff:?}"
    );
    std::fs::write(case.path().join("bad-ips.txt"), "192.0.2.45 spray source\n").unwrap();

    // Evidence moved elsewhere: --base points at the new case folder; then
    // one tampered input is named, and so are the outputs it changes.
    let moved = tempfile::tempdir().unwrap();
    let status = Command::new("cp")
        .args(["-r", "evidence", "bad-ips.txt"])
        .arg(moved.path())
        .current_dir(case.path())
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::remove_dir_all(case.path().join("evidence")).unwrap();
    let (code, v) = verdict(&report, &[]);
    assert_eq!(code, 1, "inputs gone");
    assert!(differing(&v).iter().any(|(g, _)| g == "input"));
    let base = moved.path().to_str().unwrap();
    let (code, v) = verdict(&report, &["--base", base]);
    assert_eq!(code, 0, "{v:#}");
    let csv = std::fs::read_dir(moved.path().join("evidence/portal-csv"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("InteractiveSignIns_2"))
        .unwrap();
    let mut text = std::fs::read_to_string(&csv).unwrap();
    text = text.replacen("Success", "Failure", 1);
    std::fs::write(&csv, text).unwrap();
    let (code, v) = verdict(&report, &["--base", base]);
    assert_eq!(code, 1);
    let diff = differing(&v);
    let name = csv.file_name().unwrap().to_string_lossy().to_string();
    assert!(
        diff.iter().any(|(g, p)| g == "input" && p.ends_with(&name)),
        "{diff:?}"
    );

    // A run that read standard input cannot be re-read.
    let stdin_report = case.path().join("from-stdin");
    let mut child = Command::new(bin())
        .args([
            "analyze",
            "-",
            "--out",
            stdin_report.to_str().unwrap(),
            "-q",
        ])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let jsonl = moved
        .path()
        .join("evidence/graph-jsonl/sof-elk/SignInLogs-nonInteractiveUser.jsonl");
    std::io::copy(
        &mut std::fs::File::open(jsonl).unwrap(),
        child.stdin.as_mut().unwrap(),
    )
    .unwrap();
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
    let (code, _, err) = run(&["verify", stdin_report.to_str().unwrap()], None);
    assert_eq!(code, 2);
    assert!(err.contains("standard input"), "{err}");
}
