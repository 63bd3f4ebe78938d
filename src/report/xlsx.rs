//! `report.xlsx`: the workbook for responders who work in Excel. A summary
//! sheet first, then findings, error codes with their meaning and what to
//! do, every failure table, user agents, networks (AS numbers), rare
//! countries, the per-address enrichment and the sign-ins themselves.
//!
//! Every table sheet is built from the same guarded CSV the report folder
//! gets, and the sign-ins sheet passes each text cell through the same
//! guard, so no cell a log wrote can start a formula. Times are Excel dates
//! (UTC) with a date format, counts are numbers, headers frozen and
//! filterable; severities, the key codes (50053, 53011, 500121), attack
//! user agents and rare countries are coloured by Excel's own conditional
//! formatting, so the colour follows a filter or an edit.
//!
//! Nothing is counted here: the analysis hands over finished tables.

use super::data::ReportData;
use super::escape::csv_cell;
use super::table;
use crate::analyze::agents::{AgentTables, ATTACK_AGENTS};
use crate::analyze::aggregate::GroupRow;
use crate::model::columns as col;
use crate::model::SignIn;
use rust_xlsxwriter::{
    column_number_to_name, Color, ConditionalFormatFormula, ConditionalFormatText,
    ConditionalFormatTextRule, DocProperties, ExcelDateTime, Format, Note, Workbook, Worksheet,
    XlsxError,
};

#[derive(Debug, thiserror::Error)]
pub enum XlsxReportError {
    #[error("building the workbook: {0}")]
    Xlsx(#[from] XlsxError),
    #[error("building a sheet: {0}")]
    Io(#[from] std::io::Error),
    #[error("building a sheet: {0}")]
    Csv(#[from] csv::Error),
}

/// Excel's rows per sheet, the header included.
pub const EXCEL_MAX_ROWS: u32 = 1_048_576;

const KEY_CODES: [&str; 3] = ["50053", "53011", "500121"];
/// Columns holding RFC 3339 UTC times, written as Excel dates.
const TIME_COLUMNS: [&str; 5] = [
    col::TIME,
    "first_seen",
    "last_seen",
    "last_success",
    "built",
];
/// Columns holding fractional numbers.
const FLOAT_COLUMNS: [&str; 3] = [col::LATITUDE, col::LONGITUDE, "share"];
const DATE_FORMAT: &str = "yyyy-mm-dd hh:mm:ss";
/// Days from Excel's 1900 epoch to the Unix epoch.
const UNIX_EPOCH_SERIAL: f64 = 25_569.0;

/// The sign-ins for the raw sheet, with the input paths their
/// `source_file` indexes.
#[derive(Clone, Copy)]
pub struct SignIns<'a> {
    pub records: &'a [SignIn],
    pub files: &'a [String],
}

/// One sheet of the workbook, in order. A new sheet is one more variant,
/// one more entry in [`sheet_list`] and one arm in [`render_limited`].
enum Sheet<'a> {
    Summary,
    Accounts,
    Findings,
    ByCode,
    Table(&'static str, &'a [GroupRow]),
    UserAgents,
    Asns,
    RareCountries,
    IpEnrichment,
    Presets,
    SignIns,
}

impl Sheet<'_> {
    fn name(&self) -> &'static str {
        match self {
            Sheet::Summary => "summary",
            Sheet::Accounts => "accounts",
            Sheet::Findings => "findings",
            Sheet::ByCode => "by_code",
            Sheet::Table(name, _) => name,
            Sheet::UserAgents => "user_agents",
            Sheet::Asns => "asns",
            Sheet::RareCountries => "rare_countries",
            Sheet::IpEnrichment => "ip_enrichment",
            Sheet::Presets => "presets",
            Sheet::SignIns => "sign_ins",
        }
    }

    fn what(&self) -> &'static str {
        match self {
            Sheet::Summary => "this sheet",
            Sheet::Accounts => {
                "every account to act on, strongest verdict first, with the first thing to do"
            }
            Sheet::Findings => "one row per finding, most severe first",
            Sheet::ByCode => "every non-success code, with its meaning and what to do",
            Sheet::Table(..) => "failures, interrupts, successes and lockouts per key",
            Sheet::UserAgents => "per user-agent string; attack tooling named and coloured",
            Sheet::Asns => "per autonomous system (AS number)",
            Sheet::RareCountries => "countries with under 1% of the sign-ins (coloured elsewhere)",
            Sheet::IpEnrichment => {
                "per source address: label, location and network, each with its source"
            }
            Sheet::Presets => {
                "which presets' thresholds raise each finding, and what only another preset raises"
            }
            Sheet::SignIns => "the de-duplicated sign-ins, oldest first",
        }
    }
}

/// The sheets in workbook order.
fn sheet_list<'a>(d: &ReportData<'a>) -> Vec<Sheet<'a>> {
    let mut v = vec![
        Sheet::Summary,
        Sheet::Accounts,
        Sheet::Findings,
        Sheet::ByCode,
    ];
    v.extend(
        d.tables
            .named()
            .into_iter()
            .map(|(n, rows)| Sheet::Table(n, rows)),
    );
    v.extend([
        Sheet::UserAgents,
        Sheet::Asns,
        Sheet::RareCountries,
        Sheet::IpEnrichment,
    ]);
    if d.story.presets.is_some() {
        v.push(Sheet::Presets);
    }
    v.push(Sheet::SignIns);
    v
}

struct Styles {
    header: Format,
    key: Format,
    date: Format,
    percent: Format,
    attack: Format,
    rare: Format,
}

impl Styles {
    fn new() -> Styles {
        Styles {
            header: Format::new()
                .set_bold()
                .set_background_color(Color::RGB(0xE8ECF1)),
            key: Format::new()
                .set_background_color(Color::RGB(0xFFF2CC))
                .set_bold(),
            date: Format::new().set_num_format(DATE_FORMAT),
            percent: Format::new().set_num_format("0.00%"),
            attack: Format::new()
                .set_background_color(Color::RGB(0xF4CCCC))
                .set_font_color(Color::RGB(0x7A0019)),
            rare: Format::new().set_background_color(Color::RGB(0xD9EAD3)),
        }
    }
}

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

/// An RFC 3339 UTC time as an Excel serial date (days since 1900).
fn excel_serial(rfc3339: &str) -> Option<f64> {
    let t = chrono::DateTime::parse_from_rfc3339(rfc3339).ok()?;
    Some(serial_of_us(t.timestamp_micros()))
}

fn serial_of_us(us: i64) -> f64 {
    UNIX_EPOCH_SERIAL + us as f64 / 86_400_000_000.0
}

/// Colours the cells of `column` (rows 1..=last_row) that hold attack
/// user agents or rare countries, by the column's name.
fn conditional(
    ws: &mut Worksheet,
    sheet: &str,
    column: &str,
    c: u16,
    last_row: u32,
    rare_rows: u32,
    s: &Styles,
) -> Result<(), XlsxError> {
    if last_row == 0 {
        return Ok(());
    }
    let country_key = sheet == "by_country" && column == "key";
    if column == col::USER_AGENT {
        for (marker, _) in ATTACK_AGENTS {
            let rule = ConditionalFormatText::new()
                .set_rule(ConditionalFormatTextRule::Contains((*marker).to_string()))
                .set_format(&s.attack);
            ws.add_conditional_format(1, c, last_row, c, &rule)?;
        }
    } else if column == "tool" {
        let first = format!("{}2", column_number_to_name(c));
        let rule = ConditionalFormatFormula::new()
            .set_rule(format!("=LEN({first})>0").as_str())
            .set_format(&s.attack);
        ws.add_conditional_format(1, c, last_row, c, &rule)?;
    } else if (column == col::COUNTRY || country_key) && rare_rows > 0 {
        // The list lives on its own sheet, so the rule stays one formula
        // however many countries are rare.
        let first = format!("{}2", column_number_to_name(c));
        let rule = ConditionalFormatFormula::new()
            .set_rule(
                format!(
                    "=COUNTIF(rare_countries!$A$2:$A${},{first})>0",
                    rare_rows + 1
                )
                .as_str(),
            )
            .set_format(&s.rare);
        ws.add_conditional_format(1, c, last_row, c, &rule)?;
    }
    Ok(())
}

/// A sheet from guarded CSV bytes. Returns the data rows written and the
/// data rows the CSV had (they differ when Excel's row limit cut it).
fn add_sheet(
    wb: &mut Workbook,
    name: &str,
    csv_bytes: &[u8],
    s: &Styles,
    max_rows: u32,
    rare_rows: u32,
) -> Result<(u64, u64), XlsxReportError> {
    let ws = wb.add_worksheet();
    ws.set_name(name)?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv_bytes);
    let mut header: Vec<String> = Vec::new();
    let (mut last_row, mut total) = (0u32, 0u64);
    for (r, rec) in rdr.records().enumerate() {
        let rec = rec?;
        if r == 0 {
            header = rec.iter().map(String::from).collect();
            for (c, v) in rec.iter().enumerate() {
                ws.write_string_with_format(0, c as u16, v, &s.header)?;
            }
            continue;
        }
        total += 1;
        if r as u64 >= u64::from(max_rows) {
            continue;
        }
        let row = r as u32;
        last_row = row;
        for (c, v) in rec.iter().enumerate() {
            let col = c as u16;
            let name = header.get(c).map(String::as_str).unwrap_or("");
            if TIME_COLUMNS.contains(&name) {
                if let Some(serial) = excel_serial(v) {
                    ws.write_number_with_format(row, col, serial, &s.date)?;
                    continue;
                }
            }
            if FLOAT_COLUMNS.contains(&name) {
                if let Ok(x) = v.parse::<f64>() {
                    match name {
                        "share" => ws.write_number_with_format(row, col, x, &s.percent)?,
                        _ => ws.write_number(row, col, x)?,
                    };
                    continue;
                }
            }
            let fmt = match name {
                "severity" => severity_format(v),
                "code" | "codes" | "error_codes" if mentions_key_code(v) => Some(s.key.clone()),
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
        for (c, h) in header.iter().enumerate() {
            conditional(ws, name, h, c as u16, last_row, rare_rows, s)?;
        }
    }
    ws.autofit();
    for (c, h) in header.iter().enumerate() {
        if TIME_COLUMNS.contains(&h.as_str()) {
            ws.set_column_width(c as u16, 20)?;
        }
    }
    Ok((u64::from(last_row), total))
}

/// `by_code` with the catalog's meaning and what to do beside each code.
fn by_code_csv(d: &ReportData) -> Result<Vec<u8>, XlsxReportError> {
    let mut plain = Vec::new();
    table::write_rows(&mut plain, &d.summary.by_error_code)?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(plain.as_slice());
    let mut w = csv::Writer::from_writer(Vec::new());
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec?;
        let mut cells: Vec<String> = rec.iter().map(String::from).collect();
        if i == 0 {
            cells.extend(["meaning".to_string(), "what_to_do".to_string()]);
        } else {
            let info = d
                .summary
                .by_error_code
                .get(i - 1)
                .and_then(|r| crate::model::codes::lookup(r.code));
            let (meaning, todo) = info.map_or(("", ""), |c| (c.meaning, c.remediation));
            cells.push(csv_cell(meaning).into_owned());
            cells.push(csv_cell(todo).into_owned());
        }
        w.write_record(&cells)?;
    }
    w.into_inner()
        .map_err(|e| XlsxReportError::Io(std::io::Error::other(e.to_string())))
}

/// The sign-ins sheet, streamed row by row (a million rows of forty
/// columns would not fit in memory as cells). Returns the rows written.
fn add_sign_ins(
    wb: &mut Workbook,
    sign_ins: SignIns,
    s: &Styles,
    max_rows: u32,
    rare_rows: u32,
) -> Result<u64, XlsxReportError> {
    let ws = wb.add_worksheet_with_constant_memory()?;
    ws.set_name(Sheet::SignIns.name())?;
    // The schema's columns; the last three say where the record was read.
    let header = col::ALL_COLUMNS;
    let shown = sign_ins
        .records
        .len()
        .min(max_rows.saturating_sub(1) as usize);
    for (c, h) in header.iter().enumerate() {
        let width = match *h {
            col::TIME => 20,
            col::USER_AGENT | col::SOURCE_FILE | col::FAILURE_REASON => 40,
            col::USER | col::APP_NAME => 28,
            _ => 14,
        };
        ws.set_column_width(c as u16, width)?;
        ws.write_string_with_format(0, c as u16, *h, &s.header)?;
    }
    if shown < sign_ins.records.len() {
        ws.insert_note(
            0,
            0,
            &Note::new(format!(
                "Cut at Excel's row limit: the first {shown} of {} sign-ins by time. \
                 `entrasift convert` writes them all (CSV or Parquet).",
                sign_ins.records.len()
            ))
            .set_author("entrasift"),
        )?;
    }
    for (i, r) in sign_ins.records[..shown].iter().enumerate() {
        let row = i as u32 + 1;
        let source = [
            r.source_format.map_or("", |f| f.as_str()).to_string(),
            sign_ins
                .files
                .get(r.source_file as usize)
                .cloned()
                .unwrap_or_default(),
            r.source_record.to_string(),
        ];
        let cells = table::content_cells(r).chain(source.into_iter().map(Into::into));
        for (c, (name, v)) in header.iter().zip(cells).enumerate() {
            let c = c as u16;
            match *name {
                col::TIME => {
                    ws.write_number_with_format(row, c, serial_of_us(r.time_us), &s.date)?;
                }
                col::ERROR_CODE
                | col::LATITUDE
                | col::LONGITUDE
                | col::ASN
                | col::SOURCE_RECORD => {
                    if let Ok(x) = v.parse::<f64>() {
                        ws.write_number(row, c, x)?;
                    }
                }
                _ if v.is_empty() => {}
                _ => {
                    ws.write_string(row, c, csv_cell(&v))?;
                }
            }
        }
    }
    let last = shown as u32;
    ws.set_freeze_panes(1, 0)?;
    ws.autofilter(0, 0, last, (header.len() - 1) as u16)?;
    for (c, h) in header.iter().enumerate() {
        conditional(ws, Sheet::SignIns.name(), h, c as u16, last, rare_rows, s)?;
    }
    Ok(shown as u64)
}

/// The summary sheet: the run in brief and what each sheet holds, with
/// any sheet Excel's row limit cut.
fn write_summary(
    ws: &mut Worksheet,
    d: &ReportData,
    sheets: &[(&'static str, &'static str, u64, u64)],
    s: &Styles,
) -> Result<(), XlsxError> {
    ws.set_name(Sheet::Summary.name())?;
    let sum = d.summary;
    let mut row = 0u32;
    let mut line = |ws: &mut Worksheet, label: &str, value: Option<&str>, n: Option<u64>| {
        ws.write_string_with_format(row, 0, label, &s.header)?;
        if let Some(v) = value {
            match excel_serial(v) {
                Some(serial) => ws.write_number_with_format(row, 1, serial, &s.date)?,
                None => ws.write_string(row, 1, csv_cell(v))?,
            };
        }
        if let Some(n) = n {
            ws.write_number(row, 1, n as f64)?;
        }
        row += 1;
        Ok::<(), XlsxError>(())
    };
    line(ws, "report", Some(d.tool.as_str()), None)?;
    line(ws, "first sign-in (UTC)", sum.first_seen.as_deref(), None)?;
    line(ws, "last sign-in (UTC)", sum.last_seen.as_deref(), None)?;
    line(ws, "sign-ins", None, Some(sum.records))?;
    line(ws, "successes", None, Some(sum.successes))?;
    line(ws, "failures", None, Some(sum.failures))?;
    line(ws, "interrupts", None, Some(sum.interrupts))?;
    line(ws, "findings", None, Some(d.findings.len() as u64))?;
    row += 1;
    for (c, h) in ["sheet", "rows", "contents"].iter().enumerate() {
        ws.write_string_with_format(row, c as u16, *h, &s.header)?;
    }
    row += 1;
    for &(name, what, written, total) in sheets {
        ws.write_string(row, 0, name)?;
        ws.write_number(row, 1, written as f64)?;
        if written < total {
            ws.write_string(
                row,
                2,
                format!(
                    "{what}. CUT at Excel's row limit ({EXCEL_MAX_ROWS} rows with the header): \
                     the first {written} of {total} rows"
                ),
            )?;
        } else {
            ws.write_string(row, 2, what)?;
        }
        row += 1;
    }
    ws.set_column_width(0, 22)?;
    ws.set_column_width(1, 20)?;
    ws.set_column_width(2, 90)?;
    Ok(())
}

/// Writes the workbook to `out` as it is built: a million sign-ins make a
/// workbook of hundreds of megabytes, which is not held in memory.
pub fn render(
    d: &ReportData,
    agents: &AgentTables,
    sign_ins: SignIns,
    out: impl std::io::Write + Send,
) -> Result<(), XlsxReportError> {
    render_limited(d, agents, sign_ins, EXCEL_MAX_ROWS, out)
}

/// [`render`] with a smaller row limit, so tests can show the cut.
pub(crate) fn render_limited(
    d: &ReportData,
    agents: &AgentTables,
    sign_ins: SignIns,
    max_rows: u32,
    out: impl std::io::Write + Send,
) -> Result<(), XlsxReportError> {
    let mut wb = Workbook::new();
    // A fixed creation date keeps the workbook byte-identical across runs.
    let props = DocProperties::new().set_creation_datetime(&ExcelDateTime::from_ymd(2000, 1, 1)?);
    wb.set_properties(&props);
    // Deflate took a third of a million-row workbook's time at the default
    // level 6; level 3 saves a fifth of the time for a file 10% larger
    // (level 1: 50% larger). BENCHMARKS.md, "Session 22".
    wb.set_zip_compression_level(3);
    let s = Styles::new();
    let rare_rows = agents.rare_countries.len().min(max_rows as usize - 1) as u32;
    let mut listed = Vec::new();
    let mut buf = Vec::new();
    for sheet in sheet_list(d) {
        buf.clear();
        match &sheet {
            // Written last, when the other sheets' row counts are known.
            Sheet::Summary => {
                wb.add_worksheet();
                continue;
            }
            Sheet::Accounts => table::write_accounts(&mut buf, &d.story.accounts)?,
            Sheet::Findings => table::write_findings(&mut buf, d.findings)?,
            Sheet::ByCode => buf = by_code_csv(d)?,
            Sheet::Table(_, rows) => table::write_rows(&mut buf, rows)?,
            Sheet::UserAgents => table::write_rows(&mut buf, &agents.user_agents)?,
            Sheet::Asns => table::write_rows(&mut buf, &agents.asns)?,
            Sheet::RareCountries => table::write_rows(&mut buf, &agents.rare_countries)?,
            Sheet::IpEnrichment => {
                let ips = d.enrichment.map_or(&[][..], |e| &e.ips[..]);
                table::write_rows(&mut buf, ips)?
            }
            Sheet::Presets => {
                if let Some(c) = &d.story.presets {
                    table::write_presets(&mut buf, c, d.findings)?
                }
            }
            Sheet::SignIns => {
                let n = add_sign_ins(&mut wb, sign_ins, &s, max_rows, rare_rows)?;
                listed.push((sheet.name(), sheet.what(), n, sign_ins.records.len() as u64));
                continue;
            }
        }
        let (written, total) = add_sheet(&mut wb, sheet.name(), &buf, &s, max_rows, rare_rows)?;
        listed.push((sheet.name(), sheet.what(), written, total));
    }
    write_summary(wb.worksheet_from_index(0)?, d, &listed, &s)?;
    wb.save_to_writer(out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::agents;
    use crate::model::codes::status_class;
    use crate::report::charts::fixture::sample;
    use std::io::Read;

    /// Text written to look like formulas, in fields a log controls.
    const HOSTILE: [&str; 4] = ["=cmd|' /C calc'!A0", "+SUM(1;2)", "@IMPORTXML(x)", "-2+3"];

    struct Book(zip::ZipArchive<std::io::Cursor<Vec<u8>>>);

    impl Book {
        fn new(bytes: Vec<u8>) -> Book {
            Book(zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap())
        }
        fn part(&mut self, name: &str) -> String {
            let mut s = String::new();
            self.0
                .by_name(name)
                .unwrap()
                .read_to_string(&mut s)
                .unwrap();
            s
        }
        fn sheet_names(&mut self) -> Vec<String> {
            let wb = self.part("xl/workbook.xml");
            wb.split("<sheet name=\"")
                .skip(1)
                .map(|s| s[..s.find('"').unwrap()].to_string())
                .collect()
        }
        /// A sheet's XML by name (sheets are numbered in workbook order).
        fn sheet(&mut self, name: &str) -> String {
            let i = self.sheet_names().iter().position(|n| n == name).unwrap();
            self.part(&format!("xl/worksheets/sheet{}.xml", i + 1))
        }
        fn every_sheet(&mut self) -> String {
            let n = self.sheet_names().len();
            (1..=n)
                .map(|i| self.part(&format!("xl/worksheets/sheet{i}.xml")))
                .collect()
        }
    }

    /// The generated week with hostile text in the fields an attacker
    /// writes: user agent, account, app and failure reason.
    fn hostile_sign_ins(mut records: Vec<SignIn>) -> Vec<SignIn> {
        let base = records.last().map_or(0, |r| r.time_us) + 1_000_000;
        for (i, h) in HOSTILE.iter().enumerate() {
            records.push(SignIn {
                time_us: base + i as i64,
                user_principal_name: (*h).into(),
                user_agent: (*h).into(),
                app_name: (*h).into(),
                failure_reason: (*h).into(),
                ip: "198.51.100.66".into(),
                country: "ZZ".into(),
                error_code: 50126,
                status: status_class(50126),
                ..SignIn::default()
            });
        }
        records
    }

    fn book(max_rows: u32) -> (Book, Vec<SignIn>, Vec<Finding>) {
        let s = sample();
        let records = hostile_sign_ins(s.records.clone());
        let agents = agents::tables(&records, None);
        let files = vec!["exports/graph.json".to_string()];
        let sign_ins = SignIns {
            records: &records,
            files: &files,
        };
        let mut bytes = Vec::new();
        render_limited(&s.data(), &agents, sign_ins, max_rows, &mut bytes).unwrap();
        (Book::new(bytes), records, s.findings.clone())
    }

    use crate::model::Finding;

    #[test]
    fn every_sheet_is_there_with_dates_codes_explained_and_colours() {
        let (mut b, records, findings) = book(EXCEL_MAX_ROWS);
        assert_eq!(
            b.sheet_names(),
            [
                "summary",
                "accounts",
                "findings",
                "by_code",
                "by_ip",
                "by_user",
                "by_app",
                "by_country",
                "by_client_app",
                "by_hour",
                "by_day",
                "user_agents",
                "asns",
                "rare_countries",
                "ip_enrichment",
                "presets",
                "sign_ins"
            ]
        );
        let styles = b.part("xl/styles.xml");
        assert!(
            styles.contains("formatCode=\"yyyy-mm-dd hh:mm:ss\""),
            "{styles}"
        );
        let strings = b.part("xl/sharedStrings.xml");
        // Times are numbers now, not the text the CSV carries.
        assert!(!findings.is_empty());
        for f in &findings {
            assert!(
                !strings.contains(&format!(">{}<", f.first_seen)),
                "{}",
                f.first_seen
            );
        }
        // The first sign-in's time is the first data cell, as a date serial.
        let raw = b.sheet("sign_ins");
        let a2 = &raw[raw.find("<c r=\"A2\"").unwrap()..];
        let a2 = &a2[..a2.find("</c>").unwrap()];
        let value: f64 = a2[a2.find("<v>").unwrap() + 3..a2.find("</v>").unwrap()]
            .parse()
            .unwrap();
        assert!(a2.contains(" s=\""), "a date format: {a2}");
        let want = UNIX_EPOCH_SERIAL + records[0].time_us as f64 / 86_400_000_000.0;
        assert!((value - want).abs() < 1e-6, "{value} {want}");
        assert_eq!(raw.matches("<row ").count(), records.len() + 1);
        // Codes explained from the catalog.
        let code = crate::model::codes::lookup(50126).unwrap();
        assert!(strings.contains(">meaning<") && strings.contains(">what_to_do<"));
        let esc = |t: &str| {
            t.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        };
        assert!(strings.contains(&esc(code.meaning)), "meaning of 50126");
        assert!(
            strings.contains(&esc(code.remediation)),
            "what to do for 50126"
        );
        // Attack user agents and rare countries are coloured by Excel.
        assert!(raw.contains("text=\"python-requests\""));
        assert!(raw.contains("COUNTIF(rare_countries!"));
        let agents = b.sheet("user_agents");
        assert!(agents.contains("LEN(") && agents.contains("containsText"));
        assert!(b.sheet("by_country").contains("COUNTIF(rare_countries!"));
        // Nothing was cut.
        assert!(!strings.contains("CUT at Excel"));
        assert!(b.0.by_name("xl/comments1.xml").is_err());
    }

    #[test]
    fn the_presets_sheet_has_a_row_per_compared_finding_and_one_per_finding_elsewhere() {
        let s = sample();
        let check = s
            .story
            .presets
            .as_ref()
            .expect("the fixture compares presets");
        assert!(!check.findings.is_empty());
        let mut csv = Vec::new();
        table::write_presets(&mut csv, check, &s.findings).unwrap();
        let mut rdr = csv::Reader::from_reader(csv.as_slice());
        let head: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(&head[7..11], ["default", "sentinel", "splunk", "elastic"]);
        let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), check.findings.len() + check.elsewhere.len());
        for (row, r) in rows.iter().zip(&check.findings) {
            assert_eq!((&row[0], &row[1]), ("this run", r.id.as_str()));
            // Under its own preset the run raises every one of its findings.
            assert_eq!(&row[7], "raised");
        }
        let (mut b, _, _) = book(EXCEL_MAX_ROWS);
        assert!(b.sheet("presets").contains("<row r=\"2\""));
    }

    #[test]
    fn no_log_text_becomes_a_formula() {
        let (mut b, _, _) = book(EXCEL_MAX_ROWS);
        let sheets = b.every_sheet();
        let strings = b.part("xl/sharedStrings.xml");
        // No cell holds a formula; conditional-format rules are <formula>.
        assert!(!sheets.contains("<f>") && !sheets.contains("<f "));
        for h in HOSTILE {
            let h = h.replace('&', "&amp;");
            let guarded = format!(">'{h}<");
            assert!(sheets.contains(&guarded), "sign_ins sheet: {h}");
            assert!(strings.contains(&guarded), "tables: {h}");
            let bare = format!(">{h}<");
            assert!(!sheets.contains(&bare) && !strings.contains(&bare), "{h}");
        }
    }

    #[test]
    fn the_row_limit_cuts_and_says_so() {
        let (mut b, records, _) = book(50);
        let raw = b.sheet("sign_ins");
        assert_eq!(raw.matches("<row ").count(), 50);
        let note = b.part("xl/comments1.xml");
        assert!(
            note.contains(&format!(
                "Cut at Excel's row limit: the first 49 of {} sign-ins",
                records.len()
            )),
            "{note}"
        );
        let strings = b.part("xl/sharedStrings.xml");
        assert!(strings.contains(&format!(
            "CUT at Excel's row limit ({EXCEL_MAX_ROWS} rows with the header): the first 49 of {} rows",
            records.len()
        )));
    }
}
