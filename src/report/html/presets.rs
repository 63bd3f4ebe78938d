//! "Under other presets": which presets' thresholds raise each finding,
//! and what only another preset raises. Computed in
//! `analyze::preset_check`; laid out here.

use super::{badge, finding_anchor, finding_numbers, when, MAX_FINDINGS};
use crate::analyze::preset_check::PresetCheck;
use crate::report::data::ReportData;
use crate::report::escape::{esc, num, table};
use std::collections::HashMap;
use std::fmt::Write;

/// Rows of either table before the rest is left to findings.json.
const SHOWN: usize = 100;

pub(super) fn presets(out: &mut String, d: &ReportData) {
    let Some(c) = &d.story.presets else {
        return;
    };
    out.push_str("<section id=\"presets\">\n<h2>Under other presets</h2>\n");
    let _ = writeln!(
        out,
        "<p>The same sign-ins through each preset's thresholds: the SIEM products' own \
         Entra ID rules, as far as this tool's detections can follow them (<code>entrasift \
         detections --preset NAME</code> lists them and says where they cannot). {} Only the \
         detections a preset sets differently are compared: {}.</p>",
        intro(c),
        esc(&c.kinds.join(", "))
    );
    if c.findings.is_empty() && c.elsewhere.is_empty() {
        out.push_str("<p>No preset raises a finding of these detections here.</p>\n</section>\n");
        return;
    }
    let index = finding_numbers(d);
    let mark = |on: bool| {
        if on {
            "<b>raised</b>".to_string()
        } else {
            "<span class=\"muted\">–</span>".to_string()
        }
    };
    let heads: Vec<String> = c.presets.iter().map(|p| column(c, p)).collect();
    if !c.findings.is_empty() {
        let _ = writeln!(
            out,
            "<h3>This run's findings</h3>\n<p class=\"muted\">A preset raises a finding when \
             its finding of the same detection shares an account or an address with it in \
             overlapping time; windows and counts differ, so ids do not.</p>"
        );
        let mut head: Vec<(&str, bool)> = vec![("Finding", false), ("Detection", false)];
        head.extend(heads.iter().map(|h| (h.as_str(), false)));
        let rows: Vec<Vec<String>> = c
            .findings
            .iter()
            .take(SHOWN)
            .map(|r| {
                let title = match index.get(r.id.as_str()) {
                    Some(&i) if i < MAX_FINDINGS => format!(
                        "<a href=\"#{}\">F{}</a> {}",
                        finding_anchor(&d.findings[i]),
                        i + 1,
                        esc(&r.title)
                    ),
                    _ => esc(&r.title),
                };
                let mut row = vec![
                    title,
                    format!("<span class=\"mono\">{}</span>", esc(&r.kind)),
                ];
                row.extend(c.presets.iter().map(|p| mark(r.under.contains(p))));
                row
            })
            .collect();
        table(out, &head, &rows);
        capped(out, c.findings.len());
    }
    if !c.elsewhere.is_empty() {
        let _ = writeln!(
            out,
            "<h3>Raised only under another preset</h3>\n<p class=\"muted\">Findings a preset's \
             thresholds raise that no finding of the same detection in this run covers. \
             \"This run\" lists what this run made of the same accounts or addresses at the \
             time, under other detections. Run <code>entrasift analyze --preset NAME</code> \
             for their evidence.</p>"
        );
        let head = [
            ("Severity", false),
            ("Finding", false),
            ("Detection", false),
            ("Under", false),
            ("This run", false),
            ("First seen", false),
            ("Last seen", false),
        ];
        let rows: Vec<Vec<String>> = c
            .elsewhere
            .iter()
            .take(SHOWN)
            .map(|e| {
                let f = &e.finding;
                vec![
                    badge(f.severity),
                    esc(&f.title),
                    format!("<span class=\"mono\">{}</span>", esc(&f.kind)),
                    esc(&e.under.join(", ")),
                    seen_as(&e.seen_as, &index, d),
                    when(&f.first_seen),
                    when(&f.last_seen),
                ]
            })
            .collect();
        table(out, &head, &rows);
        capped(out, c.elsewhere.len());
    }
    out.push_str("</section>\n");
}

/// This run's findings by number and detection, linked to their cards;
/// a dash for none.
fn seen_as(ids: &[String], index: &HashMap<&str, usize>, d: &ReportData) -> String {
    let links: Vec<String> = ids
        .iter()
        .filter_map(|id| index.get(id.as_str()))
        .map(|&i| {
            let f = &d.findings[i];
            let n = format!("F{} <span class=\"mono\">{}</span>", i + 1, esc(&f.kind));
            if i < MAX_FINDINGS {
                format!("<a href=\"#{}\">{n}</a>", finding_anchor(f))
            } else {
                n
            }
        })
        .collect();
    if links.is_empty() {
        "<span class=\"muted\">–</span>".to_string()
    } else {
        links.join(", ")
    }
}

/// Which preset this run was, in words.
fn intro(c: &PresetCheck) -> String {
    match &c.this_run {
        Some(p) => format!("This run used the <code>{}</code> thresholds.", esc(p)),
        None => "This run's settings file changed some of these thresholds, so no column is \
                 this run's own."
            .to_string(),
    }
}

fn column(c: &PresetCheck, preset: &str) -> String {
    if c.this_run.as_deref() == Some(preset) {
        format!("{} (this run)", esc(preset))
    } else {
        esc(preset)
    }
}

fn capped(out: &mut String, total: usize) {
    if total > SHOWN {
        let _ = writeln!(
            out,
            "<p class=\"muted\">Showing {} of {}; findings.json lists them all under \
             <code>presets</code>.</p>",
            num(SHOWN as u64),
            num(total as u64)
        );
    }
}
