#!/usr/bin/env bash
# Runs every fuzz target (or those named) for a bounded time each, then
# minimises whatever crashed, hung or ran out of memory into the regression
# corpus tests/fuzz-corpus/<target>/, which `cargo test` replays on stable.
#
# Usage: fuzz/run.sh [seconds-per-target] [target...]
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
set -euo pipefail

secs=${1:-60}
shift || true
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
cd "$here"

if [ $# -gt 0 ]; then
    targets=("$@")
else
    targets=()
    for f in fuzz_targets/*.rs; do
        targets+=("$(basename "$f" .rs)")
    done
fi

# Release code with debug assertions and overflow checks. No sanitizer: the
# crate has no unsafe code; panics, hangs and runaway memory are the bugs.
flags=(-O -a -s none)
# The fuzz crate is its own workspace with its own target folder.
unset CARGO_TARGET_DIR
cargo +nightly fuzz build "${flags[@]}"

# One reader thread keeps executions comparable and leaves cores free.
export RAYON_NUM_THREADS=1
libfuzzer=(-rss_limit_mb=2048 -timeout=10 -max_len=65536 -print_final_stats=1)

mkdir -p logs
summary=()
found=0
for t in "${targets[@]}"; do
    # The working corpus grows across runs; it starts from the committed one.
    mkdir -p "corpus/$t" "artifacts/$t"
    cp -n "$root/tests/fuzz-corpus/$t/"* "corpus/$t/" 2>/dev/null || true
    before=$(mktemp)
    find "artifacts/$t" -type f | sort >"$before"
    set +e
    cargo +nightly fuzz run "${flags[@]}" "$t" "corpus/$t" -- \
        "${libfuzzer[@]}" -max_total_time="$secs" \
        -artifact_prefix="artifacts/$t/" >"logs/$t.log" 2>&1
    rc=$?
    set -e
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "logs/$t.log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "logs/$t.log" | tail -1)
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "logs/$t.log" | tail -1)
    summary+=("$t: runs=${runs:-?} exec/s=${speed:-?} ${cov:-cov: ?} exit=$rc")
    # New artifacts: minimise crashes; keep hangs and OOMs as found.
    for a in $(find "artifacts/$t" -type f | sort | comm -13 "$before" -); do
        case "$(basename "$a")" in
            crash-*)
                out="artifacts/$t/min-$(basename "$a")"
                cargo +nightly fuzz run "${flags[@]}" "$t" "$a" -- \
                    -minimize_crash=1 -max_total_time=60 \
                    -exact_artifact_path="$out" >>"logs/$t.log" 2>&1 || true
                [ -s "$out" ] || out=$a
                ;;
            timeout-* | oom-* | slow-unit-*) out=$a ;;
            *) continue ;;
        esac
        dest="$root/tests/fuzz-corpus/$t/$(basename "$a" | cut -d- -f1)-$(sha1sum "$out" | cut -c1-16)"
        cp "$out" "$dest"
        echo "new: $dest (from $a)"
        found=$((found + 1))
    done
    rm -f "$before"
done

printf '%s\n' "${summary[@]}"
echo "new regression inputs: $found (logs in fuzz/logs/)"
[ "$found" -eq 0 ]
