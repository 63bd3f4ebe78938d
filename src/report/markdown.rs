//! `summary.md`: the report's story in Markdown for tickets and mail.

use super::baseline::Comparison;
use super::data::ReportData;
use super::escape::md_esc;
use crate::analyze::aggregate::GroupRow;
use crate::model::codes;
use crate::model::{Finding, Severity};
use std::collections::BTreeMap;
use std::fmt::Write;

/// `failing_only`: list only rows with failures (the "top failing"
/// tables); the apps, countries and client apps tables list every row, as
/// the HTML report does.
fn top_table(
    out: &mut String,
    title: &str,
    key: &str,
    rows: &[GroupRow],
    n: usize,
    failing_only: bool,
) {
    let _ = writeln!(out, "\n### {title}\n");
    if rows.is_empty() {
        out.push_str("None.\n");
        return;
    }
    // An IP row's own address count is always one: the column says
    // nothing there, so the IP table shows the smart lockouts instead.
    let by_ip = key == "IP";
    let extra = if by_ip { "smart lockouts" } else { "IPs" };
    let _ = writeln!(
        out,
        "| {key} | failures | interrupts | successes | users | {extra} | codes | first seen (UTC) | last seen (UTC) |"
    );
    out.push_str("|---|---:|---:|---:|---:|---:|---|---|---|\n");
    for r in rows
        .iter()
        .filter(|r| !failing_only || r.failures > 0)
        .take(n)
    {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            md_esc(&r.key),
            r.failures,
            r.interrupts,
            r.successes,
            r.users,
            if by_ip { r.lockouts } else { r.ips },
            md_esc(&r.codes),
            r.first_seen,
            r.last_seen
        );
    }
}

/// `summary.md`, one section after another (each a function, as in
/// `report.html`).
pub fn render(d: &ReportData) -> String {
    let mut out = String::new();
    // The first screenful answers "who, and what first": the accounts,
    // what the logs could not show, and the 50053 / 53011 guidance. The
    // incidents follow; low-severity findings come last as one table.
    if let Some(e) = d.engine {
        // Findings (and perhaps the sign-in tables) from a query engine: no
        // sign-ins behind them, so only the parts drawn from what the
        // results hold, and a section saying what is not here.
        let _ = writeln!(
            out,
            "# Entra ID sign-in analysis\n\n{} findings in {} incidents, computed by the SQL detections on a query engine and read from `{}` (all times UTC). Produced by {}.\n",
            d.findings.len(),
            d.story.incidents.len(),
            md_esc(e.results),
            md_esc(&d.tool)
        );
        accounts(&mut out, d);
        incidents(&mut out, d);
        low_findings(&mut out, d);
        if e.tables {
            summary(&mut out, d);
            error_codes(&mut out, d);
            top_tables(&mut out, d);
        }
        let _ = writeln!(out, "## Not in the engine results\n\n{}", e.gaps());
        return out;
    }
    title(&mut out, d);
    accounts(&mut out, d);
    coverage(&mut out, d);
    lockout_and_risk_guidance(&mut out, d);
    incidents(&mut out, d);
    low_findings(&mut out, d);
    presets(&mut out, d);
    summary(&mut out, d);
    if let Some(c) = d.baseline {
        baseline_change(&mut out, c);
    }
    if let Some(h) = d.history {
        history(&mut out, h);
    }
    error_codes(&mut out, d);
    top_tables(&mut out, d);
    out.push_str(
        &d.enrichment
            .map(super::enrichment::markdown_section)
            .unwrap_or_default(),
    );
    inputs(&mut out, d);
    out
}

/// The top rows of the IP, account, app, country and client-app tables.
fn top_tables(out: &mut String, d: &ReportData) {
    let t = d.tables;
    top_table(out, "Top failing IPs", "IP", &t.by_ip, 10, true);
    top_table(out, "Top targeted users", "user", &t.by_user, 10, true);
    top_table(out, "Apps", "app", &t.by_app, 10, false);
    top_table(out, "Countries", "country", &t.by_country, 10, false);
    top_table(
        out,
        "Client apps",
        "client app",
        &t.by_client_app,
        10,
        false,
    );
}

/// The heading and a one-line count.
fn title(out: &mut String, d: &ReportData) {
    let s = d.summary;
    let _ = writeln!(
        out,
        "# Entra ID sign-in analysis
"
    );
    let range = match (&s.first_seen, &s.last_seen) {
        (Some(a), Some(b)) => format!(", {a} to {b}"),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "{} sign-ins from {} input(s){range} (all times UTC); {} findings in {} incidents. Produced by {}.\n",
        s.records,
        d.inputs.len(),
        d.findings.len(),
        d.story.incidents.len(),
        md_esc(&d.tool),
    );
}

/// Accounts to act on: every verdict above "targeted" in a table, then
/// the targeted accounts named in one line each group.
fn accounts(out: &mut String, d: &ReportData) {
    use crate::analyze::verdict::Verdict;
    let all = &d.story.accounts;
    let _ = writeln!(out, "## Accounts to act on\n");
    if all.is_empty() {
        out.push_str("No account was attacked, locked out or blocked.\n");
        return;
    }
    let counts: Vec<String> = crate::analyze::verdict::counts(all)
        .iter()
        .map(|(v, n)| format!("{n} {}", v.label().to_lowercase()))
        .collect();
    let _ = writeln!(out, "{}.\n", counts.join(", "));
    let act: Vec<_> = all
        .iter()
        .filter(|a| a.verdict != Verdict::Targeted)
        .collect();
    if !act.is_empty() {
        out.push_str("| verdict | account | why | do first |\n|---|---|---|---|\n");
        for a in &act {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                a.verdict.label(),
                md_esc(&a.user),
                md_esc(a.reasons.first().map_or("", String::as_str)),
                md_esc(&a.action)
            );
        }
    }
    let targeted: Vec<String> = all
        .iter()
        .filter(|a| a.verdict == Verdict::Targeted)
        .map(|a| md_esc(&a.user))
        .collect();
    if !targeted.is_empty() {
        let _ = writeln!(
            out,
            "\nTargeted, nothing got through ({}): {}.",
            targeted.len(),
            targeted.join(", ")
        );
    }
}

/// What these logs could not show, and why.
fn coverage(out: &mut String, d: &ReportData) {
    let gaps: Vec<_> = d
        .story
        .coverage
        .iter()
        .filter(|c| c.status.is_gap())
        .collect();
    if gaps.is_empty() {
        return;
    }
    out.push_str("\n### What these logs could not show\n\n");
    for c in gaps {
        let _ = writeln!(
            out,
            "- `{}` {}: {}",
            c.kind,
            c.status.phrase(),
            md_esc(&c.note)
        );
    }
}

/// Each incident once: its lead finding in full, the related ones by
/// title. Incidents made only of low-severity findings go to
/// [`low_findings`].
fn incidents(out: &mut String, d: &ReportData) {
    let _ = writeln!(out, "\n## Incidents\n");
    if d.findings.is_empty() {
        out.push_str("No findings.\n");
        return;
    }
    if d.story
        .incidents
        .iter()
        .all(|i| i.severity <= Severity::Low)
    {
        out.push_str("None above low severity; the low ones are listed below.\n");
    }
    let by_id: BTreeMap<&str, &Finding> = d.findings.iter().map(|f| (f.id.as_str(), f)).collect();
    for inc in d
        .story
        .incidents
        .iter()
        .filter(|i| i.severity > Severity::Low)
    {
        let members: Vec<&Finding> = inc
            .findings
            .iter()
            .filter_map(|id| by_id.get(id.as_str()).copied())
            .collect();
        let Some((lead, rest)) = members.split_first() else {
            continue;
        };
        finding(out, lead, d.baseline);
        if !rest.is_empty() {
            out.push_str("- related findings:\n");
            for f in rest {
                let _ = writeln!(
                    out,
                    "  - {} `{}`: {}",
                    f.severity.as_str(),
                    f.id,
                    md_esc(&f.title)
                );
            }
            out.push('\n');
        }
    }
}

/// Low-severity incidents as one table.
fn low_findings(out: &mut String, d: &ReportData) {
    let low: Vec<&Finding> = d
        .story
        .incidents
        .iter()
        .filter(|i| i.severity <= Severity::Low)
        .flat_map(|i| i.findings.iter())
        .filter_map(|id| d.findings.iter().find(|f| &f.id == id))
        .collect();
    if low.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n### Low-severity findings ({})\n", low.len());
    out.push_str("| severity | kind | title | first seen | id |\n|---|---|---|---|---|\n");
    for f in low {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | `{}` |",
            f.severity.as_str(),
            f.kind,
            md_esc(&f.title),
            f.first_seen,
            f.id
        );
    }
    out.push('\n');
}

/// Rows of each preset table before the rest is left to findings.json.
const PRESET_ROWS: usize = 20;

/// Which presets' thresholds raise each finding, and what only another
/// preset raises (`analyze::preset_check`).
fn presets(out: &mut String, d: &ReportData) {
    let Some(c) = &d.story.presets else {
        return;
    };
    let _ = writeln!(
        out,
        "## Under other presets
"
    );
    let _ = writeln!(
        out,
        "{} Compared, as the detections the presets set differently: {}.\n",
        match &c.this_run {
            Some(p) => format!("This run used the `{p}` thresholds."),
            None => "This run's settings file changed some of these thresholds.".to_string(),
        },
        c.kinds.join(", ")
    );
    if c.findings.is_empty() && c.elsewhere.is_empty() {
        out.push_str("No preset raises a finding of these detections here.\n\n");
        return;
    }
    let more = |out: &mut String, total: usize| {
        if total > PRESET_ROWS {
            let _ = writeln!(
                out,
                "\n{} more in findings.json (`presets`).",
                total - PRESET_ROWS
            );
        }
    };
    if !c.findings.is_empty() {
        let names: Vec<String> = c
            .presets
            .iter()
            .map(|p| match c.this_run.as_deref() == Some(p.as_str()) {
                true => format!("{p} (this run)"),
                false => p.clone(),
            })
            .collect();
        let _ = writeln!(out, "| finding | kind | {} |", names.join(" | "));
        let _ = writeln!(out, "|---|---|{}", "---|".repeat(names.len()));
        for r in c.findings.iter().take(PRESET_ROWS) {
            let marks: Vec<&str> = c
                .presets
                .iter()
                .map(|p| if r.under.contains(p) { "raised" } else { "–" })
                .collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                md_esc(&r.title),
                r.kind,
                marks.join(" | ")
            );
        }
        more(out, c.findings.len());
    }
    if !c.elsewhere.is_empty() {
        let _ = writeln!(
            out,
            "\n### Raised only under another preset\n\nNo finding of the same detection in this run covers these; \"this run\" is what it made of the same accounts or addresses at the time.\n\n| severity | kind | title | under | this run | first seen |\n|---|---|---|---|---|---|"
        );
        for e in c.elsewhere.iter().take(PRESET_ROWS) {
            let f = &e.finding;
            let seen = e.seen_kinds(d.findings);
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                f.severity.as_str(),
                f.kind,
                md_esc(&f.title),
                e.under.join(", "),
                if seen.is_empty() {
                    "–".to_string()
                } else {
                    seen.join(", ")
                },
                f.first_seen
            );
        }
        more(out, c.elsewhere.len());
    }
    out.push('\n');
}

/// The totals.
fn summary(out: &mut String, d: &ReportData) {
    let s = d.summary;
    let _ = writeln!(out, "## Summary\n");
    let _ = writeln!(out, "| | |\n|---|---:|");
    for (k, v) in [
        ("sign-ins (after de-duplication)", s.records),
        ("successes", s.successes),
        ("failures", s.failures),
        ("interrupts (not failures)", s.interrupts),
        ("duplicates dropped", s.duplicates),
        ("rows rejected", s.rejected),
        ("rows skipped (not sign-ins)", s.skipped),
        ("distinct users", s.distinct_users),
        ("distinct IPs", s.distinct_ips),
    ] {
        let _ = writeln!(out, "| {k} | {v} |");
    }
    if let (Some(a), Some(b)) = (&s.first_seen, &s.last_seen) {
        let _ = writeln!(out, "\nTime range: {a} to {b}.");
    }
    out.push('\n');
}

/// `--baseline`: the change in totals and findings since the earlier run.
fn baseline_change(out: &mut String, c: &Comparison) {
    let _ = writeln!(out, "\n### Change since the baseline\n");
    let _ = writeln!(out, "Baseline: `{}`.\n", md_esc(&c.path));
    let _ = writeln!(out, "| | previous | now | change |\n|---|---:|---:|---:|");
    for m in &c.change {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:+} |",
            m.name,
            m.previous,
            m.current,
            m.current as i64 - m.previous as i64
        );
    }
    let _ = writeln!(
        out,
        "\nFindings: {} new, {} ongoing, {} resolved.",
        c.new.len(),
        c.ongoing.len(),
        c.resolved.len()
    );
    for r in &c.resolved {
        let _ = writeln!(
            out,
            "- resolved: [{}] {}",
            md_esc(&r.kind),
            md_esc(&r.title)
        );
    }
}

fn finding(out: &mut String, f: &Finding, baseline: Option<&Comparison>) {
    let tag = baseline
        .and_then(|c| c.status_of(&f.id))
        .map(|st| format!(" ({st})"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "### {} — {}{}\n",
        f.severity.as_str().to_uppercase(),
        md_esc(&f.title),
        tag
    );
    let _ = writeln!(out, "- kind: `{}`, id: `{}`", f.kind, f.id);
    if !f.techniques.is_empty() {
        let _ = writeln!(out, "- ATT&CK: {}", f.techniques.join(", "));
    }
    let _ = writeln!(
        out,
        "- seen: {} to {} ({} event(s))",
        f.first_seen, f.last_seen, f.count
    );
    if !f.ips.is_empty() {
        let ips: Vec<String> = f.ips.iter().map(|x| md_esc(x)).collect();
        let _ = writeln!(out, "- IPs: {}", ips.join(", "));
    }
    if !f.users.is_empty() {
        let users: Vec<String> = f.users.iter().map(|x| md_esc(x)).collect();
        let _ = writeln!(out, "- users: {}", users.join(", "));
    }
    if !f.error_codes.is_empty() {
        let codes: Vec<String> = f.error_codes.iter().map(|c| c.to_string()).collect();
        let _ = writeln!(out, "- error codes: {}", codes.join(", "));
    }
    if let Some(sample) = f.evidence.samples.first() {
        let _ = writeln!(
            out,
            "- evidence: request `{}` in {} record {}",
            md_esc(&sample.request_id),
            md_esc(&sample.file),
            sample.record
        );
    }
    if !f.remediation.is_empty() {
        out.push_str("- what to do:\n");
        for step in &f.remediation {
            let _ = writeln!(out, "  - {}", md_esc(step));
        }
    }
    out.push('\n');
}

/// The code table, 50053 by cause (`analyze::breakdown`) and, when a risk
/// block occurred, the ways to clear one.
fn error_codes(out: &mut String, d: &ReportData) {
    let s = d.summary;
    let _ = writeln!(out, "## Failures by error code\n");
    if s.by_error_code.is_empty() {
        out.push_str("None.\n");
    } else {
        out.push_str("| code | name | status | count | users | IPs | meaning |\n|---:|---|---|---:|---:|---:|---|\n");
        for c in &s.by_error_code {
            let meaning = codes::lookup(c.code)
                .map(|i| i.meaning)
                .unwrap_or("not in the catalog");
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                c.code,
                md_esc(&c.name),
                c.status,
                c.count,
                c.users,
                c.ips,
                md_esc(meaning)
            );
        }
    }
}

/// 50053 split by cause and, when a risk block occurred, the ways to clear
/// one: the guidance a responder needs first, so it comes right after the
/// accounts.
fn lockout_and_risk_guidance(out: &mut String, d: &ReportData) {
    // 50053 means different things; the failure reason tells which.
    let causes = &d.breakdown.lockout_causes;
    if !causes.is_empty() {
        out.push_str("\n### 50053 by cause\n\n");
        for c in causes {
            let inferred = if c.inferred > 0 {
                format!(
                    " ({} inferred from the sign-ins around them: the export gives no reason)",
                    c.inferred
                )
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "- **{}**: {}{inferred} — {}",
                c.cause.label(),
                c.sign_ins,
                c.cause.explanation()
            );
        }
    }
    if d.summary
        .by_error_code
        .iter()
        .any(|c| codes::is_risk_block(c.code))
    {
        out.push_str("\n### Clearing a risk block (53011, 530032, 53004)\n\n");
        for r in codes::risk_block_remediation() {
            let _ = writeln!(
                out,
                "- **{}**: {} (role: {}; licence: {}). {}",
                r.title, r.steps, r.role, r.licence, r.caveat
            );
        }
    }
}

/// Every input with its accounting, and why a partial one was partial.
fn inputs(out: &mut String, d: &ReportData) {
    let _ = writeln!(out, "\n## Inputs\n");
    out.push_str("| input | format | read | parsed | duplicates | rejected | skipped | SHA-256 |\n|---|---|---:|---:|---:|---:|---:|---|\n");
    for i in d.inputs {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | `{}` |",
            md_esc(&i.path),
            i.format.map(|f| f.as_str()).unwrap_or("unrecognised"),
            i.records_read,
            i.parsed,
            i.duplicates,
            i.rejected,
            i.skipped,
            i.sha256
        );
    }
    for i in d.inputs.iter().filter(|i| i.is_partial()) {
        let _ = writeln!(
            out,
            "\n- {}: {}",
            md_esc(&i.path),
            md_esc(i.error.as_deref().unwrap_or("some rows were rejected"))
        );
        for (reason, n) in &i.rejected_by_reason {
            let _ = writeln!(out, "  - {n} rejected: {}", md_esc(reason));
        }
    }
}

/// `--history`: the runs as a table and what is new since the latest.
fn history(out: &mut String, h: &super::history::History) {
    let _ = writeln!(out, "\n### Trend across runs\n");
    let _ = writeln!(
        out,
        "| run | to | sign-ins | failures | lockouts | spray IPs | risky users |\n|---|---|---:|---:|---:|---:|---:|"
    );
    let all = h
        .runs
        .iter()
        .map(|r| (r.label.as_str(), &r.record))
        .chain(std::iter::once(("this run", &h.current)));
    for (label, r) in all {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            md_esc(label),
            md_esc(r.period_end.as_deref().unwrap_or("")),
            r.sign_ins,
            r.failures,
            r.lockouts,
            r.spray_ips,
            r.risky_users
        );
    }
    let Some(prev) = h.previous() else {
        let _ = writeln!(out, "\nNo earlier run to compare with yet.");
        return;
    };
    let _ = writeln!(out, "\n### New since {}\n", md_esc(&prev.label));
    let join = |items: &[String]| {
        if items.is_empty() {
            "none".to_string()
        } else {
            items
                .iter()
                .map(|i| md_esc(i))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let _ = writeln!(out, "- failing IP addresses: {}", join(&h.new_failing_ips));
    let _ = writeln!(out, "- countries: {}", join(&h.new_countries));
    if h.new_findings.is_empty() {
        let _ = writeln!(out, "- findings: none new");
    }
    for k in &h.new_findings {
        let _ = writeln!(
            out,
            "- new finding: {} — {}",
            k.severity.as_str().to_uppercase(),
            md_esc(&k.title)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::charts::{all_charts, fixture::sample};
    use crate::report::escape::{esc, num};

    #[test]
    fn lockout_causes_read_the_same_in_markdown_and_html() {
        let s = sample();
        let d = s.data();
        let md = render(&d);
        let page = crate::report::html::render(&d, &all_charts(&d));
        let causes = &d.breakdown.lockout_causes;
        assert!(!causes.is_empty(), "the sample plants lockouts");
        for c in causes {
            assert!(
                md.contains(&format!("- **{}**: {} —", c.cause.label(), c.sign_ins)),
                "{:?} in summary.md",
                c.cause
            );
            assert!(
                page.contains(&format!(
                    "<td><strong>{}</strong></td><td class=\"n\">{}</td>",
                    esc(c.cause.label()),
                    num(c.sign_ins)
                )),
                "{:?} in report.html",
                c.cause
            );
        }
        let total: u64 = causes.iter().map(|c| c.sign_ins).sum();
        let lockouts = d.summary.by_error_code.iter().find(|r| r.code == 50053);
        assert_eq!(lockouts.map(|r| r.count), Some(total));
    }
}
