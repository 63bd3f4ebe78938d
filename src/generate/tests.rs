//! Generator tests: determinism, file set, exact headers, planted
//! scenarios above detection thresholds, a clean background below them,
//! and every format carrying the same events.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use super::*;
use crate::generate::catalog as cat;
use crate::model::codes::{classify_50053, LockoutCause};
use crate::model::SignIn;

const MIN: i64 = 60_000_000;

fn opts(records: usize, seed: u64, attacks: bool) -> GenerateOptions {
    GenerateOptions {
        records,
        seed,
        attacks,
        ..GenerateOptions::default()
    }
}

fn scenario<'a>(ds: &'a Dataset, kind: &str) -> &'a Scenario {
    ds.scenarios
        .iter()
        .find(|s| s.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} scenario"))
}

/// Largest number of distinct keys among `items` (time, key) inside any
/// window of `width` microseconds.
fn max_distinct_in_window(mut items: Vec<(i64, String)>, width: i64) -> usize {
    items.sort();
    let mut best = 0;
    for (i, (t, _)) in items.iter().enumerate() {
        let keys: BTreeSet<&String> = items[i..]
            .iter()
            .take_while(|(u, _)| *u - t < width)
            .map(|(_, k)| k)
            .collect();
        best = best.max(keys.len());
    }
    best
}

/// Largest number of events inside any window of `width`.
fn max_in_window(mut times: Vec<i64>, width: i64) -> usize {
    times.sort_unstable();
    let mut best = 0;
    let mut lo = 0;
    for hi in 0..times.len() {
        while times[hi] - times[lo] >= width {
            lo += 1;
        }
        best = best.max(hi - lo + 1);
    }
    best
}

fn km(a: &SignIn, b: &SignIn) -> f64 {
    let (Some(la1), Some(lo1), Some(la2), Some(lo2)) =
        (a.latitude, a.longitude, b.latitude, b.longitude)
    else {
        return 0.0;
    };
    let (p1, p2) = (la1.to_radians(), la2.to_radians());
    let dp = p2 - p1;
    let dl = (lo2 - lo1).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().asin()
}

fn files_under(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let mut entries: Vec<PathBuf> = fs::read_dir(dir)
            .expect("readable dir")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, root, out);
            } else {
                let rel = p
                    .strip_prefix(root)
                    .expect("under root")
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, fs::read(&p).expect("readable file"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn strip_bom(b: &[u8]) -> &[u8] {
    b.strip_prefix(writers::UTF8_BOM).unwrap_or(b)
}

/// Every JSON value in a file, arrays flattened (concatenated pages and
/// bare objects included).
fn json_values(bytes: &[u8]) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for v in serde_json::Deserializer::from_slice(strip_bom(bytes)).into_iter::<serde_json::Value>()
    {
        match v.expect("valid JSON") {
            serde_json::Value::Array(items) => out.extend(items),
            other => out.push(other),
        }
    }
    out
}

fn csv_rows(bytes: &[u8]) -> (Vec<String>, Vec<csv::StringRecord>) {
    let mut r = csv::ReaderBuilder::new().from_reader(strip_bom(bytes));
    let header = r
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let rows = r.records().map(|x| x.expect("valid row")).collect();
    (header, rows)
}

#[test]
fn output_kind_names_round_trip() {
    for k in OutputKind::ALL {
        assert_eq!(OutputKind::parse(k.as_str()), Some(k));
    }
    assert_eq!(
        OutputKind::parse(" Portal-CSV "),
        Some(OutputKind::PortalCsv)
    );
    assert_eq!(OutputKind::parse("csv"), None);
}

#[test]
fn same_seed_gives_identical_bytes() {
    let o = opts(1500, 11, true);
    let a = build_dataset(&o);
    let b = build_dataset(&o);
    assert_eq!(a, b);
    let other = build_dataset(&opts(1500, 12, true));
    assert_ne!(a.events, other.events);

    let d1 = tempfile::tempdir().expect("tempdir");
    let d2 = tempfile::tempdir().expect("tempdir");
    let w1 = write_dataset(&a, &o, d1.path()).expect("write 1");
    let w2 = write_dataset(&b, &o, d2.path()).expect("write 2");
    assert_eq!(w1.len(), w2.len());
    let f1 = files_under(d1.path());
    let f2 = files_under(d2.path());
    assert_eq!(f1.keys().collect::<Vec<_>>(), f2.keys().collect::<Vec<_>>());
    for (name, bytes) in &f1 {
        assert!(f2[name] == *bytes, "{name} differs between runs");
    }
}

#[test]
fn events_are_sorted_and_well_formed() {
    let ds = build_dataset(&opts(3000, 5, true));
    assert!(ds.events.windows(2).all(|w| w[0].time_us <= w[1].time_us));
    let ids: BTreeSet<&str> = ds.events.iter().map(|e| e.request_id.as_str()).collect();
    assert_eq!(ids.len(), ds.events.len(), "request ids are unique");
    let end = DEFAULT_START_US + 7 * 24 * 60 * MIN;
    for e in &ds.events {
        assert!(e.time_us >= DEFAULT_START_US && e.time_us < end);
        assert_eq!(e.status, crate::model::codes::status_class(e.error_code));
        assert_eq!(e.user_principal_name, e.user_principal_name.to_lowercase());
        assert_eq!(e.request_id.len(), 36);
        assert!(!e.correlation_id.is_empty());
        assert!(!e.app_id.is_empty() && !e.app_name.is_empty());
        assert!(e.source_format.is_none());
        if e.ip.contains(':') {
            let parsed: std::net::Ipv6Addr = e.ip.parse().expect("valid IPv6");
            assert_eq!(parsed.to_string(), e.ip, "IPv6 in canonical form");
        } else if !e.ip.is_empty() {
            let _: std::net::Ipv4Addr = e.ip.parse().expect("valid IPv4");
        }
        match e.sign_in_type {
            SignInType::ServicePrincipal | SignInType::ManagedIdentity => {
                assert!(e.user_principal_name.is_empty() && e.user_id.is_empty());
            }
            _ => {
                assert!(!e.user_principal_name.is_empty());
                assert!(!e.city.is_empty() && e.latitude.is_some() && e.asn.is_some());
            }
        }
        if e.error_code != 0 {
            assert!(
                !e.failure_reason.is_empty(),
                "code {} has a reason",
                e.error_code
            );
        }
    }
    let kinds: BTreeSet<SignInType> = ds.events.iter().map(|e| e.sign_in_type).collect();
    assert_eq!(kinds.len(), 4, "all four logs are present");
    assert!(ds.events.iter().any(|e| e.ip.contains(':')), "some IPv6");
    let codes: BTreeSet<i64> = ds.events.iter().map(|e| e.error_code).collect();
    for c in [0, 50126, 50074, 50140, 16000, 53003] {
        assert!(codes.contains(&c), "background has code {c}");
    }
}

#[test]
fn size_follows_records() {
    for records in [5000usize, 20_000] {
        let n = build_dataset(&opts(records, 3, false)).events.len() as f64;
        let r = records as f64;
        assert!(
            n > 0.8 * r && n < 1.25 * r,
            "{records} requested, {n} generated"
        );
    }
}

#[test]
fn planted_scenarios_exceed_detection_thresholds() {
    let ds = build_dataset(&opts(4000, 21, true));
    let kinds: BTreeSet<&str> = ds.scenarios.iter().map(|s| s.kind.as_str()).collect();
    let expected: BTreeSet<&str> = [
        "password_spray",
        "distributed_spray",
        "brute_force",
        "success_after_failures",
        "lockout",
        "malicious_ip",
        "risky_user",
        "mfa_fatigue",
        "enumeration",
        "disabled_account",
        "legacy_auth",
        "impossible_travel",
        "suspicious_user_agent",
        "hosting_provider_sign_in",
        "password_known",
        "token_replay",
        "device_code_phishing",
        "low_and_slow_spray",
        "workload_new_network",
    ]
    .into_iter()
    .collect();
    assert_eq!(kinds, expected);
    let from_ip = |ip: &str| -> Vec<&SignIn> { ds.events.iter().filter(|e| e.ip == ip).collect() };
    let of_user = |u: &str| -> Vec<&SignIn> {
        ds.events
            .iter()
            .filter(|e| e.user_principal_name == u)
            .collect()
    };

    // Password spray: one IP, >= 25 users within an hour, some smart lockouts.
    let s = scenario(&ds, "password_spray");
    assert_eq!(s.ips.len(), 1);
    let fails: Vec<(i64, String)> = from_ip(&s.ips[0])
        .into_iter()
        .filter(|e| matches!(e.error_code, 50126 | 50053))
        .map(|e| (e.time_us, e.user_principal_name.to_string()))
        .collect();
    assert!(max_distinct_in_window(fails, 60 * MIN) >= 25);
    assert!(from_ip(&s.ips[0]).into_iter().any(|e| e.error_code == 50053
        && classify_50053(&e.failure_reason) == LockoutCause::SmartLockout));

    // Distributed spray: >= 15 IPs, 2-3 users each, one user agent.
    let s = scenario(&ds, "distributed_spray");
    assert!(s.ips.len() >= 15 && s.users.len() >= 20);
    let mut agents = BTreeSet::new();
    for ip in &s.ips {
        let users: BTreeSet<&str> = from_ip(ip)
            .into_iter()
            .map(|e| e.user_principal_name.as_str())
            .collect();
        assert!(
            (2..=3).contains(&users.len()),
            "{ip} tries {} users",
            users.len()
        );
        agents.extend(from_ip(ip).into_iter().map(|e| e.user_agent));
        assert!(from_ip(ip).into_iter().all(|e| e.error_code == 50126));
    }
    assert_eq!(agents.len(), 1);
    assert!(s.last_us - s.first_us <= 15 * MIN);

    // Brute force: >= 40 failures on one user within 20 minutes from a few IPs,
    // then a success from the first IP (success_after_failures).
    let s = scenario(&ds, "brute_force");
    let user = &s.users[0];
    let failures: Vec<i64> = of_user(user)
        .into_iter()
        .filter(|e| e.error_code == 50126 && s.ips.iter().any(|ip| *ip == e.ip))
        .map(|e| e.time_us)
        .collect();
    assert!(max_in_window(failures, 20 * MIN) >= 40);
    assert!(s.ips.len() >= 2);
    let saf = scenario(&ds, "success_after_failures");
    assert_eq!(&saf.users, &s.users);
    let last = of_user(user)
        .into_iter()
        .rev()
        .find(|e| e.time_us <= saf.last_us)
        .expect("events");
    assert_eq!(
        (last.error_code, last.ip.as_str()),
        (0, saf.ips[0].as_str())
    );

    // Malicious IP: Entra's own malicious-activity 50053 against several users.
    let s = scenario(&ds, "malicious_ip");
    let users: BTreeSet<&str> = from_ip(&s.ips[0])
        .into_iter()
        .filter(|e| {
            e.error_code == 50053 && classify_50053(&e.failure_reason) == LockoutCause::MaliciousIp
        })
        .map(|e| e.user_principal_name.as_str())
        .collect();
    assert!(users.len() >= 10);

    // Risky user: 53011 with atRisk / high.
    let s = scenario(&ds, "risky_user");
    let blocked: Vec<&SignIn> = of_user(&s.users[0])
        .into_iter()
        .filter(|e| e.error_code == 53011)
        .collect();
    assert!(blocked.len() >= 3);
    assert!(blocked
        .iter()
        .all(|e| e.risk_state == "atRisk" && e.risk_level_during_sign_in == "high"));

    // MFA fatigue: >= 10 declined 500121 within 10 minutes, then a success.
    let s = scenario(&ds, "mfa_fatigue");
    let denials: Vec<&SignIn> = of_user(&s.users[0])
        .into_iter()
        .filter(|e| e.error_code == 500121)
        .collect();
    assert!(max_in_window(denials.iter().map(|e| e.time_us).collect(), 10 * MIN) >= 10);
    assert!(denials
        .iter()
        .all(|e| e.additional_details == "MFA denied; user declined the authentication"));
    let last_denial = denials.iter().map(|e| e.time_us).max().unwrap_or_default();
    assert!(of_user(&s.users[0])
        .into_iter()
        .any(|e| e.error_code == 0 && e.time_us > last_denial && e.ip == s.ips[0]));

    // Impossible travel: two successes > 500 km apart at > 800 km/h.
    let s = scenario(&ds, "impossible_travel");
    let wins: Vec<&SignIn> = of_user(&s.users[0])
        .into_iter()
        .filter(|e| e.error_code == 0 && e.time_us >= s.first_us && e.time_us <= s.last_us)
        .collect();
    let (a, b) = (wins[0], wins[wins.len() - 1]);
    let dist = km(a, b);
    let hours = (b.time_us - a.time_us) as f64 / 3.6e9;
    assert!(
        dist > 500.0 && dist / hours > 800.0,
        "{dist} km in {hours} h"
    );

    // Enumeration: >= 20 names that exist nowhere else.
    let s = scenario(&ds, "enumeration");
    let probed: BTreeSet<&str> = from_ip(&s.ips[0])
        .into_iter()
        .filter(|e| e.error_code == 50034)
        .map(|e| e.user_principal_name.as_str())
        .collect();
    assert!(probed.len() >= 20);
    assert!(ds
        .events
        .iter()
        .filter(|e| probed.contains(e.user_principal_name.as_str()))
        .all(|e| e.error_code == 50034));

    // Disabled accounts: 50057 on several users from an IP that also succeeds.
    let s = scenario(&ds, "disabled_account");
    let disabled: BTreeSet<&str> = from_ip(&s.ips[0])
        .into_iter()
        .filter(|e| e.error_code == 50057)
        .map(|e| e.user_principal_name.as_str())
        .collect();
    let succeeded: BTreeSet<&str> = from_ip(&s.ips[0])
        .into_iter()
        .filter(|e| e.error_code == 0)
        .map(|e| e.user_principal_name.as_str())
        .collect();
    assert!(disabled.len() >= 2 && !succeeded.is_empty());
    assert!(disabled.is_disjoint(&succeeded));

    // Legacy auth: IMAP4, Authenticated SMTP and BAV2ROPC successes.
    let s = scenario(&ds, "legacy_auth");
    let ok: Vec<&SignIn> = from_ip(&s.ips[0])
        .into_iter()
        .filter(|e| e.error_code == 0)
        .collect();
    assert!(ok.iter().any(|e| e.client_app == "IMAP4"));
    assert!(ok.iter().any(|e| e.client_app == "Authenticated SMTP"));
    assert!(ok.iter().any(|e| e.user_agent == "BAV2ROPC"));
    assert!(ok.iter().any(|e| e.client_app == "Exchange ActiveSync"));

    // Lockout: one user locked out again and again by smart lockout.
    let s = scenario(&ds, "lockout");
    let locks = of_user(&s.users[0])
        .into_iter()
        .filter(|e| {
            e.error_code == 50053 && classify_50053(&e.failure_reason) == LockoutCause::SmartLockout
        })
        .count();
    assert!(locks >= 15);

    // Actors never overlap between scenarios (brute force and its success
    // describe the same events).
    for (i, a) in ds.scenarios.iter().enumerate() {
        for b in &ds.scenarios[i + 1..] {
            if a.kind == "brute_force" && b.kind == "success_after_failures" {
                continue;
            }
            let ips: BTreeSet<&String> = a.ips.iter().collect();
            let users: BTreeSet<&String> = a.users.iter().collect();
            assert!(
                b.ips.iter().all(|x| !ips.contains(x)),
                "{} / {} share an IP",
                a.kind,
                b.kind
            );
            assert!(
                b.users.iter().all(|x| !users.contains(x)),
                "{} / {} share a user",
                a.kind,
                b.kind
            );
        }
    }

    // Token replay: one session, the second network minutes later.
    let s = scenario(&ds, "token_replay");
    let replays = from_ip(&s.ips[0]);
    assert!(replays.len() >= 2);
    let session = replays[0].session_id;
    let first = of_user(&s.users[0])
        .into_iter()
        .filter(|e| e.session_id == session)
        .map(|e| e.time_us)
        .min()
        .unwrap();
    assert!(first < replays[0].time_us && replays[0].time_us - first <= 30 * MIN);

    // Device-code phishing: the broker by device code, then a device
    // registration from the same address.
    let s = scenario(&ds, "device_code_phishing");
    let evs = from_ip(&s.ips[0]);
    assert!(evs
        .iter()
        .any(|e| e.auth_protocol == "deviceCode" && e.app_id == cat::AUTH_BROKER.id));
    assert!(evs
        .iter()
        .any(|e| e.resource == cat::RES_DEVICE_REGISTRATION.name));

    // Low and slow: a dozen accounts or more, over days, never many an hour.
    let s = scenario(&ds, "low_and_slow_spray");
    assert!(s.users.len() >= 12);
    let fails: Vec<(i64, String)> = s
        .ips
        .iter()
        .flat_map(|ip| from_ip(ip))
        .map(|e| (e.time_us, e.user_principal_name.to_string()))
        .collect();
    assert!(max_distinct_in_window(fails, 60 * MIN) < 10);
    assert!(s.last_us - s.first_us >= 24 * 60 * MIN);
}

#[test]
fn clean_mode_has_no_planted_actors_and_stays_below_thresholds() {
    let planted = build_dataset(&opts(4000, 21, true));
    let clean = build_dataset(&opts(4000, 21, false));
    assert!(clean.scenarios.is_empty());
    let attack_ips: BTreeSet<&str> = planted
        .scenarios
        .iter()
        .flat_map(|s| s.ips.iter().map(String::as_str))
        .collect();
    let probed: BTreeSet<&str> = scenario(&planted, "enumeration")
        .users
        .iter()
        .map(String::as_str)
        .collect();
    for e in &clean.events {
        assert!(
            !attack_ips.contains(e.ip.as_str()),
            "attacker {} in clean data",
            e.ip
        );
        assert!(!probed.contains(e.user_principal_name.as_str()));
        assert!(
            !matches!(e.error_code, 50034 | 50053 | 50057 | 53011 | 500121),
            "code {}",
            e.error_code
        );
        assert!(!shape::is_legacy_client(&e.client_app) && e.user_agent != "BAV2ROPC");
        assert_ne!(e.risk_state, "atRisk");
    }
    // The background is the same with and without attacks (apart from the
    // victims kept quiet around successful intrusions).
    let planted_ids: BTreeSet<&str> = planted
        .events
        .iter()
        .map(|e| e.request_id.as_str())
        .collect();
    let kept = clean
        .events
        .iter()
        .filter(|e| planted_ids.contains(e.request_id.as_str()))
        .count();
    assert!(kept * 100 >= clean.events.len() * 90);

    // Spray: no IP with 10 distinct failing users within an hour.
    let mut by_ip: BTreeMap<&str, Vec<(i64, String)>> = BTreeMap::new();
    let mut fails_by_user: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    let mut wins_by_user: BTreeMap<&str, Vec<&SignIn>> = BTreeMap::new();
    for e in &clean.events {
        if e.error_code == 50126 {
            by_ip
                .entry(&e.ip)
                .or_default()
                .push((e.time_us, e.user_principal_name.to_string()));
        }
        if e.status == crate::model::StatusClass::Failure && !e.user_principal_name.is_empty() {
            fails_by_user
                .entry(&e.user_principal_name)
                .or_default()
                .push(e.time_us);
        }
        if e.error_code == 0 && e.sign_in_type == SignInType::Interactive {
            wins_by_user
                .entry(&e.user_principal_name)
                .or_default()
                .push(e);
        }
    }
    for (ip, items) in by_ip {
        assert!(
            max_distinct_in_window(items, 60 * MIN) < 5,
            "{ip} looks like a spray"
        );
    }
    for (user, times) in fails_by_user {
        assert!(
            max_in_window(times, 20 * MIN) < 5,
            "{user} looks brute-forced"
        );
    }
    // No impossible travel, including the benign Seattle-London traveller.
    let mut travelled = false;
    for (user, wins) in wins_by_user {
        for w in wins.windows(2) {
            let d = km(w[0], w[1]);
            if d > 500.0 {
                travelled = true;
                let hours = (w[1].time_us - w[0].time_us) as f64 / 3.6e9;
                assert!(d / hours < 800.0, "{user}: {d} km in {hours} h");
            }
        }
    }
    assert!(travelled, "the benign traveller is present");
}

#[test]
fn portal_csv_header_matches_the_download_exactly() {
    let o = GenerateOptions {
        formats: vec![OutputKind::PortalCsv],
        ..opts(1200, 2, true)
    };
    let dir = tempfile::tempdir().expect("tempdir");
    write_dataset(&build_dataset(&o), &o, dir.path()).expect("write");
    let files = files_under(dir.path());
    let expected = "Date (UTC),Request ID,User agent,Correlation ID,User ID,User,Username,User type,Cross tenant access type,Incoming token type,Authentication Protocol,Unique token identifier,Original transfer method,Client credential type,Token Protection - Sign In Session,Token Protection - Sign In Session StatusCode,Application,Application ID ,App owner tenant ID,Resource,Resource ID ,Resource tenant ID,Resource owner tenant ID,Home tenant ID,Home tenant name,IP address,Location,Status,Sign-in error code,Failure reason,Client app,Device ID,Browser,Operating System,Compliant,Managed,Join Type,Multifactor authentication result,Multifactor authentication auth method,Multifactor authentication auth detail,Authentication requirement,Sign-in identifier,Session ID,IP address (seen by resource),Through Global Secure Access,Global Secure Access IP address,Autonomous system  number,Flagged for review,Token issuer type,Incoming token type,Token issuer name,Latency,Conditional Access,Managed Identity type,Associated Resource Id,Federated Token Id,Federated Token Issuer";
    let interactive = &files["portal-csv/InteractiveSignIns_2026-03-02_2026-03-08.csv"];
    assert!(
        interactive.starts_with(writers::UTF8_BOM),
        "one file carries a BOM"
    );
    let first_line = |b: &[u8]| {
        String::from_utf8(
            strip_bom(b)
                .split(|c| *c == b'\n')
                .next()
                .unwrap_or_default()
                .to_vec(),
        )
        .expect("utf8")
    };
    assert_eq!(first_line(interactive), expected);
    let non = &files["portal-csv/NonInteractiveSignIns_2026-03-02_2026-03-08.csv"];
    assert!(!non.starts_with(writers::UTF8_BOM));
    assert_eq!(first_line(non), expected);
    let (header, rows) = csv_rows(interactive);
    assert_eq!(header.len(), 57);
    assert_eq!(
        header
            .iter()
            .filter(|h| *h == "Incoming token type")
            .count(),
        2
    );
    let location = header
        .iter()
        .position(|h| h == "Location")
        .expect("Location column");
    assert!(rows.iter().all(|r| r[location].matches(", ").count() == 2));
    let date = header
        .iter()
        .position(|h| h == "Date (UTC)")
        .expect("date column");
    assert!(rows
        .iter()
        .all(|r| r[date].len() == 20 && r[date].ends_with('Z')));
    let (app_header, _) =
        csv_rows(&files["portal-csv/ApplicationSignIns_2026-03-02_2026-03-08.csv"]);
    assert_eq!(app_header.len(), 22);
    assert_eq!(app_header[8], "Application ID ");
    let (auth_header, auth_rows) =
        csv_rows(&files["portal-csv/InteractiveSignIns_AuthDetails_2026-03-02_2026-03-08.csv"]);
    assert_eq!(auth_header[0], "Request ID");
    assert!(auth_rows
        .iter()
        .any(|r| &r[2] == "Password" && &r[4] == "false"));
}

/// Every format, read back with plain JSON/CSV parsers, holds exactly its
/// subset of the dataset.
#[test]
fn every_format_carries_its_subset_of_the_same_events() {
    let o = opts(2000, 9, true);
    let ds = build_dataset(&o);
    let dir = tempfile::tempdir().expect("tempdir");
    let written = write_dataset(&ds, &o, dir.path()).expect("write");
    let files = files_under(dir.path());
    assert_eq!(written.len(), files.len());
    let truth: serde_json::Value =
        serde_json::from_slice(&files["truth.json"]).expect("truth parses");
    for kind in OutputKind::ALL {
        let listed = truth["formats"][kind.as_str()]["files"]
            .as_array()
            .expect("file list");
        assert!(!listed.is_empty(), "{} wrote nothing", kind.as_str());
        for f in listed {
            let name = f.as_str().expect("string");
            assert!(
                files.get(name).is_some_and(|b| !b.is_empty()),
                "{name} missing or empty"
            );
        }
    }
    let ids = |subset: Subset| -> BTreeSet<String> {
        ds.events
            .iter()
            .filter(|e| subset.includes(e))
            .map(|e| e.request_id.to_string())
            .collect()
    };
    let all = ids(Subset::All);
    let users = ids(Subset::UserSignIns);
    let purview = ids(Subset::Purview);
    assert_eq!(truth["expected"]["all"]["records"], all.len());
    assert_eq!(truth["expected"]["purview"]["records"], purview.len());
    let under = |prefix: &str| -> Vec<(&String, &Vec<u8>)> {
        files
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .collect()
    };
    let json_ids = |prefix: &str, key: &str| -> Vec<String> {
        under(prefix)
            .into_iter()
            .flat_map(|(_, b)| json_values(b))
            .map(|v| v[key].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let exact = |got: Vec<String>, want: &BTreeSet<String>, what: &str| {
        assert_eq!(got.len(), want.len(), "{what}: record count");
        assert_eq!(
            &got.into_iter().collect::<BTreeSet<_>>(),
            want,
            "{what}: ids"
        );
    };

    exact(json_ids("portal-json/", "id"), &all, "portal-json");
    exact(
        json_ids("extractor-suite-json/", "id"),
        &all,
        "extractor-suite-json",
    );
    exact(json_ids("graph-jsonl/", "id"), &all, "graph-jsonl");
    let pages: Vec<serde_json::Value> = under("graph-pages/")
        .into_iter()
        .flat_map(|(_, b)| json_values(b))
        .collect();
    let page_ids: Vec<String> = pages
        .iter()
        .flat_map(|p| p["value"].as_array().cloned().unwrap_or_default())
        .map(|v| v["id"].as_str().unwrap_or_default().to_string())
        .collect();
    exact(page_ids, &all, "graph-pages");
    assert!(
        under("graph-pages/")
            .into_iter()
            .any(|(k, _)| k.contains("-pages-")),
        "some pages share a file"
    );
    exact(
        under("azure-monitor-blob/")
            .into_iter()
            .flat_map(|(_, b)| {
                b.split(|c| *c == b'\n')
                    .filter(|l| !l.is_empty())
                    .map(|l| l.to_vec())
                    .collect::<Vec<_>>()
            })
            .map(|l| {
                let v: serde_json::Value = serde_json::from_slice(&l).expect("blob line");
                v["properties"]["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect(),
        &all,
        "azure-monitor-blob",
    );
    exact(
        under("azure-monitor-event-hub/")
            .into_iter()
            .flat_map(|(_, b)| json_values(b))
            .flat_map(|m| m["records"].as_array().cloned().unwrap_or_default())
            .map(|r| {
                r["properties"]["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect(),
        &all,
        "azure-monitor-event-hub",
    );

    // Extractor Suite quirks: BOM, CRLF, two-space colons, concatenated
    // arrays, a single record as a bare object.
    let (_, mes) = under("extractor-suite-json/")
        .into_iter()
        .find(|(k, _)| k.contains("/interactiveUser/"))
        .expect("MES file");
    let text = String::from_utf8(strip_bom(mes).to_vec()).expect("utf8");
    assert!(mes.starts_with(writers::UTF8_BOM));
    assert!(text.contains("]\r\n[") && text.contains("\"id\":  \""));
    assert!(text.trim_end().ends_with('}'), "last page is a bare object");

    // Portal CSV: request ids across the four logs.
    let portal: Vec<String> = under("portal-csv/")
        .into_iter()
        .filter(|(k, _)| !k.contains("AuthDetails"))
        .flat_map(|(_, b)| csv_rows(b).1)
        .map(|r| r[1].to_string())
        .collect();
    exact(portal, &all, "portal-csv");

    // Log Analytics: user sign-ins, one multi-line cell, split columns.
    let mut la = Vec::new();
    for (name, bytes) in under("log-analytics-csv/") {
        let (header, rows) = csv_rows(bytes);
        assert_eq!(header.last().map(String::as_str), Some("Type"));
        let id = header.iter().position(|h| h == "Id").expect("Id column");
        la.extend(rows.iter().map(|r| r[id].to_string()));
        if name.ends_with("-2.csv") {
            assert!(
                header.iter().any(|h| h == "Status_dynamic")
                    && header.iter().any(|h| h == "Status_string")
            );
        }
        if name.contains("SigninLogs-export") {
            assert!(
                rows.iter().any(|r| r.iter().any(|c| c.contains("\n  {"))),
                "pretty cells"
            );
        }
    }
    exact(la, &users, "log-analytics-csv");

    // Purview: sign-in records by IntraSystemId; other operations counted.
    for (kind, audit_col) in [
        (OutputKind::PurviewCsv, "AuditData"),
        (OutputKind::PurviewClassicCsv, "AuditData"),
        (OutputKind::PurviewSearchUalCsv, "AuditData"),
        (OutputKind::PurviewAuditDataJsonl, ""),
    ] {
        let mut audits: Vec<serde_json::Value> = Vec::new();
        for (_, bytes) in under(&format!("{}/", kind.as_str())) {
            if audit_col.is_empty() {
                audits.extend(json_values(bytes));
            } else {
                let (header, rows) = csv_rows(bytes);
                let col = header
                    .iter()
                    .position(|h| h == audit_col)
                    .expect("AuditData column");
                audits.extend(
                    rows.iter()
                        .map(|r| serde_json::from_str(&r[col]).expect("AuditData JSON")),
                );
            }
        }
        let (sign_ins, others): (Vec<_>, Vec<_>) = audits.iter().partition(|a| {
            a["Workload"] == "AzureActiveDirectory"
                && a["Operation"]
                    .as_str()
                    .is_some_and(|o| o.starts_with("UserLog"))
        });
        let got: Vec<String> = sign_ins
            .iter()
            .map(|a| a["IntraSystemId"].as_str().unwrap_or_default().to_string())
            .collect();
        exact(got, &purview, kind.as_str());
        assert_eq!(
            truth["formats"][kind.as_str()]["non_sign_in_records"],
            others.len()
        );
        assert!(!others.is_empty());
    }
}
