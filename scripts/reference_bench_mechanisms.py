#!/usr/bin/env python3
"""Reference throughput of OpenDP's integer Laplace and Gaussian samplers.

Creates (or reuses) a virtual environment under .build/pyref, installs the `opendp` package from
PyPI there, and measures OpenDP's discrete Laplace (make_laplace) and discrete Gaussian
(make_gaussian) on integer domains at the scales Veil's benchmark uses (1, 100, 10^6). Prints one
JSON object in the shape of veil-bench's reports:
{"area": "mechanisms-reference-opendp", "figures": {"name": {"value": ..., "unit": "..."}}}.

Figures named *_batch apply the measurement to a vector of N zeros (one call, N samples), which is
OpenDP's fastest path from Python; *_per_call invoke the scalar measurement once per sample. Both are
single-threaded. If the environment cannot be created or opendp cannot be installed, prints
{"error": "..."} and exits 0.
"""
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".build", "pyref")
PYTHON = os.path.join(VENV, "bin", "python")
SCALES = [(1.0, "1"), (100.0, "100"), (1e6, "1e6")]
BATCH = 20_000
PER_CALL = 2_000
REPEATS = 3


def fail(message):
    print(json.dumps({"area": "mechanisms-reference-opendp", "error": message}))
    sys.exit(0)


def ensure_environment():
    """Re-executes this script inside the venv, creating it and installing opendp if needed."""
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    try:
        if not os.path.exists(PYTHON):
            subprocess.run([sys.executable, "-m", "venv", VENV], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        probe = subprocess.run([PYTHON, "-c", "import opendp"], capture_output=True)
        if probe.returncode != 0:
            subprocess.run([PYTHON, "-m", "pip", "install", "--quiet", "opendp"], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    except (subprocess.CalledProcessError, OSError) as error:
        detail = getattr(error, "stderr", b"") or b""
        fail(f"could not set up opendp in {VENV}: {error}; {detail.decode(errors='replace')[-400:]}")
    os.execv(PYTHON, [PYTHON, os.path.abspath(__file__)])


def best_rate(call, samples):
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return samples / best


def main():
    ensure_environment()
    try:
        import opendp.prelude as dp
        from importlib.metadata import version
    except ImportError as error:
        fail(f"opendp is not importable: {error}")
    dp.enable_features("contrib")
    figures = {}

    def add(name, value, unit):
        figures[name] = {"value": round(value, 1), "unit": unit}
        print(f"  {name}: {value:.6g} {unit}", file=sys.stderr)

    vector = dp.vector_domain(dp.atom_domain(T=int), size=BATCH)
    zeros = [0] * BATCH
    for scale, label in SCALES:
        laplace = dp.m.make_laplace(vector, dp.l1_distance(T=int), scale=scale)
        gaussian = dp.m.make_gaussian(vector, dp.l2_distance(T=int), scale=scale)
        add(f"discrete_laplace_scale_{label}_batch", best_rate(lambda: laplace(zeros), BATCH), "samples/s")
        add(f"discrete_gaussian_sigma_{label}_batch", best_rate(lambda: gaussian(zeros), BATCH), "samples/s")

    scalar = (dp.atom_domain(T=int), dp.absolute_distance(T=int))
    laplace_scalar = dp.m.make_laplace(*scalar, scale=100.0)
    gaussian_scalar = dp.m.make_gaussian(*scalar, scale=100.0)

    def per_call(measurement):
        def run():
            for _ in range(PER_CALL):
                measurement(0)
        return run

    add("discrete_laplace_scale_100_per_call", best_rate(per_call(laplace_scalar), PER_CALL), "samples/s")
    add("discrete_gaussian_sigma_100_per_call", best_rate(per_call(gaussian_scalar), PER_CALL), "samples/s")
    print(f"  opendp {version('opendp')}", file=sys.stderr)
    print(json.dumps({"area": "mechanisms-reference-opendp", "figures": figures}, indent=2))


if __name__ == "__main__":
    main()
