//! `report.xlsx`: findings and every table as sheets, the workbook shape
//! responders already use. Each sheet is built from the same CSV the report
//! folder gets (so cells carry the same formula guard), with a frozen,
//! filterable header, fitted widths, severities coloured and the codes
//! responders look for first (50053, 53011, 500121) highlighted.

use super::data::ReportData;
use super::table;
use rust_xlsxwriter::{Color, DocProperties, ExcelDateTime, Format, Workbook, XlsxError};

#[derive(Debug, thiserror::Error)]
pub enum XlsxReportError {
    #[error("building the workbook: {0}")]
    Xlsx(#[from] XlsxError),
    #[error("building a sheet: {0}")]
    Io(#[from] std::io::Error),
    #[error("building a sheet: {0}")]
    Csv(#[from] csv::Error),
}

const KEY_CODES: [&str; 3] = ["50053", "53011", "500121"];

fn severity_format(s: &str) -> Option<Format> {
    let (bg, fg) = match s {
        "critical" => (0x7A0019, 0xFFFFFF),
        "high" => (0xD55E00, 0xFFFFFF),
        "medium" => (0xE69F00, 0x000000),
        "low" => (0x56B4E9, 0x000000),
        _ => return None,
    };
    Some(
        Format::new()
            .set_background_color(Color::RGB(bg))
            .set_font_color(Color::RGB(fg))
            .set_bold(),
    )
}

fn mentions_key_code(cell: &str) -> bool {
    cell.split(';').any(|c| KEY_CODES.contains(&c.trim()))
}

fn add_sheet(wb: &mut Workbook, name: &str, csv_bytes: &[u8]) -> Result<(), XlsxReportError> {
    let ws = wb.add_worksheet();
    ws.set_name(name)?;
    let header_fmt = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xE8ECF1));
    let key_fmt = Format::new()
        .set_background_color(Color::RGB(0xFFF2CC))
        .set_bold();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv_bytes);
    let mut header: Vec<String> = Vec::new();
    let mut last_row = 0u32;
    for (r, rec) in rdr.records().enumerate() {
        let rec = rec?;
        let row = r as u32;
        last_row = row;
        if r == 0 {
            header = rec.iter().map(String::from).collect();
            for (c, v) in rec.iter().enumerate() {
                ws.write_string_with_format(0, c as u16, v, &header_fmt)?;
            }
            continue;
        }
        for (c, v) in rec.iter().enumerate() {
            let col = c as u16;
            let name = header.get(c).map(String::as_str).unwrap_or("");
            let fmt = match name {
                "severity" => severity_format(v),
                "code" | "codes" | "error_codes" if mentions_key_code(v) => Some(key_fmt.clone()),
                _ => None,
            };
            // Counts are numbers so filters and sorting work; everything
            // else stays text (never a formula).
            let numeric = !v.is_empty()
                && v.bytes().all(|b| b.is_ascii_digit())
                && v.len() < 15
                && name != "key";
            match (numeric, fmt) {
                (true, Some(f)) => {
                    ws.write_number_with_format(row, col, v.parse::<f64>().unwrap_or(0.0), &f)?;
                }
                (true, None) => {
                    ws.write_number(row, col, v.parse::<f64>().unwrap_or(0.0))?;
                }
                (false, Some(f)) => {
                    ws.write_string_with_format(row, col, v, &f)?;
                }
                (false, None) => {
                    ws.write_string(row, col, v)?;
                }
            }
        }
    }
    if !header.is_empty() {
        ws.set_freeze_panes(1, 0)?;
        ws.autofilter(0, 0, last_row, (header.len() - 1) as u16)?;
    }
    ws.autofit();
    Ok(())
}

/// The workbook as bytes: a `findings` sheet, `by_code`, then one sheet
/// per failure table.
pub fn render(d: &ReportData) -> Result<Vec<u8>, XlsxReportError> {
    let mut wb = Workbook::new();
    // A fixed creation date keeps the workbook byte-identical across runs.
    let props = DocProperties::new().set_creation_datetime(&ExcelDateTime::from_ymd(2000, 1, 1)?);
    wb.set_properties(&props);
    let mut buf = Vec::new();
    table::write_findings(&mut buf, d.findings)?;
    add_sheet(&mut wb, "findings", &buf)?;
    buf.clear();
    table::write_rows(&mut buf, &d.summary.by_error_code)?;
    add_sheet(&mut wb, "by_code", &buf)?;
    for (name, rows) in d.tables.named() {
        buf.clear();
        table::write_rows(&mut buf, rows)?;
        add_sheet(&mut wb, name, &buf)?;
    }
    Ok(wb.save_to_buffer()?)
}
