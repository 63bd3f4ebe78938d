//! Command-line definitions (clap derive). Only the raw flags live here;
//! validation and defaults that need logic happen in `commands`.

use clap::{ArgAction, ArgGroup, Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

pub const EXIT_CODES: &str = "\
Exit codes:
  0  success, nothing at or above --fail-on
  1  findings at or above --fail-on (analyze)
  2  usage error or fatal error (nothing useful was produced)
  3  partial: some input file, row or record could not be read (see the accounting)";

#[derive(Debug, Parser)]
#[command(
    name = "entrasift",
    version,
    about = "Fast, offline analyzer for Microsoft Entra ID sign-in logs",
    long_about = "Reads Entra ID sign-in exports in any of their shapes (portal CSV/JSON, Graph pages, \
Azure Monitor, Log Analytics CSV, Purview audit log; files, folders, .gz, .zip, stdin), normalizes them \
to one UTC schema, explains every AADSTS code and detects attacks. Never touches the network.",
    after_help = EXIT_CODES,
    // Our own --version, so that `--version --verbose` can add the commit
    // and the dependency list (clap's flag would exit before seeing -v).
    disable_version_flag = true,
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Print the version (with --verbose: also the git commit and every dependency with its licence).
    #[arg(short = 'V', long, action = ArgAction::SetTrue)]
    pub version: bool,
    /// Worker threads (default: all cores).
    #[arg(long, global = true)]
    pub threads: Option<usize>,
    /// Only errors on standard error.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Also print each stage's duration and every input's format and row counts on standard error.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Colour in terminal output (auto: only on a terminal and without NO_COLOR).
    #[arg(long, global = true, value_enum, default_value = "auto")]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour what goes to standard error.
    pub fn for_stderr(self) -> bool {
        use std::io::IsTerminal;
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stderr().is_terminal()
            }
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read inputs and print, per file, the detected format and the accounting of every row.
    #[command(
        after_help = "Examples:\n  entrasift ingest exports/\n  entrasift ingest InteractiveSignIns_2025-03-01_2025-03-08.csv signins.json.gz\n  zcat export.json.gz | entrasift ingest -"
    )]
    Ingest(IngestArgs),
    /// Write the normalized, de-duplicated table as CSV, Parquet or JSON Lines.
    #[command(
        after_help = "Examples:\n  entrasift convert exports/ --to parquet --out signins.parquet\n  entrasift convert a.csv b.json --to csv --out normalized.csv\n  entrasift convert week-12/ --to parquet --partition-by day --out signins-dataset/"
    )]
    Convert(ConvertArgs),
    /// Analyze sign-ins and write the report folder (findings.json, ...).
    #[command(after_help = format!("Examples:\n  entrasift analyze sample-data/exports --out report\n  entrasift analyze exports/ --out weekly --fail-on high\n\n{EXIT_CODES}"))]
    Analyze(AnalyzeArgs),
    /// Every sign-in of one account, IP or finding in time order, with the code explained and detection markers.
    #[command(
        after_help = "Examples:\n  entrasift timeline exports/ --user alex@contoso.com\n  \
entrasift timeline exports/ --ip 203.0.113.7 --from 2026-03-02 --to 2026-03-04T12:00:00Z --format csv --out ip.csv\n  \
entrasift timeline exports/ --finding password_spray-d5078f29634cc55d --format html --out spray.html --display-tz Europe/Berlin\n\n\
Markers: a detection's window (the finding names this account or IP), a lockout (AADSTS50053) with its cause,\n\
the first success of an account after failures. --finding selects the finding's accounts and IPs from a day\n\
before its first event to a day after its last, unless --from/--to say otherwise."
    )]
    Timeline(TimelineArgs),
    /// Check a report folder against its manifest and its evidence: report files, inputs and settings re-hashed, the analysis re-run and compared byte for byte.
    #[command(after_help = "Examples:\n  entrasift verify case-42/report\n  \
entrasift verify report --base /mnt/evidence   (inputs were moved: resolve relative paths there)\n  \
entrasift verify report --hashes-only --json\n\n\
Exit codes: 0 everything matches; 1 something differs (listed); 2 the report cannot be verified\n\
(no manifest, inputs read from standard input, ...).")]
    Verify(VerifyArgs),
    /// Explain AADSTS error codes: meaning, what to check, what to do.
    #[command(
        after_help = "Examples:\n  entrasift explain 50053\n  entrasift explain AADSTS53011 500121"
    )]
    Explain(ExplainArgs),
    /// Generate realistic synthetic exports in every format, with planted attacks and a truth file.
    #[command(
        after_help = "Examples:\n  entrasift generate --out synthetic --records 5000 --seed 7\n  entrasift generate --out clean --no-attacks --formats portal-csv,graph-pages"
    )]
    Generate(GenerateArgs),
    /// List every detection with the thresholds in force, or print them as SQL.
    #[command(
        after_help = "Examples:\n  entrasift detections --preset sentinel\n  entrasift detections --sql > detections.sql\n  entrasift detections --sql --config tuned.toml --out sql/"
    )]
    Detections(DetectionsArgs),
    /// Write the report folder from a query engine's results of the `detections --sql` queries.
    #[command(
        after_help = "Examples:\n  entrasift render --results spark-results --sql sql --out report\n\n\
Reads RESULTS/<kind>.parquet (a file, or a folder of part files as Spark writes it) or\n\
RESULTS/<kind>.jsonl (a file, or a folder of .json parts) for every detection, and writes\n\
findings.json, findings.csv, accounts.csv, report.html, summary.md and manifest.json. The\n\
results hold findings, not sign-ins: the report says which sections need `analyze`."
    )]
    Render(RenderArgs),
    /// Run Sigma rules (detection and correlation) over sign-ins and print only what they match.
    #[command(after_help = format!("Examples:\n  entrasift sigma rules/ exports/\n  \
entrasift sigma azure_account_lockout.yml spray.yml InteractiveSignIns.csv --json\n\n{EXIT_CODES}"))]
    Sigma(SigmaArgs),
    /// Print shell completions.
    Completions(CompletionsArgs),
    /// Print the man page (roff).
    Manpage,
    /// Validate this copy of the tool on compiled-in reference data (every format, every planted attack).
    #[command(
        name = "self-test",
        after_help = "Prints one PASS/FAIL line per check; exits 0 when all pass, 1 otherwise."
    )]
    SelfTest(SelfTestArgs),
    /// Version, git commit, build target and every compiled-in dependency with its licence.
    #[command(
        after_help = "Examples:\n  entrasift about\n  entrasift about --json > entrasift-build.json"
    )]
    About(AboutArgs),
}

#[derive(Debug, Args)]
pub struct AboutArgs {
    /// Print as JSON on standard output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct InputArgs {
    /// Files, folders (walked recursively), .gz, .zip, or - for standard input.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Print the accounting as JSON on standard output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum TableFormat {
    Csv,
    Parquet,
    Jsonl,
}

/// How `convert --partition-by` splits the dataset.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Partitioning {
    /// One folder per UTC day of the sign-in time.
    Day,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Folder of engine results: <kind>.parquet or <kind>.jsonl per detection.
    #[arg(long, value_name = "DIR")]
    pub results: PathBuf,
    /// The SQL folder the results came from (`detections --sql --out`), hashed into the manifest.
    #[arg(long, value_name = "DIR")]
    pub sql: Option<PathBuf>,
    /// Report folder to write.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct ConvertArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format.
    #[arg(long, value_enum)]
    pub to: TableFormat,
    /// Output file; with --partition-by, the dataset folder (created, or
    /// added to if it exists).
    #[arg(long)]
    pub out: PathBuf,
    /// Write a hive-partitioned Parquet dataset (`OUT/date=YYYY-MM-DD/*.parquet`,
    /// UTC days) that later runs add files to (Parquet only).
    #[arg(long, value_enum, value_name = "UNIT")]
    pub partition_by: Option<Partitioning>,
    /// Write a UTF-8 byte-order mark at the start of CSV output (for Excel).
    #[arg(long)]
    pub bom: bool,
    #[command(flatten)]
    pub enrich: EnrichOptions,
}

/// Local MaxMind DB files that fill location and ASN where the logs lack
/// them (the logs' own values always win). Read offline; never downloaded.
#[derive(Debug, Args)]
pub struct EnrichOptions {
    /// City or Country database (.mmdb): MaxMind GeoLite2/GeoIP2, DB-IP Lite or IPinfo Lite.
    #[arg(long, value_name = "FILE.mmdb")]
    pub geoip: Option<PathBuf>,
    /// ASN database (.mmdb): MaxMind GeoLite2 ASN, DB-IP ASN Lite or IPinfo Lite.
    #[arg(long, value_name = "FILE.mmdb")]
    pub asn: Option<PathBuf>,
    /// analyze: do not place sign-ins that name a city but carry no
    /// coordinates (the portal CSV) at that city with the compiled-in
    /// GeoNames gazetteer. `convert` and `timeline` never use it (convert's
    /// output cannot say where a value came from).
    #[arg(long)]
    pub no_gazetteer: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq, PartialOrd, Ord)]
pub enum FailOn {
    Info,
    Low,
    Medium,
    High,
    Critical,
    Never,
}

#[derive(Debug, Args)]
pub struct DetectionOptions {
    /// Thresholds that reproduce another tool's rules.
    #[arg(long, default_value = "default", value_parser = ["default", "sentinel", "splunk", "elastic"])]
    pub preset: String,
    /// TOML file with thresholds, windows, allowlists and on/off per detection.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// File of known-bad IPs/CIDRs, one per line, optional label after a space.
    #[arg(long, value_name = "FILE")]
    pub ip_list: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Report folder (created; must not be inside an input).
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub detection: DetectionOptions,
    /// Exit 1 when a finding has at least this severity.
    #[arg(long, value_enum, default_value = "never")]
    pub fail_on: FailOn,
    /// Also print the summary and findings as JSON on standard output.
    #[arg(long)]
    pub json: bool,
    /// Outputs to write (comma-separated; default all). findings.json (the
    /// machine interface), history.json and profiles.json (for later
    /// --history runs) are always written.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub format: Vec<ReportPart>,
    /// An earlier report folder (or its findings.json): mark findings new /
    /// ongoing / resolved and show the change in totals.
    #[arg(long, value_name = "DIR_OR_FILE")]
    pub baseline: Option<PathBuf>,
    /// Folder holding earlier report folders (each has a history.json and a
    /// profiles.json): adds trend charts across runs and what is new since
    /// the latest earlier run, and makes the accounts' places in the earlier
    /// runs the baseline of "not seen before" (token replay, device-code
    /// phishing, hosting networks, a known password from a new place).
    #[arg(long, value_name = "DIR")]
    pub history: Option<PathBuf>,
    /// In report.html, also show local time in this zone beside UTC (IANA name or +05:30). Data files stay UTC.
    #[arg(long, value_name = "ZONE")]
    pub display_tz: Option<String>,
    #[command(flatten)]
    pub enrich: EnrichOptions,
    /// Sigma rule files or folders (walked for .yml/.yaml): detection and
    /// correlation rules for `product: azure, service: signinlogs`, run over
    /// the same sign-ins; each match is a finding of kind `sigma`. Rules for
    /// other log sources are skipped and counted; a rule that does not
    /// parse stops the run before any input is read.
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub sigma: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SigmaArgs {
    /// Sigma rule files and folders first, then the inputs. A `.yml` or
    /// `.yaml` file, or a folder holding one, is rules; anything else
    /// (files, folders, .gz, .zip, - for standard input) is an input.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Print the rules loaded and the findings as JSON on standard output.
    #[arg(long)]
    pub json: bool,
    /// Exit 1 when a match has at least this severity.
    #[arg(long, value_enum, default_value = "never")]
    pub fail_on: FailOn,
}

/// The parts of a report folder.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReportPart {
    /// findings.json
    Json,
    /// findings.csv and tables/*.csv (ip_enrichment.csv among them)
    Csv,
    /// summary.md
    Md,
    /// manifest.json
    Manifest,
    /// report.html (self-contained, charts inline)
    Html,
    /// charts/*.svg
    Charts,
    /// report.xlsx (only when asked)
    Xlsx,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum TimelineFormat {
    /// Aligned columns for the terminal (long fields cut).
    Table,
    /// CSV for Timeline Explorer or Excel (every field whole).
    Csv,
    /// JSON Lines: each sign-in in the normalized schema with its markers.
    Json,
    /// One self-contained HTML page.
    Html,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("actor").required(true).args(["user", "ip", "finding"])))]
pub struct TimelineArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Follow this account (user principal name; case does not matter).
    #[arg(long, value_name = "UPN")]
    pub user: Option<String>,
    /// Follow this IP address.
    #[arg(long)]
    pub ip: Option<String>,
    /// Follow the accounts and IPs of this finding (its id in findings.json, or a unique prefix).
    #[arg(long, value_name = "ID")]
    pub finding: Option<String>,
    /// Start (inclusive): RFC 3339 time or a date, UTC unless an offset is given.
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// End (inclusive; a bare date means the end of that day).
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: TimelineFormat,
    /// Write to this file instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub detection: DetectionOptions,
    /// Show local time in this zone beside UTC (IANA name such as Europe/Berlin, or +05:30).
    #[arg(long, value_name = "ZONE")]
    pub display_tz: Option<String>,
    #[command(flatten)]
    pub enrich: EnrichOptions,
    /// Sigma rule files or folders, as `analyze --sigma` takes them: their
    /// findings can then be followed with `--finding` and mark the rows
    /// they cover.
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub sigma: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A report folder written by `entrasift analyze` (with its manifest.json).
    pub report: PathBuf,
    /// Folder to resolve the recorded relative paths from (default: the working folder the manifest records).
    #[arg(long, value_name = "DIR")]
    pub base: Option<PathBuf>,
    /// Only re-hash the report and settings files; do not re-read inputs or re-run.
    #[arg(long)]
    pub hashes_only: bool,
    /// Print the verdict as JSON on standard output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SelfTestArgs {
    /// Print the measured results as JSON instead of checking them.
    #[arg(long)]
    pub actual: bool,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Codes such as 50053 or AADSTS53011.
    #[arg(required = true)]
    pub codes: Vec<String>,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Approximate number of background sign-ins.
    #[arg(long, default_value_t = 5000)]
    pub records: usize,
    /// Random seed (same seed, same output).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Comma-separated output kinds (default: all).
    #[arg(long, value_delimiter = ',')]
    pub formats: Vec<String>,
    /// Background only: no planted attacks.
    #[arg(long)]
    pub no_attacks: bool,
    /// Days covered.
    #[arg(long, default_value_t = 7)]
    pub days: u32,
    /// First day (UTC), e.g. 2026-03-09; default 2026-03-02. Successive
    /// weeks make a history for `analyze --history`.
    #[arg(long, value_name = "DATE")]
    pub start: Option<String>,
    /// Also write geoip/geo-city.mmdb and geoip/geo-asn.mmdb placing every
    /// generated address, to try --geoip and --asn offline.
    #[arg(long)]
    pub mmdb: bool,
}

#[derive(Debug, Args)]
pub struct DetectionsArgs {
    #[command(flatten)]
    pub detection: DetectionOptions,
    /// Print each enabled detection as standard SQL over the normalized
    /// table (runs on Spark SQL and DuckDB), thresholds substituted.
    #[arg(long)]
    pub sql: bool,
    /// With --sql: write one `<kind>.sql` per detection into this folder
    /// instead of printing them, and the report's sign-in tables as
    /// `tables/<table>.sql` (summary, by_code, by_ip, ...).
    #[arg(long, value_name = "DIR", requires = "sql")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
    Elvish,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: Shell,
}
