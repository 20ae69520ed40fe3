#!/usr/bin/env bash
# The main demo on the embedded defaults: what Veil's accountants say about a DP-SGD run on MNIST,
# and how much noise a target ε needs. Usage: scripts/demo.sh PATH/TO/veil
set -euo pipefail
VEIL=${1:-.build/release/veil}
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ veil %s\n' "$*"; "$VEIL" "$@"; }

say "Cost of DP-SGD on MNIST: expected batch 256 of 60,000 (q = 0.004267), σ = 1.1, 10,000 steps"
run account dpsgd --sampling-rate 0.004267 --noise-multiplier 1.1 --steps 10000 --delta 1e-5
run account dpsgd --sampling-rate 0.004267 --noise-multiplier 1.1 --steps 10000 --delta 1e-5 --accountant pld

say "Noise needed for ε = 1, 3, 8 over 60 epochs (14,060 steps)"
for eps in 1 3 8; do
    run account calibrate --target-epsilon "$eps" --sampling-rate 0.004267 --steps 14060 --delta 1e-5
done
