//! The report's sign-in tables as standard SQL over the normalized table:
//! `detections --sql --out DIR` writes them to `DIR/tables/<table>.sql`,
//! beside the detections, and `entrasift render` reads their results back
//! into the same `tables/*.csv`, summary and report sections `analyze`
//! writes.
//!
//! Each query mirrors one computation of `analyze` and nothing else:
//! `summary` and `by_code` mirror `summary::summarize`, the `by_*` group
//! tables mirror `aggregate::tables`. They read every kept copy of a
//! sign-in (the prelude's `deduped`, `copy_rank = 1`): like `analyze`, the
//! tables count allowlisted sources too; only the detections hide them.
//!
//! Lists whose order the engines cannot agree on without a dialect
//! function (distinct error codes and ASNs, sorted as numbers) come back as
//! arrays, and `render` joins them; countries, sorted as text, are joined
//! here with `concat_ws`, which both engines apply to an array of text.

use std::fmt::Write as _;

use super::detect::sql::{self, SqlError};
use super::detect::DetectionConfig;
use crate::model::codes::LockoutCause;

/// One table's query, ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct TableSql {
    /// The table's name: `tables/<name>.csv` in a report folder.
    pub name: &'static str,
    pub text: String,
}

/// The group tables, by name and grouping key, in `Tables::named` order.
/// `skip_empty`: sign-ins without the key are left out of the table (as
/// `aggregate` leaves them out of by_ip and by_user) rather than grouped
/// under an empty key.
const GROUPS: &[(&str, Key)] = &[
    ("by_ip", Key::Column("ip", true)),
    ("by_user", Key::Column("user_principal_name", true)),
    ("by_app", Key::Column("app_name", false)),
    ("by_country", Key::Column("country", false)),
    ("by_client_app", Key::Column("client_app", false)),
    ("by_hour", Key::Hour),
    ("by_day", Key::Day),
];

/// The names of every table query, in the order they are written: the
/// summary, the error codes, then the group tables of [`GROUPS`].
pub fn table_names() -> impl Iterator<Item = &'static str> {
    ["summary", "by_code"]
        .into_iter()
        .chain(GROUPS.iter().map(|&(name, _)| name))
}

#[derive(Debug, Clone, Copy)]
enum Key {
    /// A text column, and whether empty values are left out.
    Column(&'static str, bool),
    /// `00`..`23`, the UTC hour of day.
    Hour,
    /// `YYYY-MM-DD`, the UTC day.
    Day,
}

impl Key {
    fn expr(self) -> String {
        let two = |e: &str| format!("lpad(CAST({e} AS STRING), 2, '0')");
        match self {
            Key::Column(c, _) => format!("COALESCE({c}, '')"),
            Key::Hour => two("hour(time)"),
            // Built from its parts: a DATE's text form is not the same in
            // every engine.
            Key::Day => format!(
                "concat(lpad(CAST(year(time) AS STRING), 4, '0'), '-', {}, '-', {})",
                two("month(time)"),
                two("day(time)")
            ),
        }
    }
}

/// The CTE every table reads: one copy of each sign-in, with its 50053
/// settled into the three block columns as `aggregate::Block` does.
fn rows_cte() -> String {
    let cause = sql::lockout_cause_of("failure_reason", "additional_details");
    format!(
        "SELECT d.*,\n    CASE WHEN error_code = 50053 THEN {cause} END AS lockout_cause\n  FROM deduped d WHERE copy_rank = 1"
    )
}

/// Sign-ins per status class, as columns named in `order` (the row
/// type's field order).
fn status_sums(order: [&str; 3]) -> String {
    order
        .iter()
        .map(|&n| {
            let s = match n {
                "successes" => "success",
                "failures" => "failure",
                _ => "interrupted",
            };
            format!("SUM(CASE WHEN status = '{s}' THEN 1 ELSE 0 END) AS {n}")
        })
        .collect::<Vec<_>>()
        .join(",\n  ")
}

fn distinct(col: &str) -> String {
    format!("COUNT(DISTINCT CASE WHEN {col} <> '' THEN {col} END)")
}

/// A group table's SELECT over `rows`.
fn group_select(key: Key) -> String {
    let block = |cause: LockoutCause, extra: &str| {
        format!(
            "SUM(CASE WHEN (error_code = 50053 AND lockout_cause = '{}'){extra} THEN 1 ELSE 0 END)",
            cause.as_str()
        )
    };
    let skip = match key {
        Key::Column(c, true) => format!("\nWHERE {c} <> ''"),
        _ => String::new(),
    };
    format!(
        "SELECT {key} AS key,\n  COUNT(*) AS sign_ins,\n  {sums},\n  \
         {lockouts} AS lockouts,\n  {ip_blocks} AS ip_blocks,\n  {risk} AS risk_blocks,\n  \
         {users} AS users,\n  {ips} AS ips,\n  \
         array_sort(array_agg(DISTINCT error_code) FILTER (WHERE status <> 'success')) AS codes,\n  \
         concat_ws(';', array_sort(array_agg(DISTINCT country) FILTER (WHERE country <> ''))) AS countries,\n  \
         array_sort(array_agg(DISTINCT asn) FILTER (WHERE asn IS NOT NULL)) AS asns,\n  \
         {apps} AS apps,\n  {agents} AS user_agents,\n  \
         MIN(time) AS first_seen,\n  MAX(time) AS last_seen,\n  \
         MAX(CASE WHEN status = 'success' THEN time END) AS last_success\n\
         FROM rows{skip}\nGROUP BY {key}\nORDER BY failures DESC, sign_ins DESC, key",
        key = key.expr(),
        sums = status_sums(["failures", "interrupts", "successes"]),
        lockouts = block(LockoutCause::SmartLockout, ""),
        ip_blocks = block(LockoutCause::MaliciousIp, ""),
        risk = block(
            LockoutCause::HighRiskBlock,
            " OR error_code IN (53011, 530032)"
        ),
        users = distinct("user_principal_name"),
        ips = distinct("ip"),
        apps = distinct("app_name"),
        agents = distinct("user_agent"),
    )
}

/// `summary::summarize`'s totals, one row.
fn summary_select() -> String {
    let failing = |c: &str| {
        format!("COUNT(DISTINCT CASE WHEN status = 'failure' AND {c} <> '' THEN {c} END)")
    };
    format!(
        "SELECT COUNT(*) AS records,\n  {sums},\n  \
         (SELECT COUNT(*) FROM signins) - COUNT(*) AS duplicates,\n  \
         {users} AS distinct_users,\n  {ips} AS distinct_ips,\n  \
         {fips} AS failing_ips,\n  {fusers} AS targeted_users,\n  \
         MIN(time) AS first_seen,\n  MAX(time) AS last_seen\nFROM rows",
        sums = status_sums(["successes", "failures", "interrupts"]),
        users = distinct("user_principal_name"),
        ips = distinct("ip"),
        fips = failing("ip"),
        fusers = failing("user_principal_name"),
    )
}

/// Failures by error code (`Summary::by_error_code`); `render` adds each
/// code's name, category and status class from the catalog.
fn by_code_select() -> String {
    format!(
        "SELECT error_code AS code,\n  COUNT(*) AS count,\n  {users} AS users,\n  {ips} AS ips,\n  \
         MIN(time) AS first_seen,\n  MAX(time) AS last_seen\nFROM rows\n\
         WHERE status <> 'success'\nGROUP BY error_code\nORDER BY count DESC, code",
        users = distinct("user_principal_name"),
        ips = distinct("ip"),
    )
}

/// Every table's query. They open with the detections' prelude, word for
/// word, so a runner that computes it once (scripts/spark_detections.py)
/// serves the tables from the same cache.
pub fn tables_sql(cfg: &DetectionConfig) -> Result<Vec<TableSql>, SqlError> {
    let prelude = sql::prelude_text(cfg)?;
    let mut out = Vec::new();
    for name in table_names() {
        let (select, about) = match name {
            "summary" => (
                summary_select(),
                "totals: sign-ins by status, distinct accounts and addresses, first and last \
                 sign-in; `duplicates` counts the dataset's extra copies (a dataset written by \
                 `convert` holds none of those one run dropped), and rejected and skipped rows \
                 are not in a dataset at all",
            ),
            "by_code" => (
                by_code_select(),
                "every non-success error code, most frequent first; `render` adds the \
                 catalog's name, category and status class",
            ),
            _ => {
                let key = GROUPS
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, k)| *k)
                    .unwrap_or(Key::Hour);
                (
                    group_select(key),
                    "one row per key, as tables/<name>.csv; codes and asns are arrays, \
                     sorted as numbers, which `render` joins with `;`",
                )
            }
        };
        let mut text = String::new();
        let _ = writeln!(text, "-- entrasift table `{name}`: {about}");
        text.push_str(
            "-- Reads `signins`, a table or view over entrasift's normalized schema.\n\
             -- Counts every kept copy of a sign-in, allowlisted sources included, as\n\
             -- analyze's tables do. Differences from `entrasift analyze`: 50053 causes\n\
             -- come from the failure reason and additional details only (analyze also\n\
             -- infers a cause for the audit log's reasonless 50053s from the sign-ins\n\
             -- around it).\n",
        );
        let _ = write!(
            text,
            "{prelude}\nrows AS (\n  {}\n)\n{select};\n",
            rows_cte()
        );
        out.push(TableSql { name, text });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_reads_the_shared_prelude_and_names_its_columns() {
        let all = tables_sql(&DetectionConfig::default()).unwrap();
        assert_eq!(
            all.iter().map(|t| t.name).collect::<Vec<_>>(),
            table_names().collect::<Vec<_>>()
        );
        for t in &all {
            assert!(t.text.contains(sql::PRELUDE_END), "{}", t.name);
            assert!(t.text.contains("FROM signins s"), "{}", t.name);
            assert!(!t.text.contains('\\'), "{}", t.name);
        }
        let by_ip = &all.iter().find(|t| t.name == "by_ip").unwrap().text;
        for col in [
            "key",
            "sign_ins",
            "failures",
            "interrupts",
            "successes",
            "lockouts",
            "ip_blocks",
            "risk_blocks",
            "users",
            "ips",
            "codes",
            "countries",
            "asns",
            "apps",
            "user_agents",
            "first_seen",
            "last_seen",
            "last_success",
        ] {
            assert!(by_ip.contains(&format!("AS {col}")), "by_ip lacks {col}");
        }
        assert!(by_ip.contains("WHERE ip <> ''"), "{by_ip}");
        let by_app = &all.iter().find(|t| t.name == "by_app").unwrap().text;
        assert!(!by_app.contains("WHERE app_name <> ''"), "{by_app}");
    }
}
