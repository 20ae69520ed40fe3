#!/usr/bin/env bash
# Runs federated pipelines of the results page (notebooks-exports/federated-results.md) with the release build,
# one after the other at low priority, and keeps each run's JSON summary and progress log under
# notebooks-exports/runs/federated-STEM.{json,log}. Private runs charge the ledger given by $VEIL_LEDGER
# (default .build/federated-results-ledger.sqlite), whose scopes mnist_federated and fashion_mnist_federated are
# created on first use.
#
#   swift build -c release --product veil
#   [NICE=10] bash scripts/run_federated_results.sh mnist-mlp-federated-dpfedavg-eps8 [STEM ...] [-- EXTRA VEIL OPTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
VEIL=${VEIL:-.build/release/veil}
export VEIL_LEDGER=${VEIL_LEDGER:-.build/federated-results-ledger.sqlite}
RUNS=notebooks-exports/runs
mkdir -p "$RUNS" models
stems=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do stems+=("$1"); shift; done
[ $# -gt 0 ] && shift
for scope in mnist_federated fashion_mnist_federated; do
  "$VEIL" budget show "$scope" >/dev/null 2>&1 ||
    "$VEIL" budget create "$scope" --epsilon 200 --delta 1e-3 --composition rdp >/dev/null
done
for stem in "${stems[@]}"; do
  started=$(date +%s.%N)
  echo "== $stem (started $(date -u +%H:%M:%S) UTC, load $(cut -d' ' -f1-3 /proc/loadavg))" | tee "$RUNS/federated-$stem.log"
  nice -n "${NICE:-10}" "$VEIL" federated simulate "pipelines/$stem.yaml" --evaluate-every 10 --json "$@" \
    > "$RUNS/federated-$stem.json" 2>> "$RUNS/federated-$stem.log"
  ended=$(date +%s.%N)
  echo "== wall time $(echo "$ended - $started" | bc) s, load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$RUNS/federated-$stem.log"
  tail -1 "$RUNS/federated-$stem.json"
done
