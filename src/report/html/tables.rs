//! The charts section and the ranked tables: IP addresses, accounts,
//! apps, countries, client apps and user agents.

use super::{when, SIDE_ROWS, TOP_ROWS};
use crate::analyze::aggregate::GroupRow;
use crate::report::charts::Chart;
use crate::report::data::ReportData;
use crate::report::escape::{cell, esc, more_note, num, table};
use std::fmt::Write;

pub(super) fn chart_section(out: &mut String, charts: &[Chart]) {
    out.push_str("<section id=\"charts\">\n<h2>Charts</h2>\n");
    if charts.is_empty() {
        out.push_str("<p>No charts were drawn.</p>\n");
    }
    // The trend chart sits in its own section at the top.
    for c in charts.iter().filter(|c| c.name != "trends") {
        // Chart markup is produced by `charts`, which escapes its own text.
        let _ = writeln!(
            out,
            "<figure id=\"chart-{}\" aria-label=\"{}\">\n{}</figure>",
            esc(c.name),
            esc(&c.title),
            c.svg
        );
    }
    out.push_str("</section>\n");
}

/// "last success" is flagged when the actor also failed: a success after
/// failures is what an investigator checks first.
fn last_success(r: &GroupRow) -> String {
    if r.last_success.is_empty() {
        "<span class=\"muted\">–</span>".into()
    } else if r.failures >= 5 && r.failures >= r.successes {
        // A source or account that mostly fails and still got in: the one
        // combination worth the colour (most rows have a few failures
        // among many successes).
        format!("<span class=\"warn\">{}</span>", when(&r.last_success))
    } else {
        when(&r.last_success)
    }
}

fn list_cell(s: &str) -> String {
    cell(&s.replace(';', ", "))
}

pub(super) fn top_ips(out: &mut String, d: &ReportData) {
    let rows = &d.tables.by_ip;
    out.push_str(
        "<section id=\"top-ips\">\n<h2>IP addresses by failures</h2>\n<p class=\"muted\">A \
         highlighted last success means the address also signed in successfully.</p>\n",
    );
    let body: Vec<Vec<String>> = rows
        .iter()
        .take(TOP_ROWS)
        .map(|r| {
            vec![
                format!("<span class=\"mono\">{}</span>", cell(&r.key)),
                num(r.failures),
                num(r.interrupts),
                num(r.successes),
                num(r.lockouts),
                num(r.ip_blocks),
                num(r.risk_blocks),
                num(r.users),
                list_cell(&r.codes),
                list_cell(&r.countries),
                list_cell(&r.asns),
                when(&r.first_seen),
                when(&r.last_seen),
                last_success(r),
            ]
        })
        .collect();
    table(
        out,
        &[
            ("IP address", false),
            ("Failures", true),
            ("Interrupts", true),
            ("Successes", true),
            ("Smart lockouts", true),
            ("Address blocks", true),
            ("Risk blocks", true),
            ("Accounts", true),
            ("Codes", false),
            ("Countries", false),
            ("ASNs", false),
            ("First seen", false),
            ("Last seen", false),
            ("Last success", false),
        ],
        &body,
    );
    more_note(out, body.len(), rows.len(), "by_ip");
    out.push_str("</section>\n");
}

pub(super) fn top_users(out: &mut String, d: &ReportData) {
    let rows = &d.tables.by_user;
    out.push_str(
        "<section id=\"top-users\">\n<h2>Accounts by failures</h2>\n<p class=\"muted\">A \
         highlighted last success means the account signed in successfully despite failures: \
         check that it was the owner.</p>\n",
    );
    let body: Vec<Vec<String>> = rows
        .iter()
        .take(TOP_ROWS)
        .map(|r| {
            vec![
                format!("<span class=\"mono\">{}</span>", cell(&r.key)),
                num(r.failures),
                num(r.interrupts),
                num(r.successes),
                num(r.lockouts),
                num(r.ip_blocks),
                num(r.risk_blocks),
                num(r.ips),
                list_cell(&r.codes),
                list_cell(&r.countries),
                when(&r.first_seen),
                when(&r.last_seen),
                last_success(r),
            ]
        })
        .collect();
    table(
        out,
        &[
            ("Account", false),
            ("Failures", true),
            ("Interrupts", true),
            ("Successes", true),
            ("Smart lockouts", true),
            ("Address blocks", true),
            ("Risk blocks", true),
            ("IPs", true),
            ("Codes", false),
            ("Countries", false),
            ("First seen", false),
            ("Last seen", false),
            ("Last success", false),
        ],
        &body,
    );
    more_note(out, body.len(), rows.len(), "by_user");
    out.push_str("</section>\n");
}

fn side_table(out: &mut String, title: &str, key: &str, file: &str, rows: &[GroupRow]) {
    let _ = writeln!(out, "<h3>{title}</h3>");
    let body: Vec<Vec<String>> = rows
        .iter()
        .take(SIDE_ROWS)
        .map(|r| {
            vec![
                if r.key.is_empty() {
                    "<span class=\"muted\">(not recorded)</span>".into()
                } else {
                    cell(&r.key)
                },
                num(r.sign_ins),
                num(r.failures),
                num(r.interrupts),
                num(r.successes),
                num(r.users),
                num(r.ips),
                list_cell(&r.codes),
            ]
        })
        .collect();
    table(
        out,
        &[
            (key, false),
            ("Sign-ins", true),
            ("Failures", true),
            ("Interrupts", true),
            ("Successes", true),
            ("Accounts", true),
            ("IPs", true),
            ("Codes", false),
        ],
        &body,
    );
    more_note(out, body.len(), rows.len(), file);
}

pub(super) fn apps_countries_clients(out: &mut String, d: &ReportData) {
    out.push_str(if d.engine.is_some() {
        "<section id=\"apps-countries-clients\">\n<h2>Apps, countries and client apps</h2>\n"
    } else {
        "<section id=\"apps-countries-clients\">\n<h2>Apps, countries, client apps and user agents</h2>\n"
    });
    side_table(
        out,
        "Applications",
        "Application",
        "by_app",
        &d.tables.by_app,
    );
    side_table(
        out,
        "Countries",
        "Country",
        "by_country",
        &d.tables.by_country,
    );
    side_table(
        out,
        "Client apps",
        "Client app",
        "by_client_app",
        &d.tables.by_client_app,
    );
    // Ranked from the sign-ins, which engine results do not hold.
    if d.engine.is_none() {
        user_agents(out, d);
    }
    out.push_str("</section>\n");
}

/// User agents behind failures (`analyze::breakdown`).
fn user_agents(out: &mut String, d: &ReportData) {
    let ranked = &d.breakdown.user_agents;
    out.push_str("<h3>User agents behind failures</h3>\n");
    if ranked.is_empty() {
        out.push_str("<p>No failed sign-ins.</p>\n");
        return;
    }
    let body: Vec<Vec<String>> = ranked
        .iter()
        .take(SIDE_ROWS)
        .map(|a| {
            vec![
                if a.agent.is_empty() {
                    "<span class=\"muted\">(not recorded)</span>".into()
                } else {
                    format!("<span class=\"mono path\">{}</span>", cell(&a.agent))
                },
                num(a.failures),
                num(a.sign_ins),
                num(a.users_failed),
                num(a.ips_failing),
            ]
        })
        .collect();
    table(
        out,
        &[
            ("User agent", false),
            ("Failures", true),
            ("Sign-ins", true),
            ("Accounts failed", true),
            ("IPs failing", true),
        ],
        &body,
    );
    if ranked.len() > SIDE_ROWS {
        let _ = writeln!(
            out,
            "<p class=\"muted\">Showing {} of {} user agents with failures.</p>",
            SIDE_ROWS,
            num(ranked.len() as u64)
        );
    }
}
