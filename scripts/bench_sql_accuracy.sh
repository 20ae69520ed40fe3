#!/usr/bin/env bash
# Private SQL accuracy side by side with SmartNoise SQL: the same synthetic panel file, the same queries, the same
# charged (ε, δ), RUNS runs each; prints Veil's JSON, SmartNoise's JSON, then one line per query with both median
# relative errors and their ratio. SmartNoise SQL 1.0.10 is installed from PyPI into .build/pysnsql (its own venv:
# it pins an OpenDP release of its own). Then SmartNoise's peak memory per query (reference_sql_accuracy.py
# --peak-memory).
# Usage: scripts/bench_sql_accuracy.sh PATH/TO/veil-bench [ROWS] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH=${1:-.build/release/veil-bench}
ROWS=${2:-1000000}
RUNS=${3:-20}
OUT=${BENCH_OUT:-bench-results}
mkdir -p "$OUT"

"$BENCH" sql --accuracy --rows "$ROWS" --runs "$RUNS" | tee "$OUT/sql-accuracy.json"

VENV=.build/pysnsql
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import snsql' 2>/dev/null; then
    echo "== installing smartnoise-sql 1.0.10 into $VENV" >&2
    if ! { python3 -m venv "$VENV" && "$VENV/bin/pip" install -q smartnoise-sql==1.0.10; } >&2; then
        echo '{"area": "sql-accuracy-smartnoise", "error": "could not install smartnoise-sql from PyPI"}' \
            | tee "$OUT/sql-accuracy-smartnoise.json"
        exit 0
    fi
fi
"$VENV/bin/python" scripts/reference_sql_accuracy.py ".build/bench-data/panel-$ROWS.sqlite" "$RUNS" \
    | tee "$OUT/sql-accuracy-smartnoise.json"

# SmartNoise's time and peak memory per query in a process of its own, on the tables `veil-bench sql` times
# (person by person, and in random row order when that table exists), to set beside veil-bench's *_process_* figures.
: > "$OUT/sql-memory-smartnoise.json"
for TABLE in ".build/bench-data/panel-$ROWS.sqlite" ".build/bench-data/panel-$ROWS-random.sqlite"; do
    if [ -f "$TABLE" ]; then
        echo "== SmartNoise peak memory on $TABLE" >&2
        "$VENV/bin/python" scripts/reference_sql_accuracy.py --peak-memory "$TABLE" | tee -a "$OUT/sql-memory-smartnoise.json"
    fi
done

python3 - "$OUT/sql-accuracy.json" "$OUT/sql-accuracy-smartnoise.json" <<'PY'
import json, sys
veil = json.load(open(sys.argv[1]))["figures"]
smartnoise = json.load(open(sys.argv[2]))
print(f"{'query':36} {'Veil':>10} {'SmartNoise':>11} {'Veil/SN':>8}  cost (ε, δ) Veil | SmartNoise")
for key, figure in veil.items():
    if not key.endswith("_median_relative_error"):
        continue
    name = key[: -len("_median_relative_error")]
    theirs = smartnoise.get(key, {}).get("value")
    ours = figure["value"]
    ratio = f"{ours / theirs:8.2f}" if ours is not None and theirs else "       -"
    cost = (f"({veil[name + '_epsilon_charged']['value']:g}, {veil[name + '_delta_charged']['value']:g}) | "
            f"({smartnoise[name + '_epsilon_charged']['value']:g}, {smartnoise[name + '_delta_charged']['value']:.2g})")
    print(f"{name:36} {ours:10.3g} {theirs if theirs is not None else float('nan'):11.3g} {ratio}  {cost}")
PY
