//! `--history`: the trend of the weekly metrics across runs.

use super::{
    placeholder, render, text_style, Chart, BLUE_OI, HEIGHT, INK, MUTED, ORANGE, PURPLE,
    VERMILLION, WIDTH,
};
use crate::report::history::{self, History};
use plotters::prelude::*;

/// `--history`: one small line chart per weekly metric, earlier runs then
/// this one (the last point, drawn larger), x labelled with each run's
/// last day of data.
pub fn trends(h: &History) -> Chart {
    let title = "Trends across runs (this run is the last point)".to_string();
    let labels = history::labels(h);
    let series = history::series(h);
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
