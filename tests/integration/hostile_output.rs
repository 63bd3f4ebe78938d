//! Every log string is attacker-controlled. A realistic export whose every
//! reported field carries hostile text goes through the binary, and each
//! output must come out inert: escaped HTML, SVG and Markdown, CSV cells a
//! spreadsheet will not run, no terminal escapes, and no file named after
//! log content. Also: an output that cannot be written fails clearly and
//! leaves no half-written file. And the binary has no way to reach a network.

use crate::common::{bin, generate};
use std::path::{Path, PathBuf};
use std::process::Command;

const HOSTILE: &[&str] = &[
    "<script>alert(1)</script>",
    "=cmd|' /C calc'!A0 ",
    "+cmd|' /C calc'!A0 ",
    "-cmd|' /C calc'!A0 ",
    "@SUM(cmd|' /C calc'!A0) ",
    "\t=1+1 ",
    "\r=1+1 ",
    "| x | --- |![img](http://evil.invalid/x.png)[click](javascript:alert(1)) ",
    "\u{1b}[31mRED\u{1b}]0;title\u{7} ",
    "../../../../tmp/entrasift-pwned/",
    "\"><img src=x onerror=alert(1)>",
    "</text></svg><svg onload=alert(1)>",
];

/// The same value always gets the same prefix, so identities (and the
/// detections built on them) survive the rewrite.
fn poison(value: &str) -> String {
    let h = value.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    format!("{}{value}", HOSTILE[(h % HOSTILE.len() as u64) as usize])
}

const FIELDS: &[&[&str]] = &[
    &["userPrincipalName"],
    &["userDisplayName"],
    &["appDisplayName"],
    &["resourceDisplayName"],
    &["userAgent"],
    &["clientAppUsed"],
    &["status", "failureReason"],
    &["location", "city"],
    &["location", "state"],
    &["location", "countryOrRegion"],
    &["deviceDetail", "displayName"],
    &["deviceDetail", "operatingSystem"],
    &["deviceDetail", "browser"],
];

fn poison_export(src: &Path, dst: &Path) -> usize {
    let mut n = 0;
    let mut out = String::new();
    for entry in walk(src) {
        for line in std::fs::read_to_string(entry).unwrap().lines() {
            let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
            for path in FIELDS {
                let leaf = path.iter().fold(&mut v, |v, k| &mut v[*k]);
                if let Some(s) = leaf.as_str().filter(|s| !s.is_empty()) {
                    *leaf = poison(s).into();
                }
            }
            // A few addresses too: an IP field is text like any other.
            if n % 16 == 0 {
                let ip = v["ipAddress"].as_str().unwrap_or_default().to_string();
                v["ipAddress"] = poison(&ip).into();
            }
            out.push_str(&v.to_string());
            out.push('\n');
            n += 1;
        }
    }
    std::fs::write(dst, out).unwrap();
    n
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn assert_inert_markup(name: &str, text: &str) {
    for raw in [
        "<script",
        "<img",
        "<svg onload",
        "onerror=alert(1)>",
        "href=\"javascript",
        "\u{1b}",
        "\u{7}",
    ] {
        assert!(!text.contains(raw), "{name} holds raw {raw:?}");
    }
}

/// Markdown keeps log text readable, so `<script` may appear, but only
/// backslash-escaped: no `<` can open a tag and no `[` or `]` can form a
/// link or image, and no control character survives.
fn assert_inert_markdown(name: &str, text: &str) {
    let mut prev = ' ';
    for (i, c) in text.char_indices() {
        if matches!(c, '<' | '[' | ']') {
            assert_eq!(prev, '\\', "{name}: unescaped {c:?} at byte {i}");
        }
        prev = if prev == '\\' && c == '\\' { ' ' } else { c };
    }
    for raw in ["\u{1b}", "\u{7}"] {
        assert!(!text.contains(raw), "{name} holds raw {raw:?}");
    }
}

#[test]
fn hostile_log_text_comes_out_inert_in_every_output() {
    let gen = tempfile::tempdir().unwrap();
    generate(gen.path(), 400, true, 17);
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("poisoned.jsonl");
    let records = poison_export(&gen.path().join("graph-jsonl"), &input);
    assert!(records > 1000);
    let out = work.path().join("out");
    let o = Command::new(bin())
        .arg("analyze")
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let terminal = [o.stdout.as_slice(), o.stderr.as_slice()].concat();
    assert!(
        matches!(o.status.code(), Some(0 | 1 | 3)),
        "{}",
        String::from_utf8_lossy(&terminal)
    );
    assert!(!terminal.contains(&0x1b), "terminal output holds an escape");

    let files = walk(&out);
    let mut seen_hostile = [false; 3];
    for f in &files {
        let rel = f.strip_prefix(&out).unwrap().to_string_lossy().into_owned();
        // Names are the tool's own, never derived from log content.
        assert!(
            rel.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_./-".contains(c)),
            "unexpected file {rel:?}"
        );
        for fragment in ["pwned", "script", "cmd", "calc", ".."] {
            assert!(
                !rel.contains(fragment),
                "file named from log content: {rel:?}"
            );
        }
        let bytes = std::fs::read(f).unwrap();
        assert!(!bytes.contains(&0x1b), "{rel} holds a raw escape");
        let text = String::from_utf8_lossy(&bytes);
        match f.extension().and_then(|e| e.to_str()) {
            Some("html") | Some("svg") => {
                assert_inert_markup(&rel, &text);
                seen_hostile[0] |= text.contains("&lt;script&gt;alert(1)&lt;/script&gt;");
            }
            Some("md") => {
                assert_inert_markdown(&rel, &text);
                assert_tables_keep_their_columns(&rel, &text);
                seen_hostile[1] |= text.contains("\\<script\\>alert(1)");
            }
            Some("csv") => {
                let mut rdr = csv::ReaderBuilder::new().from_reader(bytes.as_slice());
                for row in rdr.records() {
                    for cell in row.unwrap().iter() {
                        // A plain negative number (a longitude) stays a number.
                        let number = cell.starts_with('-')
                            && cell[1..].parse::<f64>().is_ok()
                            && cell[1..].bytes().all(|b| b.is_ascii_digit() || b == b'.');
                        assert!(
                            number || !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                            "{rel}: live formula cell {cell:?}"
                        );
                        seen_hostile[2] |= cell.starts_with("'=cmd|");
                    }
                }
            }
            _ => {}
        }
    }
    assert!(files.iter().any(|f| f.ends_with("report.html")));
    // The hostile text did reach each kind of output (else this proves nothing).
    assert_eq!(seen_hostile, [true; 3], "html/svg, markdown, csv");
    assert!(!Path::new("/tmp/entrasift-pwned").exists());
}

/// In a Markdown table every row has as many unescaped pipes as its header.
fn assert_tables_keep_their_columns(name: &str, md: &str) {
    let pipes = |line: &str| {
        let b = line.as_bytes();
        (0..b.len())
            .filter(|&i| b[i] == b'|' && (i == 0 || b[i - 1] != b'\\'))
            .count()
    };
    let mut header: Option<usize> = None;
    for line in md.lines() {
        if line.starts_with('|') {
            let n = pipes(line);
            match header {
                None => header = Some(n),
                Some(h) => assert_eq!(n, h, "{name}: row breaks its table: {line}"),
            }
        } else {
            header = None;
        }
    }
}

fn good_input(dir: &Path) -> PathBuf {
    let p = dir.join("in.jsonl");
    std::fs::write(
        &p,
        r#"{"createdDateTime":"2026-03-02T10:00:00Z","id":"r1","userPrincipalName":"a@contoso.com","ipAddress":"198.51.100.1","status":{"errorCode":50126}}"#,
    )
    .unwrap();
    p
}

fn analyze_into(input: &Path, out: &Path) -> (Option<i32>, String) {
    let o = Command::new(bin())
        .arg("analyze")
        .arg(input)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn leftovers(dir: &Path) -> Vec<PathBuf> {
    walk(dir)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains(".partial"))
        .collect()
}

#[test]
fn an_unwritable_output_fails_with_exit_2_naming_the_path() {
    let d = tempfile::tempdir().unwrap();
    let input = good_input(d.path());
    // The parent of --out is a file: nothing can be created below it.
    let blocker = d.path().join("blocker");
    std::fs::write(&blocker, "not a folder").unwrap();
    let out = blocker.join("out");
    let (code, stderr) = analyze_into(&input, &out);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains(&blocker.display().to_string()), "{stderr}");
    assert_eq!(std::fs::read_to_string(&blocker).unwrap(), "not a folder");

    // One output's place is taken by a folder: the rename onto it fails,
    // the error names it, and no temporary or half-written file remains.
    let out = d.path().join("taken");
    std::fs::create_dir_all(out.join("report.html/keep")).unwrap();
    let (code, stderr) = analyze_into(&input, &out);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("report.html"), "{stderr}");
    assert!(leftovers(&out).is_empty(), "{:?}", leftovers(&out));
    assert!(out.join("report.html/keep").is_dir());
}

#[cfg(unix)]
#[test]
fn a_read_only_output_folder_fails_cleanly_unless_privileged() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    let input = good_input(d.path());
    let out = d.path().join("ro");
    std::fs::create_dir(&out).unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o555)).unwrap();
    // Root (CAP_DAC_OVERRIDE) writes through mode 555: then the run simply
    // succeeds, and that is what is asserted.
    let privileged = std::fs::File::create(out.join("probe")).is_ok();
    let _ = std::fs::remove_file(out.join("probe"));
    let (code, stderr) = analyze_into(&input, &out);
    if privileged {
        assert!(matches!(code, Some(0 | 1)), "{stderr}");
        assert!(out.join("report.html").is_file());
    } else {
        assert_eq!(code, Some(2), "{stderr}");
        assert!(stderr.contains(&out.display().to_string()), "{stderr}");
        assert!(walk(&out).is_empty(), "{:?}", walk(&out));
    }
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Offline by construction: the binary links no socket or name-lookup
/// function. Imported symbol names sit NUL-terminated in the dynamic string
/// table; the control names prove the search sees imports at all.
#[cfg(target_os = "linux")]
#[test]
fn the_binary_imports_no_network_function() {
    let exe = std::fs::read(bin()).unwrap();
    let imports = |name: &str| {
        let needle = [b"\0", name.as_bytes(), b"\0"].concat();
        exe.windows(needle.len()).any(|w| w == needle)
    };
    assert!(imports("write") && imports("read"), "no import table found");
    for f in [
        "socket",
        "connect",
        "bind",
        "listen",
        "accept",
        "accept4",
        "sendto",
        "sendmsg",
        "recvfrom",
        "getaddrinfo",
        "gethostbyname",
    ] {
        assert!(!imports(f), "the binary imports {f}");
    }
}
