//! Output plumbing shared by every writer: atomic files and spreadsheet-
//! safe CSV cells.

use std::io;
use std::path::{Path, PathBuf};

/// Writes through a temporary sibling file renamed into place on success,
/// so an interrupted run never leaves a half-written output behind.
pub fn write_atomic(
    path: &Path,
    f: impl FnOnce(&mut io::BufWriter<std::fs::File>) -> io::Result<()>,
) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let tmp: PathBuf = dir.join(format!(".{name}.{}.partial", std::process::id()));
    let result = (|| {
        let file = std::fs::File::create(&tmp)?;
        let mut w = io::BufWriter::with_capacity(1 << 20, file);
        f(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Makes a cell safe to open: a cell a spreadsheet would run as a formula
/// (leading `=`, `+`, `-`, `@`, tab or carriage return) gets a quote
/// prefixed, and control characters other than tab and newline become `?`,
/// so that `cat findings.csv` cannot drive the terminal with escapes. A
/// plain negative number (a western longitude) is left alone: spreadsheets
/// read it as a number, and the quote would turn it into text.
pub fn csv_cell(s: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && c != '\t' && c != '\n';
    let formula = match s.as_bytes().first() {
        Some(b'-') => !is_negative_number(s),
        Some(b'=' | b'+' | b'@' | b'\t' | b'\r') => true,
        _ => false,
    };
    if !formula && !s.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 1);
    if formula {
        out.push('\'');
    }
    out.extend(s.chars().map(|c| if unsafe_char(c) { '?' } else { c }));
    std::borrow::Cow::Owned(out)
}

/// `-` then digits with at most one `.`: nothing a formula can hide in.
fn is_negative_number(s: &str) -> bool {
    let digits = &s[1..];
    !digits.is_empty()
        && digits.bytes().any(|b| b.is_ascii_digit())
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && digits.bytes().filter(|&b| b == b'.').count() <= 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("-2+3"), "'-2+3");
        assert_eq!(csv_cell("-"), "'-");
        assert_eq!(csv_cell("-."), "'-.");
        assert_eq!(csv_cell("-1.2.3"), "'-1.2.3");
        assert_eq!(csv_cell("-1e5"), "'-1e5");
        assert_eq!(csv_cell("-122.33209991455078"), "-122.33209991455078");
        assert_eq!(csv_cell("-7"), "-7");
        assert_eq!(csv_cell("alex@contoso.com"), "alex@contoso.com");
        assert_eq!(csv_cell("\rx"), "'?x");
        assert_eq!(csv_cell("a\u{1b}[31mb\u{7}"), "a?[31mb?");
        assert_eq!(csv_cell("two\nlines\tok"), "two\nlines\tok");
    }

    #[test]
    fn atomic_write_leaves_nothing_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.txt");
        let r = write_atomic(&p, |w| {
            w.write_all(b"half")?;
            Err(io::Error::other("boom"))
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        write_atomic(&p, |w| w.write_all(b"whole")).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "whole");
    }
}
