//! The IP enrichment section of `report.html` and `summary.md`: which
//! databases were used, how many records each field was filled in, the
//! range labels, and the addresses that were labelled or enriched, each
//! value with its source.
//!
//! Addresses come from the log and names from the database files: both
//! are escaped like any other log text.

use super::escape::{cell, esc, md_esc, more_note, num, table};
use crate::enrich::{EnrichReport, IpRow, Source};
use std::fmt::Write;

/// Addresses listed in the HTML table.
const HTML_ROWS: usize = 50;
/// Addresses listed in the Markdown table.
const MD_ROWS: usize = 20;

/// Rows worth showing: labelled, or with a value from a database.
fn notable(r: &IpRow) -> bool {
    !r.label.is_empty()
        || [
            r.country_source,
            r.state_source,
            r.city_source,
            r.coordinates_source,
            r.asn_source,
            r.org_source,
        ]
        .iter()
        .any(|s| matches!(s, Source::GeoipDb | Source::AsnDb | Source::Gazetteer))
}

fn coords(r: &IpRow) -> String {
    match (r.latitude, r.longitude) {
        (Some(lat), Some(lon)) => format!("{lat:.4}, {lon:.4}"),
        _ => String::new(),
    }
}

/// The place's source is the city's, or the state's when there is no city.
fn place_source(r: &IpRow) -> Source {
    if r.city.is_empty() {
        r.state_source
    } else {
        r.city_source
    }
}

fn place(r: &IpRow) -> String {
    [r.city.as_str(), r.state.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(", ")
}

/// A value with its source; the source is shown only when a database
/// supplied the value (log values are the norm).
fn sourced_html(value: &str, src: Source) -> String {
    match src {
        Source::GeoipDb | Source::AsnDb | Source::Gazetteer => format!(
            "{} <span class=\"muted\">({})</span>",
            cell(value),
            src.as_str()
        ),
        _ => cell(value),
    }
}

fn sourced_md(value: &str, src: Source) -> String {
    match (value.is_empty(), src) {
        (true, _) => "–".into(),
        (false, Source::GeoipDb | Source::AsnDb | Source::Gazetteer) => {
            format!("{} ({})", md_esc(value), md_esc(src.as_str()))
        }
        (false, _) => md_esc(value),
    }
}

fn filled_list(e: &EnrichReport) -> [(&'static str, u64); 5] {
    let f = &e.filled;
    [
        ("country", f.country),
        ("state", f.state),
        ("city", f.city),
        ("coordinates", f.coordinates),
        ("ASN", f.asn),
    ]
}

/// What the city gazetteer did, when it had anything to do.
fn gazetteer_line(e: &EnrichReport) -> Option<String> {
    let g = &e.gazetteer;
    (g.placed > 0 || g.unresolved > 0).then(|| {
        format!(
            "City gazetteer: {} sign-in(s) without coordinates placed at their logged city; \
             {} left without (place unknown, or a name several places share).",
            g.placed, g.unresolved
        )
    })
}

/// `<section id="ip-enrichment">` for `report.html`.
pub fn html_section(e: &EnrichReport) -> String {
    let mut out = String::new();
    out.push_str(
        "<section id=\"ip-enrichment\">\n<h2>IP enrichment</h2>\n<p class=\"muted\">Values \
         from the logs always win: a database only fills a field a sign-in left empty, and \
         never moves a sign-in to another country (or, for coordinates, another city) than \
         the log gives. <code>geoip_db</code> and <code>asn_db</code> mark values from the \
         <code>--geoip</code> and <code>--asn</code> files, <code>gazetteer</code> \
         coordinates of the logged city (GeoNames) for sign-ins that had none.</p>\n",
    );
    if let Some(line) = gazetteer_line(e) {
        let _ = writeln!(out, "<p>{}</p>", esc(&line));
    }
    if e.databases.is_empty() {
        out.push_str(
            "<p>No <code>--geoip</code> or <code>--asn</code> database was given: only \
             private, reserved and Microsoft ranges are labelled.</p>\n",
        );
    } else {
        let rows: Vec<Vec<String>> = e
            .databases
            .iter()
            .map(|d| {
                vec![
                    esc(d.flag),
                    format!("<span class=\"mono path\">{}</span>", cell(&d.path)),
                    cell(&d.database_type),
                    cell(&d.built),
                    format!("<span class=\"mono path\">{}</span>", cell(&d.sha256)),
                ]
            })
            .collect();
        table(
            &mut out,
            &[
                ("Flag", false),
                ("File", false),
                ("Type", false),
                ("Built (UTC)", false),
                ("SHA-256", false),
            ],
            &rows,
        );
        out.push_str("<div class=\"tiles\">\n");
        for (what, n) in filled_list(e) {
            let _ = writeln!(
                out,
                "<div class=\"tile\"><b>{}</b><span>sign-ins given {what}</span></div>",
                num(n)
            );
        }
        let _ = writeln!(
            out,
            "<div class=\"tile\"><b>{}</b><span>kept as logged (database disagreed)</span></div>",
            num(e.location_conflicts)
        );
        out.push_str("</div>\n");
    }
    if e.lookup_errors > 0 {
        let _ = writeln!(
            out,
            "<p class=\"warn\">{} address lookup(s) failed; first: {}</p>",
            num(e.lookup_errors),
            cell(e.first_lookup_error.as_deref().unwrap_or(""))
        );
    }
    out.push_str("<h3>Address ranges</h3>\n");
    if e.labels.is_empty() {
        out.push_str("<p>No address fell in a private, reserved or Microsoft range.</p>\n");
    } else {
        let rows: Vec<Vec<String>> = e
            .labels
            .iter()
            .map(|l| vec![esc(&l.label), num(l.ips), num(l.records)])
            .collect();
        table(
            &mut out,
            &[("Label", false), ("Addresses", true), ("Sign-ins", true)],
            &rows,
        );
    }
    let shown: Vec<&IpRow> = e.ips.iter().filter(|r| notable(r)).collect();
    if !shown.is_empty() {
        out.push_str("<h3>Labelled or enriched addresses</h3>\n");
        let rows: Vec<Vec<String>> = shown
            .iter()
            .take(HTML_ROWS)
            .map(|r| {
                vec![
                    format!("<span class=\"mono\">{}</span>", cell(&r.ip)),
                    num(r.records),
                    if r.label.is_empty() {
                        cell("")
                    } else {
                        format!(
                            "{}<br><span class=\"muted\">{}</span>",
                            esc(&r.label),
                            esc(&r.label_detail)
                        )
                    },
                    sourced_html(&r.country, r.country_source),
                    sourced_html(&place(r), place_source(r)),
                    sourced_html(&coords(r), r.coordinates_source),
                    sourced_html(
                        &r.asn.map(|a| format!("AS{a}")).unwrap_or_default(),
                        r.asn_source,
                    ),
                    sourced_html(&r.org, r.org_source),
                ]
            })
            .collect();
        table(
            &mut out,
            &[
                ("IP address", false),
                ("Sign-ins", true),
                ("Label", false),
                ("Country", false),
                ("City", false),
                ("Coordinates", false),
                ("ASN", false),
                ("Organisation", false),
            ],
            &rows,
        );
        more_note(&mut out, rows.len(), shown.len(), "ip_enrichment");
    }
    out.push_str("</section>\n");
    out
}

/// `## IP enrichment` for `summary.md`.
pub fn markdown_section(e: &EnrichReport) -> String {
    let mut out = String::from("\n## IP enrichment\n\n");
    out.push_str(
        "Values from the logs win; a database only fills empty fields. \
         `geoip_db` / `asn_db` mark values from the `--geoip` / `--asn` files, \
         `gazetteer` coordinates of the logged city (GeoNames).\n\n",
    );
    if let Some(line) = gazetteer_line(e) {
        let _ = writeln!(out, "{}\n", md_esc(&line));
    }
    if e.databases.is_empty() {
        out.push_str("No `--geoip` or `--asn` database given: only address ranges are labelled.\n");
    } else {
        out.push_str("| flag | file | type | built (UTC) | SHA-256 |\n|---|---|---|---|---|\n");
        for d in &e.databases {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | `{}` |",
                d.flag,
                md_esc(&d.path),
                md_esc(&d.database_type),
                d.built,
                d.sha256
            );
        }
        let filled: Vec<String> = filled_list(e)
            .iter()
            .map(|(what, n)| format!("{what} {n}"))
            .collect();
        let _ = writeln!(
            out,
            "\nSign-ins filled: {}; {} kept as logged where the database disagreed.",
            filled.join(", "),
            e.location_conflicts
        );
    }
    if e.lookup_errors > 0 {
        let _ = writeln!(
            out,
            "\n{} address lookup(s) failed; first: {}",
            e.lookup_errors,
            md_esc(e.first_lookup_error.as_deref().unwrap_or(""))
        );
    }
    if !e.labels.is_empty() {
        out.push_str("\n| range label | addresses | sign-ins |\n|---|---:|---:|\n");
        for l in &e.labels {
            let _ = writeln!(out, "| {} | {} | {} |", md_esc(&l.label), l.ips, l.records);
        }
    }
    let shown: Vec<&IpRow> = e.ips.iter().filter(|r| notable(r)).collect();
    if !shown.is_empty() {
        out.push_str(
            "\n| IP | sign-ins | label | country | city | coordinates | ASN | organisation |\n\
             |---|---:|---|---|---|---|---|---|\n",
        );
        for r in shown.iter().take(MD_ROWS) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                md_esc(&r.ip),
                r.records,
                if r.label.is_empty() {
                    "–".to_string()
                } else {
                    md_esc(&r.label)
                },
                sourced_md(&r.country, r.country_source),
                sourced_md(&place(r), place_source(r)),
                sourced_md(&coords(r), r.coordinates_source),
                sourced_md(
                    &r.asn.map(|a| format!("AS{a}")).unwrap_or_default(),
                    r.asn_source
                ),
                sourced_md(&r.org, r.org_source),
            );
        }
        if shown.len() > MD_ROWS {
            let _ = writeln!(
                out,
                "\n{} more in tables/ip_enrichment.csv.",
                shown.len() - MD_ROWS
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::{Filled, LabelCount};

    const HOSTILE: &str = "<img src=x onerror=alert(1)>|*x*";

    fn report() -> EnrichReport {
        let row = |ip: &str, records, label: &str| IpRow {
            ip: ip.into(),
            records,
            label: label.into(),
            label_detail: if label.is_empty() {
                String::new()
            } else {
                "10.0.0.0/8 private network (RFC 1918)".into()
            },
            country: "FR".into(),
            country_source: Source::Log,
            state: "Ile-de-France".into(),
            state_source: Source::GeoipDb,
            city: HOSTILE.into(),
            city_source: Source::GeoipDb,
            latitude: Some(48.8566),
            longitude: Some(2.3522),
            coordinates_source: Source::GeoipDb,
            asn: Some(64_496),
            asn_source: Source::AsnDb,
            org: "Example <Org>".into(),
            org_source: Source::AsnDb,
        };
        EnrichReport {
            records: 12,
            filled: Filled {
                country: 0,
                state: 7,
                city: 7,
                coordinates: 9,
                asn: 11,
            },
            labels: vec![LabelCount {
                label: "private".into(),
                ips: 1,
                records: 2,
            }],
            ips: vec![row("203.0.113.7", 10, ""), row(HOSTILE, 2, "private")],
            ..EnrichReport::default()
        }
    }

    #[test]
    fn html_shows_counts_sources_and_escapes_every_value() {
        let html = html_section(&report());
        assert!(html.starts_with("<section id=\"ip-enrichment\">"));
        assert!(html.trim_end().ends_with("</section>"));
        assert!(!html.contains(HOSTILE), "raw value in {html}");
        assert!(html.contains(&esc(HOSTILE)));
        assert!(html.contains("Example &lt;Org&gt; <span class=\"muted\">(asn_db)</span>"));
        assert!(
            html.contains("<td>FR</td>"),
            "log values carry no source tag"
        );
        assert!(html.contains("48.8566, 2.3522 <span class=\"muted\">(geoip_db)</span>"));
        assert!(html.contains("No <code>--geoip</code>"));
        assert!(html.contains("<td>private</td><td class=\"n\">1</td><td class=\"n\">2</td>"));
        assert_eq!(html_section(&report()), html);
    }

    #[test]
    fn markdown_lists_the_same_and_cannot_be_broken_by_values() {
        let md = markdown_section(&report());
        assert!(md.contains("## IP enrichment"));
        assert!(!md.contains(HOSTILE));
        assert!(md.contains(&md_esc(HOSTILE)));
        assert!(md.contains("| 203.0.113.7 | 10 | – | FR |"), "{md}");
        assert!(md.contains("AS64496 (asn\\_db)"), "{md}");
        assert!(md.contains("| private | 1 | 2 |"));
    }
}
