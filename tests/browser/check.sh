#!/usr/bin/env bash
# Loads REPORT_DIR/report.html in headless Chromium and checks that the
# sections and inline SVG charts render and that the page asks the network
# for nothing. Installs Debian's chromium when it is missing.
#   tests/browser/check.sh REPORT_DIR
set -euo pipefail
report="$(cd "$1" && pwd)/report.html"
test -s "$report"
if ! command -v chromium >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
work="$(mktemp -d)"
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
  --disable-background-networking --disable-component-update --disable-sync
  )
# Requests the page itself starts carry its origin as initiator ("null" for
# file://); the browser's own background traffic is "not an origin".
page_requests() { grep -o '"initiator":"[^"]*"' "$1" | grep -vc '"not an origin"' || true; }
load() { # url netlog dom
  timeout 120 chromium "${flags[@]}" --user-data-dir="$(mktemp -d)" --log-net-log="$2" \
    --net-log-capture-mode=Default --dump-dom "$1" > "$3" 2>/dev/null
}
# Control: a page with one remote image must be caught, or the check proves nothing.
echo '<html><body><img src="http://127.0.0.1:9/x.png"></body></html>' > "$work/control.html"
load "file://$work/control.html" "$work/control.json" "$work/control.dom"
[ "$(page_requests "$work/control.json")" -ge 1 ] || { echo "browser check: the net-log control saw no request" >&2; exit 1; }
load "file://$report" "$work/net.json" "$work/dom.html"
timeout 120 chromium "${flags[@]}" --user-data-dir="$(mktemp -d)" --window-size=1300,2400 --screenshot="$work/report.png" \
  "file://$report" >/dev/null 2>&1 || true

fail() { echo "browser check: $*" >&2; exit 1; }
for id in summary findings error-codes charts top-ips top-users inputs; do
  grep -q "id=\"$id\"" "$work/dom.html" || fail "section #$id missing from the rendered page"
done
svgs=$(grep -o "<svg" "$work/dom.html" | wc -l)
[ "$svgs" -ge 6 ] || fail "only $svgs inline SVG charts rendered"
grep -q "<script>alert" "$work/dom.html" && fail "unescaped script from a log string"
n=$(page_requests "$work/net.json")
[ "$n" -eq 0 ] || fail "the page made $n network request(s)"
[ -s "$work/report.png" ] && echo "screenshot: $work/report.png"
echo "browser check: ok ($svgs inline SVGs, no network requests)"
