//! Failures by error code: the code table, 50053 by cause, risk blocks
//! with the ways to clear them, and what each code means.

use super::{actor_list, when, REASON_SAMPLES};
use crate::model::{codes, StatusClass};
use crate::report::data::ReportData;
use crate::report::escape::{cell, esc, esc_cut, num, table};
use std::fmt::Write;

pub(super) fn error_codes(out: &mut String, d: &ReportData) {
    let rows = &d.summary.by_error_code;
    out.push_str("<section id=\"error-codes\">\n<h2>Failures by error code</h2>\n");
    if rows.is_empty() {
        out.push_str("<p>Every sign-in succeeded: no error codes to explain.</p>\n</section>\n");
        return;
    }
    out.push_str(
        "<p class=\"muted\">Every code other than success, most frequent first. Interrupts are \
         extra steps, not failed attempts. Meanings and advice come from entrasift's built-in \
         catalog of AADSTS codes.</p>\n",
    );
    let table_rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let class = if r.status == StatusClass::Interrupted.as_str() {
                "interrupt".to_string()
            } else {
                esc(r.status)
            };
            vec![
                format!("<a href=\"#code-{0}\">{0}</a>", r.code),
                cell(&r.name),
                esc(&r.category.replace('_', " ")),
                class,
                num(r.count),
                num(r.users),
                num(r.ips),
                when(&r.first_seen),
                when(&r.last_seen),
            ]
        })
        .collect();
    table(
        out,
        &[
            ("Code", false),
            ("Name", false),
            ("Category", false),
            ("Class", false),
            ("Sign-ins", true),
            ("Accounts", true),
            ("IPs", true),
            ("First seen", false),
            ("Last seen", false),
        ],
        &table_rows,
    );
    lockout_breakdown(out, d);
    risk_blocks(out, d);
    out.push_str("<h3>What each code means and what to do</h3>\n");
    for r in rows {
        let _ = writeln!(out, "<div class=\"code\" id=\"code-{}\">", r.code);
        match codes::lookup(r.code) {
            Some(info) => {
                // "(interrupt, interrupt)" says nothing twice: the status
                // is named only where the category does not already say it.
                let category = info.category.replace('_', " ");
                let status = if info.interrupt {
                    "interrupt"
                } else {
                    "failure"
                };
                let tag = if category == status {
                    esc(&category)
                } else {
                    format!("{}, {status}", esc(&category))
                };
                let _ = writeln!(
                    out,
                    "<h4>AADSTS{} {} <span class=\"muted\">({tag})</span></h4>\n\
                     <p><strong>Meaning:</strong> {}</p>\n<p><strong>What to do:</strong> {}</p>",
                    r.code,
                    esc(info.name),
                    esc(info.meaning),
                    esc(info.remediation),
                );
                if !info.check.is_empty() {
                    let _ = writeln!(
                        out,
                        "<p><strong>What to check:</strong> {}</p>",
                        esc(info.check)
                    );
                }
            }
            None => {
                let _ = writeln!(
                    out,
                    "<h4>AADSTS{} <span class=\"muted\">(not in the catalog)</span></h4>\n\
                     <p>entrasift does not know this code and counts it as a failed sign-in. \
                     Read the failure reason and additional details of the log entries for \
                     what happened.</p>",
                    r.code
                );
            }
        }
        out.push_str("</div>\n");
    }
    out.push_str("</section>\n");
}

fn lockout_breakdown(out: &mut String, d: &ReportData) {
    let causes = &d.breakdown.lockout_causes;
    if causes.is_empty() {
        return;
    }
    out.push_str(
        "<h3 id=\"code-50053-causes\">AADSTS50053 by cause</h3>\n<p class=\"muted\">Entra \
         returns 50053 for smart lockout and for blocked sources alike; only the failure \
         reason tells them apart, and each calls for a different response.</p>\n",
    );
    let mut rows = Vec::new();
    for a in causes {
        let seen = if a.reasons.is_empty() {
            "<span class=\"muted\">(empty)</span>".to_string()
        } else {
            a.reasons
                .iter()
                .take(REASON_SAMPLES)
                .map(|(text, n)| format!("“{}” ({})", esc_cut(text, 200), num(*n)))
                .collect::<Vec<_>>()
                .join("<br>")
        };
        rows.push(vec![
            format!("<strong>{}</strong>", esc(a.cause.label())),
            num(a.sign_ins),
            num(a.users),
            num(a.ips),
            esc(a.cause.explanation()),
            esc(a.cause.remediation()),
            seen,
        ]);
    }
    table(
        out,
        &[
            ("Cause", false),
            ("Sign-ins", true),
            ("Accounts", true),
            ("IPs", true),
            ("What it means", false),
            ("What to do", false),
            ("Failure reasons seen", false),
        ],
        &rows,
    );
}

fn risk_blocks(out: &mut String, d: &ReportData) {
    let blocked: Vec<&crate::analyze::summary::CodeRow> = d
        .summary
        .by_error_code
        .iter()
        .filter(|r| codes::is_risk_block(r.code))
        .collect();
    out.push_str("<h3 id=\"risk-blocks\">Risk blocks (53004, 53011, 530032)</h3>\n");
    if blocked.is_empty() {
        out.push_str(
            "<p>No sign-in was blocked for user or sign-in risk (53004, 53011, 530032).</p>\n",
        );
        return;
    }
    let counts = blocked
        .iter()
        .map(|r| format!("{} × {}", num(r.count), r.code))
        .collect::<Vec<_>>()
        .join(", ");
    let _ = writeln!(
        out,
        "<p>{counts}. Blocked accounts: {}.</p>\n<p>Entra (ID Protection) refuses these \
         sign-ins until the user's risk is remediated. The options, in the order an admin \
         usually tries them:</p>",
        if d.engine.is_some() {
            // Listed from the sign-ins; the account table counts them.
            "see the risk blocks column of the account table".to_string()
        } else {
            actor_list(&d.breakdown.risk_blocked_users)
        }
    );
    for remedy in codes::risk_block_remediation() {
        let _ = writeln!(
            out,
            "<div class=\"remedy\">\n<h4>{}</h4>\n<p>{}</p>\n\
             <p><strong>Role:</strong> {}</p>\n<p><strong>Licence:</strong> {}</p>\n\
             <p><strong>Caveat:</strong> {}</p>\n</div>",
            esc(remedy.title),
            esc(remedy.steps),
            esc(remedy.role),
            esc(remedy.licence),
            esc(remedy.caveat),
        );
    }
}
