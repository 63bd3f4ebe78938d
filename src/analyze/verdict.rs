//! Accounts, each with a verdict: the story a responder acts on.
//!
//! Findings say what happened; this says what it means for each account
//! they name, strongest first, with the evidence that decided it and the
//! one thing to do first. Every account any finding names gets an entry
//! (but for findings that show only the owner and the tenant's own
//! equipment, see `owner_only`), and so does every account smart lockout
//! froze (the helpdesk's question), whether or not a finding reached its
//! threshold.
//!
//! What decides, in order:
//! - `compromised`: a clean success after an attack began on the account,
//!   from the attack's own address or network; or an attack's signature
//!   (impossible travel with an end that is neither on the other end's
//!   device, nor on a managed one, nor where the account had signed in on
//!   an earlier day, or on most of its days when there was none; MFA
//!   prompts then a success; a success after failures from somewhere the
//!   owner never signed in from).
//! - `credential_known`: the password was accepted (MFA, Conditional
//!   Access or a risk block stopped the sign-in) from the attack's address
//!   or network, or from somewhere the owner never signed in from.
//! - `at_risk`: blocked as risky (53011, 530032) with no success after.
//! - `locked_out`: smart lockout (a 50053 whose cause is the lockout).
//! - `suspicious`: a success worth a look that nothing above decides,
//!   among them impossible travel between the owner's devices and places.
//! - `targeted`: attacked, nothing got through.
//!
//! The owner's usual places are the addresses, devices and networks
//! (AS number with country) of the account's clean successes before the
//! attack began: a success from one of them is the owner, not the
//! attacker, even in the middle of a spray.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::Serialize;

use crate::analyze::detect::util::place_text;
use crate::analyze::usual::Usual;
use crate::model::codes::{self, LockoutCause};
use crate::model::lockout;
use crate::model::net::Network;
use crate::model::{FastHash, Finding, Severity, SignIn, StatusClass, Text};
use rayon::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Compromised,
    CredentialKnown,
    AtRisk,
    LockedOut,
    Suspicious,
    Targeted,
}

impl Verdict {
    pub const ALL: [Verdict; 6] = [
        Verdict::Compromised,
        Verdict::CredentialKnown,
        Verdict::AtRisk,
        Verdict::LockedOut,
        Verdict::Suspicious,
        Verdict::Targeted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Compromised => "compromised",
            Verdict::CredentialKnown => "credential_known",
            Verdict::AtRisk => "at_risk",
            Verdict::LockedOut => "locked_out",
            Verdict::Suspicious => "suspicious",
            Verdict::Targeted => "targeted",
        }
    }

    /// For people: report headings and the terminal.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Compromised => "Compromised",
            Verdict::CredentialKnown => "Password known to someone else",
            Verdict::AtRisk => "Blocked as risky",
            Verdict::LockedOut => "Locked out",
            Verdict::Suspicious => "Worth a look",
            Verdict::Targeted => "Targeted, nothing got through",
        }
    }

    /// The severity a verdict carries, for colours and exit codes.
    pub fn severity(self) -> Severity {
        match self {
            Verdict::Compromised => Severity::Critical,
            Verdict::CredentialKnown | Verdict::AtRisk => Severity::High,
            Verdict::LockedOut | Verdict::Suspicious => Severity::Medium,
            Verdict::Targeted => Severity::Low,
        }
    }
}

/// One account and what to do about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Account {
    pub user: String,
    pub verdict: Verdict,
    /// The evidence that decided the verdict, strongest first.
    pub reasons: Vec<String>,
    /// Ids of every finding that names the account.
    pub findings: Vec<String>,
    /// The first thing to do.
    pub action: String,
}

/// Kinds whose findings are attacks on the accounts they name (rather
/// than, say, an account's own legacy client, or a scripting client that
/// may be the tenant's own automation).
const ATTACK_KINDS: &[&str] = &[
    "password_spray",
    "password_known",
    "distributed_spray",
    "brute_force",
    "enumeration",
    "malicious_ip",
    "success_after_failures",
    "mfa_fatigue",
    "disabled_account",
    "lockout",
    "token_replay",
    "device_code_phishing",
    "low_and_slow_spray",
];

/// How soon the owner completes MFA after the prompt: a password accepted
/// and then a success from the same address within this is the owner.
const COMPLETE_US: i64 = 3_600_000_000;

/// A finding that shows the owner and the tenant's own equipment rather
/// than anyone attacking: a sign-in from a hosting network on a device the
/// tenant manages (a cloud PC, a virtual desktop), or a scripting client
/// the account has run from one address every day since before the data
/// begins. It is listed with the account's other findings, and never puts
/// an account on the list alone.
fn owner_only(f: &Finding) -> bool {
    let flag = |key| fact(f, key).and_then(|v| v.as_bool()) == Some(true);
    match f.kind.as_str() {
        "hosting_provider_sign_in" => flag("managed_device"),
        "suspicious_user_agent" => flag("routine"),
        _ => false,
    }
}

/// A clean success.
fn clean_success(r: &SignIn) -> bool {
    r.status == StatusClass::Success && r.error_code == 0
}

/// Not a success, yet Entra only says it once the password was right, and
/// then stops the sign-in: MFA (asked or refused), Conditional Access, an
/// expired password. Token and session codes that also imply a first
/// factor (50173, 70044, ...) are about stored tokens, not a password
/// typed now, so they do not count here.
fn password_accepted(r: &SignIn) -> bool {
    !clean_success(r)
        && codes::proves_password(r.error_code)
        && matches!(
            r.error_code,
            50072 | 50074 | 50076 | 50079 | 50158 | 500121 | 53003 | 50055 | 50144
        )
}

fn fact<'a>(f: &'a Finding, key: &str) -> Option<&'a serde_json::Value> {
    f.evidence
        .facts
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

/// Whether `user` is among a finding's `succeeded_users`. A finding
/// without the list (rendered from the results of SQL that predates it)
/// has its one account, if it names one, succeed when it counts
/// successes.
fn succeeded(f: &Finding, user: &str) -> bool {
    match fact(f, "succeeded_users").and_then(|v| v.as_array()) {
        Some(list) => list.iter().any(|u| u.as_str() == Some(user)),
        None => {
            f.users.len() == 1
                && f.users[0] == user
                && fact(f, "successes").and_then(|v| v.as_u64()) > Some(0)
        }
    }
}

fn time_us(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|d| d.timestamp_micros())
        .unwrap_or(i64::MIN)
}

fn when(us: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_micros(us)
        .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// What was learnt about one account while reading its story.
struct Case<'a> {
    user: &'a str,
    findings: Vec<&'a Finding>,
    /// Strongest verdict so far, with the reasons for each verdict met.
    reasons: BTreeMap<Verdict, Vec<String>>,
    /// Addresses to block, for the action.
    hostile_ips: BTreeSet<String>,
}

impl<'a> Case<'a> {
    fn note(&mut self, v: Verdict, reason: String) {
        let list = self.reasons.entry(v).or_default();
        if !list.contains(&reason) {
            list.push(reason);
        }
    }

    fn verdict(&self) -> Verdict {
        self.reasons
            .keys()
            .next()
            .copied()
            .unwrap_or(Verdict::Targeted)
    }
}

/// Every account to act on, strongest verdict first, then by name.
pub fn accounts(findings: &[Finding], records: &[SignIn]) -> Vec<Account> {
    let mut cases: BTreeMap<&str, Case> = BTreeMap::new();
    for f in findings.iter().filter(|f| !owner_only(f)) {
        for u in &f.users {
            cases
                .entry(u.as_str())
                .or_insert_with(|| Case {
                    user: u.as_str(),
                    findings: Vec::new(),
                    reasons: BTreeMap::new(),
                    hostile_ips: BTreeSet::new(),
                })
                .findings
                .push(f);
        }
    }
    for f in findings.iter().filter(|f| owner_only(f)) {
        for u in &f.users {
            if let Some(case) = cases.get_mut(u.as_str()) {
                case.findings.push(f);
            }
        }
    }
    // The sign-ins of the accounts concerned, in time order, and every
    // smart-locked account, finding or not, in one pass over the run's
    // sign-ins. Keyed by the interned account, which hashes as a pointer.
    let mut by_user: HashMap<Text, Vec<&SignIn>, FastHash> =
        cases.keys().map(|&u| (Text::from(u), Vec::new())).collect();
    let mut locked: BTreeSet<Text> = BTreeSet::new();
    for r in records {
        if let Some(list) = by_user.get_mut(&r.user_principal_name) {
            list.push(r);
        } else if r.error_code == 50053
            && !r.user_principal_name.is_empty()
            && lockout::cause(r) == LockoutCause::SmartLockout
        {
            locked.insert(r.user_principal_name);
        }
    }
    // A locked account without a finding: its sign-ins take one more pass
    // (rare; the lockout detection usually has a finding for it).
    if !locked.is_empty() {
        let mut more: HashMap<Text, Vec<&SignIn>, FastHash> =
            locked.iter().map(|&u| (u, Vec::new())).collect();
        for r in records {
            if let Some(list) = more.get_mut(&r.user_principal_name) {
                list.push(r);
            }
        }
        for u in locked {
            cases.insert(
                u.as_str(),
                Case {
                    user: u.as_str(),
                    findings: Vec::new(),
                    reasons: BTreeMap::new(),
                    hostile_ips: BTreeSet::new(),
                },
            );
        }
        by_user.extend(more);
    }
    if cases.is_empty() {
        return Vec::new();
    }
    let cases: Vec<(Case, Vec<&SignIn>)> = cases
        .into_values()
        .map(|case| {
            let recs = by_user.remove(&Text::from(case.user)).unwrap_or_default();
            (case, recs)
        })
        .collect();
    let mut out: Vec<Account> = cases
        .into_par_iter()
        .map(|(mut case, recs)| {
            read_findings(&mut case);
            read_sign_ins(&mut case, &recs);
            finish(case)
        })
        .collect();
    out.sort_by(|a, b| a.verdict.cmp(&b.verdict).then_with(|| a.user.cmp(&b.user)));
    out
}

/// Verdicts that findings decide by their own kind and facts.
fn read_findings(case: &mut Case) {
    let findings = case.findings.clone();
    for f in findings {
        match f.kind.as_str() {
            // A Sigma rule is the responder's own judgement of what is
            // suspicious; its level says how much. It is cited by title,
            // and it never claims a compromise the sign-ins do not show.
            crate::analyze::sigma::KIND => case.note(
                if f.severity >= Severity::Medium {
                    Verdict::Suspicious
                } else {
                    Verdict::Targeted
                },
                format!("Sigma rule matched: {} [{}]", f.title, f.id),
            ),
            // The owner at both ends of each hop (one device, or each end
            // on a managed device or where the account had signed in on an
            // earlier day, or on most of its days on its first day): a
            // machine that moved or went through a VPN; a second party
            // brings a device and a place of its own.
            "impossible_travel" => {
                if fact(f, "owner_at_both_ends").and_then(|v| v.as_bool()) == Some(true) {
                    case.note(
                        Verdict::Suspicious,
                        format!(
                            "impossible travel between places and devices the owner uses (each hop on one device, or each end on a device the tenant manages or where the account had signed in on an earlier day, or on most of its days when there was none), so a VPN, a proxy or a trip is likelier than a second party: {} [{}]",
                            f.title, f.id
                        ),
                    );
                } else {
                    // The fastest hop's end that nothing vouched for, named
                    // so the responder knows which sign-in to doubt.
                    let stranger = ["to", "from"]
                        .into_iter()
                        .filter_map(|k| fact(f, k))
                        .find(|end| end["known"] == false)
                        .map(|end| {
                            let at = |k: &str| end[k].as_str().unwrap_or("");
                            place_text(at("city"), at("country"), at("ip"))
                        });
                    let reason = match stranger {
                        Some(place) => format!(
                            "impossible travel, and the sign-in in {place} was on no managed device, at no place and on no device the account had used on an earlier day (or, on its first day in the data, on most of its days): {} [{}]",
                            f.title, f.id
                        ),
                        None => format!("impossible travel: {} [{}]", f.title, f.id),
                    };
                    case.note(Verdict::Compromised, reason);
                }
            }
            // Its users include every account of an address's run of
            // failures; the verdict is for the account that got in.
            "success_after_failures"
                if f.severity == Severity::Critical
                    && fact(f, "account").and_then(|v| v.as_str()) == Some(case.user) =>
            {
                let clean = fact(f, "success_codes")
                    .and_then(|v| v.as_array())
                    .is_some_and(|codes| codes.iter().any(|c| c.as_i64() == Some(0)));
                let v = if clean {
                    Verdict::Compromised
                } else {
                    Verdict::CredentialKnown
                };
                case.note(v, format!("{} [{}]", f.title, f.id));
                if let Some(ips) = fact(f, "success_ips").and_then(|v| v.as_array()) {
                    case.hostile_ips
                        .extend(ips.iter().filter_map(|ip| ip.as_str()).map(String::from));
                }
            }
            "mfa_fatigue" => {
                let success = fact(f, "success_after").and_then(|v| v.as_bool()) == Some(true);
                if success {
                    case.note(
                        Verdict::Compromised,
                        format!("MFA prompts pushed, then a success: {} [{}]", f.title, f.id),
                    );
                } else {
                    case.note(
                        Verdict::CredentialKnown,
                        format!(
                            "MFA prompts pushed (Entra asks for MFA only once the password was right): {} [{}]",
                            f.title, f.id
                        ),
                    );
                }
                case.hostile_ips.extend(f.ips.iter().cloned());
            }
            "risky_user" => {
                let risky_successes = fact(f, "risky_successes")
                    .and_then(|v| v.as_u64())
                    .unwrap_or(0);
                if risky_successes > 0 {
                    case.note(
                        Verdict::Suspicious,
                        format!("risky sign-ins succeeded: {} [{}]", f.title, f.id),
                    );
                }
            }
            "disabled_account" => {
                let others = fact(f, "other_accounts")
                    .and_then(|v| v.as_array())
                    .is_some_and(|a| a.iter().any(|u| u.as_str() == Some(case.user)));
                if others {
                    case.note(
                        Verdict::Compromised,
                        format!(
                            "signed in from a source that also tried disabled accounts: {} [{}]",
                            f.title, f.id
                        ),
                    );
                    case.hostile_ips.extend(f.ips.iter().cloned());
                }
            }
            "password_known" => {
                case.note(Verdict::CredentialKnown, format!("{} [{}]", f.title, f.id));
                case.hostile_ips.extend(f.ips.iter().cloned());
            }
            "token_replay" => {
                // Every use it names succeeded: a high one is someone
                // else in the session; a medium one may be the owner on a
                // network the data has not shown before.
                let v = if f.severity >= Severity::High {
                    Verdict::Compromised
                } else {
                    Verdict::Suspicious
                };
                case.note(
                    v,
                    format!("session used from a second network: {} [{}]", f.title, f.id),
                );
                if v == Verdict::Compromised {
                    case.hostile_ips.extend(f.ips.iter().cloned());
                }
            }
            "device_code_phishing" => {
                case.note(
                    Verdict::Compromised,
                    format!(
                        "device-code sign-in from an unfamiliar place: {} [{}]",
                        f.title, f.id
                    ),
                );
                case.hostile_ips.extend(f.ips.iter().cloned());
            }
            "hosting_provider_sign_in" if !owner_only(f) => case.note(
                Verdict::Suspicious,
                format!(
                    "signed in from a hosting, VPN or Tor network new to the account: {} [{}]",
                    f.title, f.id
                ),
            ),
            "suspicious_user_agent" if succeeded(f, case.user) && !owner_only(f) => {
                // A tool that also failed against accounts is attacking;
                // one that only ever succeeds may be the tenant's own
                // automation.
                let failures = fact(f, "failures").and_then(|v| v.as_u64()).unwrap_or(0);
                if failures > 0 {
                    case.note(
                        Verdict::Compromised,
                        format!(
                            "an attack tool that failed {failures} times against accounts got in as this one: {} [{}]",
                            f.title, f.id
                        ),
                    );
                    case.hostile_ips.extend(f.ips.iter().cloned());
                } else {
                    case.note(
                        Verdict::Suspicious,
                        format!(
                            "a scripting or attack client signed in as this account: {} [{}]",
                            f.title, f.id
                        ),
                    );
                }
            }
            "legacy_auth" if succeeded(f, case.user) => case.note(
                Verdict::Suspicious,
                format!(
                    "legacy authentication that bypasses MFA: {} [{}]",
                    f.title, f.id
                ),
            ),
            _ => {}
        }
    }
}

/// Verdicts the account's own sign-ins decide, read against the attacks
/// on it.
fn read_sign_ins(case: &mut Case, recs: &[&SignIn]) {
    let attack_start = case
        .findings
        .iter()
        .filter(|f| ATTACK_KINDS.contains(&f.kind.as_str()))
        .map(|f| time_us(&f.first_seen))
        .min();
    let attack_end = case
        .findings
        .iter()
        .filter(|f| ATTACK_KINDS.contains(&f.kind.as_str()))
        .map(|f| time_us(&f.last_seen))
        .max();
    // The attack's sources: the addresses its findings name, and their
    // networks (/24, /64). ASNs are too coarse here: a large ISP carries
    // attackers and employees alike.
    let attack_nets: HashSet<Network, FastHash> = case
        .findings
        .iter()
        .filter(|f| ATTACK_KINDS.contains(&f.kind.as_str()))
        .flat_map(|f| f.ips.iter())
        .filter_map(|ip| Network::of(ip))
        .collect();
    let mut usual = Usual::default();
    let mut risk_block: Option<&SignIn> = None;
    // A risk block followed by a success: the block and that success.
    let mut cleared: Option<(&SignIn, &SignIn)> = None;
    let mut lockouts: Vec<&SignIn> = Vec::new();
    // Passwords accepted but stopped, waiting to see whether the same
    // place completes the sign-in (then it was the owner doing MFA).
    let mut stopped: Vec<(&SignIn, bool)> = Vec::new();
    for (k, &r) in recs.iter().enumerate() {
        let under_attack = attack_start.is_some_and(|t| r.time_us >= t);
        if r.error_code == 50053 && lockout::cause(r) == LockoutCause::SmartLockout {
            lockouts.push(r);
        }
        if matches!(r.error_code, 53011 | 530032) {
            risk_block = Some(r);
        }
        if clean_success(r) {
            if let Some(b) = risk_block.take() {
                cleared = Some((b, r));
            }
        }
        if !under_attack {
            if clean_success(r) {
                usual.add(r);
            }
            continue;
        }
        // The owner's own address or device is the owner even when it
        // shares a network with the attack; a shared ISP is not enough.
        if usual.owns(r) {
            continue;
        }
        let from_attack = Network::of(&r.ip).is_some_and(|n| attack_nets.contains(&n));
        if !from_attack && usual.fits(r) {
            continue;
        }
        if clean_success(r) && from_attack {
            case.note(
                Verdict::Compromised,
                format!(
                    "signed in at {} from {}, the address or network the attack came from",
                    when(r.time_us),
                    or_unknown(r.ip.as_str())
                ),
            );
            case.hostile_ips.insert(r.ip.to_string());
        } else if password_accepted(r) {
            let completed = recs[k + 1..]
                .iter()
                .take_while(|n| n.time_us - r.time_us <= COMPLETE_US)
                .any(|n| clean_success(n) && n.ip == r.ip);
            // Away from the attack's sources, "somewhere the account does
            // not sign in from" needs the owner's places to be known, and
            // the attempt must fall in the attack's time and never be
            // completed there (the owner abandoning a prompt on a new
            // phone is not an attacker).
            let in_attack = attack_end.is_some_and(|end| r.time_us <= end + COMPLETE_US * 24);
            if from_attack || (!completed && in_attack && !usual.is_empty()) {
                stopped.push((r, from_attack));
            }
        }
    }
    // One line per place and code, however many prompts it sent.
    let mut places: BTreeMap<(&str, i64), (usize, i64, i64, bool)> = BTreeMap::new();
    for (r, from_attack) in stopped {
        let e = places.entry((r.ip.as_str(), r.error_code)).or_insert((
            0,
            r.time_us,
            r.time_us,
            from_attack,
        ));
        e.0 += 1;
        e.2 = r.time_us;
    }
    for ((ip, code), (n, first, last, from_attack)) in places {
        case.note(
            Verdict::CredentialKnown,
            format!(
                "password accepted {} from {} ({}; code {code}), {}; only {} stopped it",
                span_text(n, first, last),
                or_unknown(ip),
                if n == 1 {
                    "once".to_string()
                } else {
                    format!("{n} times")
                },
                if from_attack {
                    "the attack's address or network"
                } else {
                    "a place the account had not signed in from, never completed there"
                },
                stopper(code)
            ),
        );
        case.hostile_ips.insert(ip.to_string());
    }
    if let (None, Some((block, ok))) = (risk_block, cleared) {
        case.note(
            Verdict::Suspicious,
            format!(
                "blocked as risky ({}) at {}, then signed in from {} at {}: confirm the risk was remediated (password reset or dismissal) and by whom",
                block.error_code,
                when(block.time_us),
                or_unknown(ok.ip.as_str()),
                when(ok.time_us)
            ),
        );
    }
    if let Some(r) = risk_block {
        case.note(
            Verdict::AtRisk,
            format!(
                "blocked as risky ({}) at {}, no success since",
                r.error_code,
                when(r.time_us)
            ),
        );
    }
    if let (Some(first), Some(last)) = (lockouts.first(), lockouts.last()) {
        let inferred = lockouts.iter().any(|r| r.lockout.inferred);
        case.note(
            Verdict::LockedOut,
            format!(
                "smart lockout {} time{} {}{}",
                lockouts.len(),
                if lockouts.len() == 1 { "" } else { "s" },
                span_text(lockouts.len(), first.time_us, last.time_us),
                if inferred {
                    " (cause inferred: the export gives no reason, and wrong passwords came just before)"
                } else {
                    ""
                }
            ),
        );
    }
    if case.reasons.is_empty() {
        let attacks: Vec<&str> = case
            .findings
            .iter()
            .filter(|f| f.kind != "legacy_auth" || f.severity > Severity::Low)
            .map(|f| f.kind.as_str())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let what = if attacks.is_empty() {
            "named by a finding".to_string()
        } else {
            format!("targeted by {}", attacks.join(", "))
        };
        case.note(
            Verdict::Targeted,
            format!("{what}; no sign-in got through from the attack"),
        );
    }
    for f in &case.findings {
        if ATTACK_KINDS.contains(&f.kind.as_str()) && f.kind != "lockout" {
            case.hostile_ips.extend(f.ips.iter().cloned());
        }
    }
    // Never tell anyone to block the owner's own address.
    case.hostile_ips.retain(|ip| !usual.has_ip(ip));
}

/// "at T" for one event, "between A and B" for several.
fn span_text(n: usize, first: i64, last: i64) -> String {
    if n == 1 || first == last {
        format!("at {}", when(first))
    } else {
        format!("between {} and {}", when(first), when(last))
    }
}

fn or_unknown(ip: &str) -> &str {
    if ip.is_empty() {
        "an unknown address"
    } else {
        ip
    }
}

/// What stopped a sign-in whose password was right.
fn stopper(code: i64) -> &'static str {
    match code {
        53003 => "Conditional Access",
        53011 | 530032 => "a risk block",
        50074 | 50076 | 50079 | 50072 | 500121 | 50158 => "MFA",
        50055 | 50144 => "an expired password",
        _ => "a later check",
    }
}

fn finish(case: Case) -> Account {
    let verdict = case.verdict();
    let user = case.user;
    let ips: Vec<&str> = case
        .hostile_ips
        .iter()
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .take(5)
        .collect();
    let more = case.hostile_ips.len().saturating_sub(ips.len());
    let block = if ips.is_empty() {
        String::new()
    } else if more > 0 {
        format!(
            " Block {} and {more} more (see the findings).",
            ips.join(", ")
        )
    } else {
        format!(" Block {}.", ips.join(", "))
    };
    let action = match verdict {
        Verdict::Compromised => format!(
            "Reset the password of {user}, revoke all sessions and refresh tokens, remove MFA methods and devices added since the attack, and review mailbox rules, consents and downloads.{block}"
        ),
        Verdict::CredentialKnown => format!(
            "Reset the password of {user} now and revoke sessions: someone else has it, and only MFA or a policy stood in the way.{block}"
        ),
        Verdict::AtRisk => format!(
            "Investigate {user}, then clear the risk: an admin password reset, dismissing the risk once it is known to be safe, or a risk-based Conditional Access policy that lets the user remediate."
        ),
        Verdict::LockedOut => format!(
            "Confirm with {user} whether the failed passwords were theirs; the lockout lifts by itself. If they were not, keep the account under watch and block the guessing source.{block}"
        ),
        Verdict::Suspicious => format!(
            "Ask {user} whether the sign-in named in the reasons was theirs; if it was not, treat the account as compromised (the findings say what to block)."
        ),
        Verdict::Targeted => format!(
            "Nothing to undo for {user}: make sure MFA is enforced and the password is not reused; a later success from the attack's sources would change that.{block}"
        ),
    };
    let mut reasons: Vec<String> = Vec::new();
    for list in case.reasons.values() {
        reasons.extend(list.iter().cloned());
    }
    let mut findings: Vec<String> = case.findings.iter().map(|f| f.id.clone()).collect();
    findings.sort();
    findings.dedup();
    Account {
        user: user.to_string(),
        verdict,
        reasons,
        findings,
        action,
    }
}

/// How many accounts carry each verdict, strongest first (verdicts with
/// none left out).
pub fn counts(accounts: &[Account]) -> Vec<(Verdict, usize)> {
    Verdict::ALL
        .iter()
        .map(|&v| (v, accounts.iter().filter(|a| a.verdict == v).count()))
        .filter(|&(_, n)| n > 0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::detect::{self, DetectionConfig, Events};
    use crate::model::{SignIn, SignInType};

    const T0: i64 = 1_709_539_200_000_000;

    fn rec(sec: i64, user: &str, ip: &str, code: i64) -> SignIn {
        SignIn {
            time_us: T0 + sec * 1_000_000,
            user_principal_name: user.into(),
            ip: ip.into(),
            error_code: code,
            status: codes::status_class(code),
            app_name: "Office 365 Exchange Online".into(),
            client_app: "Browser".into(),
            sign_in_type: SignInType::Interactive,
            ..SignIn::default()
        }
    }

    fn with_reason(mut r: SignIn, reason: &str) -> SignIn {
        r.failure_reason = reason.into();
        r
    }

    fn verdicts(mut v: Vec<SignIn>) -> BTreeMap<String, Account> {
        v.sort_by_key(|r| r.time_us);
        for (n, r) in v.iter_mut().enumerate() {
            r.source_record = n as u64 + 1;
            r.request_id = format!("00000000-0000-4000-8000-{n:012x}").as_str().into();
        }
        crate::model::lockout::settle(&mut v);
        let files = vec!["signins.json".to_string()];
        let mut findings = detect::run_all(&Events::new(&v, &files), &DetectionConfig::default());
        crate::analyze::incidents::link(&mut findings);
        accounts(&findings, &v)
            .into_iter()
            .map(|a| (a.user.clone(), a))
            .collect()
    }

    /// A spray from 203.0.113.66 over twelve accounts, each of which
    /// signed in from its own office address the day before.
    fn spray() -> Vec<SignIn> {
        let mut v = Vec::new();
        for k in 0..12 {
            let user = format!("user{k:02}@contoso.com");
            v.push(rec(k, &user, "192.0.2.10", 0));
            v.push(rec(86_400 + k * 30, &user, "203.0.113.66", 50126));
        }
        v
    }

    #[test]
    fn each_story_gets_its_verdict() {
        let mut v = spray();
        // The attacker gets in on user00 from its own address.
        v.push(rec(90_000, "user00@contoso.com", "203.0.113.66", 0));
        // user01's password works for the attacker, MFA stops it.
        v.push(rec(90_010, "user01@contoso.com", "203.0.113.66", 50076));
        // user02's owner signs in from the office as every day.
        v.push(rec(90_020, "user02@contoso.com", "192.0.2.10", 0));
        // A risky user blocked, nothing after.
        v.push(rec(90_030, "risky@contoso.com", "198.51.100.7", 53011));
        // Ten wrong passwords, then smart lockout.
        for k in 0..10 {
            v.push(rec(
                95_000 + k,
                "locked@contoso.com",
                "198.51.100.20",
                50126,
            ));
        }
        v.push(with_reason(
            rec(95_020, "locked@contoso.com", "198.51.100.20", 50053),
            "Account is locked because user tried to sign in too many times with an incorrect user ID or password.",
        ));
        // An address Entra blocked for three accounts: not lockouts.
        for k in 0..3 {
            v.push(with_reason(
                rec(
                    96_000 + k,
                    &format!("blocked{k}@contoso.com"),
                    "198.51.100.99",
                    50053,
                ),
                "Sign-in was blocked because it came from an IP address with malicious activity",
            ));
        }
        let a = verdicts(v);
        assert_eq!(
            a["user00@contoso.com"].verdict,
            Verdict::Compromised,
            "{:#?}",
            a["user00@contoso.com"]
        );
        assert_eq!(
            a["user01@contoso.com"].verdict,
            Verdict::CredentialKnown,
            "{:#?}",
            a["user01@contoso.com"]
        );
        assert_eq!(
            a["user02@contoso.com"].verdict,
            Verdict::Targeted,
            "{:#?}",
            a["user02@contoso.com"]
        );
        assert_eq!(a["user03@contoso.com"].verdict, Verdict::Targeted);
        assert_eq!(a["risky@contoso.com"].verdict, Verdict::AtRisk, "{a:#?}");
        assert_eq!(
            a["locked@contoso.com"].verdict,
            Verdict::LockedOut,
            "{a:#?}"
        );
        for k in 0..3 {
            let user = format!("blocked{k}@contoso.com");
            assert_ne!(a[&user].verdict, Verdict::LockedOut, "{:#?}", a[&user]);
        }
        assert!(a["user00@contoso.com"]
            .action
            .contains("Reset the password"));
        assert!(!a["user00@contoso.com"].findings.is_empty());
    }

    #[test]
    fn a_smart_lockout_without_a_finding_still_gets_its_verdict() {
        // One lockout after one wrong password: below every detection's
        // threshold, so the account has no finding, and its sign-ins are
        // gathered on their own.
        let v = vec![
            rec(0, "quiet@contoso.com", "192.0.2.10", 0),
            rec(3_600, "quiet@contoso.com", "198.51.100.20", 50126),
            with_reason(
                rec(3_610, "quiet@contoso.com", "198.51.100.20", 50053),
                "Account is locked because user tried to sign in too many times with an incorrect user ID or password.",
            ),
            rec(7_200, "other@contoso.com", "192.0.2.11", 0),
        ];
        let a = verdicts(v);
        let quiet = &a["quiet@contoso.com"];
        assert!(quiet.findings.is_empty(), "{quiet:#?}");
        assert_eq!(quiet.verdict, Verdict::LockedOut, "{quiet:#?}");
        // The reason cites the lockout's own sign-in, so the account's
        // sign-ins were read.
        assert_eq!(
            quiet.reasons,
            ["smart lockout 1 time at 2024-03-04 09:00 UTC"],
            "{quiet:#?}"
        );
        assert!(!a.contains_key("other@contoso.com"));
    }

    #[test]
    fn the_owner_at_their_usual_address_after_failures_is_not_compromised() {
        let mut v = vec![rec(0, "bianca@contoso.com", "192.0.2.10", 0)];
        for k in 0..26 {
            v.push(rec(
                600 + k * 20,
                "bianca@contoso.com",
                "198.18.152.9",
                50126,
            ));
        }
        v.push(rec(1400, "bianca@contoso.com", "192.0.2.10", 0));
        let a = verdicts(v);
        assert_eq!(a["bianca@contoso.com"].verdict, Verdict::Targeted, "{a:#?}");
    }

    #[test]
    fn accounts_come_strongest_first() {
        let mut v = spray();
        v.push(rec(90_000, "user05@contoso.com", "203.0.113.66", 0));
        let files = vec!["signins.json".to_string()];
        v.sort_by_key(|r| r.time_us);
        let findings = detect::run_all(&Events::new(&v, &files), &DetectionConfig::default());
        let list = accounts(&findings, &v);
        assert_eq!(list[0].user, "user05@contoso.com");
        assert!(list.windows(2).all(|w| w[0].verdict <= w[1].verdict));
    }

    #[test]
    fn impossible_travel_between_the_owner_s_devices_and_places_is_worth_a_look_and_from_another_is_a_takeover(
    ) {
        const DAY: i64 = 86_400;
        let placed = |sec, user: &str, ip: &str, (lat, lon), device: &str| SignIn {
            latitude: Some(lat),
            longitude: Some(lon),
            device_id: device.into(),
            ..rec(sec, user, ip, 0)
        };
        let seattle = (47.61, -122.33);
        let moscow = (55.76, 37.62);
        let a = verdicts(
            vec![
                // The laptop's VPN comes up 40 minutes after a sign-in at home.
                placed(
                    0,
                    "mara@contoso.com",
                    "198.51.100.4",
                    seattle,
                    "laptop-mara",
                ),
                placed(
                    2400,
                    "mara@contoso.com",
                    "203.0.113.40",
                    moscow,
                    "laptop-mara",
                ),
                // Someone else's browser, 40 minutes after the owner's laptop.
                placed(0, "ole@contoso.com", "198.51.100.5", seattle, "laptop-ole"),
                placed(2400, "ole@contoso.com", "192.0.2.77", moscow, ""),
                // Two devices, neither the other's.
                placed(
                    0,
                    "ines@contoso.com",
                    "198.51.100.6",
                    seattle,
                    "laptop-ines",
                ),
                placed(
                    2400,
                    "ines@contoso.com",
                    "192.0.2.78",
                    moscow,
                    "laptop-unknown",
                ),
                // A managed laptop on a VPN abroad, a managed phone at home.
                SignIn {
                    managed: Some(true),
                    ..placed(0, "jo@contoso.com", "203.0.113.41", moscow, "laptop-jo")
                },
                SignIn {
                    compliant: Some(true),
                    ..placed(2400, "jo@contoso.com", "198.51.100.8", seattle, "phone-jo")
                },
                // A managed laptop, then an unmanaged device far away.
                SignIn {
                    managed: Some(true),
                    ..placed(0, "kai@contoso.com", "198.51.100.9", seattle, "laptop-kai")
                },
                placed(2400, "kai@contoso.com", "192.0.2.79", moscow, "pc-unknown"),
                // The phone at home every day; on day two a managed laptop on
                // a VPN abroad, then the phone again.
                placed(0, "lee@contoso.com", "198.51.100.10", seattle, "phone-lee"),
                SignIn {
                    managed: Some(true),
                    ..placed(DAY, "lee@contoso.com", "203.0.113.42", moscow, "laptop-lee")
                },
                placed(
                    DAY + 2400,
                    "lee@contoso.com",
                    "198.51.100.10",
                    seattle,
                    "phone-lee",
                ),
                // Home on day one; on day two a stranger abroad, then home.
                placed(0, "sam@contoso.com", "198.51.100.11", seattle, "phone-sam"),
                placed(DAY, "sam@contoso.com", "192.0.2.80", moscow, "pc-unknown"),
                placed(
                    DAY + 2400,
                    "sam@contoso.com",
                    "198.51.100.11",
                    seattle,
                    "phone-sam",
                ),
                // Home and a personal VPN abroad on day one, both again on day
                // two, no device ids: places the owner uses.
                placed(0, "ava@contoso.com", "198.51.100.12", seattle, ""),
                placed(12 * 3600, "ava@contoso.com", "203.0.113.43", moscow, ""),
                placed(DAY, "ava@contoso.com", "198.51.100.12", seattle, ""),
                placed(DAY + 2400, "ava@contoso.com", "203.0.113.43", moscow, ""),
                // The first day of the data: the phone at home, then a managed
                // laptop on a VPN abroad; the phone at home on the next three
                // days. Most of the account's days vouch for home. (Homes on
                // networks of their own: four accounts whose second place is
                // the same far city would make a shared one a hub.)
                placed(0, "rue@contoso.com", "198.51.101.13", seattle, "phone-rue"),
                SignIn {
                    managed: Some(true),
                    ..placed(
                        2400,
                        "rue@contoso.com",
                        "203.0.113.44",
                        moscow,
                        "laptop-rue",
                    )
                },
                // The same first day with a stranger abroad: nothing vouches
                // for a place used once.
                placed(0, "tia@contoso.com", "198.51.102.14", seattle, "phone-tia"),
                placed(2400, "tia@contoso.com", "192.0.2.81", moscow, "pc-unknown"),
            ]
            .into_iter()
            .chain((1..4).flat_map(|d| {
                [
                    placed(
                        d * DAY,
                        "rue@contoso.com",
                        "198.51.101.13",
                        seattle,
                        "phone-rue",
                    ),
                    placed(
                        d * DAY,
                        "tia@contoso.com",
                        "198.51.102.14",
                        seattle,
                        "phone-tia",
                    ),
                ]
            }))
            .collect(),
        );
        assert_eq!(a["rue@contoso.com"].verdict, Verdict::Suspicious, "{a:#?}");
        assert_eq!(a["tia@contoso.com"].verdict, Verdict::Compromised, "{a:#?}");
        assert_eq!(a["lee@contoso.com"].verdict, Verdict::Suspicious, "{a:#?}");
        assert_eq!(a["sam@contoso.com"].verdict, Verdict::Compromised, "{a:#?}");
        assert_eq!(a["ava@contoso.com"].verdict, Verdict::Suspicious, "{a:#?}");
        assert_eq!(a["jo@contoso.com"].verdict, Verdict::Suspicious, "{a:#?}");
        assert_eq!(a["kai@contoso.com"].verdict, Verdict::Compromised, "{a:#?}");
        let mara = &a["mara@contoso.com"];
        assert_eq!(mara.verdict, Verdict::Suspicious, "{a:#?}");
        assert!(mara.reasons[0].contains("places and devices the owner uses"));
        assert_eq!(a["ole@contoso.com"].verdict, Verdict::Compromised, "{a:#?}");
        // The stranger's end is named (these sign-ins carry no city).
        assert!(
            a["ole@contoso.com"].reasons[0]
                .contains("the sign-in in 192.0.2.77 was on no managed device"),
            "{a:#?}"
        );
        assert_eq!(
            a["ines@contoso.com"].verdict,
            Verdict::Compromised,
            "{a:#?}"
        );
    }

    #[test]
    fn a_cloud_pc_puts_no_account_on_the_list() {
        let day = 86_400;
        let on = |sec, user: &str, ip: &str, asn: i64, compliant: Option<bool>| SignIn {
            asn: Some(asn),
            compliant,
            ..rec(sec, user, ip, 0)
        };
        let a = verdicts(vec![
            on(0, "carol@contoso.com", "192.0.2.10", 7018, None),
            on(0, "dan@contoso.com", "192.0.2.11", 7018, None),
            // Carol's Windows 365 cloud PC; Dan from a rented server.
            on(3 * day, "carol@contoso.com", "20.42.7.9", 8075, Some(true)),
            on(3 * day, "dan@contoso.com", "20.42.7.10", 8075, None),
        ]);
        assert!(!a.contains_key("carol@contoso.com"), "{a:#?}");
        assert_eq!(a["dan@contoso.com"].verdict, Verdict::Suspicious, "{a:#?}");
    }

    #[test]
    fn a_daily_script_since_the_data_begins_puts_no_account_on_the_list() {
        let day = 86_400;
        let script = |sec, user: &str, ip: &str| SignIn {
            user_agent: "python-requests/2.31.0".into(),
            ..rec(sec, user, ip, 0)
        };
        let mut v = Vec::new();
        for d in 0..4 {
            // Eve's report job since before the data; Finn's script only
            // from day two.
            v.push(script(d * day + 600, "eve@contoso.com", "192.0.2.20"));
            if d >= 2 {
                v.push(script(d * day + 900, "finn@contoso.com", "192.0.2.21"));
            }
        }
        let a = verdicts(v);
        assert!(!a.contains_key("eve@contoso.com"), "{a:#?}");
        assert_eq!(a["finn@contoso.com"].verdict, Verdict::Suspicious, "{a:#?}");
    }
}
