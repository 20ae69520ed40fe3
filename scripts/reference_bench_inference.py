#!/usr/bin/env python3
"""PyTorch reference for `veil-bench inference`: the same three models (logistic regression, the MLP
with 256 hidden units and ReLU, the MNIST CNN with tanh; MNIST-shaped 28x28x1 inputs, random weights)
timed on CPU with 2 threads at batch 1, 64 and 1,024, under torch.inference_mode(). Prints one JSON object
like veil-bench. Run by scripts/bench.sh (make bench) with the interpreter of .build/pyref; PyTorch is
installed from PyPI into that environment the first time (the CPU-only wheel where the index has it; only
the CPU is used either way)."""
import json
import subprocess
import sys
import time


def ensure_torch():
    try:
        import torch  # noqa: F401
        return None
    except ImportError:
        pass
    print("== installing torch from PyPI into the reference environment", file=sys.stderr)
    # The CPU-only build where the index has one (far smaller), else the default wheel.
    for requirement in ("torch==2.13.0+cpu", "torch"):
        result = subprocess.run([sys.executable, "-m", "pip", "install", "-q", requirement], stdout=sys.stderr)
        if result.returncode == 0:
            return None
    return "could not install torch from PyPI"


def models(torch):
    nn = torch.nn

    class ChannelsLast(nn.Module):
        """Veil stores images height x width x channels; flatten in that order, as Veil does."""
        def forward(self, x):
            return x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)

    logistic = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    # ModelArchitecture.mnistCNN(classes: 10, activation: .tanh)
    cnn = nn.Sequential(
        nn.Conv2d(1, 16, 8, stride=2, padding=3), nn.Tanh(), nn.MaxPool2d(2, stride=1),
        nn.Conv2d(16, 32, 4, stride=2), nn.Tanh(), nn.MaxPool2d(2, stride=1),
        ChannelsLast(), nn.Linear(32 * 4 * 4, 32), nn.Tanh(), nn.Linear(32, 10))
    return [("logistic", logistic), ("mlp", mlp), ("cnn", cnn)]


def predictions_per_second(torch, model, batch, seconds=1.0):
    x = torch.rand(batch, 1, 28, 28)
    with torch.inference_mode():
        torch.softmax(model(x), dim=1)  # warm-up
        best = 0.0
        for _ in range(3):
            runs, start = 0, time.perf_counter()
            while time.perf_counter() - start < seconds / 3:
                torch.softmax(model(x), dim=1)
                runs += 1
            best = max(best, runs * batch / (time.perf_counter() - start))
    return best


def main():
    error = ensure_torch()
    if error:
        print(json.dumps({"area": "inference-reference", "error": error}))
        return
    import torch
    torch.set_num_threads(2)
    figures = {}
    for name, model in models(torch):
        model.eval()
        for batch in (1, 64, 1024):
            value = predictions_per_second(torch, model, batch)
            figures[f"pytorch_{name}_b{batch}"] = {"value": round(value, 1), "unit": "predictions/s"}
            print(f"  pytorch_{name}_b{batch}: {value:.1f} predictions/s", file=sys.stderr)
    figures["pytorch_version"] = {"value": torch.__version__, "unit": "version"}
    print(json.dumps({"area": "inference-reference", "figures": figures}, indent=2))


if __name__ == "__main__":
    main()
