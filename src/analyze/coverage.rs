//! Coverage: which detections could run on this input, and why not.
//!
//! An export that lacks a field silently blinds a detection: the portal
//! CSV has no coordinates, so impossible travel finds nothing there unless
//! something supplies them; the audit log has no failure reason, so 50053
//! cannot be split by its text. A responder must know that "no finding"
//! meant "could not look". Each detection declares what it needs
//! ([`Need`], next to its code); this module checks the input once and
//! says, for every detection, whether it ran fully, partly, or not.

use serde::Serialize;

use crate::model::{SignIn, StatusClass};

/// A field a detection depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Coordinates on successful sign-ins (impossible travel).
    Coordinates,
    /// Client app or user agent (legacy protocols, tooling).
    ClientInfo,
    /// Risk levels or states, beyond the 53011 / 530032 codes.
    RiskDetail,
    /// The failure reason that tells the causes of 50053 apart.
    LockoutReason,
    /// The MFA result text that says declined, unanswered or fraud.
    MfaDetail,
    /// The network (autonomous system number) of successful sign-ins.
    Asn,
    /// The authentication protocol or original transfer method, which
    /// say a sign-in used the device-code flow.
    AuthProtocol,
    /// A session id on successful sign-ins.
    Session,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Ran with everything it reads.
    Ran,
    /// Ran, but part of what it reads is missing (said in `note`).
    Partial,
    /// Could not run on this input (said in `note`).
    NotRun,
    /// Turned off by the preset or configuration.
    Disabled,
}

impl Status {
    /// How a gap reads in a sentence ("impossible_travel could not run").
    pub fn phrase(self) -> &'static str {
        match self {
            Status::Ran => "ran",
            Status::Partial => "ran in part",
            Status::NotRun => "could not run",
            Status::Disabled => "is turned off",
        }
    }

    /// A gap worth telling the user about.
    pub fn is_gap(self) -> bool {
        matches!(self, Status::Partial | Status::NotRun)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coverage {
    pub kind: &'static str,
    pub status: Status,
    /// Why it did not run fully; empty when it did.
    pub note: String,
}

/// What the input carries, read once.
#[derive(Debug, Clone, Copy, Default)]
pub struct Presence {
    pub records: usize,
    pub successes: usize,
    pub successes_with_coordinates: usize,
    pub with_client_info: usize,
    pub with_risk_detail: usize,
    pub lockouts: usize,
    pub lockouts_without_reason: usize,
    pub lockouts_inferred: usize,
    pub mfa_failures: usize,
    pub mfa_failures_without_detail: usize,
    /// Successes of user accounts (not workloads), and how many of them
    /// carry an ASN.
    pub user_successes: usize,
    pub successes_with_asn: usize,
    /// Sign-ins of user accounts, and how many say their protocol.
    pub user_records: usize,
    pub with_protocol: usize,
    pub user_successes_with_session: usize,
}

impl Presence {
    pub fn of(records: &[SignIn]) -> Self {
        let mut p = Presence {
            records: records.len(),
            ..Presence::default()
        };
        for r in records {
            if r.status == StatusClass::Success {
                p.successes += 1;
                if r.latitude.is_some() && r.longitude.is_some() {
                    p.successes_with_coordinates += 1;
                }
                if !r.user_principal_name.is_empty() {
                    p.user_successes += 1;
                    if r.asn.is_some() {
                        p.successes_with_asn += 1;
                    }
                    // A token identifier alone names one sign-in's
                    // token, which a replay rarely reuses: only session
                    // ids let a session be followed.
                    if !r.session_id.is_empty() {
                        p.user_successes_with_session += 1;
                    }
                }
            }
            if !r.client_app.is_empty() || !r.user_agent.is_empty() {
                p.with_client_info += 1;
            }
            if !r.user_principal_name.is_empty() {
                p.user_records += 1;
                if !r.auth_protocol.is_empty() || !r.transfer_method.is_empty() {
                    p.with_protocol += 1;
                }
            }
            if !r.risk_level_during_sign_in.is_empty()
                || !r.risk_level_aggregated.is_empty()
                || !r.risk_state.is_empty()
            {
                p.with_risk_detail += 1;
            }
            if r.error_code == 50053 {
                p.lockouts += 1;
                if r.failure_reason.is_empty() && r.additional_details.is_empty() {
                    p.lockouts_without_reason += 1;
                }
                if r.lockout.inferred {
                    p.lockouts_inferred += 1;
                }
            }
            if r.error_code == 500121 {
                p.mfa_failures += 1;
                if r.additional_details.is_empty() && r.mfa_result.is_empty() {
                    p.mfa_failures_without_detail += 1;
                }
            }
        }
        p
    }

    /// How one need stands on this input: `None` when met, else the
    /// status and what to tell the user.
    fn check(&self, need: Need) -> Option<(Status, String)> {
        match need {
            Need::Coordinates if self.successes > 0 && self.successes_with_coordinates == 0 => Some((
                Status::NotRun,
                "no successful sign-in in this input has coordinates or a city the built-in gazetteer knows (the audit log carries neither); give --geoip with a City database".to_string(),
            )),
            Need::Coordinates if self.successes_with_coordinates < self.successes => Some((
                Status::Partial,
                format!(
                    "{} of {} successful sign-ins have coordinates; the rest cannot be compared",
                    self.successes_with_coordinates, self.successes
                ),
            )),
            Need::ClientInfo if self.records > 0 && self.with_client_info == 0 => Some((
                Status::NotRun,
                "this input has neither client app nor user agent".to_string(),
            )),
            Need::RiskDetail if self.records > 0 && self.with_risk_detail == 0 => Some((
                Status::Partial,
                "this input carries no risk levels or states; only the 53011 / 530032 blocks are seen".to_string(),
            )),
            Need::LockoutReason if self.lockouts_without_reason > 0 => Some((
                Status::Partial,
                format!(
                    "{} of {} 50053 replies come without a failure reason; {} of them had their cause inferred from the sign-ins around them, the rest stay undetermined",
                    self.lockouts_without_reason, self.lockouts, self.lockouts_inferred
                ),
            )),
            Need::MfaDetail if self.mfa_failures_without_detail > 0 => Some((
                Status::Partial,
                format!(
                    "{} of {} failed MFA prompts (500121) carry no detail, so whether they were declined or unanswered is unknown",
                    self.mfa_failures_without_detail, self.mfa_failures
                ),
            )),
            Need::Asn if self.user_successes > 0 && self.successes_with_asn == 0 => Some((
                Status::NotRun,
                "no successful user sign-in in this input carries an autonomous system number (the Graph and Azure Monitor exports and the portal CSV do); give --asn with an ASN database".to_string(),
            )),
            Need::Asn if self.successes_with_asn < self.user_successes => Some((
                Status::Partial,
                format!(
                    "{} of {} successful user sign-ins carry an autonomous system number; the rest cannot be placed on a network",
                    self.successes_with_asn, self.user_successes
                ),
            )),
            Need::AuthProtocol if self.user_records > 0 && self.with_protocol == 0 => Some((
                Status::NotRun,
                "this input carries neither the authentication protocol nor the original transfer method, so device-code sign-ins cannot be told apart (Graph, Azure Monitor, Log Analytics and the portal CSV carry them; the audit log does not)".to_string(),
            )),
            Need::AuthProtocol if self.with_protocol < self.user_records => Some((
                Status::Partial,
                format!(
                    "{} of {} user sign-ins say their authentication protocol; the rest cannot be checked for the device-code flow",
                    self.with_protocol, self.user_records
                ),
            )),
            Need::Session if self.user_successes > 0 && self.user_successes_with_session == 0 => Some((
                Status::NotRun,
                "no successful user sign-in in this input carries a session id (Graph, Azure Monitor and the portal CSV do; older Log Analytics exports and the audit log do not)".to_string(),
            )),
            Need::Session if self.user_successes_with_session < self.user_successes => Some((
                Status::Partial,
                format!(
                    "{} of {} successful user sign-ins carry a session id; the rest cannot be followed",
                    self.user_successes_with_session, self.user_successes
                ),
            )),
            _ => None,
        }
    }
}

/// The coverage of one detection: disabled, or the worst of its needs.
pub fn of(kind: &'static str, enabled: bool, needs: &[Need], presence: &Presence) -> Coverage {
    if !enabled {
        return Coverage {
            kind,
            status: Status::Disabled,
            note: "turned off by the preset or configuration".to_string(),
        };
    }
    let mut worst: Option<(Status, String)> = None;
    for &need in needs {
        if let Some((status, note)) = presence.check(need) {
            match &mut worst {
                Some((Status::NotRun, _)) => {}
                Some((_, notes)) if status == Status::Partial => {
                    notes.push_str("; ");
                    notes.push_str(&note);
                }
                _ => worst = Some((status, note)),
            }
        }
    }
    match worst {
        Some((status, note)) => Coverage { kind, status, note },
        None => Coverage {
            kind,
            status: Status::Ran,
            note: String::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Text;

    fn success(lat: Option<f64>) -> SignIn {
        SignIn {
            status: StatusClass::Success,
            user_principal_name: Text::from("a@x"),
            client_app: Text::from("Browser"),
            latitude: lat,
            longitude: lat,
            ..SignIn::default()
        }
    }

    #[test]
    fn says_why_a_detection_could_not_run() {
        let p = Presence::of(&[success(None), success(None)]);
        let c = of("impossible_travel", true, &[Need::Coordinates], &p);
        assert_eq!(c.status, Status::NotRun);
        assert!(c.note.contains("coordinates"), "{}", c.note);
        let p = Presence::of(&[success(Some(47.6)), success(None)]);
        assert_eq!(
            of("impossible_travel", true, &[Need::Coordinates], &p).status,
            Status::Partial
        );
        let p = Presence::of(&[success(Some(47.6))]);
        assert_eq!(
            of("impossible_travel", true, &[Need::Coordinates], &p).status,
            Status::Ran
        );
        assert_eq!(
            of("impossible_travel", false, &[Need::Coordinates], &p).status,
            Status::Disabled
        );
        assert_eq!(
            of("legacy_auth", true, &[Need::ClientInfo], &p).status,
            Status::Ran
        );
    }
}
