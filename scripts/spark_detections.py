#!/usr/bin/env python3
"""Runs entrasift's SQL detections and tables on Spark, one Parquet per query.

    spark-submit scripts/spark_detections.py DATASET SQLDIR RESULTS
    python3 scripts/spark_detections.py DATASET SQLDIR RESULTS   (pip install pyspark)

DATASET  the normalized sign-ins: a folder written by
         `entrasift convert --to parquet --partition-by day` (local path,
         s3://, abfss://, dbfs:/ ...), or a table name with --table.
SQLDIR   the queries written by `entrasift detections --sql --out SQLDIR`:
         SQLDIR/<kind>.sql and SQLDIR/tables/<table>.sql.
RESULTS  where each query's rows go: RESULTS/<kind>.parquet and
         RESULTS/tables/<table>.parquet (Spark writes each as a folder of
         part files; `entrasift render --results RESULTS` reads either form).

All queries run in one Spark session. Without --master the session uses
what spark-submit or the cluster gives it, or local mode when run by plain
python. Timestamps are read and written in UTC as microseconds, as the
report expects.
"""

import argparse
import os
import sys
import time

# The line `entrasift detections --sql` writes after the CTEs every query
# shares (deduped, texts, ev).
PRELUDE_END = "-- entrasift: end of the shared prelude (deduped, texts, ev), the same in every query"


def split_prelude(text):
    """(prelude CTEs, the query's own CTEs and SELECT), or (None, text).

    Spark does not materialise a CTE that a query reads many times: it
    plans and runs it once per reference, and the detections read `ev`
    dozens of times. Computing the prelude once, cached, keeps plans small
    (minutes of planning otherwise) and reads the dataset once.
    """
    at = text.find("\nWITH\n")
    end = text.find("\n" + PRELUDE_END + "\n")
    if at < 0 or end < 0:
        return None, text
    prelude = text[at + len("\nWITH\n"):end].rstrip().rstrip(",")
    rest = text[end + len(PRELUDE_END) + 2:]
    return prelude, rest


def queries(sqldir):
    """(output name, SQL text) for every query, detections first."""
    found = []
    for sub in ("", "tables"):
        folder = os.path.join(sqldir, sub)
        if not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            if name.endswith(".sql"):
                with open(os.path.join(folder, name), encoding="utf-8") as f:
                    text = f.read().strip()
                # Spark's sql() takes one statement without the final `;`.
                if text.endswith(";"):
                    text = text[:-1]
                found.append((os.path.join(sub, name[:-4]) if sub else name[:-4], text))
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dataset")
    ap.add_argument("sqldir")
    ap.add_argument("results")
    ap.add_argument("--table", action="store_true",
                    help="DATASET names a table or view instead of a folder")
    ap.add_argument("--master", help="e.g. local[2]; default: the environment's")
    ap.add_argument("--no-cache", action="store_true",
                    help="run each query whole instead of caching the shared prelude once")
    ap.add_argument("--partitions", type=int, default=0,
                    help="shuffle partitions (default: Spark's, or 8 in local mode)")
    args = ap.parse_args()

    todo = queries(args.sqldir)
    if not todo:
        sys.exit(f"{args.sqldir}: no .sql files (write them with `entrasift detections --sql --out`)")

    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("entrasift-detections")
    local = args.master is not None and args.master.startswith("local")
    if args.master:
        builder = builder.master(args.master)
    elif "SPARK_HOME" not in os.environ and "spark.master" not in os.environ.get("PYSPARK_SUBMIT_ARGS", ""):
        builder = builder.master("local[*]")
        local = True
    builder = (
        builder.config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    )
    if local:
        # Small data on one machine: a handful of partitions beats 200.
        builder = (
            builder.config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", str(args.partitions or 2))
            # Adaptive execution re-plans after every stage, which on small
            # local data costs more than it saves.
            .config("spark.sql.adaptive.enabled", "false")
            .config("spark.driver.memory", os.environ.get("ENTRASIFT_SPARK_MEMORY", "2g"))
        )
    elif args.partitions:
        builder = builder.config("spark.sql.shuffle.partitions", str(args.partitions))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")

    if args.table:
        spark.table(args.dataset).createOrReplaceTempView("signins")
    else:
        spark.read.parquet(args.dataset).createOrReplaceTempView("signins")

    # The shared prelude, once: `deduped` keeps only the first copy of each
    # sign-in (every query reads it through `copy_rank = 1`), `ev` is what
    # the detections read.
    preludes = {split_prelude(text)[0] for _, text in todo} - {None}
    shared = len(preludes) == 1 and not args.no_cache
    if shared:
        prelude = preludes.pop()
        started = time.time()
        spark.sql(
            "CACHE TABLE entrasift_deduped AS WITH " + prelude
            + "\nSELECT * FROM deduped WHERE copy_rank = 1"
        )
        after_deduped = prelude[prelude.index("\ntexts AS (") + 1:]
        spark.sql(
            "CACHE TABLE entrasift_ev AS WITH deduped AS (SELECT * FROM entrasift_deduped),\n"
            + after_deduped + "\nSELECT * FROM ev"
        )
        print(f"shared prelude: {time.time() - started:.1f} s", file=sys.stderr)

    failed = 0
    for name, text in todo:
        if shared:
            _, rest = split_prelude(text)
            text = (
                "WITH\ndeduped AS (SELECT * FROM entrasift_deduped),\n"
                "ev AS (SELECT * FROM entrasift_ev),\n" + rest
            )
        out = os.path.join(args.results, name + ".parquet")
        started = time.time()
        try:
            rows = spark.sql(text)
            # One file per result: findings and tables are small.
            rows.coalesce(1).write.mode("overwrite").parquet(out)
        except Exception as e:  # report every failing query, then fail
            failed += 1
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            print(f"{name}: FAILED: {first}", file=sys.stderr)
            continue
        print(f"{name}: {time.time() - started:.1f} s -> {out}", file=sys.stderr)
    spark.stop()
    if failed:
        sys.exit(f"{failed} of {len(todo)} queries failed")


if __name__ == "__main__":
    main()
