//! The accounting of one input: every record read ends up parsed,
//! rejected (with a typed reason and its place) or skipped, and an input
//! that holds no sign-in at all says what it holds instead.

use super::json::frame::FrameProblem;
use crate::model::SourceFormat;
use serde::Serialize;
use std::collections::BTreeMap;

/// Problems kept verbatim per input (the rest are counted by reason).
pub const MAX_PROBLEMS: usize = 10;

/// One rejected row: where and why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Problem {
    pub location: String,
    pub reason: String,
}

/// Why a record was rejected. Each variant carries the values that make
/// the message specific; [`Reject::kind`] is the same for every record
/// rejected for the same reason, and is what `rejected_by_reason` counts.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Reject {
    #[error("no {field}")]
    NoTime { field: &'static str },
    #[error("unreadable {field} {value:?}")]
    BadTime { field: &'static str, value: String },
    #[error("no {field}")]
    NoErrorCode { field: &'static str },
    #[error("{field} {value:?} is not a number Entra uses")]
    BadErrorCode { field: &'static str, value: String },
    #[error("UserLoginFailed without ErrorNumber and with unknown LogonError {value:?}")]
    UnknownLogonError { value: String },
    #[error("authentication detail row without Request ID")]
    NoRequestId,
    #[error("empty {column} cell")]
    EmptyCell { column: &'static str },
    #[error("{column} column is not valid JSON: {error}")]
    BadJsonCell { column: &'static str, error: String },
    /// `offset` is where the parser stopped, counted in the file's bytes
    /// when the reader knows where the record began.
    #[error("invalid JSON{}: {error}", at_byte(*offset))]
    InvalidJson { error: String, offset: Option<u64> },
    #[error("a JSON value that is not an object where a record should be")]
    NotAnObject,
    #[error("JSON object of no known sign-in shape (keys: {keys})")]
    UnknownShape { keys: String },
    #[error("row has {got} fields, the header has {want}")]
    FieldCount { got: usize, want: usize },
    #[error("unreadable CSV row: {error}")]
    UnreadableCsvRow { error: String },
    #[error("{0}")]
    Frame(FrameProblem),
}

fn at_byte(offset: Option<u64>) -> String {
    match offset {
        Some(o) => format!(" at byte {o} of the file"),
        None => String::new(),
    }
}

impl Reject {
    /// The reason without the values of one record: the key of
    /// `rejected_by_reason`.
    pub fn kind(&self) -> String {
        match self {
            Reject::NoTime { field } | Reject::NoErrorCode { field } => format!("no {field}"),
            Reject::BadTime { field, .. } => format!("unreadable {field}"),
            Reject::BadErrorCode { field, .. } => {
                format!("{field} is not a number Entra uses")
            }
            Reject::UnknownLogonError { .. } => {
                "UserLoginFailed without ErrorNumber and with unknown LogonError".into()
            }
            Reject::EmptyCell { column } => format!("empty {column} cell"),
            Reject::BadJsonCell { column, .. } => format!("{column} column is not valid JSON"),
            Reject::InvalidJson { .. } => "invalid JSON".into(),
            Reject::UnknownShape { .. } => "JSON object of no known sign-in shape".into(),
            Reject::FieldCount { .. } => {
                "row has a different number of fields than the header".into()
            }
            Reject::UnreadableCsvRow { .. } => "unreadable CSV row".into(),
            Reject::Frame(p) => p.kind().into(),
            Reject::NoRequestId | Reject::NotAnObject => self.to_string(),
        }
    }
}

/// Something wrong in a record that was still kept.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Flaw {
    #[error("{field} {value:?} is not an IP address")]
    NotAnAddress { field: &'static str, value: String },
}

impl Flaw {
    fn kind(&self) -> &'static str {
        match self {
            Flaw::NotAnAddress { .. } => "a value that is not an IP address where one belongs",
        }
    }

    /// What was done about it.
    fn consequence(&self) -> &'static str {
        match self {
            Flaw::NotAnAddress { .. } => "the value was not used as the address",
        }
    }
}

/// How many kept records had one kind of flaw, and the first of them.
#[derive(Debug, Clone, Default)]
pub(crate) struct FlawTally {
    count: u64,
    first: String,
    consequence: &'static str,
}

/// The accounting of one input. `records_read = parsed + rejected +
/// skipped`; `duplicates` are parsed records dropped because another input
/// (or an earlier row) carried the same sign-in.
#[derive(Debug, Clone, Serialize, Default)]
pub struct InputReport {
    pub path: String,
    /// The detected format, or `None` if the input could not be read as
    /// any known format.
    pub format: Option<SourceFormat>,
    pub compressed: bool,
    pub bytes: u64,
    pub sha256: String,
    pub records_read: u64,
    pub parsed: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub skipped: u64,
    /// Rows of a portal AuthDetails file joined onto their sign-ins.
    pub auth_details: u64,
    pub rejected_by_reason: BTreeMap<String, u64>,
    pub skipped_by_reason: BTreeMap<String, u64>,
    /// The first few rejected rows with their location.
    pub problems: Vec<Problem>,
    /// A reason the whole input (or its remainder) could not be read.
    pub error: Option<String>,
    pub notes: Vec<String>,
    /// Flaws of kept records, turned into notes by [`InputReport::finish`].
    #[serde(skip)]
    pub(crate) flaws: BTreeMap<&'static str, FlawTally>,
    /// What the reader saw of the input's outer structure.
    #[serde(skip)]
    pub(crate) shape: Option<&'static str>,
}

impl InputReport {
    pub fn new(path: String, notes: Vec<String>) -> Self {
        InputReport {
            path,
            notes,
            ..Default::default()
        }
    }

    pub fn reject(&mut self, location: String, reason: Reject) {
        self.records_read += 1;
        self.rejected += 1;
        *self.rejected_by_reason.entry(reason.kind()).or_default() += 1;
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(Problem {
                location,
                reason: reason.to_string(),
            });
        }
    }

    pub fn skip(&mut self, reason: String) {
        self.records_read += 1;
        self.skipped += 1;
        *self.skipped_by_reason.entry(reason).or_default() += 1;
    }

    /// Counts a flaw of a record that was kept; `location` is built only
    /// for the first of its kind.
    pub fn flaw(&mut self, flaw: &Flaw, location: impl FnOnce() -> String) {
        let tally = self.flaws.entry(flaw.kind()).or_default();
        if tally.count == 0 {
            tally.first = format!("{}: {flaw}", location());
            tally.consequence = flaw.consequence();
        }
        tally.count += 1;
    }

    /// What the input looks like from outside, when the reader knows.
    pub fn set_shape(&mut self, shape: Option<&'static str>) {
        self.shape = shape;
    }

    /// Closes the accounting once the input is read: flaws become notes,
    /// and an input that had records but no sign-in among them is an
    /// error that says what it holds.
    pub fn finish(&mut self, sign_ins: u64, auth_details: u64) {
        for (kind, t) in std::mem::take(&mut self.flaws) {
            self.notes.push(format!(
                "{} record(s) held {kind}; {} (first: {})",
                t.count, t.consequence, t.first
            ));
        }
        self.parsed = sign_ins;
        self.auth_details = auth_details;
        if sign_ins > 0 || auth_details > 0 || self.records_read == 0 || self.error.is_some() {
            return;
        }
        let what = if self.skipped == self.records_read {
            let (reason, n) = self
                .skipped_by_reason
                .iter()
                .max_by_key(|(r, n)| (**n, std::cmp::Reverse(*r)))
                .map(|(r, n)| (r.as_str(), *n))
                .unwrap_or(("", 0));
            format!("{n} of its {} record(s): {reason}", self.records_read)
        } else {
            let (reason, n) = self
                .rejected_by_reason
                .iter()
                .max_by_key(|(r, n)| (**n, std::cmp::Reverse(*r)))
                .map(|(r, n)| (r.as_str(), *n))
                .unwrap_or(("", 0));
            format!(
                "{} of its {} record(s) rejected, most often for: {reason} ({n})",
                self.rejected, self.records_read
            )
        };
        self.error = Some(match self.shape {
            Some(shape) => format!("no sign-in in this input ({shape}): {what}"),
            None => format!("no sign-in in this input: {what}"),
        });
    }

    /// True when something in this input could not be used.
    pub fn is_partial(&self) -> bool {
        self.rejected > 0 || self.error.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_counted_by_kind_and_shown_whole() {
        let mut r = InputReport::default();
        for value in ["Failure: x", "abc"] {
            r.reject(
                "row 1 (line 2)".into(),
                Reject::BadErrorCode {
                    field: "Sign-in error code",
                    value: value.into(),
                },
            );
        }
        r.reject(
            "record 3 (line 3)".into(),
            Reject::UnknownShape {
                keys: "time, category".into(),
            },
        );
        assert_eq!(
            r.rejected_by_reason.keys().collect::<Vec<_>>(),
            [
                "JSON object of no known sign-in shape",
                "Sign-in error code is not a number Entra uses"
            ]
        );
        assert_eq!(
            r.rejected_by_reason["Sign-in error code is not a number Entra uses"],
            2
        );
        assert_eq!(
            r.problems[0].reason,
            "Sign-in error code \"Failure: x\" is not a number Entra uses"
        );
        assert_eq!(
            r.problems[2].reason,
            "JSON object of no known sign-in shape (keys: time, category)"
        );
    }

    #[test]
    fn an_input_without_sign_ins_says_what_it_holds() {
        let mut r = InputReport::default();
        r.skip("Azure Monitor category AuditLogs is not a sign-in log".into());
        r.finish(0, 0);
        assert_eq!(
            r.error.as_deref(),
            Some("no sign-in in this input: 1 of its 1 record(s): Azure Monitor category AuditLogs is not a sign-in log")
        );
        assert!(r.is_partial());
        // An empty input, or one of authentication details only, is not.
        let mut empty = InputReport::default();
        empty.finish(0, 0);
        assert_eq!(empty.error, None);
        let mut details = InputReport::default();
        details.skip("authentication-detail row (joined to its sign-in)".into());
        details.finish(0, 1);
        assert_eq!(details.error, None);
    }

    #[test]
    fn flaws_become_one_note_per_kind() {
        let mut r = InputReport::default();
        for n in 1..=3 {
            r.flaw(
                &Flaw::NotAnAddress {
                    field: "ipAddress",
                    value: "<IP ADDRESS>".into(),
                },
                || format!("record {n} (line {n})"),
            );
        }
        r.finish(3, 0);
        assert_eq!(
            r.notes,
            ["3 record(s) held a value that is not an IP address where one belongs; the value was not used as the address (first: record 1 (line 1): ipAddress \"<IP ADDRESS>\" is not an IP address)"]
        );
    }
}
