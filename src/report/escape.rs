//! Every escaper the reports use, and the small HTML kit built on them.
//!
//! Every string in a log is attacker-controlled (user agents, user names,
//! failure reasons, even file names), so each output format has one
//! function here that makes log text safe for it: [`esc`] for HTML and
//! SVG markup, [`md_esc`] for Markdown, [`safe`] for the terminal,
//! [`csv_cell`] for CSV and spreadsheet cells, [`label`] for chart axes.
//! This file imports nothing else from `report`, so every writer can use
//! it without tying the writers to each other; the hostile-input tests sit
//! beside the code they pin.

use std::borrow::Cow;
use std::fmt::Write;

/// Longest log string echoed in an HTML table cell.
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
pub fn esc_cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        esc(s)
    } else {
        let cut: String = s.chars().take(max.saturating_sub(1)).collect();
        format!("{}…", esc(&cut))
    }
}

/// Escapes log text for Markdown, keeping it readable when pasted as
/// plain text: only the characters that could start emphasis, code, a
/// link, a table cell, strikethrough or inline HTML are backslash-escaped
/// (`\<` renders as a literal `<`, so no tag can form); line breaks become
/// spaces. Values never start a line, so `#`, `+` and `-` need nothing.
pub fn md_esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '<' | '>' => {
                out.push('\\');
                out.push(c);
            }
            '\r' | '\n' | '\t' => out.push(' '),
            c if c.is_control() => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// Terminal-safe text: log strings may carry escape sequences meant to
/// rewrite an analyst's terminal. Replaces control characters (ESC, CR,
/// BEL, …) with `?`.
pub fn safe(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() && c != '\t' { '?' } else { c })
        .collect()
}

/// Makes a cell safe to open: a cell a spreadsheet would run as a formula
/// (leading `=`, `+`, `-`, `@`, tab or carriage return) gets a quote
/// prefixed, and control characters other than tab and newline become `?`,
/// so that `cat findings.csv` cannot drive the terminal with escapes. A
/// plain negative number (a western longitude) is left alone: spreadsheets
/// read it as a number, and the quote would turn it into text.
pub fn csv_cell(s: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && c != '\t' && c != '\n';
    let formula = match s.as_bytes().first() {
        Some(b'-') => !is_negative_number(s),
        Some(b'=' | b'+' | b'@' | b'\t' | b'\r') => true,
        _ => false,
    };
    if !formula && !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 1);
    if formula {
        out.push('\'');
    }
    out.extend(s.chars().map(|c| if unsafe_char(c) { '?' } else { c }));
    Cow::Owned(out)
}

/// `-` then digits with at most one `.`: nothing a formula can hide in.
fn is_negative_number(s: &str) -> bool {
    let digits = &s[1..];
    !digits.is_empty()
        && digits.bytes().any(|b| b.is_ascii_digit())
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && digits.bytes().filter(|&b| b == b'.').count() <= 1
}

/// A log value made fit for a chart axis: control characters (invalid in
/// XML) become `?`, long values are cut with an ellipsis, empty ones are
/// named. Not markup-escaped: plotters' SVG backend escapes the text it
/// draws, and escaping here too would show `&amp;` on the chart.
pub fn label(s: &str, max: usize) -> String {
    if s.is_empty() {
        return "(none)".into();
    }
    let clean: String = s
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if clean.chars().count() <= max {
        clean
    } else {
        let mut cut: String = clean.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

// ------------------------------------------------------------- HTML kit

/// Escaped cell text, or a dash for an empty value.
pub fn cell(s: &str) -> String {
    if s.is_empty() {
        "<span class=\"muted\">–</span>".into()
    } else {
        esc_cut(s, CELL_CHARS)
    }
}

/// 1234567 -> `1,234,567`.
pub fn num(n: u64) -> String {
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

/// A table: `head` is (label, numeric) per column; cells are HTML already.
pub fn table(out: &mut String, head: &[(&str, bool)], rows: &[Vec<String>]) {
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

/// The note under a table cut to its first `shown` rows.
pub fn more_note(out: &mut String, shown: usize, total: usize, file: &str) {
    if total > shown {
        let _ = writeln!(
            out,
            "<p class=\"muted\">Showing {} of {}; the full table is tables/{file}.csv.</p>",
            num(shown as u64),
            num(total as u64)
        );
    }
}

/// The stylesheet of `report.html` and the timeline pages.
pub const CSS: &str = r#"
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
td:first-child > .mono { white-space:nowrap; }
.incident { border-top:2px solid #ccc; margin-top:22px; padding-top:4px; }
.incident-title { font-size:1.1em; }
table.accounts td { vertical-align:top; }
table.accounts details { margin:0; }
details > summary { cursor:pointer; color:var(--accent); margin:8px 0; }
footer { max-width:1240px; margin:0 auto; padding:16px 24px 32px; color:var(--muted); font-size:.9em; }
@media print {
  header { background:none; color:#000; } header p { color:#333; } nav { display:none; }
  .finding, figure, .remedy, tr { break-inside:avoid; }
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esc_covers_markup_and_quotes() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>\u{7}"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;?"
        );
        assert_eq!(esc_cut("<abcdef", 4), "&lt;ab…");
        assert_eq!(cell(""), "<span class=\"muted\">–</span>");
        assert_eq!(cell("<b>"), "&lt;b&gt;");
        assert_eq!(num(1_234_567), "1,234,567");
        assert_eq!(num(12), "12");
    }

    #[test]
    fn markdown_log_text_cannot_format_or_inject() {
        assert_eq!(
            md_esc("<script>alert(1)</script>"),
            "\\<script\\>alert(1)\\</script\\>"
        );
        assert_eq!(md_esc("a|b\n# c"), "a\\|b # c");
        assert_eq!(md_esc("[x](http://e)"), "\\[x\\](http://e)");
        assert_eq!(md_esc("<img src=x>"), "\\<img src=x\\>");
        assert_eq!(
            md_esc("Mozilla/5.0 (Windows NT 10.0)"),
            "Mozilla/5.0 (Windows NT 10.0)"
        );
    }

    #[test]
    fn terminal_escapes_are_neutralised() {
        assert_eq!(safe("a\u{1b}[31mb\r"), "a?[31mb?");
    }

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("-2+3"), "'-2+3");
        assert_eq!(csv_cell("-"), "'-");
        assert_eq!(csv_cell("-."), "'-.");
        assert_eq!(csv_cell("-1.2.3"), "'-1.2.3");
        assert_eq!(csv_cell("-1e5"), "'-1e5");
        assert_eq!(csv_cell("-122.33209991455078"), "-122.33209991455078");
        assert_eq!(csv_cell("-7"), "-7");
        assert_eq!(csv_cell("alex@contoso.com"), "alex@contoso.com");
        assert_eq!(csv_cell("\rx"), "'?x");
        assert_eq!(csv_cell("a\u{1b}[31mb\u{7}"), "a?[31mb?");
        assert_eq!(csv_cell("two\nlines\tok"), "two\nlines\tok");
    }

    #[test]
    fn labels_drop_control_characters_and_are_cut() {
        assert_eq!(label("a\u{1}b", 10), "a?b");
        assert_eq!(label("abcdefghij", 5), "abcd…");
        assert_eq!(label("", 5), "(none)");
    }

    #[test]
    fn table_and_note_keep_cells_as_given() {
        let mut out = String::new();
        table(
            &mut out,
            &[("Key", false), ("N", true)],
            &[vec![cell("<x>"), num(1200)]],
        );
        assert!(out.contains("<th class=\"n\">N</th>"));
        assert!(out.contains("<td>&lt;x&gt;</td><td class=\"n\">1,200</td>"));
        let mut note = String::new();
        more_note(&mut note, 50, 50, "by_ip");
        assert!(note.is_empty());
        more_note(&mut note, 50, 1234, "by_ip");
        assert!(note.contains("Showing 50 of 1,234; the full table is tables/by_ip.csv."));
    }
}
