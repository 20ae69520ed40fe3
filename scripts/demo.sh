#!/usr/bin/env bash
# The main demo on the embedded defaults: what Veil's accountants say about a DP-SGD run on MNIST,
# and how much noise a target ε needs. Usage: scripts/demo.sh PATH/TO/veil
set -euo pipefail
VEIL=${1:-.build/release/veil}
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() {
    local shown=() a
    for a in "$@"; do [[ $a == *[[:space:]]* ]] && shown+=("\"$a\"") || shown+=("$a"); done
    printf '$ veil %s\n' "${shown[*]}"
    "$VEIL" "$@"
}

say "Cost of DP-SGD on MNIST: expected batch 256 of 60,000 (q = 0.004267), σ = 1.1, 10,000 steps"
run account dpsgd --sampling-rate 0.004267 --noise-multiplier 1.1 --steps 10000 --delta 1e-5
run account dpsgd --sampling-rate 0.004267 --noise-multiplier 1.1 --steps 10000 --delta 1e-5 --accountant pld

say "Noise needed for ε = 1, 3, 8 over 60 epochs (14,060 steps)"
for eps in 1 3 8; do
    run account calibrate --target-epsilon "$eps" --sampling-rate 0.004267 --steps 14060 --delta 1e-5
done

say "The privacy-budget ledger: a budget, charges, a refusal, verification and the audit report"
DEMO_DIR=.build/demo
mkdir -p "$DEMO_DIR"
export VEIL_LEDGER="$DEMO_DIR/veil-ledger.sqlite"
rm -f "$VEIL_LEDGER" "$VEIL_LEDGER-wal" "$VEIL_LEDGER-shm"
run budget create health_panel --epsilon 3 --delta 1e-5 --composition basic
run budget charge health_panel --epsilon 1 --analyst ana --purpose "visits by year"
run budget charge health_panel --epsilon 1.5 --delta 1e-6 --analyst bruno --purpose "median income"
run budget charge health_panel --epsilon 1 --analyst ana --purpose "cross-tab" || echo "(refused with exit code $?: the budget filter holds)"
run budget show health_panel
run budget verify
run budget report health_panel --format md --output "$DEMO_DIR/budget-report.md"
run budget report health_panel --format html --output "$DEMO_DIR/budget-report.html"
cat "$DEMO_DIR/budget-report.md"
