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
