//! Failures through time by error category, and failures by weekday and
//! hour of day (both from `analyze::breakdown`).

use super::axis::TimeAxis;
use super::{
    legend, placeholder, render, text_style, Chart, CATEGORY_COLOURS, FONT, GREY, HEIGHT, INK,
    WIDTH,
};
use crate::analyze::breakdown::Heatmap;
use crate::model::time::parse_time;
use crate::model::Severity;
use crate::report::data::ReportData;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::collections::BTreeMap;

pub(super) fn failures_over_time(d: &ReportData) -> Chart {
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

pub(super) fn heatmap(grid: &Heatmap) -> Chart {
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
