//! The one place that decides why Entra answered AADSTS50053.
//!
//! 50053 folds three different events into one number: smart lockout
//! after wrong passwords, a source address Microsoft holds for malicious,
//! and a block for very high risk. Their fixes differ (unlock and hunt the
//! guesser, or treat the address as hostile), so every consumer (detections,
//! tables, charts, history, timelines, reports) reads the cause settled
//! here, on the record, and none decides it again.
//!
//! The failure reason says which it was, and some exports put the same text
//! in the additional details. The Purview audit log carries neither; there
//! the cause is inferred from the sign-ins around it (see [`settle`]) and
//! marked as inferred.

use rayon::prelude::*;
use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::codes::{self, LockoutCause};
use super::{SignIn, StatusClass, Text};

/// A 50053's cause as settled for one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Lockout {
    pub cause: LockoutCause,
    /// The record's own text did not say; the cause comes from context.
    pub inferred: bool,
}

/// How far back a failed password on the same account makes a reasonless
/// 50053 a smart lockout. Smart lockout engages after about ten wrong
/// passwords and lasts a minute at first, growing with repeats; an hour
/// covers the attempts that lead up to one.
const LOOKBACK_US: i64 = 3_600_000_000;

/// A reasonless 50053 is taken for an address block when the address got
/// 50053 for at least this many accounts with no wrong password before.
const MIN_BLOCKED_ACCOUNTS: usize = 2;

/// The cause the record's own text gives: the failure reason, then the
/// additional details.
pub fn cause_from_text(r: &SignIn) -> LockoutCause {
    match codes::classify_50053(&r.failure_reason) {
        LockoutCause::Undetermined => codes::classify_50053(&r.additional_details),
        cause => cause,
    }
}

/// The cause of a 50053: as [`settle`] decided it, or, for a record that
/// never went through it (built by hand), from its own text.
pub fn cause(r: &SignIn) -> LockoutCause {
    match r.lockout.cause {
        LockoutCause::Undetermined if !r.lockout.inferred => cause_from_text(r),
        settled => settled,
    }
}

/// A wrong-password reply: what leads up to a smart lockout.
fn wrong_password(r: &SignIn) -> bool {
    r.status == StatusClass::Failure && matches!(r.error_code, 50126 | 50055 | 50056 | 50064)
}

/// Sets [`SignIn::lockout`] on every 50053 of a time-sorted run.
///
/// From the text where it speaks. Where it does not (the audit log): a
/// wrong password on the same account within the hour before makes it a
/// smart lockout; otherwise, an address that got 50053 for several accounts
/// none of which had failed a password first is an address block. What
/// neither rule settles stays undetermined.
pub fn settle(records: &mut [SignIn]) {
    // A pass over every record, each its own: on the pool (it was a
    // serial twentieth of a CSV run's normalize stage on two threads).
    // The indexes come back in record order.
    let unsettled: Vec<usize> = records
        .par_iter_mut()
        .enumerate()
        .filter_map(|(i, r)| {
            if r.error_code != 50053 {
                return None;
            }
            let cause = cause_from_text(r);
            r.lockout = Lockout {
                cause,
                inferred: false,
            };
            (cause == LockoutCause::Undetermined).then_some(i)
        })
        .collect();
    if unsettled.is_empty() {
        return;
    }
    // Last wrong password per account, walking in time order.
    let mut last_wrong: HashMap<Text, i64> = HashMap::new();
    let mut after_wrong: HashSet<usize> = HashSet::new();
    let mut next = unsettled.iter().peekable();
    for (i, r) in records.iter().enumerate() {
        if next.peek() == Some(&&i) {
            next.next();
            if last_wrong
                .get(&r.user_principal_name)
                .is_some_and(|&t| r.time_us - t <= LOOKBACK_US)
            {
                after_wrong.insert(i);
            }
        }
        if wrong_password(r) && !r.user_principal_name.is_empty() {
            last_wrong.insert(r.user_principal_name, r.time_us);
        }
    }
    // Accounts per address among the reasonless blocks with no wrong
    // password before them.
    let mut cold: HashMap<Text, HashSet<Text>> = HashMap::new();
    for &i in unsettled.iter().filter(|i| !after_wrong.contains(i)) {
        let r = &records[i];
        if !r.ip.is_empty() {
            cold.entry(r.ip).or_default().insert(r.user_principal_name);
        }
    }
    for i in unsettled {
        let r = &mut records[i];
        let cause = if after_wrong.contains(&i) {
            LockoutCause::SmartLockout
        } else if cold
            .get(&r.ip)
            .is_some_and(|users| users.len() >= MIN_BLOCKED_ACCOUNTS)
        {
            LockoutCause::MaliciousIp
        } else {
            continue;
        };
        r.lockout = Lockout {
            cause,
            inferred: true,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(sec: i64, user: &str, ip: &str, code: i64, reason: &str) -> SignIn {
        SignIn {
            time_us: sec * 1_000_000,
            user_principal_name: Text::from(user),
            ip: Text::from(ip),
            error_code: code,
            status: codes::status_class(code),
            failure_reason: Text::from(reason),
            ..SignIn::default()
        }
    }

    #[test]
    fn text_decides_where_it_speaks() {
        let mut v = vec![
            rec(0, "a@x", "203.0.113.1", 50053, "IP address with malicious activity"),
            rec(
                1,
                "b@x",
                "203.0.113.2",
                50053,
                "Account is locked because user tried to sign in too many times with an incorrect user ID or password.",
            ),
        ];
        settle(&mut v);
        assert_eq!(v[0].lockout.cause, LockoutCause::MaliciousIp);
        assert_eq!(v[1].lockout.cause, LockoutCause::SmartLockout);
        assert!(!v[0].lockout.inferred && !v[1].lockout.inferred);
    }

    #[test]
    fn reasonless_blocks_are_inferred_from_context() {
        let mut v = Vec::new();
        // One address blocked for eight accounts, no password tried first.
        for k in 0..8 {
            v.push(rec(k, &format!("u{k}@x"), "198.51.100.9", 50053, ""));
        }
        // An account guessed at, then locked.
        for k in 0..10 {
            v.push(rec(100 + k, "victim@x", "203.0.113.5", 50126, ""));
        }
        v.push(rec(120, "victim@x", "203.0.113.5", 50053, ""));
        // A lone reasonless block: nothing to go on.
        v.push(rec(5000, "lone@x", "192.0.2.1", 50053, ""));
        settle(&mut v);
        for r in &v[..8] {
            assert_eq!(r.lockout.cause, LockoutCause::MaliciousIp);
            assert!(r.lockout.inferred);
        }
        assert_eq!(v[18].lockout.cause, LockoutCause::SmartLockout);
        assert!(v[18].lockout.inferred);
        assert_eq!(v[19].lockout.cause, LockoutCause::Undetermined);
        assert!(!v[19].lockout.inferred);
    }

    #[test]
    fn an_old_wrong_password_does_not_explain_a_block() {
        let mut v = vec![
            rec(0, "a@x", "203.0.113.5", 50126, ""),
            rec(7200, "a@x", "203.0.113.5", 50053, ""),
        ];
        settle(&mut v);
        assert_eq!(v[1].lockout.cause, LockoutCause::Undetermined);
    }
}
