//! The findings section: one card per finding with its facts, activity
//! chart, evidence, the sign-ins of its actors and what to do.

use super::{
    actor_list, badge, code_name, duration, finding_anchor, finding_numbers, plural, when_local,
    MAX_FINDINGS,
};
use crate::analyze::breakdown::SignInTable;
use crate::model::time::parse_time;
use crate::model::{Finding, Severity};
use crate::report::charts::finding_timeline;
use crate::report::data::ReportData;
use crate::report::escape::{cell, esc, esc_cut, num, table};
use rayon::prelude::*;
use std::collections::BTreeSet;
use std::fmt::Write;

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

pub(super) fn findings(out: &mut String, d: &ReportData) {
    let _ = writeln!(
        out,
        "<section id=\"findings\">\n<h2>Incidents and findings ({} findings in {} incidents)</h2>",
        num(d.findings.len() as u64),
        num(d.story.incidents.len() as u64)
    );
    if d.findings.is_empty() {
        out.push_str("<p>No detection fired on these logs.</p>\n</section>\n");
        return;
    }
    out.push_str(
        "<p class=\"muted\">Findings about the same account or address in overlapping time are one \
         incident: its strongest finding is shown, the related ones are folded under it. \
         Incidents made only of low-severity findings come last, folded. Each finding is \
         numbered (F1, F2, …)",
    );
    out.push_str(if d.engine.is_some() {
        ". Evidence rows point to the exact input record.</p>\n"
    } else {
        "; high and critical ones are marked with that number on the failures-over-time \
         chart. Evidence rows point to the exact input record.</p>\n"
    });
    // The articles are independent (each draws its own activity chart),
    // so they are rendered in parallel and laid out by incident after.
    let shown: Vec<(usize, &Finding)> = d.findings.iter().take(MAX_FINDINGS).enumerate().collect();
    let mut articles: Vec<Option<String>> = shown
        .par_iter()
        .map(|&(i, f)| {
            let mut article = String::new();
            finding(&mut article, d, f, i);
            Some(article)
        })
        .collect();
    let index = finding_numbers(d);
    let mut quiet = String::new();
    let mut quiet_count = 0usize;
    for inc in &d.story.incidents {
        let members: Vec<usize> = inc
            .findings
            .iter()
            .filter_map(|id| index.get(id.as_str()).copied())
            .filter(|&i| i < articles.len())
            .collect();
        let Some((&lead, rest)) = members.split_first() else {
            continue;
        };
        let low = inc.severity <= Severity::Low;
        let target = if low { &mut quiet } else { &mut *out };
        if low {
            quiet_count += members.len();
        }
        let _ = writeln!(
            target,
            "<section class=\"incident\">\n<h3 class=\"incident-title\">{} Incident: {}</h3>\n\
             <p class=\"muted\">{} · {} · {} · {} to {}</p>",
            badge(inc.severity),
            esc(&inc.title),
            plural(members.len() as u64, "finding", "findings"),
            plural(inc.users.len() as u64, "account", "accounts"),
            plural(inc.ips.len() as u64, "address", "addresses"),
            when_local(d, &inc.first_seen),
            when_local(d, &inc.last_seen),
        );
        if let Some(a) = articles[lead].take() {
            target.push_str(&a);
        }
        if !rest.is_empty() {
            let kinds: BTreeSet<&str> = rest.iter().map(|&i| d.findings[i].kind.as_str()).collect();
            let _ = writeln!(
                target,
                "<details class=\"related\">\n<summary>{} related: {}</summary>",
                plural(rest.len() as u64, "finding", "findings"),
                esc(&kinds.into_iter().collect::<Vec<_>>().join(", "))
            );
            for &i in rest {
                if let Some(a) = articles[i].take() {
                    target.push_str(&a);
                }
            }
            target.push_str("</details>\n");
        }
        target.push_str("</section>\n");
    }
    // Findings no incident holds (none, unless the story was not read).
    for a in articles.iter_mut().filter_map(Option::take) {
        out.push_str(&a);
    }
    if quiet_count > 0 {
        let _ = writeln!(
            out,
            "<details class=\"quiet\">\n<summary>{} low-severity findings, folded</summary>",
            num(quiet_count as u64)
        );
        out.push_str(&quiet);
        out.push_str("</details>\n");
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

/// Which presets' thresholds raise this finding too ("Under other
/// presets"), for the detections the presets set differently.
fn presets_line(d: &ReportData, f: &Finding) -> Option<String> {
    let c = d.story.presets.as_ref()?;
    let r = c.findings.iter().find(|r| r.id == f.id)?;
    let (raised, not): (Vec<&String>, Vec<&String>) =
        c.presets.iter().partition(|p| r.under.contains(p));
    let list = |v: &[&String]| v.iter().map(|p| esc(p)).collect::<Vec<_>>().join(", ");
    Some(match (raised.is_empty(), not.is_empty()) {
        (_, true) => "raised under every preset".to_string(),
        (true, false) => format!("raised under none of {}", list(&not)),
        (false, false) => format!(
            "raised under {}; not under {} (<a href=\"#presets\">compare</a>)",
            list(&raised),
            list(&not)
        ),
    })
}

fn finding(out: &mut String, d: &ReportData, f: &Finding, i: usize) {
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
    let mut rows: Vec<(&str, String)> = vec![
        (
            "Detection",
            format!("<span class=\"mono\">{}</span>", esc(&f.kind)),
        ),
        (
            "ATT&amp;CK",
            if f.techniques.is_empty() {
                "–".into()
            } else {
                format!(
                    "<span class=\"mono\">{}</span>",
                    esc(&f.techniques.join(", "))
                )
            },
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
        (
            "Detection window",
            if f.window_seconds > 0 {
                duration(f.window_seconds)
            } else {
                "– (not a windowed count)".into()
            },
        ),
        (
            "Finding ID",
            format!("<span class=\"mono\">{}</span>", esc(&f.id)),
        ),
    ];
    if let Some(line) = presets_line(d, f) {
        rows.push(("Presets", line));
    }
    for (k, v) in rows {
        let _ = writeln!(out, "<dt>{k}</dt><dd>{v}</dd>");
    }
    out.push_str("</dl>\n</div>\n");
    if d.engine.is_some() {
        // Drawn from the sign-ins, which engine results do not hold: an
        // empty chart would read as "no activity".
        out.push_str(
            "<div class=\"timeline\"><p class=\"muted\">The activity chart needs the \
             sign-ins, which engine results do not hold; run <code>entrasift analyze</code> or \
             <code>entrasift timeline</code> on the exports for it.</p></div>\n",
        );
    } else if let Some(activity) = d.breakdown.activity.get(i) {
        let _ = writeln!(
            out,
            "<div class=\"timeline\">{}<p>Sign-ins by these accounts from these IPs; the finding's span is shaded.</p></div>",
            finding_timeline(activity.as_ref())
        );
    }
    out.push_str("</div>\n");
    if let Some(Some(t)) = d.breakdown.sign_in_tables.get(i) {
        sign_in_table(out, d, t);
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
fn sign_in_table(out: &mut String, d: &ReportData, t: &SignInTable) {
    let files: Vec<String> = d.inputs.iter().map(|i| i.path.clone()).collect();
    // Only the rows shown are formatted: a busy account can have thousands.
    let rows = crate::report::timeline::rows(&t.entries, &files, d.zone.as_ref());
    let _ = writeln!(
        out,
        "<details>\n<summary>Sign-ins of these accounts and IPs, a day either side ({})</summary>",
        num(t.total as u64)
    );
    out.push_str(&crate::report::timeline::html_table(
        &rows,
        d.zone.as_ref(),
        t.total,
    ));
    out.push_str("</details>\n");
}
