//! What the first bytes of an input that is no export say it is, so the
//! reject tells the user what to do (extract it, save it as CSV) instead
//! of calling an archive "binary data". Inputs often arrive in whatever
//! the collector or the analyst packed them in.

/// Files known by bytes at a fixed offset: (offset, magic, what it is and
/// what to do).
const KNOWN: &[(usize, &[u8], &str)] = &[
    (
        0,
        b"PK\x03\x04",
        "a zip archive inside another archive (a .gz file or a member of another zip): zip archives are opened only as files or from standard input, since their list of members sits at their end; extract it and pass its path",
    ),
    (
        0,
        b"PK\x05\x06",
        "an empty zip archive",
    ),
    (
        0,
        b"7z\xBC\xAF\x27\x1C",
        "a 7-Zip archive: extract it and pass the files or their folder",
    ),
    (
        0,
        b"Rar!\x1A\x07",
        "a RAR archive: extract it and pass the files or their folder",
    ),
    (
        0,
        b"\xFD7zXZ\x00",
        "an xz-compressed file: decompress it (xz -dk FILE) and pass the result; gzip and zip are read directly",
    ),
    (
        0,
        b"\x28\xB5\x2F\xFD",
        "a zstd-compressed file: decompress it (zstd -d FILE) and pass the result; gzip and zip are read directly",
    ),
    (
        0,
        b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1",
        "a legacy Office document (an .xls workbook or similar): save the sheet as CSV UTF-8 and pass that",
    ),
    (
        0,
        b"PAR1",
        "a Parquet file: entrasift reads the exports themselves (CSV or JSON), not tables written from them",
    ),
    (
        0,
        b"SQLite format 3\x00",
        "an SQLite database, not a sign-in export",
    ),
    (
        0,
        b"ElfFile\x00",
        "a Windows event log (EVTX), not an Entra sign-in export",
    ),
    (
        257,
        b"ustar",
        "a tar archive: extract it (tar -xf FILE) and pass the folder",
    ),
];

/// What `head` (an input's first bytes, as decompressed) is, when it is a
/// kind of file that holds no export itself.
pub(crate) fn container(head: &[u8]) -> Option<&'static str> {
    if head.len() >= 4 && &head[..3] == b"BZh" && (b'1'..=b'9').contains(&head[3]) {
        return Some("a bzip2-compressed file: decompress it (bunzip2 -k FILE) and pass the result; gzip and zip are read directly");
    }
    KNOWN
        .iter()
        .find(|(at, magic, _)| head.get(*at..*at + magic.len()) == Some(*magic))
        .map(|(_, _, what)| *what)
}

/// The zip archives that are Office Open XML documents (Excel workbooks
/// and the like): named by the folder their parts sit in.
pub(crate) fn office_package(member_names: &[&str]) -> Option<&'static str> {
    if !member_names.contains(&"[Content_Types].xml") {
        return None;
    }
    let under = |dir: &str| member_names.iter().any(|n| n.starts_with(dir));
    Some(if under("xl/") {
        "an Excel workbook, not a sign-in export: save the sheet as CSV UTF-8 and pass that"
    } else if under("word/") {
        "a Word document, not a sign-in export"
    } else if under("ppt/") {
        "a PowerPoint presentation, not a sign-in export"
    } else {
        "an Office Open XML document, not a sign-in export"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archives_and_documents_are_named() {
        let mut tar = vec![0u8; 512];
        tar[..12].copy_from_slice(b"signins.json");
        tar[257..263].copy_from_slice(b"ustar\0");
        assert!(container(&tar).unwrap().starts_with("a tar archive"));
        assert!(container(b"PK\x03\x04\x14\x00")
            .unwrap()
            .starts_with("a zip archive"));
        assert!(container(b"BZh91AY&SY").unwrap().starts_with("a bzip2"));
        assert!(container(b"\xFD7zXZ\x00\x00").unwrap().starts_with("an xz"));
        assert!(container(b"ElfFile\x00\x00").unwrap().contains("EVTX"));
        // Exports, and text that merely starts like a magic, are not.
        assert_eq!(container(b"[{\"id\":1}]"), None);
        assert_eq!(container(b"Date (UTC),Request ID\n"), None);
        assert_eq!(container(b"BZh is a word"), None);
        assert_eq!(container(b"PK"), None);

        let workbook = ["[Content_Types].xml", "_rels/.rels", "xl/workbook.xml"];
        assert!(office_package(&workbook)
            .unwrap()
            .starts_with("an Excel workbook"));
        assert_eq!(office_package(&["InteractiveSignIns.csv"]), None);
    }
}
