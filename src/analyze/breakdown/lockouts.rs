//! AADSTS50053 split by cause, and the accounts held by a risk block.

use crate::analyze::detect::lockout_cause;
use crate::model::codes::{self, LockoutCause};
use crate::model::SignIn;
use std::collections::{BTreeMap, BTreeSet};

/// One 50053 cause and the sign-ins it covers.
#[derive(Debug, Clone, PartialEq)]
pub struct CauseRow {
    pub cause: LockoutCause,
    pub sign_ins: u64,
    /// Of those, how many had their cause inferred from context (the
    /// export gave no reason; see `model::lockout`).
    pub inferred: u64,
    pub users: u64,
    pub ips: u64,
    /// The failure-reason texts seen (empty ones left out), most frequent
    /// first, then by text.
    pub reasons: Vec<(String, u64)>,
}

/// The 50053 causes (see [`CauseRow`]) and the risk-blocked accounts.
pub(super) fn of(records: &[SignIn]) -> (Vec<CauseRow>, Vec<String>) {
    struct Acc<'a> {
        count: u64,
        inferred: u64,
        users: BTreeSet<&'a str>,
        ips: BTreeSet<&'a str>,
        reasons: BTreeMap<&'a str, u64>,
    }
    let mut by: BTreeMap<LockoutCause, Acc> = BTreeMap::new();
    let mut blocked: BTreeSet<&str> = BTreeSet::new();
    for r in records {
        if codes::is_risk_block(r.error_code) && !r.user_principal_name.is_empty() {
            blocked.insert(&r.user_principal_name);
        }
        if r.error_code != 50053 {
            continue;
        }
        let a = by.entry(lockout_cause(r)).or_insert_with(|| Acc {
            count: 0,
            inferred: 0,
            users: BTreeSet::new(),
            ips: BTreeSet::new(),
            reasons: BTreeMap::new(),
        });
        a.count += 1;
        a.inferred += u64::from(r.lockout.inferred);
        if !r.user_principal_name.is_empty() {
            a.users.insert(&r.user_principal_name);
        }
        if !r.ip.is_empty() {
            a.ips.insert(&r.ip);
        }
        if !r.failure_reason.is_empty() {
            *a.reasons.entry(&r.failure_reason).or_default() += 1;
        }
    }
    let causes = LockoutCause::ALL
        .iter()
        .filter_map(|cause| {
            let a = by.remove(cause)?;
            let mut reasons: Vec<(String, u64)> = a
                .reasons
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
            reasons.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
            Some(CauseRow {
                cause: *cause,
                sign_ins: a.count,
                inferred: a.inferred,
                users: a.users.len() as u64,
                ips: a.ips.len() as u64,
                reasons,
            })
        })
        .collect();
    (causes, blocked.into_iter().map(str::to_string).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::codes::status_class;

    fn signin(user: &str, ip: &str, code: i64, reason: &str, details: &str) -> SignIn {
        SignIn {
            user_principal_name: user.into(),
            ip: ip.into(),
            error_code: code,
            status: status_class(code),
            failure_reason: reason.into(),
            additional_details: details.into(),
            ..Default::default()
        }
    }

    #[test]
    fn causes_read_the_reason_then_the_details() {
        let lock = "Account is locked because user tried to sign in too many times with an incorrect user ID or password.";
        let bad_ip =
            "Sign-in was blocked because it came from an IP address with malicious activity.";
        let recs = vec![
            signin("a@x", "192.0.2.1", 50053, lock, ""),
            signin("b@x", "192.0.2.1", 50053, lock, ""),
            // The cause is only in the additional details.
            signin("c@x", "192.0.2.2", 50053, "", bad_ip),
            signin("d@x", "192.0.2.3", 50053, "Gesperrt", ""),
            signin("e@x", "192.0.2.4", 53011, "risk", ""),
            signin("a@x", "192.0.2.1", 50126, "bad password", ""),
        ];
        let (causes, blocked) = of(&recs);
        let got: Vec<(LockoutCause, u64, u64, u64)> = causes
            .iter()
            .map(|c| (c.cause, c.sign_ins, c.users, c.ips))
            .collect();
        assert_eq!(
            got,
            [
                (LockoutCause::SmartLockout, 2, 2, 1),
                (LockoutCause::MaliciousIp, 1, 1, 1),
                (LockoutCause::Undetermined, 1, 1, 1),
            ]
        );
        assert_eq!(causes[0].reasons, [(lock.to_string(), 2)]);
        assert!(causes[1].reasons.is_empty(), "empty reasons are not listed");
        assert_eq!(blocked, ["e@x"]);
    }
}
