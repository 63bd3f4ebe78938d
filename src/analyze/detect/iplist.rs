//! The `--ip-list` file of known-bad sources.
//!
//! An `--ip-list` file holds one entry a line, `IP_or_CIDR [label]`, with `#`
//! starting a comment. Threat feeds can run to hundreds of thousands of
//! entries, so lookups go through one hash table per prefix length (longest
//! prefix first) instead of a scan over every entry.

use crate::model::net::{Cidr, CidrError, CidrTable};

/// A line of an `--ip-list` file that is not an address or network.
#[derive(Debug, thiserror::Error)]
#[error("{origin}:{line}: {problem}")]
pub struct IpListError {
    /// The list's name as given (usually its path).
    pub origin: String,
    /// 1-based line number.
    pub line: usize,
    pub problem: CidrError,
}

/// A user-supplied list of suspicious sources (`--ip-list`), each with an
/// optional label such as the feed name.
#[derive(Debug, Clone, Default)]
pub struct IpList {
    source: String,
    table: CidrTable<String>,
}

impl IpList {
    /// Parses the list. `source_name` (usually the file path) is only used
    /// in error messages and in findings, so they say which list matched.
    pub fn parse(text: &str, source_name: &str) -> Result<IpList, IpListError> {
        let mut table = CidrTable::default();
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (n, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let (net, label) = match line.find(|c: char| c.is_whitespace() || c == ',') {
                Some(at) => (
                    &line[..at],
                    line[at + 1..].trim_matches(|c: char| c.is_whitespace() || c == ','),
                ),
                None => (line, ""),
            };
            let net = Cidr::parse(net).map_err(|problem| IpListError {
                origin: source_name.to_string(),
                line: n + 1,
                problem,
            })?;
            table.insert(net, label.to_string());
        }
        Ok(IpList {
            source: source_name.to_string(),
            table,
        })
    }

    /// The label of the most specific entry containing `ip` (empty when the
    /// entry had none), or `None` when the IP is not listed.
    pub fn lookup(&self, ip: &str) -> Option<&str> {
        self.table.lookup_str(ip).map(String::as_str)
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Number of distinct entries.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_list_parses_labels_comments_and_picks_the_most_specific() {
        let text = "\u{feff}# feed export 2024-03-01\n\
                    203.0.113.0/24 hosting-range\n\
                    203.0.113.66   tor exit   # seen in case 17\n\
                    \n\
                    2001:db8:bad::/48,vps\n\
                    198.51.100.7\n";
        let list = IpList::parse(text, "bad.txt").unwrap();
        assert_eq!(list.len(), 4);
        assert_eq!(list.lookup("203.0.113.66"), Some("tor exit"));
        assert_eq!(list.lookup("203.0.113.5"), Some("hosting-range"));
        assert_eq!(list.lookup("2001:db8:bad:1::9"), Some("vps"));
        assert_eq!(list.lookup("198.51.100.7"), Some(""));
        assert_eq!(list.lookup("198.51.100.8"), None);
        assert_eq!(list.lookup(""), None);
        assert_eq!(list.lookup("not-an-ip"), None);
    }

    #[test]
    fn ip_list_error_names_source_and_line() {
        let err =
            IpList::parse("10.0.0.0/8 corp\n\n10.0.0.300 typo\n", "lists/bad.txt").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("lists/bad.txt:3"), "{msg}");
        assert!(msg.contains("10.0.0.300"), "{msg}");
    }
}
