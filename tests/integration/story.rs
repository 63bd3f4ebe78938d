//! The story a responder acts on, end to end on generated data with every
//! planted attack: each attacked account gets the verdict its story
//! deserves in every export shape that carries the fields, address blocks
//! are never lockouts, lists are whole, low findings are few, and what
//! could not run is said.

use crate::common::{bin, generate};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

fn analyze(input: &Path, out: &Path, preset: &str) -> serde_json::Value {
    let o = Command::new(bin())
        .arg("analyze")
        .arg(input)
        .args(["--out"])
        .arg(out)
        .args(["--quiet", "--preset", preset])
        .output()
        .unwrap();
    let text = std::fs::read_to_string(out.join("findings.json"))
        .unwrap_or_else(|_| panic!("no findings.json: {}", String::from_utf8_lossy(&o.stderr)));
    serde_json::from_str(&text).unwrap()
}

fn users_of(truth: &serde_json::Value, kind: &str) -> Vec<String> {
    truth["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["kind"] == kind)
        .flat_map(|s| s["users"].as_array().unwrap().iter())
        .map(|u| u.as_str().unwrap().to_string())
        .collect()
}

/// Every finding's title.
fn titles(doc: &serde_json::Value) -> Vec<&str> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["title"].as_str().unwrap())
        .collect()
}

/// The findings of one kind.
fn of_kind<'a>(doc: &'a serde_json::Value, kind: &str) -> Vec<&'a serde_json::Value> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == kind)
        .collect()
}

/// A clean week and the same week with the planted attacks, each written
/// by `write` (which returns the truth file) and analyzed from its
/// `export` folder: the clean report, the truth and the attacked report.
fn clean_and_attacked(
    write: fn(&Path, bool) -> serde_json::Value,
    export: &str,
) -> (serde_json::Value, serde_json::Value, serde_json::Value) {
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let run = |name: &str, attacks: bool| {
        let truth = write(&data.path().join(name), attacks);
        let doc = analyze(
            &data.path().join(name).join(export),
            &out.path().join(name),
            "default",
        );
        (truth, doc)
    };
    let (_, clean) = run("clean", false);
    let (truth, attacked) = run("attacked", true);
    (clean, truth, attacked)
}

fn verdicts(doc: &serde_json::Value) -> BTreeMap<String, String> {
    doc["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["user"].as_str().unwrap().to_string(),
                a["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn every_planted_story_gets_its_verdict_in_every_export() {
    let data = tempfile::tempdir().unwrap();
    let truth = generate(data.path(), 6000, true, 11);
    let out = tempfile::tempdir().unwrap();
    let brute = users_of(&truth, "success_after_failures");
    let fatigue = users_of(&truth, "mfa_fatigue");
    let blocked = users_of(&truth, "malicious_ip");
    let lockout = users_of(&truth, "lockout");
    let known = users_of(&truth, "password_known");
    let replayed = users_of(&truth, "token_replay");
    let phished = users_of(&truth, "device_code_phishing");
    let slow = users_of(&truth, "low_and_slow_spray");
    assert!(!replayed.is_empty() && !phished.is_empty() && slow.len() >= 12);
    assert!(!brute.is_empty() && !fatigue.is_empty() && !blocked.is_empty());
    for export in [
        "graph-pages",
        "azure-monitor-event-hub",
        "portal-csv",
        "purview-csv",
    ] {
        let doc = analyze(
            &data.path().join(export),
            &out.path().join(export),
            "default",
        );
        let v = verdicts(&doc);
        let of = |u: &str| v.get(u).map(String::as_str).unwrap_or("none");
        for u in &brute {
            assert_eq!(of(u), "compromised", "{export}: {u}");
        }
        for u in &fatigue {
            assert_eq!(of(u), "compromised", "{export}: {u}");
        }
        for u in &lockout {
            assert_eq!(of(u), "locked_out", "{export}: {u}");
        }
        // Entra blocked the address, not the account: never a lockout.
        for u in &blocked {
            assert_ne!(of(u), "locked_out", "{export}: {u}");
        }
        // The audit log has neither the protocol nor the non-interactive
        // token refreshes, so neither story shows there.
        if export != "purview-csv" {
            for u in replayed.iter().chain(&phished) {
                assert_eq!(of(u), "compromised", "{export}: {u}");
            }
        }
        // One wrong password a day: targeted, never more on its own.
        for u in &slow {
            assert_ne!(of(u), "none", "{export}: {u}");
        }
        if export != "purview-csv" {
            for u in &known {
                assert_eq!(of(u), "credential_known", "{export}: {u}");
            }
        }
        // No account is called compromised without a reason, and only the
        // planted stories are.
        let compromised: Vec<&String> = v
            .iter()
            .filter(|(_, verdict)| *verdict == "compromised")
            .map(|(u, _)| u)
            .collect();
        assert!(compromised.len() <= 8, "{export}: {compromised:?}");
        // Lists are whole: every finding names as many accounts as it counts.
        for f in doc["findings"].as_array().unwrap() {
            let facts: BTreeMap<&str, &serde_json::Value> = f["evidence"]["facts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|kv| (kv[0].as_str().unwrap(), &kv[1]))
                .collect();
            assert_eq!(
                f["users"].as_array().unwrap().len() as u64,
                facts["distinct_users"].as_u64().unwrap(),
                "{export}: {}",
                f["title"]
            );
        }
        // Legacy protocols: a handful of findings, not one per account.
        let legacy = of_kind(&doc, "legacy_auth").len();
        assert!(legacy <= 6, "{export}: {legacy} legacy findings");
        // Every finding belongs to exactly one incident.
        let in_incidents: usize = doc["incidents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["findings"].as_array().unwrap().len())
            .sum();
        assert_eq!(in_incidents, doc["findings"].as_array().unwrap().len());
        // The summary opens with the accounts and the 50053 guidance.
        let md = std::fs::read_to_string(out.path().join(export).join("summary.md")).unwrap();
        let head: String = md.lines().take(60).collect::<Vec<_>>().join("\n");
        assert!(head.contains("## Accounts to act on"), "{export}");
    }
}

#[test]
fn smart_lockouts_are_counted_apart_from_address_blocks() {
    let data = tempfile::tempdir().unwrap();
    let truth = generate(data.path(), 3000, true, 5);
    let out = tempfile::tempdir().unwrap();
    let report = out.path().join("r");
    analyze(&data.path().join("graph-pages"), &report, "default");
    let ip = truth["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "malicious_ip")
        .and_then(|s| s["ips"][0].as_str())
        .unwrap()
        .to_string();
    let mut r = csv::Reader::from_path(report.join("tables").join("by_ip.csv")).unwrap();
    let headers = r.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let row = r
        .records()
        .map(|x| x.unwrap())
        .find(|row| row[0] == *ip)
        .unwrap();
    assert_eq!(&row[col("lockouts")], "0", "{row:?}");
    assert_ne!(&row[col("ip_blocks")], "0", "{row:?}");
    let history: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("history.json")).unwrap())
            .unwrap();
    let smart: u64 = {
        let mut r = csv::Reader::from_path(report.join("tables").join("by_day.csv")).unwrap();
        let h = r.headers().unwrap().clone();
        let c = h.iter().position(|x| x == "lockouts").unwrap();
        r.records()
            .map(|x| x.unwrap()[c].parse::<u64>().unwrap())
            .sum()
    };
    assert_eq!(history["lockouts"].as_u64().unwrap(), smart);
}

#[test]
fn impossible_travel_on_the_purview_log_is_said_not_to_run() {
    let data = tempfile::tempdir().unwrap();
    generate(data.path(), 2000, true, 3);
    let out = tempfile::tempdir().unwrap();
    let doc = analyze(&data.path().join("purview-csv"), out.path(), "default");
    let travel = doc["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "impossible_travel")
        .unwrap();
    assert_eq!(travel["status"], "not_run", "{travel}");
    assert!(travel["note"].as_str().unwrap().contains("coordinates"));
}

/// Rewrites every sign-in CSV in `dir` as a tenant without registered
/// devices, whose service principals run in a cloud's egress pool:
/// "Device ID" is emptied on every row (as Entra leaves it for
/// unregistered phones and laptops), and the ApplicationSignIns rows get
/// addresses spread over hundreds of blocks (the portal download carries
/// no ASN to tie them together). The planted attack addresses, in
/// 192.0.2.0/24, are left alone.
fn unregistered_and_pooled(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".csv") || name.contains("AuthDetails") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let text = text.trim_start_matches('\u{feff}');
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut rows: Vec<Vec<String>> = rdr
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect())
            .collect();
        let header = rows[0].clone();
        let col = |name: &str| header.iter().position(|h| h.trim() == name);
        let device = col("Device ID");
        let ip = col("IP address").filter(|_| name.starts_with("ApplicationSignIns"));
        for (n, row) in rows.iter_mut().enumerate().skip(1) {
            if let Some(d) = device {
                row[d].clear();
            }
            if let Some(i) = ip {
                if !row[i].starts_with("192.0.2.") {
                    row[i] = format!("{}.{}.{}.7", [20, 40, 52, 13][n % 4], n % 10, (n * 7) % 251);
                }
            }
        }
        let mut w = csv::Writer::from_path(&path).unwrap();
        for row in rows {
            w.write_record(row).unwrap();
        }
        w.flush().unwrap();
    }
}

fn portal_csv(dir: &Path, attacks: bool) -> serde_json::Value {
    use entrasift::generate::{build_dataset, write_dataset, GenerateOptions, OutputKind};
    let opts = GenerateOptions {
        records: 6000,
        seed: 23,
        attacks,
        formats: vec![OutputKind::PortalCsv],
        ..GenerateOptions::default()
    };
    write_dataset(&build_dataset(&opts), &opts, dir).unwrap();
    let truth = std::fs::read_to_string(dir.join("truth.json")).unwrap();
    unregistered_and_pooled(&dir.join("portal-csv"));
    serde_json::from_str(&truth).unwrap()
}

/// A clean week of a tenant whose phones and laptops are not registered
/// (sessions move between home, office and carrier with no device id)
/// and whose service principals get a new address block on many runs:
/// nothing is reported. With the planted attacks, the replayed session
/// (another country, another browser) and the leaked service principal
/// secret (used from Moscow) are still found.
#[test]
fn unregistered_devices_and_cloud_egress_pools_raise_nothing_of_their_own() {
    let (clean, truth, doc) = clean_and_attacked(portal_csv, "portal-csv");
    let titles = titles(&clean);
    assert!(titles.is_empty(), "{titles:#?}");
    let v = verdicts(&doc);
    for u in users_of(&truth, "token_replay") {
        assert_eq!(v.get(&u).map(String::as_str), Some("compromised"), "{u}");
    }
    let workload = of_kind(&doc, "workload_new_network");
    assert_eq!(workload.len(), 1, "{workload:#?}");
    assert_eq!(workload[0]["ips"][0], "192.0.2.242");
}

/// Sends about a quarter of the accounts of every Graph JSON-lines file
/// under `dir` through a secure web gateway for every other interactive
/// success in the US from a laptop (the gateway's agent runs on managed
/// Windows and Mac laptops, not on phones): the sign-in's address becomes one of the gateway's
/// (ASN 53813) and its location the account's egress city of the
/// gateway's, Dallas, Ashburn or Atlanta, far from most of them. The
/// planted attack addresses, in 192.0.2.0/24, are left alone.
fn through_a_gateway(dir: &Path) {
    let pops = [
        ("Dallas", 32.78, -96.8),
        ("Ashburn", 39.04, -77.49),
        ("Atlanta", 33.75, -84.39),
    ];
    for path in walk(dir) {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        let lines: Vec<String> = text
            .lines()
            .map(|line| {
                let mut r: serde_json::Value = serde_json::from_str(line).unwrap();
                let user = r["userPrincipalName"].as_str().unwrap_or("").to_string();
                let hash = user.bytes().map(usize::from).sum::<usize>();
                let routed = hash % 4 == 0
                    && r["status"]["errorCode"] == 0
                    && r["signInEventTypes"][0] == "interactiveUser"
                    && r["location"]["countryOrRegion"] == "US"
                    && ["Windows10", "MacOs"]
                        .contains(&r["deviceDetail"]["operatingSystem"].as_str().unwrap_or(""))
                    && !r["ipAddress"]
                        .as_str()
                        .unwrap_or("")
                        .starts_with("192.0.2.");
                if routed {
                    let n = seen.entry(user).or_default();
                    *n += 1;
                    if n.is_multiple_of(2) {
                        let pop = hash / 4 % 3;
                        let (city, lat, lon) = pops[pop];
                        r["ipAddress"] = format!("165.225.{pop}.20").into();
                        r["autonomousSystemNumber"] = 53813.into();
                        r["location"]["city"] = city.into();
                        r["location"]["geoCoordinates"] =
                            serde_json::json!({"latitude": lat, "longitude": lon});
                    }
                }
                r.to_string()
            })
            .collect();
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    }
}

fn graph_jsonl(dir: &Path, attacks: bool) -> serde_json::Value {
    use entrasift::generate::{build_dataset, write_dataset, GenerateOptions, OutputKind};
    let opts = GenerateOptions {
        records: 8000,
        seed: 29,
        attacks,
        formats: vec![OutputKind::GraphJsonl],
        ..GenerateOptions::default()
    };
    write_dataset(&build_dataset(&opts), &opts, dir).unwrap();
    through_a_gateway(&dir.join("graph-jsonl"));
    serde_json::from_str(&std::fs::read_to_string(dir.join("truth.json")).unwrap()).unwrap()
}

/// A clean week of a tenant where a quarter of the accounts reach
/// Microsoft through a secure web gateway whose egress Entra places in
/// three far cities: nobody travels. With the planted attacks, the
/// planted impossible travel is still found.
#[test]
fn a_gateway_s_egress_cities_are_no_journey() {
    let (clean, truth, doc) = clean_and_attacked(graph_jsonl, "graph-jsonl");
    let titles = titles(&clean);
    assert!(titles.is_empty(), "{titles:#?}");
    let travel: Vec<&str> = of_kind(&doc, "impossible_travel")
        .iter()
        .map(|f| f["users"][0].as_str().unwrap())
        .collect();
    let want = users_of(&truth, "impossible_travel");
    assert!(!want.is_empty());
    assert_eq!(travel, want);
}

/// A sign-in a VPN hop is planted after: an interactive success in the
/// US, from a device with an id the account used on an earlier day (or,
/// with `first_day`, on the account's first day in the data, from a
/// device it used on most of its days), of an account no planted story
/// names.
struct HopFrom {
    /// The device's operating systems it may come from.
    os: &'static [&'static str],
    /// Only sign-ins on this day or later (`YYYY-MM-DD`).
    from_day: &'static str,
    first_day: bool,
    /// The device at the VPN end; `None`: the same device as at home.
    laptop: Option<&'static str>,
    id: &'static str,
}

/// Adds, under `dir`, a sign-in from a VPN exit in Frankfurt five minutes
/// after the first sign-in `from` describes: the owner far away in no
/// time, on the same device or on a managed laptop of their own. Returns
/// the account.
fn vpn_hop(dir: &Path, planted: &[String], from: &HopFrom) -> String {
    let mut files: Vec<_> = walk(dir);
    files.sort();
    // The first day each account signed in on each device, and its days
    // on it; each account's days.
    let mut first_day: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut device_days: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let mut account_days: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in &files {
        for line in std::fs::read_to_string(path).unwrap().lines() {
            let Ok(r) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let (Some(user), Some(device), Some(time)) = (
                r["userPrincipalName"].as_str(),
                r["deviceDetail"]["deviceId"].as_str(),
                r["createdDateTime"].as_str(),
            ) else {
                continue;
            };
            let key = (user.to_string(), device.to_string());
            let day = first_day
                .entry(key.clone())
                .or_insert_with(|| time[..10].to_string());
            *day = day.clone().min(time[..10].to_string());
            if r["status"]["errorCode"] == 0 {
                device_days
                    .entry(key)
                    .or_default()
                    .insert(time[..10].to_string());
                account_days
                    .entry(user.to_string())
                    .or_default()
                    .insert(time[..10].to_string());
            }
        }
    }
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        let found = lines.iter().enumerate().find_map(|(k, line)| {
            let r: serde_json::Value = serde_json::from_str(line).ok()?;
            let user = r["userPrincipalName"].as_str()?.to_string();
            let device = &r["deviceDetail"];
            let id = device["deviceId"].as_str()?.to_string();
            let day = r["createdDateTime"].as_str()?.get(..10)?;
            let fits = r["status"]["errorCode"] == 0
                && r["signInEventTypes"][0] == "interactiveUser"
                && day >= from.from_day
                && if from.first_day {
                    let days = account_days.get(&user)?;
                    let on = device_days.get(&(user.clone(), id.clone()))?.len();
                    days.first().map(String::as_str) == Some(day) && on >= 3 && 2 * on > days.len()
                } else {
                    first_day[&(user.clone(), id.clone())].as_str() < day
                }
                && r["location"]["countryOrRegion"] == "US"
                && from.os.contains(&device["operatingSystem"].as_str()?)
                && !id.is_empty()
                && (from.laptop.is_none() || device["isManaged"] == false)
                && !planted.contains(&user);
            fits.then_some((k, user, r))
        });
        let Some((k, user, mut r)) = found else {
            continue;
        };
        let at = chrono::DateTime::parse_from_rfc3339(r["createdDateTime"].as_str().unwrap())
            .unwrap()
            + chrono::Duration::minutes(5);
        r["createdDateTime"] = at.format("%Y-%m-%dT%H:%M:%SZ").to_string().into();
        r["id"] = format!("5e1f0c7a-0000-4000-8000-0000000{}", from.id).into();
        r["originalRequestId"] = r["id"].clone();
        r["correlationId"] = format!("5e1f0c7a-0000-4000-8000-0000001{}", from.id).into();
        r["ipAddress"] = "91.64.10.20".into();
        r["autonomousSystemNumber"] = 3209.into();
        r["location"] = serde_json::json!({
            "city": "Frankfurt am Main", "state": "Hesse", "countryOrRegion": "DE",
            "geoCoordinates": {"latitude": 50.11, "longitude": 8.68}
        });
        if let Some(laptop) = from.laptop {
            // Another device signs in with a session of its own.
            r["sessionId"] = format!("5e1f0c7a-0000-4000-8000-0000002{}", from.id).into();
            r["deviceDetail"] = serde_json::json!({
                "deviceId": laptop, "displayName": "LAPTOP-VPN", "operatingSystem": "Windows10",
                "browser": "Edge 120.0.2210", "isCompliant": true, "isManaged": true,
                "trustType": "Azure AD joined"
            });
        }
        lines.insert(k + 1, r.to_string());
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        return user;
    }
    panic!("no sign-in as asked under {}", dir.display());
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Impossible travel by the owner's own laptop (one device id at both
/// ends, a VPN abroad) is worth a look, and so is a managed laptop on a
/// VPN abroad minutes after the owner's own unmanaged Mac or phone, which
/// the account used on earlier days, or, on its first day in the data, on
/// most of its days; the planted takeover, from a browser the tenant does
/// not know, stays compromised.
#[test]
fn the_owner_s_devices_in_two_places_are_worth_a_look_and_a_stranger_is_a_takeover() {
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let truth = graph_jsonl(data.path(), true);
    let mut planted: Vec<String> = truth["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["users"].as_array().unwrap().iter())
        .map(|u| u.as_str().unwrap().to_string())
        .collect();
    let dir = data.path().join("graph-jsonl");
    let one_laptop = HopFrom {
        os: &["Windows10"],
        from_day: "",
        first_day: false,
        laptop: None,
        id: "0f7a1",
    };
    let traveller = vpn_hop(&dir, &planted, &one_laptop);
    planted.push(traveller.clone());
    let phone_and_laptop = HopFrom {
        os: &["MacOs", "Ios 17.3.1", "Android 14"],
        from_day: "2026-03-04",
        first_day: false,
        laptop: Some("7d0c55e2-6b1f-4c3a-9e21-0000000f7a2b"),
        id: "0f7a2",
    };
    let commuter = vpn_hop(&dir, &planted, &phone_and_laptop);
    planted.push(commuter.clone());
    // The same on the first day of the data, where no earlier day vouches.
    let first_day = HopFrom {
        os: &["MacOs", "Ios 17.3.1", "Android 14"],
        from_day: "",
        first_day: true,
        laptop: Some("7d0c55e2-6b1f-4c3a-9e21-0000000f7a3c"),
        id: "0f7a3",
    };
    let early = vpn_hop(&dir, &planted, &first_day);
    let doc = analyze(&dir, out.path(), "default");
    for u in [&traveller, &commuter, &early] {
        assert!(
            of_kind(&doc, "impossible_travel")
                .iter()
                .any(|f| f["users"][0] == u.as_str()),
            "{u}: {:#?}",
            titles(&doc)
        );
    }
    let v = verdicts(&doc);
    assert_eq!(v[&traveller], "suspicious", "{traveller}");
    assert_eq!(v[&commuter], "suspicious", "{commuter}");
    assert_eq!(v[&early], "suspicious", "{early}");
    for u in users_of(&truth, "impossible_travel") {
        assert_eq!(v[&u], "compromised", "{u}");
    }
}

/// Moves every Windows sign-in of about a quarter of the accounts under
/// `dir` to a pooled Azure Virtual Desktop from 2026-03-04 on: three
/// session hosts in Microsoft's AS8075, each an Entra-joined, compliant
/// device with its own sessions. Returns how many accounts moved.
fn on_virtual_desktops(dir: &Path) -> usize {
    let mut moved = BTreeSet::new();
    for path in walk(dir) {
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<String> = text
            .lines()
            .map(|line| {
                let mut r: serde_json::Value = serde_json::from_str(line).unwrap();
                let user = r["userPrincipalName"].as_str().unwrap_or("").to_string();
                let hash = user.bytes().map(usize::from).sum::<usize>();
                let day = r["createdDateTime"]
                    .as_str()
                    .and_then(|t| t.get(..10))
                    .map(str::to_string);
                if !user.is_empty()
                    && hash % 4 == 0
                    && day.as_deref() >= Some("2026-03-04")
                    && r["deviceDetail"]["operatingSystem"] == "Windows10"
                {
                    let host = hash / 4 % 3;
                    r["ipAddress"] = format!("20.64.{host}.10").into();
                    r["autonomousSystemNumber"] = 8075.into();
                    r["location"] = serde_json::json!({
                        "city": "Des Moines", "state": "Iowa", "countryOrRegion": "US",
                        "geoCoordinates": {"latitude": 41.6, "longitude": -93.6}
                    });
                    r["deviceDetail"] = serde_json::json!({
                        "deviceId": format!("avd-host-{host}"), "displayName": format!("avd-pool-{host}"),
                        "operatingSystem": "Windows10", "browser": "Edge 122.0.0",
                        "isCompliant": true, "isManaged": true, "trustType": "Azure AD joined"
                    });
                    r["sessionId"] = format!("avd-{host}-{user}-{}", day.unwrap_or_default()).into();
                    moved.insert(user);
                }
                r.to_string()
            })
            .collect();
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    }
    moved.len()
}

/// A clean week in which a quarter of the accounts move to pooled virtual
/// desktops in Azure halfway through: their sign-ins from a hosting
/// network all carry a managed device, so each is a low finding and no
/// account is listed to act on; the summary says no incident is above low.
#[test]
fn virtual_desktops_in_the_cloud_put_no_account_on_the_list() {
    use entrasift::generate::{build_dataset, write_dataset, GenerateOptions, OutputKind};
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let opts = GenerateOptions {
        records: 8000,
        seed: 31,
        attacks: false,
        formats: vec![OutputKind::GraphJsonl],
        ..GenerateOptions::default()
    };
    write_dataset(&build_dataset(&opts), &opts, data.path()).unwrap();
    let moved = on_virtual_desktops(&data.path().join("graph-jsonl"));
    assert!(moved >= 5, "{moved}");
    let doc = analyze(&data.path().join("graph-jsonl"), out.path(), "default");
    let findings = doc["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    for f in findings {
        assert_eq!(f["kind"], "hosting_provider_sign_in", "{}", f["title"]);
        assert_eq!(f["severity"], "low", "{}", f["title"]);
    }
    assert_eq!(doc["accounts"], serde_json::json!([]));
    let md = std::fs::read_to_string(out.path().join("summary.md")).unwrap();
    assert!(md.contains("None above low severity"), "{md}");
}

/// Adds, under `dir`, an in-house script for each of `accounts`: an
/// hourly python-requests sign-in from the account's own host, from the
/// data's first hour to its last (no location: a host with no city).
fn hourly_scripts(dir: &Path, accounts: &[String]) {
    let mut first: Option<(String, serde_json::Value)> = None;
    let mut last = String::new();
    for path in walk(dir) {
        for line in std::fs::read_to_string(&path).unwrap().lines() {
            let r: serde_json::Value = serde_json::from_str(line).unwrap();
            let t = r["createdDateTime"].as_str().unwrap_or("").to_string();
            if r["status"]["errorCode"] == 0 && first.as_ref().is_none_or(|(f, _)| t < *f) {
                first = Some((t.clone(), r.clone()));
            }
            last = last.max(t);
        }
    }
    let (start, template) = first.unwrap();
    let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).unwrap();
    let end = parse(&last);
    let mut lines = Vec::new();
    for (k, user) in accounts.iter().enumerate() {
        let mut at = parse(&start) + chrono::Duration::minutes(k as i64 + 1);
        let mut n = 0;
        while at < end {
            let mut r = template.clone();
            let id = format!("5c71b7a0-0000-4000-8000-{k:06}{n:06}");
            r["userPrincipalName"] = user.as_str().into();
            r["createdDateTime"] = at.format("%Y-%m-%dT%H:%M:%SZ").to_string().into();
            r["id"] = id.clone().into();
            r["correlationId"] = id.clone().into();
            r["originalRequestId"] = id.into();
            r["userAgent"] = "python-requests/2.31.0".into();
            r["ipAddress"] = format!("198.51.100.{}", 40 + k).into();
            r["autonomousSystemNumber"] = 7018.into();
            r["appDisplayName"] = "Microsoft Graph".into();
            r["deviceDetail"] = serde_json::json!({"deviceId": "", "operatingSystem": ""});
            r["location"] = serde_json::json!({});
            lines.push(r.to_string());
            at += chrono::Duration::hours(1);
            n += 1;
        }
    }
    std::fs::write(dir.join("automation.json"), lines.join("\n") + "\n").unwrap();
}

/// Three accounts' own scripts, run hourly from their hosts all week, are
/// low and list no account; the planted attack tools stay high and their
/// accounts stay on the list.
#[test]
fn a_week_of_in_house_scripts_lists_no_account_and_the_attack_tools_still_do() {
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let truth = graph_jsonl(data.path(), true);
    let dir = data.path().join("graph-jsonl");
    let scripts: Vec<String> = ["reports", "sync", "backup"]
        .map(|s| format!("svc-{s}@contoso.com"))
        .into();
    hourly_scripts(&dir, &scripts);
    let doc = analyze(&dir, out.path(), "default");
    let tools = of_kind(&doc, "suspicious_user_agent");
    for s in &scripts {
        let f: Vec<_> = tools
            .iter()
            .filter(|f| f["users"][0] == s.as_str())
            .collect();
        assert_eq!(f.len(), 1, "{s}: {:#?}", titles(&doc));
        assert_eq!(f[0]["severity"], "low", "{}", f[0]["title"]);
    }
    let v = verdicts(&doc);
    for s in &scripts {
        assert!(!v.contains_key(s), "{s}: {v:#?}");
    }
    let planted = users_of(&truth, "suspicious_user_agent");
    assert!(!planted.is_empty());
    for u in &planted {
        assert!(v.contains_key(u), "{u}");
        assert!(
            tools.iter().any(|f| f["users"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x == u.as_str())
                && f["severity"] != "low"),
            "{u}"
        );
    }
}
