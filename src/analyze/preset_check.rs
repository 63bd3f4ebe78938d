//! What the presets' thresholds make of the same sign-ins. When a
//! responder is asked why the SIEM stayed quiet, or whether a finding
//! would have fired there, the answer should not take four runs of the
//! tool and a diff: each finding of a detection some preset sets
//! differently is looked for under every preset, and what a preset
//! raises that this run does not is listed apart.
//!
//! A preset is a product's rule thresholds where this tool's model allows
//! (`detect::presets` says where it cannot), so the answer reads "under
//! the sentinel preset", never "Sentinel would have".
//!
//! Only the detections whose settings differ under some preset run again,
//! each under the preset's settings of that detection and this run's
//! everything else (allowlist, IP list, data files, which detections are
//! on); a detection reads only its own settings table, so the rest of its
//! findings cannot change.

use crate::analyze::detect::{self, DetectionConfig, Events, DETECTIONS, PRESETS};
use crate::model::Finding;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};

/// The comparison, in `findings.json` and both reports.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PresetCheck {
    /// The presets, in the order `entrasift detections --preset` takes them.
    pub presets: Vec<String>,
    /// The preset whose thresholds this run used for every detection
    /// compared; `None` when a settings file changed one of them.
    pub this_run: Option<String>,
    /// The detections some preset sets differently: only their findings
    /// are compared. Registry order.
    pub kinds: Vec<String>,
    /// Each finding of this run of those detections, in report order.
    pub findings: Vec<Raised>,
    /// What some preset raises that no finding of this run covers, in
    /// report order.
    pub elsewhere: Vec<Elsewhere>,
}

/// One finding of this run and the presets that raise it too.
#[derive(Debug, Clone, Serialize)]
pub struct Raised {
    pub id: String,
    pub kind: String,
    pub title: String,
    /// Preset names, in [`PresetCheck::presets`] order.
    pub under: Vec<String>,
}

/// A finding only other presets raise.
#[derive(Debug, Clone, Serialize)]
pub struct Elsewhere {
    /// Preset names, in [`PresetCheck::presets`] order.
    pub under: Vec<String>,
    /// As the first of those presets raised it.
    pub finding: Finding,
    /// Ids of this run's findings of any detection that share an account
    /// or an address with it in overlapping time (report order): what
    /// this run made of the same sign-ins, as when a spray under one
    /// preset is an enumeration under another.
    pub seen_as: Vec<String>,
}

impl Elsewhere {
    /// The detections of this run's findings in [`Elsewhere::seen_as`],
    /// each once, in report order; `findings` are the run's.
    pub fn seen_kinds<'f>(&self, findings: &'f [Finding]) -> Vec<&'f str> {
        let mut kinds: Vec<&str> = Vec::new();
        for f in findings.iter().filter(|f| self.seen_as.contains(&f.id)) {
            if !kinds.contains(&f.kind.as_str()) {
                kinds.push(&f.kind);
            }
        }
        kinds
    }
}

/// Runs the comparison for the run's findings `found` (report order), as
/// detected on `ev` with `run`.
pub fn compare(ev: &Events, run: &DetectionConfig, found: &[Finding]) -> PresetCheck {
    let presets: Vec<(&str, DetectionConfig)> = PRESETS
        .iter()
        .filter_map(|&name| Some((name, DetectionConfig::preset(name).ok()?)))
        .collect();
    let base = DetectionConfig::default();
    let touched: HashSet<&str> = presets
        .iter()
        .flat_map(|(_, p)| p.kinds_differing(&base))
        .collect();
    let kinds: Vec<&str> = DETECTIONS
        .iter()
        .map(|d| d.kind())
        .filter(|k| touched.contains(k) && run.is_enabled(k))
        .collect();
    // Each preset's settings of the compared detections on top of this
    // run's settings, and which of those differ from this run's.
    let configs: Vec<(&str, DetectionConfig, Vec<&str>)> = presets
        .iter()
        .map(|(name, p)| {
            let mut c = run.clone();
            c.preset = name.to_string();
            for k in &kinds {
                c.adopt(p, k);
            }
            let rerun = c.kinds_differing(run);
            (*name, c, rerun)
        })
        .collect();
    let raised: Vec<Vec<Finding>> = configs
        .par_iter()
        .map(|(name, c, rerun)| {
            let mut fs = detect::run_some(ev, c, rerun, &format!(" (preset {name})"));
            fs.extend(
                found
                    .iter()
                    .filter(|f| {
                        kinds.contains(&f.kind.as_str()) && !rerun.contains(&f.kind.as_str())
                    })
                    .cloned(),
            );
            fs
        })
        .collect();
    let names: Vec<String> = configs.iter().map(|(n, _, _)| n.to_string()).collect();
    let ours: Vec<&Finding> = found
        .iter()
        .filter(|f| kinds.contains(&f.kind.as_str()))
        .collect();
    PresetCheck {
        this_run: configs
            .iter()
            .find(|(_, _, rerun)| rerun.is_empty())
            .map(|(n, _, _)| n.to_string()),
        kinds: kinds.iter().map(|k| k.to_string()).collect(),
        findings: ours
            .iter()
            .map(|f| Raised {
                id: f.id.clone(),
                kind: f.kind.clone(),
                title: f.title.clone(),
                under: names
                    .iter()
                    .zip(&raised)
                    .filter(|(_, theirs)| theirs.iter().any(|g| covers(f, g)))
                    .map(|(n, _)| n.clone())
                    .collect(),
            })
            .collect(),
        elsewhere: elsewhere(&names, &raised, &ours, found),
        presets: names,
    }
}

/// The presets' findings no finding of this run covers, one entry for
/// those that cover each other.
fn elsewhere(
    names: &[String],
    raised: &[Vec<Finding>],
    ours: &[&Finding],
    found: &[Finding],
) -> Vec<Elsewhere> {
    let mut by_kind: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in ours {
        by_kind.entry(f.kind.as_str()).or_default().push(f);
    }
    let mut out: Vec<Elsewhere> = Vec::new();
    for (name, theirs) in names.iter().zip(raised) {
        for g in theirs {
            let known = by_kind
                .get(g.kind.as_str())
                .is_some_and(|fs| fs.iter().any(|f| covers(f, g)));
            if known {
                continue;
            }
            match out.iter_mut().find(|e| covers(&e.finding, g)) {
                Some(e) if !e.under.contains(name) => e.under.push(name.clone()),
                Some(_) => {}
                None => out.push(Elsewhere {
                    under: vec![name.clone()],
                    finding: g.clone(),
                    seen_as: found
                        .iter()
                        .filter(|f| meets(f, g))
                        .map(|f| f.id.clone())
                        .collect(),
                }),
            }
        }
    }
    out.sort_by(|a, b| detect::report_order(&a.finding, &b.finding));
    out
}

/// Whether two findings are the same event seen through different
/// thresholds: one detection, overlapping time, and an account or an
/// address in common (or neither naming any). Windows and counts differ
/// between presets, so ids do not match.
fn covers(a: &Finding, b: &Finding) -> bool {
    a.kind == b.kind && meets(a, b)
}

/// Overlapping time and an account or an address in common (or neither
/// naming any), whatever the detections.
fn meets(a: &Finding, b: &Finding) -> bool {
    let named = |f: &Finding| !f.users.is_empty() || !f.ips.is_empty();
    a.first_seen <= b.last_seen
        && b.first_seen <= a.last_seen
        && (shares(&a.users, &b.users) || shares(&a.ips, &b.ips) || !(named(a) || named(b)))
}

fn shares(a: &[String], b: &[String]) -> bool {
    let (small, big) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if big.len() <= 16 {
        return small.iter().any(|x| big.contains(x));
    }
    let set: HashSet<&str> = big.iter().map(String::as_str).collect();
    small.iter().any(|x| set.contains(x.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::detect::util::testing::{files, fixture, signin};

    /// One address trying `users` accounts, one bad password each,
    /// `gap` seconds apart, from `start` seconds on.
    fn spray(ip: &str, users: usize, gap: i64, start: i64) -> Vec<crate::model::SignIn> {
        (0..users)
            .map(|k| {
                signin(
                    start + k as i64 * gap,
                    &format!("user{k:02}@contoso.com"),
                    ip,
                    50126,
                )
            })
            .collect()
    }

    #[test]
    fn each_finding_says_which_presets_raise_it_and_the_rest_is_listed_apart() {
        // 20 accounts in 10 minutes: a spray under default (10 accounts
        // in 30 min), sentinel (5 in 20) and elastic (15 in 30), not under
        // splunk (31 in 5). One smart lockout, once: only sentinel's
        // lockout rule (every 50053) raises it.
        let mut v = spray("203.0.113.7", 20, 30, 0);
        let mut lock = signin(7200, "solo@contoso.com", "198.51.100.9", 50053);
        lock.failure_reason = "Account is locked because user tried to sign in too many times with an incorrect user ID or password.".into();
        v.push(lock);
        // 25 accounts that do not exist, from another address an hour
        // later: an enumeration here, a spray under elastic (whose codes
        // take in 50034).
        v.extend((0..25).map(|k| {
            signin(
                3600 + k * 30,
                &format!("ghost{k:02}@contoso.com"),
                "192.0.2.99",
                50034,
            )
        }));
        let recs = fixture(v);
        let files = files();
        let ev = Events::new(&recs, &files);
        let run = DetectionConfig::default();
        let found = detect::run_all(&ev, &run);
        let check = compare(&ev, &run, &found);
        assert_eq!(check.presets, ["default", "sentinel", "splunk", "elastic"]);
        assert_eq!(check.this_run.as_deref(), Some("default"));
        assert!(check.kinds.iter().any(|k| k == "password_spray"));
        assert!(!check.kinds.iter().any(|k| k == "token_replay"));
        let spray = check
            .findings
            .iter()
            .find(|r| r.kind == "password_spray")
            .expect("the run's spray finding is compared");
        assert_eq!(spray.under, ["default", "sentinel", "elastic"]);
        let lockouts: Vec<_> = check
            .elsewhere
            .iter()
            .filter(|e| e.finding.kind == "lockout")
            .collect();
        assert_eq!(lockouts.len(), 1, "{:#?}", check.elsewhere);
        assert_eq!(lockouts[0].under, ["sentinel"]);
        // The lone lockout is nothing else in this run.
        assert!(lockouts[0].seen_as.is_empty(), "{:?}", lockouts[0].seen_as);
        assert!(lockouts[0]
            .finding
            .users
            .iter()
            .any(|u| u == "solo@contoso.com"));
        let ghosts: Vec<_> = check
            .elsewhere
            .iter()
            .filter(|e| e.finding.ips.iter().any(|ip| ip == "192.0.2.99"))
            .collect();
        assert_eq!(ghosts.len(), 1, "{:#?}", check.elsewhere);
        assert_eq!(ghosts[0].finding.kind, "password_spray");
        assert_eq!(ghosts[0].under, ["elastic"]);
        let seen: Vec<&str> = found
            .iter()
            .filter(|f| ghosts[0].seen_as.contains(&f.id))
            .map(|f| f.kind.as_str())
            .collect();
        assert!(seen.contains(&"enumeration"), "{seen:?}");
        // Nothing this run found is listed as found elsewhere only.
        for e in &check.elsewhere {
            assert!(
                !found.iter().any(|f| covers(f, &e.finding)),
                "{}",
                e.finding.title
            );
        }
    }

    #[test]
    fn a_run_under_another_preset_is_that_column_and_a_changed_threshold_is_none() {
        let recs = fixture(spray("203.0.113.7", 20, 30, 0));
        let files = files();
        let ev = Events::new(&recs, &files);
        let run = DetectionConfig::preset("splunk").unwrap();
        let found = detect::run_all(&ev, &run);
        let check = compare(&ev, &run, &found);
        assert_eq!(check.this_run.as_deref(), Some("splunk"));
        // Splunk raises no spray here, so the run has none to compare;
        // the other three presets' one spray is listed apart, once.
        assert!(!check.findings.iter().any(|r| r.kind == "password_spray"));
        let sprays: Vec<_> = check
            .elsewhere
            .iter()
            .filter(|e| e.finding.kind == "password_spray")
            .collect();
        assert_eq!(sprays.len(), 1, "{:#?}", check.elsewhere);
        assert_eq!(sprays[0].under, ["default", "sentinel", "elastic"]);
        // What the splunk run made of the same failures.
        let same: Vec<&str> = found
            .iter()
            .filter(|f| sprays[0].seen_as.contains(&f.id))
            .map(|f| f.kind.as_str())
            .collect();
        assert_eq!(same.len(), sprays[0].seen_as.len());
        assert!(same.iter().all(|k| *k != "password_spray"), "{same:?}");

        let mut tuned = DetectionConfig::default();
        tuned.password_spray.min_users = 25;
        let found = detect::run_all(&ev, &tuned);
        let check = compare(&ev, &tuned, &found);
        assert_eq!(check.this_run, None);
        // A switched-off detection is not compared.
        tuned.set_enabled("password_spray", false).unwrap();
        let check = compare(&ev, &tuned, &detect::run_all(&ev, &tuned));
        assert!(!check.kinds.iter().any(|k| k == "password_spray"));
        assert!(!check
            .elsewhere
            .iter()
            .any(|e| e.finding.kind == "password_spray"));
    }

    #[test]
    fn findings_cover_each_other_on_a_shared_actor_in_overlapping_time() {
        let f = |users: &[&str], ips: &[&str], first: &str, last: &str| Finding {
            id: String::new(),
            kind: "brute_force".into(),
            severity: crate::model::Severity::Medium,
            title: String::new(),
            ips: ips.iter().map(|s| s.to_string()).collect(),
            users: users.iter().map(|s| s.to_string()).collect(),
            error_codes: Vec::new(),
            count: 1,
            first_seen: first.into(),
            last_seen: last.into(),
            window_seconds: 600,
            evidence: Default::default(),
            remediation: Vec::new(),
            related: Vec::new(),
            techniques: Vec::new(),
        };
        let t = |m: u32| format!("2026-03-02T10:{m:02}:00.000000Z");
        let a = f(&["a@x"], &["192.0.2.1"], &t(0), &t(10));
        assert!(covers(&a, &f(&["a@x"], &[], &t(10), &t(20))));
        assert!(!covers(&a, &f(&["a@x"], &[], &t(11), &t(20))));
        assert!(covers(&a, &f(&["b@x"], &["192.0.2.1"], &t(5), &t(6))));
        assert!(!covers(&a, &f(&["b@x"], &["192.0.2.2"], &t(5), &t(6))));
        let many: Vec<String> = (0..40).map(|k| format!("u{k}@x")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(covers(
            &f(&many, &[], &t(0), &t(1)),
            &f(&["u39@x"], &[], &t(0), &t(1))
        ));
        let mut other = a.clone();
        other.kind = "password_spray".into();
        assert!(!covers(&a, &other));
    }
}
