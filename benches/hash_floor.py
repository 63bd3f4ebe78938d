"""The evidence-hash floor of benches/compare.sh: read every file under DIR
once and compute its SHA-256, on as many threads as the machine has cores,
and nothing else.

    python3 benches/hash_floor.py DIR

entrasift records the SHA-256 of each input in manifest.json (the chain of
custody `entrasift verify` checks), so no run of it can take less CPU than
this; the peers hash nothing. hashlib is OpenSSL's SHA-256, which uses the
CPU's SHA extensions where it has them (as entrasift's sha2 does); GNU
sha256sum 9.1 does not, and is several times slower, so it would not be a
floor.
"""

import hashlib
import os
import sys
from concurrent.futures import ThreadPoolExecutor

CHUNK = 1 << 20


def digest(path):
    h = hashlib.sha256()
    with open(path, "rb", buffering=0) as f:
        while True:
            block = f.read(CHUNK)
            if not block:
                return h.hexdigest(), os.path.getsize(path)
            # hashlib releases the GIL while it hashes a large block, so
            # files hash side by side on the pool's threads.
            h.update(block)


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    files = sorted(os.path.join(root, name) for root, _, names in os.walk(sys.argv[1]) for name in names)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        done = list(pool.map(digest, files))
    print(f"files={len(done)} bytes={sum(size for _, size in done)}")


if __name__ == "__main__":
    main()
