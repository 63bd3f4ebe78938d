//! The weekly job: runs kept side by side in one folder, each new run
//! reading the earlier ones (`--history`) for trends and what is new.

use crate::common::bin;
use entrasift::generate::{build_dataset, write_dataset, GenerateOptions, OutputKind};
use std::path::Path;
use std::process::Command;

const WEEK_US: i64 = 7 * 24 * 3600 * 1_000_000;

fn week(dir: &Path, n: i64, attacks: bool) {
    let opts = GenerateOptions {
        records: 600,
        seed: 5,
        attacks,
        formats: vec![OutputKind::PortalCsv],
        start_us: GenerateOptions::default().start_us + n * WEEK_US,
        ..GenerateOptions::default()
    };
    write_dataset(&build_dataset(&opts), &opts, dir).unwrap();
}

fn analyze(input: &Path, out: &Path, history: &Path) -> String {
    let o = Command::new(bin())
        .arg("analyze")
        .arg(input)
        .arg("--out")
        .arg(out)
        .arg("--history")
        .arg(history)
        .arg("-q")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(0), "{err}");
    err
}

#[test]
fn history_draws_trends_and_names_what_is_new() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    std::fs::create_dir(&runs).unwrap();
    for (n, attacks) in [(0, false), (1, true), (2, true)] {
        week(&tmp.path().join(format!("export-{n}")), n, attacks);
    }
    // Folder names deliberately sort against time: order comes from the data.
    let names = ["z-week-0", "m-week-1", "a-week-2"];
    let first = analyze(
        &tmp.path().join("export-0/portal-csv"),
        &runs.join(names[0]),
        &runs,
    );
    assert!(first.is_empty(), "{first}");
    let html0 = std::fs::read_to_string(runs.join(names[0]).join("report.html")).unwrap();
    assert!(html0.contains("No earlier run in the history folder"));

    analyze(
        &tmp.path().join("export-1/portal-csv"),
        &runs.join(names[1]),
        &runs,
    );
    let md1 = std::fs::read_to_string(runs.join(names[1]).join("summary.md")).unwrap();
    assert!(md1.contains("### New since z-week-0"), "{md1}");
    // Week 1 is the first with attacks: the spray source and the spray are new.
    let new_ips = md1
        .lines()
        .find(|l| l.starts_with("- failing IP addresses:"))
        .unwrap();
    assert!(new_ips.contains("192.0.2.45"), "{new_ips}");
    assert!(md1.contains("- new finding: HIGH"), "{md1}");

    // A junk run in the folder is reported, not fatal.
    std::fs::create_dir(runs.join("broken")).unwrap();
    std::fs::write(runs.join("broken/history.json"), "{\"schema_version\": 1").unwrap();
    let err = analyze(
        &tmp.path().join("export-2/portal-csv"),
        &runs.join(names[2]),
        &runs,
    );
    assert!(
        err.contains("history broken: cannot read history.json"),
        "{err}"
    );

    let dir2 = runs.join(names[2]);
    let html = std::fs::read_to_string(dir2.join("report.html")).unwrap();
    assert!(html.contains("<section id=\"trends\">") && html.contains("href=\"#trends\""));
    assert!(
        html.contains("<h3>New since m-week-1</h3>"),
        "ordered by period, not name"
    );
    // Same attackers as last week: the spray is ongoing, not new.
    let trends = std::fs::read_to_string(dir2.join("charts/trends.svg")).unwrap();
    assert_eq!(
        trends.matches("<circle").count(),
        4 * 3,
        "four panels, three runs each"
    );
    let run_rows: Vec<&str> = html
        .split("<section id=\"trends\">")
        .nth(1)
        .unwrap()
        .split("</table>")
        .next()
        .unwrap()
        .split("<tr>")
        .skip(2)
        .collect();
    assert_eq!(run_rows.len(), 3, "two earlier runs and this one");
    assert!(run_rows[0].contains("z-week-0") && run_rows[2].contains("this run"));
    let md2 = std::fs::read_to_string(dir2.join("summary.md")).unwrap();
    assert!(
        !md2.contains("- new finding: HIGH — Password spray"),
        "{md2}"
    );
    let rec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir2.join("history.json")).unwrap()).unwrap();
    assert!(rec["spray_ips"].as_u64().unwrap() >= 1 && rec["lockouts"].as_u64().unwrap() > 0);

    // Re-running a week in place does not count the old copy of itself.
    analyze(&tmp.path().join("export-2/portal-csv"), &dir2, &runs);
    let again = std::fs::read_to_string(dir2.join("report.html")).unwrap();
    assert_eq!(again, html, "same run, same page");
}

/// One Graph sign-in object, as a portal JSON download holds it.
#[allow(clippy::too_many_arguments)]
fn graph(
    time: &str,
    user: &str,
    ip: &str,
    asn: i64,
    country: &str,
    protocol: &str,
    app_id: &str,
    n: usize,
) -> serde_json::Value {
    serde_json::json!({
        "id": format!("00000000-0000-4000-8000-{n:012}"),
        "createdDateTime": time,
        "userPrincipalName": user,
        "userId": "11111111-1111-4111-8111-111111111111",
        "ipAddress": ip,
        "autonomousSystemNumber": asn,
        "appId": app_id,
        "appDisplayName": "Office 365",
        "clientAppUsed": "Browser",
        "isInteractive": true,
        "authenticationProtocol": protocol,
        "sessionId": format!("s-{n}"),
        "status": {"errorCode": 0},
        "location": {"countryOrRegion": country, "city": "", "state": ""}
    })
}

fn run_with(input: &Path, out: &Path, history: Option<&Path>) -> serde_json::Value {
    let mut cmd = Command::new(bin());
    cmd.arg("analyze")
        .arg(input)
        .arg("--out")
        .arg(out)
        .arg("-q");
    if let Some(h) = history {
        cmd.arg("--history").arg(h);
    }
    let o = cmd.output().unwrap();
    assert_eq!(
        o.status.code().map(|c| c < 2),
        Some(true),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&std::fs::read(out.join("findings.json")).unwrap()).unwrap()
}

fn kinds_for(doc: &serde_json::Value, user: &str) -> Vec<String> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["users"].as_array().unwrap().iter().any(|u| u == user))
        .map(|f| f["kind"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn history_profiles_are_the_baseline_of_not_seen_before() {
    let dir = tempfile::tempdir().unwrap();
    let (w1, w2) = (dir.path().join("w1.json"), dir.path().join("w2.json"));
    let reports = dir.path().join("reports");
    let alice = "alice@contoso.com";
    let office = |t: &str, n| graph(t, alice, "192.0.2.10", 7018, "US", "none", "", n);
    // Week 1: the office, and a travel VPN at DigitalOcean in the Netherlands.
    let week1 = vec![
        office("2026-03-02T08:00:00Z", 1),
        graph(
            "2026-03-04T09:00:00Z",
            alice,
            "203.0.113.9",
            14061,
            "NL",
            "none",
            "",
            2,
        ),
        office("2026-03-06T08:00:00Z", 3),
    ];
    // Week 2: the VPN again 30 hours in, and, an hour into the data, a
    // device code entered from Frankfurt for the Authentication Broker.
    let week2 = vec![
        office("2026-03-09T08:00:00Z", 4),
        graph(
            "2026-03-09T09:00:00Z",
            alice,
            "198.51.100.20",
            24940,
            "DE",
            "deviceCode",
            "29d9ed98-a469-4536-ade2-f981bc1d605e",
            5,
        ),
        graph(
            "2026-03-10T14:00:00Z",
            alice,
            "203.0.113.9",
            14061,
            "NL",
            "none",
            "",
            6,
        ),
        office("2026-03-11T08:00:00Z", 7),
    ];
    std::fs::write(&w1, serde_json::to_string(&week1).unwrap()).unwrap();
    std::fs::write(&w2, serde_json::to_string(&week2).unwrap()).unwrap();

    // Alone, week 2's first day is its own baseline: the VPN looks new,
    // and the device code, an hour in, cannot be judged.
    let alone = run_with(&w2, &dir.path().join("alone"), None);
    let k = kinds_for(&alone, alice);
    assert!(k.contains(&"hosting_provider_sign_in".to_string()), "{k:?}");
    assert!(!k.contains(&"device_code_phishing".to_string()), "{k:?}");

    // With week 1 in the history: the VPN is hers, and the device code
    // from a network she never used is phishing, however early it comes.
    std::fs::create_dir_all(&reports).unwrap();
    run_with(&w1, &reports.join("2026-W10"), Some(&reports));
    assert!(reports.join("2026-W10").join("profiles.json").is_file());
    let with = run_with(&w2, &reports.join("2026-W11"), Some(&reports));
    let k = kinds_for(&with, alice);
    // Hetzner, where the code was entered, is new; DigitalOcean is hers.
    let vpn_flagged = with["findings"].as_array().unwrap().iter().any(|f| {
        f["kind"] == "hosting_provider_sign_in" && f["title"].as_str().unwrap().contains("AS14061")
    });
    assert!(!vpn_flagged, "{k:?}");
    let phish = with["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "device_code_phishing")
        .unwrap_or_else(|| panic!("no device-code finding: {k:?}"));
    let facts = phish["evidence"]["facts"].to_string();
    assert!(facts.contains("history of 1 earlier run"), "{facts}");
    let verdict = with["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["user"] == alice)
        .unwrap();
    assert_eq!(verdict["verdict"], "compromised");
}
