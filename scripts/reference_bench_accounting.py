"""Times Google's dp_accounting on the DP-SGD accounting work that `veil-bench accounting` times.

Prints one JSON object in veil-bench's shape: {"area": ..., "figures": {name: {"value", "unit"}}}.
"""
import json
import sys
import time

import dp_accounting
from dp_accounting import pld, rdp

Q, SIGMA, DELTA = 0.004267, 1.1, 1e-5


def event(steps):
    return dp_accounting.SelfComposedDpEvent(
        dp_accounting.PoissonSampledDpEvent(Q, dp_accounting.GaussianDpEvent(SIGMA)), steps)


def best_time(fn, repeats=3):
    best, value = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - start)
    return best, value


def rdp_epsilon(steps):
    return rdp.RdpAccountant().compose(event(steps)).get_epsilon(DELTA)


def pld_epsilon(steps):
    acc = pld.PLDAccountant(value_discretization_interval=1e-4)
    return acc.compose(event(steps)).get_epsilon(DELTA)


figures = {}
for steps in (10_000, 100_000):
    seconds, eps = best_time(lambda: rdp_epsilon(steps))
    figures[f"dp_accounting_rdp_epsilon_T{steps}_time"] = {"value": seconds * 1e3, "unit": "ms"}
    figures[f"dp_accounting_rdp_epsilon_T{steps}"] = {"value": eps, "unit": "epsilon"}
for steps in (10_000, 100_000):
    seconds, eps = best_time(lambda: pld_epsilon(steps), repeats=1)
    figures[f"dp_accounting_pld_epsilon_T{steps}_time"] = {"value": seconds, "unit": "s"}
    figures[f"dp_accounting_pld_epsilon_T{steps}"] = {"value": eps, "unit": "epsilon"}
    print(f"  pld T={steps}: {seconds:.3f} s, eps={eps:.5f}", file=sys.stderr)

print(json.dumps({"area": "accounting-reference-dp_accounting",
                  "setting": {"sampling_rate": Q, "noise_multiplier": SIGMA, "delta": DELTA},
                  "figures": figures}, indent=2))
