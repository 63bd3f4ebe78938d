//! SVG charts for the HTML report, drawn with plotters' SVG backend.
//!
//! Every chart is plain SVG markup with `<text>` labels in the generic
//! `sans-serif` family, so it needs no font files and renders the same in
//! any browser, inline or as a standalone `.svg` file. Colours come from the
//! Okabe-Ito palette, which stays distinguishable under the common forms of
//! colour blindness; where two series must be told apart, position or a
//! label carries the difference as well.
//!
//! Labels taken from logs (user names, IPs, countries) are cut to a fixed
//! length and stripped of control characters (which XML forbids) before
//! they reach plotters; plotters' SVG backend XML-escapes all text and
//! attribute values itself, so labels are passed unescaped to avoid double
//! escaping. A unit test pins that behaviour.

//!
//! One file per kind of chart: through time (`time`), ranked bars
//! (`ranked`), the trends across runs (`trends`) and the activity chart of a
//! finding (`activity`). Every number drawn comes from analyze.

mod activity;
mod axis;
#[cfg(test)]
pub(crate) mod fixture;
mod ranked;
mod time;
mod trends;

pub use activity::finding_timeline;
pub use trends::trends;

use super::data::ReportData;
use super::escape::esc;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::error::Error;

/// One finished chart.
pub struct Chart {
    /// File stem, e.g. `failures_over_time`.
    pub name: &'static str,
    pub title: String,
    pub svg: String,
}

const WIDTH: u32 = 900;
const HEIGHT: u32 = 320;
const FONT: &str = "sans-serif";
/// Bars shown in the ranked charts (their peers are counted by analyze).
const TOP: usize = crate::analyze::breakdown::RANKED;
/// Longest log-derived label drawn on an axis.
const LABEL_CHARS: usize = 34;

const HOUR_US: i64 = 3_600_000_000;
const DAY_US: i64 = 24 * HOUR_US;

// Okabe-Ito.
const ORANGE: RGBColor = RGBColor(0xE6, 0x9F, 0x00);
const SKY_BLUE: RGBColor = RGBColor(0x56, 0xB4, 0xE9);
const BLUISH_GREEN: RGBColor = RGBColor(0x00, 0x9E, 0x73);
const YELLOW_OI: RGBColor = RGBColor(0xF0, 0xE4, 0x42);
const BLUE_OI: RGBColor = RGBColor(0x00, 0x72, 0xB2);
const VERMILLION: RGBColor = RGBColor(0xD5, 0x5E, 0x00);
const PURPLE: RGBColor = RGBColor(0xCC, 0x79, 0xA7);
const GREY: RGBColor = RGBColor(0x99, 0x99, 0x99);
const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
const MUTED: RGBColor = RGBColor(0x55, 0x55, 0x55);

/// Category colours in rank order (most failures first). Yellow is last
/// because it has the least contrast against white.
const CATEGORY_COLOURS: [RGBColor; 7] = [
    VERMILLION,
    BLUE_OI,
    ORANGE,
    SKY_BLUE,
    BLUISH_GREEN,
    PURPLE,
    YELLOW_OI,
];

type DrawResult = Result<(), Box<dyn Error>>;
type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// Every report chart, in the order the report shows them.
pub fn all_charts(d: &ReportData) -> Vec<Chart> {
    let mut charts = vec![
        time::failures_over_time(d),
        time::heatmap(&d.breakdown.heatmap),
        ranked::top_ips(d),
        ranked::top_users(d),
        ranked::error_codes(d),
        ranked::countries(d),
    ];
    charts.extend(d.history.map(trends));
    charts
}

/// Draws into an SVG string. A drawing error (which the string backend
/// does not produce in practice) yields a small placeholder instead of a
/// broken or half-written chart.
fn render<F>(title: &str, size: (u32, u32), draw: F) -> String
where
    F: for<'a> FnOnce(&Area<'a>) -> DrawResult,
{
    let mut buf = String::new();
    let outcome = {
        let root = SVGBackend::with_string(&mut buf, size).into_drawing_area();
        root.fill(&WHITE)
            .map_err(|e| Box::new(e) as Box<dyn Error>)
            .and_then(|()| draw(&root))
            .and_then(|()| root.present().map_err(|e| Box::new(e) as Box<dyn Error>))
    };
    match outcome {
        Ok(()) => with_title(buf, title),
        Err(_) => placeholder(title, size, "This chart could not be drawn."),
    }
}

/// Adds an SVG `<title>` (the accessible name, and a tooltip) right after
/// the opening tag.
fn with_title(mut svg: String, title: &str) -> String {
    if let Some(end) = svg.find('>') {
        svg.insert_str(end + 1, &format!("\n<title>{}</title>", esc(title)));
    }
    svg
}

/// A chart-sized box with a message, for inputs that have nothing to plot.
fn placeholder(title: &str, size: (u32, u32), message: &str) -> String {
    let (w, h) = size;
    format!(
        "<svg width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" xmlns=\"http://www.w3.org/2000/svg\">\n\
         <title>{t}</title>\n\
         <rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#FFFFFF\" stroke=\"#CCCCCC\"/>\n\
         <text x=\"{cx}\" y=\"28\" text-anchor=\"middle\" font-family=\"{FONT}\" font-size=\"16\" fill=\"#222222\">{t}</text>\n\
         <text x=\"{cx}\" y=\"{cy}\" text-anchor=\"middle\" font-family=\"{FONT}\" font-size=\"13\" fill=\"#555555\">{m}</text>\n\
         </svg>\n",
        t = esc(title),
        m = esc(message),
        cx = w / 2,
        cy = h / 2,
    )
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn text_style(size: u32, colour: RGBColor) -> TextStyle<'static> {
    (FONT, size).into_font().color(&colour)
}

/// Colour swatches with labels, stacked downwards from `(x, y)` in pixels.
fn legend(root: &Area, x: i32, y: i32, items: &[(String, RGBAColor)]) -> DrawResult {
    for (i, (text, colour)) in items.iter().enumerate() {
        let top = y + 20 * i as i32;
        root.draw(&Rectangle::new(
            [(x, top), (x + 12, top + 12)],
            colour.filled(),
        ))?;
        root.draw(&Rectangle::new(
            [(x, top), (x + 12, top + 12)],
            MUTED.mix(0.6).stroke_width(1),
        ))?;
        root.draw(&Text::new(
            text.clone(),
            (x + 18, top + 6),
            text_style(15, INK).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::fixture::sample;
    use super::*;
    use crate::model::StatusClass;
    use std::collections::BTreeSet;

    #[test]
    fn plotters_escapes_text_it_draws() {
        let svg = render("t", (200, 100), |root| {
            root.draw(&Text::new("<b>&\"'", (10, 10), text_style(12, INK)))?;
            Ok(())
        });
        assert!(svg.contains("&lt;b&gt;&amp;&quot;&apos;"), "{svg}");
        assert!(!svg.contains("<b>"));
    }

    #[test]
    fn charts_are_well_formed_and_time_charts_state_utc() {
        let s = sample();
        let d = s.data();
        let charts = all_charts(&d);
        let names: Vec<&str> = charts.iter().map(|c| c.name).collect();
        assert_eq!(
            names,
            [
                "failures_over_time",
                "failures_heatmap",
                "top_ips",
                "top_users",
                "error_codes",
                "countries"
            ]
        );
        for c in &charts {
            assert!(c.svg.starts_with("<svg"), "{}", c.name);
            assert!(c.svg.trim_end().ends_with("</svg>"), "{}", c.name);
            assert_eq!(c.svg.matches("<svg").count(), 1, "{}", c.name);
            assert!(!c.svg.contains("could not be drawn"), "{}", c.name);
            assert!(c.svg.contains("<rect"), "{} draws no bars", c.name);
        }
        for c in &charts[..2] {
            assert!(c.svg.contains("UTC"), "{}", c.name);
        }
        // The spray source tops the IP chart, with the accounts it failed
        // against (not every account that ever used the address).
        let top = &d.tables.by_ip[0];
        let targeted: BTreeSet<&str> = s
            .records
            .iter()
            .filter(|r| r.ip == top.key && r.status == StatusClass::Failure)
            .map(|r| r.user_principal_name.as_str())
            .collect();
        assert!(targeted.len() > 10, "{} is not a spray source", top.key);
        assert!(charts[2].svg.contains(&top.key));
        assert!(charts[2]
            .svg
            .contains(&format!("{} accounts targeted", targeted.len())));
        // High findings are marked on the time chart by their number.
        assert!(charts[0].svg.contains(">\nF1"), "no F1 window label");
        for (f, a) in d.findings.iter().zip(&d.breakdown.activity).take(5) {
            let t = finding_timeline(a.as_ref());
            assert!(t.starts_with("<svg") && t.contains("</svg>") && t.contains("UTC"));
            assert!(!t.contains("no sign-ins by these actors"), "{}", f.title);
        }
    }

    #[test]
    fn hostile_log_text_is_escaped_in_charts() {
        let s = sample();
        let d = s.data();
        let joined: String = all_charts(&d).into_iter().map(|c| c.svg).collect();
        assert!(!joined.contains("a\"b'@x.com"));
        assert!(joined.contains("a&quot;b&apos;@x.com"));
        assert!(!joined.contains("<script"));
        assert!(!joined.contains("</td>"));
    }

    #[test]
    fn same_input_same_bytes() {
        let s = sample();
        let d = s.data();
        let a: Vec<String> = all_charts(&d).into_iter().map(|c| c.svg).collect();
        let b: Vec<String> = all_charts(&d).into_iter().map(|c| c.svg).collect();
        assert_eq!(a, b);
        let a = d.breakdown.activity[0].as_ref();
        assert!(a.is_some());
        assert_eq!(finding_timeline(a), finding_timeline(a));
    }

    #[test]
    fn empty_input_gives_placeholders_not_errors() {
        let summary = crate::analyze::summary::summarize(&[], 0, 0, 0);
        let tables = crate::analyze::aggregate::Tables::default();
        let d = ReportData {
            summary: &summary,
            tables: &tables,
            findings: &[],
            story: &crate::analyze::Story::default(),
            inputs: &[],
            breakdown: crate::analyze::breakdown::breakdown(&[], &tables, &[]),
            baseline: None,
            tool: "entrasift test".into(),
            zone: None,
            history: None,
            enrichment: None,
            engine: None,
        };
        for c in all_charts(&d) {
            assert!(
                c.svg.starts_with("<svg") && c.svg.contains("</svg>"),
                "{}",
                c.name
            );
        }
    }
}
