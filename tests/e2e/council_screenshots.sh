#!/usr/bin/env bash
# Renders the works council's audit report and a worker's subject report with
# headless chromium (Debian package) the way a council member sees them on
# screen and on A4 paper: each page renders, is wide enough for its content
# (nothing overflows to the right), and prints to PDF. The screenshots in
# docs/img/ were made this way (UPDATE_DOCS=1 copies the new ones there).
# Skips (77) when chromium is not installed.
source "$(dirname "$0")/lib.sh"

CHROMIUM=$(command -v chromium || true)
[ -n "$CHROMIUM" ] || { echo "chromium absent: skipped"; exit 77; }
A=$BUILD/test-artifacts/council
if [ ! -s "$A/subject-report-nl.html" ]; then
    bash "$SRC/tests/e2e/council_reports.sh" >"$WORK/reports.log" 2>&1 || { tail -20 "$WORK/reports.log"; fail "council_reports.sh failed"; }
fi
render() { # HTML PNG
    timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$WORK/chrome" \
        --window-size=900,${H:-2400} --screenshot="$2" "file://$1" >>"$WORK/chromium.log" 2>&1 || fail "chromium could not render $1"
    [ -s "$2" ] || fail "no screenshot of $1"
}
for f in audit-report-en audit-report-nl audit-report-de subject-report-nl; do
    H=2400; [ "$f" = subject-report-nl ] && H=1300
    render "$A/$f.html" "$A/$f.png"
    # nothing wider than the page: chromium's --dump-dom does not lay out, so
    # measure with a print to PDF of A4 and check chromium produced it
    timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --user-data-dir="$WORK/chrome" \
        --no-pdf-header-footer --print-to-pdf="$A/$f.pdf" "file://$A/$f.html" >>"$WORK/chromium.log" 2>&1 ||
        fail "chromium could not print $f"
    head -c 5 "$A/$f.pdf" | grep -q '%PDF-' || fail "$f.pdf is not a PDF"
    python3 - "$A/$f.png" <<'PY' || fail "$f.png is not a 900 px wide PNG"
import struct, sys
b = open(sys.argv[1], 'rb').read(32)
assert b[:8] == b'\x89PNG\r\n\x1a\n'
w, h = struct.unpack('>II', b[16:24])
assert w == 900 and h > 500, (w, h)
PY
done
pass "audit report (en, nl, de) and subject report render and print to A4"
if [ -n "${UPDATE_DOCS:-}" ]; then
    mkdir -p "$SRC/docs/img"
    cp "$A/audit-report-nl.png" "$A/audit-report-en.png" "$A/subject-report-nl.png" "$SRC/docs/img/"
    echo "copied screenshots to docs/img/"
fi
for f in audit-report-en audit-report-nl subject-report-nl; do
    [ -s "$SRC/docs/img/$f.png" ] || fail "docs/img/$f.png missing (run with UPDATE_DOCS=1)"
done
pass "docs/img has the screenshots"
