#!/usr/bin/env bash
# The main demo on the embedded defaults: what Veil's accountants say about a DP-SGD run on MNIST,
# how much noise a target ε needs, and private SQL on the shipped health panel with a fresh budget
# ledger under .build/demo/. Usage: scripts/demo.sh PATH/TO/veil
set -euo pipefail
VEIL=${1:-.build/release/veil}
# Paths below are relative to the repository root.
if [ -e "$VEIL" ]; then VEIL="$(cd "$(dirname "$VEIL")" && pwd)/$(basename "$VEIL")"; fi
cd "$(dirname "$0")/.."
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

say "Private SQL on the German health panel (datasets/health_panel.sqlite, 6,127 people, 1984-1988)"
DEMO_DIR=.build/demo
mkdir -p "$DEMO_DIR"
export VEIL_LEDGER="$DEMO_DIR/health_panel-ledger.sqlite"
rm -f "$VEIL_LEDGER" "$VEIL_LEDGER-wal" "$VEIL_LEDGER-shm"
Q=(query --db datasets/health_panel.sqlite --metadata datasets/health_panel.privacy.yaml --analyst demo)
run budget create health_panel --epsilon 3 --delta 1e-5 --composition basic
run "${Q[@]}" --dry-run --epsilon 0.5 "SELECT year, COUNT(*) AS people FROM visits GROUP BY year"
run "${Q[@]}" --epsilon 0.5 "SELECT year, COUNT(*) AS people FROM visits GROUP BY year"
run "${Q[@]}" --epsilon 0.5 "SELECT female, AVG(doctor_visits) AS mean_visits FROM visits GROUP BY female"
run "${Q[@]}" --epsilon 0.5 "SELECT MEDIAN(income) AS median_income FROM visits"
run "${Q[@]}" --epsilon 0.5 --delta 1e-6 --format json "SELECT age, COUNT(*) AS n FROM visits WHERE age >= 60 GROUP BY age"

say "The privacy-budget ledger: an outside release, a refusal, verification and the audit report"
run budget charge health_panel --epsilon 0.5 --analyst bruno --purpose "weekly figures published elsewhere"
run "${Q[@]}" --epsilon 1 "SELECT year, SUM(doctor_visits) FROM visits GROUP BY year" \
    || echo "(refused with exit code $? before the data was read: the budget filter holds)"
run budget show health_panel
run budget verify
run budget report health_panel --format html --output "$DEMO_DIR/budget-report.html"
run budget report health_panel --format md

say "Local inference: train the small health-panel model, serve it on loopback, query it once over HTTP"
MODELS="$DEMO_DIR/models"
rm -rf "$MODELS"
run budget create health_panel_training --epsilon 2 --delta 1e-5 --composition rdp
run train pipelines/health-panel-logistic-eps1.yaml --output "$DEMO_DIR/health-panel-logistic-eps1.safetensors"
run models add "$DEMO_DIR/health-panel-logistic-eps1.safetensors" --name health --models "$MODELS"
run models list --models "$MODELS"
printf '$ veil serve health --models %s --port 0 &\n' "$MODELS"
"$VEIL" serve health --models "$MODELS" --port 0 > "$DEMO_DIR/serve.out" 2> "$DEMO_DIR/serve.log" &
SERVER=$!
for _ in $(seq 1 300); do grep -q '127.0.0.1:' "$DEMO_DIR/serve.out" 2>/dev/null && break; sleep 0.1; done
cat "$DEMO_DIR/serve.out"
PORT=$(grep -o '127\.0\.0\.1:[0-9]*' "$DEMO_DIR/serve.out" | head -1 | cut -d: -f2)
# One (made-up) person: age, income, education years and level, doctor visits, hospital days, married,
# kids, out of work, self-employed; the server clamps and scales them with the model's declared bounds.
BODY='{"id":"demo","inputs":[{"name":"input","shape":[1,10],"datatype":"FP32","data":[45,3.2,11,2,1,0,1,0,0,0]}]}'
printf '$ curl -s http://127.0.0.1:%s/v2/models/health/infer -d %s\n' "$PORT" "'$BODY'"
if command -v curl >/dev/null; then
    curl -s "http://127.0.0.1:$PORT/v2/models/health/infer" -d "$BODY"
else  # plain bash when curl is not installed
    exec 3<>"/dev/tcp/127.0.0.1/$PORT"
    printf 'POST /v2/models/health/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
        "${#BODY}" "$BODY" >&3
    sed -n '/^\r$/,$p' <&3 | tail -n +2
    exec 3<&-
fi
echo
kill -TERM "$SERVER" && wait "$SERVER"
echo "(server stopped; its access log, which holds no request content:)"
cat "$DEMO_DIR/serve.log"

say "Federated learning: one client per person of the health panel, DP-FedAvg at person-level ε = 1"
run budget create health_panel_federated --epsilon 2 --delta 1e-5 --composition rdp
run federated simulate pipelines/health-panel-logistic-federated-eps1.yaml --rounds 20 \
    --output "$DEMO_DIR/health-panel-logistic-federated-eps1.safetensors"
