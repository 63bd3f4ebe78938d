#!/usr/bin/env bash
# Times the whole entrasift binary (full analyze: ingest, de-duplication,
# every detection, findings.json) against DuckDB's and polars' bare
# aggregation (failures by code; by IP with distinct users; by user) on the
# same generated files. Prints median wall time and peak RSS of RUNS runs.
#
#   benches/compare.sh [RECORDS] [RUNS]      (defaults: 1000000 3)
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"
RUNS="${2:-3}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/entrasift-target}"
cargo build --release --locked -q
BIN="$CARGO_TARGET_DIR/release/entrasift"
WORK="${WORK:-$(mktemp -d)}"
DATA="$WORK/data"
[ -d "$DATA" ] || "$BIN" generate --out "$DATA" --records "$N" --seed 1 -q \
  --formats portal-csv,portal-json,azure-monitor-blob
python3 -c "import duckdb, polars" 2>/dev/null || pip install -q duckdb polars

cat > "$WORK/agg.py" <<'PY'
import sys, glob
engine, kind, root = sys.argv[1:4]
files = {
  "csv": sorted(glob.glob(f"{root}/portal-csv/*SignIns_2*.csv")),
  "json": sorted(glob.glob(f"{root}/portal-json/*.json")),
  "jsonl": sorted(glob.glob(f"{root}/azure-monitor-blob/**/PT1H.json", recursive=True)),
}[kind]
if engine == "duckdb":
    import duckdb
    con = duckdb.connect()
    if kind == "csv":
        con.execute(f"create view t as select \"Sign-in error code\" as code, \"IP address\" as ip, Username as u from read_csv({files}, union_by_name=true, all_varchar=true)")
    elif kind == "json":
        con.execute(f"create view t as select status.errorCode as code, ipAddress as ip, userPrincipalName as u from read_json({files}, format='array', union_by_name=true, maximum_object_size=100000000)")
    else:
        # Categories differ in shape (managed identities have no user), so
        # read properties as JSON and extract.
        con.execute(f"create view t as select json_extract_string(properties, '$.status.errorCode') as code, json_extract_string(properties, '$.ipAddress') as ip, json_extract_string(properties, '$.userPrincipalName') as u from read_json({files}, format='newline_delimited', columns={{'properties': 'JSON'}})")
    con.execute("select code, count(*) from t where code::int <> 0 group by 1").fetchall()
    con.execute("select ip, count(*), count(distinct u) from t group by 1").fetchall()
    con.execute("select u, count(*) from t group by 1").fetchall()
else:
    import polars as pl
    def user_col(df, name):
        # Service-principal files have no user column.
        return pl.col(name).alias("u") if name in df.columns else pl.lit(None, dtype=pl.Utf8).alias("u")
    if kind == "csv":
        frames = [pl.read_csv(f, infer_schema=False) for f in files]
        df = pl.concat([d.select(pl.col("Sign-in error code").alias("code"), pl.col("IP address").alias("ip"), user_col(d, "Username")) for d in frames])
    elif kind == "json":
        df = pl.concat([pl.read_json(f, infer_schema_length=None).select(pl.col("status").struct.field("errorCode").cast(pl.Utf8).alias("code"), pl.col("ipAddress").alias("ip"), pl.col("userPrincipalName").alias("u")) for f in files], how="diagonal_relaxed")
    else:
        # Shapes differ between blobs and within one (a member null in the
        # first rows, an object later): infer from every row.
        df = pl.concat([pl.read_ndjson(f, infer_schema_length=None).select(pl.col("properties").struct.field("status").struct.field("errorCode").cast(pl.Utf8).alias("code"), pl.col("properties").struct.field("ipAddress").alias("ip"), pl.col("properties").struct.field("userPrincipalName").alias("u")) for f in files], how="diagonal_relaxed")
    df.filter(pl.col("code") != "0").group_by("code").len()
    df.group_by("ip").agg(pl.len(), pl.col("u").n_unique())
    df.group_by("u").len()
PY

measure() { # label, command...; sets LAST to the median wall time
  local label="$1"; shift
  local times=() rss=()
  LAST=""
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %M" -o "$WORK/t" "$@" >/dev/null 2>&1 || { echo "$label: FAILED"; return; }
    read -r t m < "$WORK/t"; times+=("$t"); rss+=("$m")
  done
  local med; med=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")
  local peak; peak=$(printf '%s\n' "${rss[@]}" | sort -n | tail -1)
  LAST="$med"
  printf '%-34s %8.2f s %8.0f MB\n' "$label" "$med" "$((peak / 1024))"
}

ratio() { # label, numerator, denominator
  [ -n "$2" ] && [ -n "$3" ] || return 0
  awk -v l="$1" -v a="$2" -v b="$3" 'BEGIN { if (b > 0) printf "  %-32s %8.1fx\n", l, a / b }'
}

[ -x /usr/bin/time ] || apt-get install -y -qq time >/dev/null
echo "records: $N (background; plus planted attacks), runs: $RUNS, $(nproc) cores"
for kind in csv json jsonl; do
  case $kind in csv) dir=portal-csv;; json) dir=portal-json;; jsonl) dir=azure-monitor-blob;; esac
  echo "== $kind ($(du -sh "$DATA/$dir" | cut -f1))"
  measure "cat (page cache floor)" sh -c "find '$DATA/$dir' -type f -exec cat {} + > /dev/null"
  floor="$LAST"
  measure "entrasift analyze (full)" "$BIN" analyze "$DATA/$dir" --out "$WORK/rep-$kind" -q
  ours="$LAST"
  measure "duckdb (bare aggregation)" python3 "$WORK/agg.py" duckdb "$kind" "$DATA"
  duck="$LAST"
  measure "polars (bare aggregation)" python3 "$WORK/agg.py" polars "$kind" "$DATA"
  pol="$LAST"
  ratio "entrasift / cat floor" "$ours" "$floor"
  ratio "duckdb / entrasift" "$duck" "$ours"
  ratio "polars / entrasift" "$pol" "$ours"
done
