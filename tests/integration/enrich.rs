//! `--geoip` / `--asn` end to end, with the databases `generate --mmdb`
//! writes: impossible travel appears on the portal CSV (which has no
//! coordinates), the report says where each value came from and which
//! database files were used, and bad files stop the run with exit 2.

use crate::common::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

fn run(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(bin()).args(args).output().unwrap()
}

fn generate_with_mmdb(dir: &Path) {
    let o = run(&[
        "generate".as_ref(),
        "--out".as_ref(),
        dir.as_os_str(),
        "--records".as_ref(),
        "1500".as_ref(),
        "--seed".as_ref(),
        "5".as_ref(),
        "--mmdb".as_ref(),
        "--quiet".as_ref(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn analyze(input: &Path, out: &Path, extra: &[&Path]) -> (Output, serde_json::Value) {
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "analyze".as_ref(),
        input.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--quiet".as_ref(),
    ];
    for pair in extra.chunks(2) {
        args.extend(pair.iter().map(|p| p.as_os_str()));
    }
    let o = run(&args);
    let doc = std::fs::read(out.join("findings.json"))
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap_or(serde_json::Value::Null);
    (o, doc)
}

fn travel_users(doc: &serde_json::Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "impossible_travel")
        .flat_map(|f| f["users"].as_array().unwrap().clone())
        .map(|u| u.as_str().unwrap().to_string())
        .collect()
}

/// Each impossible-travel finding's `coordinates` fact, if it has one.
fn travel_coordinates(doc: &serde_json::Value) -> Vec<Option<String>> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "impossible_travel")
        .map(|f| {
            f["evidence"]["facts"]
                .as_array()
                .unwrap()
                .iter()
                .find(|kv| kv[0] == "coordinates")
                .map(|kv| kv[1].as_str().unwrap().to_string())
        })
        .collect()
}

/// Every file under `dir` except those under `skip`, by relative path.
fn files(dir: &Path, skip: &str) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            if rel.starts_with(skip) {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[test]
fn generated_databases_let_impossible_travel_fire_on_the_portal_csv() {
    let data = tempfile::tempdir().unwrap();
    generate_with_mmdb(data.path());
    let truth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data.path().join("truth.json")).unwrap()).unwrap();
    let planted: Vec<String> = truth["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["kind"] == "impossible_travel")
        .flat_map(|s| s["users"].as_array().unwrap().clone())
        .map(|u| u.as_str().unwrap().to_string())
        .collect();
    assert!(!planted.is_empty());
    let city = data.path().join("geoip/geo-city.mmdb");
    let asn = data.path().join("geoip/geo-asn.mmdb");
    let portal = data.path().join("portal-csv");
    let out = tempfile::tempdir().unwrap();

    let (o, plain) = analyze(
        &portal,
        &out.path().join("plain"),
        &[Path::new("--no-gazetteer")],
    );
    assert_eq!(o.status.code(), Some(0));
    assert!(
        travel_users(&plain).is_empty(),
        "no coordinates and no gazetteer, no travel"
    );

    let flags = [Path::new("--geoip"), &city, Path::new("--asn"), &asn];
    let (o, doc) = analyze(&portal, &out.path().join("one"), &flags);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let found = travel_users(&doc);
    assert!(found.iter().any(|u| planted.contains(u)), "{found:?}");
    // The database placed every address, so nothing came from the city.
    assert!(travel_coordinates(&doc).iter().all(Option::is_none));

    // The per-address table: the portal CSV logs city, country and ASN,
    // so those come from the log and only coordinates from the database.
    let table = std::fs::read_to_string(out.path().join("one/tables/ip_enrichment.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(table.as_bytes());
    let head: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        head,
        [
            "ip",
            "records",
            "label",
            "label_detail",
            "country",
            "country_source",
            "state",
            "state_source",
            "city",
            "city_source",
            "latitude",
            "longitude",
            "coordinates_source",
            "asn",
            "asn_source",
            "org",
            "org_source"
        ]
    );
    let col = |name: &str| head.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert!(rows.len() > 100);
    for r in &rows {
        assert_eq!(&r[col("country_source")], "log", "{r:?}");
        assert_eq!(&r[col("coordinates_source")], "geoip_db", "{r:?}");
        // Workload sign-ins in the portal CSV have no ASN column.
        assert!(["log", "asn_db"].contains(&&r[col("asn_source")]), "{r:?}");
        // Every generated address is in a documentation or benchmarking range.
        assert!(
            ["documentation", "benchmarking"].contains(&&r[col("label")]),
            "{r:?}"
        );
    }
    assert!(rows.iter().any(|r| &r[col("asn_source")] == "log"));
    assert!(rows.iter().any(|r| &r[col("org_source")] == "asn_db"));
    assert!(
        rows.iter()
            .any(|r| r[col("longitude")].parse::<f64>().is_ok_and(|v| v < 0.0)),
        "western longitudes stay numbers"
    );

    // The manifest pins the databases.
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("one/manifest.json")).unwrap())
            .unwrap();
    let dbs = m["enrichment_databases"].as_array().unwrap();
    assert_eq!(dbs.len(), 2);
    use sha2::Digest;
    for (db, path, ty) in [
        (&dbs[0], &city, "entrasift-synthetic-City"),
        (&dbs[1], &asn, "entrasift-synthetic-ASN"),
    ] {
        let hex: String = sha2::Sha256::digest(std::fs::read(path).unwrap())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(db["sha256"].as_str(), Some(hex.as_str()));
        assert_eq!(db["database_type"], ty);
        assert_eq!(db["built"], "2026-03-02T00:00:00Z");
    }
    let plain_manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("plain/manifest.json")).unwrap())
            .unwrap();
    assert_eq!(
        plain_manifest["enrichment_databases"],
        serde_json::json!([])
    );

    let html = std::fs::read_to_string(out.path().join("one/report.html")).unwrap();
    assert!(html.contains("<section id=\"ip-enrichment\">"));
    assert!(html.contains("entrasift-synthetic-City"));
    let md = std::fs::read_to_string(out.path().join("one/summary.md")).unwrap();
    assert!(md.contains("## IP enrichment") && md.contains("geo-city.mmdb"));

    // Same inputs and databases, same report (the manifest holds run times).
    analyze(&portal, &out.path().join("two"), &flags);
    assert!(
        files(&out.path().join("one"), "manifest.json")
            == files(&out.path().join("two"), "manifest.json")
    );
}

#[test]
fn mmdb_flag_adds_files_and_changes_no_other_output() {
    let with = tempfile::tempdir().unwrap();
    generate_with_mmdb(with.path());
    let without = tempfile::tempdir().unwrap();
    let o = run(&[
        "generate".as_ref(),
        "--out".as_ref(),
        without.path().as_os_str(),
        "--records".as_ref(),
        "1500".as_ref(),
        "--seed".as_ref(),
        "5".as_ref(),
        "--quiet".as_ref(),
    ]);
    assert!(o.status.success());
    assert!(files(with.path(), "geoip") == files(without.path(), "geoip"));
    assert!(!without.path().join("geoip").exists());
    let extra: Vec<String> = files(&with.path().join("geoip"), "~").into_keys().collect();
    assert_eq!(extra, ["geo-asn.mmdb", "geo-city.mmdb"]);
}

#[test]
fn bad_database_files_stop_the_run_with_exit_2_and_name_the_file() {
    let data = tempfile::tempdir().unwrap();
    generate_with_mmdb(data.path());
    let portal = data.path().join("portal-csv");
    let asn = data.path().join("geoip/geo-asn.mmdb");
    let city_bytes = std::fs::read(data.path().join("geoip/geo-city.mmdb")).unwrap();
    let junk = data.path().join("junk.mmdb");
    std::fs::write(&junk, b"\x00\x01 not a database").unwrap();
    let cut = data.path().join("cut.mmdb");
    std::fs::write(&cut, &city_bytes[..city_bytes.len() - 40]).unwrap();
    let out = tempfile::tempdir().unwrap();
    for (flag, file, says) in [
        ("--geoip", &junk, "not a MaxMind DB"),
        ("--geoip", &cut, "not a MaxMind DB"),
        ("--geoip", &asn, "City or Country"),
        ("--asn", &data.path().join("missing.mmdb"), "cannot read"),
    ] {
        let report = out.path().join("r");
        let (o, _) = analyze(&portal, &report, &[Path::new(flag), file]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains(flag) && err.contains(&file.display().to_string()) && err.contains(says),
            "{err}"
        );
        assert!(!report.exists(), "nothing is written on a bad database");
        // convert refuses the same way.
        let o = run(&[
            "convert".as_ref(),
            portal.as_os_str(),
            "--to".as_ref(),
            "csv".as_ref(),
            "--out".as_ref(),
            out.path().join("t.csv").as_os_str(),
            flag.as_ref(),
            file.as_os_str(),
        ]);
        assert_eq!(o.status.code(), Some(2));
    }
}

#[test]
fn convert_writes_the_filled_coordinates() {
    let data = tempfile::tempdir().unwrap();
    generate_with_mmdb(data.path());
    let out = tempfile::tempdir().unwrap();
    let csv_path = out.path().join("t.csv");
    let o = run(&[
        "convert".as_ref(),
        data.path().join("portal-csv").as_os_str(),
        "--to".as_ref(),
        "csv".as_ref(),
        "--out".as_ref(),
        csv_path.as_os_str(),
        "--geoip".as_ref(),
        data.path().join("geoip/geo-city.mmdb").as_os_str(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("enrichment: filled"), "{err}");
    let mut rdr = csv::Reader::from_path(&csv_path).unwrap();
    let head = rdr.headers().unwrap().clone();
    let lat = head.iter().position(|h| h == "latitude").unwrap();
    let ip = head.iter().position(|h| h == "ip").unwrap();
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert!(!rows.is_empty());
    assert!(rows
        .iter()
        .filter(|r| !r[ip].is_empty())
        .all(|r| r[lat].parse::<f64>().is_ok()));
}

#[test]
fn the_city_gazetteer_finds_impossible_travel_on_the_portal_csv_with_no_database() {
    let data = tempfile::tempdir().unwrap();
    let truth = generate(data.path(), 3000, true, 11);
    let planted: Vec<String> = truth["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["kind"] == "impossible_travel")
        .flat_map(|s| s["users"].as_array().unwrap().clone())
        .map(|u| u.as_str().unwrap().to_string())
        .collect();
    assert!(!planted.is_empty());
    let out = tempfile::tempdir().unwrap();
    let (o, doc) = analyze(&data.path().join("portal-csv"), &out.path().join("p"), &[]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let found = travel_users(&doc);
    assert!(
        planted.iter().all(|u| found.contains(u)),
        "{planted:?} {found:?}"
    );
    let sources = travel_coordinates(&doc);
    assert!(!sources.is_empty());
    assert!(
        sources
            .iter()
            .all(|s| s.as_deref() == Some("city gazetteer")),
        "{sources:?}"
    );
    // Every address's coordinates are marked as the city's.
    let table = std::fs::read_to_string(out.path().join("p/tables/ip_enrichment.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(table.as_bytes());
    let head: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    let col = head.iter().position(|h| h == "coordinates_source").unwrap();
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert!(rows.len() > 50);
    assert!(rows.iter().all(|r| &r[col] == "gazetteer"), "{rows:?}");
    let html = std::fs::read_to_string(out.path().join("p/report.html")).unwrap();
    assert!(
        html.contains("City gazetteer: "),
        "the report counts what it placed"
    );

    // The same events with logged coordinates: the log wins, no city fact.
    let (_, json) = analyze(&data.path().join("graph-jsonl"), &out.path().join("g"), &[]);
    let sources = travel_coordinates(&json);
    assert!(
        !sources.is_empty() && sources.iter().all(Option::is_none),
        "{sources:?}"
    );
}
