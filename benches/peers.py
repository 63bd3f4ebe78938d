"""The peers' side of benches/compare.sh: the query a DuckDB or polars user
would write for the bare aggregation entrasift's report starts from
(failures by error code; by IP with distinct users; by user).

    python3 benches/peers.py ENGINE QUERY DIR

DIR is the folder `entrasift generate` (or benches/make_lean.py) wrote for
that shape: portal-csv, portal-json or azure-monitor-blob. Each run is a
whole process, timed from outside. It prints the number of rows read and
of failed sign-ins, so a run that silently read less shows up.

The queries are the ones their users write, first as they first write
them (QUERY csv, json, jsonl: DuckDB's readers with the auto-detected
schema over the folder's glob; polars' lazy scan of three columns), then
the form they turn to when that fails on these folders (csv-union,
json-named, jsonl-named; polars csv-files). The "equal work" queries
(csv-all, jsonl-19) read about as many fields as entrasift does.
"""

import glob
import os
import sys


def sign_in_csvs(root):
    # The portal's AuthDetails companion file has other columns (one row
    # per authentication step); a user aggregating sign-ins leaves it out.
    return sorted(f for f in glob.glob(os.path.join(root, "*.csv")) if "_AuthDetails_" not in f)


def sql_list(files):
    return "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"


def duckdb_select(query, root):
    csv = sql_list(sign_in_csvs(root))
    array = f"'{root}/*.json'"
    lines = f"'{root}/**/PT1H.json'"
    if query == "csv":
        # As a user first writes it. A portal download folder mixes files
        # whose columns differ (service-principal sign-ins have no
        # Username; AuthDetails is another table), so this can fail ...
        return (
            'select "Date (UTC)" t, "Username" u, "IP address" ip, "Sign-in error code" code '
            f"from read_csv('{root}/*.csv', header=true, all_varchar=true)"
        )
    if query == "csv-union":
        # ... and then names the sign-in files and matches columns by name.
        return (
            'select "Date (UTC)" t, "Username" u, "IP address" ip, "Sign-in error code" code '
            f"from read_csv({csv}, header=true, all_varchar=true, union_by_name=true)"
        )
    if query == "csv-all":
        return f"select * from read_csv({csv}, header=true, all_varchar=true, union_by_name=true)"
    if query == "json":
        return (
            "select createdDateTime t, userPrincipalName u, ipAddress ip, status.errorCode::varchar code "
            f"from read_json({array}, format='array', maximum_object_size=100000000)"
        )
    if query == "json-named":
        return (
            "select createdDateTime t, userPrincipalName u, ipAddress ip, status.errorCode::varchar code "
            f"from read_json({array}, format='array', maximum_object_size=100000000, "
            "columns={'createdDateTime':'VARCHAR','userPrincipalName':'VARCHAR','ipAddress':'VARCHAR',"
            "'status':'STRUCT(errorCode BIGINT)'})"
        )
    if query == "jsonl":
        return (
            "select time t, properties.userPrincipalName u, callerIpAddress ip, resultType code "
            f"from read_json({lines}, format='newline_delimited')"
        )
    if query == "jsonl-named":
        return (
            "select time t, properties.userPrincipalName u, callerIpAddress ip, resultType code "
            f"from read_json({lines}, format='newline_delimited', hive_partitioning=false, "
            "columns={'time':'VARCHAR','resultType':'VARCHAR','callerIpAddress':'VARCHAR',"
            "'properties':'STRUCT(userPrincipalName VARCHAR, ipAddress VARCHAR, status STRUCT(errorCode BIGINT))'})"
        )
    if query == "jsonl-19":
        # Nineteen of the fields entrasift's reader takes from each record.
        props = (
            "STRUCT(createdDateTime VARCHAR, id VARCHAR, userPrincipalName VARCHAR, userId VARCHAR, "
            "userDisplayName VARCHAR, ipAddress VARCHAR, appDisplayName VARCHAR, appId VARCHAR, "
            "resourceDisplayName VARCHAR, clientAppUsed VARCHAR, userAgent VARCHAR, "
            "conditionalAccessStatus VARCHAR, "
            "status STRUCT(errorCode BIGINT, failureReason VARCHAR), "
            "deviceDetail STRUCT(operatingSystem VARCHAR, browser VARCHAR), "
            "location STRUCT(countryOrRegion VARCHAR))"
        )
        return (
            "select time t, category, properties.userPrincipalName u, callerIpAddress ip, resultType code, "
            "properties.createdDateTime created, properties.id id, properties.userId user_id, "
            "properties.userDisplayName display, properties.appDisplayName app, properties.appId app_id, "
            "properties.resourceDisplayName resource, properties.clientAppUsed client, "
            "properties.userAgent agent, properties.conditionalAccessStatus ca, "
            "properties.status.failureReason reason, properties.deviceDetail.operatingSystem os, "
            "properties.deviceDetail.browser browser, properties.location.countryOrRegion country "
            f"from read_json({lines}, format='newline_delimited', hive_partitioning=false, "
            "columns={'time':'VARCHAR','category':'VARCHAR','resultType':'VARCHAR',"
            f"'callerIpAddress':'VARCHAR','properties':'{props}'}})"
        )
    raise SystemExit(f"unknown DuckDB query {query!r}")


def run_duckdb(query, root):
    import duckdb

    con = duckdb.connect()
    select = duckdb_select(query, root)
    if query == "csv-all":
        # Every column in the table, then the same four under the names the
        # aggregation uses.
        con.execute("create table raw as " + select)
        con.execute(
            'create view f as select "Date (UTC)" t, "Username" u, "IP address" ip, '
            '"Sign-in error code" code from raw'
        )
    else:
        con.execute("create table f as " + select)
    con.execute("select code, count(*) from f group by code").fetchall()
    con.execute(
        "select ip, count(*), count(distinct u) from f where code not in ('0','') "
        "group by ip order by 2 desc limit 20"
    ).fetchall()
    con.execute(
        "select u, count(*) from f where code not in ('0','') group by u order by 2 desc limit 20"
    ).fetchall()
    rows, failures = con.execute(
        "select count(*), count(*) filter (where code not in ('0','')) from f"
    ).fetchone()
    print(f"rows={rows} failures={failures}")


def run_polars(query, root):
    import polars as pl

    files = sign_in_csvs(root)
    cols = [pl.col("Username").alias("u"), pl.col("IP address").alias("ip"), pl.col("Sign-in error code").alias("code")]
    if query == "csv":
        # As a user first writes it; fails where the files' columns differ ...
        df = pl.scan_csv(os.path.join(root, "*.csv"), infer_schema=False).select(cols).collect()
    elif query == "csv-files":
        # ... and then one lazy scan per sign-in file, stacked by column name.
        scans = [pl.scan_csv(f, infer_schema=False) for f in files]
        df = pl.concat(scans, how="diagonal").select(cols).collect()
    elif query == "csv-all":
        # Every column, file by file (their column sets differ), then one frame.
        df = pl.concat([pl.read_csv(f, infer_schema=False) for f in files], how="diagonal").select(cols)
    else:
        raise SystemExit(f"unknown polars query {query!r}")
    df.group_by("code").len()
    f = df.filter(pl.col("code").is_not_null() & (pl.col("code") != "0"))
    f.group_by("ip").agg(pl.len(), pl.col("u").n_unique()).sort("len", descending=True).head(20)
    f.group_by("u").len().sort("len", descending=True).head(20)
    print(f"rows={df.height} failures={f.height}")


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    engine, query, root = sys.argv[1:]
    if engine == "duckdb":
        run_duckdb(query, root)
    elif engine == "polars":
        run_polars(query, root)
    else:
        raise SystemExit(f"unknown engine {engine!r}")


if __name__ == "__main__":
    main()
