//! Broken input: each case gives a clear reason naming the input and the
//! position, never a panic, and the rest of the batch is still read.

use entrasift::commands::load;
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
