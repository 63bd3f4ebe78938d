//! `truth.json`: what was generated and what a correct reader must find —
//! the options, the files of each format, the planted scenarios, and the
//! normalized counts per subset of events.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::SignIn;

use super::shape::Ctx;
use super::timefmt;
use super::writers::Output;
use super::{Dataset, GenerateError, GenerateOptions, OutputKind, Scenario, Subset};

pub struct FormatFiles {
    pub kind: OutputKind,
    pub files: Vec<String>,
    pub non_sign_in_records: usize,
}

/// Counts a reader's normalized output must reproduce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Counts {
    pub records: usize,
    pub by_status: BTreeMap<&'static str, usize>,
    pub by_sign_in_type: BTreeMap<&'static str, usize>,
    pub by_error_code: BTreeMap<i64, usize>,
    /// Non-empty user principal names only.
    pub by_user: BTreeMap<String, usize>,
    /// Non-empty addresses only (managed identities have none).
    pub by_ip: BTreeMap<String, usize>,
}

/// Counts without cloning the key on every hit.
fn bump(map: &mut BTreeMap<String, usize>, key: &str) {
    match map.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            map.insert(key.to_string(), 1);
        }
    }
}

pub fn counts<'a>(events: impl IntoIterator<Item = &'a SignIn>) -> Counts {
    let mut c = Counts::default();
    for e in events {
        c.records += 1;
        *c.by_status.entry(e.status.as_str()).or_default() += 1;
        *c.by_sign_in_type
            .entry(e.sign_in_type.as_str())
            .or_default() += 1;
        *c.by_error_code.entry(e.error_code).or_default() += 1;
        if !e.user_principal_name.is_empty() {
            bump(&mut c.by_user, &e.user_principal_name);
        }
        if !e.ip.is_empty() {
            bump(&mut c.by_ip, &e.ip);
        }
    }
    c
}

#[derive(Serialize)]
struct OptionsOut<'a> {
    records: usize,
    seed: u64,
    formats: Vec<&'static str>,
    attacks: bool,
    start: String,
    start_us: i64,
    days: u32,
    end: String,
    tenant_id: &'a str,
}

#[derive(Serialize)]
struct FormatOut<'a> {
    /// Which events the format holds: `all`, `user_sign_ins` or `purview`.
    subset: &'static str,
    /// Audit records of other operations the reader must skip.
    non_sign_in_records: usize,
    files: &'a [String],
}

#[derive(Serialize)]
struct ScenarioOut<'a> {
    #[serde(flatten)]
    scenario: &'a Scenario,
    first: String,
    last: String,
}

#[derive(Serialize)]
struct Truth<'a> {
    generator: &'static str,
    options: OptionsOut<'a>,
    formats: BTreeMap<&'static str, FormatOut<'a>>,
    scenarios: Vec<ScenarioOut<'a>>,
    expected: BTreeMap<&'static str, Counts>,
    notes: &'static [&'static str],
}

const NOTES: &[&str] = &[
    "Times are UTC. Graph-shaped JSON carries 7 fraction digits (the 7th is not in the normalized microseconds), the portal CSV and Purview exports whole seconds, Log Analytics milliseconds: compare times truncated to the second.",
    "Graph-shaped JSON and the portal CSV write failureReason \"Other.\" on successes; the normalized failure_reason of a success is empty.",
    "Log Analytics exports: use CreatedDateTime, not TimeGenerated (ingestion lags by up to 150 s).",
    "Purview: IntraSystemId is the sign-in's request id and InterSystemsId its correlation id; ResultStatus is deliberately unreliable, decide from Operation and ErrorNumber.",
    "Managed-identity sign-ins have no IP address and no location (Azure Monitor writes 0.0/0.0 coordinates for them).",
    "The portal CSV has no coordinates (only \"City, State, CC\"), and the audit log has no coordinates, risk fields or failure-reason text (only LogonError): detections that need them cannot fire on those formats.",
];

pub fn write(
    ds: &Dataset,
    opts: &GenerateOptions,
    ctx: &Ctx,
    per_format: &[FormatFiles],
    out: &mut Output,
) -> Result<(), GenerateError> {
    let end = opts.start_us + i64::from(opts.days.max(1)) * timefmt::US_PER_DAY;
    let mut formats = BTreeMap::new();
    for f in per_format {
        formats.insert(
            f.kind.as_str(),
            FormatOut {
                subset: f.kind.subset().as_str(),
                non_sign_in_records: f.non_sign_in_records,
                files: &f.files,
            },
        );
    }
    let mut expected = BTreeMap::new();
    for subset in Subset::ALL {
        expected.insert(
            subset.as_str(),
            counts(ds.events.iter().filter(|e| subset.includes(e))),
        );
    }
    let truth = Truth {
        generator: concat!("entrasift generate ", env!("CARGO_PKG_VERSION")),
        options: OptionsOut {
            records: opts.records,
            seed: opts.seed,
            formats: per_format.iter().map(|f| f.kind.as_str()).collect(),
            attacks: opts.attacks,
            start: timefmt::iso_z_sec(opts.start_us),
            start_us: opts.start_us,
            days: opts.days.max(1),
            end: timefmt::iso_z_sec(end),
            tenant_id: &ctx.tenant_id,
        },
        formats,
        scenarios: ds
            .scenarios
            .iter()
            .map(|s| ScenarioOut {
                scenario: s,
                first: timefmt::iso_z_sec(s.first_us),
                last: timefmt::iso_z_sec(s.last_us),
            })
            .collect(),
        expected,
        notes: NOTES,
    };
    let mut sink = out.create("truth.json")?;
    let mut text = serde_json::to_vec_pretty(&truth).map_err(|source| GenerateError::Json {
        path: std::path::PathBuf::from("truth.json"),
        source,
    })?;
    text.push(b'\n');
    sink.write(&text)?;
    sink.finish()
}
