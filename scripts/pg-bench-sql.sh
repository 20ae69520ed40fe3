#!/usr/bin/env bash
# Private SQL on PostgreSQL, side by side: Veil against the plain aggregate on one throw-away server and on the
# two-shard cluster (veil-bench sql --backend postgres --cluster), then SmartNoise SQL's PostgreSQL reader on the same
# server and rows (scripts/reference_sql_postgres.py), then one line per query, size and
# max_parallel_workers_per_gather with both ratios to the plain aggregate. SmartNoise SQL 1.0.10 and psycopg2-binary
# are installed from PyPI into .build/pysnsql (the venv of scripts/bench_sql_accuracy.sh).
# Usage: scripts/pg-bench-sql.sh [PATH/TO/veil-bench] [ROWS,ROWS...] [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH=${1:-.build/release/veil-bench}
ROWS=${2:-1000000,10000000}
REPEATS=${3:-3}
OUT=${BENCH_OUT:-bench-results}
mkdir -p "$OUT"

server=$(mktemp -d /tmp/veil-bench-pg.XXXXXX)
trap 'bash scripts/pg-server.sh stop "$server"' EXIT
url=$(bash scripts/pg-server.sh start "$server")

"$BENCH" sql --backend postgres --postgres "$url" --cluster --rows "$ROWS" --repeats "$REPEATS" \
    | tee "$OUT/sql-postgres.json"

VENV=.build/pysnsql
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import snsql, psycopg2' 2>/dev/null; then
    echo "== installing smartnoise-sql 1.0.10 and psycopg2-binary into $VENV" >&2
    if ! { python3 -m venv "$VENV" && "$VENV/bin/pip" install -q smartnoise-sql==1.0.10 psycopg2-binary; } >&2; then
        echo '{"area": "sql_postgres_smartnoise", "error": "could not install smartnoise-sql from PyPI"}' \
            | tee "$OUT/sql-postgres-smartnoise.json"
        exit 0
    fi
fi
: > "$OUT/sql-postgres-smartnoise.json"
for rows in ${ROWS//,/ }; do
    "$VENV/bin/python" scripts/reference_sql_postgres.py "$url" "$rows" "$REPEATS" \
        | tee -a "$OUT/sql-postgres-smartnoise.json"
done

python3 - "$OUT/sql-postgres.json" "$OUT/sql-postgres-smartnoise.json" <<'PY'
import json, sys
veil = json.load(open(sys.argv[1]))["figures"]
smartnoise = {}
for line in open(sys.argv[2]):
    if line.strip():
        smartnoise.update(json.loads(line))
def value(table, key):
    figure = table.get(key)
    return figure["value"] if isinstance(figure, dict) else None
def cell(x, width, pattern):
    return f"{x:{width}{pattern}}" if x is not None else " " * (width - 1) + "-"
print(f"{'query':44} {'Veil s':>8} {'plain s':>8} {'Veil/plain':>10} {'SN s':>8} {'SN/plain':>9} "
      f"{'2 shards s':>10} {'shards/one':>10}")
for key in veil:
    if not key.endswith("_veil") or "_cluster_" in key:
        continue
    name = key[: -len("_veil")]
    cluster = name.rsplit("_workers", 1)[0] + "_cluster" if name.endswith("_workers2") else None
    print(f"{name:44} {cell(value(veil, key), 8, '.3f')} {cell(value(veil, name + '_plain'), 8, '.3f')} "
          f"{cell(value(veil, name + '_ratio'), 10, '.2f')} {cell(value(smartnoise, name + '_smartnoise'), 8, '.3f')} "
          f"{cell(value(smartnoise, name + '_ratio'), 9, '.2f')} "
          f"{cell(value(veil, cluster + '_veil') if cluster else None, 10, '.3f')} "
          f"{cell(value(veil, cluster + '_vs_single_server') if cluster else None, 10, '.2f')}")
PY
