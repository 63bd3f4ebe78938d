//! Azure Monitor diagnostic-setting output: hourly `PT1H.json` blobs in
//! per-category containers (JSON Lines) and Event Hub `{"records":[…]}`
//! messages.

use std::collections::BTreeMap;

use crate::model::{SignIn, SignInType};

use super::super::json::{self, Style, J};
use super::super::rng::hash_salted;
use super::super::shape::{self, Ctx, Flavor};
use super::super::timefmt::{self, US_PER_HOUR};
use super::super::{Dataset, GenerateError};
use super::Output;

pub fn category(kind: SignInType) -> &'static str {
    match kind {
        SignInType::Interactive => "SignInLogs",
        SignInType::NonInteractive => "NonInteractiveUserSignInLogs",
        SignInType::ServicePrincipal => "ServicePrincipalSignInLogs",
        SignInType::ManagedIdentity => "ManagedIdentitySignInLogs",
    }
}

/// The envelope's `time`: mostly Graph's spelling, sometimes one of the
/// variants pipelines produce; always the same second as the sign-in.
fn envelope_time(e: &SignIn) -> String {
    let tick = shape::tick(e);
    match hash_salted(&e.request_id, 31) % 20 {
        0..=13 => timefmt::iso_z7(e.time_us, tick),
        14 | 15 => timefmt::iso_offset(e.time_us, tick),
        16 | 17 => timefmt::us_datetime(e.time_us),
        18 => timefmt::iso_z_sec(e.time_us),
        _ => timefmt::iso_z9(e.time_us, tick),
    }
}

/// How an envelope is spelled; real captures mix these.
#[derive(Clone, Copy)]
struct Dialect {
    /// `{ "key": value, … }` around compact properties (Event Hub captures).
    spaced: bool,
    /// `Level` and `durationMs` as strings.
    strings: bool,
}

fn write_record(ctx: &Ctx, e: &SignIn, d: Dialect, buf: &mut String) {
    let resource = format!("/tenants/{}/providers/Microsoft.aadiam", ctx.tenant_id);
    let mut env: Vec<(&'static str, J<'_>)> = vec![
        ("time", J::own(envelope_time(e))),
        ("resourceId", J::own(resource)),
        ("operationName", J::s("Sign-in activity")),
        ("operationVersion", J::s("1.0")),
        ("category", J::s(category(e.sign_in_type))),
        ("tenantId", J::s(&ctx.tenant_id)),
        ("resultType", J::own(e.error_code.to_string())),
        ("resultSignature", J::s("None")),
    ];
    if e.error_code != 0 {
        env.push(("resultDescription", J::s(&e.failure_reason)));
    }
    env.push(("durationMs", if d.strings { J::s("0") } else { J::Int(0) }));
    if e.sign_in_type != SignInType::ManagedIdentity {
        env.push(("callerIpAddress", J::s(&e.ip)));
    }
    env.push(("correlationId", J::s(&e.correlation_id)));
    if shape::is_user(e) {
        env.push(("identity", J::s(&e.user_display_name)));
    }
    env.push(("Level", if d.strings { J::s("4") } else { J::Int(4) }));
    if e.sign_in_type != SignInType::ManagedIdentity {
        env.push(("location", J::s(&e.country)));
    }
    let (open, comma, colon, close) = if d.spaced {
        ("{ ", ", ", ": ", " }")
    } else {
        ("{", ",", ":", "}")
    };
    buf.push_str(open);
    for (k, v) in &env {
        json::write_str(k, buf, false, false);
        buf.push_str(colon);
        json::write(v, Style::Compact, buf);
        buf.push_str(comma);
    }
    buf.push_str("\"properties\"");
    buf.push_str(colon);
    json::write(
        &shape::sign_in_object(ctx, e, Flavor::AzureMonitor),
        Style::Compact,
        buf,
    );
    buf.push_str(close);
}

/// Storage-account blobs:
/// `insights-logs-<category>/tenantId=<id>/y=…/m=…/d=…/h=…/m=00/PT1H.json`.
pub fn blobs(ds: &Dataset, ctx: &Ctx, dir: &str, out: &mut Output) -> Result<(), GenerateError> {
    let mut buckets: BTreeMap<(&'static str, i64), Vec<&SignIn>> = BTreeMap::new();
    for e in &ds.events {
        let hour = e.time_us.div_euclid(US_PER_HOUR) * US_PER_HOUR;
        buckets
            .entry((category(e.sign_in_type), hour))
            .or_default()
            .push(e);
    }
    let mut buf = String::with_capacity(1 << 16);
    for ((cat, hour), records) in buckets {
        let c = timefmt::civil(hour);
        let rel = format!(
            "{dir}/insights-logs-{}/tenantId={}/y={:04}/m={:02}/d={:02}/h={:02}/m=00/PT1H.json",
            cat.to_ascii_lowercase(),
            ctx.tenant_id,
            c.year,
            c.month,
            c.day,
            c.hour
        );
        let dialect = Dialect {
            spaced: c.hour.is_multiple_of(2),
            strings: c.hour % 3 == 1,
        };
        let mut sink = out.create(&rel)?;
        for e in records {
            buf.clear();
            write_record(ctx, e, dialect, &mut buf);
            buf.push('\n');
            sink.write(buf.as_bytes())?;
        }
        sink.finish()?;
    }
    Ok(())
}

const MESSAGES_PER_FILE: usize = 8;

/// Event Hub capture: one `{"records":[…]}` message per line, 40-160
/// records of all categories per message, several messages per file.
pub fn event_hub(
    ds: &Dataset,
    ctx: &Ctx,
    dir: &str,
    out: &mut Output,
) -> Result<(), GenerateError> {
    let dialect = Dialect {
        spaced: false,
        strings: false,
    };
    let mut buf = String::with_capacity(1 << 18);
    let mut rest: &[SignIn] = &ds.events;
    let mut file_no = 0;
    while !rest.is_empty() {
        file_no += 1;
        let mut sink = out.create(&format!("{dir}/insights-logs-aadsignins-{file_no:05}.json"))?;
        for _ in 0..MESSAGES_PER_FILE {
            if rest.is_empty() {
                break;
            }
            let size = 40 + (hash_salted(&rest[0].request_id, 41) % 121) as usize;
            let (message, tail) = rest.split_at(size.min(rest.len()));
            rest = tail;
            buf.clear();
            buf.push_str("{\"records\":[");
            for (i, e) in message.iter().enumerate() {
                if i > 0 {
                    buf.push(',');
                }
                write_record(ctx, e, dialect, &mut buf);
            }
            buf.push_str("]}\n");
            sink.write(buf.as_bytes())?;
        }
        sink.finish()?;
    }
    Ok(())
}
