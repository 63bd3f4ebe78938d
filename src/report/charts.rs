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

use super::data::ReportData;
use super::escape::{esc, label};
use crate::analyze::aggregate::GroupRow;
use crate::analyze::breakdown::{FindingActivity, Heatmap};
use crate::ingest::fields::{format_time, parse_time};
use crate::model::{Severity, StatusClass};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::collections::BTreeMap;
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
        failures_over_time(d),
        heatmap(&d.breakdown.heatmap),
        top_ips(d),
        top_users(d),
        error_codes(d),
        countries(d),
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

// ---------------------------------------------------------------- time axis

/// How the time axis of a chart is cut into bars and labelled.
struct TimeAxis {
    start_us: i64,
    bucket_us: i64,
    buckets: i64,
    /// Bucket indexes that get a tick label.
    ticks: Vec<i64>,
    /// Tick labels show the time of day (ticks less than a day apart).
    tick_has_time: bool,
}

impl TimeAxis {
    fn new(first_us: i64, last_us: i64, max_buckets: i64, max_ticks: i64) -> Self {
        let span = last_us.saturating_sub(first_us).max(0);
        let bucket_us = if span <= 10 * DAY_US {
            HOUR_US
        } else if span <= max_buckets * DAY_US {
            DAY_US
        } else {
            // Long or corrupt spans: whole days per bar, capped bar count.
            (span / max_buckets / DAY_US + 1) * DAY_US
        };
        Self::with_bucket(first_us, last_us, bucket_us, max_ticks)
    }

    fn with_bucket(first_us: i64, last_us: i64, bucket_us: i64, max_ticks: i64) -> Self {
        let start_us = first_us.div_euclid(bucket_us) * bucket_us;
        let buckets = (last_us.div_euclid(bucket_us) * bucket_us - start_us) / bucket_us + 1;
        let span = buckets * bucket_us;
        let steps = [
            HOUR_US,
            2 * HOUR_US,
            3 * HOUR_US,
            6 * HOUR_US,
            12 * HOUR_US,
            DAY_US,
            2 * DAY_US,
            7 * DAY_US,
            14 * DAY_US,
            28 * DAY_US,
            91 * DAY_US,
            182 * DAY_US,
            364 * DAY_US,
        ];
        let tick_us = steps
            .iter()
            .copied()
            .find(|&s| s >= bucket_us && span / s <= max_ticks)
            .unwrap_or_else(|| (span / max_ticks.max(1) / DAY_US + 1) * DAY_US);
        let mut ticks = Vec::new();
        let mut t = start_us.div_euclid(tick_us) * tick_us;
        if t < start_us {
            t += tick_us;
        }
        let end = start_us + span;
        while t <= end {
            let idx = (t - start_us) / bucket_us;
            if ticks.last() != Some(&idx) {
                ticks.push(idx);
            }
            t += tick_us;
        }
        TimeAxis {
            start_us,
            bucket_us,
            buckets,
            ticks,
            tick_has_time: tick_us < DAY_US,
        }
    }

    fn index(&self, t_us: i64) -> i64 {
        (t_us - self.start_us).div_euclid(self.bucket_us)
    }

    fn tick_label(&self, idx: i64) -> String {
        let t = format_time(self.start_us + idx * self.bucket_us);
        if self.tick_has_time {
            // "2026-03-02T06:00:00Z" -> "03-02 06:00"
            match (t.get(5..10), t.get(11..16)) {
                (Some(day), Some(time)) => format!("{day} {time}"),
                _ => t,
            }
        } else {
            t.get(..10).map(str::to_string).unwrap_or(t)
        }
    }

    fn bucket_name(&self) -> String {
        match self.bucket_us {
            HOUR_US => "per hour".into(),
            DAY_US => "per day".into(),
            b => format!("per {} days", b / DAY_US),
        }
    }
}

// ------------------------------------------------------ failures over time

fn failures_over_time(d: &ReportData) -> Chart {
    let name = "failures_over_time";
    let title = "Failed sign-ins over time by error category (UTC)".to_string();
    let series = &d.breakdown.failures;
    let Some((first, last)) = series.span else {
        let svg = placeholder(&title, (WIDTH, HEIGHT), "No sign-ins in the input (UTC).");
        return Chart { name, title, svg };
    };
    let axis = TimeAxis::new(first, last, 400, 9);

    // Rank categories by failures; the smallest ones share "other".
    let mut ranked: Vec<(&'static str, u64)> =
        series.by_category.iter().map(|(c, n)| (*c, *n)).collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let keep = if ranked.len() > CATEGORY_COLOURS.len() {
        CATEGORY_COLOURS.len() - 1
    } else {
        ranked.len()
    };
    let slot_of: BTreeMap<&str, usize> = ranked
        .iter()
        .take(keep)
        .enumerate()
        .map(|(i, (c, _))| (*c, i))
        .collect();
    let mut legend_series: Vec<(String, u64, RGBColor)> = ranked
        .iter()
        .take(keep)
        .zip(CATEGORY_COLOURS)
        .map(|((c, n), colour)| (c.replace('_', " "), *n, colour))
        .collect();
    let other: u64 = ranked.iter().skip(keep).map(|(_, n)| n).sum();
    if other > 0 {
        legend_series.push(("other".into(), other, GREY));
    }
    let series = legend_series;
    let slots = series.len();

    // Hourly counts summed into the axis' bars (whole hours each).
    let mut counts: BTreeMap<i64, Vec<u32>> = BTreeMap::new();
    for &(hour_us, category, n) in &d.breakdown.failures.hourly {
        let slot = slot_of
            .get(category)
            .copied()
            .unwrap_or(slots.saturating_sub(1));
        let row = counts
            .entry(axis.index(hour_us))
            .or_insert_with(|| vec![0; slots]);
        if let Some(c) = row.get_mut(slot) {
            *c += n;
        }
    }
    let peak = counts
        .values()
        .map(|v| v.iter().sum::<u32>())
        .max()
        .unwrap_or(0)
        .max(1);
    let y_max = peak + peak / 6 + 2;

    // High and critical findings, numbered as the report numbers them.
    let mut spans: Vec<(i64, i64, usize)> = Vec::new();
    for (i, f) in d.findings.iter().enumerate() {
        if f.severity < Severity::High {
            continue;
        }
        if let (Some(a), Some(b)) = (parse_time(&f.first_seen), parse_time(&f.last_seen)) {
            let x0 = axis.index(a.min(b)).clamp(0, axis.buckets);
            let x1 = (axis.index(a.max(b)) + 1).clamp(0, axis.buckets);
            if x1 > x0 {
                spans.push((x0, x1, i + 1));
            }
        }
    }

    let x_desc = format!("Time (UTC), failures {}", axis.bucket_name());
    let svg = render(&title, (WIDTH, HEIGHT), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(&title, (FONT, 22).into_font().color(&INK))
            .margin(10)
            .margin_right(200)
            .x_label_area_size(42)
            .y_label_area_size(52)
            .build_cartesian_2d(
                (0i64..axis.buckets).with_key_points(axis.ticks.clone()),
                0u32..y_max,
            )?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE.mix(0.0))
            .bold_line_style(BLACK.mix(0.08))
            .x_label_formatter(&|i| axis.tick_label(*i))
            .y_labels(6)
            .x_desc(x_desc.as_str())
            .y_desc("Failed sign-ins")
            .label_style(text_style(15, INK))
            .axis_desc_style(text_style(15, INK))
            .draw()?;
        chart.draw_series(spans.iter().map(|&(x0, x1, _)| {
            Rectangle::new([(x0, 0), (x1, y_max)], BLACK.mix(0.09).filled())
        }))?;
        let mut bars = Vec::new();
        for (&x, row) in &counts {
            let mut base = 0u32;
            for (slot, &n) in row.iter().enumerate() {
                if n == 0 {
                    continue;
                }
                let colour = series.get(slot).map_or(GREY, |s| s.2);
                bars.push(Rectangle::new(
                    [(x, base), (x + 1, base + n)],
                    colour.filled(),
                ));
                base += n;
            }
        }
        chart.draw_series(bars)?;
        // One label per start bucket ("F1 F2"), staggered on three rows so
        // neighbouring windows stay legible; only the first few are named.
        let mut by_start: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
        for &(x0, _, n) in &spans {
            by_start.entry(x0).or_default().push(n);
        }
        for (row, (x0, ns)) in by_start.iter().take(24).enumerate() {
            let text = ns
                .iter()
                .take(4)
                .map(|n| format!("F{n}"))
                .collect::<Vec<_>>()
                .join(" ");
            let y = y_max - (row as u32 % 3) * (y_max / 14).max(1);
            chart.draw_series(std::iter::once(Text::new(
                text,
                (*x0, y),
                text_style(13, INK),
            )))?;
        }
        let mut items: Vec<(String, RGBAColor)> = series
            .iter()
            .map(|(c, n, colour)| (format!("{c} ({n})"), colour.to_rgba()))
            .collect();
        if !spans.is_empty() {
            items.push(("high/critical finding".into(), BLACK.mix(0.12)));
        }
        if items.is_empty() {
            items.push(("no failures".into(), WHITE.to_rgba()));
        }
        legend(root, WIDTH as i32 - 188, 48, &items)
    });
    Chart { name, title, svg }
}

// ------------------------------------------------------------ heatmap

fn heatmap(grid: &Heatmap) -> Chart {
    let name = "failures_heatmap";
    let title = "Failures by hour of day and weekday (UTC)".to_string();
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let peak = grid.iter().flatten().copied().max().unwrap_or(0);
    let shade = |n: u32| -> (RGBColor, bool) {
        if n == 0 || peak == 0 {
            return (RGBColor(0xF6, 0xF6, 0xF6), false);
        }
        // Square root keeps a few failures visible next to a large burst.
        let f = (f64::from(n) / f64::from(peak)).sqrt();
        let lerp = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * f).round() as u8;
        (
            RGBColor(lerp(0xDE, 0x08), lerp(0xEB, 0x30), lerp(0xF7, 0x6B)),
            f > 0.55,
        )
    };
    let svg = render(&title, (WIDTH, HEIGHT), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(&title, (FONT, 22).into_font().color(&INK))
            .margin(10)
            .margin_right(130)
            .x_label_area_size(42)
            .y_label_area_size(52)
            // Integer ranges are inclusive of their end when segmented.
            .build_cartesian_2d((0i32..23).into_segmented(), (0i32..6).into_segmented())?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(25)
            .y_labels(8)
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(h) => format!("{h:02}"),
                _ => String::new(),
            })
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => DAYS
                    .get(6usize.saturating_sub(*i as usize))
                    .copied()
                    .unwrap_or("")
                    .to_string(),
                _ => String::new(),
            })
            .x_desc("Hour of day (UTC)")
            .y_desc("Weekday (UTC)")
            .label_style(text_style(15, INK))
            .axis_desc_style(text_style(15, INK))
            .draw()?;
        let mut cells = Vec::new();
        let mut labels = Vec::new();
        for (wd, hours) in grid.iter().enumerate() {
            let row = 6 - wd as i32;
            for (h, &n) in hours.iter().enumerate() {
                let h = h as i32;
                let (colour, dark) = shade(n);
                let mut cell = Rectangle::new(
                    [
                        (SegmentValue::Exact(h), SegmentValue::Exact(row)),
                        (SegmentValue::Exact(h + 1), SegmentValue::Exact(row + 1)),
                    ],
                    colour.filled(),
                );
                cell.set_margin(1, 1, 1, 1);
                cells.push(cell);
                if n > 0 {
                    labels.push(Text::new(
                        n.to_string(),
                        (SegmentValue::CenterOf(h), SegmentValue::CenterOf(row)),
                        text_style(13, if dark { WHITE } else { INK })
                            .pos(Pos::new(HPos::Center, VPos::Center)),
                    ));
                }
            }
        }
        chart.draw_series(cells)?;
        chart.draw_series(labels)?;
        let x = WIDTH as i32 - 118;
        root.draw(&Text::new(
            "failures per cell",
            (x, 52),
            text_style(14, INK),
        ))?;
        let steps: Vec<u32> = if peak == 0 {
            vec![0]
        } else {
            let mut s: Vec<u32> = [0.0, 0.1, 0.3, 0.6, 1.0]
                .iter()
                .map(|f| ((f * f64::from(peak)).round() as u32).max(1))
                .collect();
            s.dedup();
            s
        };
        let items: Vec<(String, RGBAColor)> = steps
            .iter()
            .map(|&n| (n.to_string(), shade(n).0.to_rgba()))
            .collect();
        legend(root, x, 72, &items)
    });
    Chart { name, title, svg }
}

// ------------------------------------------------------------ ranked bars

struct Bar {
    label: String,
    value: u64,
    colour: RGBColor,
    note: String,
}

fn hbar_chart(
    title: &str,
    x_desc: &str,
    bars: &[Bar],
    legend_items: &[(String, RGBColor)],
    empty: &str,
) -> String {
    let n = bars.len() as i32;
    let height = HEIGHT.max(100 + 22 * n as u32);
    if bars.is_empty() {
        return placeholder(title, (WIDTH, HEIGHT), empty);
    }
    let peak = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1);
    // Room on the right for each bar's note.
    let x_max = peak + peak * 2 / 5 + 1;
    render(title, (WIDTH, height), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 22).into_font().color(&INK))
            .margin(10)
            .margin_right(24)
            .x_label_area_size(42)
            .y_label_area_size(250)
            // Integer ranges are inclusive of their end when segmented.
            .build_cartesian_2d(0u64..x_max, (0i32..n - 1).into_segmented())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(WHITE.mix(0.0))
            .bold_line_style(BLACK.mix(0.08))
            .x_labels(6)
            .y_labels(n as usize + 1)
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => bars
                    .get((n - 1 - *i) as usize)
                    .map(|b| b.label.clone())
                    .unwrap_or_default(),
                _ => String::new(),
            })
            .x_label_formatter(&|v| v.to_string())
            .x_desc(x_desc)
            .label_style(text_style(15, INK))
            .axis_desc_style(text_style(15, INK))
            .draw()?;
        chart.draw_series(bars.iter().enumerate().map(|(i, b)| {
            let seg = n - 1 - i as i32;
            let mut r = Rectangle::new(
                [
                    (0, SegmentValue::Exact(seg)),
                    (b.value, SegmentValue::Exact(seg + 1)),
                ],
                b.colour.filled(),
            );
            r.set_margin(3, 3, 0, 0);
            r
        }))?;
        chart.draw_series(bars.iter().enumerate().map(|(i, b)| {
            let seg = n - 1 - i as i32;
            EmptyElement::at((b.value, SegmentValue::CenterOf(seg)))
                + Text::new(
                    b.note.clone(),
                    (5, 0),
                    text_style(14, MUTED).pos(Pos::new(HPos::Left, VPos::Center)),
                )
        }))?;
        if !legend_items.is_empty() {
            let items: Vec<(String, RGBAColor)> = legend_items
                .iter()
                .map(|(t, c)| (t.clone(), c.to_rgba()))
                .collect();
            let y = height as i32 - 50 - 20 * items.len() as i32;
            legend(root, WIDTH as i32 - 250, y, &items)?;
        }
        Ok(())
    })
}

fn failing(rows: &[GroupRow]) -> impl Iterator<Item = &GroupRow> {
    rows.iter().filter(|r| r.failures > 0).take(TOP)
}

fn top_ips(d: &ReportData) -> Chart {
    let title = format!("Top {TOP} failing IP addresses and the accounts they targeted");
    let rows: Vec<&GroupRow> = failing(&d.tables.by_ip).collect();
    let targets = &d.breakdown.ip_targets;
    let bars: Vec<Bar> = rows
        .iter()
        .map(|r| Bar {
            label: label(&r.key, LABEL_CHARS),
            value: r.failures,
            colour: VERMILLION,
            note: format!(
                "{} · {} targeted",
                plural(r.failures, "failure", "failures"),
                plural(
                    targets.get(&r.key).copied().unwrap_or(0),
                    "account",
                    "accounts"
                )
            ),
        })
        .collect();
    let svg = hbar_chart(
        &title,
        "Failed sign-ins from the IP",
        &bars,
        &[],
        "No failed sign-ins from any IP address.",
    );
    Chart {
        name: "top_ips",
        title,
        svg,
    }
}

fn top_users(d: &ReportData) -> Chart {
    let title = format!("Top {TOP} targeted accounts");
    let rows: Vec<&GroupRow> = failing(&d.tables.by_user).collect();
    let sources = &d.breakdown.user_sources;
    let bars: Vec<Bar> = rows
        .iter()
        .map(|r| {
            let mut note = format!(
                "{} from {}",
                plural(r.failures, "failure", "failures"),
                plural(sources.get(&r.key).copied().unwrap_or(0), "IP", "IPs")
            );
            if r.lockouts > 0 {
                note.push_str(&format!(" · {}", plural(r.lockouts, "lockout", "lockouts")));
            }
            Bar {
                label: label(&r.key, LABEL_CHARS),
                value: r.failures,
                colour: BLUE_OI,
                note,
            }
        })
        .collect();
    let svg = hbar_chart(
        &title,
        "Failed sign-ins against the account",
        &bars,
        &[],
        "No failed sign-ins against any account.",
    );
    Chart {
        name: "top_users",
        title,
        svg,
    }
}

fn error_codes(d: &ReportData) -> Chart {
    let title = format!("Top {TOP} error codes: failures and interrupts");
    let bars: Vec<Bar> = d
        .summary
        .by_error_code
        .iter()
        .take(TOP)
        .map(|row| {
            let interrupt = row.status == StatusClass::Interrupted.as_str();
            let text = if row.name.is_empty() {
                row.code.to_string()
            } else {
                format!("{} {}", row.code, row.name)
            };
            Bar {
                label: label(&text, LABEL_CHARS),
                value: row.count,
                colour: if interrupt { SKY_BLUE } else { VERMILLION },
                note: format!(
                    "{} · {}{}",
                    row.count,
                    plural(row.users, "account", "accounts"),
                    if interrupt { " · interrupt" } else { "" }
                ),
            }
        })
        .collect();
    let svg = hbar_chart(
        &title,
        "Sign-ins with the code",
        &bars,
        &[
            ("failure".into(), VERMILLION),
            ("interrupt (not a failed attempt)".into(), SKY_BLUE),
        ],
        "No failed or interrupted sign-ins.",
    );
    Chart {
        name: "error_codes",
        title,
        svg,
    }
}

/// `--history`: one small line chart per weekly metric, earlier runs then
/// this one (the last point, drawn larger), x labelled with each run's
/// last day of data.
pub fn trends(h: &super::history::History) -> Chart {
    let title = "Trends across runs (this run is the last point)".to_string();
    let labels = super::history::labels(h);
    let series = super::history::series(h);
    let size = (WIDTH, 2 * HEIGHT);
    let svg = if labels.len() < 2 {
        placeholder(&title, size, "No earlier runs in the history folder yet.")
    } else {
        render(&title, size, |root| {
            let root = root.titled(&title, text_style(18, INK))?;
            let panels = root.split_evenly((2, 2));
            let colours = [VERMILLION, ORANGE, PURPLE, BLUE_OI];
            let n = labels.len();
            for ((panel, (name, values)), colour) in panels.iter().zip(&series).zip(colours) {
                let top = values.iter().copied().max().unwrap_or(0).max(1);
                let mut chart = ChartBuilder::on(panel)
                    .caption(*name, text_style(14, INK))
                    .margin(8)
                    .x_label_area_size(28)
                    .y_label_area_size(48)
                    .build_cartesian_2d(-0.3f64..(n as f64 - 0.7), 0u64..(top + top / 5 + 1))?;
                let step = n.div_ceil(6).max(1);
                chart
                    .configure_mesh()
                    .disable_x_mesh()
                    .light_line_style(RGBColor(0xEE, 0xEE, 0xEE))
                    .x_labels(n)
                    .x_label_formatter(&|x| {
                        let i = x.round() as usize;
                        if (x - x.round()).abs() < 0.01
                            && i < n
                            && (i.is_multiple_of(step) || i == n - 1)
                        {
                            labels[i].get(5..).unwrap_or("").to_string()
                        } else {
                            String::new()
                        }
                    })
                    .y_labels(4)
                    .label_style(text_style(11, MUTED))
                    .draw()?;
                let points: Vec<(f64, u64)> = values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (i as f64, *v))
                    .collect();
                chart.draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))?;
                chart.draw_series(points.iter().enumerate().map(|(i, p)| {
                    let r = if i == n - 1 { 5 } else { 3 };
                    Circle::new(*p, r, colour.filled())
                }))?;
            }
            Ok(())
        })
    };
    Chart {
        name: "trends",
        title,
        svg,
    }
}

fn countries(d: &ReportData) -> Chart {
    let title = format!("Failed sign-ins per country (top {TOP})");
    let bars: Vec<Bar> = failing(&d.tables.by_country)
        .map(|r| Bar {
            label: if r.key.is_empty() {
                "(no country)".into()
            } else {
                label(&r.key, LABEL_CHARS)
            },
            value: r.failures,
            colour: BLUISH_GREEN,
            note: format!(
                "{} · {} · {}",
                plural(r.failures, "failure", "failures"),
                plural(r.users, "account", "accounts"),
                plural(r.ips, "IP", "IPs")
            ),
        })
        .collect();
    let svg = hbar_chart(
        &title,
        "Failed sign-ins from the country",
        &bars,
        &[],
        "No failed sign-ins with a country.",
    );
    Chart {
        name: "countries",
        title,
        svg,
    }
}

// ---------------------------------------------------------- finding timeline

const SPARK_W: u32 = 440;
const SPARK_H: u32 = 150;

/// A small chart of a finding's actors over the finding's time span with
/// a margin either side (`analyze::breakdown::FindingActivity`): failures
/// and interrupts as bars above the axis, successes below it, the
/// finding's own span shaded.
pub fn finding_timeline(activity: Option<&FindingActivity>) -> String {
    let title = "Activity of the finding's accounts and IPs (UTC)";
    let Some(a) = activity else {
        return placeholder(title, (SPARK_W, SPARK_H), "No usable time span (UTC).");
    };
    let (first, last, lo, hi, bin_us, bins) = (a.first, a.last, a.lo, a.hi, a.bin_us, a.bins);
    let (fails, interrupts, oks) = (&a.failures[..], &a.interrupts[..], &a.successes[..]);
    let up = fails
        .iter()
        .zip(interrupts)
        .map(|(f, i)| f + i)
        .max()
        .unwrap_or(0);
    let down = oks.iter().copied().max().unwrap_or(0);
    let (y_lo, y_hi) = (-(down.max(if up == 0 { 1 } else { 0 })), up.max(1) + 1);
    let long = hi - lo > DAY_US;
    let stamp = |t: i64| {
        let s = format_time(t);
        let cut = if long { s.get(5..16) } else { s.get(11..16) };
        cut.map(|c| c.replace('T', " ")).unwrap_or(s)
    };
    let shade_x0 = (first - lo) / bin_us;
    let shade_x1 = ((last - lo) / bin_us + 1).min(bins);
    let empty = up == 0 && down == 0;
    render(title, (SPARK_W, SPARK_H), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(4)
            .margin_top(20)
            .margin_right(20)
            .x_label_area_size(36)
            .y_label_area_size(30)
            .build_cartesian_2d(
                (0i64..bins).with_key_points(vec![0, bins / 2, bins]),
                y_lo..y_hi,
            )?;
        chart
            .configure_mesh()
            .disable_mesh()
            .y_labels(3)
            .x_label_formatter(&|i| stamp(lo + i * bin_us))
            .y_label_formatter(&|v| v.abs().to_string())
            .x_desc("UTC")
            .label_style(text_style(14, INK))
            .axis_desc_style(text_style(14, MUTED))
            .draw()?;
        chart.draw_series(std::iter::once(Rectangle::new(
            [(shade_x0, y_lo), (shade_x1.max(shade_x0 + 1), y_hi)],
            BLACK.mix(0.09).filled(),
        )))?;
        let mut bars = Vec::new();
        for i in 0..bins as usize {
            let x = i as i64;
            if fails[i] > 0 {
                bars.push(Rectangle::new(
                    [(x, 0), (x + 1, fails[i])],
                    VERMILLION.filled(),
                ));
            }
            if interrupts[i] > 0 {
                bars.push(Rectangle::new(
                    [(x, fails[i]), (x + 1, fails[i] + interrupts[i])],
                    SKY_BLUE.filled(),
                ));
            }
            if oks[i] > 0 {
                bars.push(Rectangle::new(
                    [(x, -oks[i]), (x + 1, 0)],
                    BLUISH_GREEN.filled(),
                ));
            }
        }
        chart.draw_series(bars)?;
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(0, 0), (bins, 0)],
            MUTED.stroke_width(1),
        )))?;
        if empty {
            chart.draw_series(std::iter::once(Text::new(
                "no sign-ins by these actors in the records",
                (1, y_hi / 2),
                text_style(14, MUTED),
            )))?;
        }
        let key = [
            ("failures ▲", VERMILLION),
            ("interrupts ▲", SKY_BLUE),
            ("successes ▼", BLUISH_GREEN),
            ("finding span", GREY),
        ];
        let mut x = 36;
        for (text, colour) in key {
            let style = if text == "finding span" {
                BLACK.mix(0.12).filled()
            } else {
                colour.filled()
            };
            root.draw(&Rectangle::new([(x, 5), (x + 9, 14)], style))?;
            root.draw(&Text::new(
                text,
                (x + 12, 10),
                text_style(14, INK).pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
            x += 12 + 7 * text.chars().count() as i32 + 10;
        }
        Ok(())
    })
}

/// Realistic report inputs for the chart and HTML tests: a generated week
/// of sign-ins with planted attacks, plus log text written to break markup.
#[cfg(test)]
pub(crate) mod fixture {
    use crate::analyze::aggregate::{tables, Tables};
    use crate::analyze::breakdown::breakdown;
    use crate::analyze::detect::{run_all, DetectionConfig, Events};
    use crate::analyze::summary::{summarize, Summary};
    use crate::generate::{build_dataset, GenerateOptions};
    use crate::ingest::InputReport;
    use crate::model::codes::status_class;
    use crate::model::{Finding, SignIn, SourceFormat};
    use crate::report::data::ReportData;

    pub const HOSTILE_UA: &str = "<script>alert(1)</script>";
    pub const HOSTILE_UPN: &str = "a\"b'@x.com";
    pub const HOSTILE_REASON: &str = "Account locked</td><td>pwned";
    pub const HOSTILE_PATH: &str = "exports/<img src=x onerror=alert(1)>.json";

    pub struct Sample {
        pub summary: Summary,
        pub tables: Tables,
        pub findings: Vec<Finding>,
        pub inputs: Vec<InputReport>,
        pub records: Vec<SignIn>,
    }

    impl Sample {
        pub fn data(&self) -> ReportData<'_> {
            ReportData {
                summary: &self.summary,
                tables: &self.tables,
                findings: &self.findings,
                inputs: &self.inputs,
                breakdown: breakdown(&self.records, &self.tables, &self.findings),
                baseline: None,
                tool: "entrasift 0.1.0".into(),
                zone: None,
                history: None,
                enrichment: None,
            }
        }
    }

    pub fn sample() -> Sample {
        let ds = build_dataset(&GenerateOptions {
            records: 3000,
            ..GenerateOptions::default()
        });
        let spray_ips: Vec<String> = ds
            .scenarios
            .iter()
            .filter(|s| s.kind == "distributed_spray")
            .flat_map(|s| s.ips.clone())
            .collect();
        let mut records = ds.events;
        for r in &mut records {
            if spray_ips.iter().any(|ip| *ip == r.ip) {
                r.user_agent = HOSTILE_UA.into();
            }
        }
        let base = records.first().map_or(0, |r| r.time_us);
        // Enough failures for the quoted account to reach the top charts.
        for i in 0..40i64 {
            let code = if i % 4 == 3 { 50053 } else { 50126 };
            records.push(SignIn {
                time_us: base + 3 * 3_600_000_000 + i * 20_000_000,
                request_id: format!("hostile-{i:02}").into(),
                user_principal_name: HOSTILE_UPN.into(),
                ip: "203.0.113.77".into(),
                error_code: code,
                status: status_class(code),
                failure_reason: if code == 50053 {
                    HOSTILE_REASON.into()
                } else {
                    "Invalid username or password.".into()
                },
                user_agent: HOSTILE_UA.into(),
                app_name: "Office <b>365</b> Shell".into(),
                country: "ZZ".into(),
                ..Default::default()
            });
        }
        records.sort_by(|a, b| {
            a.time_us
                .cmp(&b.time_us)
                .then_with(|| a.request_id.cmp(&b.request_id))
        });
        for (i, r) in records.iter_mut().enumerate() {
            r.source_format = Some(SourceFormat::GraphJson);
            r.source_file = 0;
            r.source_record = i as u64 + 1;
        }
        let paths = vec![HOSTILE_PATH.to_string()];
        let summary = summarize(&records, 3, 1, 0);
        let tables = tables(&records);
        let findings = run_all(&Events::new(&records, &paths), &DetectionConfig::default());
        let mut input = InputReport {
            path: HOSTILE_PATH.into(),
            format: Some(SourceFormat::GraphJson),
            bytes: 1_234_567,
            sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
            records_read: records.len() as u64 + 4,
            parsed: records.len() as u64 + 3,
            duplicates: 3,
            rejected: 1,
            ..Default::default()
        };
        input
            .rejected_by_reason
            .insert("no timestamp <\"x\">".into(), 1);
        Sample {
            summary,
            tables,
            findings,
            inputs: vec![input],
            records,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixture::sample;
    use super::*;
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
    fn time_axis_picks_hours_for_a_week_and_labels_midnights() {
        let start = 1_772_416_210_000_000; // 2026-03-02T01:50:10Z
        let axis = TimeAxis::new(start, start + 7 * DAY_US - HOUR_US, 400, 9);
        assert_eq!(axis.bucket_us, HOUR_US);
        assert_eq!(axis.buckets, 7 * 24);
        assert!(!axis.tick_has_time);
        assert_eq!(axis.tick_label(axis.ticks[0]), "2026-03-03");
        let long = TimeAxis::new(0, 3000 * DAY_US, 400, 9);
        assert!(long.buckets <= 400, "{}", long.buckets);
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
            inputs: &[],
            breakdown: crate::analyze::breakdown::breakdown(&[], &tables, &[]),
            baseline: None,
            tool: "entrasift test".into(),
            zone: None,
            history: None,
            enrichment: None,
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
