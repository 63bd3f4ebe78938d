//! Enrichment against databases built on the fly with `mmdb_write` (and
//! read by the real `maxminddb` crate), on hand-made and generated records.

use super::mmdb_write::{geoip2_asn, geoip2_city, RecordSize, Value, Writer};
use super::ranges::RangeClass;
use super::*;
use crate::model::{SignIn, SignInType};
use std::path::PathBuf;

struct Dbs {
    dir: tempfile::TempDir,
}

impl Dbs {
    fn new() -> Dbs {
        Dbs {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn put(&self, name: &str, w: &Writer) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, w.to_bytes().expect("database bytes")).expect("write database");
        path
    }

    fn put_bytes(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).expect("write file");
        path
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

/// Paris and Lyon in one /24, Berlin over IPv6, and Microsoft's AS.
fn city_db() -> Writer {
    let mut w = Writer::new("GeoLite2-City", RecordSize::Bits24).build_epoch(1_767_225_600);
    w.insert(
        ip("203.0.113.0"),
        25,
        geoip2_city("Paris", "Ile-de-France", "FR", 48.8566, 2.3522),
    )
    .unwrap();
    w.insert(
        ip("203.0.113.128"),
        25,
        geoip2_city("Lyon", "Auvergne-Rhone-Alpes", "FR", 45.764, 4.8357),
    )
    .unwrap();
    w.insert(
        ip("2001:db8::"),
        32,
        geoip2_city("Berlin", "Berlin", "DE", 52.52, 13.405),
    )
    .unwrap();
    // A country-level record: no city, so its centroid must not be used.
    w.insert(
        ip("198.51.100.0"),
        24,
        Value::map([
            ("country", Value::map([("iso_code", Value::string("US"))])),
            (
                "location",
                Value::map([
                    ("latitude", Value::Double(37.751)),
                    ("longitude", Value::Double(-97.822)),
                ]),
            ),
        ]),
    )
    .unwrap();
    w
}

fn asn_db() -> Writer {
    let mut w = Writer::new("GeoLite2-ASN", RecordSize::Bits28).build_epoch(1_767_225_600);
    w.insert(ip("203.0.113.0"), 24, geoip2_asn(64_496, "Example Transit"))
        .unwrap();
    w.insert(
        ip("198.51.100.0"),
        24,
        geoip2_asn(8075, "MICROSOFT-CORP-MSN-AS-BLOCK"),
    )
    .unwrap();
    w.insert(ip("2001:db8::"), 32, geoip2_asn(64_500, "Example Berlin"))
        .unwrap();
    w
}

fn signin(sec: i64, ip: &str) -> SignIn {
    SignIn {
        time_us: sec * 1_000_000,
        user_principal_name: "alex@contoso.com".into(),
        ip: ip.into(),
        ..SignIn::default()
    }
}

fn row<'a>(rep: &'a EnrichReport, ip: &str) -> &'a IpRow {
    rep.ips
        .iter()
        .find(|r| r.ip == ip)
        .expect("row for address")
}

#[test]
fn missing_fields_are_filled_and_logged_values_win() {
    let dbs = Dbs::new();
    let geo = dbs.put("city.mmdb", &city_db());
    let asn = dbs.put("asn.mmdb", &asn_db());
    let e = Enricher::open(Some(&geo), Some(&asn)).unwrap();
    let mut recs = vec![
        // Nothing logged: everything comes from the databases.
        signin(0, "203.0.113.10"),
        // Same address, fully logged with other values: the log stays.
        SignIn {
            city: "Versailles".into(),
            state: "Yvelines".into(),
            country: "FR".into(),
            latitude: Some(48.8049),
            longitude: Some(2.1204),
            asn: Some(3215),
            ..signin(10, "203.0.113.10")
        },
        // Logged in another country than the database says: location is
        // left alone, the ASN still filled.
        SignIn {
            country: "BE".into(),
            ..signin(20, "203.0.113.200")
        },
        // Logged city differs: state may be filled, coordinates may not.
        SignIn {
            city: "Marseille".into(),
            country: "FR".into(),
            ..signin(30, "203.0.113.201")
        },
        signin(40, "2001:db8:5::1"),
        // Country-level record: country filled, no centroid coordinates.
        signin(50, "198.51.100.9"),
        signin(60, "10.1.2.3"),
        signin(70, ""),
    ];
    let rep = e.apply(&mut recs);

    let first = &recs[0];
    assert_eq!(
        (
            first.city.as_str(),
            first.state.as_str(),
            first.country.as_str()
        ),
        ("Paris", "Ile-de-France", "FR")
    );
    assert_eq!(
        (first.latitude, first.longitude, first.asn),
        (Some(48.8566), Some(2.3522), Some(64_496))
    );
    let logged = &recs[1];
    assert_eq!(
        (
            logged.city.as_str(),
            logged.state.as_str(),
            logged.latitude,
            logged.asn
        ),
        ("Versailles", "Yvelines", Some(48.8049), Some(3215))
    );
    let belgium = &recs[2];
    assert_eq!(
        (
            belgium.country.as_str(),
            belgium.city.as_str(),
            belgium.latitude
        ),
        ("BE", "", None)
    );
    assert_eq!(belgium.asn, Some(64_496));
    let marseille = &recs[3];
    assert_eq!(marseille.city, "Marseille");
    assert_eq!(marseille.state, "Auvergne-Rhone-Alpes");
    assert_eq!(marseille.latitude, None);
    assert_eq!(
        (recs[4].city.as_str(), recs[4].asn),
        ("Berlin", Some(64_500))
    );
    assert_eq!((recs[5].country.as_str(), recs[5].latitude), ("US", None));
    assert_eq!(recs[6], signin(60, "10.1.2.3"), "nothing known about 10/8");

    assert_eq!(rep.records, 8);
    assert_eq!(rep.records_without_ip, 1);
    assert_eq!(
        rep.filled,
        Filled {
            country: 3,
            state: 3,
            city: 2,
            coordinates: 2,
            asn: 5,
        }
    );
    // Belgium (country) and Marseille (coordinates).
    assert_eq!(rep.location_conflicts, 2);
    assert_eq!(rep.lookup_errors, 0);

    // The row prefers the log's value where any record logged one.
    let r = row(&rep, "203.0.113.10");
    assert_eq!(r.records, 2);
    assert_eq!(
        (r.city.as_str(), r.city_source),
        ("Versailles", Source::Log)
    );
    assert_eq!((r.asn, r.asn_source), (Some(3215), Source::Log));
    assert_eq!(
        (r.org.as_str(), r.org_source),
        ("", Source::None),
        "the database's organisation belongs to another AS than the logged one"
    );
    let r = row(&rep, "2001:db8:5::1");
    assert_eq!(
        (r.city.as_str(), r.city_source),
        ("Berlin", Source::GeoipDb)
    );
    assert_eq!((r.asn, r.asn_source), (Some(64_500), Source::AsnDb));
    assert_eq!(
        (r.org.as_str(), r.org_source),
        ("Example Berlin", Source::AsnDb)
    );
    assert_eq!(r.coordinates_source, Source::GeoipDb);
    assert_eq!(r.label, "documentation");
    let r = row(&rep, "203.0.113.200");
    assert_eq!((r.country.as_str(), r.country_source), ("BE", Source::Log));
    assert_eq!(
        (r.city_source, r.coordinates_source),
        (Source::None, Source::None)
    );
    let r = row(&rep, "198.51.100.9");
    assert_eq!(
        r.label, "documentation",
        "the prefix label outranks the ASN"
    );
    let r = row(&rep, "10.1.2.3");
    assert_eq!(r.label, "private");
    assert_eq!(r.label_detail, "10.0.0.0/8 private network (RFC 1918)");
    assert_eq!(r.country_source, Source::None);

    let info = e.databases();
    assert_eq!(info.len(), 2);
    assert_eq!(
        (info[0].flag, info[0].database_type.as_str(), info[0].layout),
        ("--geoip", "GeoLite2-City", Layout::City)
    );
    assert_eq!(info[1].layout, Layout::Asn);
    assert_eq!(info[0].built, "2026-01-01T00:00:00Z");
    let bytes = std::fs::read(&geo).unwrap();
    use sha2::Digest;
    let hex: String = sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        (info[0].sha256.as_str(), info[0].bytes),
        (hex.as_str(), bytes.len() as u64)
    );
}

#[test]
fn labels_need_no_database_and_microsoft_shows_by_prefix_or_asn() {
    let e = Enricher::open(None, None).unwrap();
    let mut recs = vec![
        signin(0, "40.126.32.10"),
        signin(1, "100.64.1.1"),
        signin(2, "fe80::1"),
        SignIn {
            asn: Some(8075),
            ..signin(3, "52.160.1.1")
        },
        signin(4, "8.8.8.8"),
        signin(5, "8.8.8.8"),
    ];
    let before = recs.clone();
    let rep = e.apply(&mut recs);
    assert_eq!(recs, before, "without a database nothing is filled");
    assert!(rep.databases.is_empty());
    assert_eq!(rep.filled, Filled::default());
    let label = |ip: &str| row(&rep, ip).label.clone();
    assert_eq!(label("40.126.32.10"), "microsoft");
    assert!(row(&rep, "40.126.32.10").label_detail.contains("Entra ID"));
    assert_eq!(label("100.64.1.1"), RangeClass::SharedCgnat.as_str());
    assert_eq!(label("fe80::1"), "link_local");
    assert_eq!(label("52.160.1.1"), "microsoft");
    assert_eq!(
        row(&rep, "52.160.1.1").label_detail,
        "AS8075 Microsoft (ASN from log)"
    );
    assert_eq!(label("8.8.8.8"), "");
    // Most records first, then by address.
    assert_eq!(rep.ips[0].ip, "8.8.8.8");
    assert_eq!(rep.ips[1].ip, "100.64.1.1");
    let names: Vec<&str> = rep.labels.iter().map(|l| l.label.as_str()).collect();
    assert_eq!(names, ["link_local", "microsoft", "shared_cgnat"]);
    assert_eq!(rep.labels[1].ips, 2);
}

#[test]
fn microsoft_asn_from_the_database_labels_public_addresses() {
    let dbs = Dbs::new();
    let mut w = Writer::new("GeoLite2-ASN", RecordSize::Bits24);
    w.insert(
        ip("52.160.0.0"),
        11,
        geoip2_asn(8075, "MICROSOFT-CORP-MSN-AS-BLOCK"),
    )
    .unwrap();
    let asn = dbs.put("asn.mmdb", &w);
    let e = Enricher::open(None, Some(&asn)).unwrap();
    let mut recs = vec![signin(0, "52.160.1.1")];
    let rep = e.apply(&mut recs);
    assert_eq!(recs[0].asn, Some(8075));
    let r = row(&rep, "52.160.1.1");
    assert_eq!(r.label, "microsoft");
    assert_eq!(r.label_detail, "AS8075 Microsoft (ASN from asn_db)");
    assert_eq!(r.org, "MICROSOFT-CORP-MSN-AS-BLOCK");
}

/// The flat IPinfo Lite record: country and ASN as text.
fn ipinfo_db(database_type: &str) -> Writer {
    let mut w = Writer::new(database_type, RecordSize::Bits24);
    w.insert(
        ip("192.0.2.0"),
        24,
        Value::map([
            ("asn", Value::string("AS64511")),
            ("as_name", Value::string("Example Hosting")),
            ("as_domain", Value::string("example.net")),
            ("country", Value::string("Netherlands")),
            ("country_code", Value::string("NL")),
            ("continent", Value::string("Europe")),
            ("continent_code", Value::string("EU")),
        ]),
    )
    .unwrap();
    w
}

#[test]
fn ipinfo_lite_serves_either_flag_with_or_without_a_telling_type_name() {
    let dbs = Dbs::new();
    for (name, ty) in [
        ("named.mmdb", "ipinfo ipinfo_lite.mmdb"),
        ("plain.mmdb", "lite"),
    ] {
        let path = dbs.put(name, &ipinfo_db(ty));
        for (geo, asn, src) in [
            (Some(path.as_path()), None, Source::GeoipDb),
            (None, Some(path.as_path()), Source::AsnDb),
        ] {
            let e = Enricher::open(geo, asn).unwrap();
            assert_eq!(e.databases()[0].layout, Layout::Ipinfo, "{ty}");
            let mut recs = vec![signin(0, "192.0.2.44")];
            let rep = e.apply(&mut recs);
            assert_eq!(
                (recs[0].country.as_str(), recs[0].asn, recs[0].city.as_str()),
                ("NL", Some(64_511), "")
            );
            let r = &rep.ips[0];
            assert_eq!(
                (r.country_source, r.asn_source, r.org_source),
                (src, src, src)
            );
            assert_eq!(r.org, "Example Hosting");
            assert_eq!(rep.filled.coordinates, 0);
        }
    }
}

#[test]
fn wrong_files_fail_with_the_file_and_flag_named() {
    let dbs = Dbs::new();
    let city = dbs.put("GeoLite2-City.mmdb", &city_db());
    let asn = dbs.put("GeoLite2-ASN.mmdb", &asn_db());
    let mut anon = Writer::new("GeoIP2-Anonymous-IP", RecordSize::Bits24);
    anon.insert(
        ip("192.0.2.0"),
        24,
        Value::map([("is_anonymous", Value::Bool(true))]),
    )
    .unwrap();
    let anon = dbs.put("anon.mmdb", &anon);
    let text = dbs.put_bytes("notes.mmdb", b"this is not a database\n");
    let good = city_db().to_bytes().unwrap();
    let cut = dbs.put_bytes("cut.mmdb", &good[..good.len() / 2]);
    // A valid tree and metadata over a data section of garbage.
    let mut garbled = good.clone();
    let marker = garbled
        .windows(mmdb_write::METADATA_MARKER.len())
        .position(|w| w == mmdb_write::METADATA_MARKER)
        .unwrap();
    // The last record written (the first the tree yields) is the US one.
    for b in &mut garbled[marker - 40..marker] {
        *b = 0xFF;
    }
    let garbled = dbs.put_bytes("garbled.mmdb", &garbled);
    let missing = dbs.dir.path().join("absent.mmdb");

    let err = |geo: Option<&Path>, asn: Option<&Path>| {
        Enricher::open(geo, asn)
            .err()
            .expect("must fail")
            .to_string()
    };
    let m = err(Some(&asn), None);
    assert!(
        m.starts_with("--geoip ") && m.contains("GeoLite2-ASN.mmdb"),
        "{m}"
    );
    assert!(
        m.contains("\"GeoLite2-ASN\"") && m.contains("City or Country"),
        "{m}"
    );
    let m = err(None, Some(&city));
    assert!(
        m.starts_with("--asn ") && m.contains("an ASN database"),
        "{m}"
    );
    let m = err(Some(&anon), None);
    assert!(m.contains("GeoIP2-Anonymous-IP"), "{m}");
    for bad in [&text, &cut, &garbled] {
        let m = err(Some(bad), None);
        assert!(
            m.contains(&bad.display().to_string()) && m.contains("not a MaxMind DB"),
            "{m}"
        );
    }
    let m = err(None, Some(&missing));
    assert!(
        m.contains("absent.mmdb") && m.contains("cannot read"),
        "{m}"
    );
}

#[test]
fn same_records_same_report_in_any_thread_count() {
    let dbs = Dbs::new();
    let geo = dbs.put("city.mmdb", &city_db());
    let asn = dbs.put("asn.mmdb", &asn_db());
    let e = Enricher::open(Some(&geo), Some(&asn))
        .unwrap()
        .with_gazetteer(true);
    // Enough records that one thread and four fill different runs of
    // them, which are then merged.
    const N: i64 = 200_000;
    let recs: Vec<SignIn> = (0..N)
        .map(|i| {
            let ip = match i % 5 {
                0 => format!("203.0.113.{}", i % 256),
                1 => format!("2001:db8::{:x}", i % 5000),
                2 => format!("198.51.100.{}", i % 256),
                3 => format!("10.0.{}.1", i % 7),
                _ => "40.126.0.1".to_string(),
            };
            let mut r = signin(i, &ip);
            // The private addresses' place is logged only late in the
            // run, and changes later still: the first logged one counts.
            if i % 5 == 3 && i >= N * 3 / 4 {
                r.country = "DE".into();
                r.city = if i >= N * 9 / 10 { "Hamburg" } else { "Berlin" }.into();
            }
            r
        })
        .collect();
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let mut r = recs.clone();
        let rep = pool.install(|| e.apply(&mut r));
        (r, rep)
    };
    let (a, ra) = run(1);
    let (b, rb) = run(4);
    assert_eq!(a, b);
    assert_eq!(ra, rb);
    let distinct: std::collections::BTreeSet<&str> = recs.iter().map(|r| r.ip.as_str()).collect();
    assert_eq!(ra.ips.len(), distinct.len());
    assert_eq!(ra.ips.iter().map(|r| r.records).sum::<u64>(), N as u64);
    let private = row(&ra, "10.0.1.1");
    assert_eq!(
        (private.country.as_str(), private.city.as_str()),
        ("DE", "Berlin")
    );
    assert_eq!(private.country_source, Source::Log);
    assert_eq!(private.coordinates_source, Source::Gazetteer);
    let late = recs.iter().filter(|r| !r.city.is_empty()).count() as u64;
    assert_eq!(ra.gazetteer.placed + ra.gazetteer.unresolved, late);
}

/// The portal CSV carries city and country but no coordinates, so impossible
/// travel cannot fire on it; with a city database placing the generator's
/// addresses, the planted scenario is found.
#[test]
fn a_city_database_lets_impossible_travel_fire_on_the_portal_csv() {
    use crate::analyze::detect::{self, DetectionConfig, Events};
    use crate::generate::{
        build_dataset, write_dataset, write_geo_databases, GenerateOptions, OutputKind,
        GEO_CITY_FILE,
    };
    let dir = tempfile::tempdir().unwrap();
    let opts = GenerateOptions {
        records: 1500,
        formats: vec![OutputKind::PortalCsv],
        ..GenerateOptions::default()
    };
    let ds = build_dataset(&opts);
    write_dataset(&ds, &opts, dir.path()).unwrap();
    let geo_dir = dir.path().join("geoip");
    write_geo_databases(&ds, &opts, &geo_dir).unwrap();
    let planted = ds
        .scenarios
        .iter()
        .find(|s| s.kind == "impossible_travel")
        .expect("the generator plants impossible travel");

    let load = || {
        let ing = crate::ingest::ingest(&[dir.path().join("portal-csv")]);
        let paths: Vec<String> = ing.inputs.iter().map(|i| i.path.clone()).collect();
        let n = crate::normalize::normalize(ing.records, &ing.auth_details, &paths);
        (n.records, paths)
    };
    let travel = |records: &[SignIn], paths: &[String]| {
        detect::run_all(&Events::new(records, paths), &DetectionConfig::default())
            .into_iter()
            .filter(|f| f.kind == "impossible_travel")
            .collect::<Vec<_>>()
    };
    let (mut records, paths) = load();
    assert!(records
        .iter()
        .filter(|r| r.sign_in_type == SignInType::Interactive)
        .all(|r| r.latitude.is_none()));
    assert!(travel(&records, &paths).is_empty());

    let e = Enricher::open(Some(&geo_dir.join(GEO_CITY_FILE)), None).unwrap();
    let rep = e.apply(&mut records);
    assert_eq!(
        rep.location_conflicts, 0,
        "the database agrees with the log"
    );
    assert_eq!(rep.filled.city, 0, "the portal CSV has cities already");
    assert_eq!(
        rep.filled.coordinates,
        records.iter().filter(|r| !r.ip.is_empty()).count() as u64
    );
    let found = travel(&records, &paths);
    assert!(
        found
            .iter()
            .any(|f| f.users.iter().any(|u| planted.users.contains(u))),
        "{found:#?}"
    );
}

#[test]
fn the_gazetteer_places_only_what_the_log_and_database_leave_unplaced() {
    let dbs = Dbs::new();
    let geo = dbs.put("city.mmdb", &city_db());
    let at = |sec, ip: &str, city: &str, state: &str, cc: &str| SignIn {
        city: city.into(),
        state: state.into(),
        country: cc.into(),
        ..signin(sec, ip)
    };
    let mut recs = vec![
        // Paris per the database too: its coordinates win over the city's.
        at(0, "203.0.113.10", "Paris", "Ile-de-France", "FR"),
        // The database says Lyon, the log Marseille: the log's city is
        // placed by the gazetteer, not moved to Lyon.
        at(
            10,
            "203.0.113.200",
            "Marseille",
            "Provence-Alpes-Cote d'Azur",
            "FR",
        ),
        // No database record: the gazetteer alone.
        at(20, "192.0.2.7", "München", "Bayern", "DE"),
        // Logged coordinates stay, whatever the city.
        SignIn {
            latitude: Some(1.5),
            longitude: Some(2.5),
            ..at(30, "192.0.2.8", "Seattle", "Washington", "US")
        },
        // Ambiguous (which Quincy?) and unknown places stay unplaced.
        at(40, "192.0.2.9", "Quincy", "", "US"),
        at(50, "192.0.2.10", "Atlantis", "", "GR"),
        // No country: nothing to look up.
        at(60, "192.0.2.11", "Paris", "", ""),
    ];
    let off = Enricher::open(Some(&geo), None).unwrap();
    let mut plain = recs.clone();
    let rep = off.apply(&mut plain);
    assert!(!rep.gazetteer.enabled);
    assert_eq!(plain[1].latitude, None, "off by default in the library");

    let e = Enricher::open(Some(&geo), None)
        .unwrap()
        .with_gazetteer(true);
    let rep = e.apply(&mut recs);
    assert_eq!(
        rep.gazetteer,
        GazetteerUse {
            enabled: true,
            placed: 2,
            unresolved: 2
        }
    );
    assert_eq!(
        (recs[0].latitude, recs[0].longitude),
        (Some(48.8566), Some(2.3522))
    );
    assert_eq!(
        row(&rep, "203.0.113.10").coordinates_source,
        Source::GeoipDb
    );
    let marseille = (recs[1].latitude.unwrap(), recs[1].longitude.unwrap());
    assert!(
        (marseille.0 - 43.30).abs() < 0.1 && (marseille.1 - 5.38).abs() < 0.1,
        "{marseille:?}"
    );
    assert_eq!(
        row(&rep, "203.0.113.200").coordinates_source,
        Source::Gazetteer
    );
    assert_eq!(row(&rep, "203.0.113.200").city, "Marseille");
    assert!(recs[2].latitude.is_some_and(|v| (v - 48.14).abs() < 0.05));
    assert_eq!(row(&rep, "192.0.2.7").coordinates_source, Source::Gazetteer);
    assert_eq!(
        (recs[3].latitude, recs[3].longitude),
        (Some(1.5), Some(2.5))
    );
    assert_eq!(row(&rep, "192.0.2.8").coordinates_source, Source::Log);
    for r in &recs[4..] {
        assert_eq!((r.latitude, r.longitude), (None, None), "{}", r.city);
    }
    assert_eq!(row(&rep, "192.0.2.9").coordinates_source, Source::None);
    // What impossible travel asks of a record: placed by the gazetteer or not.
    let placed = |r: &SignIn| {
        gazetteer::placed(
            &r.city,
            &r.state,
            &r.country,
            r.latitude.unwrap(),
            r.longitude.unwrap(),
        )
    };
    assert!(placed(&recs[1]) && placed(&recs[2]));
    assert!(!placed(&recs[0]) && !placed(&recs[3]));
}
