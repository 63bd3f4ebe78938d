//! Realistic report inputs for the chart and HTML tests: a generated week
//! of sign-ins with planted attacks, plus log text written to break markup.

use crate::analyze::aggregate::{tables, Tables};
use crate::analyze::breakdown::breakdown;
use crate::analyze::detect::{run_all, DetectionConfig, Events};
use crate::analyze::summary::{summarize, Summary};
use crate::generate::{build_dataset, GenerateOptions};
use crate::ingest::InputReport;
use crate::model::codes::status_class;
use crate::model::{Finding, SignIn, SourceFormat};
use crate::report::data::ReportData;

pub const HOSTILE_UA: &str = "<script>alert(1)</script>";
pub const HOSTILE_UPN: &str = "a\"b'@x.com";
pub const HOSTILE_REASON: &str = "Account locked</td><td>pwned";
pub const HOSTILE_PATH: &str = "exports/<img src=x onerror=alert(1)>.json";

pub struct Sample {
    pub summary: Summary,
    pub tables: Tables,
    pub findings: Vec<Finding>,
    pub story: crate::analyze::Story,
    pub inputs: Vec<InputReport>,
    pub records: Vec<SignIn>,
}

impl Sample {
    pub fn data(&self) -> ReportData<'_> {
        ReportData {
            summary: &self.summary,
            tables: &self.tables,
            findings: &self.findings,
            story: &self.story,
            inputs: &self.inputs,
            breakdown: breakdown(&self.records, &self.tables, &self.findings),
            baseline: None,
            tool: "entrasift 0.1.0".into(),
            zone: None,
            history: None,
            enrichment: None,
            engine: None,
        }
    }
}

pub fn sample() -> Sample {
    let ds = build_dataset(&GenerateOptions {
        records: 3000,
        ..GenerateOptions::default()
    });
    let spray_ips: Vec<String> = ds
        .scenarios
        .iter()
        .filter(|s| s.kind == "distributed_spray")
        .flat_map(|s| s.ips.clone())
        .collect();
    let mut records = ds.events;
    for r in &mut records {
        if spray_ips.iter().any(|ip| *ip == r.ip) {
            r.user_agent = HOSTILE_UA.into();
        }
    }
    let base = records.first().map_or(0, |r| r.time_us);
    // Enough failures for the quoted account to reach the top charts.
    for i in 0..40i64 {
        let code = if i % 4 == 3 { 50053 } else { 50126 };
        records.push(SignIn {
            time_us: base + 3 * 3_600_000_000 + i * 20_000_000,
            request_id: format!("hostile-{i:02}").into(),
            user_principal_name: HOSTILE_UPN.into(),
            ip: "203.0.113.77".into(),
            error_code: code,
            status: status_class(code),
            failure_reason: if code == 50053 {
                HOSTILE_REASON.into()
            } else {
                "Invalid username or password.".into()
            },
            user_agent: HOSTILE_UA.into(),
            app_name: "Office <b>365</b> Shell".into(),
            country: "ZZ".into(),
            ..Default::default()
        });
    }
    records.sort_by(|a, b| {
        a.time_us
            .cmp(&b.time_us)
            .then_with(|| a.request_id.cmp(&b.request_id))
    });
    for (i, r) in records.iter_mut().enumerate() {
        r.source_format = Some(SourceFormat::GraphJson);
        r.source_file = 0;
        r.source_record = i as u64 + 1;
    }
    let paths = vec![HOSTILE_PATH.to_string()];
    let summary = summarize(&records, 3, 1, 0);
    let tables = tables(&records);
    let cfg = DetectionConfig::default();
    let ev = Events::new(&records, &paths);
    let mut findings = run_all(&ev, &cfg);
    let presets = crate::analyze::preset_check::compare(&ev, &cfg, &findings);
    let mut story = crate::analyze::story(&mut findings, &records, &cfg);
    story.presets = Some(presets);
    let mut input = InputReport {
        path: HOSTILE_PATH.into(),
        format: Some(SourceFormat::GraphJson),
        bytes: 1_234_567,
        sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
        records_read: records.len() as u64 + 4,
        parsed: records.len() as u64 + 3,
        duplicates: 3,
        rejected: 1,
        ..Default::default()
    };
    input
        .rejected_by_reason
        .insert("no timestamp <\"x\">".into(), 1);
    Sample {
        summary,
        tables,
        findings,
        story,
        inputs: vec![input],
        records,
    }
}
