//! `report.html`: the whole report as one self-contained page.
//!
//! The page must open from a mail attachment or an air-gapped share, so
//! everything is inline: CSS in a `<style>` element, charts as inline SVG
//! markup, no script, font, image or external URL. A Content-Security-Policy
//! meta tag forbids loading anything at all, so even a string that slipped
//! past escaping could not pull in a script.
//!
//! Log text is attacker-controlled (user agents, user names, failure
//! reasons, even file names), so every such string goes through
//! `report::escape` before it reaches the page. Output depends only on the
//! input: no clock, no map iteration order.
//!
//! One function per section, grouped in files: the page head, summary and
//! trends (`head`), the finding cards (`findings`), error codes, 50053
//! causes and risk blocks (`error_codes`), the charts and ranked tables
//! (`tables`), and the inputs (`inputs`). This file holds the page frame
//! and the small formatting helpers they share.

mod error_codes;
mod findings;
mod head;
mod inputs;
mod presets;
mod story;
mod tables;

use super::charts::Chart;
use super::data::ReportData;
use super::escape::{esc, esc_cut, num};
use crate::model::time::parse_time;
use crate::model::{Finding, Severity};
use std::fmt::Write;

/// Findings rendered as full cards; the rest stay in `findings.json`.
const MAX_FINDINGS: usize = 500;
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

/// Each finding's place in report order by id: `F{n + 1}` and its card.
fn finding_numbers<'a>(d: &ReportData<'a>) -> std::collections::HashMap<&'a str, usize> {
    d.findings
        .iter()
        .enumerate()
        .map(|(i, f)| (f.id.as_str(), i))
        .collect()
}

fn finding_anchor(f: &Finding) -> String {
    format!("f-{}", esc(&f.id))
}

/// One self-contained HTML page for the report. `charts` are embedded in
/// the order given.
pub fn render(d: &ReportData, charts: &[Chart]) -> String {
    let mut out = String::with_capacity(256 * 1024);
    head::head(&mut out, d);
    out.push_str("<main>\n");
    story::accounts(&mut out, d);
    if let Some(e) = d.engine {
        engine_note(&mut out, e);
        findings::findings(&mut out, d);
        if e.tables {
            head::summary(&mut out, d);
            error_codes::error_codes(&mut out, d);
            tables::top_ips(&mut out, d);
            tables::top_users(&mut out, d);
            tables::apps_countries_clients(&mut out, d);
        }
        return finish(out, d);
    }
    story::coverage(&mut out, d);
    head::summary(&mut out, d);
    if let Some(h) = d.history {
        head::trends(&mut out, h, charts);
    }
    findings::findings(&mut out, d);
    presets::presets(&mut out, d);
    error_codes::error_codes(&mut out, d);
    tables::chart_section(&mut out, charts);
    tables::top_ips(&mut out, d);
    tables::top_users(&mut out, d);
    tables::apps_countries_clients(&mut out, d);
    out.push_str(
        &d.enrichment
            .map(super::enrichment::html_section)
            .unwrap_or_default(),
    );
    inputs::inputs(&mut out, d);
    finish(out, d)
}

/// Where the findings came from and what a report rendered from engine
/// results cannot show, in place of the sections drawn from sign-ins.
fn engine_note(out: &mut String, e: crate::report::data::Engine) {
    let _ = write!(
        out,
        "<section id=\"engine\"><h2>Rendered from engine results</h2>\n<p>These findings were \
         computed by the SQL detections on a query engine and read from <code>{}</code>.</p>\n\
         <p>{}</p></section>\n",
        esc(e.results),
        esc(e.gaps())
    );
}

fn finish(mut out: String, d: &ReportData) -> String {
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

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", num(n), if n == 1 { one } else { many })
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
    match crate::model::codes::lookup(code) {
        Some(info) if !info.name.is_empty() => format!("{code} {}", info.name),
        Some(_) => code.to_string(),
        None if code == 0 => "0 (success)".into(),
        None => format!("{code} (not in catalog)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::breakdown::ACTIVITY_FINDINGS;
    use crate::model::codes::{self, LockoutCause};
    use crate::report::charts::all_charts;
    use crate::report::charts::fixture::{
        sample, Sample, HOSTILE_PATH, HOSTILE_REASON, HOSTILE_UA, HOSTILE_UPN,
    };

    #[test]
    fn times_and_durations_read_well() {
        assert_eq!(
            when("2026-03-02T01:50:10.523193Z"),
            "2026-03-02 01:50:10 UTC"
        );
        assert_eq!(duration(13 * 60 + 9), "13 min");
    }

    fn page() -> (String, Sample) {
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
            "presets",
        ] {
            assert!(html.contains(&format!("<section id=\"{id}\">")), "{id}");
        }
        // Each compared finding's card says which presets raise it.
        let check = s.story.presets.as_ref().unwrap();
        assert!(!check.findings.is_empty());
        assert_eq!(
            html.matches("<dt>Presets</dt>").count(),
            check.findings.len().min(MAX_FINDINGS)
        );
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
            6 + s.findings.len().min(ACTIVITY_FINDINGS)
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
