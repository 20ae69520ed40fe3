#!/usr/bin/env bash
# `veil serve` under load: wrk (Debian package) on loopback against the three benchmark models at batch 1,
# with 1 and 64 connections; requests/s and p50/p99 latency, and the server's addition to p50 over the
# bare forward pass at batch 1 (from `veil-bench inference` in the same run) and over the loopback floor (a
# server that only reads each request and answers {}, scripts/loopback_floor_server.py, under the same
# load). With a Python that has PyTorch ($PYREF_PYTHON, default .build/pyref/bin/python, as scripts/bench.sh
# sets up), the PyTorch reference (scripts/reference_bench_inference.py) runs right after `veil-bench
# inference`, and the ratios Veil / PyTorch per architecture and batch size are printed too. Prints one JSON
# object.
# Usage: scripts/bench_inference_server.sh PATH/TO/veil PATH/TO/veil-bench   (scripts/bench.sh calls it)
set -euo pipefail
cd "$(dirname "$0")/.."
VEIL=${1:-.build/release/veil}
BENCH=${2:-.build/release/veil-bench}
DURATION=${WRK_DURATION:-5s}
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
for model in logistic mlp cnn; do
    for connections in 1 64; do
        threads=$([ "$connections" = 1 ] && echo 1 || echo 2)
        echo "== wrk $model, $connections connection(s)" >&2
        wrk -t"$threads" -c"$connections" -d"$DURATION" --latency -s "$WORK/post.lua" \
            "http://127.0.0.1:$PORT/v2/models/inference-$model/infer" > "$WORK/wrk-$model-c$connections.txt"
    done
done

# The floor: the same requests against a server that only reads them and answers {}: what the kernel, the
# loopback device and wrk take, plus a minimal Python loop (so an estimate of the floor from above).
echo "== wrk against the loopback floor (scripts/loopback_floor_server.py)" >&2
python3 scripts/loopback_floor_server.py > "$WORK/floor.port" &
FLOOR=$!
trap 'kill -TERM $SERVER $FLOOR 2>/dev/null || true; wait $SERVER $FLOOR 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -s "$WORK/floor.port" ] && break; sleep 0.1; done
wrk -t1 -c1 -d"$DURATION" --latency -s "$WORK/post.lua" "http://127.0.0.1:$(head -1 "$WORK/floor.port")/" \
    > "$WORK/wrk-floor-c1.txt"

python3 - "$WORK" <<'PY'
import json, re, sys
work = sys.argv[1]
forward = json.load(open(f"{work}/forward.json"))["figures"]
def micros(text):
    match = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    if match is None:
        sys.exit(f"bench_inference_server.sh: cannot read wrk's latency {text!r}")
    value, unit = match.groups()
    return float(value) * {"us": 1, "ms": 1e3, "s": 1e6, "m": 6e7}[unit]
def percentile(path, p):
    found = re.search(rf"{p}%\s+(\S+)", open(path).read())
    if found is None:
        sys.exit(f"bench_inference_server.sh: no {p}% latency in {path} (did wrk fail?)")
    return micros(found.group(1))
figures = {}
floor = percentile(f"{work}/wrk-floor-c1.txt", 50)
figures["loopback_floor_c1_p50"] = {"value": round(floor, 1), "unit": "us"}
for model in ("logistic", "mlp", "cnn"):
    for c in (1, 64):
        path = f"{work}/wrk-{model}-c{c}.txt"
        out = open(path).read()
        p50, p99 = percentile(path, 50), percentile(path, 99)
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        figures[f"serve_{model}_c{c}_requests"] = {"value": round(rps, 1), "unit": "requests/s"}
        figures[f"serve_{model}_c{c}_p50"] = {"value": round(p50, 1), "unit": "us"}
        figures[f"serve_{model}_c{c}_p99"] = {"value": round(p99, 1), "unit": "us"}
        if errors:
            figures[f"serve_{model}_c{c}_non_2xx"] = {"value": int(errors.group(1)), "unit": "responses"}
    bare = 1e6 / forward[f"{model}_b1"]["value"]
    figures[f"serve_{model}_c1_p50_over_forward"] = {
        "value": round(figures[f"serve_{model}_c1_p50"]["value"] - bare, 1), "unit": "us"}
    figures[f"serve_{model}_c1_p50_over_floor"] = {
        "value": round(figures[f"serve_{model}_c1_p50"]["value"] - floor, 1), "unit": "us"}
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
