//! The small activity chart on each finding card.

use super::{
    placeholder, render, text_style, BLUISH_GREEN, DAY_US, GREY, INK, MUTED, SKY_BLUE, VERMILLION,
};
use crate::analyze::breakdown::FindingActivity;
use crate::model::time::format_time;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

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
