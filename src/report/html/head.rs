//! The top of the page: the document head and navigation, the summary
//! tiles and top findings, and (`--history`) the trends across runs.

use super::{badge, finding_anchor, plural, when, TOP_FINDINGS};
use crate::model::Severity;
use crate::report::charts::Chart;
use crate::report::data::ReportData;
use crate::report::escape::{esc, num, table, CSS};
use crate::report::history::{History, RunRecord};
use std::fmt::Write;

pub(super) fn head(out: &mut String, d: &ReportData) {
    let s = d.summary;
    let trends_link = if d.history.is_some() {
        "<a href=\"#trends\">Trends</a>\n"
    } else {
        ""
    };
    let range = match (&s.first_seen, &s.last_seen) {
        (Some(a), Some(b)) => format!("{} to {}", when(a), when(b)),
        _ => "no sign-ins".into(),
    };
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <meta name=\"generator\" content=\"{tool}\">\n\
         <title>Entra ID sign-in report: {range_plain}</title>\n<style>{CSS}</style>\n</head>\n<body>\n\
         <header>\n<h1>Entra ID sign-in report</h1>\n\
         <p>{range} · {files} · {tool} · all times UTC</p>\n\
         <nav>\n{nav}</nav>\n</header>\n",
        tool = esc(&d.tool),
        range_plain = range.replace(" UTC", ""),
        files = if let Some(e) = d.engine {
            if e.tables {
                "findings and tables from engine results".to_string()
            } else {
                "findings from engine results".to_string()
            }
        } else {
            plural(d.inputs.len() as u64, "input file", "input files")
        },
        nav = if let Some(e) = d.engine {
            let mut nav = "<a href=\"#accounts\">Accounts to act on</a>\n<a href=\"#engine\">Not in the results</a>\n<a href=\"#findings\">Incidents</a>\n".to_string();
            if e.tables {
                nav.push_str(
                    "<a href=\"#summary\">Summary</a>\n<a href=\"#error-codes\">Error codes</a>\n\
                     <a href=\"#top-ips\">IP addresses</a>\n<a href=\"#top-users\">Accounts</a>\n\
                     <a href=\"#apps-countries-clients\">Apps, countries, clients</a>\n",
                );
            }
            nav
        } else {
            format!(
                "<a href=\"#accounts\">Accounts to act on</a>\n<a href=\"#summary\">Summary</a>\n{trends_link}<a href=\"#findings\">Incidents</a>\n\
                 <a href=\"#presets\">Other presets</a>\n<a href=\"#error-codes\">Error codes</a>\n<a href=\"#charts\">Charts</a>\n\
                 <a href=\"#top-ips\">IP addresses</a>\n<a href=\"#top-users\">Accounts</a>\n\
                 <a href=\"#apps-countries-clients\">Apps, countries, clients</a>\n\
                 <a href=\"#inputs\">Inputs</a>\n"
            )
        },
    );
}

pub(super) fn summary(out: &mut String, d: &ReportData) {
    let s = d.summary;
    out.push_str("<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"tiles\">\n");
    for (value, what) in [
        (s.records, "sign-ins analysed"),
        (s.successes, "successful"),
        (s.failures, "failed"),
        (s.interrupts, "interrupted"),
        (s.distinct_users, "distinct accounts"),
        (s.distinct_ips, "distinct IP addresses"),
        (s.targeted_users, "accounts with failures"),
        (s.failing_ips, "IPs with failures"),
        (s.duplicates, "duplicates removed"),
        (s.rejected, "rejected records"),
        (s.skipped, "skipped records"),
    ] {
        let _ = writeln!(
            out,
            "<div class=\"tile\"><b>{}</b><span>{what}</span></div>",
            num(value)
        );
    }
    out.push_str("</div>\n");
    let _ = writeln!(
        out,
        "<p><strong>Time range:</strong> {} to {}.</p>",
        s.first_seen.as_deref().map_or_else(|| "–".into(), when),
        s.last_seen.as_deref().map_or_else(|| "–".into(), when),
    );
    out.push_str(
        "<p class=\"muted\">A failure is a sign-in Entra refused. An interrupt is an extra step \
         Entra asked for (MFA, consent, “stay signed in?”) and is not a failed attempt. \
         Duplicates are the same sign-in seen in more than one export; each is counted once.</p>\n",
    );
    let _ = writeln!(
        out,
        "<h3>Findings by severity</h3>\n<div class=\"sevcounts\">"
    );
    for sev in Severity::ALL {
        let n = d.findings.iter().filter(|f| f.severity == sev).count();
        let _ = writeln!(out, "<span>{} {}</span>", badge(sev), num(n as u64));
    }
    out.push_str("</div>\n");
    if d.findings.is_empty() {
        out.push_str("<p>No detection fired on these logs.</p>\n");
    } else {
        // Each incident once, led by its strongest finding.
        let _ = writeln!(out, "<h3>Top incidents</h3>\n<ol class=\"top\">");
        for inc in d.story.incidents.iter().take(TOP_FINDINGS) {
            let Some((i, f)) = d
                .findings
                .iter()
                .enumerate()
                .find(|(_, f)| Some(&f.id) == inc.findings.first())
            else {
                continue;
            };
            let more = inc.findings.len() - 1;
            let _ = writeln!(
                out,
                "<li>{} <a href=\"#{}\">F{} · {}</a>{}</li>",
                badge(inc.severity),
                finding_anchor(f),
                i + 1,
                esc(&inc.title),
                if more > 0 {
                    format!(" <span class=\"muted\">(+{more} related)</span>")
                } else {
                    String::new()
                }
            );
        }
        out.push_str("</ol>\n");
    }
    out.push_str("</section>\n");
}

/// `--history`: the trend chart, the runs as a table, and what is new
/// since the latest earlier run.
pub(super) fn trends(out: &mut String, h: &History, charts: &[Chart]) {
    out.push_str("<section id=\"trends\">\n<h2>Trends and what is new</h2>\n");
    let _ = writeln!(
        out,
        "<p class=\"muted\">Earlier runs read from <span class=\"mono path\">{}</span>, ordered by \
         the period their data covers; this run is the last row.</p>",
        esc(&h.folder)
    );
    if let Some(c) = charts.iter().find(|c| c.name == "trends") {
        let _ = writeln!(out, "<figure>{}</figure>", c.svg);
    }
    let row = |label: &str, r: &RunRecord| {
        let high: u64 = ["critical", "high"]
            .iter()
            .filter_map(|s| r.findings.get(*s))
            .sum();
        vec![
            esc(label),
            r.period_start.as_deref().map(when).unwrap_or_default(),
            r.period_end.as_deref().map(when).unwrap_or_default(),
            num(r.sign_ins),
            num(r.failures),
            num(r.lockouts),
            num(r.spray_ips),
            num(r.risky_users),
            num(high),
        ]
    };
    let mut rows: Vec<Vec<String>> = h.runs.iter().map(|r| row(&r.label, &r.record)).collect();
    rows.push(row("this run", &h.current));
    table(
        out,
        &[
            ("Run", false),
            ("From", false),
            ("To", false),
            ("Sign-ins", true),
            ("Failures", true),
            ("Lockouts", true),
            ("Spray IPs", true),
            ("Risky users", true),
            ("High+ findings", true),
        ],
        &rows,
    );
    for (label, why) in &h.unreadable {
        let _ = writeln!(
            out,
            "<p class=\"warn\">Could not read run {}: {}</p>",
            esc(label),
            esc(why)
        );
    }
    let Some(prev) = h.previous() else {
        out.push_str("<p>No earlier run in the history folder: nothing to compare with yet.</p>\n</section>\n");
        return;
    };
    let _ = writeln!(out, "<h3>New since {}</h3>", esc(&prev.label));
    let list = |out: &mut String, what: &str, items: &[String]| {
        if items.is_empty() {
            let _ = writeln!(out, "<p><b>{what}:</b> none.</p>");
            return;
        }
        let shown: Vec<String> = items
            .iter()
            .take(NEW_ITEMS)
            .map(|i| format!("<span class=\"mono\">{}</span>", esc(i)))
            .collect();
        let more = items.len().saturating_sub(NEW_ITEMS);
        let _ = writeln!(
            out,
            "<p><b>{what} ({}):</b> {}{}</p>",
            num(items.len() as u64),
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
    };
    list(out, "Failing IP addresses", &h.new_failing_ips);
    list(out, "Countries", &h.new_countries);
    if h.new_findings.is_empty() {
        out.push_str("<p><b>Findings:</b> none new.</p>\n");
    } else {
        let _ = writeln!(
            out,
            "<p><b>Findings ({}):</b></p>\n<ul>",
            h.new_findings.len()
        );
        for k in &h.new_findings {
            let _ = writeln!(out, "<li>{} {}</li>", badge(k.severity), esc(&k.title));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");
}

/// Items listed per "new since the last run" list before "and N more".
const NEW_ITEMS: usize = 50;
