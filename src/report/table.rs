//! The normalized table written as CSV, JSON Lines or Parquet.

use super::escape::csv_cell;
use crate::model::columns as col;
use crate::model::time::format_time;
use crate::model::SignIn;
use polars::prelude::*;
use rayon::prelude::*;
use std::io::{self, Write};

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// Cells of one record in `col::ALL_COLUMNS` order.
fn cells<'a>(r: &'a SignIn, paths: &'a [String]) -> Vec<std::borrow::Cow<'a, str>> {
    use std::borrow::Cow::{Borrowed as B, Owned as O};
    vec![
        O(format_time(r.time_us)),
        B(&r.request_id),
        B(&r.correlation_id),
        B(&r.session_id),
        B(&r.user_principal_name),
        B(&r.user_id),
        B(&r.user_display_name),
        B(&r.ip),
        O(r.error_code.to_string()),
        B(r.status.as_str()),
        B(&r.failure_reason),
        B(&r.additional_details),
        B(&r.app_name),
        B(&r.app_id),
        B(&r.resource),
        B(&r.client_app),
        B(&r.user_agent),
        B(&r.os),
        B(&r.browser),
        B(&r.device_id),
        O(opt(r.compliant)),
        O(opt(r.managed)),
        B(&r.city),
        B(&r.state),
        B(&r.country),
        O(opt(r.latitude)),
        O(opt(r.longitude)),
        O(opt(r.asn)),
        B(r.sign_in_type.as_str()),
        B(&r.risk_level_during_sign_in),
        B(&r.risk_level_aggregated),
        B(&r.risk_state),
        B(&r.risk_event_types),
        B(&r.conditional_access_status),
        B(&r.authentication_requirement),
        B(&r.mfa_method),
        B(&r.mfa_result),
        B(&r.auth_protocol),
        B(&r.transfer_method),
        B(&r.incoming_token),
        B(&r.token_id),
        B(r.source_format.map(|f| f.as_str()).unwrap_or("")),
        B(paths
            .get(r.source_file as usize)
            .map(String::as_str)
            .unwrap_or("")),
        O(r.source_record.to_string()),
    ]
}

/// The cells that describe the sign-in itself, in schema order: every
/// column except where the record was read from (format, file, record
/// number).
pub(crate) fn content_cells(r: &SignIn) -> impl Iterator<Item = std::borrow::Cow<'_, str>> {
    col::ALL_COLUMNS
        .iter()
        .zip(cells(r, &[]))
        .filter(|(name, _)| {
            !matches!(
                **name,
                col::SOURCE_FORMAT | col::SOURCE_FILE | col::SOURCE_RECORD
            )
        })
        .map(|(_, cell)| cell)
}

/// CSV for spreadsheets and Timeline Explorer: UTF-8, ISO 8601 UTC times,
/// formula-looking cells neutralised, optional BOM.
pub fn write_csv(
    w: &mut impl Write,
    records: &[SignIn],
    paths: &[String],
    bom: bool,
) -> io::Result<()> {
    if bom {
        w.write_all("\u{feff}".as_bytes())?;
    }
    let mut cw = csv::Writer::from_writer(&mut *w);
    cw.write_record(col::ALL_COLUMNS)?;
    cw.flush()?;
    drop(cw);
    write_rendered(w, records, |out, chunk| {
        let mut cw = csv::Writer::from_writer(out);
        for r in chunk {
            cw.write_record(cells(r, paths).iter().map(|c| csv_cell(c).into_owned()))?;
        }
        cw.flush()
    })
}

/// One JSON object per line with the schema's column names, in name order
/// (the order these files have always had).
pub fn write_jsonl(w: &mut impl Write, records: &[SignIn], paths: &[String]) -> io::Result<()> {
    let mut keys: Vec<(usize, String)> = col::ALL_COLUMNS
        .iter()
        .enumerate()
        .map(|(i, name)| (i, format!("\"{name}\":")))
        .collect();
    keys.sort_by_key(|&(i, _)| col::ALL_COLUMNS[i]);
    write_rendered(w, records, |out, chunk| {
        chunk
            .iter()
            .try_for_each(|r| write_json_line(out, r, paths, &keys))
    })
}

/// `keys`: each column's index in the schema and its `"name":`, in the
/// order written.
fn write_json_line(
    w: &mut Vec<u8>,
    r: &SignIn,
    paths: &[String],
    keys: &[(usize, String)],
) -> io::Result<()> {
    let cells = cells(r, paths);
    for (n, (i, key)) in keys.iter().enumerate() {
        w.push(if n == 0 { b'{' } else { b',' });
        w.extend_from_slice(key.as_bytes());
        let value = cells[*i].as_ref();
        match col::ALL_COLUMNS[*i] {
            col::ERROR_CODE
            | col::SOURCE_RECORD
            | col::ASN
            | col::LATITUDE
            | col::LONGITUDE
            | col::COMPLIANT
            | col::MANAGED => {
                // Numbers and booleans as JSON reads them; an empty cell
                // is null.
                let v: serde_json::Value =
                    serde_json::from_str(value).unwrap_or(serde_json::Value::Null);
                serde_json::to_writer(&mut *w, &v)?;
            }
            _ => serde_json::to_writer(&mut *w, value)?,
        }
    }
    w.extend_from_slice(b"}\n");
    Ok(())
}

/// Sign-ins per rendering job: enough to outweigh handing out the job,
/// few enough that the jobs in flight hold a few megabytes.
const CHUNK: usize = 8 * 1024;

/// Renders the records chunk by chunk on the pool and writes the chunks in
/// order: the bytes of rendering them one by one, on every core, holding
/// only a wave of chunks (one per thread) at a time.
fn write_rendered(
    w: &mut impl Write,
    records: &[SignIn],
    render: impl Fn(&mut Vec<u8>, &[SignIn]) -> io::Result<()> + Sync,
) -> io::Result<()> {
    let threads = rayon::current_num_threads().max(1);
    // Reused from wave to wave, so a wave does not ask the allocator for
    // megabytes of fresh pages.
    let mut buffers: Vec<Vec<u8>> = vec![Vec::new(); threads];
    for group in records.chunks(CHUNK * threads) {
        group
            .par_chunks(CHUNK)
            .zip(buffers.par_iter_mut())
            .try_for_each(|(chunk, out)| {
                out.clear();
                render(out, chunk)
            })?;
        for out in &buffers[..group.len().div_ceil(CHUNK)] {
            w.write_all(out)?;
        }
    }
    Ok(())
}

/// Rows per Parquet row group (DuckDB writes 122,880). Each group is built
/// and written before the next, so the table never sits in memory whole:
/// a million sign-ins as one frame took 1.2 GB on top of the records, one
/// group of this size about 0.2 GB.
const ROW_GROUP: usize = 128 * 1024;

/// The sign-ins as one Parquet file of the normalized schema.
pub fn write_parquet(w: impl Write, records: &[SignIn], paths: &[String]) -> PolarsResult<()> {
    let mut out = ParquetWriter::new(w).batched(&col::schema())?;
    for group in records.chunks(ROW_GROUP) {
        out.write_batch(&crate::normalize::to_dataframe(group, paths)?)?;
    }
    out.finish().map(|_| ())
}

/// One aggregation table as CSV: columns in the row type's field order,
/// every cell neutralised like the rest of our CSV (keys such as user
/// agents and UPNs come from the log). An empty table is an empty file.
pub fn write_rows<T: serde::Serialize>(w: &mut impl Write, rows: &[T]) -> io::Result<()> {
    // serde names the columns in declaration order; the cells are then
    // re-emitted through the formula guard.
    let mut plain = csv::Writer::from_writer(Vec::new());
    for row in rows {
        plain.serialize(row)?;
    }
    let bytes = plain
        .into_inner()
        .map_err(|e| io::Error::other(e.to_string()))?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes.as_slice());
    let mut out = csv::Writer::from_writer(w);
    for rec in rdr.records() {
        let rec = rec?;
        out.write_record(rec.iter().map(|c| csv_cell(c).into_owned()))?;
    }
    out.flush()?;
    Ok(())
}

/// `findings.csv`: one row per finding, lists joined with `;`, remediation
/// steps with ` | `; cells neutralised like every other CSV.
pub fn write_findings(w: &mut impl Write, findings: &[crate::model::Finding]) -> io::Result<()> {
    let mut cw = csv::Writer::from_writer(w);
    cw.write_record([
        "id",
        "kind",
        "severity",
        "title",
        "first_seen",
        "last_seen",
        "count",
        "window_seconds",
        "ips",
        "users",
        "error_codes",
        "sample_request_id",
        "sample_file",
        "sample_record",
        "remediation",
        "related",
        "techniques",
    ])?;
    for f in findings {
        let codes: Vec<String> = f.error_codes.iter().map(|c| c.to_string()).collect();
        let sample = f.evidence.samples.first();
        let cells = [
            f.id.clone(),
            f.kind.clone(),
            f.severity.as_str().to_string(),
            f.title.clone(),
            f.first_seen.clone(),
            f.last_seen.clone(),
            f.count.to_string(),
            f.window_seconds.to_string(),
            f.ips.join(";"),
            f.users.join(";"),
            codes.join(";"),
            sample.map(|s| s.request_id.clone()).unwrap_or_default(),
            sample.map(|s| s.file.clone()).unwrap_or_default(),
            sample.map(|s| s.record.to_string()).unwrap_or_default(),
            f.remediation.join(" | "),
            f.related.join(";"),
            f.techniques.join(";"),
        ];
        cw.write_record(cells.iter().map(|c| csv_cell(c).into_owned()))?;
    }
    cw.flush()?;
    Ok(())
}

/// The preset comparison as one table: this run's findings of the
/// compared detections, then what only another preset raises; a column
/// per preset says `raised` where its thresholds raise the row, and
/// `this_run_as` lists the kinds of this run's findings on the same
/// accounts or addresses at the time. Cells neutralised like every other
/// CSV.
pub fn write_presets(
    w: &mut impl Write,
    check: &crate::analyze::preset_check::PresetCheck,
    findings: &[crate::model::Finding],
) -> io::Result<()> {
    let by_id: std::collections::HashMap<&str, &crate::model::Finding> =
        findings.iter().map(|f| (f.id.as_str(), f)).collect();
    let mut cw = csv::Writer::from_writer(w);
    let mut head = vec![
        "listed",
        "id",
        "severity",
        "kind",
        "title",
        "first_seen",
        "last_seen",
    ];
    head.extend(check.presets.iter().map(String::as_str));
    head.push("this_run_as");
    cw.write_record(&head)?;
    let mut row = |listed: &str, f: &crate::model::Finding, under: &[String], kinds: &[&str]| {
        let mut cells = vec![
            listed.to_string(),
            f.id.clone(),
            f.severity.as_str().to_string(),
            f.kind.clone(),
            f.title.clone(),
            f.first_seen.clone(),
            f.last_seen.clone(),
        ];
        cells.extend(
            check
                .presets
                .iter()
                .map(|p| if under.contains(p) { "raised" } else { "" }.to_string()),
        );
        cells.push(kinds.join(";"));
        cw.write_record(cells.iter().map(|c| csv_cell(c).into_owned()))
    };
    for r in &check.findings {
        if let Some(f) = by_id.get(r.id.as_str()) {
            row("this run", f, &r.under, &[])?;
        }
    }
    for e in &check.elsewhere {
        row(
            "only under another preset",
            &e.finding,
            &e.under,
            &e.seen_kinds(findings),
        )?;
    }
    cw.flush()?;
    Ok(())
}

/// `accounts.csv`: one row per account with its verdict, first action,
/// reasons (` | `) and finding ids (`;`); cells neutralised like every
/// other CSV.
pub fn write_accounts(
    w: &mut impl Write,
    accounts: &[crate::analyze::verdict::Account],
) -> io::Result<()> {
    let mut cw = csv::Writer::from_writer(w);
    cw.write_record(["user", "verdict", "action", "reasons", "findings"])?;
    for a in accounts {
        let cells = [
            a.user.clone(),
            a.verdict.as_str().to_string(),
            a.action.clone(),
            a.reasons.join(" | "),
            a.findings.join(";"),
        ];
        cw.write_record(cells.iter().map(|c| csv_cell(c).into_owned()))?;
    }
    cw.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records past several rendering chunks, with text a log controls.
    fn hostile(n: usize) -> Vec<SignIn> {
        (0..n)
            .map(|i| SignIn {
                time_us: 1_700_000_000_000_000 + i as i64,
                request_id: format!("r{i}").as_str().into(),
                user_agent: format!("say \"hi\"\\ {i}\n\t\u{1}é").as_str().into(),
                app_name: "=cmd|' /C calc'!A0".into(),
                error_code: if i % 3 == 0 { 50126 } else { 0 },
                latitude: (i % 2 == 0).then_some(47.25),
                compliant: (i % 5 == 0).then_some(true),
                ..Default::default()
            })
            .collect()
    }

    #[test]
    fn json_lines_hold_every_record_in_order_with_text_escaped() {
        let records = hostile(2 * CHUNK + 3);
        let mut out = Vec::new();
        write_jsonl(&mut out, &records, &["f".to_string()]).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), records.len());
        for i in [0, CHUNK - 1, CHUNK, 2 * CHUNK + 2] {
            let (v, r) = (&lines[i], &records[i]);
            assert_eq!(v["request_id"], format!("r{i}"));
            assert_eq!(v["user_agent"], r.user_agent.as_str());
            assert_eq!(v["error_code"], r.error_code);
            assert_eq!(v["latitude"], serde_json::json!(r.latitude));
            assert_eq!(v["compliant"], serde_json::json!(r.compliant));
            assert_eq!(v["source_file"], "f");
        }
        // Every column, in name order.
        let keys: Vec<&str> = lines[0]
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        let mut names = col::ALL_COLUMNS.to_vec();
        names.sort();
        assert_eq!(keys, names);
        let first = text.lines().next().unwrap();
        assert!(
            first.starts_with("{\"additional_details\":\"\","),
            "{first}"
        );
    }

    #[test]
    fn csv_holds_every_record_in_order_with_formulas_neutralised() {
        let records = hostile(2 * CHUNK + 3);
        let mut out = Vec::new();
        write_csv(&mut out, &records, &["f".to_string()], true).unwrap();
        assert!(out.starts_with("\u{feff}time,".as_bytes()));
        let mut reader = csv::Reader::from_reader(&out[3..]);
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), records.len());
        let at = |name: &str| col::ALL_COLUMNS.iter().position(|c| *c == name).unwrap();
        for i in [0, CHUNK - 1, CHUNK, 2 * CHUNK + 2] {
            assert_eq!(&rows[i][at(col::REQUEST_ID)], format!("r{i}"));
            // Control characters are replaced, like every CSV cell's.
            assert_eq!(
                &rows[i][at(col::USER_AGENT)],
                csv_cell(&records[i].user_agent)
            );
            assert!(rows[i][at(col::APP_NAME)].starts_with('\''));
        }
    }

    #[test]
    fn parquet_is_written_group_by_group_and_reads_back_whole() {
        let records: Vec<SignIn> = (0..2 * ROW_GROUP + 7)
            .map(|i| SignIn {
                time_us: 1_700_000_000_000_000 + i as i64,
                request_id: format!("r{i}").as_str().into(),
                error_code: if i % 3 == 0 { 50126 } else { 0 },
                source_record: i as u64,
                ..Default::default()
            })
            .collect();
        let paths = ["export.json".to_string()];
        let mut bytes = Vec::new();
        write_parquet(&mut bytes, &records, &paths).unwrap();
        let df = ParquetReader::new(io::Cursor::new(bytes)).finish().unwrap();
        assert_eq!(df.height(), records.len());
        let names: Vec<&str> = df.get_column_names().iter().map(|s| s.as_str()).collect();
        assert_eq!(names, col::ALL_COLUMNS);
        let ids = df.column(col::REQUEST_ID).unwrap().str().unwrap().clone();
        let codes = df.column(col::ERROR_CODE).unwrap().i64().unwrap().clone();
        // Rows on both sides of each group boundary, and the last one.
        for i in [
            0,
            ROW_GROUP - 1,
            ROW_GROUP,
            2 * ROW_GROUP,
            records.len() - 1,
        ] {
            assert_eq!(ids.get(i), Some(format!("r{i}").as_str()), "row {i}");
            assert_eq!(codes.get(i), Some(records[i].error_code), "row {i}");
        }

        // No sign-ins: a valid file with the schema and no rows.
        let mut empty = Vec::new();
        write_parquet(&mut empty, &[], &paths).unwrap();
        let df = ParquetReader::new(io::Cursor::new(empty)).finish().unwrap();
        assert_eq!((df.height(), df.width()), (0, col::ALL_COLUMNS.len()));
    }
}
