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
/// `id` is not among them: it is an FNV-1a hash of `kind|actor|first_seen`
/// (in epoch microseconds), which no function both engines share can
/// compute; `entrasift render` derives it from these columns.
pub const OUTPUT_COLUMNS: &[&str] = &[
    "kind",
    "actor",
    "severity",
    "title",
    "first_seen",
    "last_seen",
    "count",
    "users",
    "ips",
    "facts",
    "evidence",
    "techniques",
    "user_principal_name",
    "ip",
];

/// The line after the shared CTEs (`deduped`, `texts`, `ev`) in every query.
pub const PRELUDE_END: &str =
    "-- entrasift: end of the shared prelude (deduped, texts, ev), the same in every query";

/// Analyze's cap on a finding's evidence samples (`util::MAX_SAMPLES`).
const MAX_SAMPLES: u32 = 5;

/// Differences every query shares.
const COMMON_NOTES: &[&str] = &[
    "id is not a column: it is FNV-1a 64 of `kind|actor|<first_seen in epoch microseconds>`, which neither engine can hash portably; `entrasift render` computes it",
    "remediation is not computed, and facts carry the figures only: list-valued facts (apps, countries, user agents) are left out, except succeeded_users, which the account verdicts read",
    "users and ips are NULL rather than an empty array on DuckDB when a finding has none",
    "control characters in the text of facts and evidence are replaced by U+FFFD",
    "the durations in titles count whole seconds of each timestamp; analyze counts the microseconds, so a title may say one second more or less",
    "50053 reasons are classified after folding ASCII whitespace and collapsing up to 16 spaces in a row; analyze folds all Unicode whitespace",
];

/// Columns of a finding member (a sign-in it counts or highlights) that
/// the shared tail reads; every `events`/`highlights` query returns them
/// after `actor` and `found_first`.
const MEMBER_COLUMNS: &[&str] = &[
    "time",
    "request_id",
    "error_code",
    "user_principal_name",
    "ip",
    "app_id",
    "sign_in_type",
    "source_file",
    "source_record",
    "status",
    "client_app",
    "app_name",
    "country",
];

/// The earliest row (in sign-in order) of `rows` per finding and per
/// `extra` partition columns (`""` for none): `rows` returns `actor`,
/// `found_first` and the member columns.
pub(crate) fn first_per(rows: &str, extra: &str) -> String {
    let cols = MEMBER_COLUMNS.join(", ");
    let by = if extra.is_empty() {
        String::new()
    } else {
        format!(", {extra}")
    };
    format!(
        "SELECT actor, found_first, {cols} FROM (\n    \
         SELECT w.*, ROW_NUMBER() OVER (PARTITION BY actor, found_first{by} ORDER BY {ORDER}, source_file, source_record) AS nth\n    \
         FROM (\n      {rows}\n    ) w\n  ) x WHERE nth = 1"
    )
}

/// `t.time, t.request_id, ...`: the columns of [`ORDER`] of rows `t`,
/// which name one kept sign-in: the prelude keeps one per request id,
/// second and code, or per those and the account, address, app and type
/// when there is no request id.
pub(crate) fn sign_in_id(t: &str) -> Vec<String> {
    ORDER.split(", ").map(|col| format!("{t}.{col}")).collect()
}

/// `time, request_id, ...`: the member columns, unqualified.
pub(crate) fn member_cols_bare() -> String {
    MEMBER_COLUMNS.join(", ")
}

/// `e.time, e.request_id, ...`: the member columns of `ev`-shaped rows
/// aliased `alias`.
pub(crate) fn member_cols(alias: &str) -> String {
    MEMBER_COLUMNS
        .iter()
        .map(|c| format!("{alias}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The order `normalize::output_order` leaves sign-ins in: detections that
/// walk events one by one break same-time ties the same way.
pub(crate) const ORDER: &str =
    "time, request_id, error_code, user_principal_name, ip, app_id, sign_in_type";

/// A detection's query below the shared prelude: its CTEs, its final
/// SELECT, and where it cannot match the Rust engine exactly.
#[derive(Debug, Default)]
pub struct Query {
    notes: Vec<String>,
    ctes: Vec<(String, String)>,
    select: String,
    events: String,
    highlights: String,
    severity: String,
    title: String,
    facts: Vec<(String, String)>,
    aggregates: Vec<(String, String)>,
    member_ctes: Vec<(String, String)>,
    joins: Vec<String>,
}

impl Query {
    pub(crate) fn new() -> Self {
        Query::default()
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

    /// The sliding windows of `b` without its bursts (`<name>_win`, see
    /// [`Bursts`]; `qualifies` is not read): a peak count over them.
    pub(crate) fn windows(mut self, b: &Bursts) -> Self {
        self.ctes.extend(b.windows());
        self
    }

    /// The SELECT naming the findings, one row each: `kind, actor,
    /// user_principal_name, ip, first_seen, last_seen, count` (see
    /// [`head`], [`SPAN`]). It becomes the CTE `found`.
    pub(crate) fn select(mut self, text: impl Into<String>) -> Self {
        self.select = text.into();
        self
    }

    /// One finding per `actor` of the rows of `from` (a CTE with `actor`
    /// and the member columns), counting them all: its [`Query::select`]
    /// and [`Query::events`]. `user` and `ip` are the finding's key
    /// columns, aggregates over those rows ([`head`]).
    pub(crate) fn per_actor(
        self,
        kind: &str,
        from: &str,
        user: Option<&str>,
        ip: Option<&str>,
    ) -> Self {
        self.select(format!(
            "SELECT {}, {SPAN}\nFROM {from}\nGROUP BY actor",
            head(kind, "actor", user, ip)
        ))
        .events(format!(
            "SELECT f.actor, f.first_seen AS found_first, {}\n    \
             FROM found f JOIN {from} r ON r.actor = f.actor",
            member_cols("r")
        ))
    }

    /// A CTE placed after `found`, for the events and highlights queries
    /// to share.
    pub(crate) fn member_cte(mut self, name: &str, body: impl Into<String>) -> Self {
        self.member_ctes.push((name.to_string(), body.into()));
        self
    }

    /// A `LEFT JOIN <cte> x ON ...` of the final SELECT, for a figure that
    /// is not an aggregate of the members (aliases other than `f`, `a`).
    pub(crate) fn join(mut self, text: impl Into<String>) -> Self {
        self.joins.push(text.into());
        self
    }

    /// The figures [`few_values`] reads for member column `col`.
    pub(crate) fn few(self, col: &str) -> Self {
        let v = format!("CASE WHEN m.role = 0 AND m.{col} <> '' THEN m.{col} END");
        self.aggregate(&format!("n_{col}"), format!("COUNT(DISTINCT {v})"))
            .aggregate(&format!("min_{col}"), format!("MIN({v})"))
            .aggregate(&format!("max_{col}"), format!("MAX({v})"))
    }

    /// The sign-ins each finding counts (`Draft::events`): rows of `actor`,
    /// `found_first` (the `found` row's `first_seen`) and the member
    /// columns ([`member_cols`]), usually `found f` joined to `ev`.
    pub(crate) fn events(mut self, text: impl Into<String>) -> Self {
        self.events = text.into();
        self
    }

    /// The sign-ins a finding shows without counting them
    /// (`Draft::highlights`), same columns as [`Query::events`].
    pub(crate) fn highlights(mut self, text: impl Into<String>) -> Self {
        self.highlights = text.into();
        self
    }

    /// The severity, an expression over the finding's figures (see
    /// [`Figures`]) giving one of `info`..`critical`.
    pub(crate) fn severity(mut self, expr: impl Into<String>) -> Self {
        self.severity = expr.into();
        self
    }

    /// The title, a text expression over the finding's figures.
    pub(crate) fn title(mut self, expr: impl Into<String>) -> Self {
        self.title = expr.into();
        self
    }

    /// The fact `succeeded_users` ([`super::util::succeeded_users`]): a
    /// JSON list of the accounts among the counted sign-ins that
    /// succeeded. Each name is escaped as a JSON string before the engine
    /// gathers them, and `concat_ws` joins the array, which both engines
    /// allow; the names are sorted as escaped, so only a name holding a
    /// quote, a backslash or a control character can sort otherwise than
    /// in analyze.
    pub(crate) fn succeeded_users(self) -> Self {
        let ok = "m.role = 0 AND m.status = 'success' AND m.user_principal_name <> ''";
        self.aggregate(
            "succeeded_users",
            format!(
                "array_sort(array_agg(DISTINCT {}) FILTER (WHERE {ok}))",
                json_str("m.user_principal_name")
            ),
        )
        .fact(
            "succeeded_users",
            "concat('[', COALESCE(concat_ws(',', a.succeeded_users), ''), ']')",
        )
    }

    /// A fact after `distinct_users` and `distinct_ips`: `key` and an
    /// expression giving its JSON text (see [`json_str`], [`json_num`],
    /// [`json_bool`]).
    pub(crate) fn fact(mut self, key: &str, json: impl Into<String>) -> Self {
        self.facts.push((key.to_string(), json.into()));
        self
    }

    /// The facts `baseline_hours` and `baseline` (`Events::baseline_text`
    /// without a history): whole hours from the run's start `start` to
    /// the finding's judged sign-in at `time`.
    pub(crate) fn baseline_facts(self, start: &str, time: &str) -> Self {
        let hours = whole_hours(start, time);
        let text = format!("concat({}, ' h of this data')", text_num(&hours));
        self.fact("baseline_hours", json_num(&hours))
            .fact("baseline", json_str(&text))
    }

    /// One more figure, an aggregate over the finding's members `m`
    /// (with `role` 0 for a counted sign-in, 1 for a highlight), readable
    /// as `a.<name>` in the severity, title and facts.
    pub(crate) fn aggregate(mut self, name: &str, expr: impl Into<String>) -> Self {
        self.aggregates.push((name.to_string(), expr.into()));
        self
    }
}

/// The figures every severity, title and fact expression may read:
/// `f.*` (the `found` row: actor, user_principal_name, ip, count) and
/// `a.*`: `first_seen`, `last_seen` (over counted and highlighted
/// sign-ins, as analyze spans them), `n_users`, `n_ips` (distinct
/// non-empty), `lockouts` (counted 50053s), `n_highlights`,
/// `highlight_users` (distinct accounts among the highlights),
/// `first_highlight_ip`, `first_highlight_user`, `ev_users`, `ev_ips` (as `n_users`, `n_ips` over
/// the counted sign-ins only) and each [`Query::aggregate`]; and
/// `f.span_s`, whole seconds from the `found` row's first to last sign-in.
pub(crate) struct Figures;

impl Figures {
    const BUILTIN: &'static [(&'static str, &'static str)] = &[
        ("first_seen", "MIN(m.time)"),
        ("last_seen", "MAX(m.time)"),
        (
            "users",
            "array_sort(array_agg(DISTINCT m.user_principal_name) FILTER (WHERE m.user_principal_name <> ''))",
        ),
        (
            "ips",
            "array_sort(array_agg(DISTINCT m.ip) FILTER (WHERE m.ip <> ''))",
        ),
        (
            "n_users",
            "COUNT(DISTINCT CASE WHEN m.user_principal_name <> '' THEN m.user_principal_name END)",
        ),
        (
            "n_ips",
            "COUNT(DISTINCT CASE WHEN m.ip <> '' THEN m.ip END)",
        ),
        (
            "lockouts",
            "SUM(CASE WHEN m.role = 0 AND m.error_code = 50053 THEN 1 ELSE 0 END)",
        ),
        (
            "ev_users",
            "COUNT(DISTINCT CASE WHEN m.role = 0 AND m.user_principal_name <> '' THEN m.user_principal_name END)",
        ),
        (
            "one_user",
            "MIN(CASE WHEN m.role = 0 AND m.user_principal_name <> '' THEN m.user_principal_name END)",
        ),
        (
            "ev_ips",
            "COUNT(DISTINCT CASE WHEN m.role = 0 AND m.ip <> '' THEN m.ip END)",
        ),
        ("n_highlights", "SUM(m.role)"),
        (
            "highlight_users",
            "COUNT(DISTINCT CASE WHEN m.role = 1 AND m.user_principal_name <> '' THEN m.user_principal_name END)",
        ),
        (
            "first_highlight_ip",
            "MAX(CASE WHEN m.role = 1 AND m.pos = 1 THEN m.ip END)",
        ),
        (
            "first_highlight_user",
            "MAX(CASE WHEN m.role = 1 AND m.pos = 1 THEN m.user_principal_name END)",
        ),
    ];
}

/// A text as a JSON string, `null` for NULL: backslash and quote escaped,
/// and control characters replaced by U+FFFD. Escaping each of the 32 as
/// `\u00XX` takes a replace() per character, and Spark's analyzer gives up
/// on expressions nested that deep; `translate` maps them all in one call.
pub(crate) fn json_str(expr: &str) -> String {
    let controls: Vec<String> = (0u32..32).map(|c| format!("chr({c})")).collect();
    let marks: Vec<&str> = (0..32).map(|_| "chr(65533)").collect();
    let clean = format!(
        "translate({expr}, concat({}), concat({}))",
        controls.join(", "),
        marks.join(", ")
    );
    let e = format!(
        "replace(replace({clean}, chr(92), concat(chr(92), chr(92))), '\"', concat(chr(92), '\"'))"
    );
    format!("CASE WHEN {expr} IS NULL THEN 'null' ELSE concat('\"', {e}, '\"') END")
}

/// A number as JSON text, `null` for NULL.
pub(crate) fn json_num(expr: &str) -> String {
    format!("COALESCE(CAST({expr} AS STRING), 'null')")
}

/// A condition as JSON `true`/`false`.
pub(crate) fn json_bool(cond: &str) -> String {
    format!("CASE WHEN {cond} THEN 'true' ELSE 'false' END")
}

/// A whole number as text.
pub(crate) fn text_num(expr: &str) -> String {
    format!("CAST({expr} AS STRING)")
}

/// `s` unless `expr` is 1 (`util::plural`).
pub(crate) fn plural(expr: &str) -> String {
    format!("CASE WHEN {expr} = 1 THEN '' ELSE 's' END")
}

/// `util::accounts_text` over the finding's counted accounts.
pub(crate) fn accounts_text() -> String {
    format!(
        "CASE WHEN a.ev_users = 1 THEN a.one_user ELSE concat({}, ' accounts') END",
        text_num("a.ev_users")
    )
}

/// `util::source_text`.
pub(crate) fn source_text(ip: &str) -> String {
    format!(
        "CASE WHEN COALESCE({ip}, '') = '' THEN {} ELSE {ip} END",
        lit(super::util::UNKNOWN_ADDRESS)
    )
}

/// The distinct non-empty values of the counted sign-ins' member column
/// `col` joined with `, ` when there are at most two; more are written as
/// the first and `and n more`. Needs [`Query::few`] for the same column.
pub(crate) fn few_values(col: &str) -> String {
    format!(
        "CASE WHEN a.n_{col} <= 1 THEN COALESCE(a.min_{col}, '') WHEN a.n_{col} = 2 THEN concat(a.min_{col}, ', ', a.max_{col})\n      \
         ELSE concat(a.min_{col}, ' and ', {}, ' more') END",
        text_num(&format!("a.n_{col} - 1"))
    )
}

/// `FLOOR(a / b)` as a whole number.
fn idiv(a: &str, b: &str) -> String {
    format!("CAST(FLOOR(({a}) / ({b} * 1.0)) AS BIGINT)")
}

/// Days since 1970-01-01 of a timestamp's UTC date, by the civil-calendar
/// formula: neither a DATE difference nor an epoch function reads the
/// same in both engines.
pub(crate) fn epoch_day(t: &str) -> String {
    let y = format!("(year({t}) - CASE WHEN month({t}) <= 2 THEN 1 ELSE 0 END)");
    let era = idiv(&y, "400");
    let yoe = format!("({y} - {era} * 400)");
    let mp = format!("(month({t}) + CASE WHEN month({t}) > 2 THEN -3 ELSE 9 END)");
    let doy = format!("({} + day({t}) - 1)", idiv(&format!("153 * {mp} + 2"), "5"));
    let doe = format!(
        "({yoe} * 365 + {} - {} + {doy})",
        idiv(&yoe, "4"),
        idiv(&yoe, "100")
    );
    format!("({era} * 146097 + {doe} - 719468)")
}

/// Whole seconds since the epoch of a timestamp.
fn epoch_seconds(t: &str) -> String {
    format!(
        "({} * 86400 + hour({t}) * 3600 + minute({t}) * 60 + second({t}))",
        epoch_day(t)
    )
}

/// Whole seconds from timestamp `a` to timestamp `b`.
pub(crate) fn seconds_between(a: &str, b: &str) -> String {
    format!("({} - {})", epoch_seconds(b), epoch_seconds(a))
}

/// Whole hours from timestamp `a` to a later timestamp `b`, as analyze's
/// `(b - a) / HOUR_US` counts them in microseconds.
pub(crate) fn whole_hours(a: &str, b: &str) -> String {
    whole_units(a, b, 3600)
}

/// Whole minutes from timestamp `a` to a later timestamp `b`, as
/// analyze's `(b - a) / MINUTE_US`.
pub(crate) fn whole_minutes(a: &str, b: &str) -> String {
    whole_units(a, b, 60)
}

/// Whole `unit`s of seconds from `a` to a later `b`, counted to the
/// microsecond: the whole seconds between them give it, but one unit less
/// when they are a whole number of units and `b`'s fraction of a second
/// is smaller than `a`'s.
fn whole_units(a: &str, b: &str, unit: u32) -> String {
    let secs = seconds_between(a, b);
    format!(
        "({} - CASE WHEN {secs} % {unit} = 0 AND {b} - date_trunc('second', {b}) < {a} - date_trunc('second', {a}) THEN 1 ELSE 0 END)",
        idiv(&secs, &unit.to_string())
    )
}

/// `util::rfc3339`: `2026-03-02T08:00:00Z`, whole seconds, UTC.
pub(crate) fn rfc3339(t: &str) -> String {
    let two = |f: &str| format!("lpad(CAST({f}({t}) AS STRING), 2, '0')");
    format!(
        "concat(lpad(CAST(year({t}) AS STRING), 4, '0'), '-', {}, '-', {}, 'T', {}, ':', {}, ':', {}, 'Z')",
        two("month"),
        two("day"),
        two("hour"),
        two("minute"),
        two("second")
    )
}

/// Per finding (`actor` of the rows of `from`), the distinct non-empty
/// values of `col` in byte order: the first three (`v1`..`v3`, NULL past
/// the last) and how many (`n`); a finding with none has no row. Titles
/// list values with it.
pub(crate) fn first_three(from: &str, col: &str) -> String {
    format!(
        "SELECT actor, COUNT(*) AS n,\n    \
         MAX(CASE WHEN k = 1 THEN {col} END) AS v1,\n    \
         MAX(CASE WHEN k = 2 THEN {col} END) AS v2,\n    \
         MAX(CASE WHEN k = 3 THEN {col} END) AS v3\n  \
         FROM (\n    \
         SELECT actor, {col}, ROW_NUMBER() OVER (PARTITION BY actor ORDER BY {col}) AS k\n    \
         FROM (SELECT DISTINCT actor, {col} FROM {from} WHERE {col} <> '') d\n  \
         ) r GROUP BY actor"
    )
}

/// The values of a [`first_three`] row `t` joined with `, `, and
/// `and n more` past the third.
pub(crate) fn three_text(t: &str) -> String {
    format!(
        "concat(concat_ws(', ', {t}.v1, {t}.v2, {t}.v3), CASE WHEN {t}.n > 3 THEN concat(' and ', {}, ' more') ELSE '' END)",
        text_num(&format!("{t}.n - 3"))
    )
}

/// `util::span_text` over a number of seconds.
pub(crate) fn span_text(secs: &str) -> String {
    let s = format!("GREATEST({secs}, 0)");
    format!(
        "CASE WHEN {s} < 60 THEN concat({}, ' s') \
         WHEN {s} < 3600 THEN concat({}, ' min') \
         WHEN {s} < 172800 THEN concat({}, ' h ', {}, ' min') \
         ELSE concat({}, ' days') END",
        text_num(&s),
        text_num(&idiv(&s, "60")),
        text_num(&idiv(&s, "3600")),
        text_num(&idiv(&format!("{s} % 3600"), "60")),
        text_num(&idiv(&s, "86400"))
    )
}

/// A string literal both engines read the same way: quotes, backslashes
/// and control characters spelt with `chr()`. Spark would read `\` as an
/// escape, and a doubled quote as two literals side by side (which it
/// joins, dropping the quote).
pub(crate) fn lit(s: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut plain = String::new();
    for c in s.chars() {
        if c == '\\' || c == '\'' || c.is_control() {
            parts.push(format!("'{plain}'"));
            plain.clear();
            parts.push(format!("chr({})", u32::from(c)));
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

/// 1 for a sign-in on a device the tenant manages, else 0
/// (`SignIn::on_managed_device`).
pub(crate) const ON_MANAGED: &str =
    "CASE WHEN COALESCE(compliant, FALSE) OR COALESCE(managed, FALSE) THEN 1 ELSE 0 END";

/// One row, `start`: the run's first sign-in time, which the baseline
/// detections measure from (`Events::start_us` in `analyze`).
pub(crate) const RUN_START: &str = "SELECT MIN(time) AS start FROM deduped WHERE copy_rank = 1";

/// The header note of a detection whose baseline is the data alone.
pub(crate) const NO_HISTORY: &str =
    "history (`--history`) is not read: the baseline is the data's first hours";

/// `time` comes `hours` or more after the run's first sign-in: past the
/// baseline a detection learns from.
pub(crate) fn after_baseline(time: &str, hours: u32) -> String {
    format!(
        "{time} >= (SELECT MIN(time) FROM deduped WHERE copy_rank = 1) + {}",
        minutes(hours * 60)
    )
}

/// The values of a [`first_three`] row `t` when there are three or fewer,
/// else how many there are and `noun` ("4 addresses").
pub(crate) fn three_or_count(t: &str, noun: &str) -> String {
    format!(
        "CASE WHEN {t}.n <= 3 THEN concat_ws(', ', {t}.v1, {t}.v2, {t}.v3) ELSE concat({}, ' {noun}') END",
        text_num(&format!("{t}.n"))
    )
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

/// `model::net::network_of` over the address expression `ip`: `a.b.c.0/24`,
/// or the first four IPv6 groups and `::/64`; NULL for an empty address.
/// Addresses in the table are canonical (IPv4-mapped ones already IPv4,
/// IPv6 compressed, lower case, no leading zeros), so a group is the text
/// between colons once a `::` is put back as the zero groups it stands
/// for.
pub(crate) fn network_of(ip: &str) -> String {
    let at = format!("position('::' IN {ip})");
    let left = format!("substr({ip}, 1, {at} - 1)");
    let right = format!("substr({ip}, {at} + 2)");
    let groups = |part: &str| {
        format!("(CASE WHEN {part} = '' THEN 0 ELSE length({part}) - length(replace({part}, ':', '')) + 1 END)")
    };
    let (nl, nr) = (groups(&left), groups(&right));
    let group = |k: u32| {
        format!(
            "CASE WHEN {at} = 0 THEN split_part({ip}, ':', {k}) \
             WHEN {k} <= {nl} THEN split_part({left}, ':', {k}) \
             WHEN {k} <= 8 - {nr} THEN '0' \
             ELSE split_part({right}, ':', {k} - (8 - {nr})) END"
        )
    };
    let v4 = |k: u32| format!("split_part({ip}, '.', {k})");
    format!(
        "CASE WHEN {ip} = '' THEN NULL\n      \
         WHEN {ip} LIKE '%:%' THEN concat({}, ':', {}, ':', {}, ':', {}, '::/64')\n      \
         ELSE concat({}, '.', {}, '.', {}, '.0/24') END",
        group(1),
        group(2),
        group(3),
        group(4),
        v4(1),
        v4(2),
        v4(3)
    )
}

/// `place::network_key`: `AS<asn>`, else the address's /24 or /64
/// ([`network_of`]); NULL for neither.
pub(crate) fn network_key(asn: &str, ip: &str) -> String {
    format!(
        "CASE WHEN {asn} IS NOT NULL THEN concat('AS', CAST({asn} AS STRING)) ELSE {} END",
        network_of(ip)
    )
}

/// `place::Place::same`: row `s` came from the place of row `p`, by
/// address, by ASN and country, by device, or by network. Both rows have
/// the prelude's columns and `net`, their [`network_of`] (its column name).
pub(crate) fn same_place(p: &str, s: &str, net: &str) -> String {
    format!(
        "(({p}.ip <> '' AND {s}.ip = {p}.ip)\n    \
         OR ({p}.asn IS NOT NULL AND {s}.asn = {p}.asn AND {s}.country = {p}.country)\n    \
         OR ({p}.device_id <> '' AND {s}.device_id = {p}.device_id)\n    \
         OR ({p}.{net} IS NOT NULL AND {s}.{net} = {p}.{net}))"
    )
}

/// `expr` with ASCII letters only in lower case, so a comparison with a
/// lower-case literal is `eq_ignore_ascii_case`; `lower()` would fold
/// other letters too (the Kelvin sign to `k`).
pub(crate) fn ascii_lower(expr: &str) -> String {
    format!("translate({expr}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')")
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
    /// The sliding windows alone: `<name>_win` holds, per key and event
    /// time, `n` and each distinct count over the window ending then.
    fn windows(&self) -> Vec<(String, String)> {
        let p = self.name;
        let w = minutes(self.window_minutes);
        let keys = self.keys.join(", ");
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
        ]
    }

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
        let mut ctes = self.windows();
        ctes.extend([
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
        ]);
        ctes
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

fn cte((name, text): &(String, String)) -> String {
    format!("{name} AS (\n  {text}\n)")
}

/// `WITH` and the shared CTEs, up to and including the [`PRELUDE_END`]
/// line: what every detection and table query opens with. Every query of
/// one settings file opens with the same text; the marker lets a runner
/// compute it once (scripts/spark_detections.py). The query's own CTEs
/// follow on the next line.
pub(crate) fn prelude_text(cfg: &DetectionConfig) -> Result<String, SqlError> {
    let shared: Vec<String> = prelude(cfg)?.iter().map(cte).collect();
    Ok(format!("WITH\n{},\n{PRELUDE_END}", shared.join(",\n")))
}

/// A 50053's cause from its failure reason, else its additional details
/// (`lockout::cause_from_text`), as text; `undetermined` when neither says.
pub(crate) fn lockout_cause_of(reason: &str, details: &str) -> String {
    format!(
        "COALESCE({}, {}, '{}')",
        cause_of(&normalized_text(reason)),
        cause_of(&normalized_text(details)),
        LockoutCause::Undetermined.as_str()
    )
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
    techniques: &[&str],
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
         -- Returns one row per finding: kind, actor (as in the finding id), severity,\n\
         -- title, first_seen, last_seen, count, users and ips (arrays of text),\n\
         -- facts (a JSON object as text), evidence (a JSON array as text of up to\n\
         -- five {request_id, file, record}, chosen as analyze chooses its samples),\n\
         -- techniques (ATT&CK ids), user_principal_name and ip (the finding's key).\n\
         -- `entrasift render --results DIR` turns the results into the report.\n",
    );
    out.push_str("-- Differences from `entrasift analyze`:\n");
    for n in COMMON_NOTES
        .iter()
        .copied()
        .map(String::from)
        .chain(q.notes.iter().cloned())
    {
        let _ = writeln!(out, "--   - {}", comment(&n));
    }
    let mut own: Vec<(String, String)> = q.ctes.clone();
    own.extend(tail(&q));
    let own: Vec<String> = own.iter().map(cte).collect();
    let _ = write!(out, "{}\n{}", prelude_text(cfg)?, own.join(",\n"));
    let _ = write!(
        out,
        "\n{}\nORDER BY first_seen, actor;\n",
        finish(kind, title, techniques, &q)
    );
    Ok(out)
}

/// The CTEs every query ends with: `found` (the detection's findings),
/// `members` (the sign-ins each counts or highlights), their order and
/// evidence slots, and `figures` (one row of aggregates per finding).
fn tail(q: &Query) -> Vec<(String, String)> {
    let cols = MEMBER_COLUMNS.join(", ");
    let mut members = format!(
        "SELECT DISTINCT actor, found_first, 0 AS role, {cols} FROM (\n    {}\n  ) m0",
        q.events.trim_end()
    );
    if !q.highlights.is_empty() {
        let _ = write!(
            members,
            "\n  UNION ALL\n  SELECT DISTINCT actor, found_first, 1 AS role, {cols} FROM (\n    {}\n  ) m1",
            q.highlights.trim_end()
        );
    }
    let finding = "PARTITION BY actor, found_first";
    let last = MAX_SAMPLES - 1;
    // `util::finding`: up to four highlights first, then the counted
    // sign-ins spread over the finding, first and last included.
    let spread: Vec<String> = (1..=last)
        .map(|k| {
            format!(
                "({k} <= {last} - n_hl AND pos - 1 = FLOOR({k} * (n_ev - 1) / NULLIF({last}.0 - n_hl, 0)))"
            )
        })
        .collect();
    let picked = format!(
        "(role = 1 AND pos <= {last})\n      OR (role = 0 AND (n_ev <= {MAX_SAMPLES} - n_hl OR (n_hl = {last} AND pos = 1)\n        OR (n_hl < {last} AND (pos = 1 OR {}))))",
        spread.join(" OR ")
    );
    let object = format!(
        "concat('{{\"request_id\":', {}, ',\"file\":', {}, ',\"record\":', {}, '}}')",
        json_str("p.request_id"),
        json_str("p.source_file"),
        json_num("p.source_record")
    );
    let slots: Vec<String> = (0..MAX_SAMPLES)
        .map(|k| format!("MAX(CASE WHEN m.slot = {k} THEN m.sample END)"))
        .collect();
    let mut figures: Vec<String> = Figures::BUILTIN
        .iter()
        .chain(
            q.aggregates
                .iter()
                .map(|(n, e)| (n.as_str(), e.as_str()))
                .collect::<Vec<_>>()
                .iter(),
        )
        .map(|(name, expr)| format!("{expr} AS {name}"))
        .collect();
    figures.push(format!(
        "concat('[', concat_ws(',', {}), ']') AS evidence",
        slots.join(",\n      ")
    ));
    let mut ctes = vec![("found".to_string(), q.select.trim_end().to_string())];
    ctes.extend(q.member_ctes.iter().cloned());
    ctes.extend([
        ("members".into(), members),
        (
            "member_pos".into(),
            format!(
                "SELECT m.*, ROW_NUMBER() OVER ({finding}, role ORDER BY {ORDER}, source_file, source_record) AS pos,\n    \
                 SUM(1 - role) OVER ({finding}) AS n_ev,\n    \
                 LEAST(SUM(role) OVER ({finding}), {last}) AS n_hl\n  \
                 FROM members m"
            ),
        ),
        (
            "member_slot".into(),
            format!(
                "SELECT p.*, CASE WHEN picked = 1 THEN ROW_NUMBER() OVER ({finding}, picked ORDER BY role DESC, pos) - 1 END AS slot,\n    \
                 CASE WHEN picked = 1 THEN {object} END AS sample\n  \
                 FROM (\n    SELECT m.*, CASE WHEN {picked} THEN 1 ELSE 0 END AS picked\n    FROM member_pos m\n  ) p"
            ),
        ),
        (
            "figures".into(),
            format!(
                "SELECT m.actor, m.found_first,\n    {}\n  FROM member_slot m\n  GROUP BY m.actor, m.found_first",
                figures.join(",\n    ")
            ),
        ),
    ]);
    ctes
}

/// The final SELECT: one complete row per finding.
fn finish(kind: &str, title: &str, techniques: &[&str], q: &Query) -> String {
    let severity = if q.severity.is_empty() {
        // A detection without its severity fails the unit test below.
        "CAST(NULL AS STRING)".to_string()
    } else {
        q.severity.clone()
    };
    let title = if q.title.is_empty() {
        format!("concat({}, ': ', f.actor)", lit(title))
    } else {
        q.title.clone()
    };
    let mut facts = vec![
        format!("'{{\"distinct_users\":', {}", json_num("a.n_users")),
        format!("',\"distinct_ips\":', {}", json_num("a.n_ips")),
    ];
    for (key, value) in &q.facts {
        facts.push(format!("',\"{key}\":', {value}"));
    }
    let techniques = if techniques.is_empty() {
        "CASE WHEN FALSE THEN split('', ',') END".to_string()
    } else {
        format!("split({}, ',')", lit(&techniques.join(",")))
    };
    let span = format!(
        "{} - {}",
        epoch_seconds("x.last_seen"),
        epoch_seconds("x.first_seen")
    );
    format!(
        "SELECT {} AS kind, f.actor AS actor,\n  {severity} AS severity,\n  {title} AS title,\n  \
         a.first_seen AS first_seen, a.last_seen AS last_seen, f.count AS count, a.users AS users, a.ips AS ips,\n  \
         concat({}, '}}') AS facts,\n  a.evidence AS evidence, {techniques} AS techniques,\n  \
         f.user_principal_name AS user_principal_name, f.ip AS ip\n\
         FROM (\n  SELECT x.*, {span} AS span_s FROM found x\n) f JOIN figures a ON a.actor = f.actor AND a.found_first = f.first_seen{}",
        lit(kind),
        facts.join(",\n    "),
        q.joins.iter().map(|j| format!("\n{j}")).collect::<String>()
    )
}

/// The query of every enabled detection, in registry order.
pub fn sql_all(cfg: &DetectionConfig) -> Result<Vec<DetectionSql>, SqlError> {
    DETECTIONS
        .iter()
        .filter(|d| cfg.is_enabled(d.kind()))
        .map(|d| {
            render(
                d.kind(),
                d.title(),
                d.techniques(),
                &d.thresholds(cfg),
                cfg,
                d.sql(cfg),
            )
            .map(|text| DetectionSql {
                kind: d.kind(),
                title: d.title(),
                text,
            })
        })
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
        assert_eq!(lit("it's"), "concat('it', chr(39), 's')");
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
        assert_eq!(all.len(), DETECTIONS.len() - 1);
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
        // Every detection says which sign-ins its findings hold and how
        // severe they are; without them its rows would be incomplete.
        for d in DETECTIONS {
            let q = d.sql(&cfg);
            assert!(!q.select.is_empty(), "{}: no findings query", d.kind());
            assert!(!q.events.is_empty(), "{}: no events query", d.kind());
            assert!(!q.severity.is_empty(), "{}: no severity", d.kind());
        }
        let bf = all.iter().find(|q| q.kind == "brute_force").unwrap();
        assert!(bf.text.contains("n >= 37"), "{}", bf.text);
    }
}
