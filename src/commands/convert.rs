//! `entrasift convert`: the normalized table as CSV, Parquet or JSON Lines,
//! or as a day-partitioned Parquet dataset.

use super::{check_out_path, load_enriched, Loaded, Outcome};
use crate::cli::{ConvertArgs, Partitioning, TableFormat};
use crate::report::{dataset, table, write::write_atomic};
use anyhow::Context;

pub fn run(args: &ConvertArgs, quiet: bool) -> anyhow::Result<Outcome> {
    // Refused before reading anything: a partitioned CSV would need its
    // own header and quoting rules per file, and nothing asks for it.
    if args.partition_by.is_some() && args.to != TableFormat::Parquet {
        anyhow::bail!("--partition-by writes a Parquet dataset: use it with --to parquet");
    }
    check_out_path(&args.out, &args.input.inputs)?;
    if args.partition_by.is_some() && args.out.is_file() {
        anyhow::bail!(
            "--out {} is a file; --partition-by needs a dataset folder",
            args.out.display()
        );
    }
    let (loaded, _) = load_enriched(&args.input.inputs, &args.enrich, false, quiet)?;
    let (records, paths) = (&loaded.records, &loaded.paths);
    let summary = match (args.to, args.partition_by) {
        (TableFormat::Parquet, Some(Partitioning::Day)) => {
            let done = dataset::append_by_day(&args.out, records, paths)
                .with_context(|| format!("adding to the dataset {}", args.out.display()))?;
            format!(
                "{} sign-in(s) in {} day partition(s) of {}: {} new file(s), {} already there",
                records.len(),
                done.days,
                args.out.display(),
                done.written.len(),
                done.present
            )
        }
        (to, _) => {
            write_file(args, to, &loaded)
                .with_context(|| format!("writing {}", args.out.display()))?;
            format!(
                "wrote {} sign-in(s) to {}",
                records.len(),
                args.out.display()
            )
        }
    };
    if !quiet {
        eprintln!(
            "{summary} ({} duplicate(s) dropped, {} row(s) rejected)",
            loaded.duplicates(),
            loaded.rejected()
        );
        for w in loaded.warnings() {
            eprintln!("{w}");
        }
    }
    Ok(if loaded.partial() {
        Outcome::Partial
    } else {
        Outcome::Clean
    })
}

fn write_file(args: &ConvertArgs, to: TableFormat, loaded: &Loaded) -> anyhow::Result<()> {
    let (records, paths) = (&loaded.records, &loaded.paths);
    match to {
        TableFormat::Csv => {
            write_atomic(&args.out, |w| table::write_csv(w, records, paths, args.bom))?
        }
        TableFormat::Jsonl => write_atomic(&args.out, |w| table::write_jsonl(w, records, paths))?,
        TableFormat::Parquet => write_atomic(&args.out, |w| {
            table::write_parquet(w, records, paths).map_err(std::io::Error::other)
        })?,
    }
    Ok(())
}
