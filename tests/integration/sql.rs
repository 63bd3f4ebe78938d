//! The scale-out path end to end: `convert --partition-by day` builds an
//! appendable dataset, and the SQL of `detections --sql`, run by DuckDB
//! over it, finds exactly what `analyze` finds.
//!
//! DuckDB comes from its Python package, Spark from pyspark (with a Java
//! runtime). Without them these tests print a note and pass, so `cargo
//! test` works on a bare machine; CI sets `ENTRASIFT_REQUIRE_DUCKDB=1` and
//! `ENTRASIFT_REQUIRE_SPARK=1` (and installs both), which turns a missing
//! engine into a failure.

use crate::common::{bin, generate};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs SQL files (or one statement with `--query`) against a dataset and
/// prints the rows as JSON. Timestamps go out as epoch microseconds, the
/// unit of finding ids.
const RUNNER: &str = r#"
import glob, json, os, sys
import duckdb

dataset, mode, arg = sys.argv[1], sys.argv[2], sys.argv[3]
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
files = os.path.join(dataset, "**", "*.parquet").replace("'", "''")
con.execute(
    f"CREATE VIEW signins AS SELECT * FROM read_parquet('{files}', hive_partitioning = true)"
)
if mode == "--query":
    print(json.dumps(con.execute(arg).fetchall()))
    sys.exit(0)
if mode == "--write":
    # Each query's complete rows to OUT/<kind>.parquet (or .csv), as a
    # user would.
    sqldir, out = arg, sys.argv[4]
    ext = sys.argv[5] if len(sys.argv) > 5 else "parquet"
    os.makedirs(os.path.join(out, "tables"), exist_ok=True)
    paths = sorted(glob.glob(os.path.join(sqldir, "*.sql")))
    paths += sorted(glob.glob(os.path.join(sqldir, "tables", "*.sql")))
    for path in paths:
        query = open(path, encoding="utf-8").read().strip().rstrip(";")
        target = os.path.join(out, os.path.relpath(path, sqldir)[:-4] + "." + ext).replace("'", "''")
        con.execute(f"COPY ({query}) TO '{target}' (FORMAT {ext.upper()})")
    sys.exit(0)
out = {}
for path in sorted(glob.glob(os.path.join(arg, "*.sql"))):
    query = open(path, encoding="utf-8").read().strip().rstrip(";")
    rows = con.execute(
        "SELECT kind, actor, epoch_us(first_seen), epoch_us(last_seen), count FROM ("
        + query + ") q"
    ).fetchall()
    out[os.path.basename(path)[:-4]] = rows
print(json.dumps(out))
"#;

/// Whether DuckDB can be used; a loud note (or a failure under
/// `ENTRASIFT_REQUIRE_DUCKDB=1`) when it cannot.
fn duckdb_available(test: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import duckdb"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("ENTRASIFT_REQUIRE_DUCKDB").as_deref() != Ok("1"),
            "{test}: ENTRASIFT_REQUIRE_DUCKDB=1 but `python3 -c 'import duckdb'` fails \
             (pip install duckdb)"
        );
        eprintln!(
            "\n*** NOTE: {test} SKIPPED: python3 with the duckdb package is not available. \
             Install it (pip install duckdb) to check the SQL detections and the Parquet \
             dataset; CI requires it. ***\n"
        );
    }
    ok
}

fn duckdb(dataset: &Path, mode: &str, arg: &str) -> serde_json::Value {
    let o = Command::new("python3")
        .args(["-c", RUNNER])
        .arg(dataset)
        .args([mode, arg])
        .output()
        .expect("python3");
    assert!(
        o.status.success(),
        "duckdb: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("runner JSON")
}

/// One number from a `--query` that returns a single value.
fn scalar(dataset: &Path, query: &str) -> i64 {
    duckdb(dataset, "--query", query)[0][0]
        .as_i64()
        .unwrap_or_else(|| panic!("not a number: {query}"))
}

fn entrasift(args: &[&std::ffi::OsStr]) -> std::process::Output {
    let o = Command::new(bin()).args(args).output().unwrap();
    // 3 = some generated rows are deliberately malformed.
    assert!(
        matches!(o.status.code(), Some(0 | 3)),
        "entrasift {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn convert(input: &Path, dataset: &Path) {
    entrasift(&[
        "convert".as_ref(),
        input.as_os_str(),
        "--to".as_ref(),
        "parquet".as_ref(),
        "--partition-by".as_ref(),
        "day".as_ref(),
        "--out".as_ref(),
        dataset.as_os_str(),
        "--quiet".as_ref(),
    ]);
}

fn parquet_files(dataset: &Path) -> Vec<String> {
    let mut files = Vec::new();
    for day in std::fs::read_dir(dataset).unwrap() {
        let day = day.unwrap().path();
        for f in std::fs::read_dir(&day).unwrap() {
            let f = f.unwrap().path();
            files.push(f.strip_prefix(dataset).unwrap().display().to_string());
        }
    }
    files.sort();
    files
}

const ROWS: &str = "SELECT count(*) FROM signins";

#[test]
fn dataset_is_day_partitioned_and_appendable() {
    if !duckdb_available("dataset_is_day_partitioned_and_appendable") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), 1500, true, 31);
    let ds = dir.path().join("dataset");
    let graph = dir.path().join("graph-pages");

    convert(&graph, &ds);
    let files = parquet_files(&ds);
    let rows = scalar(&ds, ROWS);
    assert!(rows > 1000 && files.len() >= 7, "{rows} rows in {files:?}");
    for f in &files {
        assert!(
            f.starts_with("date=") && f.contains("/signins-") && f.ends_with(".parquet"),
            "{f}"
        );
    }
    // Every row sits in the folder of its own UTC day.
    assert_eq!(
        scalar(
            &ds,
            "SELECT count(*) FROM signins WHERE CAST(time AS DATE) <> date"
        ),
        0
    );
    assert_eq!(
        scalar(
            &ds,
            "SELECT count(DISTINCT date) FROM signins WHERE typeof(date) = 'DATE'"
        ),
        files.len() as i64
    );

    // The same export again: no file added or rewritten, no row added.
    let before: BTreeMap<String, std::time::SystemTime> = files
        .iter()
        .map(|f| {
            let m = std::fs::metadata(ds.join(f)).unwrap().modified().unwrap();
            (f.clone(), m)
        })
        .collect();
    convert(&graph, &ds);
    assert_eq!(parquet_files(&ds), files);
    for (f, m) in &before {
        assert_eq!(
            &std::fs::metadata(ds.join(f)).unwrap().modified().unwrap(),
            m,
            "{f}"
        );
    }
    assert_eq!(scalar(&ds, ROWS), rows);

    // Another export (the same sign-ins as Log Analytics CSV) adds files
    // and rows next to the first ones; the SQL prelude removes the overlap.
    convert(&dir.path().join("log-analytics-csv"), &ds);
    let after = parquet_files(&ds);
    assert!(files.iter().all(|f| after.contains(f)));
    assert!(after.len() > files.len());
    assert!(scalar(&ds, ROWS) > rows);
    assert_eq!(
        scalar(
            &ds,
            "SELECT count(*) FROM signins WHERE CAST(time AS DATE) <> date"
        ),
        0
    );
}

/// `util::stable_id`: the SQL returns kind, actor and first time, so it
/// names its findings exactly as `analyze` does.
fn finding_id(kind: &str, actor: &str, first_us: i64) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in format!("{kind}|{actor}|{first_us}").bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{kind}-{h:016x}")
}

/// id -> (kind, count) of every finding of one `analyze` run.
fn rust_findings(report: &Path) -> BTreeMap<String, (String, u64)> {
    let text = std::fs::read_to_string(report.join("findings.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_string(),
                (
                    f["kind"].as_str().unwrap().to_string(),
                    f["count"].as_u64().unwrap(),
                ),
            )
        })
        .collect()
}

/// Same shape from the SQL results.
fn sql_findings(results: &serde_json::Value) -> BTreeMap<String, (String, u64)> {
    let mut out = BTreeMap::new();
    for (file_kind, rows) in results.as_object().unwrap() {
        for row in rows.as_array().unwrap() {
            let kind = row[0].as_str().unwrap();
            assert_eq!(kind, file_kind);
            let id = finding_id(kind, row[1].as_str().unwrap(), row[2].as_i64().unwrap());
            let count = row[4].as_u64().unwrap();
            assert!(
                out.insert(id.clone(), (kind.to_string(), count)).is_none(),
                "{id} twice"
            );
        }
    }
    out
}

#[test]
fn sql_detections_on_duckdb_match_analyze() {
    if !duckdb_available("sql_detections_on_duckdb_match_analyze") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), 4000, true, 5);
    let ds = dir.path().join("dataset");
    let exports = [
        dir.path().join("graph-pages"),
        dir.path().join("log-analytics-csv"),
    ];
    // Two overlapping exports appended to one dataset: the SQL must drop
    // the second copy of each sign-in as `normalize` does.
    for e in &exports {
        convert(e, &ds);
    }
    let config = dir.path().join("tuned.toml");
    std::fs::write(
        &config,
        "preset = \"sentinel\"\nallowlist = [\"192.0.2.64/28\", \"2001:db8:7::/48\", \"198.51.100.23\"]\n",
    )
    .unwrap();

    for (name, extra) in [
        ("default", vec![]),
        (
            "sentinel+allowlist",
            vec!["--config".as_ref(), config.as_os_str()],
        ),
    ] {
        let report = dir.path().join(format!("report-{name}"));
        let sql = dir.path().join(format!("sql-{name}"));
        let mut args: Vec<&std::ffi::OsStr> = vec!["analyze".as_ref()];
        args.extend(exports.iter().map(|e| e.as_os_str()));
        args.extend(["--out".as_ref(), report.as_os_str(), "--quiet".as_ref()]);
        args.extend(&extra);
        entrasift(&args);
        let mut args: Vec<&std::ffi::OsStr> = vec!["detections".as_ref(), "--sql".as_ref()];
        args.extend(["--out".as_ref(), sql.as_os_str()]);
        args.extend(&extra);
        entrasift(&args);

        let rust = rust_findings(&report);
        let from_sql = sql_findings(&duckdb(&ds, "--files", sql.to_str().unwrap()));
        // No allowed differences: same findings (kind, actor, first
        // sign-in to the microsecond, via the id) with the same counts.
        assert_eq!(from_sql, rust, "{name}");
        assert!(!rust.is_empty(), "{name}: nothing to compare");
        // With the default settings every detection fires on this data,
        // so the equality covers each query.
        if name == "default" {
            let kinds: std::collections::BTreeSet<&str> =
                rust.values().map(|(k, _)| k.as_str()).collect();
            for kind in entrasift::analyze::detect::DETECTIONS
                .iter()
                .map(|d| d.kind())
            {
                assert!(kinds.contains(kind), "no {kind} finding to compare");
            }
        }
    }
}

/// Whether pyspark and a Java runtime can be used; a loud note (or a
/// failure under `ENTRASIFT_REQUIRE_SPARK=1`) when they cannot.
fn spark_available(test: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import pyspark"])
        .output()
        .is_ok_and(|o| o.status.success())
        && Command::new("java")
            .arg("-version")
            .output()
            .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("ENTRASIFT_REQUIRE_SPARK").as_deref() != Ok("1"),
            "{test}: ENTRASIFT_REQUIRE_SPARK=1 but pyspark or java is missing \
             (pip install pyspark; apt-get install default-jre-headless)"
        );
        eprintln!(
            "\n*** NOTE: the Spark half of {test} SKIPPED: python3 with pyspark and a Java \
             runtime are not available. Install them (pip install pyspark; a JRE) to run the \
             SQL detections on Spark; CI requires it. ***\n"
        );
    }
    ok
}

/// What the parity check compares of a finding: everything the engines
/// must agree with `analyze` on.
type Parity = (
    String,
    String,
    Vec<String>,
    Vec<String>,
    u64,
    String,
    String,
    Vec<String>,
);

/// id -> (kind, severity, users, ips, count, first and last seen,
/// techniques) from a report folder's findings.json.
fn parity(report: &Path) -> BTreeMap<String, Parity> {
    let text = std::fs::read_to_string(report.join("findings.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let list = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect()
    };
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap().to_string();
            (
                s("id"),
                (
                    s("kind"),
                    s("severity"),
                    list(&f["users"]),
                    list(&f["ips"]),
                    f["count"].as_u64().unwrap(),
                    s("first_seen"),
                    s("last_seen"),
                    list(&f["techniques"]),
                ),
            )
        })
        .collect()
}

fn render(results: &Path, sql: &Path, out: &Path) {
    entrasift(&[
        "render".as_ref(),
        "--results".as_ref(),
        results.as_os_str(),
        "--sql".as_ref(),
        sql.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--quiet".as_ref(),
    ]);
}

/// Every query of `sql` run by `engine` (`duckdb`, `duckdb-csv` or
/// `spark`) over the dataset `ds`, each query's rows written under
/// `results` as a user would write them.
fn run_engine(engine: &str, ds: &Path, sql: &Path, results: &Path) {
    if engine.starts_with("duckdb") {
        let ext = if engine == "duckdb-csv" {
            "csv"
        } else {
            "parquet"
        };
        let o = Command::new("python3")
            .args(["-c", RUNNER])
            .arg(ds)
            .arg("--write")
            .arg(sql)
            .arg(results)
            .arg(ext)
            .output()
            .expect("python3");
        assert!(
            o.status.success(),
            "duckdb: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    } else {
        // All queries in one local Spark session (its start-up is most
        // of the cost).
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/spark_detections.py");
        let o = Command::new("python3")
            .arg(&script)
            .arg(ds)
            .arg(sql)
            .arg(results)
            .args(["--master", "local[2]"])
            .output()
            .expect("python3");
        assert!(
            o.status.success(),
            "spark: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

/// The whole lake path: exports converted to a dataset, every query run
/// by DuckDB and by Spark, each engine's results rendered into a report,
/// and both reports hold exactly the findings `analyze` finds on the same
/// exports: same ids, kinds, severities, accounts, addresses, counts,
/// times and techniques.
#[test]
fn engine_results_render_the_findings_of_analyze() {
    let test = "engine_results_render_the_findings_of_analyze";
    let Some(dir) = scratch(test) else {
        return;
    };
    generate(dir.path(), 4000, true, 5);
    let ds = dir.path().join("dataset");
    let exports = [
        dir.path().join("graph-pages"),
        dir.path().join("log-analytics-csv"),
    ];
    for e in &exports {
        convert(e, &ds);
    }
    let report = dir.path().join("report");
    let sql = dir.path().join("sql");
    let mut args: Vec<&std::ffi::OsStr> = vec!["analyze".as_ref()];
    args.extend(exports.iter().map(|e| e.as_os_str()));
    args.extend(["--out".as_ref(), report.as_os_str(), "--quiet".as_ref()]);
    entrasift(&args);
    entrasift(&[
        "detections".as_ref(),
        "--sql".as_ref(),
        "--out".as_ref(),
        sql.as_os_str(),
    ]);
    let expected = parity(&report);
    let kinds: std::collections::BTreeSet<&str> = expected.values().map(|p| p.0.as_str()).collect();
    for d in entrasift::analyze::detect::DETECTIONS {
        assert!(
            kinds.contains(d.kind()),
            "no {} finding to compare",
            d.kind()
        );
    }

    // DuckDB twice: Parquet, and CSV (lists as DuckDB writes them as text).
    let mut engines = vec!["duckdb", "duckdb-csv"];
    if spark_available(test) {
        engines.push("spark");
    }
    for engine in engines {
        let results = dir.path().join(format!("results-{engine}"));
        run_engine(engine, &ds, &sql, &results);
        let rendered = dir.path().join(format!("report-{engine}"));
        render(&results, &sql, &rendered);
        let got = parity(&rendered);
        for (id, want) in &expected {
            assert_eq!(got.get(id), Some(want), "{engine}: finding {id}");
        }
        assert_eq!(got.len(), expected.len(), "{engine}: extra findings");

        // The report says what engine results cannot show instead of
        // drawing it empty, and its manifest hashes the SQL and results.
        let html = std::fs::read_to_string(rendered.join("report.html")).unwrap();
        assert!(html.contains("Rendered from engine results"), "{engine}");
        assert!(!html.contains("id=\"charts\""), "{engine}: a chart section");
        assert!(!rendered.join("charts").exists());
        let md = std::fs::read_to_string(rendered.join("summary.md")).unwrap();
        assert!(md.contains("## Not in the engine results"), "{engine}");

        // The table queries give the same sign-in tables and summary as
        // analyze, byte for byte.
        for name in entrasift::analyze::tables_sql::table_names().filter(|&t| t != "summary") {
            let file = format!("tables/{name}.csv");
            let want = std::fs::read_to_string(report.join(&file)).unwrap();
            let got = std::fs::read_to_string(rendered.join(&file))
                .unwrap_or_else(|e| panic!("{engine}: {file}: {e}"));
            assert!(want.lines().count() > 2, "{file}: too small to compare");
            assert_eq!(got, want, "{engine}: {file}");
        }
        let summary = |dir: &Path| -> serde_json::Value {
            let doc: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(dir.join("findings.json")).unwrap())
                    .unwrap();
            doc["summary"].clone()
        };
        assert_eq!(summary(&rendered), summary(&report), "{engine}: summary");
        assert!(html.contains("id=\"top-ips\""), "{engine}: no IP table");
        assert!(md.contains("## Failures by error code"), "{engine}");
        let manifest: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(rendered.join("manifest.json")).unwrap())
                .unwrap();
        let hashed: Vec<&str> = manifest["settings_files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap())
            .collect();
        for d in entrasift::analyze::detect::DETECTIONS {
            let k = d.kind();
            assert!(
                hashed.iter().any(|p| p.ends_with(&format!("{k}.sql"))),
                "{engine}: {k}.sql not hashed"
            );
            assert!(
                hashed.iter().any(
                    |p| p.contains(&format!("{k}.parquet")) || p.ends_with(&format!("{k}.csv"))
                ),
                "{engine}: {k} results not hashed"
            );
        }
    }
}

/// `render` without any engine: JSON Lines as Spark's `write.json` or
/// DuckDB's `COPY ... (FORMAT JSON)` write them become findings named as
/// `analyze` names them, and a bad row is refused with its file and line.
#[test]
fn render_reads_json_lines_and_names_a_bad_row() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    std::fs::create_dir_all(results.join("brute_force.jsonl")).unwrap();
    let row = serde_json::json!({
        "kind": "brute_force",
        "actor": "cfo@contoso.com",
        "severity": "critical",
        "title": "Brute force on cfo@contoso.com: 25 failed passwords in 6 min from 2 IPs",
        "first_seen": "2026-03-02T08:00:00.250Z",
        "last_seen": "2026-03-02 08:06:00+00",
        "count": 25,
        "users": ["cfo@contoso.com"],
        "ips": ["203.0.113.7", "203.0.113.8"],
        "facts": "{\"distinct_users\":1,\"distinct_ips\":2,\"failures\":25}",
        "evidence": "[{\"request_id\":\"r1\",\"file\":\"a.json\",\"record\":7}]",
        "techniques": ["T1110.001"]
    });
    // A Spark-style folder: part files beside its _SUCCESS marker.
    std::fs::write(
        results.join("brute_force.jsonl/part-00000.json"),
        format!("{row}\n"),
    )
    .unwrap();
    std::fs::write(results.join("brute_force.jsonl/_SUCCESS"), "").unwrap();
    let out = dir.path().join("report");
    render(&results, &results, &out);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("findings.json")).unwrap()).unwrap();
    let f = &doc["findings"][0];
    // 2026-03-02T08:00:00.250Z in microseconds.
    assert_eq!(
        f["id"],
        finding_id("brute_force", "cfo@contoso.com", 1_772_438_400_250_000)
    );
    assert_eq!(f["severity"], "critical");
    assert_eq!(f["last_seen"], "2026-03-02T08:06:00Z");
    assert_eq!(f["evidence"]["samples"][0]["record"], 7);
    assert_eq!(doc["rendered_from"], results.display().to_string());
    assert!(
        doc.get("summary").is_none(),
        "a sign-in summary from findings"
    );

    let mut bad = row.clone();
    bad["severity"] = "severe".into();
    std::fs::write(
        results.join("brute_force.jsonl/part-00000.json"),
        format!("{row}\n{bad}\n"),
    )
    .unwrap();
    let o = Command::new(bin())
        .args(["render", "--results"])
        .arg(&results)
        .arg("--out")
        .arg(dir.path().join("again"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("part-00000.json row 2") && err.contains("severe"),
        "{err}"
    );
    assert!(!dir.path().join("again").exists());
}

/// success_after_failures in SQL judges the success as analyze does: a
/// success from the owner's earlier address, device or network (ASN in the
/// same country) is the owner (info, said in the title); one from
/// elsewhere is critical. Both accounts take ten wrong passwords first.
#[test]
fn success_after_failures_sql_knows_the_owner_pattern() {
    if !duckdb_available("success_after_failures_sql_knows_the_owner_pattern") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut lines = Vec::new();
    let mut n = 0;
    let mut add = |t: &str, user: &str, ip: &str, code: i64, device: &str| {
        n += 1;
        // Documentation networks: 198.51.100.0/24 the office's ASN in the
        // Netherlands, anything else another one, abroad.
        let (asn, country) = if ip.starts_with("198.51.100.") {
            (64500, "NL")
        } else {
            (64999, "RO")
        };
        lines.push(format!(
            "{{\"createdDateTime\":\"2026-03-03T{t}Z\",\"id\":\"r{n}\",\"userPrincipalName\":\"{user}\",\
             \"ipAddress\":\"{ip}\",\"appId\":\"app\",\"status\":{{\"errorCode\":{code}}},\
             \"deviceDetail\":{{\"deviceId\":\"{device}\"}},\"autonomousSystemNumber\":{asn},\
             \"location\":{{\"countryOrRegion\":\"{country}\"}}}}"
        ));
    };
    // The owner's usual place, a day's morning before the attack.
    add("07:00:00", "owner@contoso.com", "198.51.100.7", 0, "dev-1");
    add("07:05:00", "victim@contoso.com", "198.51.100.8", 0, "dev-2");
    for k in 0..10 {
        let t = format!("08:{:02}:00", 10 + k);
        add(&t, "owner@contoso.com", "203.0.113.50", 50126, "");
        add(&t, "victim@contoso.com", "203.0.113.50", 50126, "");
    }
    // The owner signs in from the office; the victim's password works for
    // someone on a new network.
    add("08:30:00", "owner@contoso.com", "198.51.100.7", 0, "dev-1");
    add("08:31:00", "victim@contoso.com", "192.0.2.99", 0, "");
    let (ds, report, sql) = analyze_and_write_sql(dir.path(), &lines);
    let query = std::fs::read_to_string(sql.join("success_after_failures.sql")).unwrap();
    let rows = duckdb(
        &ds,
        "--query",
        &format!(
            "SELECT actor, severity, title, facts FROM ({}) q ORDER BY actor",
            query.trim().trim_end_matches(';')
        ),
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("findings.json")).unwrap())
            .unwrap();
    let mut want: Vec<(String, String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "success_after_failures")
        .map(|f| {
            (
                f["users"][0].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                f["title"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    want.sort();
    let got: Vec<(String, String, String)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r[0].as_str().unwrap().to_string(),
                r[1].as_str().unwrap().to_string(),
                r[2].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        want.iter()
            .map(|w| (&w.0[..], &w.1[..]))
            .collect::<Vec<_>>(),
        vec![
            ("owner@contoso.com", "info"),
            ("victim@contoso.com", "critical")
        ],
        "analyze: {want:?}"
    );
    assert_eq!(got, want, "SQL against analyze");
    let facts: serde_json::Value = serde_json::from_str(rows[0][3].as_str().unwrap()).unwrap();
    assert_eq!(facts["owner_pattern"], true);
    assert_eq!(facts["success_ip_seen_before"], true);
    assert_eq!(facts["triggered_by"], "account");
}

/// A scratch folder for `test`, or None (after saying why) when DuckDB
/// is not available.
fn scratch(test: &str) -> Option<tempfile::TempDir> {
    duckdb_available(test).then(|| tempfile::tempdir().unwrap())
}

/// Writes `lines` as a Graph JSON-lines export in `dir`, converts it to a
/// dataset, analyzes it and writes the SQL detections; returns the
/// dataset, report and SQL folders.
fn analyze_and_write_sql(dir: &Path, lines: &[String]) -> (PathBuf, PathBuf, PathBuf) {
    let input = dir.join("signins.jsonl");
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let ds = dir.join("dataset");
    convert(&input, &ds);
    let report = dir.join("report");
    entrasift(&[
        "analyze".as_ref(),
        input.as_os_str(),
        "--out".as_ref(),
        report.as_os_str(),
        "--quiet".as_ref(),
    ]);
    let sql = dir.join("sql");
    entrasift(&[
        "detections".as_ref(),
        "--sql".as_ref(),
        "--out".as_ref(),
        sql.as_os_str(),
    ]);
    (ds, report, sql)
}

/// Each account of a report's list to act on, with its verdict.
fn verdicts(report: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(report.join("findings.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let s = |k: &str| a[k].as_str().unwrap().to_string();
            (s("user"), s("verdict"))
        })
        .collect()
}

/// Runs `kind`'s query alone (the engines need not run the others) on
/// DuckDB, and on Spark where it is installed, and requires exactly the
/// findings `want` that `analyze` gave, field for field.
fn engines_find_the_same(
    test: &str,
    dir: &Path,
    ds: &Path,
    sql: &Path,
    kind: &str,
    want: &BTreeMap<String, serde_json::Value>,
) {
    for (engine, rendered) in render_on_engines(test, dir, ds, sql, kind) {
        let got = full_findings(&rendered, kind);
        for (id, f) in want {
            assert_eq!(got.get(id), Some(f), "{engine}: finding {id}");
        }
        assert_eq!(got.len(), want.len(), "{engine}: extra findings");
    }
}

/// Runs `kind`'s SQL alone (copied into `dir/sql-one`) on DuckDB and, when
/// installed, Spark, and renders each engine's results: the report
/// folders, by engine.
fn render_on_engines(
    test: &str,
    dir: &Path,
    ds: &Path,
    sql: &Path,
    kind: &str,
) -> Vec<(&'static str, PathBuf)> {
    let one = dir.join("sql-one");
    std::fs::create_dir(&one).unwrap();
    let file = format!("{kind}.sql");
    std::fs::copy(sql.join(&file), one.join(&file)).unwrap();
    let mut engines = vec!["duckdb"];
    if spark_available(test) {
        engines.push("spark");
    }
    engines
        .into_iter()
        .map(|engine| {
            let results = dir.join(format!("results-{engine}"));
            run_engine(engine, ds, &one, &results);
            let rendered = dir.join(format!("report-{engine}"));
            render(&results, &one, &rendered);
            (engine, rendered)
        })
        .collect()
}

/// What a rendered or analyzed finding must agree on, facts (in key
/// order) and evidence included; not the list-valued facts, which the SQL
/// leaves out, nor the error codes, which are no SQL column.
fn full_findings(report: &Path, kind: &str) -> BTreeMap<String, serde_json::Value> {
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("findings.json")).unwrap())
            .unwrap();
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == kind)
        .map(|f| {
            let mut f = f.clone();
            let facts: BTreeMap<String, serde_json::Value> = f["evidence"]["facts"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|kv| !kv[1].is_array())
                .map(|kv| (kv[0].as_str().unwrap().to_string(), kv[1].clone()))
                .collect();
            f["evidence"]["facts"] = serde_json::to_value(facts).unwrap();
            for k in ["remediation", "related", "error_codes"] {
                f.as_object_mut().unwrap().remove(k);
            }
            (f["id"].as_str().unwrap().to_string(), f)
        })
        .collect()
}

/// Each finding's title, severity, count and number of evidence samples,
/// to check that `analyze` found what a test plants.
fn outline(want: &BTreeMap<String, serde_json::Value>) -> Vec<(&str, &str, u64, usize)> {
    want.values()
        .map(|f| {
            (
                f["title"].as_str().unwrap(),
                f["severity"].as_str().unwrap(),
                f["count"].as_u64().unwrap(),
                f["evidence"]["samples"].as_array().unwrap().len(),
            )
        })
        .collect()
}

/// The facts of the finding whose first account is `user`.
fn facts_of(want: &BTreeMap<String, serde_json::Value>, user: &str) -> serde_json::Value {
    want.values()
        .find(|f| f["users"][0] == user)
        .map(|f| f["evidence"]["facts"].clone())
        .unwrap_or_else(|| panic!("no finding of {user}"))
}

/// workload_new_network in SQL, on DuckDB and (when installed) Spark,
/// gives analyze's findings field for field: networks by ASN and, without
/// one, by /24 and by /64 however the IPv6 address is shortened; a
/// workload first seen after the baseline learns its first network (the
/// earlier of two sign-ins in the same microsecond, in analyze's order);
/// failures teach nothing; titles with one, two and four addresses; a
/// baseline a hair under 47 hours, which whole seconds would call 48; and
/// a workload on many blocks without ASNs, judged by country.
#[test]
fn workload_new_network_sql_matches_analyze_field_for_field() {
    let test = "workload_new_network_sql_matches_analyze_field_for_field";
    let Some(dir) = scratch(test) else {
        return;
    };
    let mut lines = Vec::new();
    let mut add = |t: &str,
                   id: &str,
                   who: (&str, &str, &str, &str),
                   ip: &str,
                   code: i64,
                   asn: Option<i64>,
                   country: &str| {
        let (kind, app_id, app_name, sp) = who;
        let sp_name = if sp.is_empty() {
            String::new()
        } else {
            format!("{sp}-name")
        };
        let asn = asn.map_or(String::new(), |a| {
            format!(",\"autonomousSystemNumber\":{a}")
        });
        let (upn, types) = if kind.is_empty() {
            ("someone@contoso.com", "[\"interactiveUser\"]".to_string())
        } else {
            ("", format!("[\"{kind}\"]"))
        };
        lines.push(format!(
            "{{\"createdDateTime\":\"{t}\",\"id\":\"{id}\",\"userPrincipalName\":\"{upn}\",\
             \"appId\":\"{app_id}\",\"appDisplayName\":\"{app_name}\",\"servicePrincipalId\":\"{sp}\",\
             \"servicePrincipalName\":\"{sp_name}\",\"signInEventTypes\":{types},\
             \"ipAddress\":\"{ip}\",\"status\":{{\"errorCode\":{code}}},\
             \"resourceDisplayName\":\"Microsoft Graph\",\
             \"location\":{{\"countryOrRegion\":\"{country}\"}}{asn}}}"
        ));
    };
    let user = ("", "office", "Office", "");
    let backup = ("servicePrincipal", "app-a", "Backup job", "sp-a");
    let vm = ("managedIdentity", "", "", "mi-b");
    let nameless = ("servicePrincipal", "app-c", "", "");
    // The data starts a quarter second past midnight; the baseline is the
    // first day.
    add(
        "2026-03-01T00:00:00.25Z",
        "u-1",
        user,
        "192.0.2.1",
        0,
        Some(8075),
        "US",
    );
    add(
        "2026-03-01T06:00:00Z",
        "a-1",
        backup,
        "192.0.2.10",
        0,
        Some(8075),
        "US",
    );
    add(
        "2026-03-02T06:00:00Z",
        "a-2",
        backup,
        "192.0.2.10",
        0,
        Some(8075),
        "US",
    );
    add(
        "2026-03-02T07:00:00Z",
        "a-3",
        backup,
        "198.51.100.99",
        7000215,
        Some(3356),
        "US",
    );
    add(
        "2026-03-03T00:00:00.1Z",
        "a-4",
        backup,
        "203.0.113.1",
        0,
        Some(12389),
        "RU",
    );
    add(
        "2026-03-03T00:10:00Z",
        "a-5",
        backup,
        "203.0.113.2",
        0,
        Some(12389),
        "RU",
    );
    add(
        "2026-03-03T00:20:00Z",
        "a-6",
        backup,
        "203.0.113.3",
        0,
        Some(12389),
        "NL",
    );
    add(
        "2026-03-03T00:30:00Z",
        "a-7",
        backup,
        "203.0.113.4",
        0,
        Some(12389),
        "RU",
    );
    add(
        "2026-03-03T01:00:00Z",
        "a-8",
        backup,
        "192.0.2.11",
        0,
        Some(8075),
        "US",
    );
    add(
        "2026-03-04T00:00:00Z",
        "a-9",
        backup,
        "198.51.100.6",
        0,
        Some(64500),
        "NL",
    );
    add(
        "2026-03-04T00:01:00Z",
        "a-10",
        backup,
        "198.51.100.5",
        0,
        Some(64500),
        "NL",
    );
    // No ASN: networks by address, the first one learnt after the baseline;
    // after two blocks the identity roams, and only blocks in new
    // countries count.
    add(
        "2026-03-02T10:00:00Z",
        "b-1",
        vm,
        "2001:db8::5",
        0,
        None,
        "US",
    );
    add(
        "2026-03-02T11:00:00Z",
        "b-2",
        vm,
        "2001:DB8:0:0:0:0:0:7",
        0,
        None,
        "US",
    );
    add(
        "2026-03-02T12:00:00Z",
        "b-3",
        vm,
        "2001:db8:1::7",
        0,
        None,
        "US",
    );
    add(
        "2026-03-02T12:05:00Z",
        "b-4",
        vm,
        "2001:db8:a:b:c::1",
        0,
        None,
        "CA",
    );
    add(
        "2026-03-02T12:06:00Z",
        "b-5",
        vm,
        "::ffff:198.51.100.77",
        0,
        None,
        "GB",
    );
    add(
        "2026-03-02T12:07:00Z",
        "b-6",
        vm,
        "2001:0db8:0:5::",
        0,
        None,
        "FR",
    );
    // Two first sign-ins in the same microsecond: analyze's order (the
    // request id here) says which network the workload learns.
    add(
        "2026-03-02T15:00:00Z",
        "c-2",
        nameless,
        "192.0.2.200",
        0,
        None,
        "",
    );
    add(
        "2026-03-02T15:00:00Z",
        "c-1",
        nameless,
        "198.51.100.200",
        0,
        None,
        "",
    );
    // Its own address logged without the ASN after the baseline is its
    // own network; a new network's /24 logged without the ASN counts
    // with it.
    let sync = ("servicePrincipal", "app-d", "Sync job", "sp-d");
    for (t, id, ip, asn, country) in [
        (
            "2026-03-01T07:00:00Z",
            "d-1",
            "192.0.2.30",
            Some(8075),
            "US",
        ),
        ("2026-03-03T05:00:00Z", "d-2", "192.0.2.30", None, "US"),
        (
            "2026-03-03T06:00:00Z",
            "d-3",
            "203.0.113.40",
            Some(12389),
            "RU",
        ),
        ("2026-03-03T06:05:00Z", "d-4", "203.0.113.41", None, "RU"),
    ] {
        add(t, id, sync, ip, 0, asn, country);
    }
    // A job in a cloud's egress pool, logged without ASNs: four blocks in
    // its first day, then a fifth in its own country (quiet) and one in a
    // new country (a finding, with a second address of that block).
    let pool = ("servicePrincipal", "app-e", "Report job", "sp-e");
    for (t, id, ip, country) in [
        ("2026-03-01T01:00:00Z", "e-1", "20.1.2.3", "US"),
        ("2026-03-01T02:00:00Z", "e-2", "40.5.6.7", "US"),
        ("2026-03-01T03:00:00Z", "e-3", "52.8.9.10", "US"),
        ("2026-03-01T04:00:00Z", "e-4", "13.11.12.13", "US"),
        ("2026-03-02T08:00:00Z", "e-5", "20.99.1.1", "US"),
        ("2026-03-02T09:00:00Z", "e-6", "203.0.113.90", "DE"),
        ("2026-03-02T09:05:00Z", "e-7", "203.0.113.91", "DE"),
    ] {
        add(t, id, pool, ip, 0, None, country);
    }
    let (ds, report, sql) = analyze_and_write_sql(dir.path(), &lines);
    let kind = "workload_new_network";
    let want = full_findings(&report, kind);
    let titles: Vec<&str> = want
        .values()
        .map(|f| f["title"].as_str().unwrap())
        .collect();
    for expected in [
        "Service principal Backup job signed in from 4 addresses (AS12389, NL, RU), a network it had not used: 4 sign-ins",
        "Service principal Backup job signed in from 198.51.100.5, 198.51.100.6 (AS64500, NL), a network it had not used: 2 sign-ins",
        "Managed identity mi-b-name signed in from 2001:db8:1::7 (2001:db8:1:0::/64, US), a network it had not used: 1 sign-in",
        "Managed identity mi-b-name signed in from 2001:db8:a:b:c::1 (2001:db8:a:b::/64, CA), a network it had not used: 1 sign-in",
        "Managed identity mi-b-name signed in from 198.51.100.77 (198.51.100.0/24, GB), a network it had not used: 1 sign-in",
        "Managed identity mi-b-name signed in from 2001:db8:0:5:: (2001:db8:0:5::/64, FR), a network it had not used: 1 sign-in",
        "Service principal app-c signed in from 192.0.2.200 (192.0.2.0/24), a network it had not used: 1 sign-in",
        "Service principal Sync job signed in from 203.0.113.40, 203.0.113.41 (AS12389, RU), a network it had not used: 2 sign-ins",
        "Service principal Report job signed in from 203.0.113.90, 203.0.113.91 (203.0.113.0/24, DE), a network it had not used: 2 sign-ins",
    ] {
        assert!(titles.contains(&expected), "analyze: {expected}\n{titles:#?}");
    }
    assert_eq!(want.len(), 9, "{titles:#?}");
    let baseline = want
        .values()
        .find(|f| f["count"] == 4)
        .map(|f| f["evidence"]["facts"]["baseline_hours"].clone());
    assert_eq!(baseline, Some(serde_json::json!(47)));

    engines_find_the_same(test, dir.path(), &ds, &sql, kind, &want);
}

/// The members every field-by-field test's Graph sign-in carries.
struct Graph<'a> {
    t: &'a str,
    id: &'a str,
    user: &'a str,
    ip: &'a str,
    code: i64,
    asn: Option<i64>,
    country: &'a str,
}

impl Graph<'_> {
    /// One Graph sign-in line: these members and `extra`, more members
    /// each followed by a comma.
    fn line(&self, extra: &str) -> String {
        let Graph {
            t,
            id,
            user,
            ip,
            code,
            asn,
            country,
        } = self;
        let asn = asn.map_or(String::new(), |a| {
            format!(",\"autonomousSystemNumber\":{a}")
        });
        format!(
            "{{\"createdDateTime\":\"{t}\",\"id\":\"{id}\",\"userPrincipalName\":\"{user}\",{extra}\
             \"ipAddress\":\"{ip}\",\"status\":{{\"errorCode\":{code}}},\
             \"location\":{{\"countryOrRegion\":\"{country}\"}}{asn}}}"
        )
    }
}

/// One successful Graph sign-in for the token_replay test.
struct Use<'a> {
    t: &'a str,
    user: &'a str,
    session: &'a str,
    token: &'a str,
    ip: &'a str,
    asn: Option<i64>,
    country: &'a str,
    device: &'a str,
    os: &'a str,
}

impl Use<'_> {
    fn line(&self, n: usize) -> String {
        // Interactive and non-interactive rows alternate, so findings
        // count different numbers of non-interactive uses.
        let kind = if n.is_multiple_of(2) {
            "interactiveUser"
        } else {
            "nonInteractiveUser"
        };
        Graph {
            t: self.t,
            id: &format!("r{n:03}"),
            user: self.user,
            ip: self.ip,
            code: 0,
            asn: self.asn,
            country: self.country,
        }
        .line(&format!(
            "\"sessionId\":\"{}\",\"uniqueTokenIdentifier\":\"{}\",\"appId\":\"office\",\
             \"signInEventTypes\":[\"{kind}\"],\"userAgent\":\"agent-{}\",\
             \"deviceDetail\":{{\"deviceId\":\"{}\",\"operatingSystem\":\"{}\",\"browser\":\"Edge\"}},",
            self.session, self.token, self.os, self.device, self.os
        ))
    }
}

/// token_replay in SQL, on DuckDB and (when installed) Spark, gives
/// analyze's findings field for field: repeats from a foreign network
/// count; the owner's other places (another session's ASN and country, a
/// /24 of a sign-in without a session) stay quiet; a session's own device, a first
/// sign-in without a network, uses past the lifetime and uses inside the
/// baseline say nothing; the token id stands in for a missing session id;
/// medium when nothing changed slowly; more than three addresses; uses
/// without an address or an operating system; an address or /24 logged
/// with its ASN on one use and without it on another is one network;
/// without a device on the use or before it in the session, only another
/// country or client is a replay.
#[test]
fn token_replay_sql_matches_analyze_field_for_field() {
    let test = "token_replay_sql_matches_analyze_field_for_field";
    let Some(dir) = scratch(test) else {
        return;
    };
    let u = |t, user, session, ip, asn, country| Use {
        t,
        user,
        session,
        token: "",
        ip,
        asn,
        country,
        device: "",
        os: "Windows10",
    };
    let (alice, bob, carol, dave, erin, frank, gina) = (
        "alice@contoso.com",
        "bob@contoso.com",
        "carol@contoso.com",
        "dave@contoso.com",
        "erin@contoso.com",
        "frank@contoso.com",
        "gina@contoso.com",
    );
    let uses = vec![
        // The data starts a quarter second past midnight.
        u(
            "2026-03-01T00:00:00.25Z",
            "x@contoso.com",
            "x",
            "192.0.2.1",
            Some(7018),
            "US",
        ),
        u(
            "2026-03-01T08:00:00Z",
            alice,
            "a-0",
            "192.0.2.10",
            Some(7018),
            "US",
        ),
        u(
            "2026-03-01T12:00:00Z",
            alice,
            "a-phone",
            "198.51.100.4",
            Some(21928),
            "US",
        ),
        // Alice's session: her phone network (known), then two foreign
        // networks from five addresses on another client, then a use past
        // the session's lifetime.
        u(
            "2026-03-03T09:00:00.1Z",
            alice,
            "a-1",
            "192.0.2.10",
            Some(7018),
            "US",
        ),
        u(
            "2026-03-03T09:10:00Z",
            alice,
            "a-1",
            "198.51.100.77",
            Some(21928),
            "US",
        ),
        Use {
            os: "Linux",
            ..u(
                "2026-03-03T09:20:00.3Z",
                alice,
                "a-1",
                "203.0.113.9",
                Some(14061),
                "NL",
            )
        },
        Use {
            os: "Linux",
            ..u(
                "2026-03-03T09:25:00Z",
                alice,
                "a-1",
                "203.0.113.10",
                Some(14061),
                "NL",
            )
        },
        u(
            "2026-03-03T09:30:00Z",
            alice,
            "a-1",
            "203.0.113.200",
            Some(64501),
            "DE",
        ),
        u(
            "2026-03-03T09:31:00Z",
            alice,
            "a-1",
            "203.0.113.201",
            Some(64501),
            "DE",
        ),
        u(
            "2026-03-03T09:32:00Z",
            alice,
            "a-1",
            "203.0.113.202",
            Some(64501),
            "DE",
        ),
        u(
            "2026-03-04T10:00:00Z",
            alice,
            "a-1",
            "203.0.113.99",
            Some(9999),
            "BR",
        ),
        // Bob, without ASNs.
        u("2026-03-01T09:00:00Z", bob, "b-0", "192.0.2.20", None, ""),
        // A token without a session id, first used on a registered
        // device, then two hours later from an IPv6 network on none:
        // nothing else changed, slowly.
        Use {
            token: "tok-1",
            device: "dev-t",
            ..u("2026-03-03T10:00:00Z", bob, "", "192.0.2.20", None, "")
        },
        Use {
            token: "tok-1",
            ..u("2026-03-03T12:00:00Z", bob, "", "2001:db8:5::1", None, "")
        },
        // The session's own device on another network.
        Use {
            device: "dev-9",
            ..u("2026-03-03T13:00:00Z", bob, "b-dev", "192.0.2.20", None, "")
        },
        Use {
            device: "dev-9",
            ..u("2026-03-03T13:30:00Z", bob, "b-dev", "100.64.0.5", None, "")
        },
        // A first sign-in with no address: the session says nothing.
        u("2026-03-03T14:00:00Z", bob, "b-x", "", None, ""),
        u("2026-03-03T14:10:00Z", bob, "b-x", "203.0.113.77", None, ""),
        // A /24 logged first without an ASN, then with one: one network,
        // so the second use is not judged.
        u(
            "2026-03-03T16:00:00Z",
            bob,
            "b-same",
            "198.51.100.60",
            None,
            "",
        ),
        u(
            "2026-03-03T16:20:00Z",
            bob,
            "b-same",
            "198.51.100.61",
            Some(64999),
            "",
        ),
        // Carol's /24, from a sign-in with no session at all.
        u(
            "2026-03-02T08:00:00Z",
            carol,
            "",
            "198.51.100.200",
            Some(3356),
            "US",
        ),
        u(
            "2026-03-03T08:00:00Z",
            carol,
            "c-1",
            "192.0.2.30",
            Some(7018),
            "US",
        ),
        u(
            "2026-03-03T08:30:00Z",
            carol,
            "c-1",
            "198.51.100.201",
            Some(3356),
            "GB",
        ),
        // Dave: a new network inside the baseline is learnt; after it, a
        // second use of it is not new, and a third network is.
        u(
            "2026-03-01T10:00:00Z",
            dave,
            "d-1",
            "192.0.2.40",
            Some(7018),
            "US",
        ),
        u(
            "2026-03-01T10:05:00Z",
            dave,
            "d-1",
            "203.0.113.5",
            Some(14061),
            "NL",
        ),
        u(
            "2026-03-02T01:00:00Z",
            dave,
            "d-1",
            "203.0.113.6",
            Some(14061),
            "NL",
        ),
        u(
            "2026-03-02T02:00:00Z",
            dave,
            "d-1",
            "198.51.100.7",
            Some(64502),
            "FR",
        ),
        // Erin's session used from a network the log gives without an
        // address or an operating system: an unknown address, and no
        // claim of another client.
        u(
            "2026-03-01T09:00:00Z",
            erin,
            "e-0",
            "192.0.2.50",
            Some(7018),
            "US",
        ),
        u(
            "2026-03-03T09:00:00Z",
            erin,
            "e-1",
            "192.0.2.50",
            Some(7018),
            "US",
        ),
        Use {
            os: "",
            ..u("2026-03-03T09:15:00Z", erin, "e-1", "", Some(14061), "NL")
        },
        // Frank's session opens at a hotel; the hotel's address logged
        // once without its ASN is the same network. From abroad, then
        // that /24 logged without the ASN: both count.
        u(
            "2026-03-01T09:30:00Z",
            frank,
            "f-0",
            "192.0.2.60",
            Some(7018),
            "US",
        ),
        u(
            "2026-03-03T09:00:00Z",
            frank,
            "f-1",
            "198.51.100.7",
            Some(64500),
            "US",
        ),
        u(
            "2026-03-03T09:10:00Z",
            frank,
            "f-1",
            "198.51.100.7",
            None,
            "US",
        ),
        u(
            "2026-03-03T09:15:00Z",
            frank,
            "f-1",
            "203.0.113.80",
            Some(14061),
            "NL",
        ),
        u(
            "2026-03-03T09:16:00Z",
            frank,
            "f-1",
            "203.0.113.81",
            None,
            "NL",
        ),
        // Gina's phone names no device. Her session moving from home to a
        // carrier in the same country on the same phone is her own.
        u(
            "2026-03-03T11:00:00Z",
            gina,
            "g-1",
            "192.0.2.70",
            Some(7018),
            "US",
        ),
        u(
            "2026-03-03T11:10:00Z",
            gina,
            "g-1",
            "198.51.100.90",
            Some(7922),
            "US",
        ),
        // Once a use of the session names a device, a later use naming
        // none from a new network is judged.
        u(
            "2026-03-03T12:00:00Z",
            gina,
            "g-2",
            "192.0.2.70",
            Some(7018),
            "US",
        ),
        Use {
            device: "g-laptop",
            ..u(
                "2026-03-03T12:05:00Z",
                gina,
                "g-2",
                "192.0.2.71",
                Some(7018),
                "US",
            )
        },
        u(
            "2026-03-03T15:00:00Z",
            gina,
            "g-2",
            "100.64.1.5",
            Some(7923),
            "US",
        ),
    ];
    let lines: Vec<String> = uses.iter().enumerate().map(|(n, x)| x.line(n)).collect();
    let (ds, report, sql) = analyze_and_write_sql(dir.path(), &lines);
    let kind = "token_replay";
    let want = full_findings(&report, kind);
    let seen = outline(&want);
    for expected in [
        ("alice@contoso.com's session from 192.0.2.10 (AS7018, US) was used 20 min later from 5 addresses (AS14061, AS64501, DE, NL) by another client", "high", 5, 5),
        ("bob@contoso.com's session from 192.0.2.20 (192.0.2.0/24) was used 2 h 0 min later from 2001:db8:5::1 (2001:db8:5:0::/64)", "medium", 1, 1),
        ("dave@contoso.com's session from 192.0.2.40 (AS7018, US) was used 16 h 0 min later from 198.51.100.7 (AS64502, FR)", "high", 1, 1),
        ("erin@contoso.com's session from 192.0.2.50 (AS7018, US) was used 15 min later from an unknown address (AS14061, NL)", "high", 1, 1),
        ("frank@contoso.com's session from 198.51.100.7 (AS64500, US) was used 15 min later from 203.0.113.80, 203.0.113.81 (203.0.113.0/24, AS14061, NL)", "high", 2, 2),
        ("gina@contoso.com's session from 192.0.2.70 (AS7018, US) was used 3 h 0 min later from 100.64.1.5 (AS7923, US)", "medium", 1, 1),
    ] {
        assert!(seen.contains(&expected), "analyze: {expected:?}\n{seen:#?}");
    }
    assert_eq!(want.len(), 6, "{seen:#?}");
    let alice_facts = facts_of(&want, alice);
    // 56 h 59 min 59.85 s after the data's start; 20 min less 0.2 s after
    // the session's first sign-in.
    assert_eq!(alice_facts["baseline_hours"], 56, "{alice_facts}");
    assert_eq!(alice_facts["minutes_after_first"], 20, "{alice_facts}");

    engines_find_the_same(test, dir.path(), &ds, &sql, kind, &want);
}

/// One Graph sign-in for the device_code_phishing test; `dc` gives the
/// defaults (a plain success).
struct Dc<'a> {
    t: &'a str,
    id: &'a str,
    user: &'a str,
    ip: &'a str,
    asn: Option<i64>,
    country: &'a str,
    device: &'a str,
    app: &'a str,
    code: i64,
    protocol: &'a str,
    transfer: &'a str,
    token: &'a str,
    resource: &'a str,
}

fn dc<'a>(
    t: &'a str,
    id: &'a str,
    user: &'a str,
    ip: &'a str,
    asn: Option<i64>,
    country: &'a str,
) -> Dc<'a> {
    Dc {
        t,
        id,
        user,
        ip,
        asn,
        country,
        device: "",
        app: "office",
        code: 0,
        protocol: "",
        transfer: "",
        token: "",
        resource: "Office 365 Exchange Online",
    }
}

impl Dc<'_> {
    fn line(&self) -> String {
        Graph {
            t: self.t,
            id: self.id,
            user: self.user,
            ip: self.ip,
            code: self.code,
            asn: self.asn,
            country: self.country,
        }
        .line(&format!(
            "\"appId\":\"{}\",\"appDisplayName\":\"app {}\",\"signInEventTypes\":[\"interactiveUser\"],\
             \"resourceDisplayName\":\"{}\",\"authenticationProtocol\":\"{}\",\
             \"originalTransferMethod\":\"{}\",\"incomingTokenType\":\"{}\",\
             \"deviceDetail\":{{\"deviceId\":\"{}\"}},",
            self.app,
            self.app,
            self.resource,
            self.protocol,
            self.transfer,
            self.token,
            self.device
        ))
    }
}

/// device_code_phishing in SQL, on DuckDB and (when installed) Spark,
/// gives analyze's findings field for field: a Broker code (its app id
/// in upper case) from a new ASN followed by a registration (the
/// resource in upper case) and a primary refresh token from the same
/// place, a registration after the follow-up stays out; a place is
/// familiar by address, by ASN and country (not by the ASN alone), by
/// device or by /24, and a failure teaches none; a success in the same
/// microsecond is not earlier; two codes in the same microsecond form one
/// finding whose first, in analyze's order, decides the sequel's place;
/// an IPv6 /64 and a missing address as labels; the baseline, a failed
/// code and an account with no earlier success stay quiet.
#[test]
fn device_code_phishing_sql_matches_analyze_field_for_field() {
    let test = "device_code_phishing_sql_matches_analyze_field_for_field";
    let Some(dir) = scratch(test) else {
        return;
    };
    let (alice, bob, carol, dave, erin) = (
        "alice@contoso.com",
        "bob@contoso.com",
        "carol@contoso.com",
        "dave@contoso.com",
        "erin@contoso.com",
    );
    let broker = "29D9ED98-A469-4536-ADE2-F981BC1D605E";
    let drs = "01cb2876-7ebd-4aa4-9cc9-d28bd4d359a9";
    let code = |s: Dc<'static>| Dc {
        protocol: "deviceCode",
        ..s
    };
    let signins = vec![
        // The data starts a quarter second past midnight.
        dc(
            "2026-03-01T00:00:00.25Z",
            "x-1",
            "x@contoso.com",
            "192.0.2.1",
            Some(7018),
            "US",
        ),
        // Alice: her office, a failure from the attacker's network, then
        // the Broker code from there, a registration and a primary
        // refresh token from the same place, and one too late.
        Dc {
            device: "a-laptop",
            ..dc(
                "2026-03-01T08:00:00Z",
                "a-1",
                alice,
                "192.0.2.10",
                Some(7018),
                "US",
            )
        },
        Dc {
            code: 50126,
            ..dc(
                "2026-03-01T09:00:00Z",
                "a-2",
                alice,
                "203.0.113.7",
                Some(9009),
                "NL",
            )
        },
        Dc {
            app: broker,
            ..code(dc(
                "2026-03-03T00:00:00.1Z",
                "a-3",
                alice,
                "203.0.113.7",
                Some(9009),
                "NL",
            ))
        },
        Dc {
            resource: "DEVICE REGISTRATION SERVICE",
            ..dc(
                "2026-03-03T00:30:00Z",
                "a-4",
                alice,
                "198.51.100.8",
                Some(9009),
                "NL",
            )
        },
        Dc {
            token: "primaryRefreshToken",
            ..dc(
                "2026-03-03T01:00:00Z",
                "a-5",
                alice,
                "203.0.113.7",
                Some(9009),
                "NL",
            )
        },
        Dc {
            app: drs,
            ..dc(
                "2026-03-03T02:31:00Z",
                "a-6",
                alice,
                "203.0.113.7",
                Some(9009),
                "NL",
            )
        },
        // Bob: his ASN from two other countries is not a place he knows;
        // a primary refresh token on the code's device follows, one from
        // his ASN in Germany does not count.
        dc(
            "2026-03-01T10:00:00Z",
            "b-1",
            bob,
            "192.0.2.20",
            Some(7018),
            "US",
        ),
        dc(
            "2026-03-02T10:00:00Z",
            "b-2",
            bob,
            "198.51.100.9",
            Some(7018),
            "DE",
        ),
        Dc {
            transfer: "deviceCodeFlow",
            device: "bob-new",
            ..dc(
                "2026-03-02T12:00:00Z",
                "b-3",
                bob,
                "203.0.113.77",
                Some(7018),
                "FR",
            )
        },
        Dc {
            token: "primaryRefreshToken",
            device: "bob-new",
            ..dc("2026-03-02T12:30:00Z", "b-4", bob, "100.64.0.5", None, "")
        },
        Dc {
            token: "primaryRefreshToken",
            ..dc(
                "2026-03-02T12:40:00Z",
                "b-5",
                bob,
                "100.64.1.5",
                Some(7018),
                "DE",
            )
        },
        // Carol knows each place her codes come from, one way each.
        Dc {
            device: "c-1",
            ..dc(
                "2026-03-01T08:00:00Z",
                "c-1",
                carol,
                "192.0.2.30",
                Some(7018),
                "US",
            )
        },
        dc(
            "2026-03-01T09:00:00Z",
            "c-2",
            carol,
            "198.51.100.30",
            None,
            "",
        ),
        code(dc(
            "2026-03-02T10:00:00Z",
            "c-3",
            carol,
            "192.0.2.30",
            Some(64500),
            "NL",
        )),
        code(dc(
            "2026-03-02T11:00:00Z",
            "c-4",
            carol,
            "203.0.113.130",
            Some(7018),
            "US",
        )),
        Dc {
            device: "c-1",
            ..code(dc(
                "2026-03-02T12:00:00Z",
                "c-5",
                carol,
                "2001:db8:c::1",
                None,
                "",
            ))
        },
        code(dc(
            "2026-03-02T13:00:00Z",
            "c-6",
            carol,
            "198.51.100.31",
            None,
            "",
        )),
        // Dave: two codes and a success from the same ASN in one
        // microsecond; the first code (by request id) is on dev-a, so
        // dev-b's registration is not its sequel and dev-a's token is.
        dc(
            "2026-03-01T08:00:00Z",
            "d-0",
            dave,
            "192.0.2.40",
            Some(7018),
            "US",
        ),
        dc(
            "2026-03-03T05:00:00Z",
            "d-1",
            dave,
            "198.51.100.70",
            Some(64501),
            "GB",
        ),
        Dc {
            device: "dev-b",
            ..code(dc(
                "2026-03-03T05:00:00Z",
                "d-3",
                dave,
                "198.51.100.71",
                Some(64501),
                "GB",
            ))
        },
        Dc {
            device: "dev-a",
            ..code(dc(
                "2026-03-03T05:00:00Z",
                "d-2",
                dave,
                "198.51.100.72",
                Some(64501),
                "GB",
            ))
        },
        Dc {
            app: drs,
            device: "dev-b",
            ..dc(
                "2026-03-03T05:30:00Z",
                "d-4",
                dave,
                "203.0.113.200",
                None,
                "",
            )
        },
        Dc {
            token: "primaryRefreshToken",
            device: "dev-a",
            ..dc(
                "2026-03-03T06:00:00Z",
                "d-5",
                dave,
                "203.0.113.201",
                None,
                "",
            )
        },
        // Erin: an IPv6 /64, and two codes with no address from two
        // countries, which share the empty label.
        dc(
            "2026-03-01T08:00:00Z",
            "e-1",
            erin,
            "192.0.2.50",
            Some(7018),
            "US",
        ),
        code(dc(
            "2026-03-02T08:00:00Z",
            "e-2",
            erin,
            "2001:db8:e:1::5",
            None,
            "",
        )),
        code(dc("2026-03-02T09:00:00Z", "e-3", erin, "", None, "DE")),
        code(dc("2026-03-02T10:00:00Z", "e-4", erin, "", None, "NL")),
        // Quiet: a code inside the baseline, one with nothing before it,
        // a failed one.
        dc(
            "2026-03-01T08:00:00Z",
            "f-1",
            "fred@contoso.com",
            "192.0.2.60",
            Some(7018),
            "US",
        ),
        code(dc(
            "2026-03-01T12:00:00Z",
            "f-2",
            "fred@contoso.com",
            "203.0.113.60",
            Some(9009),
            "NL",
        )),
        code(dc(
            "2026-03-02T12:00:00Z",
            "g-1",
            "gina@contoso.com",
            "203.0.113.61",
            Some(9009),
            "NL",
        )),
        Dc {
            code: 50126,
            ..code(dc(
                "2026-03-02T12:00:00Z",
                "f-3",
                "fred@contoso.com",
                "203.0.113.62",
                Some(9010),
                "NL",
            ))
        },
    ];
    let lines: Vec<String> = signins.iter().map(Dc::line).collect();
    let (ds, report, sql) = analyze_and_write_sql(dir.path(), &lines);
    let kind = "device_code_phishing";
    let want = full_findings(&report, kind);
    let seen = outline(&want);
    for expected in [
        ("alice@contoso.com completed a device-code sign-in from 203.0.113.0/24 (NL), where the account does not sign in, to the Microsoft Authentication Broker; a device was registered from there next", "critical", 1, 3),
        ("bob@contoso.com completed a device-code sign-in from 203.0.113.0/24 (FR), where the account does not sign in; a primary refresh token was used from there next", "critical", 1, 2),
        ("dave@contoso.com completed a device-code sign-in from 198.51.100.0/24 (GB), where the account does not sign in; a primary refresh token was used from there next", "critical", 2, 3),
        ("erin@contoso.com completed a device-code sign-in from 2001:db8:e:1::/64, where the account does not sign in", "high", 1, 1),
        ("erin@contoso.com completed a device-code sign-in from an unknown address (DE, NL), where the account does not sign in", "high", 2, 2),
    ] {
        assert!(seen.contains(&expected), "analyze: {expected:?}\n{seen:#?}");
    }
    assert_eq!(want.len(), 5, "{seen:#?}");
    let alice_facts = facts_of(&want, alice);
    // 47 h 59 min 59.85 s after the data's start; the failure is not an
    // earlier success.
    assert_eq!(alice_facts["baseline_hours"], 47, "{alice_facts}");
    assert_eq!(alice_facts["earlier_successes"], 1, "{alice_facts}");
    assert_eq!(alice_facts["primary_refresh_token"], true, "{alice_facts}");

    engines_find_the_same(test, dir.path(), &ds, &sql, kind, &want);
}

/// Builds the Graph sign-ins of the low_and_slow_spray test, request ids
/// in order.
#[derive(Default)]
struct Slow {
    lines: Vec<String>,
}

impl Slow {
    /// A sign-in on March `day` at `sec` seconds past midnight (`at`);
    /// `code` 0 is a success.
    fn add(
        &mut self,
        (day, sec): (u32, u32),
        user: &str,
        ip: &str,
        code: i64,
        asn: Option<i64>,
        ua: &str,
    ) {
        let t = format!(
            "2026-03-{day:02}T{:02}:{:02}:{:02}Z",
            sec / 3600,
            sec % 3600 / 60,
            sec % 60
        );
        let id = format!("r{:04}", self.lines.len());
        let core = Graph {
            t: &t,
            id: &id,
            user,
            ip,
            code,
            asn,
            country: "US",
        };
        self.lines.push(core.line(&format!(
            "\"appId\":\"office\",\"appDisplayName\":\"Office\",\"signInEventTypes\":[\"interactiveUser\"],\
             \"userAgent\":\"{ua}\","
        )));
    }
}

/// low_and_slow_spray in SQL, on DuckDB and (when installed) Spark,
/// gives analyze's findings field for field: a spray told once under its
/// ASN (its user agent ties and its /24 is narrower), high when a
/// targeted password later works from another of its addresses; one
/// user agent's two windows nine days apart, two attempts by one account
/// in a day; a /24 reported beside a user agent that shares less than
/// half its failures, and one left out for sharing exactly half. Quiet:
/// typos (a success from the address exactly the typo time later; a
/// second later is none), ten accounts exactly an hour apart, the
/// tenant's egress (exactly as many accounts in as failed) and a single
/// day. Each of those four boundaries, moved by one in the SQL, adds a
/// finding here.
#[test]
fn low_and_slow_spray_sql_matches_analyze_field_for_field() {
    let test = "low_and_slow_spray_sql_matches_analyze_field_for_field";
    let Some(dir) = scratch(test) else {
        return;
    };
    let mut s = Slow::default();
    let user = |p: &str, k: u32| format!("{p}{k:02}@contoso.com");
    s.add((1, 0), "x@contoso.com", "203.0.113.1", 0, Some(7018), "");
    // AS64500 with one user agent; ten of its accounts from one /24.
    for d in 2..=4 {
        for k in 0..12 {
            let ip = if k < 10 {
                format!("198.51.100.{}", 10 + k + d * 20)
            } else {
                format!("198.51.101.{}", k + d * 20)
            };
            s.add(
                (d, 3600 + k * 420),
                &user("a", k),
                &ip,
                50126,
                Some(64500),
                "python-requests/2.31",
            );
        }
    }
    s.add(
        (5, 9 * 3600),
        &user("a", 3),
        "198.51.101.50",
        0,
        Some(64500),
        "",
    );
    // One user agent, two windows; f00 twice on its first day.
    for d in [2, 3, 11, 12] {
        for k in 0..10 {
            s.add(
                (d, 10 * 3600 + k * 420),
                &user("f", k),
                &format!("100.64.{k}.{d}"),
                50126,
                None,
                "agent-x",
            );
        }
    }
    s.add(
        (2, 23 * 3600),
        &user("f", 0),
        "100.64.0.99",
        50126,
        None,
        "agent-x",
    );
    // b00's failures are typos; b01's success comes a second too late.
    for d in 2..=3 {
        for k in 0..10 {
            let (t, ip) = (12 * 3600 + k * 420, format!("100.65.{k}.{d}"));
            s.add((d, t), &user("b", k), &ip, 50126, None, "curl/8.0");
            if k < 2 {
                s.add((d, t + 3600 + k), &user("b", k), &ip, 0, None, "");
            }
        }
    }
    // Ten accounts, the first and last exactly an hour apart.
    for d in 2..=3 {
        for k in 0..10 {
            let step = if d == 2 { 400 } else { 420 };
            s.add(
                (d, 14 * 3600 + k * step),
                &user("d", k),
                &format!("100.66.{k}.{d}"),
                50126,
                None,
                "Go-http-client/1.1",
            );
        }
    }
    // The tenant's egress: ten accounts failed, ten others got in.
    for d in 2..=3 {
        for k in 0..10 {
            s.add(
                (d, 16 * 3600 + k * 420),
                &user("c", k),
                &format!("192.0.2.{}", 10 + k),
                50126,
                None,
                "",
            );
        }
    }
    for k in 0..10 {
        s.add(
            (4, 8 * 3600 + k * 60),
            &user("s", k),
            "192.0.2.200",
            0,
            None,
            "",
        );
    }
    // One day only.
    for k in 0..12 {
        s.add(
            (2, 1800 + k * 3000),
            &user("e", k),
            &format!("100.67.{k}.1"),
            50126,
            None,
            "single/1.0",
        );
    }
    // A /24 whose first four failures also carry a user agent sprayed
    // elsewhere: both are told.
    for d in 2..=3 {
        for k in 0..10 {
            let ua = if d == 2 && k < 4 { "ua-z" } else { "" };
            s.add(
                (d, 18 * 3600 + k * 420),
                &user("g", k),
                &format!("198.51.102.{}", 10 + k),
                50126,
                None,
                ua,
            );
        }
        for k in 0..10 {
            s.add(
                (d, 20 * 3600 + k * 420),
                &user("h", k),
                &format!("100.68.{k}.{d}"),
                50126,
                None,
                "ua-z",
            );
        }
    }
    // A /24 half of whose failures carry a user agent sprayed more
    // widely: told under the user agent only.
    for d in 2..=3 {
        for k in 0..10 {
            let ua = if d == 2 { "ua-y" } else { "" };
            s.add(
                (d, 21 * 3600 + k * 420),
                &user("i", k),
                &format!("198.51.103.{}", 10 + k),
                50126,
                None,
                ua,
            );
            s.add(
                (d, 2 * 3600 + k * 420),
                &user("j", k),
                &format!("100.69.{k}.{d}"),
                50126,
                None,
                "ua-y",
            );
        }
    }
    let (ds, report, sql) = analyze_and_write_sql(dir.path(), &s.lines);
    let kind = "low_and_slow_spray";
    // window_seconds is not in the engine results (render writes 0).
    let want: BTreeMap<String, serde_json::Value> = full_findings(&report, kind)
        .into_iter()
        .map(|(id, mut f)| {
            f["window_seconds"] = serde_json::json!(0);
            (id, f)
        })
        .collect();
    let seen = outline(&want);
    for expected in [
        ("Slow password spray from network AS64500: 12 accounts over 3 days from 36 addresses, at most 1 attempt per account per day; the password of a03@contoso.com worked", "high", 36, 5),
        ("Slow password spray from one client fingerprint: 10 accounts over 2 days from 21 addresses, at most 2 attempts per account per day", "medium", 21, 5),
        ("Slow password spray from one client fingerprint: 10 accounts over 2 days from 20 addresses, at most 1 attempt per account per day", "medium", 20, 5),
        ("Slow password spray from one client fingerprint: 14 accounts over 2 days from 24 addresses, at most 1 attempt per account per day", "medium", 24, 5),
        ("Slow password spray from network 198.51.102.0/24: 10 accounts over 2 days from 10 addresses, at most 1 attempt per account per day", "medium", 20, 5),
        ("Slow password spray from one client fingerprint: 20 accounts over 2 days from 30 addresses, at most 1 attempt per account per day", "medium", 30, 5),
    ] {
        assert!(seen.contains(&expected), "analyze: {expected:?}\n{seen:#?}");
    }
    assert_eq!(want.len(), 6, "{seen:#?}");
    let peaks: Vec<&serde_json::Value> = want
        .values()
        .map(|f| &f["evidence"]["facts"]["peak_accounts_in_an_hour"])
        .collect();
    assert!(peaks.iter().all(|p| **p == 9), "{peaks:?}");

    engines_find_the_same(test, dir.path(), &ds, &sql, kind, &want);
}

/// impossible_travel in SQL finds what analyze finds when network hubs are
/// in play: remote workers who sign in from home and through a gateway
/// placed in two far cities (no finding), an office (its people live
/// there), and takeovers seen through the gateway, from the office and
/// from an account only ever seen at hubs.
#[test]
fn impossible_travel_sql_places_hub_sign_ins_as_analyze_does() {
    let test = "impossible_travel_sql_places_hub_sign_ins_as_analyze_does";
    let Some(dir) = scratch(test) else {
        return;
    };
    let mut lines = Vec::new();
    let mut add = |day: u32,
                   sec: u32,
                   user: &str,
                   ip: &str,
                   asn: i64,
                   city: &str,
                   at: (f64, f64)| {
        let (h, m, s) = (sec / 3600, sec / 60 % 60, sec % 60);
        let country = match city {
            "Moscow" => "RU",
            "Frankfurt" => "DE",
            _ => "US",
        };
        lines.push(format!(
            "{{\"createdDateTime\":\"2026-03-{:02}T{h:02}:{m:02}:{s:02}Z\",\"id\":\"{}\",\
             \"userPrincipalName\":\"{user}\",\"appDisplayName\":\"Office 365 Exchange Online\",\
             \"signInEventTypes\":[\"interactiveUser\"],\"ipAddress\":\"{ip}\",\"status\":{{\"errorCode\":0}},\
             \"autonomousSystemNumber\":{asn},\"location\":{{\"city\":\"{city}\",\"countryOrRegion\":\"{country}\",\
             \"geoCoordinates\":{{\"latitude\":{},\"longitude\":{}}}}}}}",
            day + 2,
            lines.len() + 1,
            at.0,
            at.1
        ));
    };
    let (seattle, dallas, ashburn, moscow) = (
        (47.61, -122.33),
        (32.78, -96.8),
        (39.04, -77.49),
        (55.75, 37.62),
    );
    for n in 0..6u32 {
        let (g, o) = (
            format!("remote{n}@contoso.com"),
            format!("office{n}@contoso.com"),
        );
        for day in 0..2 {
            let t = 9 * 3600 + n * 60;
            add(day, t, &g, &format!("73.1.{n}.1"), 7922, "Seattle", seattle);
            add(day, t + 1800, &g, "165.225.0.20", 53813, "Dallas", dallas);
            add(day, t + 2400, &g, "165.225.9.20", 53813, "Ashburn", ashburn);
            add(day, t, &o, &format!("73.2.{n}.1"), 7922, "Seattle", seattle);
            add(
                day,
                t + 1800,
                &o,
                "198.18.0.10",
                3356,
                "Seattle",
                (47.6, -122.3),
            );
        }
    }
    for day in 0..2 {
        add(
            day,
            10 * 3600,
            "gw-only@contoso.com",
            "165.225.0.20",
            53813,
            "Dallas",
            dallas,
        );
        add(
            day,
            10 * 3600 + 600,
            "gw-only@contoso.com",
            "165.225.9.20",
            53813,
            "Ashburn",
            ashburn,
        );
    }
    // Half an hour after the gateway, in the same country: no trip for an
    // account seen only at hubs.
    add(
        0,
        10 * 3600 + 2400,
        "gw-only@contoso.com",
        "73.9.9.9",
        7922,
        "Boston",
        (42.36, -71.06),
    );
    let bad = "203.0.113.9";
    add(
        1,
        10 * 3600,
        "remote0@contoso.com",
        bad,
        12389,
        "Moscow",
        moscow,
    );
    add(
        1,
        9 * 3600 + 60 + 3000,
        "office1@contoso.com",
        bad,
        12389,
        "Moscow",
        moscow,
    );
    add(
        1,
        10 * 3600 + 1800,
        "gw-only@contoso.com",
        bad,
        12389,
        "Moscow",
        moscow,
    );
    // The owner's devices, at home and then through a VPN abroad, which
    // the verdict reads from the finding: one laptop at both ends; a
    // managed phone at home and a managed laptop abroad.
    for (user, home) in [("laptop", "24.16.0.1"), ("pair", "24.16.0.2")] {
        for day in 0..2 {
            let t = 8 * 3600;
            let user = format!("{user}@contoso.com");
            add(day, t, &user, home, 20115, "Kirkland", (47.68, -122.21));
            add(
                day,
                t + 1200 * (day + 1),
                &user,
                "91.64.10.20",
                3209,
                "Frankfurt",
                (50.11, 8.68),
            );
        }
    }
    // The owner's own phone at home every day, and on the second day a
    // managed laptop through a VPN abroad, new to the account: the home
    // spot and phone were the account's on an earlier day.
    for day in 0..2 {
        let t = 8 * 3600;
        let user = "byod@contoso.com";
        add(
            day,
            t,
            user,
            "24.16.0.3",
            20115,
            "Kirkland",
            (47.68, -122.21),
        );
    }
    add(
        1,
        8 * 3600 + 1500,
        "byod@contoso.com",
        "91.64.10.21",
        3209,
        "Frankfurt",
        (50.11, 8.68),
    );
    // The same on the first day of the data, which has no earlier day:
    // the phone at home on every day vouches for home. (Networks of its
    // own, so its home spot takes no part in the others' hub vote.)
    for day in 0..3 {
        add(
            day,
            8 * 3600,
            "first@contoso.com",
            "73.20.0.4",
            7922,
            "Kirkland",
            (47.68, -122.21),
        );
    }
    add(
        0,
        8 * 3600 + 1500,
        "first@contoso.com",
        "185.10.10.4",
        9009,
        "Frankfurt",
        (50.11, 8.68),
    );
    let lines: Vec<String> = lines
        .into_iter()
        .map(|l| {
            let device = if l.contains("first@contoso.com") && l.contains("Kirkland") {
                "\"deviceId\":\"dev-first-phone\""
            } else if l.contains("first@contoso.com") {
                "\"deviceId\":\"dev-first-laptop\",\"isManaged\":true"
            } else if l.contains("byod@contoso.com") && l.contains("Kirkland") {
                "\"deviceId\":\"dev-own-phone\""
            } else if l.contains("byod@contoso.com") {
                "\"deviceId\":\"dev-vpn-laptop\",\"isManaged\":true"
            } else if l.contains("laptop@contoso.com") {
                "\"deviceId\":\"dev-laptop\""
            } else if l.contains("pair@contoso.com") && l.contains("Kirkland") {
                "\"deviceId\":\"dev-phone\",\"isCompliant\":true"
            } else if l.contains("pair@contoso.com") {
                "\"deviceId\":\"dev-pair\",\"isManaged\":true"
            } else {
                return l;
            };
            l.replacen('{', &format!("{{\"deviceDetail\":{{{device}}},"), 1)
        })
        .collect();
    let (ds, report, sql) = analyze_and_write_sql(dir.path(), &lines);
    let kind = "impossible_travel";
    let rust: BTreeMap<_, _> = rust_findings(&report)
        .into_iter()
        .filter(|(_, (k, _))| k == kind)
        .collect();
    let users: Vec<String> = full_findings(&report, kind)
        .values()
        .map(|f| f["users"][0].as_str().unwrap().to_string())
        .collect();
    let mut users = users;
    users.sort();
    assert_eq!(
        users,
        [
            "byod@contoso.com",
            "first@contoso.com",
            "gw-only@contoso.com",
            "laptop@contoso.com",
            "office1@contoso.com",
            "pair@contoso.com",
            "remote0@contoso.com"
        ]
    );
    let want = verdicts(&report);
    assert_eq!(want["laptop@contoso.com"], "suspicious", "{want:?}");
    assert_eq!(want["pair@contoso.com"], "suspicious", "{want:?}");
    assert_eq!(want["byod@contoso.com"], "suspicious", "{want:?}");
    assert_eq!(want["first@contoso.com"], "suspicious", "{want:?}");
    assert_eq!(want["remote0@contoso.com"], "compromised", "{want:?}");
    // The verdicts of a report rendered from engine results are those of
    // analyze: the facts they read come out of the SQL too.
    for (engine, rendered) in render_on_engines(test, dir.path(), &ds, &sql, kind) {
        assert_eq!(rust_findings(&rendered), rust, "{engine}");
        assert_eq!(verdicts(&rendered), want, "{engine}");
    }
    let one = dir.path().join("sql-one");
    let from_sql = sql_findings(&duckdb(&ds, "--files", one.to_str().unwrap()));
    assert_eq!(from_sql, rust);
}

/// The `succeeded_users` fact of each `kind` finding, sorted.
fn succeeded_lists(report: &Path, kind: &str) -> Vec<Vec<String>> {
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("findings.json")).unwrap())
            .unwrap();
    let mut lists: Vec<Vec<String>> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == kind)
        .map(|f| {
            let fact = f["evidence"]["facts"]
                .as_array()
                .unwrap()
                .iter()
                .find(|kv| kv[0] == "succeeded_users")
                .unwrap_or_else(|| panic!("no succeeded_users: {f}"));
            serde_json::from_value(fact[1].clone()).unwrap()
        })
        .collect();
    lists.sort();
    lists
}

/// hosting_provider_sign_in in SQL, on DuckDB and (when installed) Spark,
/// gives analyze's findings field for field: a cloud PC whose every
/// success carries a compliant or managed device is low and says so; a
/// rented server (no device, or one success without) keeps its severity;
/// a network used inside the baseline is quiet. A report rendered from the
/// engine results gives the same accounts to act on as analyze.
#[test]
fn hosting_provider_sign_in_sql_matches_analyze_field_for_field() {
    let test = "hosting_provider_sign_in_sql_matches_analyze_field_for_field";
    let Some(dir) = scratch(test) else {
        return;
    };
    let mut lines = Vec::new();
    let mut add = |t: &str, user: &str, ip: &str, asn: i64, device: &str| {
        let n = lines.len() + 1;
        lines.push(format!(
            "{{\"createdDateTime\":\"2026-03-{t}Z\",\"id\":\"h-{n}\",\"userPrincipalName\":\"{user}\",\
             \"appDisplayName\":\"Office 365 Exchange Online\",\"signInEventTypes\":[\"interactiveUser\"],\
             \"ipAddress\":\"{ip}\",\"status\":{{\"errorCode\":0}},\"autonomousSystemNumber\":{asn},\
             \"deviceDetail\":{{{device}}},\"location\":{{\"countryOrRegion\":\"US\"}}}}"
        ));
    };
    let (compliant, joined, none) = (
        "\"deviceId\":\"cpc-1\",\"isCompliant\":true,\"isManaged\":true",
        "\"deviceId\":\"avd-7\",\"isCompliant\":false,\"isManaged\":true",
        "\"deviceId\":\"\"",
    );
    for user in ["carol", "dan", "erin", "vpn"] {
        add(
            "01T08:00:00",
            &format!("{user}@contoso.com"),
            "192.0.2.10",
            7018,
            none,
        );
    }
    // The company VPN at a hosting provider, used from the first hour.
    add("01T09:00:00", "vpn@contoso.com", "198.51.100.7", 9009, none);
    add("04T09:00:00", "vpn@contoso.com", "198.51.100.7", 9009, none);
    // Carol's cloud PC, compliant and then joined only.
    add(
        "03T08:00:00",
        "carol@contoso.com",
        "20.42.7.9",
        8075,
        compliant,
    );
    add(
        "03T09:30:00",
        "carol@contoso.com",
        "20.42.7.9",
        8075,
        joined,
    );
    // Dan: a virtual desktop, then a rented server in the same cloud.
    add("03T10:00:00", "dan@contoso.com", "20.42.8.1", 8075, joined);
    add("03T10:05:00", "dan@contoso.com", "20.42.9.1", 8075, none);
    // Erin from DigitalOcean, no device.
    add(
        "04T02:00:00",
        "erin@contoso.com",
        "203.0.113.40",
        14061,
        none,
    );
    let (ds, report, sql) = analyze_and_write_sql(dir.path(), &lines);
    let kind = "hosting_provider_sign_in";
    let want = full_findings(&report, kind);
    let mut seen: Vec<(String, String)> = want
        .values()
        .map(|f| {
            (
                f["users"][0].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("carol@contoso.com".to_string(), "low".to_string()),
            ("dan@contoso.com".to_string(), "medium".to_string()),
            ("erin@contoso.com".to_string(), "medium".to_string()),
        ],
        "{:#?}",
        outline(&want)
    );
    assert_eq!(facts_of(&want, "carol@contoso.com")["managed_device"], true);
    assert_eq!(facts_of(&want, "dan@contoso.com")["managed_device"], false);
    engines_find_the_same(test, dir.path(), &ds, &sql, kind, &want);
    let listed = verdicts(&report);
    let want: BTreeMap<String, String> = [("dan", "suspicious"), ("erin", "suspicious")]
        .map(|(u, v)| (format!("{u}@contoso.com"), v.to_string()))
        .into();
    assert_eq!(listed, want);
    assert_eq!(verdicts(&dir.path().join("report-duckdb")), listed);
}

/// suspicious_user_agent's routine rule in SQL, on DuckDB and (when
/// installed) Spark, gives analyze's findings: a script run as one account
/// from its host every day from the data's first hour is low and says it
/// is routine; one that starts on day three, and one whose host also
/// fails as another account, keep their severity. A report rendered from
/// the engine results lists the same accounts as analyze.
#[test]
fn suspicious_user_agent_sql_knows_a_routine_script() {
    let test = "suspicious_user_agent_sql_knows_a_routine_script";
    let Some(dir) = scratch(test) else {
        return;
    };
    let mut lines = Vec::new();
    let mut add = |day: u32, hour: u32, user: &str, ip: &str, code: i64| {
        let n = lines.len() + 1;
        lines.push(format!(
            "{{\"createdDateTime\":\"2026-03-{day:02}T{hour:02}:00:00Z\",\"id\":\"ua-{n}\",\
             \"userPrincipalName\":\"{user}@contoso.com\",\"appDisplayName\":\"Microsoft Graph\",\
             \"signInEventTypes\":[\"interactiveUser\"],\"userAgent\":\"python-requests/2.31.0\",\
             \"ipAddress\":\"{ip}\",\"status\":{{\"errorCode\":{code}}},\"autonomousSystemNumber\":7018,\
             \"location\":{{\"countryOrRegion\":\"US\"}}}}"
        ));
    };
    for day in 1..=5 {
        add(day, 1, "svc", "198.51.100.20", 0);
        add(day, 2, "ops", "198.51.100.30", 0);
        if day >= 3 {
            add(day, 3, "ann", "203.0.113.50", 0);
        }
    }
    add(4, 5, "bob", "198.51.100.30", 50126);
    let (ds, report, sql) = analyze_and_write_sql(dir.path(), &lines);
    let kind = "suspicious_user_agent";
    // id -> severity, title and the routine fact.
    let read = |report: &Path| -> BTreeMap<String, (String, String, serde_json::Value)> {
        full_findings(report, kind)
            .into_iter()
            .map(|(id, f)| {
                let v = (
                    f["severity"].as_str().unwrap().to_string(),
                    f["title"].as_str().unwrap().to_string(),
                    f["evidence"]["facts"]["routine"].clone(),
                );
                (id, v)
            })
            .collect()
    };
    let want = read(&report);
    let mut seen: Vec<(&str, bool)> = want
        .values()
        .map(|(sev, _, routine)| (sev.as_str(), *routine == true))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [("high", false), ("high", false), ("low", true)],
        "{want:#?}"
    );
    assert!(want.values().any(|(_, title, _)| title
        .starts_with("python-requests against svc@contoso.com")
        && title.ends_with(", routine since the data begins")));
    let listed = verdicts(&report);
    assert!(!listed.contains_key("svc@contoso.com"), "{listed:?}");
    assert_eq!(listed["ann@contoso.com"], "suspicious", "{listed:?}");
    for (engine, rendered) in render_on_engines(test, dir.path(), &ds, &sql, kind) {
        assert_eq!(read(&rendered), want, "{engine}");
        // The finding that names two accounts says which one succeeded,
        // so the verdicts are analyze's, ops's and bob's included.
        assert_eq!(verdicts(&rendered), listed, "{engine}");
        assert_eq!(
            succeeded_lists(&rendered, kind),
            succeeded_lists(&report, kind),
            "{engine}"
        );
    }
    assert!(succeeded_lists(&report, kind).contains(&vec!["ops@contoso.com".to_string()]));
}
