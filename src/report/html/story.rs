//! The story at the top of the page: the accounts to act on, each with
//! its verdict and first action, and what the run could not check.
//! Everything here is computed in `analyze` (verdicts, coverage); this only
//! lays it out.

use super::{finding_anchor, finding_numbers};
use crate::analyze::verdict::{self, Account, Verdict};
use crate::report::data::ReportData;
use crate::report::escape::{esc, esc_cut, num};
use std::collections::HashMap;
use std::fmt::Write;

/// Accounts shown before the rest fold away.
const SHOWN_ACCOUNTS: usize = 100;

fn verdict_badge(v: Verdict) -> String {
    format!(
        "<span class=\"badge {}\">{}</span>",
        v.severity().as_str(),
        esc(v.label())
    )
}

/// "Accounts to act on": every account with a verdict above "targeted",
/// strongest first, then the targeted ones folded.
pub(super) fn accounts(out: &mut String, d: &ReportData) {
    let all = &d.story.accounts;
    out.push_str("<section id=\"accounts\">\n<h2>Accounts to act on</h2>\n");
    if all.is_empty() {
        out.push_str(
            "<p>No account was attacked, locked out or blocked in these logs.</p>\n</section>\n",
        );
        return;
    }
    let counts: Vec<String> = verdict::counts(all)
        .iter()
        .map(|(v, n)| format!("{} {}", verdict_badge(*v), num(*n as u64)))
        .collect();
    let _ = writeln!(out, "<div class=\"sevcounts\">{}</div>", counts.join(" "));
    let index = finding_numbers(d);
    let (act, targeted): (Vec<&Account>, Vec<&Account>) =
        all.iter().partition(|a| a.verdict != Verdict::Targeted);
    if act.is_empty() {
        out.push_str("<p>No account was compromised, exposed, blocked or locked out: the attacks below got nowhere.</p>\n");
    } else {
        account_table(out, &act[..act.len().min(SHOWN_ACCOUNTS)], &index, d);
        if act.len() > SHOWN_ACCOUNTS {
            out.push_str("<details>\n");
            let _ = writeln!(
                out,
                "<summary>{} more accounts to act on (all in findings.json)</summary>",
                num((act.len() - SHOWN_ACCOUNTS) as u64)
            );
            account_table(out, &act[SHOWN_ACCOUNTS..], &index, d);
            out.push_str("</details>\n");
        }
    }
    if !targeted.is_empty() {
        let _ = writeln!(
            out,
            "<details>\n<summary>{} accounts targeted, nothing got through</summary>",
            num(targeted.len() as u64)
        );
        account_table(out, &targeted, &index, d);
        out.push_str("</details>\n");
    }
    out.push_str("</section>\n");
}

fn account_table(
    out: &mut String,
    list: &[&Account],
    index: &HashMap<&str, usize>,
    d: &ReportData,
) {
    out.push_str(
        "<table class=\"accounts\">\n<thead><tr><th>Verdict</th><th>Account</th><th>Why</th>\
         <th>Do first</th><th>Findings</th></tr></thead>\n<tbody>\n",
    );
    for a in list {
        let why = match a.reasons.split_first() {
            None => String::new(),
            Some((first, [])) => esc_cut(first, 400),
            Some((first, rest)) => format!(
                "{}<details><summary>{} more</summary><ul>{}</ul></details>",
                esc_cut(first, 400),
                num(rest.len() as u64),
                rest.iter()
                    .map(|r| format!("<li>{}</li>", esc_cut(r, 400)))
                    .collect::<String>()
            ),
        };
        let links: Vec<String> = a
            .findings
            .iter()
            .filter_map(|id| index.get(id.as_str()).map(|&i| (i, id)))
            .map(|(i, _)| {
                format!(
                    "<a href=\"#{}\">F{}</a>",
                    finding_anchor(&d.findings[i]),
                    i + 1
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            verdict_badge(a.verdict),
            esc_cut(&a.user, 200),
            why,
            esc(&a.action),
            links.join(" ")
        );
    }
    out.push_str("</tbody>\n</table>\n");
}

/// What the run could not check on this input, and why.
pub(super) fn coverage(out: &mut String, d: &ReportData) {
    let gaps: Vec<_> = d
        .story
        .coverage
        .iter()
        .filter(|c| c.status.is_gap())
        .collect();
    if gaps.is_empty() {
        return;
    }
    out.push_str("<section id=\"coverage\">\n<h2>What these logs could not show</h2>\n<ul>\n");
    for c in gaps {
        let _ = writeln!(
            out,
            "<li><span class=\"mono\">{}</span> {}: {}</li>",
            esc(c.kind),
            c.status.phrase(),
            esc(&c.note)
        );
    }
    out.push_str("</ul>\n</section>\n");
}
