"""Turns the raw timings benches/compare.sh collected (runs.tsv) into
markdown tables: per record size, one summary row per input, every engine
with its failures, and entrasift's stage profile.

    python3 benches/compare_report.py RUNS_TSV DATA_DIR LOG_DIR

Best = the fastest run's wall time; median = median wall time; CPU-s = the
median of user + system seconds; RSS = the largest peak resident set of the
runs. "x" columns are the other engine's best time over entrasift's best
time: above 1 entrasift is faster, below 1 slower. A peer's summary cell is
its fastest query that completed, with the failure of the query as first
written noted beside it.

The budget table asks whether a target can be met at all on this machine:
the target's wall time times the cores is the CPU time a run may spend;
from it go the SHA-256 floor's CPU time (reading and hashing every byte,
which the evidence manifest needs) and the CPU time entrasift spends after
reading (normalize, enrich, analyze, break down, render; from the -v run on
all cores). What is left is all that reading and parsing may cost; a
negative figure means the target is out of reach however fast the parser,
unless the hash or the analysis goes; "left if the hash went" is the same
budget with the hash gone.
"""

import csv
import os
import re
import statistics
import sys

FOLDER = {"csv": "portal-csv", "json": "portal-json", "jsonl": "azure-monitor-blob"}
NAME = {"csv": "portal CSV", "json": "portal JSON array", "jsonl": "Azure Monitor JSON lines"}
STAGE = re.compile(r"^entrasift: (.+): ([0-9.]+) s(?:, ([0-9.]+) s CPU)? \(peak memory so far (\d+) MiB\)$")
# The targets of issue 22: entrasift's full analyze at least this many
# times as fast as the peer's best query.
TARGET = {"csv": ("polars", 1.0), "json": ("DuckDB", 3.0), "jsonl": ("DuckDB", 1.5)}
READ_STAGE = "read, parse and de-duplicate"
COUNT = re.compile(r"^(\d+) sign-in\(s\):")


def folder_bytes(path):
    total = 0
    for dirpath, _, names in os.walk(path):
        total += sum(os.path.getsize(os.path.join(dirpath, n)) for n in names)
    return total


def human_bytes(n):
    return f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


def slug(*parts):
    return "-".join("".join(c if c.isalnum() else "_" for c in p) for p in parts)


def last_error_line(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = [line.strip() for line in f if line.strip()]
    except OSError:
        return "no log"
    # A Python traceback names the exception on the line that starts with
    # its type; DuckDB and polars put their message there.
    for line in reversed(lines):
        if re.match(r"^[\w.]*(Error|Exception)\b", line):
            return line[:200].replace("|", "/")
    return (lines[-1][:200] if lines else "no message").replace("|", "/")


class Engine:
    def __init__(self, label):
        self.label = label
        self.walls, self.cpus, self.rss, self.rows = [], [], [], None
        self.failure = None

    def add(self, row, log_dir):
        if row["status"] != "ok":
            err = os.path.join(log_dir, slug(row["size"], row["input"], self.label) + ".err")
            self.failure = f"{row['status']}: {last_error_line(err)}"
            return
        self.walls.append(float(row["wall_s"]))
        self.cpus.append(float(row["user_s"]) + float(row["sys_s"]))
        self.rss.append(int(row["max_rss_kb"]))
        if row["rows"] != "-":
            self.rows = int(row["rows"])

    @property
    def best(self):
        return min(self.walls) if self.walls else None

    def cell(self, with_median=True):
        if not self.walls:
            return "failed" if self.failure else "–"
        text = f"{self.best:.2f} s"
        if with_median and len(self.walls) > 1:
            text += f" (median {statistics.median(self.walls):.2f})"
        return text + f", {statistics.median(self.cpus):.1f} CPU-s, {max(self.rss) / 1024:.0f} MB"


def ratio(other, ours):
    if other is None or not ours:
        return "–"
    return f"{other / ours:.2f}x"


def peer_cell(engines, peer):
    """The peer's fastest completed query, and whether the query as its
    users first write it failed."""
    family = [e for e in engines.values() if e.label.startswith(peer) and "equal work" not in e.label]
    if not family:
        return "–", None
    done = [e for e in family if e.best is not None]
    first = engines.get(peer)
    note = "; as first written: failed" if first is not None and first.failure else ""
    if not done:
        return "failed" + note, None
    fastest = min(done, key=lambda e: e.best)
    variant = fastest.label[len(peer) + 2 :] if fastest.label != peer else ""
    return fastest.cell() + (f" ({variant})" if variant else "") + note, fastest.best


def stages(path):
    found, count = [], None
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                m = STAGE.match(line.strip())
                if m:
                    cpu = float(m.group(3)) if m.group(3) else None
                    found.append((m.group(1), float(m.group(2)), cpu))
                m = COUNT.match(line.strip())
                if m:
                    count = int(m.group(1))
    except OSError:
        return None, None
    return found, count


def per_sign_in(secs, count):
    return f"{secs / count * 1e6:.2f}" if count and secs is not None else "–"


def print_stages(size, inp, log_dir):
    all_cores, count = stages(os.path.join(log_dir, f"stages-{size}-{inp}-all.err"))
    one, count_one = stages(os.path.join(log_dir, f"stages-{size}-{inp}-1.err"))
    if not all_cores:
        return
    count = count or count_one
    one = {name: secs for name, secs, _ in one or []}
    print(f"\nentrasift stages, {NAME[inp]} ({size}, {count} sign-ins; `analyze -v`, one run each):\n")
    print("| stage | all cores | µs per sign-in | 1 thread | µs per sign-in |")
    print("|---|---|---|---|---|")
    for name, secs, _ in all_cores:
        # Parts of a stage (report parts, the analysis' parts and each
        # detection) run side by side inside it and are printed indented.
        shown = f"&nbsp;&nbsp;{name}" if is_part(name) else name
        t1 = one.get(name)
        t1_text = f"{t1:.3f} s" if t1 is not None else "–"
        print(f"| {shown} | {secs:.3f} s | {per_sign_in(secs, count)} | {t1_text} | {per_sign_in(t1, count)} |")


def is_part(name):
    """Parts of a stage run inside it; only whole stages add up."""
    return name.startswith(("report part", "part:", "detection:"))


def print_budget(size, keys, table, log_dir, cores):
    print(f"\nCan the targets be met? ({size} records, {cores} cores; CPU seconds)\n")
    print(
        "| input | target | target wall | CPU budget | SHA-256 floor | entrasift after reading "
        "| left to read and parse | left if the hash went | entrasift reads and parses now (less the floor) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for s, inp in keys:
        e = table[(s, inp)]
        peer, times = TARGET[inp]
        _, peer_best = peer_cell(e, peer)
        floor = e.get("SHA-256 floor")
        found, _ = stages(os.path.join(log_dir, f"stages-{s}-{inp}-all.err"))
        if peer_best is None or floor is None or not floor.cpus or not found:
            print(f"| {NAME[inp]} | {times:g}x {peer} | – | – | – | – | – | – | – |")
            continue
        wall = peer_best / times
        budget = wall * cores
        hashing = statistics.median(floor.cpus)
        whole = [(n, c) for n, _, c in found if not is_part(n) and c is not None]
        after = sum(c for n, c in whole if n != READ_STAGE)
        reading = sum(c for n, c in whole if n == READ_STAGE)
        print(
            f"| {NAME[inp]} | {times:g}x {peer} ({peer_best:.2f} s) | {wall:.2f} s | {budget:.2f} "
            f"| {hashing:.2f} | {after:.2f} | {budget - hashing - after:.2f} | {budget - after:.2f} "
            f"| {reading - hashing:.2f} |"
        )


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    runs_tsv, data_dir, log_dir = sys.argv[1:]
    table, order = {}, []
    with open(runs_tsv, encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            key = (row["size"], row["input"])
            if key not in table:
                table[key] = {}
                order.append(key)
            engines = table[key]
            engines.setdefault(row["engine"], Engine(row["engine"])).add(row, log_dir)

    # entrasift's row count is the sign-ins it kept, from its -v run.
    for (size, inp), engines in table.items():
        _, kept = stages(os.path.join(log_dir, f"stages-{size}-{inp}-all.err"))
        if kept is not None and "entrasift" in engines:
            engines["entrasift"].rows = kept

    for size in dict.fromkeys(s for s, _ in order):
        keys = [k for k in order if k[0] == size]
        print(f"\n### {size} records\n")
        print(
            "| input | size | rows | `cat` | SHA-256 floor | entrasift `analyze` | DuckDB | polars "
            "| entrasift vs DuckDB | vs polars | 1 -> all threads |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for s, inp in keys:
            e = table[(s, inp)]
            ours = e.get("entrasift", Engine("entrasift"))
            one = e.get("entrasift --threads 1", Engine(""))
            duck, duck_best = peer_cell(e, "DuckDB")
            polars, polars_best = peer_cell(e, "polars")
            rows = next((x.rows for x in e.values() if x.rows), None)
            print(
                f"| {NAME[inp]} | {human_bytes(folder_bytes(os.path.join(data_dir, s, FOLDER[inp])))} "
                f"| {rows if rows is not None else '–'} | {e.get('cat', Engine('cat')).cell(False)} "
                f"| {e.get('SHA-256 floor', Engine('SHA-256 floor')).cell(False)} "
                f"| {ours.cell()} | {duck} | {polars} "
                f"| {ratio(duck_best, ours.best)} | {ratio(polars_best, ours.best)} | {ratio(one.best, ours.best)} |"
            )

        print(f"\nEvery run, {size} records:\n")
        print("| input | engine | runs | best | median | CPU-s | peak RSS | rows | x entrasift | failure |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for s, inp in keys:
            e = table[(s, inp)]
            ours = e.get("entrasift", Engine("entrasift")).best
            for label, x in e.items():
                if x.walls:
                    cells = (
                        f"{len(x.walls)} | {x.best:.2f} s | {statistics.median(x.walls):.2f} s "
                        f"| {statistics.median(x.cpus):.1f} | {max(x.rss) / 1024:.0f} MB"
                    )
                else:
                    cells = "0 | – | – | – | –"
                vs = ratio(x.best, ours) if label != "entrasift" else ""
                rows = x.rows if x.rows is not None else "–"
                print(f"| {NAME[inp]} | {label} | {cells} | {rows} | {vs} | {x.failure or ''} |")

        print_budget(size, keys, table, log_dir, os.cpu_count() or 1)

        for s, inp in keys:
            print_stages(s, inp, log_dir)


if __name__ == "__main__":
    main()
