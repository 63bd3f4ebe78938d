//! The normalized table as a hive-partitioned Parquet dataset, one folder
//! per UTC day (`DIR/date=YYYY-MM-DD/signins-<hash>.parquet`), for engines
//! that scale past one machine (Spark, Databricks, Trino, DuckDB).
//!
//! The dataset only ever grows: each run adds files and never rewrites one.
//! A file is named after a SHA-256 of the sign-ins it holds, so converting
//! the same export again (from any path) finds its files already there and
//! adds nothing, while a different export adds new files. Rows that two
//! overlapping exports share end up in both files; the SQL of
//! `detections --sql` removes them the way `normalize` does.

use std::io;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::table::{content_cells, write_parquet};
use super::write::write_atomic;
use crate::model::SignIn;

const DAY_US: i64 = 86_400_000_000;

/// Name of the hive partition column (a folder level, not a Parquet column).
pub const PARTITION_COLUMN: &str = "date";

/// What one run did to the dataset.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Appended {
    /// Day partitions the input touched.
    pub days: usize,
    /// Files written by this run.
    pub written: Vec<PathBuf>,
    /// Files skipped because the dataset already held the same sign-ins.
    pub present: usize,
}

/// `YYYY-MM-DD` of the UTC day holding `time_us`.
fn day_of(time_us: i64) -> String {
    let day = time_us.div_euclid(DAY_US);
    chrono::DateTime::from_timestamp(day * 86_400, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| format!("day{day}"))
}

/// SHA-256 over every cell of the sign-ins except where they were read from
/// (format, file, record number): the same sign-ins read from another copy
/// of the export hash the same. Cells are length-prefixed so no two
/// different tables can feed the hasher the same bytes.
fn content_hash(records: &[SignIn]) -> String {
    let mut h = Sha256::new();
    for r in records {
        for cell in content_cells(r) {
            h.update((cell.len() as u64).to_le_bytes());
            h.update(cell.as_bytes());
        }
    }
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Adds `records` to the dataset under `dir`, one file per UTC day they
/// cover. In time order, as `normalize` leaves them, each day is one run
/// of them and is written in place; others are put in order first.
pub fn append_by_day(dir: &Path, records: &[SignIn], paths: &[String]) -> io::Result<Appended> {
    let sorted: Vec<SignIn>;
    let records = if records.is_sorted_by_key(|r| r.time_us) {
        records
    } else {
        sorted = {
            let mut v = records.to_vec();
            v.sort_by_key(|r| r.time_us);
            v
        };
        &sorted
    };
    let days: Vec<&[SignIn]> = records
        .chunk_by(|a, b| a.time_us.div_euclid(DAY_US) == b.time_us.div_euclid(DAY_US))
        .collect();
    std::fs::create_dir_all(dir)?;
    let mut done = Appended {
        days: days.len(),
        ..Appended::default()
    };
    for rows in days {
        let folder = dir.join(format!("{PARTITION_COLUMN}={}", day_of(rows[0].time_us)));
        let file = folder.join(format!("signins-{}.parquet", content_hash(rows)));
        if file.exists() {
            done.present += 1;
            continue;
        }
        std::fs::create_dir_all(&folder)?;
        write_atomic(&file, |w| {
            write_parquet(w, rows, paths).map_err(io::Error::other)
        })?;
        done.written.push(file);
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(time_us: i64, id: &str) -> SignIn {
        SignIn {
            time_us,
            request_id: id.into(),
            user_principal_name: "a@contoso.com".into(),
            ..Default::default()
        }
    }

    #[test]
    fn days_are_utc_and_cover_negative_times() {
        assert_eq!(day_of(0), "1970-01-01");
        assert_eq!(day_of(DAY_US - 1), "1970-01-01");
        assert_eq!(day_of(DAY_US), "1970-01-02");
        assert_eq!(day_of(-1), "1969-12-31");
        assert_eq!(day_of(1_709_539_200_000_000), "2024-03-04");
    }

    #[test]
    fn hash_ignores_provenance_but_not_content() {
        let a = vec![at(1, "r1"), at(2, "r2")];
        let mut moved = a.clone();
        moved[0].source_file = 3;
        moved[0].source_record = 99;
        assert_eq!(content_hash(&a), content_hash(&moved));
        let mut changed = a.clone();
        changed[1].error_code = 50126;
        assert_ne!(content_hash(&a), content_hash(&changed));
        // Cell boundaries count: "ab"+"" is not "a"+"b".
        let mut x = at(1, "ab");
        x.correlation_id = crate::model::Id::default();
        let mut y = at(1, "a");
        y.correlation_id = "b".into();
        assert_ne!(content_hash(&[x]), content_hash(&[y]));
    }

    #[test]
    fn appending_twice_adds_nothing_and_new_days_add_files() {
        let dir = tempfile::tempdir().unwrap();
        let paths = vec!["export.json".to_string()];
        let first = vec![at(10, "r1"), at(DAY_US + 10, "r2")];
        let run1 = append_by_day(dir.path(), &first, &paths).unwrap();
        assert_eq!((run1.days, run1.written.len(), run1.present), (2, 2, 0));
        let run2 = append_by_day(dir.path(), &first, &["elsewhere.json".into()]).unwrap();
        assert_eq!((run2.written.len(), run2.present), (0, 2));
        let run3 = append_by_day(dir.path(), &[at(DAY_US + 20, "r3")], &paths).unwrap();
        assert_eq!(run3.written.len(), 1);
        let day2 = dir.path().join("date=1970-01-02");
        let mut names: Vec<String> = std::fs::read_dir(&day2)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(names
            .iter()
            .all(|n| n.starts_with("signins-") && n.ends_with(".parquet")));
    }
}
