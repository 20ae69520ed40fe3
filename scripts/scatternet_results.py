"""Runs ScatterNet training pipelines several times and records their test accuracy in
notebooks-exports/training-results.json (mean, standard deviation and every run), for the "ScatterNet" rows of
notebooks-exports/training-results.md and the dashed curves of its plot.

  python3 scripts/scatternet_results.py VEIL [--runs 5] PIPELINE...

VEIL is the `veil` binary (a release build). Each run is `veil train PIPELINE --json` charged to a throw-away ledger
in a temporary folder, with the model written there too; the feature cache is the usual one
($VEIL_FEATURE_CACHE, else ~/.cache/veil/features), so the scattering transform is computed once per data set.
A pipeline's row is matched by data set, model and ε and replaced; rows for other pipelines are kept.
"""
import argparse
import json
import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "notebooks-exports" / "training-results.json"
# The first key found in a pipeline's file name names its model.
MODELS = {"scatternet-linear-augmented": "ScatterNet + linear, 5 shifted views", "scatternet-linear": "ScatterNet + linear",
          "scatternet-cnn": "ScatterNet + CNN"}


def describe(pipeline):
    """Data set, model name and ε from a file name such as fashion-mnist-scatternet-linear-eps3.yaml."""
    stem = Path(pipeline).stem
    dataset = "Fashion-MNIST" if stem.startswith("fashion-mnist") else "MNIST"
    model = next(name for key, name in MODELS.items() if key in stem)
    epsilon = float(stem.rsplit("-eps", 1)[1])
    return dataset, model, epsilon


def train(veil, pipeline, folder):
    ledger = folder / "ledger.sqlite"
    if not ledger.exists():
        for scope in ("mnist", "fashion-mnist"):
            subprocess.run([veil, "budget", "create", scope, "--epsilon", "100000", "--delta", "0.5", "--ledger", str(ledger)],
                           check=True, capture_output=True)
    started = time.monotonic()
    out = subprocess.run([veil, "train", pipeline, "--json", "--ledger", str(ledger),
                          "--output", str(folder / "model.safetensors")],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"veil train {pipeline} failed ({out.returncode}): {out.stderr.strip()}")
    summary = json.loads(out.stdout)
    summary["wall_seconds"] = time.monotonic() - started
    return summary


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("veil")
    parser.add_argument("pipelines", nargs="+")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rows = json.loads(RESULTS.read_text())
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        for pipeline in args.pipelines:
            dataset, model, epsilon = describe(pipeline)
            runs = [train(args.veil, pipeline, folder) for _ in range(args.runs)]
            accuracies = [r["test_accuracy"] for r in runs]
            row = {
                "dataset": dataset, "model": model, "epsilon": epsilon, "delta": runs[0]["delta"],
                "accuracy": round(statistics.mean(accuracies), 5),
                "accuracy_std": round(statistics.stdev(accuracies), 5) if len(runs) > 1 else 0,
                "accuracy_runs": accuracies,
                "epochs": int(re.search(r"^\s+epochs:\s*(\d+)", Path(pipeline).read_text(), re.M).group(1)),
                "steps": runs[0]["steps"], "sigma": round(runs[0]["noise_multiplier"], 4),
                "seconds": round(statistics.mean(r["seconds"] for r in runs), 1),
                "status": "done",
                "command": f"veil train {Path(pipeline).relative_to(ROOT) if Path(pipeline).is_absolute() else pipeline} "
                           f"--json ({len(runs)} runs)",
            }
            rows = [r for r in rows if (r["dataset"], r["model"], r["epsilon"]) != (dataset, model, epsilon)] + [row]
            RESULTS.write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n")
            runs_text = ", ".join(f"{100 * a:.2f}" for a in accuracies)
            print(f"| {dataset} | {epsilon:g} | {row['sigma']:.3f} | {runs_text}% | "
                  f"{100 * row['accuracy']:.2f} ± {100 * row['accuracy_std']:.2f}% | {row['seconds']:.0f} s |", flush=True)


if __name__ == "__main__":
    main()
