//! Everything shaped like Graph `auditLogs/signIns` objects: the portal's
//! JSON download, raw Graph pages, Microsoft-Extractor-Suite output and
//! the JSON Lines that CISA Goose and the SOF-ELK option write.

use crate::model::{SignIn, SignInType};

use super::super::json::{self, Style};
use super::super::rng::hash_salted;
use super::super::shape::{self, Ctx, Flavor};
use super::super::timefmt::{self, US_PER_HOUR};
use super::super::{Dataset, GenerateError, GenerateOptions};
use super::{date_span, newest_first, window_end, Output, Sink, UTF8_BOM};

const TYPES: [(SignInType, &str); 4] = [
    (SignInType::Interactive, "InteractiveSignIns"),
    (SignInType::NonInteractive, "NonInteractiveSignIns"),
    (SignInType::ServicePrincipal, "ApplicationSignIns"),
    (SignInType::ManagedIdentity, "MSISignIns"),
];

const CONTEXT: &str = "https://graph.microsoft.com/beta/$metadata#auditLogs/signIns";

/// Graph's page size is at most 1,000; smaller data sets still get
/// several pages so every reader path is exercised.
fn page_size(n: usize) -> usize {
    n.div_ceil(5).clamp(1, 1000)
}

fn event_type_name(kind: SignInType) -> &'static str {
    match kind {
        SignInType::Interactive => "interactiveUser",
        SignInType::NonInteractive => "nonInteractiveUser",
        SignInType::ServicePrincipal => "servicePrincipal",
        SignInType::ManagedIdentity => "managedIdentity",
    }
}

/// Portal "Download JSON": one top-level array per log, newest first.
pub fn portal_json(
    ds: &Dataset,
    ctx: &Ctx,
    opts: &GenerateOptions,
    dir: &str,
    out: &mut Output,
) -> Result<(), GenerateError> {
    let span = date_span(opts);
    let mut buf = String::with_capacity(8192);
    for (kind, name) in TYPES {
        let mut sink = out.create(&format!("{dir}/{name}_{span}.json"))?;
        let records = newest_first(ds, |e| e.sign_in_type == kind);
        if records.is_empty() {
            sink.write(b"[]\n")?;
            sink.finish()?;
            continue;
        }
        sink.write(b"[\n")?;
        for (i, e) in records.iter().enumerate() {
            buf.clear();
            if i > 0 {
                buf.push_str(",\n");
            }
            buf.push_str("  ");
            json::write_at(
                &shape::sign_in_object(ctx, e, Flavor::Graph),
                Style::Pretty,
                2,
                &mut buf,
            );
            sink.write(buf.as_bytes())?;
        }
        sink.write(b"\n]\n")?;
        sink.finish()?;
    }
    Ok(())
}

fn next_link(kind: SignInType, size: usize, page: usize) -> String {
    format!(
        "https://graph.microsoft.com/beta/auditLogs/signIns?$filter=signInEventTypes%2fany(t%3a+t+eq+%27{}%27)&$top={}&$skiptoken={:016x}{:016x}",
        event_type_name(kind),
        size,
        hash_salted(event_type_name(kind), page as u64),
        hash_salted(event_type_name(kind), 1000 + page as u64)
    )
}

/// Raw Graph responses: `{"@odata.context", "@odata.nextLink", "value"}`
/// pages, newest first; the first file holds one page, later files hold
/// several pages written back to back (as `curl >> file` produces).
pub fn pages(
    ds: &Dataset,
    ctx: &Ctx,
    _opts: &GenerateOptions,
    dir: &str,
    out: &mut Output,
) -> Result<(), GenerateError> {
    let mut buf = String::with_capacity(1 << 16);
    for (kind, _) in TYPES {
        let records = newest_first(ds, |e| e.sign_in_type == kind);
        if records.is_empty() {
            continue;
        }
        let size = page_size(records.len());
        let chunks: Vec<&[&SignIn]> = records.chunks(size).collect();
        let name = event_type_name(kind);
        let mut page = 0;
        let mut group = 0;
        while page < chunks.len() {
            let per_file = if group == 0 {
                1
            } else if group == 1 {
                3
            } else {
                2
            };
            let last = (page + per_file).min(chunks.len());
            let rel = if last - page == 1 {
                format!("{dir}/{name}/signIns-{name}-page-{:03}.json", page + 1)
            } else {
                format!(
                    "{dir}/{name}/signIns-{name}-pages-{:03}-{:03}.json",
                    page + 1,
                    last
                )
            };
            let mut sink = out.create(&rel)?;
            for (p, chunk) in chunks.iter().enumerate().take(last).skip(page) {
                buf.clear();
                buf.push_str("{\"@odata.context\":");
                json::write_str(CONTEXT, &mut buf, false, false);
                if p + 1 < chunks.len() {
                    buf.push_str(",\"@odata.nextLink\":");
                    json::write_str(&next_link(kind, size, p + 1), &mut buf, false, false);
                }
                buf.push_str(",\"value\":[");
                for (i, e) in chunk.iter().enumerate() {
                    if i > 0 {
                        buf.push(',');
                    }
                    json::write(
                        &shape::sign_in_object(ctx, e, Flavor::Graph),
                        Style::Compact,
                        &mut buf,
                    );
                }
                buf.push_str("]}\n");
                sink.write(buf.as_bytes())?;
            }
            sink.finish()?;
            page = last;
            group += 1;
        }
    }
    Ok(())
}

/// One `value | ConvertTo-Json -Depth 100 | Out-File -Append` call.
fn ps_page(
    ctx: &Ctx,
    page: &[&SignIn],
    sink: &mut Sink,
    buf: &mut String,
) -> Result<(), GenerateError> {
    buf.clear();
    if let [only] = page {
        // PowerShell unrolls a one-element array into a bare object.
        json::write_at(
            &shape::sign_in_object(ctx, only, Flavor::Graph),
            Style::Ps51,
            0,
            buf,
        );
        buf.push_str("\r\n");
        return sink.write(buf.as_bytes());
    }
    buf.push('[');
    sink.write(buf.as_bytes())?;
    for (i, e) in page.iter().enumerate() {
        buf.clear();
        buf.push_str(if i > 0 { ",\r\n    " } else { "\r\n    " });
        json::write_at(
            &shape::sign_in_object(ctx, e, Flavor::Graph),
            Style::Ps51,
            4,
            buf,
        );
        sink.write(buf.as_bytes())?;
    }
    sink.write(b"\r\n]\r\n")
}

/// Microsoft-Extractor-Suite `Get-GraphEntraSignInLogs` under Windows
/// PowerShell 5.1: per event type one file of pretty arrays appended page
/// after page, a BOM, CRLF, and the last page holding a single record.
pub fn extractor_suite(
    ds: &Dataset,
    ctx: &Ctx,
    opts: &GenerateOptions,
    dir: &str,
    out: &mut Output,
) -> Result<(), GenerateError> {
    let collected = window_end(opts) + US_PER_HOUR;
    let stamp = timefmt::compact(collected);
    let run_dir = format!("{dir}/{}-{}-SignInLogs", &stamp[..8], &stamp[8..]);
    let mut buf = String::with_capacity(1 << 16);
    for (kind, _) in TYPES {
        let records = newest_first(ds, |e| e.sign_in_type == kind);
        let Some((last, rest)) = records.split_last() else {
            continue;
        };
        let name = event_type_name(kind);
        let mut sink = out.create(&format!("{run_dir}/{name}/{stamp}-{name}-SignInLogs.json"))?;
        sink.write(UTF8_BOM)?;
        for page in rest.chunks(page_size(rest.len().max(1))) {
            ps_page(ctx, page, &mut sink, &mut buf)?;
        }
        ps_page(ctx, &[*last], &mut sink, &mut buf)?;
        sink.finish()?;
    }
    Ok(())
}

/// JSON Lines, oldest first: CISA Goose's per-day interactive files
/// (Python `json.dumps`: spaced separators, non-ASCII escaped) and the
/// compact SOF-ELK files for the other logs.
pub fn jsonl(ds: &Dataset, ctx: &Ctx, dir: &str, out: &mut Output) -> Result<(), GenerateError> {
    let mut buf = String::with_capacity(8192);
    let mut current: Option<(String, Sink)> = None;
    for e in ds
        .events
        .iter()
        .filter(|e| e.sign_in_type == SignInType::Interactive)
    {
        let day = timefmt::ymd(e.time_us);
        if current.as_ref().map(|(d, _)| d != &day).unwrap_or(true) {
            if let Some((_, sink)) = current.take() {
                sink.finish()?;
            }
            let sink = out.create(&format!(
                "{dir}/goose/azuread/interactive/interactive_signin_log_{day}.json"
            ))?;
            current = Some((day, sink));
        }
        if let Some((_, sink)) = current.as_mut() {
            buf.clear();
            json::write(
                &shape::sign_in_object(ctx, e, Flavor::Graph),
                Style::Python,
                &mut buf,
            );
            buf.push('\n');
            sink.write(buf.as_bytes())?;
        }
    }
    if let Some((_, sink)) = current.take() {
        sink.finish()?;
    }
    for (kind, _) in &TYPES[1..] {
        let name = event_type_name(*kind);
        let mut sink = out.create(&format!("{dir}/sof-elk/SignInLogs-{name}.jsonl"))?;
        for e in ds.events.iter().filter(|e| e.sign_in_type == *kind) {
            buf.clear();
            json::write(
                &shape::sign_in_object(ctx, e, Flavor::Graph),
                Style::Compact,
                &mut buf,
            );
            buf.push('\n');
            sink.write(buf.as_bytes())?;
        }
        sink.finish()?;
    }
    Ok(())
}
