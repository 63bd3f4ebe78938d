#!/usr/bin/env bash
# Times entrasift's full `analyze` against the queries DuckDB's and polars'
# users would write for the bare aggregation (failures by error code; by IP
# with distinct users; by user), on the same generated files, in two record
# sizes: "rich" (what `entrasift generate` writes, about 4.8 KB of JSON per
# sign-in) and "lean" (benches/make_lean.py drops the nested detail and
# bookkeeping nobody reads: about 1.5-2 KB). The peer queries are in
# benches/peers.py; BENCHMARKS.md says why these and how to read the tables.
#
# Each run is a whole process under `/usr/bin/time -f "%e %U %S %M"` (wall,
# user and system CPU, peak RSS). Before each run the input's files are read
# into the page cache (untimed); every engine runs once per repetition, in turn
# (round-robin, each repetition starting one engine further on), so a noisy
# minute hits all of them. Two floors run beside them: `cat` of the folder
# (reading alone) and benches/hash_floor.py (reading and SHA-256, which
# entrasift's evidence manifest needs and the peers skip). Reported: best and
# median wall time, median CPU seconds (user + system), largest peak RSS.
#
#   bash benches/compare.sh [--sign-ins N] [--reps R] [--work DIR]
#                           [--bin PATH] [--sizes rich,lean] [--inputs csv,json,jsonl]
#                           [--timeout SECONDS] [--no-stages]
#
# After the timed runs of an input, entrasift runs once more with -v on all
# cores and once on one thread (not timed from outside): the stage times it
# prints become a table of seconds and microseconds per sign-in per stage.
# A budget table then sets the CPU time each speed target allows against
# the SHA-256 floor and entrasift's CPU after reading (compare_report.py).
#
# Data (generated once per N, then reused), raw timings (runs.tsv), each
# run's output and the tables (report.md) stay under the work folder.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"

N=1000000
REPS=3
WORK="${TMPDIR:-/tmp}/entrasift-compare"
BIN=""
SIZES="rich,lean"
INPUTS="csv,json,jsonl"
TIMEOUT=1800
STAGES=1

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
  case "$1" in
    --sign-ins) N="$2"; shift 2 ;;
    --reps) REPS="$2"; shift 2 ;;
    --work) WORK="$2"; shift 2 ;;
    --bin) BIN="$2"; shift 2 ;;
    --sizes) SIZES="$2"; shift 2 ;;
    --inputs) INPUTS="$2"; shift 2 ;;
    --timeout) TIMEOUT="$2"; shift 2 ;;
    --no-stages) STAGES=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$N$REPS$TIMEOUT" in *[!0-9]*) echo "--sign-ins, --reps and --timeout take whole numbers" >&2; exit 2 ;; esac
[ "$REPS" -ge 1 ] || { echo "--reps must be at least 1" >&2; exit 2; }

# ---------------------------------------------------------------- tools
missing=()
if [ -z "$BIN" ]; then
  BIN="${CARGO_TARGET_DIR:-$repo/target}/release/entrasift"
fi
[ -x "$BIN" ] || missing+=("entrasift binary at $BIN (cargo build --release, or pass --bin PATH)")
/usr/bin/time -f "%e" true >/dev/null 2>&1 || missing+=("GNU time at /usr/bin/time (apt-get install time)")
command -v timeout >/dev/null || missing+=("timeout (coreutils)")
command -v python3 >/dev/null || missing+=("python3")
if command -v python3 >/dev/null; then
  pip_install() { # package==version: what the figures were taken with
    python3 -m pip install -q --disable-pip-version-check "$1" 2>/dev/null \
      || python3 -m pip install -q --disable-pip-version-check --break-system-packages "$1" 2>/dev/null
  }
  python3 -c "import duckdb" 2>/dev/null || pip_install duckdb==2.0.0 || true
  python3 -c "import polars" 2>/dev/null || pip_install polars==2.1.0 || true
  python3 -c "import duckdb" 2>/dev/null || missing+=("python package duckdb (pip install duckdb==2.0.0)")
  python3 -c "import polars" 2>/dev/null || missing+=("python package polars (pip install polars==2.1.0)")
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "compare.sh cannot run; missing:" >&2
  printf '  - %s\n' "${missing[@]}" >&2
  exit 2
fi
duckdb_version="$(python3 -c 'import duckdb; print(duckdb.__version__)')"
polars_version="$(python3 -c 'import polars; print(polars.__version__)')"
[ "$duckdb_version" = 2.0.0 ] || echo "note: DuckDB $duckdb_version; the figures so far used 2.0.0" >&2
[ "$polars_version" = 2.1.0 ] || echo "note: polars $polars_version; the figures so far used 2.1.0" >&2

# ---------------------------------------------------------------- data
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
# Commands are built as text (below), so paths must be plain words.
for p in "$WORK" "$here" "$BIN"; do
  case "$p" in *[[:space:]\'\"\\\$\`]*) echo "paths with spaces or quotes are not supported: $p" >&2; exit 2 ;; esac
done
# Each set is made once and reused; its .done file says what made it.
data="$WORK/data-$N"
version="$("$BIN" --version | head -1)"
if [ ! -f "$data/rich.done" ]; then
  echo "generating about $N sign-ins into $data/rich ..." >&2
  rm -rf "$data/rich" "$data/lean.done"
  mkdir -p "$data"
  "$BIN" generate --out "$data/rich" --records "$N" --seed 1 -q \
    --formats portal-csv,portal-json,azure-monitor-blob
  echo "$version" >"$data/rich.done"
elif [ "$(cat "$data/rich.done")" != "$version" ]; then
  echo "note: $data/rich was generated by $(cat "$data/rich.done"); delete it to regenerate" >&2
fi
lean_maker="$(sha256sum "$here/make_lean.py" | cut -d' ' -f1)"
if [[ ",$SIZES," == *,lean,* ]] && [ "$(cat "$data/lean.done" 2>/dev/null)" != "$lean_maker" ]; then
  echo "deriving lean records into $data/lean ..." >&2
  rm -rf "$data/lean"
  python3 "$here/make_lean.py" "$data/rich" "$data/lean" >"$data/lean.counts"
  echo "$lean_maker" >"$data/lean.done"
fi

dir_of() { # input -> the folder of that export shape
  case "$1" in
    csv) echo portal-csv ;;
    json) echo portal-json ;;
    jsonl) echo azure-monitor-blob ;;
    *) echo "unknown input $1 (csv, json, jsonl)" >&2; exit 2 ;;
  esac
}

# Engines per input: "label|command template"; DIR is replaced by the
# input's folder, OUT by a fresh output folder. The first four are the
# floors (reading every file; reading and hashing it, which entrasift's
# evidence manifest needs) and entrasift; then the peers' own queries: first as their users
# first write them (a plain "DuckDB" or "polars"), then the form they turn
# to when that fails on these folders (named columns, union by name,
# per-file scans); "equal work" rows read about as many fields as
# entrasift does.
engines() {
  echo "cat|sh -c 'find DIR -type f -exec cat {} + >/dev/null'"
  echo "SHA-256 floor|python3 $here/hash_floor.py DIR"
  echo "entrasift|$BIN analyze DIR --out OUT -q"
  echo "entrasift --threads 1|$BIN --threads 1 analyze DIR --out OUT -q"
  case "$1" in
    csv)
      echo "DuckDB|python3 $here/peers.py duckdb csv DIR"
      echo "DuckDB, union by name|python3 $here/peers.py duckdb csv-union DIR"
      echo "polars|python3 $here/peers.py polars csv DIR"
      echo "polars, per-file scans|python3 $here/peers.py polars csv-files DIR"
      echo "DuckDB, equal work: every column|python3 $here/peers.py duckdb csv-all DIR"
      echo "polars, equal work: every column|python3 $here/peers.py polars csv-all DIR"
      ;;
    json)
      echo "DuckDB|python3 $here/peers.py duckdb json DIR"
      echo "DuckDB, named columns|python3 $here/peers.py duckdb json-named DIR"
      ;;
    jsonl)
      echo "DuckDB|python3 $here/peers.py duckdb jsonl DIR"
      echo "DuckDB, named columns|python3 $here/peers.py duckdb jsonl-named DIR"
      echo "DuckDB, equal work: 19 fields|python3 $here/peers.py duckdb jsonl-19 DIR"
      ;;
  esac
}

# ---------------------------------------------------------------- runs
runs="$WORK/runs.tsv"
logs="$WORK/logs"
mkdir -p "$logs"
printf 'size\tinput\tengine\trep\tstatus\twall_s\tuser_s\tsys_s\tmax_rss_kb\trows\n' >"$runs"

run_once() { # size input label template rep
  local size="$1" input="$2" label="$3" template="$4" rep="$5"
  local dir out="$WORK/out"
  dir="$data/$size/$(dir_of "$input")"
  local slug="${size}-${input}-${label//[^A-Za-z0-9]/_}"
  local cmd="${template//DIR/$dir}"
  cmd="${cmd//OUT/$out}"
  rm -rf "$out"
  local status=ok
  if ! /usr/bin/time -f "%e %U %S %M" -o "$WORK/time.txt" \
    timeout "$TIMEOUT" sh -c "exec $cmd" >"$logs/$slug.out" 2>"$logs/$slug.err"; then
    status=failed
    grep -q '^Command exited with non-zero status 124' "$WORK/time.txt" && status=timeout
  fi
  local wall user sys rss
  read -r wall user sys rss < <(grep -v '^Command' "$WORK/time.txt" | tail -1)
  local rows
  rows="$(sed -n 's/^rows=\([0-9]*\).*/\1/p' "$logs/$slug.out" | tail -1)"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$size" "$input" "$label" "$rep" "$status" \
    "$wall" "$user" "$sys" "$rss" "${rows:--}" >>"$runs"
  [ "$status" = ok ]
}

# Reads the input's files into the page cache before every timed run, so
# each engine starts from memory. Warming once per input was not enough:
# on a VM the host may take cached pages back at any time (here a 4.6 GB
# input fell to 0.6 GB resident with 12 GB of the guest's memory free),
# and whichever engine ran next then paid for reading the disk, mostly as
# system time (5.3 s of it in one entrasift run).
warm() {
  find "$1" -type f -exec cat {} + >/dev/null
}

declare -A dead
IFS=, read -r -a sizes <<<"$SIZES"
IFS=, read -r -a inputs <<<"$INPUTS"
echo "$version, DuckDB $duckdb_version, polars $polars_version;" \
  "$(nproc) cores; $REPS repetitions; work folder $WORK" >&2
for size in "${sizes[@]}"; do
  for input in "${inputs[@]}"; do
    dir="$data/$size/$(dir_of "$input")"
    [ -d "$dir" ] || { echo "no $dir" >&2; exit 2; }
    mapfile -t list < <(engines "$input")
    dead=()
    for rep in $(seq "$REPS"); do
      # Each repetition starts one engine further on, so no engine always
      # runs right after the same other one.
      for i in $(seq 0 $((${#list[@]} - 1))); do
        entry="${list[$(((i + rep - 1) % ${#list[@]}))]}"
        label="${entry%%|*}"
        # A query that failed (auto-detection, memory, time) fails again:
        # it is reported once, not rerun.
        [ -z "${dead[$label]:-}" ] || continue
        echo "  $size $input rep $rep: $label" >&2
        warm "$dir"
        run_once "$size" "$input" "$label" "${entry#*|}" "$rep" || dead[$label]=1
      done
    done
    if [ "$STAGES" = 1 ]; then
      echo "  $size $input: stage profile (-v)" >&2
      for threads in all 1; do
        rm -rf "$WORK/out"
        flag=()
        [ "$threads" = all ] || flag=(--threads "$threads")
        warm "$dir"
        "$BIN" "${flag[@]}" -v analyze "$dir" --out "$WORK/out" >"$logs/stages-$size-$input-$threads.err" 2>&1 \
          || echo "  entrasift -v failed: see $logs/stages-$size-$input-$threads.err" >&2
      done
    fi
  done
done
rm -rf "$WORK/out" "$WORK/time.txt"

# ---------------------------------------------------------------- tables
python3 "$here/compare_report.py" "$runs" "$data" "$logs" | tee "$WORK/report.md"
