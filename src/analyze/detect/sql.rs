//! The detections as standard SQL over the normalized table, for data too
//! big for one machine (`entrasift detections --sql`).
//!
//! Each detection builds its own query ([`super::Detection::sql`]) from the
//! pieces here, so its SQL sits next to the Rust it mirrors:
//!
//! - a shared prelude that keeps one copy of each sign-in exactly as
//!   `normalize` does (request id + second + error code, richest format
//!   first), which makes a dataset appended from overlapping exports safe,
//!   hides allowlisted sources, and derives the two record classes every
//!   detection leans on (`password_worked`, `lockout_cause`);
//! - [`Bursts`], the sliding window of `util::bursts` in window functions
//!   only, so Spark can spread the work by key.
//!
//! The SQL is the subset Spark SQL (3.4+, ANSI mode on or off) and DuckDB
//! share: no dialect functions, intervals as `INTERVAL 'n' MINUTE`, string
//! literals without backslashes. Thresholds are substituted as literals.

use std::fmt::Write as _;

use super::{DetectionConfig, DETECTIONS};
use crate::model::codes::{self, LockoutCause};
use crate::model::net::Cidr;

#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    #[error(
        "allowlist entry `{0}` cannot be written as portable SQL (IPv6 networks need a prefix \
         that is a multiple of 16 bits with no zero group, or a single address); \
         filter those sources out of the dataset instead"
    )]
    Network(String),
}

/// One detection's query, ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectionSql {
    pub kind: &'static str,
    pub title: &'static str,
    pub text: String,
}

/// The columns every query returns, in order; one row per finding.
pub const OUTPUT_COLUMNS: &[&str] = &[
    "kind",
    "actor",
    "user_principal_name",
    "ip",
    "first_seen",
    "last_seen",
    "count",
];

/// Differences every query shares.
const COMMON_NOTES: &[&str] = &[
    "severity, title, evidence and remediation are not computed: the rows say which findings exist",
    "50053 reasons are classified after folding ASCII whitespace and collapsing up to 16 spaces in a row; analyze folds all Unicode whitespace",
];

/// The order `normalize::output_order` leaves sign-ins in: detections that
/// walk events one by one break same-time ties the same way.
pub(crate) const ORDER: &str =
    "time, request_id, error_code, user_principal_name, ip, app_id, sign_in_type";

/// A detection's query below the shared prelude: its CTEs, its final
/// SELECT, and where it cannot match the Rust engine exactly.
#[derive(Debug, Default)]
pub struct Query {
    /// Why the detection has no SQL (see [`Query::unsupported`]).
    unsupported: Option<String>,
    notes: Vec<String>,
    ctes: Vec<(String, String)>,
    select: String,
}

impl Query {
    pub(crate) fn new() -> Self {
        Query::default()
    }

    /// A detection the shared SQL subset cannot say faithfully (it walks
    /// each account's history in order, say): `detections --sql` leaves
    /// it out and says why, rather than ship a query that disagrees.
    pub(crate) fn unsupported(why: impl Into<String>) -> Self {
        Query {
            unsupported: Some(why.into()),
            ..Query::default()
        }
    }

    /// A difference from `entrasift analyze`, printed in the header.
    pub(crate) fn note(mut self, text: impl Into<String>) -> Self {
        self.notes.push(text.into());
        self
    }

    pub(crate) fn cte(mut self, name: &str, body: impl Into<String>) -> Self {
        self.ctes.push((name.to_string(), body.into()));
        self
    }

    pub(crate) fn bursts(mut self, b: &Bursts) -> Self {
        self.ctes.extend(b.ctes());
        self
    }

    /// The final SELECT returning [`OUTPUT_COLUMNS`].
    pub(crate) fn select(mut self, text: impl Into<String>) -> Self {
        self.select = text.into();
        self
    }
}

/// A string literal both engines read the same way: quotes doubled, and
/// backslashes and control characters spelt with `chr()` (Spark would
/// otherwise read `\` as an escape).
pub(crate) fn lit(s: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut plain = String::new();
    for c in s.chars() {
        if c == '\\' || c.is_control() {
            parts.push(format!("'{plain}'"));
            plain.clear();
            parts.push(format!("chr({})", u32::from(c)));
        } else if c == '\'' {
            plain.push_str("''");
        } else {
            plain.push(c);
        }
    }
    if parts.is_empty() {
        return format!("'{plain}'");
    }
    parts.push(format!("'{plain}'"));
    format!("concat({})", parts.join(", "))
}

/// `INTERVAL 'n' MINUTE`.
pub(crate) fn minutes(n: u32) -> String {
    format!("INTERVAL '{n}' MINUTE")
}

/// A float literal that keeps its value (`1.0`, not `1`).
pub(crate) fn float(v: f64) -> String {
    format!("{v:?}")
}

/// `error_code IN (...)`; an empty list means any code.
pub(crate) fn codes_in(codes: &[i64]) -> String {
    if codes.is_empty() {
        return "TRUE".into();
    }
    let list: Vec<String> = codes.iter().map(i64::to_string).collect();
    format!("error_code IN ({})", list.join(", "))
}

/// `util::is_credential_failure` over the prelude's columns.
pub(crate) fn credential_failure(codes: &[i64]) -> String {
    format!(
        "(status = 'failure' AND NOT password_worked AND {} AND (error_code <> 50053 OR lockout_cause IN ('{}', '{}')))",
        codes_in(codes),
        LockoutCause::SmartLockout.as_str(),
        LockoutCause::Undetermined.as_str()
    )
}

/// `'kind' AS kind, <actor> AS actor, <user> AS user_principal_name, <ip> AS ip`:
/// the head of every final SELECT. `None` is a typed NULL.
pub(crate) fn head(kind: &str, actor: &str, user: Option<&str>, ip: Option<&str>) -> String {
    let null = "CAST(NULL AS STRING)";
    format!(
        "{} AS kind, {actor} AS actor, {} AS user_principal_name, {} AS ip",
        lit(kind),
        user.unwrap_or(null),
        ip.unwrap_or(null)
    )
}

/// Sliding-window bursts, as `util::bursts` finds them: per key, events
/// split into clusters at gaps longer than the window; inside a cluster a
/// window ending at each event's time covers the events at most one window
/// earlier; the burst runs from the start of the first window that meets
/// `qualifies` to the end of the last one.
///
/// Distinct counts in a sliding window are not a window function in Spark,
/// so each is a sweep: an event adds 1 to its value's count from the first
/// window end where it is that value's earliest event in the window, and
/// takes it away once it falls out, and a running sum read at each event
/// time gives the count. Everything stays partitioned by the key.
pub(crate) struct Bursts<'a> {
    /// Name of the CTE written: the events of every burst, with the
    /// source's columns plus `burst_start` (one value per burst and key).
    pub(crate) name: &'a str,
    /// CTE or table holding the candidate events (needs `time` and `keys`).
    pub(crate) from: &'a str,
    /// Columns grouping the events; at least one.
    pub(crate) keys: &'a [&'a str],
    pub(crate) window_minutes: u32,
    /// Distinct counts available to `qualifies`: (name, columns counted as a tuple).
    pub(crate) distinct: &'a [(&'a str, &'a [&'a str])],
    /// Condition over `n` (events in the window) and the distinct counts.
    pub(crate) qualifies: String,
}

impl Bursts<'_> {
    fn ctes(&self) -> Vec<(String, String)> {
        let p = self.name;
        let w = minutes(self.window_minutes);
        let keys = self.keys.join(", ");
        let on = |a: &str, b: &str| -> String {
            self.keys
                .iter()
                .map(|k| format!("{a}.{k} = {b}.{k}"))
                .collect::<Vec<_>>()
                .join(" AND ")
        };
        let mut src = format!("SELECT {keys}, time");
        for (m, cols) in self.distinct {
            let _ = write!(
                src,
                ",\n    LAG(time) OVER (PARTITION BY {keys}, {} ORDER BY time) AS prev_{m}",
                cols.join(", ")
            );
        }
        let _ = write!(src, "\n  FROM {}", self.from);

        // (time, phase, delta per measure); phase 0 counts from that time
        // on, 1 is a reading, 2 takes effect just after that time.
        let measures: Vec<&str> = std::iter::once("n")
            .chain(self.distinct.iter().map(|(m, _)| *m))
            .collect();
        let row = |t: &str, phase: &str, which: usize, delta: i32| -> String {
            let deltas: Vec<String> = measures
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    let d = if i == which { delta } else { 0 };
                    format!("{d} AS d_{m}")
                })
                .collect();
            format!(
                "SELECT {keys}, {t} AS t, {phase} AS phase, {} FROM {p}_src",
                deltas.join(", ")
            )
        };
        let mut sweep = vec![
            row("time", "1", usize::MAX, 0),
            row("time", "0", 0, 1),
            row(&format!("time + {w}"), "2", 0, -1),
        ];
        for (i, (m, _)) in self.distinct.iter().enumerate() {
            // Earliest of its value in the window once the previous event
            // of the same value is more than a window behind.
            let fresh = format!("prev_{m} IS NULL OR prev_{m} < time - {w}");
            sweep.push(row(
                &format!("CASE WHEN {fresh} THEN time ELSE prev_{m} + {w} END"),
                &format!("CASE WHEN {fresh} THEN 0 ELSE 2 END"),
                i + 1,
                1,
            ));
            sweep.push(row(&format!("time + {w}"), "2", i + 1, -1));
        }

        let running: Vec<String> = measures
            .iter()
            .map(|m| {
                format!(
                    "SUM(d_{m}) OVER (PARTITION BY {keys} ORDER BY t, phase \
                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS {m}"
                )
            })
            .collect();
        vec![
            (format!("{p}_src"), src),
            (format!("{p}_sweep"), sweep.join("\n  UNION ALL ")),
            (
                format!("{p}_win"),
                format!(
                    "SELECT DISTINCT {keys}, time, {} FROM (\n    SELECT {keys}, t AS time, phase,\n      {}\n    FROM {p}_sweep\n  ) r WHERE phase = 1",
                    measures.join(", "),
                    running.join(",\n      ")
                ),
            ),
            (
                format!("{p}_ok"),
                format!(
                    "SELECT {keys}, time, ({}) AS ok,\n    CASE WHEN LAG(time) OVER (PARTITION BY {keys} ORDER BY time) >= time - {w} THEN 0 ELSE 1 END AS new_cluster\n  FROM {p}_win",
                    self.qualifies
                ),
            ),
            (
                format!("{p}_span"),
                format!(
                    "SELECT {keys}, cluster, MIN(time) - {w} AS burst_start, MAX(time) AS burst_end\n  FROM (\n    SELECT {keys}, time, ok, SUM(new_cluster) OVER (PARTITION BY {keys} ORDER BY time ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cluster\n    FROM {p}_ok\n  ) c WHERE ok\n  GROUP BY {keys}, cluster"
                ),
            ),
            (
                p.to_string(),
                format!(
                    "SELECT e.*, s.burst_start\n  FROM {} e JOIN {p}_span s\n    ON {} AND e.time >= s.burst_start AND e.time <= s.burst_end",
                    self.from,
                    on("e", "s")
                ),
            ),
        ]
    }
}

/// `normalize_reason` in SQL: fold the dashes a smartened text uses, lower
/// case, turn ASCII whitespace into spaces and collapse runs of up to 16.
fn normalized_text(col: &str) -> String {
    let mut e = col.to_string();
    for c in [9, 10, 11, 12, 13] {
        e = format!("replace({e}, chr({c}), ' ')");
    }
    for dash in ['\u{2010}', '\u{2011}'] {
        e = format!("replace({e}, '{dash}', '-')");
    }
    e = format!("lower({e})");
    for _ in 0..4 {
        e = format!("replace({e}, '  ', ' ')");
    }
    e
}

/// `codes::classify_50053` on an already normalized text, NULL when no
/// cause matches.
fn cause_of(text: &str) -> String {
    let mut e = String::from("CASE");
    for (cause, alternatives) in codes::CAUSE_PHRASES {
        let any: Vec<String> = alternatives
            .iter()
            .map(|all| {
                let each: Vec<String> = all
                    .iter()
                    .map(|p| format!("position({} IN {text}) > 0", lit(p)))
                    .collect();
                format!("({})", each.join(" AND "))
            })
            .collect();
        let _ = write!(e, " WHEN {} THEN '{}'", any.join(" OR "), cause.as_str());
    }
    e.push_str(" END");
    e
}

/// SQL for "`ip` is in one of `entries`" (allowlist syntax).
fn in_networks(entries: &[String]) -> Result<String, SqlError> {
    let octet = |k: u8| format!("TRY_CAST(split_part(ip, '.', {k}) AS BIGINT)");
    let ipv4 = format!(
        "({} * 16777216 + {} * 65536 + {} * 256 + {})",
        octet(1),
        octet(2),
        octet(3),
        octet(4)
    );
    let mut tests = Vec::new();
    for entry in entries {
        let net = Cidr::parse(entry).map_err(|_| SqlError::Network(entry.clone()))?;
        let (v6, addr, len) = net.parts();
        if !v6 {
            let size = 1u64 << (32 - u32::from(len));
            let lo = addr as u64;
            tests.push(format!(
                "(ip NOT LIKE '%:%' AND {ipv4} BETWEEN {lo} AND {})",
                lo + size - 1
            ));
            continue;
        }
        if len == 128 {
            tests.push(format!("ip = '{}'", std::net::Ipv6Addr::from(addr)));
            continue;
        }
        // With no zero group in the prefix, the canonical text of every
        // address inside starts with the prefix groups and a colon.
        let groups: Vec<u16> = (0..len / 16)
            .map(|k| (addr >> (112 - 16 * u32::from(k))) as u16)
            .collect();
        if len % 16 != 0 || groups.contains(&0) {
            return Err(SqlError::Network(entry.clone()));
        }
        let prefix: Vec<String> = groups.iter().map(|g| format!("{g:x}")).collect();
        tests.push(if prefix.is_empty() {
            "ip LIKE '%:%'".to_string()
        } else {
            format!("ip LIKE '{}:%'", prefix.join(":"))
        });
    }
    Ok(format!("COALESCE({}, FALSE)", tests.join(" OR ")))
}

/// The shared CTEs: `deduped` (one copy per sign-in) and `ev` (visible
/// sign-ins with `password_worked` and `lockout_cause`).
fn prelude(cfg: &DetectionConfig) -> Result<Vec<(String, String)>, SqlError> {
    let richness = "CASE source_format WHEN 'graph_json' THEN 0 WHEN 'azure_monitor' THEN 1 \
                    WHEN 'log_analytics_csv' THEN 2 WHEN 'portal_csv' THEN 3 \
                    WHEN 'purview_audit' THEN 4 ELSE 255 END";
    let fallback: Vec<String> = ["user_principal_name", "ip", "app_id", "sign_in_type"]
        .iter()
        .map(|c| format!("CASE WHEN request_id = '' THEN {c} END"))
        .collect();
    let deduped = format!(
        "SELECT s.*, ROW_NUMBER() OVER (\n      PARTITION BY request_id, date_trunc('second', time), error_code,\n        {}\n      ORDER BY {richness}, source_file, source_record) AS copy_rank\n  FROM signins s",
        fallback.join(", ")
    );
    let hidden = if cfg.allowlist.is_empty() {
        String::new()
    } else {
        format!(" AND NOT {}", in_networks(cfg.allowlist.entries())?)
    };
    let proving: Vec<String> = codes::all()
        .iter()
        .filter(|c| c.proves_password && c.code != 50057)
        .map(|c| c.code.to_string())
        .collect();
    let texts = format!(
        "SELECT d.*,\n    CASE WHEN error_code = 50053 THEN {} END AS reason_text,\n    CASE WHEN error_code = 50053 THEN {} END AS details_text\n  FROM deduped d WHERE copy_rank = 1{hidden}",
        normalized_text("failure_reason"),
        normalized_text("additional_details")
    );
    let ev = format!(
        "SELECT x.*,\n    (status = 'success' OR error_code IN ({})) AS password_worked,\n    CASE WHEN error_code = 50053 THEN COALESCE({}, {}, '{}') END AS lockout_cause\n  FROM texts x",
        proving.join(", "),
        cause_of("reason_text"),
        cause_of("details_text"),
        LockoutCause::Undetermined.as_str()
    );
    Ok(vec![
        ("deduped".into(), deduped),
        ("texts".into(), texts),
        ("ev".into(), ev),
    ])
}

/// Comment text that cannot end the comment line early.
fn comment(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn render(
    kind: &str,
    title: &str,
    thresholds: &[(String, String)],
    cfg: &DetectionConfig,
    q: Query,
) -> Result<String, SqlError> {
    let mut out = String::new();
    let _ = writeln!(out, "-- entrasift detection `{kind}`: {title}");
    let _ = writeln!(
        out,
        "-- Settings in force (preset `{}`):",
        comment(&cfg.preset)
    );
    for (k, v) in thresholds {
        let _ = writeln!(out, "--   {k} = {}", comment(v));
    }
    if !cfg.allowlist.is_empty() {
        let _ = writeln!(
            out,
            "--   allowlist = {}",
            comment(&cfg.allowlist.entries().join(", "))
        );
    }
    out.push_str(
        "-- Reads `signins`, a table or view over entrasift's normalized schema, e.g. a\n\
         -- dataset written by `entrasift convert --to parquet --partition-by day`.\n\
         -- Returns one row per finding: kind, actor (as in the finding id),\n\
         -- user_principal_name, ip, first_seen, last_seen, count.\n",
    );
    out.push_str("-- Differences from `entrasift analyze`:\n");
    for n in COMMON_NOTES
        .iter()
        .copied()
        .map(String::from)
        .chain(q.notes)
    {
        let _ = writeln!(out, "--   - {}", comment(&n));
    }
    let mut ctes = prelude(cfg)?;
    ctes.extend(q.ctes);
    out.push_str("WITH\n");
    let body: Vec<String> = ctes
        .iter()
        .map(|(name, text)| format!("{name} AS (\n  {text}\n)"))
        .collect();
    out.push_str(&body.join(",\n"));
    let _ = write!(
        out,
        "\n{}\nORDER BY first_seen, actor;\n",
        q.select.trim_end()
    );
    Ok(out)
}

/// The query of every enabled detection, in registry order.
pub fn sql_all(cfg: &DetectionConfig) -> Result<Vec<DetectionSql>, SqlError> {
    DETECTIONS
        .iter()
        .filter(|d| cfg.is_enabled(d.kind()))
        .filter_map(|d| {
            let q = d.sql(cfg);
            if q.unsupported.is_some() {
                return None;
            }
            Some(
                render(d.kind(), d.title(), &d.thresholds(cfg), cfg, q).map(|text| DetectionSql {
                    kind: d.kind(),
                    title: d.title(),
                    text,
                }),
            )
        })
        .collect()
}

/// The enabled detections that have no SQL, each with why.
pub fn sql_unsupported(cfg: &DetectionConfig) -> Vec<(&'static str, String)> {
    DETECTIONS
        .iter()
        .filter(|d| cfg.is_enabled(d.kind()))
        .filter_map(|d| d.sql(cfg).unsupported.map(|why| (d.kind(), why)))
        .collect()
}

/// `MIN(time) AS first_seen, MAX(time) AS last_seen, COUNT(*) AS count`:
/// the tail of a final SELECT over one finding's events.
pub(crate) const SPAN: &str = "MIN(time) AS first_seen, MAX(time) AS last_seen, COUNT(*) AS count";

/// Threshold `min` as the Rust windows apply it (`.max(1)`).
pub(crate) fn at_least_one(min: u32) -> u32 {
    min.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_never_carry_a_backslash_or_a_lone_quote() {
        assert_eq!(lit("IMAP4"), "'IMAP4'");
        assert_eq!(lit("it's"), "'it''s'");
        assert_eq!(lit("a\\b"), "concat('a', chr(92), 'b')");
        assert_eq!(lit("x\ny"), "concat('x', chr(10), 'y')");
    }

    #[test]
    fn networks_become_ranges_or_prefixes() {
        let v4 = in_networks(&["198.51.100.0/23".into()]).unwrap();
        assert!(v4.contains("BETWEEN 3325256704 AND 3325257215"), "{v4}");
        let v6 = in_networks(&["2001:db8:1::/48".into(), "2001:db8::5".into()]).unwrap();
        assert!(v6.contains("ip LIKE '2001:db8:1:%'"), "{v6}");
        assert!(v6.contains("ip = '2001:db8::5'"), "{v6}");
        for bad in ["2001:db8::/40", "2001:0:1::/48"] {
            assert!(matches!(
                in_networks(&[bad.to_string()]),
                Err(SqlError::Network(_))
            ));
        }
    }

    #[test]
    fn every_enabled_detection_has_a_query_with_its_thresholds() {
        let mut cfg = DetectionConfig::default();
        cfg.brute_force.min_failures = 37;
        cfg.set_enabled("legacy_auth", false).unwrap();
        let all = sql_all(&cfg).unwrap();
        assert_eq!(
            all.len(),
            DETECTIONS.len() - 1 - sql_unsupported(&cfg).len()
        );
        assert!(all.iter().all(|q| q.kind != "legacy_auth"));
        for q in &all {
            assert!(q.text.contains("FROM signins s"), "{}", q.kind);
            assert!(q.text.trim_end().ends_with(';'), "{}", q.kind);
            assert!(!q.text.contains('\\'), "{}", q.kind);
            for col in OUTPUT_COLUMNS {
                assert!(
                    q.text.contains(&format!("AS {col}")),
                    "{} lacks {col}",
                    q.kind
                );
            }
        }
        let bf = all.iter().find(|q| q.kind == "brute_force").unwrap();
        assert!(bf.text.contains("n >= 37"), "{}", bf.text);
    }
}
