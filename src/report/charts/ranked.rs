//! Ranked horizontal bar charts: the top failing IPs, targeted accounts,
//! error codes and countries.

use super::{
    legend, placeholder, plural, render, text_style, Chart, BLUE_OI, BLUISH_GREEN, FONT, HEIGHT,
    INK, LABEL_CHARS, MUTED, SKY_BLUE, TOP, VERMILLION, WIDTH,
};
use crate::analyze::aggregate::GroupRow;
use crate::model::StatusClass;
use crate::report::data::ReportData;
use crate::report::escape::label;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

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

pub(super) fn top_ips(d: &ReportData) -> Chart {
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

pub(super) fn top_users(d: &ReportData) -> Chart {
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
                note.push_str(&format!(
                    " · {}",
                    plural(r.lockouts, "smart lockout", "smart lockouts")
                ));
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

pub(super) fn error_codes(d: &ReportData) -> Chart {
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

pub(super) fn countries(d: &ReportData) -> Chart {
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
