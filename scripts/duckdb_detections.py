#!/usr/bin/env python3
"""Runs entrasift's SQL detections on DuckDB, one Parquet per query.

    python3 scripts/duckdb_detections.py DATASET SQLDIR RESULTS [--memory-limit 4GB]

DATASET is a folder written by `entrasift convert --to parquet
--partition-by day` (or any path DuckDB's read_parquet takes, s3:// with
httpfs); SQLDIR holds the queries of `entrasift detections --sql --out`;
each query's rows go to RESULTS/<kind>.parquet and RESULTS/tables/<table>.parquet
for `entrasift render`.
Prints each query's time and the process's peak memory on standard error.
"""

import argparse
import glob
import os
import resource
import sys
import time

import duckdb


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dataset")
    ap.add_argument("sqldir")
    ap.add_argument("results")
    ap.add_argument("--memory-limit", help="DuckDB memory_limit, e.g. 4GB")
    ap.add_argument("--threads", type=int, help="DuckDB threads (default: all cores)")
    args = ap.parse_args()

    # Detections first, then the sign-in tables (SQLDIR/tables/*.sql, to
    # RESULTS/tables/<table>.parquet).
    paths = sorted(glob.glob(os.path.join(args.sqldir, "*.sql")))
    paths += sorted(glob.glob(os.path.join(args.sqldir, "tables", "*.sql")))
    if not paths:
        sys.exit(f"{args.sqldir}: no .sql files (write them with `entrasift detections --sql --out`)")
    os.makedirs(os.path.join(args.results, "tables"), exist_ok=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    if args.memory_limit:
        con.execute(f"SET memory_limit = '{args.memory_limit}'")
    if args.threads:
        con.execute(f"SET threads = {int(args.threads)}")
    source = args.dataset
    if os.path.isdir(source):
        source = os.path.join(source, "**", "*.parquet")
    source = source.replace("'", "''")
    con.execute(
        f"CREATE VIEW signins AS SELECT * FROM read_parquet('{source}', hive_partitioning = true)"
    )
    total = 0.0
    for path in paths:
        kind = os.path.relpath(path, args.sqldir)[:-4]
        with open(path, encoding="utf-8") as f:
            query = f.read().strip().rstrip(";")
        target = os.path.join(args.results, kind + ".parquet").replace("'", "''")
        started = time.time()
        con.execute(f"COPY ({query}) TO '{target}' (FORMAT PARQUET)")
        took = time.time() - started
        total += took
        rows = con.execute(f"SELECT count(*) FROM read_parquet('{target}')").fetchone()[0]
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{kind}: {took:.2f} s, {rows} row(s), peak memory so far {peak:.0f} MB",
              file=sys.stderr)
    print(f"all {len(paths)} queries: {total:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
