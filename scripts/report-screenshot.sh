#!/usr/bin/env bash
# Renders a budget audit report to PNG with headless Chromium, to check how the HTML report looks
# (the file is self-contained: Chromium needs no network to draw it).
#
# Usage:
#   scripts/report-screenshot.sh [LEDGER.sqlite] [OUTPUT.png]
#
# Without LEDGER, builds a demo ledger with scripts/budget-demo-ledger.sh in a temporary folder.
# OUTPUT defaults to docs/images/budget-report.png. The HTML report is written next to the PNG
# as OUTPUT.html only while the screenshot is taken, then removed.
#
# Needs: a built veil (VEIL=path, default .build/debug/veil) and Chromium
# (Debian: apt-get install -y chromium). Look at the PNG afterwards: charts, tables, hash.
set -euo pipefail
cd "$(dirname "$0")/.."
VEIL=${VEIL:-.build/debug/veil}
OUTPUT=${2:-docs/images/budget-report.png}
WIDTH=${WIDTH:-1200}
HEIGHT=${HEIGHT:-3400}
command -v chromium >/dev/null || { echo "chromium not found: apt-get install -y chromium" >&2; exit 1; }
[ -x "$VEIL" ] || { echo "no veil binary at $VEIL (swift build, or set VEIL)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
LEDGER=${1:-}
if [ -z "$LEDGER" ]; then
    LEDGER="$work/demo-ledger.sqlite"
    bash scripts/budget-demo-ledger.sh "$LEDGER" "$VEIL" >/dev/null
fi
"$VEIL" budget report --format html --output "$work/report.html" --ledger "$LEDGER"
mkdir -p "$(dirname "$OUTPUT")"
# --no-sandbox: Chromium's sandbox cannot start as root; the page is a local file without scripts.
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --window-size="$WIDTH,$HEIGHT" --screenshot="$(realpath -m "$OUTPUT")" "file://$work/report.html" 2>/dev/null
echo "wrote $OUTPUT"
