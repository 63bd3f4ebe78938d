//! Reading what a query engine wrote for one query: Parquet, JSON Lines or
//! CSV, each either one file or a folder of part files as Spark writes it.
//! Every row becomes column -> JSON value, so findings and tables are
//! taken apart by one set of typed readers ([`At`]) that name the file,
//! row and column of anything they cannot read.

use anyhow::{bail, Context};
use polars::prelude::{AnyValue, ParquetReader, SerReader, TimeUnit};
use serde_json::{Map, Number, Value};
use std::path::{Path, PathBuf};

use crate::model::time::parse_time;

/// One result row: column name -> value. Timestamps read from Parquet are
/// microseconds since the epoch; from text formats, as the engine wrote them.
pub type Cells = Map<String, Value>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Parquet,
    Jsonl,
    Csv,
}

/// One file of results.
pub struct Part {
    pub path: PathBuf,
    format: Format,
}

/// Part files of a Spark-style output folder ending in `ext`, sorted.
fn parts(dir: &Path, ext: &str, format: Format) -> anyhow::Result<Vec<Part>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let p = entry?.path();
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        // Spark's _SUCCESS and .crc files sit beside the parts.
        if !name.starts_with(['.', '_']) && name.ends_with(ext) {
            files.push(p);
        }
    }
    files.sort();
    Ok(files
        .into_iter()
        .map(|path| Part { path, format })
        .collect())
}

/// The files holding `stem`'s results under `dir`, if there are any:
/// `stem.parquet`, `stem.jsonl` (parts `*.json`) or `stem.csv`.
pub fn locate(dir: &Path, stem: &str) -> anyhow::Result<Option<Vec<Part>>> {
    for (ext, part_ext, format) in [
        ("parquet", ".parquet", Format::Parquet),
        ("jsonl", ".json", Format::Jsonl),
        ("csv", ".csv", Format::Csv),
    ] {
        let p = dir.join(format!("{stem}.{ext}"));
        if p.is_dir() {
            return parts(&p, part_ext, format).map(Some);
        }
        if p.is_file() {
            return Ok(Some(vec![Part { path: p, format }]));
        }
    }
    Ok(None)
}

/// Every row of one part.
pub fn read(part: &Part) -> anyhow::Result<Vec<Cells>> {
    let path = &part.path;
    match part.format {
        Format::Parquet => read_parquet(path),
        Format::Jsonl => read_jsonl(path),
        Format::Csv => read_csv(path),
    }
}

fn read_parquet(path: &Path) -> anyhow::Result<Vec<Cells>> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let df = ParquetReader::new(file)
        .finish()
        .map_err(anyhow::Error::from)
        .with_context(|| format!("reading {}", path.display()))?;
    let mut rows = vec![Cells::new(); df.height()];
    for col in df.columns() {
        let name = col.name().to_string();
        let series = col.as_materialized_series();
        for (i, row) in rows.iter_mut().enumerate() {
            let v = series.get(i).map_err(anyhow::Error::from)?;
            let v = json_of(&v).with_context(|| {
                format!(
                    "{}: column `{name}` has type {}, which results never hold",
                    path.display(),
                    series.dtype()
                )
            })?;
            row.insert(name.clone(), v);
        }
    }
    Ok(rows)
}

/// A Parquet cell as JSON: numbers, text, lists, and timestamps as epoch
/// microseconds. `None` for a type no query returns.
fn json_of(v: &AnyValue) -> Option<Value> {
    let micros = |t: i64, unit: &TimeUnit| match unit {
        TimeUnit::Nanoseconds => t.div_euclid(1000),
        TimeUnit::Microseconds => t,
        TimeUnit::Milliseconds => t * 1000,
    };
    Some(match v {
        AnyValue::Null => Value::Null,
        AnyValue::Boolean(b) => Value::Bool(*b),
        AnyValue::String(s) => Value::String((*s).to_string()),
        AnyValue::StringOwned(s) => Value::String(s.to_string()),
        AnyValue::Int8(n) => Value::from(*n),
        AnyValue::Int16(n) => Value::from(*n),
        AnyValue::Int32(n) => Value::from(*n),
        AnyValue::Int64(n) => Value::from(*n),
        AnyValue::UInt8(n) => Value::from(*n),
        AnyValue::UInt16(n) => Value::from(*n),
        AnyValue::UInt32(n) => Value::from(*n),
        AnyValue::UInt64(n) => Value::from(*n),
        // DuckDB writes the sum of whole numbers (a 128-bit integer) to
        // Parquet as a double.
        AnyValue::Float32(f) => Number::from_f64(f64::from(*f)).map_or(Value::Null, Value::Number),
        AnyValue::Float64(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
        AnyValue::Datetime(t, unit, _) => Value::from(micros(*t, unit)),
        AnyValue::DatetimeOwned(t, unit, _) => Value::from(micros(*t, unit)),
        AnyValue::List(s) => {
            let mut items = Vec::with_capacity(s.len());
            for i in 0..s.len() {
                items.push(json_of(&s.get(i).ok()?)?);
            }
            Value::Array(items)
        }
        _ => return None,
    })
}

fn read_jsonl(path: &Path) -> anyhow::Result<Vec<Cells>> {
    let body =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut rows = Vec::new();
    for (n, line) in body.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(line)
            .with_context(|| format!("{} line {}", path.display(), n + 1))?
        {
            Value::Object(m) => rows.push(m),
            _ => bail!("{} line {}: not a JSON object", path.display(), n + 1),
        }
    }
    Ok(rows)
}

/// CSV with a header row; every cell is text (an empty cell is NULL, as
/// both engines write NULL).
fn read_csv(path: &Path) -> anyhow::Result<Vec<Cells>> {
    let mut rdr = csv::ReaderBuilder::new()
        .from_path(path)
        .with_context(|| format!("opening {}", path.display()))?;
    let header: Vec<String> = rdr
        .headers()
        .with_context(|| format!("{}: header", path.display()))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut rows = Vec::new();
    for (n, rec) in rdr.records().enumerate() {
        let rec = rec.with_context(|| format!("{} row {}", path.display(), n + 1))?;
        let row = header
            .iter()
            .zip(rec.iter())
            .map(|(k, v)| {
                let v = if v.is_empty() {
                    Value::Null
                } else {
                    Value::String(v.to_string())
                };
                (k.clone(), v)
            })
            .collect();
        rows.push(row);
    }
    Ok(rows)
}

/// One row of one file, read column by column; every error names the
/// file, the row (counted from 1, as `render` reports them) and the column.
pub struct At<'a> {
    pub file: &'a Path,
    pub row: usize,
    pub cells: &'a Cells,
}

impl At<'_> {
    pub fn place(&self) -> String {
        format!("{} row {}", self.file.display(), self.row + 1)
    }

    fn get(&self, col: &str) -> anyhow::Result<&Value> {
        self.cells
            .get(col)
            .with_context(|| format!("{}: no column `{col}`", self.place()))
    }

    fn bad(&self, col: &str, what: &str, v: &Value) -> anyhow::Error {
        let mut shown = v.to_string();
        if shown.len() > 80 {
            let mut end = 80;
            while !shown.is_char_boundary(end) {
                end -= 1;
            }
            shown.truncate(end);
            shown.push('…');
        }
        anyhow::anyhow!(
            "{}: column `{col}` is not {what}: {}",
            self.place(),
            crate::report::escape::safe(&shown)
        )
    }

    /// Text; NULL is empty.
    pub fn text(&self, col: &str) -> anyhow::Result<String> {
        match self.get(col)? {
            Value::Null => Ok(String::new()),
            Value::String(s) => Ok(s.clone()),
            v @ (Value::Number(_) | Value::Bool(_)) => Ok(v.to_string()),
            v => Err(self.bad(col, "text", v)),
        }
    }

    /// A whole number; NULL is 0 (a count over nothing).
    pub fn int(&self, col: &str) -> anyhow::Result<i64> {
        let v = self.get(col)?;
        int_of(v).ok_or_else(|| self.bad(col, "a whole number", v))
    }

    /// A time as epoch microseconds: a number (microseconds) or a text
    /// time; `None` for NULL.
    pub fn time(&self, col: &str) -> anyhow::Result<Option<i64>> {
        match self.get(col)? {
            Value::Null => Ok(None),
            Value::Number(n) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| self.bad(col, "a time", &Value::Number(n.clone()))),
            Value::String(s) => parse_time(s)
                .map(Some)
                .ok_or_else(|| self.bad(col, "a time", &Value::String(s.clone()))),
            v => Err(self.bad(col, "a time", v)),
        }
    }

    /// A list: a JSON array, or in a CSV cell the JSON text of one
    /// (`to_json` in either engine) or DuckDB's own list text. NULL items
    /// are left out; NULL is the empty list.
    pub fn list(&self, col: &str) -> anyhow::Result<Vec<Value>> {
        let v = self.get(col)?;
        let items = match v {
            Value::Null => Vec::new(),
            Value::Array(a) => a.clone(),
            Value::String(s) => list_text(s).ok_or_else(|| {
                self.bad(
                    col,
                    "a list (write lists to CSV as JSON, e.g. with to_json, or use Parquet)",
                    v,
                )
            })?,
            _ => return Err(self.bad(col, "a list", v)),
        };
        Ok(items.into_iter().filter(|x| !x.is_null()).collect())
    }

    pub fn texts(&self, col: &str) -> anyhow::Result<Vec<String>> {
        self.list(col)?
            .iter()
            .map(|x| match x {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                other => Err(self.bad(col, "a list of text", other)),
            })
            .collect()
    }

    pub fn ints(&self, col: &str) -> anyhow::Result<Vec<i64>> {
        self.list(col)?
            .iter()
            .map(|x| int_of(x).ok_or_else(|| self.bad(col, "a list of whole numbers", x)))
            .collect()
    }
}

fn int_of(v: &Value) -> Option<i64> {
    match v {
        Value::Null => Some(0),
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A list written as text: JSON (`["a","b"]`, `[1,2]`) or DuckDB's cast of
/// a list to text (`[a, 'b, c', NULL]`: items that hold a separator,
/// bracket, quote or edge space are single-quoted, with `\'` and `\\`).
fn list_text(s: &str) -> Option<Vec<Value>> {
    let t = s.trim();
    if let Ok(Value::Array(a)) = serde_json::from_str::<Value>(t) {
        return Some(a);
    }
    let inner = t.strip_prefix('[')?.strip_suffix(']')?;
    let mut items = Vec::new();
    let mut chars = inner.chars().peekable();
    if inner.is_empty() {
        return Some(items);
    }
    loop {
        let item = if chars.peek() == Some(&'\'') {
            chars.next();
            let mut text = String::new();
            loop {
                match chars.next()? {
                    '\\' => text.push(chars.next()?),
                    '\'' => break,
                    c => text.push(c),
                }
            }
            Value::String(text)
        } else {
            let mut text = String::new();
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                text.push(c);
                chars.next();
            }
            match text.as_str() {
                "NULL" => Value::Null,
                _ => match text.parse::<i64>() {
                    Ok(n) => Value::from(n),
                    Err(_) => Value::String(text),
                },
            }
        };
        items.push(item);
        match chars.next() {
            None => return Some(items),
            Some(',') => {
                // DuckDB separates items with ", ".
                if chars.next() != Some(' ') {
                    return None;
                }
            }
            Some(_) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_text_reads_json_and_duckdb_lists() {
        assert_eq!(
            list_text(r#"["a,b","c"]"#).unwrap(),
            vec![Value::from("a,b"), Value::from("c")]
        );
        assert_eq!(
            list_text(r"['a,b', c, 'it\'s', 'x]y', '', NULL]").unwrap(),
            vec![
                Value::from("a,b"),
                Value::from("c"),
                Value::from("it's"),
                Value::from("x]y"),
                Value::from(""),
                Value::Null
            ]
        );
        assert_eq!(
            list_text("[50126, 50053]").unwrap(),
            vec![Value::from(50126), Value::from(50053)]
        );
        assert_eq!(list_text("[]").unwrap(), Vec::<Value>::new());
        for bad in ["a;b", "['open", "[a,b]"] {
            assert!(list_text(bad).is_none(), "{bad}");
        }
    }
}
