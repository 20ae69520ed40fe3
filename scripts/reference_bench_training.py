#!/usr/bin/env python3
"""PyTorch and Opacus reference for `veil-bench training`: the same three models (logistic regression, the
MLP 784-256-10 with ReLU, the tanh CNN of Papernot et al. as in ModelArchitecture.mnistCNN) on the same work:
10,000 synthetic 28x28x1 images with labels 0-9, one epoch, expected batch 256, SGD with momentum 0.9 and
learning rate 0.1, best of two runs, 2 threads on the CPU. Plain training takes fixed shuffled batches;
DP-SGD runs Opacus 1.6 with Poisson sampling at q = 256/10,000, noise multiplier 1.0 and clipping norm 1 in
its two modes, per-example gradients by hooks (grad_sample_mode="hooks") and ghost clipping
(grad_sample_mode="ghost"). Throughput counts the expected examples of the epoch, as Veil does.

Prints one JSON object like veil-bench and, when Veil's figures of the same run are at
$BENCH_OUT/training.json (scripts/bench.sh writes them there before it runs this), every ratio:
Veil plain / PyTorch plain and Veil DP-SGD / the better Opacus mode. Run by scripts/bench.sh (make bench)
with the interpreter of .build/pyref; torch and opacus are installed from PyPI into that environment the
first time."""
import json
import os
import subprocess
import sys
import time

from reference_bench_inference import ensure_torch, models

EXAMPLES = 10_000
BATCH = 256
NOISE_MULTIPLIER = 1.0
CLIP_NORM = 1.0


def ensure_opacus():
    try:
        import opacus  # noqa: F401
        return None
    except ImportError:
        pass
    print("== installing opacus 1.6.0 from PyPI into the reference environment", file=sys.stderr)
    result = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "opacus==1.6.0"], stdout=sys.stderr)
    return None if result.returncode == 0 else "could not install opacus from PyPI"


def synthetic_data(torch):
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(EXAMPLES, 1, 28, 28, generator=generator)
    y = torch.randint(0, 10, (EXAMPLES,), generator=generator)
    return x, y


def fresh_model(torch, name):
    return dict(models(torch))[name]


def plain_epoch(torch, name, x, y):
    model = fresh_model(torch, name)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    criterion = torch.nn.CrossEntropyLoss()
    order = torch.randperm(EXAMPLES)
    start = time.perf_counter()
    for first in range(0, EXAMPLES, BATCH):
        batch = order[first:first + BATCH]
        optimizer.zero_grad(set_to_none=True)
        criterion(model(x[batch]), y[batch]).backward()
        optimizer.step()
    return EXAMPLES / (time.perf_counter() - start)


def opacus_epoch(torch, name, x, y, mode):
    import opacus
    model = fresh_model(torch, name)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    criterion = torch.nn.CrossEntropyLoss()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=BATCH)
    engine = opacus.PrivacyEngine(accountant="rdp")
    if mode == "ghost":
        model, optimizer, criterion, loader = engine.make_private(
            module=model, optimizer=optimizer, data_loader=loader, criterion=criterion,
            noise_multiplier=NOISE_MULTIPLIER, max_grad_norm=CLIP_NORM, poisson_sampling=True,
            grad_sample_mode="ghost")
    else:
        model, optimizer, loader = engine.make_private(
            module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=NOISE_MULTIPLIER,
            max_grad_norm=CLIP_NORM, poisson_sampling=True, grad_sample_mode="hooks")
    start = time.perf_counter()
    for xb, yb in loader:
        optimizer.zero_grad(set_to_none=True)
        if len(yb) == 0:  # an empty Poisson batch (probability (1 - q)^N, about 1e-113 here)
            continue
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
    # The expected examples of one epoch: Poisson batches of q·N = 256 expected over N / 256 steps.
    return EXAMPLES / (time.perf_counter() - start)


def best_of(runs, measure):
    return max(measure() for _ in range(runs))


def veil_figures():
    path = os.path.join(os.environ.get("BENCH_OUT", "bench-results"), "training.json")
    try:
        with open(path) as handle:
            return {k: v["value"] for k, v in json.load(handle)["figures"].items()}
    except (OSError, ValueError, KeyError):
        return None


def main():
    error = ensure_torch() or ensure_opacus()
    if error:
        print(json.dumps({"area": "training-reference", "error": error}))
        return
    import opacus
    import torch
    torch.set_num_threads(2)
    torch.manual_seed(0)
    x, y = synthetic_data(torch)
    figures = {}

    def add(key, value, unit):
        figures[key] = {"value": round(value, 3 if unit == "ratio" else 1), "unit": unit}
        print(f"  {key}: {value:,.3f} {unit}" if unit == "ratio" else f"  {key}: {value:,.0f} {unit}", file=sys.stderr)

    veil = veil_figures()
    for name in ("logistic", "mlp", "cnn"):
        plain = best_of(2, lambda: plain_epoch(torch, name, x, y))
        hooks = best_of(2, lambda: opacus_epoch(torch, name, x, y, "hooks"))
        ghost = best_of(2, lambda: opacus_epoch(torch, name, x, y, "ghost"))
        add(f"pytorch_{name}_nonprivate_b256", plain, "examples/s")
        add(f"opacus_hooks_{name}_dpsgd_b256", hooks, "examples/s")
        add(f"opacus_ghost_{name}_dpsgd_b256", ghost, "examples/s")
        if veil and f"{name}_dpsgd_b256" in veil:
            add(f"veil_over_pytorch_{name}_nonprivate", veil[f"{name}_nonprivate_b256"] / plain, "ratio")
            add(f"veil_over_best_opacus_{name}_dpsgd", veil[f"{name}_dpsgd_b256"] / max(hooks, ghost), "ratio")
    figures["pytorch_version"] = {"value": torch.__version__, "unit": "version"}
    figures["opacus_version"] = {"value": opacus.__version__, "unit": "version"}
    print(json.dumps({"area": "training-reference", "figures": figures}, indent=2))


if __name__ == "__main__":
    main()
