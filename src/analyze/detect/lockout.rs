//! Lockouts: one account locked again and again, or many locked at once.
//!
//! What it finds, why it matters, tuning and false positives:
//! `docs/lockout.md` (the registry in `mod.rs` serves it).

use super::registry::Settings;
use super::sql::{self, Bursts, Query};
use super::util::{self, CountAtLeast, Draft, Tally, WindowState};
use super::{Detection, DetectionConfig, Events};
use crate::model::codes::LockoutCause;
use crate::model::{Finding, Severity, SignIn, StatusClass};
use serde::{Deserialize, Serialize};

pub struct Lockout;

const KIND: &str = "lockout";

/// The `[lockout]` table of the settings file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockoutConfig {
    pub enabled: bool,
    pub window_minutes: u32,
    /// Smart-lockout refusals of one account within the window.
    pub min_lockouts: u32,
    pub tenant_window_minutes: u32,
    pub tenant_min_users: u32,
    pub tenant_min_events: u32,
    /// Count 50053 whose failure reason is missing or unrecognised (many
    /// CSV exports drop it). Explicit malicious-IP or risk blocks never count.
    pub include_undetermined: bool,
}

impl Default for LockoutConfig {
    fn default() -> Self {
        // Per user: every attempt during a lockout returns 50053, so 5 in an
        // hour means the attacker kept going after the first lock (Panther
        // waits for 20). Tenant: Elastic's O365 rule, 10 users.
        LockoutConfig {
            enabled: true,
            window_minutes: 60,
            min_lockouts: 5,
            tenant_window_minutes: 30,
            tenant_min_users: 10,
            tenant_min_events: 10,
            include_undetermined: true,
        }
    }
}

impl Settings for LockoutConfig {}

impl Detection for Lockout {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn title(&self) -> &'static str {
        "Repeated smart lockouts"
    }

    fn techniques(&self) -> &'static [&'static str] {
        &["T1110"]
    }

    fn needs(&self) -> &'static [crate::analyze::coverage::Need] {
        &[crate::analyze::coverage::Need::LockoutReason]
    }

    fn sql(&self, cfg: &DetectionConfig) -> Query {
        let c = &cfg.lockout;
        let mut causes = vec![format!("'{}'", LockoutCause::SmartLockout.as_str())];
        if c.include_undetermined {
            causes.push(format!("'{}'", LockoutCause::Undetermined.as_str()));
        }
        Query::new()
            .cte(
                "lockouts",
                format!(
                    "SELECT time, user_principal_name, 'tenant' AS scope FROM ev\n  \
                     WHERE error_code = 50053 AND status = 'failure' AND user_principal_name <> ''\n    \
                     AND lockout_cause IN ({})",
                    causes.join(", ")
                ),
            )
            .bursts(&Bursts {
                name: "locked_user",
                from: "lockouts",
                keys: &["user_principal_name"],
                window_minutes: c.window_minutes,
                distinct: &[],
                qualifies: format!("n >= {}", sql::at_least_one(c.min_lockouts)),
            })
            .bursts(&Bursts {
                name: "lockout_wave",
                from: "lockouts",
                keys: &["scope"],
                window_minutes: c.tenant_window_minutes,
                distinct: &[("users", &["user_principal_name"])],
                qualifies: format!(
                    "users >= {} AND n >= {}",
                    sql::at_least_one(c.tenant_min_users),
                    c.tenant_min_events
                ),
            })
            .select(format!(
                "SELECT {}, {}\nFROM locked_user\nGROUP BY user_principal_name, burst_start\n\
                 UNION ALL\n\
                 SELECT {}, {}\nFROM lockout_wave\nGROUP BY scope, burst_start",
                sql::head(
                    KIND,
                    "user_principal_name",
                    Some("user_principal_name"),
                    None
                ),
                sql::SPAN,
                sql::head(KIND, "'tenant'", None, None),
                sql::SPAN
            ))
            .note("facts leave out smart_lockout and undetermined (the lockouts by cause)")
            // An account's lockouts, or the tenant's, from first to last.
            .events(format!(
                "SELECT f.actor, f.first_seen AS found_first, {}\n    \
                 FROM found f JOIN (\n      \
                 SELECT * FROM ev WHERE error_code = 50053 AND status = 'failure' AND user_principal_name <> ''\n        \
                 AND lockout_cause IN ({})\n    \
                 ) e ON (f.user_principal_name IS NULL OR e.user_principal_name = f.user_principal_name)\n      \
                 AND e.time >= f.first_seen AND e.time <= f.last_seen",
                sql::member_cols("e"),
                causes.join(", ")
            ))
            .severity("CASE WHEN f.user_principal_name IS NULL THEN 'high' ELSE 'medium' END")
            .title(format!(
                "CASE WHEN f.user_principal_name IS NULL\n    \
                 THEN concat('Lockout wave: ', {users}, ' accounts locked out ', {n}, ' times in ', {span}, ' from ', {ips}, ' IP', {ips_s})\n    \
                 ELSE concat(f.actor, ' locked out ', CASE WHEN f.count = 1 THEN 'once' ELSE concat({n}, ' times in ', {span}) END,\n      \
                 ' from ', {ips}, ' IP', {ips_s}) END",
                users = sql::text_num("a.ev_users"),
                n = sql::text_num("f.count"),
                span = sql::span_text("f.span_s"),
                ips = sql::text_num("a.ev_ips"),
                ips_s = sql::plural("a.ev_ips"),
            ))
            .fact("lockouts", sql::json_num("f.count"))
    }

    fn run(&self, ev: &Events, cfg: &DetectionConfig) -> Vec<Finding> {
        let c = &cfg.lockout;
        let recs = ev.records;
        let is_lockout = |r: &SignIn| {
            r.error_code == 50053
                && r.status == StatusClass::Failure
                && !r.user_principal_name.is_empty()
                && match util::lockout_cause(r) {
                    LockoutCause::SmartLockout => true,
                    LockoutCause::Undetermined => c.include_undetermined,
                    LockoutCause::MaliciousIp | LockoutCause::HighRiskBlock => false,
                }
        };
        let mut out = Vec::new();

        let per_user = util::group_unsuccessful_by(ev, cfg, |r| {
            is_lockout(r).then_some(r.user_principal_name.as_str())
        });
        for (&user, events) in &per_user {
            for b in util::bursts(
                recs,
                events,
                util::minutes(c.window_minutes),
                &mut CountAtLeast::new(c.min_lockouts),
            ) {
                out.push(util::finding(
                    ev,
                    user_draft(recs, c.window_minutes, user, events[b].to_vec()),
                ));
            }
        }

        let tenant = util::group_unsuccessful_by(ev, cfg, |r| is_lockout(r).then_some(()));
        if let Some(events) = tenant.get(&()) {
            let mut st = Wave {
                users: Tally::default(),
                events: 0,
                min_users: c.tenant_min_users as usize,
                min_events: c.tenant_min_events as usize,
            };
            for b in util::bursts(
                recs,
                events,
                util::minutes(c.tenant_window_minutes),
                &mut st,
            ) {
                out.push(util::finding(
                    ev,
                    wave_draft(recs, c.tenant_window_minutes, events[b].to_vec()),
                ));
            }
        }
        out
    }
}

struct Wave<'a> {
    users: Tally<&'a str>,
    events: usize,
    min_users: usize,
    min_events: usize,
}

impl<'a> WindowState<'a> for Wave<'a> {
    fn push(&mut self, r: &'a SignIn) {
        self.users.add(r.user_principal_name.as_str());
        self.events += 1;
    }

    fn pop(&mut self, r: &'a SignIn) {
        self.users.remove(&r.user_principal_name.as_str());
        self.events -= 1;
    }

    fn qualifies(&self) -> bool {
        self.users.distinct() >= self.min_users.max(1) && self.events >= self.min_events
    }
}

fn cause_counts(recs: &[SignIn], events: &[usize]) -> (usize, usize) {
    let confirmed = events
        .iter()
        .filter(|&&i| util::lockout_cause(&recs[i]) == LockoutCause::SmartLockout)
        .count();
    (confirmed, events.len() - confirmed)
}

fn span(recs: &[SignIn], events: &[usize]) -> i64 {
    match (events.first(), events.last()) {
        (Some(&a), Some(&b)) => recs[b].time_us - recs[a].time_us,
        _ => 0,
    }
}

fn user_draft(recs: &[SignIn], window_minutes: u32, user: &str, events: Vec<usize>) -> Draft {
    let (confirmed, undetermined) = cause_counts(recs, &events);
    let ips = util::distinct(recs, &events, |r| r.ip.as_str());
    let how_often = match events.len() {
        1 => "once".to_string(),
        n => format!("{n} times in {}", util::span_text(span(recs, &events))),
    };
    let title = format!(
        "{user} locked out {how_often} from {} IP{}",
        ips.len(),
        util::plural(ips.len())
    );
    let remediation = vec![
        format!("Ask the owner of {user} whether they or one of their devices caused the lockouts; a phone or mail client with an old password is the usual innocent cause."),
        format!("If not, block the source IPs in the evidence and make sure {user} is protected by MFA; look for a success from those IPs after the lockouts."),
        "Smart lockout ends by itself; an admin can also unlock, and a self-service password reset clears it.".to_string(),
    ];
    let d = Draft {
        events: events.clone(),
        window_seconds: i64::from(window_minutes) * 60,
        remediation,
        ..Draft::new(KIND, user, Severity::Medium, title)
    };
    d.fact("lockouts", events.len())
        .fact("smart_lockout", confirmed)
        .fact("undetermined", undetermined)
        .fact(
            "client_apps",
            util::json_list(&util::distinct(recs, &events, |r| r.client_app.as_str())),
        )
}

fn wave_draft(recs: &[SignIn], window_minutes: u32, events: Vec<usize>) -> Draft {
    let (confirmed, undetermined) = cause_counts(recs, &events);
    let users = util::distinct(recs, &events, |r| r.user_principal_name.as_str()).len();
    let ips = util::distinct(recs, &events, |r| r.ip.as_str()).len();
    let title = format!(
        "Lockout wave: {users} accounts locked out {} times in {} from {ips} IP{}",
        events.len(),
        util::span_text(span(recs, &events)),
        util::plural(ips)
    );
    let remediation = vec![
        "Find the common source: the IPs, user agents and apps in the evidence usually point to one spraying campaign or one misconfigured service.".to_string(),
        "Block the attacking IPs or ASNs and check `password_spray` / `distributed_spray` findings for the same period.".to_string(),
        "Warn the help desk: locked-out users will call, and attackers use the confusion for help-desk social engineering.".to_string(),
    ];
    let d = Draft {
        events: events.clone(),
        window_seconds: i64::from(window_minutes) * 60,
        remediation,
        ..Draft::new(KIND, "tenant", Severity::High, title)
    };
    d.fact("lockouts", events.len())
        .fact("smart_lockout", confirmed)
        .fact("undetermined", undetermined)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::detect::util::testing::*;

    const LOCKED: &str = "Account is locked because user tried to sign in too many times with an incorrect user ID or password.";
    const MALICIOUS: &str =
        "Sign-in was blocked because it came from an IP address with malicious activity.";

    fn locked(sec: i64, user: &str, ip: &str, reason: &str) -> SignIn {
        SignIn {
            failure_reason: reason.into(),
            ..signin(sec, user, ip, 50053)
        }
    }

    #[test]
    fn repeated_lockouts_and_a_wave_fire() {
        let mut v: Vec<SignIn> = (0..6)
            .map(|k| locked(k * 300, "ceo@contoso.com", "203.0.113.20", LOCKED))
            .collect();
        // Reasonless blocks, each from its own address: nothing says
        // which cause they were (one address blocking many accounts would
        // be taken for an address block; see `model::lockout`).
        for u in 0..12 {
            v.push(locked(
                4000 + u * 60,
                &format!("user{u:02}@contoso.com"),
                &format!("203.0.113.{}", 100 + u),
                "",
            ));
        }
        let recs = fixture(v);
        let f = run(&Lockout, &recs, &DetectionConfig::default());
        assert_eq!(f.len(), 2, "{f:#?}");
        let user = f
            .iter()
            .find(|f| f.users == vec!["ceo@contoso.com"])
            .unwrap();
        assert_eq!(user.severity, Severity::Medium);
        assert_eq!(fact(user, "smart_lockout"), Some(&6.into()));
        let wave = f
            .iter()
            .find(|f| f.title.starts_with("Lockout wave"))
            .unwrap();
        assert_eq!(wave.severity, Severity::High);
        assert_eq!(fact(wave, "undetermined"), Some(&12.into()));
        assert_eq!(fact(wave, "distinct_users"), Some(&12.into()));
    }

    #[test]
    fn malicious_ip_blocks_and_single_lockouts_do_not_fire() {
        let mut v: Vec<SignIn> = (0..20)
            .map(|k| {
                locked(
                    k * 30,
                    &format!("u{k}@contoso.com"),
                    "203.0.113.99",
                    MALICIOUS,
                )
            })
            .collect();
        v.push(locked(100, "ceo@contoso.com", "203.0.113.20", LOCKED));
        v.push(locked(200, "ceo@contoso.com", "203.0.113.20", LOCKED));
        let recs = fixture(v);
        assert!(run(&Lockout, &recs, &DetectionConfig::default()).is_empty());
        // Undetermined reasons can be excluded too.
        let blank = fixture(
            (0..12)
                .map(|u| {
                    locked(
                        u * 60,
                        &format!("user{u:02}@contoso.com"),
                        &format!("203.0.113.{}", 100 + u),
                        "",
                    )
                })
                .collect(),
        );
        let mut cfg = DetectionConfig::default();
        assert_eq!(run(&Lockout, &blank, &cfg).len(), 1);
        cfg.lockout.include_undetermined = false;
        assert!(run(&Lockout, &blank, &cfg).is_empty());
        // The same blocks all from one address, with no wrong password
        // before any of them (the audit log has no reason): an address
        // block, never a lockout wave.
        let one_source = fixture(
            (0..8)
                .map(|u| {
                    locked(
                        u * 60,
                        &format!("user{u:02}@contoso.com"),
                        "203.0.113.21",
                        "",
                    )
                })
                .collect(),
        );
        assert!(one_source.iter().all(|r| r.lockout.inferred));
        assert!(run(&Lockout, &one_source, &DetectionConfig::default()).is_empty());
        assert!(run(
            &Lockout,
            &one_source,
            &DetectionConfig::preset("sentinel").unwrap()
        )
        .is_empty());
    }
}
