"""Derives "lean" sign-in exports from the "rich" ones `entrasift generate`
writes, for benches/compare.sh.

    python3 benches/make_lean.py RICH_DIR LEAN_DIR

`entrasift generate` writes every member a real export carries, about
4.8 KB of JSON per sign-in, more than half of it nested detail that nobody
aggregates: the Conditional Access policy results alone are about 1.2 KB.
Many real exports are smaller (chosen columns, collectors that drop nested
members), and on small records the cost per record, not per byte, decides
a comparison. So the benchmark runs both sizes; a lean record is about
1.5 KB (portal JSON) or 2 KB (Azure Monitor, with its envelope).

A lean record is the rich one less the members in DROP, at any depth:
the nested detail above and flat bookkeeping no reader takes. Everything
the analysis reads, flat fields and the small objects (status,
deviceDetail, location, mfaDetail), is kept as it was:

- portal JSON (`portal-json/*.json`, a JSON array per sign-in type): each
  record written compact, one per line inside the array (as Graph pages
  and most collectors write them; the portal's own indentation would add
  a fifth).
- Azure Monitor blobs (`azure-monitor-blob/**/PT1H.json`, JSON Lines): the
  envelope and its `properties` cut the same way; one line each.
- portal CSV (`portal-csv/*.csv`): the sign-in files are already flat and
  are copied unchanged, with every column; the AuthDetails companion (one
  row per authentication step, the CSV form of authenticationDetails) is
  left out.

entrasift's findings on a lean folder are the same as on the rich one
(checked with `diff` on findings.csv; the analysis takes the MFA method
from mfaDetail, which is kept, and reads authenticationDetails only when
mfaDetail is empty); only file names, sizes and digests differ. When the
readers learn a new member, check again and move it out of DROP. It
prints the records written per shape.
"""

import json
import os
import shutil
import sys
from multiprocessing import Pool

# Nested detail no detection or table reads. The first five are the
# members entrasift's JSON reader already skips without building a tree
# (src/ingest/json/value.rs, UNREAD); authenticationDetails is the list of
# authentication steps, authenticationRequirementPolicies its policy list.
NESTED = {
    "appliedConditionalAccessPolicies",
    "authenticationProcessingDetails",
    "networkLocationDetails",
    "appliedEventListeners",
    "sessionLifetimePolicies",
    "authenticationDetails",
    "authenticationRequirementPolicies",
}

# Flat bookkeeping no reader takes: tenant, resource and token-issuer ids,
# processing time, review flags, the device's display name and the like.
# Kept although flat: the authentication protocol, transfer method and
# token fields, which the device-code and session checks read.
BOOKKEEPING = {
    "originalRequestId",
    "resourceId",
    "resourceTenantId",
    "homeTenantId",
    "homeTenantName",
    "tokenIssuerName",
    "tokenIssuerType",
    "processingTimeInMilliseconds",
    "signInIdentifier",
    "signInIdentifierType",
    "userType",
    "crossTenantAccessType",
    "flaggedForReview",
    "isTenantRestricted",
    "riskDetail",
    "federatedTokenId",
    "federatedTokenIssuer",
    "associatedResourceId",
    "servicePrincipalCredentialThumbprint",
    "clientCredentialType",
    "displayName",
    "trustType",
    "altitude",
}

DROP = frozenset(NESTED | BOOKKEEPING)


def cut(value):
    """`value` without the DROP members, at any depth, in original order."""
    if isinstance(value, dict):
        return {k: cut(v) for k, v in value.items() if k not in DROP}
    if isinstance(value, list):
        return [cut(v) for v in value]
    return value


def array_records(path, chunk=1 << 20):
    """The elements of a top-level JSON array, one at a time, without
    holding the file (a portal download can be several GB)."""
    decoder = json.JSONDecoder()
    with open(path, encoding="utf-8") as f:
        buf, pos, eof = f.read(chunk), 0, False
        pos = buf.index("[") + 1
        while True:
            while pos < len(buf) and buf[pos] in " \t\r\n,":
                pos += 1
            if pos < len(buf) and buf[pos] == "]":
                return
            try:
                value, end = decoder.raw_decode(buf, pos)
            except json.JSONDecodeError:
                if eof:
                    raise
                more = f.read(chunk)
                eof = not more
                buf, pos = buf[pos:] + more, 0
                continue
            yield value
            pos = end
            if pos > chunk:
                buf, pos = buf[pos:], 0


def lean_array(src, dst):
    n = 0
    with open(dst, "w", encoding="utf-8") as out:
        out.write("[\n")
        for rec in array_records(src):
            text = json.dumps(cut(rec), separators=(",", ":"), ensure_ascii=False)
            out.write((",\n" if n else "") + text)
            n += 1
        out.write("\n]\n" if n else "]\n")
    return n


def lean_lines(src, dst):
    n = 0
    with open(src, encoding="utf-8") as f, open(dst, "w", encoding="utf-8") as out:
        for line in f:
            if line.strip():
                rec = cut(json.loads(line))
                out.write(json.dumps(rec, separators=(",", ":"), ensure_ascii=False) + "\n")
                n += 1
    return n


def lean_csv(src, dst):
    shutil.copyfile(src, dst)
    with open(src, "rb") as f:
        # Generated cells hold no line breaks, so lines less the header
        # are rows (a count for the report, not used for anything else).
        return max(sum(1 for _ in f) - 1, 0)


def job(task):
    shape, src, dst = task
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    fn = {"portal-json": lean_array, "azure-monitor-blob": lean_lines, "portal-csv": lean_csv}[shape]
    return shape, fn(src, dst)


def tasks(rich, lean):
    found = []
    for shape in ("portal-json", "azure-monitor-blob", "portal-csv"):
        top = os.path.join(rich, shape)
        for dirpath, _, names in os.walk(top):
            for name in names:
                src = os.path.join(dirpath, name)
                if shape == "portal-csv" and (not name.endswith(".csv") or "_AuthDetails_" in name):
                    continue
                if shape != "portal-csv" and not name.endswith(".json"):
                    continue
                found.append((shape, src, os.path.join(lean, os.path.relpath(src, rich))))
    if not found:
        raise SystemExit(f"no portal-json, azure-monitor-blob or portal-csv files under {rich}")
    # Largest first, so the one big file of a shape does not start last.
    return sorted(found, key=lambda t: -os.path.getsize(t[1]))


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    rich, lean = sys.argv[1:]
    counts = {}
    with Pool(os.cpu_count() or 1) as pool:
        for shape, n in pool.imap_unordered(job, tasks(rich, lean)):
            counts[shape] = counts.get(shape, 0) + n
    for shape in sorted(counts):
        print(f"{shape}\t{counts[shape]}")


if __name__ == "__main__":
    main()
