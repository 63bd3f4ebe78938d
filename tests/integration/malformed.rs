//! Broken input: each case gives a clear reason naming the input and the
//! position, never a panic, and the rest of the batch is still read.

use entrasift::commands::load;
use entrasift::ingest::InputReport;
use std::io::Write;
use std::path::Path;

const GOOD_JSONL: &str = r#"{"createdDateTime":"2026-03-02T10:00:00Z","id":"r-good","userPrincipalName":"a@contoso.com","ipAddress":"198.51.100.1","status":{"errorCode":50126,"failureReason":"Invalid username or password."}}"#;

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

#[test]
fn malformed_files_are_reported_and_the_batch_continues() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    write(p, "good.jsonl", GOOD_JSONL.as_bytes());
    write(p, "truncated.json", format!("[{GOOD_JSONL},\n{{\"createdDateTime\":\"2026-03-02T10:00:01Z\",\"status\":{{\"errorCode\":0").as_bytes());
    let mut bad_utf8 = b"Date (UTC),Request ID,Username,Sign-in error code\n2026-03-02T10:00:00Z,r1,\xff\xfe@contoso.com,50126\n".to_vec();
    bad_utf8.extend_from_slice(b"2026-03-02T10:00:05Z,r2,b@contoso.com,notacode\n");
    write(p, "InteractiveSignIns_bad_utf8.csv", &bad_utf8);
    write(
        p,
        "InteractiveSignIns_missing.csv",
        b"Date (UTC),Request ID,Username\n2026-03-02T10:00:00Z,r1,a@b.c\n",
    );
    write(p, "InteractiveSignIns_semicolon.csv", b"Date (UTC);Request ID;Username;Sign-in error code\n2026-03-02T10:00:00Z;r9;c@contoso.com;50053\n");
    write(p, "empty.json", b"");
    write(
        p,
        "binary.bin",
        b"\x7fELF\x02\x01\x01\x00\x00\x00\x00binary",
    );
    write(p, "bad_dates.jsonl", b"{\"createdDateTime\":\"0000-13-45T99:00:00Z\",\"status\":{\"errorCode\":0}}\n{\"createdDateTime\":\"2026-03-02T10:00:00Z\",\"status\":{\"errorCode\":\"x\"}}\n");
    let deep = format!(
        "[{{\"createdDateTime\":{}{}}}]",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    write(p, "deep.json", deep.as_bytes());
    // A zip with a member trying to escape, and a truncated gzip.
    let zf = std::fs::File::create(p.join("evil.zip")).unwrap();
    let mut z = zip::ZipWriter::new(zf);
    z.start_file("../x.jsonl", zip::write::SimpleFileOptions::default())
        .unwrap();
    z.write_all(GOOD_JSONL.replace("r-good", "r-zip").as_bytes())
        .unwrap();
    z.finish().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    for i in 0..3000 {
        let id = if i == 0 {
            "r-gz".to_string()
        } else {
            format!("r-gz-{i}-{}", i * 7919 % 10007)
        };
        writeln!(
            gz,
            "{}",
            GOOD_JSONL
                .replace("r-good", &id)
                .replace("198.51.100.1", &format!("198.51.{}.{}", i % 200, i % 250))
        )
        .unwrap();
    }
    let gzb = gz.finish().unwrap();
    write(p, "cut.jsonl.gz", &gzb[..gzb.len() / 2]);

    let loaded = load(&[p.to_path_buf()], true);
    let by = |name: &str| {
        loaded
            .inputs
            .iter()
            .find(|i| i.path.ends_with(name))
            .unwrap_or_else(|| panic!("{name} missing"))
    };
    assert_eq!(by("good.jsonl").parsed, 1);
    let t = by("truncated.json");
    assert_eq!((t.parsed, t.rejected), (1, 1));
    assert!(t.problems[0].reason.contains("truncated"), "{t:?}");
    assert!(t.problems[0].location.contains("line 2"), "{t:?}");
    let u = by("InteractiveSignIns_bad_utf8.csv");
    assert_eq!((u.parsed, u.rejected), (1, 1), "{u:?}");
    assert!(u.notes.iter().any(|n| n.contains("invalid UTF-8")));
    assert!(u.problems[0].location.contains("row 2"), "{u:?}");
    assert!(by("InteractiveSignIns_missing.csv")
        .error
        .as_deref()
        .unwrap()
        .contains("Sign-in error code"));
    let s = by("InteractiveSignIns_semicolon.csv");
    assert_eq!(s.parsed, 1, "{s:?}");
    assert!(s.notes.iter().any(|n| n.contains("delimiter")));
    let e = by("empty.json");
    assert!(e.error.is_none() && e.records_read == 0);
    assert!(by("binary.bin")
        .error
        .as_deref()
        .unwrap()
        .contains("binary"));
    let bd = by("bad_dates.jsonl");
    assert_eq!(bd.rejected, 2);
    let deep = by("deep.json");
    assert_eq!(deep.rejected, 1);
    let zipped = loaded
        .inputs
        .iter()
        .find(|i| i.path.contains("evil.zip!"))
        .unwrap();
    assert_eq!(zipped.parsed, 1);
    assert!(zipped.notes.iter().any(|n| n.contains("path escape")));
    assert!(!p.parent().unwrap().join("x.jsonl").exists());
    let cut = by("cut.jsonl.gz");
    assert!(cut.error.is_some(), "{cut:?}");
    assert!(cut.parsed > 0, "{cut:?}");
    // Everything readable was kept.
    let ids: Vec<&str> = loaded
        .records
        .iter()
        .map(|r| r.request_id.as_str())
        .collect();
    for want in ["r-good", "r1", "r9", "r-zip", "r-gz"] {
        assert!(ids.contains(&want), "{want} in {ids:?}");
    }
}

#[test]
fn missing_paths_are_accounted_not_fatal() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "good.jsonl", GOOD_JSONL.as_bytes());
    let loaded = load(
        &[d.path().join("nope.csv"), d.path().join("good.jsonl")],
        true,
    );
    assert_eq!(loaded.records.len(), 1);
    assert!(loaded
        .inputs
        .iter()
        .any(|i| i.error.as_deref() == Some("no such file or folder")));
    assert!(loaded.partial());
}

/// Reads one file and returns its accounting.
fn read_one(dir: &Path, name: &str, bytes: &[u8]) -> InputReport {
    write(dir, name, bytes);
    let mut loaded = load(&[dir.join(name)], true);
    assert_eq!(loaded.inputs.len(), 1, "{:?}", loaded.inputs);
    let r = loaded.inputs.remove(0);
    assert_eq!(
        r.records_read,
        r.parsed + r.rejected + r.skipped,
        "accounting of {name}: {r:?}"
    );
    r
}

fn graph_line(id: &str, time: &str, code: &str) -> String {
    format!(
        r#"{{"createdDateTime":"{time}","id":"{id}","userPrincipalName":"a@contoso.com","ipAddress":"198.51.100.1","status":{{"errorCode":{code}}}}}"#
    )
}

#[test]
fn json_cut_mid_string_loses_only_that_record() {
    let d = tempfile::tempdir().unwrap();
    let good = |id: &str| graph_line(id, "2026-03-02T10:00:00Z", "0");
    // JSON Lines: the cut record ends at its line; the next line is read.
    let cut = &good("r2")[..60];
    let text = format!("{}\n{cut}\n{}\n", good("r1"), good("r3"));
    let r = read_one(d.path(), "cut-lines.jsonl", text.as_bytes());
    assert_eq!((r.parsed, r.rejected), (2, 1), "{r:?}");
    assert!(r.problems[0].location.contains("line 2"), "{r:?}");
    // A pretty array cut inside a string at the end of the file.
    let text = format!(
        "[\n{},\n{{\n  \"createdDateTime\": \"2026-03-02T1",
        good("r1")
    );
    let r = read_one(d.path(), "cut-array.json", text.as_bytes());
    assert_eq!((r.parsed, r.rejected), (1, 1), "{r:?}");
    assert!(r.problems[0].reason.contains("truncated"), "{r:?}");
    assert!(r.problems[0].location.contains("line 3"), "{r:?}");
    assert!(r.is_partial());
}

/// Each data cell of the first row, in turn, with invalid UTF-8 in it.
fn corrupt_each_cell(csv_text: &[u8], id_column: usize) -> (Vec<u8>, usize) {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv_text);
    let mut rows = rdr.byte_records().map(|r| r.unwrap());
    let header = rows.next().unwrap();
    let row = rows.next().unwrap();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_byte_record(&header).unwrap();
    for col in 0..row.len() {
        let mut cells: Vec<Vec<u8>> = row.iter().map(<[u8]>::to_vec).collect();
        cells[id_column] = format!("r-{col}").into_bytes();
        let c = &mut cells[col];
        let mid = c.len() / 2;
        c.splice(mid..mid, b"\xC3\x28\xFF".iter().copied());
        w.write_record(&cells).unwrap();
    }
    (w.into_inner().unwrap(), row.len())
}

#[test]
fn invalid_utf8_in_every_field_is_repaired_or_rejected_by_row() {
    let gen = tempfile::tempdir().unwrap();
    crate::common::generate(gen.path(), 40, false, 5);
    let d = tempfile::tempdir().unwrap();

    let portal = std::fs::read_dir(gen.path().join("portal-csv"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.starts_with("InteractiveSignIns_2")
        })
        .unwrap();
    let (text, width) = corrupt_each_cell(&std::fs::read(portal).unwrap(), 1);
    let r = read_one(d.path(), "InteractiveSignIns_utf8.csv", &text);
    assert_eq!(r.records_read, width as u64, "{r:?}");
    assert!(r.notes.iter().any(|n| n.contains("invalid UTF-8")), "{r:?}");
    // Only cells the reader must understand (date, error code, flags...)
    // reject their row, each with its row named; free text is repaired.
    assert!(r.parsed as usize >= width - 8, "{r:?}");
    for p in &r.problems {
        assert!(p.location.starts_with("row "), "{p:?}");
    }

    let line = std::fs::read_to_string(
        gen.path()
            .join("graph-jsonl/sof-elk/SignInLogs-nonInteractiveUser.jsonl"),
    )
    .unwrap()
    .lines()
    .next()
    .unwrap()
    .to_string();
    let rec: serde_json::Value = serde_json::from_str(&line).unwrap();
    let mut paths = Vec::new();
    string_leaves(&rec, &mut Vec::new(), &mut paths);
    assert!(paths.len() > 20, "{paths:?}");
    let mut out = Vec::new();
    for (i, path) in paths.iter().enumerate() {
        let mut v = rec.clone();
        v["id"] = format!("r-{i}").into();
        let leaf = path.iter().fold(&mut v, |v, k| match k {
            Key::Name(n) => &mut v[n.as_str()],
            Key::Index(j) => &mut v[*j],
        });
        *leaf = format!("{}\u{1}BAD", leaf.as_str().unwrap()).into();
        out.extend(
            serde_json::to_string(&v)
                .unwrap()
                .replace("\\u0001BAD", "\u{1}")
                .into_bytes()
                .into_iter()
                .flat_map(|b| {
                    if b == 1 {
                        vec![0xC3, 0x28, 0xFF]
                    } else {
                        vec![b]
                    }
                }),
        );
        out.push(b'\n');
    }
    let r = read_one(d.path(), "utf8.jsonl", &out);
    assert_eq!(r.records_read, paths.len() as u64, "{r:?}");
    assert!(r.notes.iter().any(|n| n.contains("invalid UTF-8")), "{r:?}");
    assert!(r.parsed as usize >= paths.len() - 4, "{r:?}");
    for p in &r.problems {
        assert!(p.location.starts_with("record "), "{p:?}");
    }
}

#[derive(Debug, Clone)]
enum Key {
    Name(String),
    Index(usize),
}

fn string_leaves(v: &serde_json::Value, at: &mut Vec<Key>, out: &mut Vec<Vec<Key>>) {
    match v {
        serde_json::Value::String(_) => out.push(at.clone()),
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                at.push(Key::Name(k.clone()));
                string_leaves(v, at, out);
                at.pop();
            }
        }
        serde_json::Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                at.push(Key::Index(i));
                string_leaves(v, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

#[test]
fn nul_bytes_in_a_field() {
    let d = tempfile::tempdir().unwrap();
    let csv = b"Date (UTC),Request ID,Username,Sign-in error code\n\
        2026-03-02T10:00:00Z,r1,a\0b@contoso.com,50126\n\
        2026-03-02T10:00:01Z,r2,c@contoso.com,0\n";
    let r = read_one(d.path(), "InteractiveSignIns_nul.csv", csv);
    assert_eq!((r.parsed, r.rejected), (2, 0), "{r:?}");
    // A raw NUL is not allowed inside a JSON string: that record alone is
    // rejected; an escaped one is ordinary text.
    let text = format!(
        "{}\n{}\n{}\n",
        graph_line("r1", "2026-03-02T10:00:00Z", "0").replace("a@", "a\0@"),
        graph_line("r2", "2026-03-02T10:00:00Z", "0").replace("a@", "a\\u0000@"),
        graph_line("r3", "2026-03-02T10:00:00Z", "0"),
    );
    let r = read_one(d.path(), "nul.jsonl", text.as_bytes());
    assert_eq!((r.parsed, r.rejected), (2, 1), "{r:?}");
    assert_eq!(r.problems[0].location, "record 1 (line 1)");
}

#[test]
fn a_fifty_megabyte_field_is_rejected_at_the_record_limit() {
    use entrasift::ingest::json::frame::MAX_RECORD_BYTES;
    const FIELD: usize = 50 << 20;
    const { assert!(MAX_RECORD_BYTES < FIELD) };
    let d = tempfile::tempdir().unwrap();
    let big = "A".repeat(FIELD);
    // JSON: the record is skipped while scanned (never buffered whole) and
    // the records after it are read.
    let text = format!(
        "{}\n{}\n{}\n",
        graph_line("r1", "2026-03-02T10:00:00Z", "0"),
        graph_line("r2", "2026-03-02T10:00:00Z", "0").replace("a@contoso.com", &big),
        graph_line("r3", "2026-03-02T10:00:00Z", "0"),
    );
    let r = read_one(d.path(), "big.jsonl", text.as_bytes());
    assert_eq!((r.parsed, r.rejected), (2, 1), "{r:?}");
    assert!(r.problems[0].reason.contains("record limit"), "{r:?}");
    assert_eq!(r.problems[0].location, "record 2 (line 2)");
    // CSV: a row cannot be resynchronised after a runaway field, so the
    // read stops there, naming the line; rows before it are kept.
    let text = format!(
        "Date (UTC),Request ID,Username,Sign-in error code\n\
         2026-03-02T10:00:00Z,r1,a@contoso.com,0\n\
         2026-03-02T10:00:01Z,r2,\"{big}\",0\n\
         2026-03-02T10:00:02Z,r3,c@contoso.com,0\n"
    );
    let r = read_one(d.path(), "InteractiveSignIns_big.csv", text.as_bytes());
    assert_eq!((r.parsed, r.rejected), (1, 1), "{r:?}");
    assert!(r.problems[0].reason.contains("longer than 16 MiB"), "{r:?}");
    assert!(r.error.as_deref().unwrap().contains("line 3"), "{r:?}");
}

#[test]
fn a_header_of_100k_columns() {
    let d = tempfile::tempdir().unwrap();
    let extra: String = (0..100_000).map(|i| format!(",Extra {i}")).collect();
    let blanks = ",".repeat(100_000);
    let text = format!(
        "Date (UTC),Request ID,Username,Sign-in error code{extra}\n\
         2026-03-02T10:00:00Z,r1,a@contoso.com,0{blanks}\n\
         2026-03-02T10:00:01Z,r2,b@contoso.com,0\n"
    );
    let r = read_one(d.path(), "InteractiveSignIns_wide.csv", text.as_bytes());
    assert_eq!((r.parsed, r.rejected), (1, 1), "{r:?}");
    assert!(r.problems[0].reason.contains("100004"), "{r:?}");
    assert_eq!(r.problems[0].location, "row 2 (line 3)");
}

#[test]
fn nesting_100k_deep_is_rejected_without_overflowing_the_stack() {
    let d = tempfile::tempdir().unwrap();
    let good = graph_line("r1", "2026-03-02T10:00:00Z", "0");
    let deep_value = format!("{}1{}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
    let inside = good.replace("\"id\"", &format!("\"x\":{deep_value},\"id\""));
    let top = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let text = format!("{good}\n{inside}\n{top}\n{}\n", good.replace("r1", "r2"));
    let r = read_one(d.path(), "deep.jsonl", text.as_bytes());
    assert_eq!(r.parsed, 2, "{r:?}");
    assert!(r.rejected >= 1, "{r:?}");
    assert!(r.problems[0].location.contains("line 2"), "{r:?}");
    // The same inside a Purview AuditData cell.
    let audit = format!(
        "CreationDate,UserIds,Operations,AuditData\n\
         2026-03-02T10:00:00Z,a@contoso.com,UserLoginFailed,\"{}\"\n",
        deep_value.replace('"', "\"\"")
    );
    let r = read_one(d.path(), "AuditLog_deep.csv", audit.as_bytes());
    assert_eq!((r.parsed, r.rejected), (0, 1), "{r:?}");
}

#[test]
fn error_codes_out_of_range_or_not_numbers() {
    let d = tempfile::tempdir().unwrap();
    let codes = [
        ("99999999999999999999", false),
        ("-1", false),
        ("1.5", false),
        ("1e400", false),
        ("\"abc\"", false),
        ("true", false),
        ("null", false),
        ("\"AADSTS50126\"", true),
        ("\"50126\"", true),
        ("0", true),
    ];
    let text: String = codes
        .iter()
        .enumerate()
        .map(|(i, (c, _))| graph_line(&format!("r{i}"), "2026-03-02T10:00:00Z", c) + "\n")
        .collect();
    let r = read_one(d.path(), "codes.jsonl", text.as_bytes());
    let bad = codes.iter().filter(|(_, ok)| !ok).count() as u64;
    assert_eq!(
        (r.parsed, r.rejected),
        (codes.len() as u64 - bad, bad),
        "{r:?}"
    );
    for (p, (code, _)) in r.problems.iter().zip(codes.iter().filter(|(_, ok)| !ok)) {
        // A number beyond f64 fails the JSON parse itself.
        assert!(
            p.reason.contains("errorCode")
                || p.reason.contains("error code")
                || p.reason.contains("number out of range"),
            "{code}: {p:?}"
        );
    }
    // The same in a CSV column.
    let csv = "Date (UTC),Request ID,Username,Sign-in error code\n\
               2026-03-02T10:00:00Z,r1,a@contoso.com,123456789012\n\
               2026-03-02T10:00:00Z,r2,a@contoso.com,-5\n\
               2026-03-02T10:00:00Z,r3,a@contoso.com,fifty\n\
               2026-03-02T10:00:00Z,r4,a@contoso.com,50126\n";
    let r = read_one(d.path(), "InteractiveSignIns_codes.csv", csv.as_bytes());
    assert_eq!((r.parsed, r.rejected), (1, 3), "{r:?}");
    assert_eq!(r.problems[2].location, "row 3 (line 4)");
}

#[test]
fn impossible_dates_are_rejected_and_odd_zones_are_honoured() {
    let d = tempfile::tempdir().unwrap();
    let times = [
        ("0000-03-02T10:00:00Z", None),
        ("2026-13-02T10:00:00Z", None),
        ("2026-02-30T10:00:00Z", None),
        ("2026-03-02T25:00:00Z", None),
        ("2026-03-02T10:00:00+05:45", Some("2026-03-02T04:15:00")),
        ("2026-03-02T10:00:00-00:00", Some("2026-03-02T10:00:00")),
        // Exports without a zone are in UTC.
        ("2026-03-02T10:00:00", Some("2026-03-02T10:00:00")),
        (
            "2026-03-02T10:00:00.1234567-08:00",
            Some("2026-03-02T18:00:00"),
        ),
    ];
    let text: String = times
        .iter()
        .enumerate()
        .map(|(i, (t, _))| graph_line(&format!("r{i}"), t, "0") + "\n")
        .collect();
    write(d.path(), "dates.jsonl", text.as_bytes());
    let loaded = load(&[d.path().join("dates.jsonl")], true);
    let r = &loaded.inputs[0];
    assert_eq!((r.parsed, r.rejected), (4, 4), "{r:?}");
    for p in &r.problems {
        assert!(p.reason.contains("createdDateTime"), "{p:?}");
    }
    for (i, (_, want)) in times.iter().enumerate() {
        let got = loaded
            .records
            .iter()
            .find(|s| s.request_id == format!("r{i}"))
            .map(|s| {
                chrono::DateTime::from_timestamp_micros(s.time_us)
                    .unwrap()
                    .format("%Y-%m-%dT%H:%M:%S")
                    .to_string()
            });
        assert_eq!(got.as_deref(), *want, "r{i}");
    }
}

#[test]
fn mixed_line_endings_and_a_bom_mid_file() {
    let d = tempfile::tempdir().unwrap();
    let csv = b"Date (UTC),Request ID,Username,Sign-in error code\r\n\
        2026-03-02T10:00:00Z,r1,a@contoso.com,0\n\
        2026-03-02T10:00:01Z,r2,b@contoso.com,0\r\n\
        2026-03-02T10:00:02Z,r3,c@contoso.com,bad\n\
        2026-03-02T10:00:03Z,r4,d@contoso.com,0\r\n";
    let r = read_one(d.path(), "InteractiveSignIns_crlf.csv", csv);
    assert_eq!((r.parsed, r.rejected), (3, 1), "{r:?}");
    assert_eq!(r.problems[0].location, "row 3 (line 4)");
    // Two exports concatenated: the second brings its BOM and header.
    let part = |a: &str, b: &str| {
        format!(
            "\u{feff}Date (UTC),Request ID,Username,Sign-in error code\r\n\
             2026-03-02T10:00:00Z,{a},a@contoso.com,0\r\n\
             2026-03-02T10:00:01Z,{b},b@contoso.com,0\r\n"
        )
    };
    let text = part("r1", "r2") + &part("r3", "r4");
    let r = read_one(d.path(), "InteractiveSignIns_concat.csv", text.as_bytes());
    assert_eq!((r.parsed, r.rejected, r.skipped), (4, 0, 1), "{r:?}");
    assert!(
        r.skipped_by_reason.keys().any(|k| k.contains("header")),
        "{r:?}"
    );
    // JSON Lines with a BOM before a later record, CRLF and LF mixed.
    let text = format!(
        "{}\r\n\u{feff}{}\n{}\r\n",
        graph_line("r1", "2026-03-02T10:00:00Z", "0"),
        graph_line("r2", "2026-03-02T10:00:00Z", "0"),
        graph_line("r3", "2026-03-02T10:00:00Z", "x"),
    );
    let r = read_one(d.path(), "bom.jsonl", text.as_bytes());
    assert_eq!((r.parsed, r.rejected), (2, 1), "{r:?}");
    assert_eq!(r.problems[0].location, "record 3 (line 3)");
}

fn zip_with(path: &Path, members: &[(&str, &[u8])]) {
    let f = std::fs::File::create(path).unwrap();
    let mut z = zip::ZipWriter::new(f);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    for (name, bytes) in members {
        z.start_file(*name, opts).unwrap();
        z.write_all(bytes).unwrap();
    }
    z.finish().unwrap();
}

#[test]
fn decompression_bombs_stop_at_the_expansion_cap() {
    use entrasift::ingest::source::MAX_EXPANSION_RATIO;
    let d = tempfile::tempdir().unwrap();
    // 200 MB of blanks deflates about 1000:1, far past the ratio; the
    // reader stops once the cap (ratio x compressed + a fixed allowance) is
    // used, never holding more than a read buffer of it.
    let blanks = vec![b' '; 200 << 20];
    let good = GOOD_JSONL.as_bytes();
    zip_with(
        &d.path().join("bomb.zip"),
        &[("a-good.jsonl", good), ("b-bomb.json", &blanks)],
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&blanks).unwrap();
    let gzb = gz.finish().unwrap();
    assert!((blanks.len() / gzb.len()) as u64 > MAX_EXPANSION_RATIO);
    write(d.path(), "bomb.json.gz", &gzb);
    let loaded = load(&[d.path().to_path_buf()], true);
    let by = |name: &str| {
        loaded
            .inputs
            .iter()
            .find(|i| i.path.ends_with(name))
            .unwrap()
    };
    assert_eq!(by("bomb.zip!a-good.jsonl").parsed, 1);
    for name in ["bomb.zip!b-bomb.json", "bomb.json.gz"] {
        let b = by(name);
        let err = b.error.as_deref().unwrap_or_default();
        assert!(err.contains("decompression-bomb guard"), "{name}: {b:?}");
        assert!(
            b.bytes < blanks.len() as u64,
            "{name} read {} bytes",
            b.bytes
        );
    }
    assert!(loaded.partial());
}

#[test]
fn many_small_bombs_in_one_archive_share_one_allowance() {
    let d = tempfile::tempdir().unwrap();
    // Each member alone fits a per-member allowance; together they would
    // expand to 640 MB from an archive of about 650 KB.
    let blanks = vec![b' '; 16 << 20];
    let names: Vec<String> = (0..40).map(|i| format!("part-{i:02}.json")).collect();
    let members: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &blanks[..])).collect();
    zip_with(&d.path().join("many.zip"), &members);
    let archive = std::fs::metadata(d.path().join("many.zip")).unwrap().len();
    let loaded = load(&[d.path().to_path_buf()], true);
    let read: u64 = loaded.inputs.iter().map(|i| i.bytes).sum();
    let stopped = loaded
        .inputs
        .iter()
        .filter(|i| i.error.as_deref().is_some_and(|e| e.contains("bomb")))
        .count();
    assert_eq!(stopped, names.len(), "{:?}", loaded.inputs[0]);
    assert!(
        read <= archive * entrasift::ingest::source::MAX_EXPANSION_RATIO + (64 << 20),
        "read {read} bytes from a {archive}-byte archive"
    );
}

#[test]
fn archives_and_documents_that_hold_no_export_say_what_they_are() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "good.jsonl", GOOD_JSONL.as_bytes());
    // A sign-in CSV re-saved from Excel: one input, not a reject per
    // XML part of the workbook.
    zip_with(
        &d.path().join("signins.xlsx"),
        &[
            ("[Content_Types].xml", b"<?xml version=\"1.0\"?><Types/>"),
            ("xl/workbook.xml", b"<?xml version=\"1.0\"?><workbook/>"),
            (
                "xl/worksheets/sheet1.xml",
                b"<?xml version=\"1.0\"?><worksheet/>",
            ),
        ],
    );
    // A zip inside a zip, and a tar of the exports, plain and gzipped.
    let inner = d.path().join("inner.zip");
    zip_with(&inner, &[("a.jsonl", GOOD_JSONL.as_bytes())]);
    let inner_bytes = std::fs::read(&inner).unwrap();
    std::fs::remove_file(&inner).unwrap();
    zip_with(&d.path().join("outer.zip"), &[("inner.zip", &inner_bytes)]);
    let mut tar = vec![0u8; 1024];
    tar[..10].copy_from_slice(b"good.jsonl");
    tar[257..263].copy_from_slice(b"ustar\0");
    write(d.path(), "exports.tar", &tar);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    write(d.path(), "exports.tgz", &gz.finish().unwrap());

    let loaded = load(&[d.path().to_path_buf()], true);
    let error_of = |name: &str| {
        let found: Vec<_> = loaded
            .inputs
            .iter()
            .filter(|i| i.path.contains(name))
            .collect();
        assert_eq!(found.len(), 1, "{name}: {found:?}");
        found[0].error.clone().unwrap_or_default()
    };
    assert!(error_of("signins.xlsx").starts_with("an Excel workbook"));
    assert!(error_of("outer.zip!inner.zip").contains("a zip archive inside another archive"));
    for name in ["exports.tar", "exports.tgz"] {
        assert!(
            error_of(name).contains("a tar archive: extract it"),
            "{name}"
        );
    }
    assert_eq!(loaded.records.len(), 1);
    assert!(loaded.partial());
}

#[test]
fn zip_member_names_never_become_paths() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("in");
    std::fs::create_dir(&out).unwrap();
    let names = [
        "../../escape.jsonl",
        "/tmp/abs.jsonl",
        "C:\\Windows\\x.jsonl",
        "..\\back.jsonl",
    ];
    let bodies: Vec<String> = (0..names.len())
        .map(|i| GOOD_JSONL.replace("r-good", &format!("r-{i}")))
        .collect();
    let members: Vec<(&str, &[u8])> = names
        .iter()
        .zip(&bodies)
        .map(|(n, b)| (*n, b.as_bytes()))
        .collect();
    zip_with(&out.join("evil.zip"), &members);
    let loaded = load(std::slice::from_ref(&out), true);
    assert_eq!(loaded.records.len(), names.len());
    for i in &loaded.inputs {
        assert!(i.notes.iter().any(|n| n.contains("path escape")), "{i:?}");
    }
    assert!(!d.path().join("escape.jsonl").exists());
    assert!(!Path::new("/tmp/abs.jsonl").exists());
}

#[cfg(unix)]
#[test]
fn symlink_loops_are_walked_once() {
    let d = tempfile::tempdir().unwrap();
    let sub = d.path().join("a/b");
    std::fs::create_dir_all(&sub).unwrap();
    write(&sub, "good.jsonl", GOOD_JSONL.as_bytes());
    std::os::unix::fs::symlink(d.path().join("a"), sub.join("up")).unwrap();
    std::os::unix::fs::symlink(sub.join("self"), sub.join("self")).unwrap();
    let loaded = load(&[d.path().to_path_buf()], true);
    let good: Vec<_> = loaded
        .inputs
        .iter()
        .filter(|i| i.path.ends_with("good.jsonl"))
        .collect();
    assert_eq!(good.len(), 1, "{:?}", loaded.inputs);
    assert_eq!(loaded.records.len(), 1);
    // The self-referencing link cannot be resolved: listed, not fatal.
    let selfref = loaded
        .inputs
        .iter()
        .find(|i| i.path.ends_with("self"))
        .unwrap();
    assert!(selfref.error.is_some(), "{selfref:?}");
}

#[cfg(unix)]
#[test]
fn unreadable_file_is_reported_or_read_when_privileged() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "good.jsonl", GOOD_JSONL.as_bytes());
    let locked = d.path().join("locked.jsonl");
    write(
        d.path(),
        "locked.jsonl",
        GOOD_JSONL.replace("r-good", "r-locked").as_bytes(),
    );
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    // Root (or CAP_DAC_OVERRIDE) reads through mode 000; then the file is
    // simply read, and that is asserted instead.
    let privileged = std::fs::File::open(&locked).is_ok();
    let loaded = load(&[d.path().to_path_buf()], true);
    let l = loaded
        .inputs
        .iter()
        .find(|i| i.path.ends_with("locked.jsonl"))
        .unwrap();
    if privileged {
        assert_eq!(l.parsed, 1, "{l:?}");
        assert_eq!(loaded.records.len(), 2);
    } else {
        assert_eq!(
            l.error.as_deref(),
            Some("cannot open: permission denied"),
            "{l:?}"
        );
        assert_eq!(loaded.records.len(), 1);
        assert!(loaded.partial());
    }
}

#[test]
fn an_empty_folder_is_reported() {
    let d = tempfile::tempdir().unwrap();
    let loaded = load(&[d.path().to_path_buf()], true);
    assert!(loaded.records.is_empty());
    assert_eq!(loaded.inputs.len(), 1);
    assert_eq!(
        loaded.inputs[0].error.as_deref(),
        Some("folder holds no files to read")
    );
    assert!(loaded.partial());
}

#[test]
fn a_file_removed_after_discovery_is_accounted() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "a.jsonl", GOOD_JSONL.as_bytes());
    write(
        d.path(),
        "b.jsonl",
        GOOD_JSONL.replace("r-good", "r-b").as_bytes(),
    );
    let (inputs, unlisted) = entrasift::ingest::source::discover(&[d.path().to_path_buf()]);
    assert_eq!(inputs.len(), 2);
    std::fs::remove_file(d.path().join("a.jsonl")).unwrap();
    let ing = entrasift::ingest::read_inputs(&inputs, unlisted, Vec::new());
    assert_eq!(ing.records.len(), 1);
    let gone = ing
        .inputs
        .iter()
        .find(|i| i.path.ends_with("a.jsonl"))
        .unwrap();
    assert_eq!(
        gone.error.as_deref(),
        Some("cannot open: no such file or folder")
    );
    assert!(gone.is_partial());
}

#[test]
fn partial_input_exits_3_naming_the_file() {
    let d = tempfile::tempdir().unwrap();
    let inp = d.path().join("in");
    std::fs::create_dir(&inp).unwrap();
    write(&inp, "good.jsonl", GOOD_JSONL.as_bytes());
    let cut = format!("{GOOD_JSONL}\n{}", &GOOD_JSONL[..50]);
    write(&inp, "cut.jsonl", cut.as_bytes());
    let out = d.path().join("out");
    let o = std::process::Command::new(crate::common::bin())
        .arg("analyze")
        .arg(&inp)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("cut.jsonl") && stderr.contains("1 rejected"),
        "{stderr}"
    );
    // The position is in the report's input accounting.
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("findings.json")).unwrap()).unwrap();
    assert!(doc.to_string().contains("record 2 (line 2)"), "{doc}");
}
