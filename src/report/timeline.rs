//! Renders an actor timeline (`analyze::timeline`) as a terminal table,
//! CSV (through `table::write_rows`; Timeline Explorer and Excel read it as is), JSON Lines, or HTML:
//! a table for the report's finding cards and a whole self-contained page
//! for `entrasift timeline --format html`.

use super::escape::{esc, safe, CSS};
use super::zone::DisplayZone;
use crate::analyze::timeline::{Entry, Marker};
use crate::model::time::format_time;
use crate::model::{codes, SignIn, StatusClass};
use serde::Serialize;
use std::fmt::Write as _;
use std::io::{self, Write};

/// One timeline line with everything a responder reads, flattened.
#[derive(Debug, Serialize)]
pub struct Row {
    pub time_utc: String,
    /// Only with a display zone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_local: Option<String>,
    pub sign_in_type: &'static str,
    pub user: String,
    pub ip: String,
    pub country: String,
    pub city: String,
    pub app: String,
    pub client_app: String,
    /// Tooling names itself here (python-requests, BAV2ROPC, ...).
    pub user_agent: String,
    pub os: String,
    pub browser: String,
    pub device_id: String,
    pub result: &'static str,
    pub error_code: i64,
    /// The catalog's name for the code.
    pub explanation: String,
    pub failure_reason: String,
    pub markers: String,
    pub request_id: String,
    pub source_file: String,
    pub source_record: u64,
}

impl Row {
    /// `City, CC`, or whichever of the two is known.
    fn location(&self) -> String {
        [self.city.as_str(), self.country.as_str()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn explanation(code: i64) -> String {
    if code == 0 {
        return "success".into();
    }
    match codes::lookup(code) {
        Some(c) if !c.name.is_empty() => c.name.to_string(),
        Some(c) => first_sentence(c.meaning),
        None => "not in the catalog".into(),
    }
}

fn first_sentence(s: &str) -> String {
    s.split_inclusive(". ")
        .next()
        .unwrap_or(s)
        .trim()
        .to_string()
}

fn result(r: &SignIn) -> &'static str {
    match r.status {
        StatusClass::Success => "success",
        StatusClass::Failure => "failure",
        StatusClass::Interrupted => "interrupted",
    }
}

fn markers(m: &[Marker]) -> String {
    m.iter().map(Marker::label).collect::<Vec<_>>().join("; ")
}

pub fn rows(entries: &[Entry], paths: &[String], zone: Option<&DisplayZone>) -> Vec<Row> {
    entries
        .iter()
        .map(|e| {
            let r = e.record;
            Row {
                time_utc: format_time(r.time_us),
                time_local: zone.map(|z| z.local(r.time_us)),
                sign_in_type: r.sign_in_type.as_str(),
                user: r.user_principal_name.to_string(),
                ip: r.ip.to_string(),
                country: r.country.to_string(),
                city: r.city.to_string(),
                app: r.app_name.to_string(),
                client_app: r.client_app.to_string(),
                user_agent: r.user_agent.to_string(),
                os: r.os.to_string(),
                browser: r.browser.to_string(),
                device_id: r.device_id.to_string(),
                result: result(r),
                error_code: r.error_code,
                explanation: explanation(r.error_code),
                failure_reason: r.failure_reason.to_string(),
                markers: markers(&e.markers),
                request_id: r.request_id.to_string(),
                source_file: paths
                    .get(r.source_file as usize)
                    .cloned()
                    .unwrap_or_default(),
                source_record: r.source_record,
            }
        })
        .collect()
}

/// JSON Lines: each sign-in in the normalized schema plus its markers.
pub fn write_jsonl(w: &mut impl Write, entries: &[Entry]) -> io::Result<()> {
    for e in entries {
        serde_json::to_writer(&mut *w, e)?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

/// Cuts to `max` characters with an ellipsis, for fixed-width columns.
fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
    t.push('…');
    t
}

/// An aligned table for the terminal; long fields are cut (CSV and JSON
/// carry them whole) and control characters neutralised.
pub fn write_text(w: &mut impl Write, rows: &[Row], zone: Option<&DisplayZone>) -> io::Result<()> {
    let mut head = vec!["time (UTC)"];
    let local = zone.map(|z| format!("local ({})", z.name()));
    if let Some(l) = &local {
        head.push(l);
    }
    head.extend([
        "type", "user", "ip", "location", "app", "client", "result", "markers",
    ]);
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut cells = vec![r.time_utc.clone()];
            cells.extend(r.time_local.clone());
            let location = r.location();
            let result = if r.error_code == 0 {
                r.result.to_string()
            } else {
                format!("{} {} {}", r.result, r.error_code, r.explanation)
            };
            cells.extend([
                r.sign_in_type.to_string(),
                cut(&r.user, 40),
                r.ip.clone(),
                cut(&location, 24),
                cut(&r.app, 28),
                cut(&r.client_app, 22),
                cut(&result, 48),
                r.markers.clone(),
            ]);
            cells.into_iter().map(|c| safe(&c)).collect()
        })
        .collect();
    let mut widths: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for row in &table {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |w: &mut dyn Write, cells: &[&str]| -> io::Result<()> {
        let last = cells.len() - 1;
        for (i, c) in cells.iter().enumerate() {
            if i == last {
                writeln!(w, "{c}")?;
            } else {
                let pad = widths[i] - c.chars().count();
                write!(w, "{c}{}  ", " ".repeat(pad))?;
            }
        }
        Ok(())
    };
    line(w, &head)?;
    for row in &table {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        line(w, &cells)?;
    }
    Ok(())
}

/// An HTML table of timeline rows (the page's CSS classes): `rows` are the
/// first of `total`, and a note says so when some are left out.
pub fn html_table(rows: &[Row], zone: Option<&DisplayZone>, total: usize) -> String {
    let mut out = String::new();
    out.push_str("<div class=\"scroll\"><table class=\"tl\">\n<thead><tr><th>Time (UTC)</th>");
    if let Some(z) = zone {
        let _ = write!(out, "<th>Local ({})</th>", esc(&z.name()));
    }
    out.push_str(
        "<th>Type</th><th>Account</th><th>IP</th><th>Location</th><th>App</th>\
         <th>Client</th><th>User agent</th><th>Result</th><th>Markers</th></tr></thead>\n<tbody>\n",
    );
    for r in rows {
        let class = match r.result {
            "failure" => " class=\"fail\"",
            "interrupted" => " class=\"intr\"",
            _ => "",
        };
        let _ = write!(
            out,
            "<tr{class}><td class=\"mono\">{}</td>",
            esc(&r.time_utc)
        );
        if let Some(l) = &r.time_local {
            let _ = write!(out, "<td class=\"mono\">{}</td>", esc(l));
        }
        let location = r.location();
        let result = if r.error_code == 0 {
            "success".to_string()
        } else {
            format!(
                "{} <span class=\"mono\">{}</span> {}",
                r.result,
                r.error_code,
                esc(&r.explanation)
            )
        };
        let _ = writeln!(
            out,
            "<td>{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"mono\">{}</td><td>{}</td><td>{}</td></tr>",
            esc(r.sign_in_type),
            esc(&cut(&r.user, 120)),
            esc(&r.ip),
            esc(&cut(&location, 80)),
            esc(&cut(&r.app, 80)),
            esc(&cut(&r.client_app, 60)),
            esc(&cut(&r.user_agent, 80)),
            result,
            if r.markers.is_empty() {
                String::new()
            } else {
                format!("<span class=\"warn\">{}</span>", esc(&r.markers))
            },
        );
    }
    out.push_str("</tbody></table></div>\n");
    if total > rows.len() {
        let _ = writeln!(
            out,
            "<p class=\"muted\">Showing the first {} of {total} sign-ins; \
             <span class=\"mono\">entrasift timeline</span> lists them all.</p>",
            rows.len()
        );
    }
    out
}

/// A whole self-contained page (same CSS and Content-Security-Policy as
/// `report.html`) for one actor.
pub fn html_page(title: &str, rows: &[Row], zone: Option<&DisplayZone>, tool: &str) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <title>Timeline: {t}</title>\n<style>{css}</style>\n</head>\n<body>\n<header>\n\
         <h1>Timeline</h1>\n<p>{t} · {n} sign-in(s) · {tool} · times in UTC{local}</p>\n</header>\n<main>\n",
        t = esc(title),
        css = CSS,
        n = rows.len(),
        tool = esc(tool),
        local = zone
            .map(|z| format!(", local time ({}) beside it", esc(&z.name())))
            .unwrap_or_default(),
    );
    out.push_str("<section id=\"timeline\">\n");
    out.push_str(&html_table(rows, zone, rows.len()));
    out.push_str("</section>\n</main>\n</body>\n</html>\n");
    out
}
