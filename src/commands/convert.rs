//! `entrasift convert`: the normalized table as CSV, Parquet or JSON Lines.

use super::{check_out_path, load_enriched, Outcome};
use crate::cli::{ConvertArgs, TableFormat};
use crate::normalize::to_dataframe;
use crate::report::{table, write::write_atomic};
use anyhow::Context;

pub fn run(args: &ConvertArgs, quiet: bool) -> anyhow::Result<Outcome> {
    check_out_path(&args.out, &args.input.inputs)?;
    let (loaded, _) = load_enriched(&args.input.inputs, &args.enrich, quiet)?;
    let (records, paths) = (&loaded.records, &loaded.paths);
    match args.to {
        TableFormat::Csv => {
            write_atomic(&args.out, |w| table::write_csv(w, records, paths, args.bom))
        }
        TableFormat::Jsonl => write_atomic(&args.out, |w| table::write_jsonl(w, records, paths)),
        TableFormat::Parquet => {
            let mut df = to_dataframe(records, paths).context("building the table")?;
            write_atomic(&args.out, |w| {
                table::write_parquet(w, &mut df).map_err(std::io::Error::other)
            })
        }
    }
    .with_context(|| format!("writing {}", args.out.display()))?;
    if !quiet {
        eprintln!(
            "wrote {} sign-in(s) to {} ({} duplicate(s) dropped, {} row(s) rejected)",
            records.len(),
            args.out.display(),
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
