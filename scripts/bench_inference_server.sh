#!/usr/bin/env bash
# `veil serve` under load: wrk (Debian package) on loopback against the three benchmark models at batch 1,
# with 1 and 64 connections; requests/s and p50/p99 latency, and the server's addition to p50 over the
# bare forward pass at batch 1 (from `veil-bench inference` in the same run) and over the loopback floor (a
# server that only reads each request and answers {}, scripts/loopback_floor_server.py, under the same
# load). With a Python that has PyTorch ($PYREF_PYTHON, default .build/pyref/bin/python, as scripts/bench.sh
# sets up), the PyTorch reference (scripts/reference_bench_inference.py) runs right after `veil-bench
# inference`, and the ratios Veil / PyTorch per architecture and batch size are printed too. The one-connection
# figures are medians over $WRK_ROUNDS (default 3) runs taken in turn with the floor's, with the lowest and
# highest p50 beside them. Prints one JSON object.
# Usage: scripts/bench_inference_server.sh PATH/TO/veil PATH/TO/veil-bench   (scripts/bench.sh calls it)
set -euo pipefail
cd "$(dirname "$0")/.."
VEIL=${1:-.build/release/veil}
BENCH=${2:-.build/release/veil-bench}
DURATION=${WRK_DURATION:-5s}
ROUNDS=${WRK_ROUNDS:-3}
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
if ! command -v wrk >/dev/null; then
    echo "== installing wrk" >&2
    $SUDO apt-get install -y -qq --no-install-recommends wrk >&2 || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends wrk >&2; }
fi
WORK=.build/bench-data/inference-server
rm -rf "$WORK" && mkdir -p "$WORK/models"
"$BENCH" inference --export "$WORK/models" > "$WORK/forward.json"
PYREF_PYTHON=${PYREF_PYTHON:-.build/pyref/bin/python}
if [ -x "$PYREF_PYTHON" ] && "$PYREF_PYTHON" -c 'import torch' 2>/dev/null; then
    echo "== PyTorch reference (same run)" >&2
    "$PYREF_PYTHON" scripts/reference_bench_inference.py > "$WORK/reference.json" || rm -f "$WORK/reference.json"
fi

"$VEIL" serve --models "$WORK/models" --port 0 > "$WORK/serve.out" 2> "$WORK/serve.log" &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do grep -q '127.0.0.1:' "$WORK/serve.out" 2>/dev/null && break; sleep 0.1; done
PORT=$(grep -o '127\.0\.0\.1:[0-9]*' "$WORK/serve.out" | head -1 | cut -d: -f2)
[ -n "$PORT" ] || { echo "veil serve did not start" >&2; cat "$WORK/serve.log" >&2; exit 1; }

# One MNIST-shaped example per request (batch 1).
python3 - "$WORK/body.json" <<'PY'
import json, random, sys
random.seed(1)
body = {"inputs": [{"name": "input", "shape": [1, 28, 28, 1], "datatype": "FP32",
                    "data": [round(random.random(), 4) for _ in range(784)]}]}
open(sys.argv[1], "w").write(json.dumps(body))
PY
cat > "$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = io.open("$WORK/body.json"):read("*a")
LUA
# The floor: the same requests against a server that only reads them and answers {}: what the kernel, the
# loopback device and wrk take, plus a minimal Python loop (so an estimate of the floor from above).
python3 scripts/loopback_floor_server.py > "$WORK/floor.port" &
FLOOR=$!
trap 'kill -TERM $SERVER $FLOOR 2>/dev/null || true; wait $SERVER $FLOOR 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -s "$WORK/floor.port" ] && break; sleep 0.1; done
FLOOR_URL="http://127.0.0.1:$(head -1 "$WORK/floor.port")/"

for model in logistic mlp cnn; do
    echo "== wrk $model, 64 connections" >&2
    wrk -t2 -c64 -d"$DURATION" --latency -s "$WORK/post.lua" \
        "http://127.0.0.1:$PORT/v2/models/inference-$model/infer" > "$WORK/wrk-$model-c64.txt"
done
# One connection: the floor and the three models in turn, $ROUNDS rounds (default 3), so that each figure is the
# median of runs spread over the same minutes (the p50 of one run moves by ±15 µs on a shared machine).
for round in $(seq 1 "$ROUNDS"); do
    for target in floor logistic mlp cnn; do
        echo "== wrk $target, 1 connection, round $round of $ROUNDS" >&2
        url=$([ "$target" = floor ] && echo "$FLOOR_URL" || echo "http://127.0.0.1:$PORT/v2/models/inference-$target/infer")
        wrk -t1 -c1 -d"$DURATION" --latency -s "$WORK/post.lua" "$url" > "$WORK/wrk-$target-c1-r$round.txt"
    done
done

python3 - "$WORK" "$ROUNDS" <<'PY'
import json, re, statistics, sys
work = sys.argv[1]
forward = json.load(open(f"{work}/forward.json"))["figures"]
def micros(text):
    match = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    if match is None:
        sys.exit(f"bench_inference_server.sh: cannot read wrk's latency {text!r}")
    value, unit = match.groups()
    return float(value) * {"us": 1, "ms": 1e3, "s": 1e6, "m": 6e7}[unit]
def percentile(out, p, path):
    found = re.search(rf"{p}%\s+(\S+)", out)
    if found is None:
        sys.exit(f"bench_inference_server.sh: no {p}% latency in {path} (did wrk fail?)")
    return micros(found.group(1))
figures = {}
def run(path):
    """p50, p99 (µs), requests/s and non-2xx responses of one wrk output."""
    out = open(path).read()
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if found is None:
        sys.exit(f"bench_inference_server.sh: no Requests/sec in {path} (did wrk fail?)")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return (percentile(out, 50, path), percentile(out, 99, path), float(found.group(1)),
            int(errors.group(1)) if errors else 0)
rounds = int(sys.argv[2])
def one_connection(target):
    """The median over the rounds of each figure, and the lowest and highest p50."""
    runs = [run(f"{work}/wrk-{target}-c1-r{k}.txt") for k in range(1, rounds + 1)]
    p50s = sorted(r[0] for r in runs)
    return (statistics.median(p50s), statistics.median(r[1] for r in runs), statistics.median(r[2] for r in runs),
            sum(r[3] for r in runs), p50s[0], p50s[-1])
def put(name, value, unit):
    figures[name] = {"value": round(value, 1), "unit": unit}
floor = one_connection("floor")
put("loopback_floor_c1_p50", floor[0], "us")
put("loopback_floor_c1_p50_lowest", floor[4], "us")
put("loopback_floor_c1_p50_highest", floor[5], "us")
figures["c1_rounds"] = {"value": rounds, "unit": "runs per figure (median)"}
for model in ("logistic", "mlp", "cnn"):
    p50, p99, rps, errors, lowest, highest = one_connection(model)
    bare = 1e6 / forward[f"{model}_b1"]["value"]
    put(f"serve_{model}_c1_requests", rps, "requests/s")
    put(f"serve_{model}_c1_p50", p50, "us")
    put(f"serve_{model}_c1_p50_lowest", lowest, "us")
    put(f"serve_{model}_c1_p50_highest", highest, "us")
    put(f"serve_{model}_c1_p99", p99, "us")
    if errors:
        figures[f"serve_{model}_c1_non_2xx"] = {"value": errors, "unit": "responses"}
    put(f"serve_{model}_c1_p50_over_forward", p50 - bare, "us")
    put(f"serve_{model}_c1_p50_over_floor", p50 - floor[0], "us")
    p50, p99, rps, errors = run(f"{work}/wrk-{model}-c64.txt")
    put(f"serve_{model}_c64_requests", rps, "requests/s")
    put(f"serve_{model}_c64_p50", p50, "us")
    put(f"serve_{model}_c64_p99", p99, "us")
    if errors:
        figures[f"serve_{model}_c64_non_2xx"] = {"value": errors, "unit": "responses"}
try:
    reference = json.load(open(f"{work}/reference.json"))["figures"]
except (OSError, ValueError, KeyError):
    reference = None
if reference:
    for model in ("logistic", "mlp", "cnn"):
        for batch in (1, 64, 1024):
            veil, torch = forward[f"{model}_b{batch}"]["value"], reference[f"pytorch_{model}_b{batch}"]["value"]
            figures[f"{model}_b{batch}_veil"] = {"value": veil, "unit": "predictions/s"}
            figures[f"{model}_b{batch}_pytorch"] = {"value": torch, "unit": "predictions/s"}
            figures[f"{model}_b{batch}_veil_over_pytorch"] = {"value": round(veil / torch, 2), "unit": "ratio"}
    figures["pytorch_version"] = reference["pytorch_version"]
print(json.dumps({"area": "inference-server", "figures": figures}, indent=2))
PY
