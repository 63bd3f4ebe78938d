//! Reader and detection throughput on generated data.
//!
//! Each reader is measured on the same generated events written in its
//! format (records/s via `Throughput::Elements`); the detection pass on the
//! de-duplicated set.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use entrasift::analyze::detect::{run_all, DetectionConfig, Events};
use entrasift::commands::load;
use entrasift::generate::{build_dataset, write_dataset, GenerateOptions, OutputKind};

fn readers(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = GenerateOptions {
        records: 20_000,
        seed: 1,
        formats: vec![
            OutputKind::PortalCsv,
            OutputKind::PortalJson,
            OutputKind::GraphJsonl,
            OutputKind::AzureMonitorBlob,
            OutputKind::LogAnalyticsCsv,
            OutputKind::PurviewCsv,
        ],
        ..GenerateOptions::default()
    };
    let ds = build_dataset(&opts);
    write_dataset(&ds, &opts, dir.path()).expect("generate");
    let mut group = c.benchmark_group("ingest");
    group.sample_size(10);
    for kind in &opts.formats {
        let path = dir.path().join(kind.as_str());
        let n = load(std::slice::from_ref(&path), true).records.len() as u64;
        group.throughput(Throughput::Elements(n));
        group.bench_with_input(BenchmarkId::from_parameter(kind.as_str()), &path, |b, p| {
            b.iter(|| load(std::slice::from_ref(p), true).records.len())
        });
    }
    group.finish();

    let loaded = load(&[dir.path().join("portal-json")], true);
    let cfg = DetectionConfig::default();
    let mut group = c.benchmark_group("detect");
    group.sample_size(10);
    group.throughput(Throughput::Elements(loaded.records.len() as u64));
    group.bench_function("all_detections", |b| {
        b.iter(|| run_all(&Events::new(&loaded.records, &loaded.paths), &cfg).len())
    });
    group.finish();
}

criterion_group!(benches, readers);
criterion_main!(benches);
