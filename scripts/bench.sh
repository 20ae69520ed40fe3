#!/usr/bin/env bash
# Runs every benchmark area of veil-bench (release build), then the same work in the Python
# reference libraries (dp_accounting, OpenDP) installed from PyPI into a private venv, so that
# Veil's figures and the references' come from one run on one machine.
# Usage: scripts/bench.sh PATH/TO/veil-bench   (make bench builds it and calls this)
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH=${1:-.build/release/veil-bench}
OUT=${BENCH_OUT:-bench-results}
mkdir -p "$OUT"

# The products of training and inference run on the kernel OpenBLAS picks for this processor. Some machines
# pin an older one (OPENBLAS_CORETYPE, with OPENBLAS_L2_SIZE) for OpenBLAS builds that compute wrong products
# or crash on newer processors; tests and CI keep that pin. Here the pin is lifted for these commands alone:
# veil-bench first checks every product shape of its layers against the definition and stops on a wrong
# one; then the command runs again with the pin. VEIL_BENCH_KEEP_BLAS_PIN=1 keeps the pin throughout, for the
# reference libraries too.
unpinned() {
    if [ -n "${VEIL_BENCH_KEEP_BLAS_PIN:-}" ]; then "$@"; else env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$@"; fi
}
trap 'rm -f "$OUT"/*.unpinned' EXIT
# blas_bound FILE COMMAND...: COMMAND's output into FILE (and on stdout), unpinned if it passes.
blas_bound() {
    local out=$1; shift
    if [ -z "${VEIL_BENCH_KEEP_BLAS_PIN:-}" ]; then
        if unpinned "$@" > "$out.unpinned"; then mv "$out.unpinned" "$out"; cat "$out"; return 0; fi
        rm -f "$out.unpinned"
        echo "== failed without the environment's OPENBLAS_CORETYPE (see its message above); again with it" >&2
    fi
    "$@" > "$out" && cat "$out"
}

areas=$("$BENCH" --help | awk '/SUBCOMMANDS:/{f=1;next} f && /^  [a-z]/{print $1}' | grep -v '^help$')
for area in $areas; do
    echo "== veil-bench $area" >&2
    case $area in
        training|inference) blas_bound "$OUT/$area.json" "$BENCH" "$area" ;;
        *) "$BENCH" "$area" | tee "$OUT/$area.json" ;;
    esac
done

# The inference server under wrk load (needs the veil binary next to veil-bench).
echo "== veil serve under wrk" >&2
blas_bound "$OUT/inference-server.json" bash scripts/bench_inference_server.sh "$(dirname "$BENCH")/veil" "$BENCH" \
    || echo '{"area": "inference-server", "error": "the server benchmark failed"}' | tee "$OUT/inference-server.json"

# Private SQL accuracy beside SmartNoise SQL on the same file and costs (its own venv, .build/pysnsql).
echo "== sql accuracy beside SmartNoise SQL" >&2
bash scripts/bench_sql_accuracy.sh "$BENCH" 1000000 20 \
    || echo '{"area": "sql-accuracy", "error": "the accuracy comparison failed"}' | tee "$OUT/sql-accuracy.json"

# Secure aggregation beside Flower's SecAgg+ (its own venv, .build/secagg-venv). n = 100 only: Flower's round at
# n = 1,000 takes over an hour on two cores; run scripts/secagg_reference.py --clients 1000 for it.
echo "== Flower SecAgg+ (n = 100)" >&2
python3 scripts/secagg_reference.py --clients 100 | tee "$OUT/secagg-reference.json" \
    || echo '{"area": "secagg-reference", "error": "the Flower reference failed"}' | tee "$OUT/secagg-reference.json"

# Reference libraries: optional (they need PyPI); a failure here is reported, not fatal.
VENV=.build/pyref
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import dp_accounting, opendp' 2>/dev/null; then
    echo "== installing reference libraries (dp-accounting, opendp) into $VENV" >&2
    if ! { python3 -m venv "$VENV" && "$VENV/bin/pip" install -q dp-accounting==0.6.0 opendp; } >&2; then
        echo '{"area": "reference", "error": "could not install dp-accounting/opendp from PyPI"}' | tee "$OUT/reference.json"
        exit 0
    fi
fi
for script in scripts/reference_bench_*.py; do
    name=$(basename "$script" .py)
    echo "== $name" >&2
    # Unpinned as Veil's products were: the pin would slow a reference that loads OpenBLAS (numpy).
    unpinned "$VENV/bin/python" "$script" | tee "$OUT/${name#reference_bench_}-reference.json"
done
