//! The data files some detections ship (attack-tool fingerprints, hosting
//! networks) and the user's own files that extend or replace them.
//!
//! Each is TOML with a `version`, an `updated` date and an array of
//! entries that every carry a source and a date. A user's file is read
//! when the settings are built, before any sign-in is, so a mistake stops
//! the run at once with the file and line named rather than after an hour
//! of ingest.

use serde::de::DeserializeOwned;

/// A data file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {problem}")]
pub struct DataFileError {
    /// The file as the user named it (or `built-in <name>`).
    pub file: String,
    /// 1-based line; the first line when the whole file is at fault.
    pub line: usize,
    pub problem: String,
}

/// 1-based line of byte offset `at` in `text`.
pub(crate) fn line_of(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Parses `text` as `T`, turning a TOML error into one naming the line.
pub(crate) fn parse<T: DeserializeOwned>(text: &str, file: &str) -> Result<T, DataFileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    toml::from_str(text).map_err(|e| DataFileError {
        file: file.to_string(),
        line: e.span().map_or(1, |s| line_of(text, s.start)),
        problem: e.message().trim().to_string(),
    })
}

/// Reads a user's data file; an unreadable file is an error naming it.
pub(crate) fn read(path: &str) -> Result<String, DataFileError> {
    std::fs::read_to_string(path).map_err(|e| DataFileError {
        file: path.to_string(),
        line: 1,
        problem: format!("cannot be read: {e}"),
    })
}

/// `YYYY-MM-DD`, a real calendar date.
/// The file's `updated` stamp must be a date; a file whose age cannot be
/// told is refused.
pub(crate) fn check_updated(updated: &str, file: &str) -> Result<(), DataFileError> {
    if is_date(updated) {
        return Ok(());
    }
    Err(DataFileError {
        file: file.to_string(),
        line: 1,
        problem: format!("`updated` must be a date (YYYY-MM-DD), got {updated:?}"),
    })
}

pub(crate) fn is_date(s: &str) -> bool {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() && s.len() == 10
}

/// Checks one entry's source and date; `line` is where the entry starts.
pub(crate) fn check_provenance(
    file: &str,
    line: usize,
    source: &str,
    date: &str,
    date_key: &str,
) -> Result<(), DataFileError> {
    let fail = |problem: String| {
        Err(DataFileError {
            file: file.to_string(),
            line,
            problem,
        })
    };
    if !(source.starts_with("https://") || source.starts_with("http://")) {
        return fail(format!(
            "`source` must be the URL the entry comes from, got {source:?}"
        ));
    }
    if !is_date(date) {
        return fail(format!(
            "`{date_key}` must be a date (YYYY-MM-DD), got {date:?}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct T {
        version: String,
    }

    #[test]
    fn errors_name_file_and_line() {
        let err = parse::<T>("\n\nversion = 3\n", "mine.toml").unwrap_err();
        assert_eq!((err.file.as_str(), err.line), ("mine.toml", 3), "{err}");
        assert!(err.to_string().starts_with("mine.toml:3: "), "{err}");
        assert!(is_date("2025-01-06") && !is_date("2025-13-01") && !is_date("2025-1-6"));
        let err = check_provenance("f", 9, "nowhere", "2025-01-06", "added").unwrap_err();
        assert_eq!(err.line, 9);
        assert!(read("/nonexistent/x.toml")
            .unwrap_err()
            .to_string()
            .contains("/nonexistent/x.toml:1"));
    }
}
