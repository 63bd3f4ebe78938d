//! `report.html`: the whole report as one self-contained page.
//!
//! The page must open from a mail attachment or an air-gapped share, so
//! everything is inline: CSS in a `<style>` element, charts as inline SVG
//! markup, no script, font, image or external URL. A Content-Security-Policy
//! meta tag forbids loading anything at all, so even a string that slipped
//! past escaping could not pull in a script.
//!
//! Log text is attacker-controlled (user agents, user names, failure
//! reasons, even file names), so every such string goes through [`esc`]
//! before it reaches the page. Output depends only on the input: no clock,
//! no map iteration order.

use super::charts::{finding_timeline, Chart};
use super::data::ReportData;
use crate::analyze::aggregate::GroupRow;
use crate::analyze::timeline::{build_indexed, ActorIndex, Selector};
use crate::model::codes::{self, LockoutCause};
use crate::model::time::parse_time;
use crate::model::{Finding, Severity, StatusClass, Text};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write;

/// Findings rendered as full cards; the rest stay in `findings.json`.
const MAX_FINDINGS: usize = 500;
/// Findings that get an activity chart (each is a few kilobytes of SVG).
const MAX_TIMELINES: usize = 100;
/// Findings (medium and above, highest first) that get a collapsible
/// table of their actors' sign-ins, and the rows shown in each.
const MAX_SIGNIN_TABLES: usize = 30;
const SIGNIN_ROWS: usize = 100;
/// Rows in the IP and account tables.
const TOP_ROWS: usize = 50;
/// Rows in the app, country, client app and user-agent tables.
const SIDE_ROWS: usize = 25;
/// Accounts or IPs listed per finding before "and N more".
const MAX_ACTORS: usize = 25;
/// Findings listed in the summary.
const TOP_FINDINGS: usize = 10;
/// Distinct failure-reason texts shown per 50053 cause.
const REASON_SAMPLES: usize = 3;
/// Longest log string echoed in a table cell.
const CELL_CHARS: usize = 300;

/// Escapes text for HTML element content and quoted attribute values.
/// Control characters (other than tab and line breaks) become `?`: they
/// have no business in a report and some are invalid in XML-based viewers.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// [`esc`] after cutting to `max` characters.
fn esc_cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        esc(s)
    } else {
        let cut: String = s.chars().take(max.saturating_sub(1)).collect();
        format!("{}…", esc(&cut))
    }
}

/// Escaped cell text, or a dash for an empty value.
pub(super) fn cell(s: &str) -> String {
    if s.is_empty() {
        "<span class=\"muted\">–</span>".into()
    } else {
        esc_cut(s, CELL_CHARS)
    }
}

/// `2026-03-02T01:50:10.523193Z` -> `2026-03-02 01:50:10 UTC`. Anything
/// not in that shape is shown escaped as it is.
fn when(s: &str) -> String {
    if s.is_empty() {
        return "<span class=\"muted\">–</span>".into();
    }
    match (s.get(..10), s.get(10..11), s.get(11..19), s.ends_with('Z')) {
        (Some(day), Some("T"), Some(time), true) => format!("{day} {time} UTC"),
        _ => esc(s),
    }
}

/// [`when`], plus the local time in `--display-tz` when one was given.
fn when_local(d: &ReportData, s: &str) -> String {
    match (&d.zone, parse_time(s)) {
        (Some(z), Some(t)) => format!(
            "{} <span class=\"muted\">({} {})</span>",
            when(s),
            esc(&z.local(t)),
            esc(&z.name())
        ),
        _ => when(s),
    }
}

/// 1234567 -> `1,234,567`.
pub(super) fn num(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn duration(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min", s / 60),
        3600..=86_399 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        _ => format!("{} d {} h", s / 86_400, s % 86_400 / 3600),
    }
}

fn badge(sev: Severity) -> String {
    format!("<span class=\"badge {0}\">{0}</span>", sev.as_str())
}

fn finding_anchor(f: &Finding) -> String {
    format!("f-{}", esc(&f.id))
}

/// A table: `head` is (label, numeric) per column; cells are HTML already.
pub(super) fn table(out: &mut String, head: &[(&str, bool)], rows: &[Vec<String>]) {
    out.push_str("<div class=\"scroll\"><table>\n<thead><tr>");
    for (h, numeric) in head {
        let class = if *numeric { " class=\"n\"" } else { "" };
        let _ = write!(out, "<th{class}>{h}</th>");
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        out.push_str("<tr>");
        for (i, c) in row.iter().enumerate() {
            let numeric = head.get(i).is_some_and(|h| h.1);
            let class = if numeric { " class=\"n\"" } else { "" };
            let _ = write!(out, "<td{class}>{c}</td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
}

/// One self-contained HTML page for the report. `charts` are embedded in
/// the order given.
pub fn render(d: &ReportData, charts: &[Chart]) -> String {
    let mut out = String::with_capacity(256 * 1024);
    head(&mut out, d);
    out.push_str("<main>\n");
    summary(&mut out, d);
    if let Some(h) = d.history {
        trends(&mut out, h, charts);
    }
    findings(&mut out, d);
    error_codes(&mut out, d);
    chart_section(&mut out, charts);
    top_ips(&mut out, d);
    top_users(&mut out, d);
    apps_countries_clients(&mut out, d);
    out.push_str(
        &d.enrichment
            .map(super::enrichment::html_section)
            .unwrap_or_default(),
    );
    inputs(&mut out, d);
    out.push_str("</main>\n");
    let _ =
        write!(
        out,
        "<footer>Generated by {}. All times are UTC{}. This page is self-contained: it loads no \
         script, font, image or other resource.</footer>\n</body>\n</html>\n",
        esc(&d.tool),
        d.zone
            .map(|z| format!(" (local time in {} shown beside it where marked)", esc(&z.name())))
            .unwrap_or_default()
    );
    out
}

pub(crate) const CSS: &str = r#"
:root { --ink:#222; --muted:#5a5a5a; --line:#dedede; --panel:#f6f7f8; --accent:#0072B2; }
* { box-sizing: border-box; }
body { margin:0; color:var(--ink); background:#fff; line-height:1.45;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header { background:#1d2b36; color:#fff; padding:18px 24px 0; }
header h1 { margin:0 0 4px; font-size:1.6em; }
header p { margin:0 0 12px; color:#d8e0e6; }
nav { display:flex; flex-wrap:wrap; gap:4px 18px; padding:8px 0 10px; }
nav a { color:#fff; text-decoration:none; font-weight:600; font-size:.95em; }
nav a:hover { text-decoration:underline; }
main { max-width:1240px; margin:0 auto; padding:0 24px 32px; }
section { padding-top:12px; border-bottom:1px solid var(--line); padding-bottom:18px; }
h2 { font-size:1.35em; margin:18px 0 10px; }
h3 { font-size:1.1em; margin:18px 0 8px; }
h4 { font-size:1em; margin:12px 0 6px; }
a { color:var(--accent); }
.muted { color:var(--muted); }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  font-size:.88em; }
.path { word-break:break-all; }
.tiles { display:grid; grid-template-columns:repeat(auto-fill, minmax(150px, 1fr)); gap:10px; margin:8px 0 14px; }
.tile { background:var(--panel); border:1px solid var(--line); border-radius:6px; padding:8px 12px; }
.tile b { display:block; font-size:1.45em; font-variant-numeric:tabular-nums; }
.tile span { color:var(--muted); font-size:.9em; }
.badge { display:inline-block; min-width:4.6em; text-align:center; padding:1px 8px; border-radius:10px;
  font-size:.78em; font-weight:700; text-transform:uppercase; letter-spacing:.03em; vertical-align:middle; }
.badge.critical { background:#7a0019; color:#fff; }
.badge.high { background:#b34700; color:#fff; }
.badge.medium { background:#E69F00; color:#000; }
.badge.low { background:#56B4E9; color:#000; }
.badge.info { background:#d9d9d9; color:#000; }
.sevcounts { display:flex; flex-wrap:wrap; gap:8px 18px; margin:6px 0 12px; }
ol.top li { margin:3px 0; }
.finding { border:1px solid var(--line); border-left:6px solid #999; border-radius:6px; padding:10px 16px 12px; margin:16px 0; }
.finding.critical { border-left-color:#7a0019; }
.finding.high { border-left-color:#b34700; }
.finding.medium { border-left-color:#E69F00; }
.finding.low { border-left-color:#56B4E9; }
.finding h3 { margin:4px 0 10px; }
.finding .num { color:var(--muted); font-weight:600; margin:0 6px; }
.cols { display:flex; flex-wrap:wrap; gap:12px 28px; align-items:flex-start; }
.cols > div { flex:1 1 420px; min-width:0; }
.timeline { flex:0 1 460px; }
.timeline p { margin:2px 0 0; font-size:.85em; color:var(--muted); }
dl.kv { display:grid; grid-template-columns:max-content 1fr; gap:3px 14px; margin:0; }
dl.kv dt { color:var(--muted); }
dl.kv dd { margin:0; min-width:0; overflow-wrap:anywhere; }
.scroll { overflow-x:auto; }
table { border-collapse:collapse; width:100%; font-size:.9em; margin:4px 0 8px; }
th, td { border-bottom:1px solid var(--line); padding:4px 8px; text-align:left; vertical-align:top; }
th { background:var(--panel); font-weight:600; white-space:nowrap; }
td { overflow-wrap:break-word; }
.n { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
.warn { color:#9a3a00; font-weight:600; }
.code { border-top:1px solid var(--line); padding:6px 0 4px; }
.code p { margin:3px 0; }
.remedy { background:var(--panel); border:1px solid var(--line); border-radius:6px; padding:8px 14px; margin:10px 0; }
.remedy p { margin:4px 0; }
figure { margin:16px 0; }
svg { max-width:100%; height:auto; }
table.tl tr.fail td:first-child { border-left:4px solid #D55E00; }
table.tl tr.intr td:first-child { border-left:4px solid #E69F00; }
details > summary { cursor:pointer; color:var(--accent); margin:8px 0; }
footer { max-width:1240px; margin:0 auto; padding:16px 24px 32px; color:var(--muted); font-size:.9em; }
@media print {
  header { background:none; color:#000; } header p { color:#333; } nav { display:none; }
  .finding, figure, .remedy, tr { break-inside:avoid; }
}
"#;

fn head(out: &mut String, d: &ReportData) {
    let s = d.summary;
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
         <nav>\n<a href=\"#summary\">Summary</a>\n{trends_link}<a href=\"#findings\">Findings</a>\n\
         <a href=\"#error-codes\">Error codes</a>\n<a href=\"#charts\">Charts</a>\n\
         <a href=\"#top-ips\">IP addresses</a>\n<a href=\"#top-users\">Accounts</a>\n\
         <a href=\"#apps-countries-clients\">Apps, countries, clients</a>\n\
         <a href=\"#inputs\">Inputs</a>\n</nav>\n</header>\n",
        tool = esc(&d.tool),
        range_plain = range.replace(" UTC", ""),
        files = plural(d.inputs.len() as u64, "input file", "input files"),
        trends_link = if d.history.is_some() {
            "<a href=\"#trends\">Trends</a>\n"
        } else {
            ""
        },
    );
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", num(n), if n == 1 { one } else { many })
}

fn summary(out: &mut String, d: &ReportData) {
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
        "<p><strong>Time range:</strong> {} to {} (UTC).</p>",
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
        let _ = writeln!(out, "<h3>Top findings</h3>\n<ol class=\"top\">");
        for (i, f) in d.findings.iter().take(TOP_FINDINGS).enumerate() {
            let _ = writeln!(
                out,
                "<li>{} <a href=\"#{}\">F{} · {}</a></li>",
                badge(f.severity),
                finding_anchor(f),
                i + 1,
                esc(&f.title)
            );
        }
        out.push_str("</ol>\n");
    }
    out.push_str("</section>\n");
}

/// A comma-separated list of escaped values, cut after `MAX_ACTORS`.
fn actor_list(items: &[String]) -> String {
    if items.is_empty() {
        return "<span class=\"muted\">–</span>".into();
    }
    let mut s = items
        .iter()
        .take(MAX_ACTORS)
        .map(|i| format!("<span class=\"mono\">{}</span>", esc_cut(i, 120)))
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > MAX_ACTORS {
        let _ = write!(s, " and {} more", num((items.len() - MAX_ACTORS) as u64));
    }
    s
}

fn code_name(code: i64) -> String {
    match codes::lookup(code) {
        Some(info) if !info.name.is_empty() => format!("{code} {}", info.name),
        Some(_) => code.to_string(),
        None if code == 0 => "0 (success)".into(),
        None => format!("{code} (not in catalog)"),
    }
}

/// A fact value as text (escaped by the caller).
fn fact_text(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Null => "–".into(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let mut parts: Vec<String> = items.iter().take(30).map(fact_text).collect();
            if items.len() > 30 {
                parts.push(format!("and {} more", items.len() - 30));
            }
            parts.join(", ")
        }
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}: {}", fact_text(v)))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

fn findings(out: &mut String, d: &ReportData) {
    let _ = writeln!(
        out,
        "<section id=\"findings\">\n<h2>Findings ({})</h2>",
        num(d.findings.len() as u64)
    );
    if d.findings.is_empty() {
        out.push_str("<p>No detection fired on these logs.</p>\n</section>\n");
        return;
    }
    out.push_str(
        "<p class=\"muted\">Highest severity first. Each finding is numbered (F1, F2, …); \
         high and critical ones are marked with that number on the failures-over-time chart. \
         Evidence rows point to the exact input record.</p>\n",
    );
    // Each article lists the sign-ins of its finding's accounts and IPs,
    // found in one pass for all of them; the articles are independent, so
    // they are rendered in parallel and joined in order.
    let shown: Vec<(usize, &Finding)> = d.findings.iter().take(MAX_FINDINGS).enumerate().collect();
    let selectors: Vec<Selector> = shown.iter().map(|(_, f)| Selector::finding(f)).collect();
    let index = ActorIndex::new(d.records, &selectors);
    let articles: Vec<String> = shown
        .par_iter()
        .zip(&selectors)
        .map(|(&(i, f), sel)| {
            let mut article = String::new();
            finding(&mut article, d, f, i, (sel, &index));
            article
        })
        .collect();
    for a in articles {
        out.push_str(&a);
    }
    if d.findings.len() > MAX_FINDINGS {
        let _ = writeln!(
            out,
            "<p>{} more findings are not shown here; findings.json lists them all.</p>",
            num((d.findings.len() - MAX_FINDINGS) as u64)
        );
    }
    out.push_str("</section>\n");
}

fn finding(out: &mut String, d: &ReportData, f: &Finding, i: usize, around: Around) {
    let _ = writeln!(
        out,
        "<article class=\"finding {sev}\" id=\"{anchor}\">\n<h3>{badge}<span class=\"num\">F{n}</span>{title}</h3>\n<div class=\"cols\">\n<div>\n<dl class=\"kv\">",
        sev = f.severity.as_str(),
        anchor = finding_anchor(f),
        badge = badge(f.severity),
        n = i + 1,
        title = esc(&f.title),
    );
    let span = match (parse_time(&f.first_seen), parse_time(&f.last_seen)) {
        (Some(a), Some(b)) => duration((b - a) / 1_000_000),
        _ => "–".into(),
    };
    let codes_text = f
        .error_codes
        .iter()
        .map(|&c| esc(&code_name(c)))
        .collect::<Vec<_>>()
        .join(", ");
    let rows: [(&str, String); 10] = [
        (
            "Detection",
            format!("<span class=\"mono\">{}</span>", esc(&f.kind)),
        ),
        (
            "Accounts",
            format!("{} — {}", num(f.users.len() as u64), actor_list(&f.users)),
        ),
        (
            "IP addresses",
            format!("{} — {}", num(f.ips.len() as u64), actor_list(&f.ips)),
        ),
        (
            "Error codes",
            if codes_text.is_empty() {
                "–".into()
            } else {
                codes_text
            },
        ),
        ("Events", num(f.count)),
        ("First seen", when_local(d, &f.first_seen)),
        ("Last seen", when_local(d, &f.last_seen)),
        ("Span", span),
        ("Detection window", duration(f.window_seconds)),
        (
            "Finding ID",
            format!("<span class=\"mono\">{}</span>", esc(&f.id)),
        ),
    ];
    for (k, v) in rows {
        let _ = writeln!(out, "<dt>{k}</dt><dd>{v}</dd>");
    }
    out.push_str("</dl>\n</div>\n");
    if i < MAX_TIMELINES {
        let _ = writeln!(
            out,
            "<div class=\"timeline\">{}<p>Sign-ins by these accounts from these IPs; the finding's span is shaded.</p></div>",
            finding_timeline(d, f)
        );
    }
    out.push_str("</div>\n");
    if i < MAX_SIGNIN_TABLES && f.severity >= Severity::Medium {
        sign_in_table(out, d, around);
    }
    if !f.evidence.facts.is_empty() {
        out.push_str("<h4>Facts</h4>\n<dl class=\"kv\">\n");
        for (k, v) in &f.evidence.facts {
            let text = fact_text(v);
            let shown = if text.is_empty() {
                "<span class=\"muted\">–</span>".to_string()
            } else {
                esc_cut(&text, 2000)
            };
            let _ = writeln!(
                out,
                "<dt>{}</dt><dd>{shown}</dd>",
                esc(&k.replace('_', " "))
            );
        }
        out.push_str("</dl>\n");
    }
    if !f.evidence.samples.is_empty() {
        out.push_str("<h4>Evidence (sample records)</h4>\n");
        let rows: Vec<Vec<String>> = f
            .evidence
            .samples
            .iter()
            .map(|s| {
                vec![
                    format!("<span class=\"mono\">{}</span>", cell(&s.request_id)),
                    format!("<span class=\"mono path\">{}</span>", cell(&s.file)),
                    num(s.record),
                ]
            })
            .collect();
        table(
            out,
            &[("Request ID", false), ("File", false), ("Record", true)],
            &rows,
        );
    }
    if !f.remediation.is_empty() {
        out.push_str("<h4>What to do</h4>\n<ol>\n");
        for r in &f.remediation {
            let _ = writeln!(out, "<li>{}</li>", esc(r));
        }
        out.push_str("</ol>\n");
    }
    out.push_str("</article>\n");
}

/// The finding's accounts and IPs through time with detection markers,
/// folded away (`<details>` needs no script).
/// A finding's selection of sign-ins, and where to look them up.
type Around<'x> = (&'x Selector, &'x ActorIndex);

fn sign_in_table(out: &mut String, d: &ReportData, (sel, index): Around) {
    let entries = build_indexed(d.records, d.findings, sel, index);
    if entries.is_empty() {
        return;
    }
    let files: Vec<String> = d.inputs.iter().map(|i| i.path.clone()).collect();
    // Only the rows shown are formatted: a busy account can have thousands.
    let shown = &entries[..entries.len().min(SIGNIN_ROWS)];
    let rows = super::timeline::rows(shown, &files, d.zone.as_ref());
    let _ = writeln!(
        out,
        "<details>\n<summary>Sign-ins of these accounts and IPs, a day either side ({})</summary>",
        num(entries.len() as u64)
    );
    out.push_str(&super::timeline::html_table(
        &rows,
        d.zone.as_ref(),
        entries.len(),
    ));
    out.push_str("</details>\n");
}

fn error_codes(out: &mut String, d: &ReportData) {
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
                let _ = writeln!(
                    out,
                    "<h4>AADSTS{} {} <span class=\"muted\">({}, {})</span></h4>\n\
                     <p><strong>Meaning:</strong> {}</p>\n<p><strong>What to do:</strong> {}</p>",
                    r.code,
                    esc(info.name),
                    esc(&info.category.replace('_', " ")),
                    if info.interrupt {
                        "interrupt"
                    } else {
                        "failure"
                    },
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
    struct Acc<'a> {
        count: u64,
        users: BTreeSet<&'a str>,
        ips: BTreeSet<&'a str>,
        reasons: BTreeMap<&'a str, u64>,
    }
    let mut by: BTreeMap<LockoutCause, Acc> = BTreeMap::new();
    for r in d.records.iter().filter(|r| r.error_code == 50053) {
        let a = by
            .entry(codes::classify_50053(&r.failure_reason))
            .or_insert_with(|| Acc {
                count: 0,
                users: BTreeSet::new(),
                ips: BTreeSet::new(),
                reasons: BTreeMap::new(),
            });
        a.count += 1;
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
    if by.is_empty() {
        return;
    }
    out.push_str(
        "<h3 id=\"code-50053-causes\">AADSTS50053 by cause</h3>\n<p class=\"muted\">Entra \
         returns 50053 for smart lockout and for blocked sources alike; only the failure \
         reason tells them apart, and each calls for a different response.</p>\n",
    );
    let mut rows = Vec::new();
    for cause in LockoutCause::ALL {
        let Some(a) = by.get(&cause) else { continue };
        let mut reasons: Vec<(&str, u64)> = a.reasons.iter().map(|(k, v)| (*k, *v)).collect();
        reasons.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(y.0)));
        let seen = if reasons.is_empty() {
            "<span class=\"muted\">(empty)</span>".to_string()
        } else {
            reasons
                .iter()
                .take(REASON_SAMPLES)
                .map(|(text, n)| format!("“{}” ({})", esc_cut(text, 200), num(*n)))
                .collect::<Vec<_>>()
                .join("<br>")
        };
        rows.push(vec![
            format!("<strong>{}</strong>", esc(cause.label())),
            num(a.count),
            num(a.users.len() as u64),
            num(a.ips.len() as u64),
            esc(cause.explanation()),
            esc(cause.remediation()),
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
    let users: BTreeSet<&str> = d
        .records
        .iter()
        .filter(|r| codes::is_risk_block(r.error_code) && !r.user_principal_name.is_empty())
        .map(|r| r.user_principal_name.as_str())
        .collect();
    let counts = blocked
        .iter()
        .map(|r| format!("{} × {}", num(r.count), r.code))
        .collect::<Vec<_>>()
        .join(", ");
    let users: Vec<String> = users.into_iter().map(str::to_string).collect();
    let _ = writeln!(
        out,
        "<p>{counts}. Blocked accounts: {}.</p>\n<p>Entra (ID Protection) refuses these \
         sign-ins until the user's risk is remediated. The options, in the order an admin \
         usually tries them:</p>",
        actor_list(&users)
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

/// Items listed per "new since the last run" list before "and N more".
const NEW_ITEMS: usize = 50;

/// `--history`: the trend chart, the runs as a table, and what is new
/// since the latest earlier run.
fn trends(out: &mut String, h: &super::history::History, charts: &[Chart]) {
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
    let row = |label: &str, r: &super::history::RunRecord| {
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

fn chart_section(out: &mut String, charts: &[Chart]) {
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

pub(super) fn more_note(out: &mut String, shown: usize, total: usize, file: &str) {
    if total > shown {
        let _ = writeln!(
            out,
            "<p class=\"muted\">Showing {} of {}; the full table is tables/{file}.csv.</p>",
            num(shown as u64),
            num(total as u64)
        );
    }
}

/// "last success" is flagged when the actor also failed: a success after
/// failures is what an investigator checks first.
fn last_success(r: &GroupRow) -> String {
    if r.last_success.is_empty() {
        "<span class=\"muted\">–</span>".into()
    } else if r.failures > 0 {
        format!("<span class=\"warn\">{}</span>", when(&r.last_success))
    } else {
        when(&r.last_success)
    }
}

fn list_cell(s: &str) -> String {
    cell(&s.replace(';', ", "))
}

fn top_ips(out: &mut String, d: &ReportData) {
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
            ("Lockouts", true),
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

fn top_users(out: &mut String, d: &ReportData) {
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
            ("Lockouts", true),
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

fn apps_countries_clients(out: &mut String, d: &ReportData) {
    out.push_str(
        "<section id=\"apps-countries-clients\">\n<h2>Apps, countries, client apps and user agents</h2>\n",
    );
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
    user_agents(out, d);
    out.push_str("</section>\n");
}

/// User agents behind failures: scripted attacks often reuse one agent
/// string across many sources.
fn user_agents(out: &mut String, d: &ReportData) {
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
    for r in d.records {
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
    let mut ranked: Vec<(&str, Acc)> = by
        .into_iter()
        .filter(|(_, a)| a.failures > 0)
        .map(|(ua, a)| (ua.as_str(), a))
        .collect();
    ranked.sort_by(|a, b| b.1.failures.cmp(&a.1.failures).then(a.0.cmp(b.0)));
    out.push_str("<h3>User agents behind failures</h3>\n");
    if ranked.is_empty() {
        out.push_str("<p>No failed sign-ins.</p>\n");
        return;
    }
    let body: Vec<Vec<String>> = ranked
        .iter()
        .take(SIDE_ROWS)
        .map(|(ua, a)| {
            vec![
                if ua.is_empty() {
                    "<span class=\"muted\">(not recorded)</span>".into()
                } else {
                    format!("<span class=\"mono path\">{}</span>", cell(ua))
                },
                num(a.failures),
                num(a.sign_ins),
                num(a.users.len() as u64),
                num(a.ips.len() as u64),
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

fn inputs(out: &mut String, d: &ReportData) {
    out.push_str(
        "<section id=\"inputs\">\n<h2>Inputs</h2>\n<p class=\"muted\">Read = parsed + \
         rejected + skipped. Duplicates are parsed records also found in another input. \
         The SHA-256 identifies the exact file analysed.</p>\n",
    );
    if d.inputs.is_empty() {
        out.push_str("<p>No inputs.</p>\n</section>\n");
        return;
    }
    let mut body: Vec<Vec<String>> = d
        .inputs
        .iter()
        .map(|i| {
            let mut format = i.format.map_or_else(
                || "<span class=\"warn\">unknown</span>".into(),
                |f| esc(f.as_str()),
            );
            if i.compressed {
                format.push_str(" (compressed)");
            }
            vec![
                format!("<span class=\"mono path\">{}</span>", cell(&i.path)),
                format,
                num(i.bytes),
                format!("<span class=\"mono path\">{}</span>", cell(&i.sha256)),
                num(i.records_read),
                num(i.parsed),
                num(i.duplicates),
                if i.rejected > 0 {
                    format!("<span class=\"warn\">{}</span>", num(i.rejected))
                } else {
                    "0".into()
                },
                num(i.skipped),
                i.error.as_deref().map_or_else(String::new, |e| {
                    format!("<span class=\"warn\">{}</span>", cell(e))
                }),
            ]
        })
        .collect();
    let mut head = vec![
        ("File", false),
        ("Format", false),
        ("Bytes", true),
        ("SHA-256", false),
        ("Read", true),
        ("Parsed", true),
        ("Duplicates", true),
        ("Rejected", true),
        ("Skipped", true),
    ];
    // The error column only earns its width when some input failed.
    if d.inputs.iter().any(|i| i.error.is_some()) {
        head.push(("Error", false));
    } else {
        body.iter_mut().for_each(|row| {
            row.pop();
        });
    }
    table(out, &head, &body);
    for i in d.inputs {
        let has_detail = !i.rejected_by_reason.is_empty()
            || !i.skipped_by_reason.is_empty()
            || !i.problems.is_empty()
            || !i.notes.is_empty()
            || i.auth_details > 0;
        if !has_detail {
            continue;
        }
        let _ = writeln!(out, "<h3 class=\"mono path\">{}</h3>\n<ul>", cell(&i.path));
        for (reason, n) in &i.rejected_by_reason {
            let _ = writeln!(out, "<li>Rejected {}: {}</li>", num(*n), cell(reason));
        }
        for (reason, n) in &i.skipped_by_reason {
            let _ = writeln!(out, "<li>Skipped {}: {}</li>", num(*n), cell(reason));
        }
        for p in &i.problems {
            let _ = writeln!(
                out,
                "<li>Rejected at <span class=\"mono\">{}</span>: {}</li>",
                cell(&p.location),
                cell(&p.reason)
            );
        }
        for note in &i.notes {
            let _ = writeln!(out, "<li>{}</li>", cell(note));
        }
        if i.auth_details > 0 {
            let _ = writeln!(
                out,
                "<li>{} authentication-detail rows joined onto their sign-ins.</li>",
                num(i.auth_details)
            );
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");
}

#[cfg(test)]
mod tests {
    use super::super::charts::all_charts;
    use super::super::charts::fixture::{
        sample, HOSTILE_PATH, HOSTILE_REASON, HOSTILE_UA, HOSTILE_UPN,
    };
    use super::*;

    #[test]
    fn esc_covers_markup_and_quotes() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>\u{7}"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;?"
        );
        assert_eq!(num(1_234_567), "1,234,567");
        assert_eq!(num(12), "12");
        assert_eq!(
            when("2026-03-02T01:50:10.523193Z"),
            "2026-03-02 01:50:10 UTC"
        );
        assert_eq!(duration(13 * 60 + 9), "13 min");
    }

    fn page() -> (String, super::super::charts::fixture::Sample) {
        let s = sample();
        let html = {
            let d = s.data();
            render(&d, &all_charts(&d))
        };
        (html, s)
    }

    #[test]
    fn every_section_is_present_and_filled() {
        let (html, s) = page();
        for id in [
            "summary",
            "findings",
            "error-codes",
            "charts",
            "top-ips",
            "top-users",
            "apps-countries-clients",
            "inputs",
        ] {
            assert!(html.contains(&format!("<section id=\"{id}\">")), "{id}");
        }
        assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
        // Numbers from the data, not boilerplate.
        assert!(html.contains(&format!(
            "<b>{}</b><span>sign-ins analysed",
            num(s.summary.records)
        )));
        assert!(!s.findings.is_empty());
        for (i, f) in s.findings.iter().enumerate() {
            assert!(html.contains(&format!("id=\"f-{}\"", f.id)), "{}", f.id);
            assert!(html.contains(&format!("<span class=\"num\">F{}</span>", i + 1)));
        }
        // Each chart is inline, once.
        assert_eq!(html.matches("<figure id=\"chart-").count(), 6);
        // One timeline per finding plus the six charts.
        assert_eq!(
            html.matches("<svg").count(),
            6 + s.findings.len().min(MAX_TIMELINES)
        );
        // The planted lockouts have a cause breakdown; the catalog text is used.
        assert!(html.contains("AADSTS50053 by cause"));
        assert!(
            html.contains(LockoutCause::SmartLockout.label())
                || html.contains(LockoutCause::Undetermined.label())
        );
        let info = codes::lookup(50126).expect("50126 is catalogued");
        assert!(html.contains(&esc(info.meaning)));
        assert!(html.contains("UTC"));
    }

    #[test]
    fn risk_blocks_come_with_the_remediation_options() {
        let (html, s) = page();
        let has_block = s.records.iter().any(|r| codes::is_risk_block(r.error_code));
        assert!(has_block, "the generator plants a risky user");
        for remedy in codes::risk_block_remediation() {
            assert!(html.contains(&esc(remedy.title)));
            assert!(html.contains(&esc(remedy.licence)));
            assert!(html.contains(&esc(remedy.role)));
        }
        assert!(html.contains("registered for MFA"));
    }

    #[test]
    fn page_loads_nothing_from_anywhere() {
        let (html, _) = page();
        let lower = html.to_ascii_lowercase();
        for bad in [
            "src=\"http",
            "href=\"http",
            "src='http",
            "href='http",
            "<script",
            "<link",
            "url(",
            "@import",
            "<iframe",
            "<object",
            "<embed",
            "<img",
        ] {
            assert!(!lower.contains(bad), "page contains {bad}");
        }
        // The only absolute URL is the SVG namespace name, which is never fetched.
        let urls = lower.matches("http://").count() + lower.matches("https://").count();
        assert_eq!(
            urls,
            lower
                .matches("xmlns=\"http://www.w3.org/2000/svg\"")
                .count()
        );
        assert!(html.contains("Content-Security-Policy"));
    }

    #[test]
    fn hostile_log_text_appears_only_escaped() {
        let (html, s) = page();
        assert!(s.records.iter().any(|r| r.user_agent == HOSTILE_UA));
        for raw in [
            HOSTILE_UA,
            HOSTILE_UPN,
            HOSTILE_REASON,
            HOSTILE_PATH,
            "<b>365</b>",
        ] {
            assert!(!html.contains(raw), "raw {raw:?} in page");
            assert!(html.contains(&esc(raw)), "escaped {raw:?} missing");
        }
        // The hostile user agent reached a finding title, and stayed text.
        assert!(s.findings.iter().any(|f| f.title.contains(HOSTILE_UA)));
        assert!(!html.contains("<script"));
        assert!(!html.contains("<img"));
        assert!(!html.contains("</td><td>pwned"));
        assert!(html.contains("no timestamp &lt;&quot;x&quot;&gt;"));
    }

    #[test]
    fn same_input_same_bytes() {
        let s = sample();
        let d = s.data();
        let a = render(&d, &all_charts(&d));
        let b = render(&d, &all_charts(&d));
        assert_eq!(a, b);
        assert!(a.contains(&esc(&d.tool)));
    }
}
