#!/usr/bin/env bash
# The query service's web console in a real headless browser (Debian's chromium): starts `veil service` on the
# shipped health panel with a fresh ledger and fresh tokens, drives the console with scripts/browser_test.py
# (sign in, see the cost, run a grouped query, check the rendered table, the budget and the history; then the
# auditor's live report), and saves the screenshot as docs/images/service-console.png.
# Usage: scripts/browser_test.sh [path/to/veil]   (default .build/debug/veil)
set -euo pipefail
cd "$(dirname "$0")/.."
VEIL=${1:-.build/debug/veil}
[ -x "$VEIL" ] || { echo "no veil binary at $VEIL (run swift build first)" >&2; exit 1; }
WORK=$(mktemp -d)
SERVICE_PID=""
cleanup() { [ -n "$SERVICE_PID" ] && kill "$SERVICE_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

ANALYST_DIGEST=$("$VEIL" service token --secret-file "$WORK/ana.token" | awk '{print $2}')
AUDITOR_DIGEST=$("$VEIL" service token --secret-file "$WORK/audrey.token" | awk '{print $2}')
cat > "$WORK/service.yaml" <<YAML
datasets:
  health_panel:
    database: $PWD/datasets/health_panel.sqlite
    metadata: $PWD/datasets/health_panel.privacy.yaml
    ledger: ledger.sqlite
    budget: {epsilon: 10, delta: 1e-5}
accounts:
  ana:
    role: analyst
    token_sha256: $ANALYST_DIGEST
    limits:
      health_panel: {epsilon: 3, delta: 1e-6}
  audrey: {role: auditor, token_sha256: $AUDITOR_DIGEST}
YAML

"$VEIL" service --config "$WORK/service.yaml" --port 0 > "$WORK/out" 2> "$WORK/log" &
SERVICE_PID=$!
for _ in $(seq 1 600); do grep -q "127.0.0.1:" "$WORK/out" 2>/dev/null && break; sleep 0.1; done
URL=$(grep -o "http://127.0.0.1:[0-9]*" "$WORK/out" | head -1)
[ -n "$URL" ] || { echo "the service did not start:" >&2; cat "$WORK/out" "$WORK/log" >&2; exit 1; }

python3 scripts/browser_test.py "$URL" "$(cat "$WORK/ana.token")" "$(cat "$WORK/audrey.token")" docs/images/service-console.png
