//! User agents behind failures: scripted attacks often reuse one agent
//! string across many sources.

use crate::model::{SignIn, StatusClass, Text};
use std::collections::{BTreeSet, HashMap};

/// One user agent that failed at least once.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentRow {
    /// Empty when the log did not record one.
    pub agent: String,
    pub failures: u64,
    pub sign_ins: u64,
    /// Distinct accounts and IPs of its failed sign-ins.
    pub users_failed: u64,
    pub ips_failing: u64,
}

/// Agents with failures, most failures first, then by text.
pub(super) fn of(records: &[SignIn]) -> Vec<AgentRow> {
    struct Acc<'a> {
        failures: u64,
        sign_ins: u64,
        users: BTreeSet<&'a str>,
        ips: BTreeSet<&'a str>,
    }
    // Keyed by the interned string (a pointer hash), not by its text: a
    // million lookups of long, look-alike agent strings in an ordered map
    // cost more than the rest of the report.
    let mut by: HashMap<Text, Acc, foldhash::fast::FixedState> = HashMap::default();
    for r in records {
        let a = by.entry(r.user_agent).or_insert_with(|| Acc {
            failures: 0,
            sign_ins: 0,
            users: BTreeSet::new(),
            ips: BTreeSet::new(),
        });
        a.sign_ins += 1;
        if r.status == StatusClass::Failure {
            a.failures += 1;
            if !r.user_principal_name.is_empty() {
                a.users.insert(&r.user_principal_name);
            }
            if !r.ip.is_empty() {
                a.ips.insert(&r.ip);
            }
        }
    }
    let mut ranked: Vec<AgentRow> = by
        .into_iter()
        .filter(|(_, a)| a.failures > 0)
        .map(|(ua, a)| AgentRow {
            agent: ua.as_str().to_string(),
            failures: a.failures,
            sign_ins: a.sign_ins,
            users_failed: a.users.len() as u64,
            ips_failing: a.ips.len() as u64,
        })
        .collect();
    ranked.sort_by(|a, b| b.failures.cmp(&a.failures).then(a.agent.cmp(&b.agent)));
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::codes::status_class;

    #[test]
    fn agents_rank_by_failures_and_count_failing_peers() {
        let r = |ua: &str, user: &str, ip: &str, code: i64| SignIn {
            user_agent: ua.into(),
            user_principal_name: user.into(),
            ip: ip.into(),
            error_code: code,
            status: status_class(code),
            ..Default::default()
        };
        let recs = vec![
            r("curl", "a@x", "192.0.2.1", 50126),
            r("curl", "b@x", "192.0.2.2", 50126),
            r("curl", "c@x", "192.0.2.3", 0),
            r("edge", "a@x", "192.0.2.9", 50126),
            r("", "a@x", "192.0.2.9", 50126),
            r("safari", "d@x", "192.0.2.4", 0),
        ];
        let rows = of(&recs);
        let got: Vec<(&str, u64, u64, u64, u64)> = rows
            .iter()
            .map(|a| {
                (
                    a.agent.as_str(),
                    a.failures,
                    a.sign_ins,
                    a.users_failed,
                    a.ips_failing,
                )
            })
            .collect();
        assert_eq!(
            got,
            [("curl", 2, 3, 2, 2), ("", 1, 1, 1, 1), ("edge", 1, 1, 1, 1)]
        );
    }
}
