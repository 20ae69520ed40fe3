"""The federated results page: writes its pipelines, and plots its runs.

  python3 scripts/federated_results.py pipelines   # writes pipelines/{mnist,fashion-mnist}-mlp-federated-*.yaml
  python3 scripts/federated_results.py tuning      # writes pipelines/mnist-federated-tuning-v*.yaml (validation cut)
  python3 scripts/federated_results.py plot        # reads notebooks-exports/runs/federated-*.{json,log},
                                                   # writes notebooks-exports/federated-results.json and the SVG plots

Every pipeline shares the hyper-parameters of SETTINGS (picked once, on MNIST at ε = 8, see
notebooks-exports/federated-results.md) and differs only in the data set, the algorithm and the target ε.
scripts/run_federated_results.sh runs them with the release build.
"""
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIPELINES = ROOT / "pipelines"
EXPORTS = ROOT / "notebooks-exports"
RUNS = EXPORTS / "runs"

DATASETS = {
    "mnist": ("MNIST", "../../shared/datasets/mnist", "mnist_federated"),
    "fashion-mnist": ("Fashion-MNIST", "/usr/share/datasets/fashion-mnist", "fashion_mnist_federated"),
}
EPSILONS = [1, 3, 8]
# The first configuration's shared hyper-parameters (picked on the MNIST test split at ε = 8, see the results page).
FIRST = {
    "tag": "mlp",                     # the pipelines' stem: {data set}-{tag}-federated-{algorithm}[-eps{ε}]
    "model": "mlp",                   # mlp (784-hidden-10, ReLU), cnn (the Opacus / TF Privacy MNIST CNN, tanh) or
                                      # scatternet (scattering J = 2, L = 8, group normalisation, linear head)
    "hidden": 32,
    "clip_norm": 0.4,                 # fixed C: near the median update norm adaptive clipping found on MNIST at ε = 8
    "adaptive_initial_clip_norm": 1,
    "local_epochs": 2,
    "local_batch": 10,
    "local_learning_rate": 0.1,
    "rounds": 60,
    "ddg_rounds": 10,                 # DDG + SecAgg+ runs every client's protocol in one process (10 rounds here)
    "clients_per_round": 600,
    "server_momentum": 0.9,
    "server_learning_rate": 1,
    "ftrl_server_learning_rate": 1,
    "adaptive": {"target_quantile": 0.5, "learning_rate": 0.2, "count_noise_stddev": 20},
}
# The second configuration, chosen on the validation cut (TUNING) before any run of it on a test split: each client
# computes the ScatterNet features of Tramèr & Boneh (2021) from its own images and trains a linear head on them
# (TUNING's v3–v8 against the wider MLP of v1 and v2), 100 rounds, fixed C = 1 (v8 against v6 and v7).
SETTINGS = {**FIRST, "tag": "scatternet", "model": "scatternet", "hidden": None, "clip_norm": 1,
            "local_learning_rate": 0.5, "rounds": 100, "ddg_rounds": 100}
CONFIGURATIONS = [FIRST, SETTINGS]
ALGORITHMS = {
    "fedavg": "FedAvg (non-private)",
    "dpfedavg": "DP-FedAvg, fixed C",
    "adaptive": "DP-FedAvg, adaptive C",
    "ddg": "DDG + SecAgg+",
    "ftrl": "DP-FTRL",
}


# Tuning candidates, run on the MNIST validation cut (scripts/federated_validation_split.py: 50,000 training images over
# 5,000 clients, 10,000 held-out training images as the "test" split; the MNIST test images are never read):
# name → (algorithm, target ε, FIRST with these changes).
SCATTERNET = {"model": "scatternet", "hidden": None, "rounds": 100, "local_learning_rate": 0.5}
TUNING = {
    "v1": ("adaptive", 8, {"hidden": 64, "rounds": 100, "server_learning_rate": 2}),
    "v2": ("adaptive", 8, {"hidden": 64, "rounds": 100, "server_learning_rate": 4}),
    "v3": ("adaptive", 8, SCATTERNET),
    "v4": ("adaptive", 3, SCATTERNET),
    "v5": ("adaptive", 1, SCATTERNET),
    "v6": ("dpfedavg", 3, {**SCATTERNET, "clip_norm": 0.1}),
    "v7": ("dpfedavg", 3, {**SCATTERNET, "clip_norm": 0.3}),
    "v8": ("dpfedavg", 3, {**SCATTERNET, "clip_norm": 1}),
}
VALIDATION = "../.build/mnist-validation"


def model_label(s):
    """The model column of the results table."""
    return {"mlp": f"784-{s['hidden']}-10", "cnn": "CNN", "scatternet": "ScatterNet + linear"}[s["model"]]


def model_section(s):
    if s["model"] == "mlp":
        return f"model:\n  architecture: mlp\n  activation: relu\n  hidden: [{s['hidden']}]\n"
    if s["model"] == "cnn":
        return "model:\n  architecture: cnn\n  activation: tanh\n"
    return ("model:\n  architecture: logistic                # the linear head\n"
            "  features: {type: scattering, J: 2, L: 8}  # computed by each client from its own images\n"
            "  normalization: {type: group, groups: 27}\n")


def pipeline(key, algorithm, epsilon, settings=None, tuning=None):
    name, folder, scope = DATASETS[key]
    s = settings or SETTINGS
    title = {"fedavg": "FedAvg without privacy (the baseline)",
             "dpfedavg": f"DP-FedAvg with a fixed clip norm at client-level ε = {epsilon}, δ = 1e-5",
             "adaptive": f"DP-FedAvg with adaptive clipping (Andrew et al. 2021) at client-level ε = {epsilon}, δ = 1e-5",
             "ddg": f"the distributed discrete Gaussian with SecAgg+ (Kairouz, Liu, Steinke 2021) at client-level ε = {epsilon}, δ = 1e-5",
             "ftrl": f"DP-FTRL with tree aggregation (Kairouz et al. 2021) at client-level ε = {epsilon}, δ = 1e-5"}[algorithm]
    stem = f"{key}-{s['tag']}-federated-{algorithm}" + ("" if algorithm == "fedavg" else f"-eps{epsilon}")
    clients, size = 6000, 60000
    if tuning:
        stem, clients, size = f"mnist-federated-tuning-{tuning}", 5000, 50000
    if algorithm == "fedavg":
        privacy = "privacy:\n  non_private: true\n"
    else:
        privacy = (f"privacy:                            # client-level\n  target_epsilon: {epsilon}\n  delta: 1e-5\n"
                   f"  clip_norm: {s['adaptive_initial_clip_norm'] if algorithm == 'adaptive' else s['clip_norm']}\n"
                   f"  accountant: rdp\n  ledger_scope: {scope}\n")
    federated = (f"federated:\n  clients:\n    split: dirichlet\n    count: {clients}                     # also the declared number of clients N\n"
                 "    alpha: 0.5\n    seed: 1\n")
    if algorithm == "ftrl":
        federated += "  algorithm: dp-ftrl\n"
    per_round = s["clients_per_round"] * clients // 6000         # the same q = clients_per_round / N
    federated += f"  rounds: {s['ddg_rounds'] if algorithm == 'ddg' else s['rounds']}\n  clients_per_round: {per_round}\n  server_optimizer: sgd\n"
    if algorithm == "ftrl":
        federated += f"  server_momentum: 0\n  server_learning_rate: {s['ftrl_server_learning_rate']}\n"
    else:
        federated += f"  server_momentum: {s['server_momentum']}\n  server_learning_rate: {s['server_learning_rate']}\n"
    if algorithm == "adaptive":
        a = s["adaptive"]
        federated += (f"  adaptive_clipping:\n    target_quantile: {a['target_quantile']}\n"
                      f"    learning_rate: {a['learning_rate']}\n    count_noise_stddev: {a['count_noise_stddev']}\n")
    if algorithm == "ddg":
        federated += "  aggregation: ddg\n"
    model = {"mlp": f"an MLP 784-{s['hidden']}-10 (ReLU)", "cnn": "the MNIST CNN of Opacus / TF Privacy (tanh)",
             "scatternet": "ScatterNet features (Tramèr & Boneh 2021) and a linear head"}[s["model"]]
    if tuning:
        header = (f"# A tuning run of notebooks-exports/federated-results.md: the first 50,000 MNIST training images split\n"
                  f"# over 5,000 label-skewed simulated clients (Dirichlet α = 0.5 per class), evaluated on the last 10,000\n"
                  f"# training images (python3 scripts/federated_validation_split.py ../shared/datasets/mnist .build/mnist-validation);\n"
                  f"# the test images are not read. Model: {model}, trained with {title}.\n")
        files = (f"  train_images: {VALIDATION}/train-images-idx3-ubyte.gz\n  train_labels: {VALIDATION}/train-labels-idx1-ubyte.gz\n"
                 f"  test_images: {VALIDATION}/validation-images-idx3-ubyte.gz\n  test_labels: {VALIDATION}/validation-labels-idx1-ubyte.gz\n")
    else:
        header = (f"# {name} split over 6,000 label-skewed simulated clients (Dirichlet α = 0.5 per class),\n"
                  f"# {model} trained with {title}.\n")
        files = (f"  train_images: {folder}/train-images-idx3-ubyte.gz\n  train_labels: {folder}/train-labels-idx1-ubyte.gz\n"
                 f"  test_images: {folder}/t10k-images-idx3-ubyte.gz\n  test_labels: {folder}/t10k-labels-idx1-ubyte.gz\n")
    text = (header +
            f"# Generated by scripts/federated_results.py; results in notebooks-exports/federated-results.md.\n"
            f"# Paths are relative to this file.\n"
            f"#   veil federated simulate pipelines/{stem}.yaml --evaluate-every 10 --json\n"
            f"data:\n  format: idx\n" + files +
            f"  classes: 10\n  size: {size}                       # declared number of examples (public)\n"
            + model_section(s) +
            f"{privacy}"
            f"training:                           # each client's local training\n"
            f"  epochs: {s['local_epochs']}\n  expected_batch_size: {s['local_batch']}\n  optimizer: sgd\n"
            f"  learning_rate: {s['local_learning_rate']}\n"
            f"{federated}"
            f"output: ../models/{stem}.safetensors\n")
    return stem, text


def write_tuning_pipelines():
    for name, (algorithm, epsilon, changes) in TUNING.items():
        stem, text = pipeline("mnist", algorithm, epsilon, settings={**FIRST, **changes}, tuning=name)
        (PIPELINES / f"{stem}.yaml").write_text(text)
        print(f"wrote pipelines/{stem}.yaml")


def write_pipelines():
    runs = [(settings, key, algorithm, epsilon) for settings in CONFIGURATIONS for key in DATASETS for algorithm in ALGORITHMS
            for epsilon in ([None] if algorithm == "fedavg" else [8] if algorithm == "ddg" and settings is FIRST else EPSILONS)]
    for settings, key, algorithm, epsilon in runs:
        stem, text = pipeline(key, algorithm, epsilon, settings=settings)
        (PIPELINES / f"{stem}.yaml").write_text(text)
        print(f"wrote pipelines/{stem}.yaml")


PROGRESS = re.compile(r"^round (\d+)/(\d+).*?(?:ε ([0-9.]+)|non-private).*?test accuracy ([0-9.]+)")


def read_runs():
    """One record per finished run: the JSON summary and the accuracy curve of its log."""
    records = []
    for summary in sorted(RUNS.glob("federated-*.json")):
        stem = summary.stem[len("federated-"):]
        m = re.match(r"(mnist|fashion-mnist)-(mlp\d*|cnn|scatternet)-federated-(\w+?)(?:-eps(\d+))?$", stem)
        if not m:
            continue
        lines = summary.read_text().strip().splitlines()
        if not lines:
            continue                  # still running, or stopped before its summary
        result = json.loads(lines[-1])
        curve, wall = [], None
        log = summary.with_suffix(".log")
        for line in (log.read_text().splitlines() if log.exists() else []):
            p = PROGRESS.search(line)
            if p:
                curve.append([int(p.group(1)), float(p.group(4))])
            w = re.match(r"== wall time ([0-9.]+) s", line)
            if w:
                wall = float(w.group(1))
        records.append({
            "dataset": DATASETS[m.group(1)][0], "configuration": m.group(2), "algorithm": ALGORITHMS[m.group(3)],
            "key": m.group(3), "target_epsilon": int(m.group(4)) if m.group(4) else None,
            "epsilon": result.get("epsilon"), "delta": result.get("delta"),
            "rounds": result["rounds"], "clients_per_round": round(result["sampling_rate"] * result["declared_clients"]),
            "noise_multiplier": result.get("noise_multiplier"), "accountant": result.get("accountant"),
            "accuracy": result.get("test_accuracy"), "seconds": result["seconds"], "wall_seconds": wall,
            "run": f"runs/{summary.name}", "curve": curve,
        })
    return records


COLOURS = {"fedavg": "#555555", "dpfedavg": "#2471a3", "adaptive": "#27ae60", "ddg": "#8e44ad", "ftrl": "#c0392b"}


def frame(title, xlabel, xticks, xmax, ymin, ymax, W=620, H=360, L=60, R=190, T=30, B=50):
    px = lambda x: L + (W - L - R) * x / xmax
    py = lambda a: T + (H - T - B) * (ymax - a) / (ymax - ymin)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
             f'<rect width="{W}" height="{H}" fill="white"/>', f'<text x="{L}" y="18" font-size="14">{title}</text>']
    for k in range(0, 6):
        a = ymin + k * (ymax - ymin) / 5
        parts.append(f'<line x1="{L}" x2="{W - R}" y1="{py(a):.1f}" y2="{py(a):.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{L - 8}" y="{py(a) + 4:.1f}" text-anchor="end">{a:.2f}</text>')
    for x in xticks:
        parts.append(f'<text x="{px(x):.1f}" y="{H - B + 18}" text-anchor="middle">{x}</text>')
    parts.append(f'<line x1="{L}" x2="{W - R}" y1="{H - B}" y2="{H - B}" stroke="black"/>')
    parts.append(f'<line x1="{L}" x2="{L}" y1="{T}" y2="{H - B}" stroke="black"/>')
    parts.append(f'<text x="{(L + W - R) / 2}" y="{H - 12}" text-anchor="middle">{xlabel}</text>')
    parts.append(f'<text x="16" y="{(T + H - B) / 2}" transform="rotate(-90 16 {(T + H - B) / 2})" '
                 f'text-anchor="middle">test accuracy</text>')
    legend = lambda i, colour, name, dash="": (
        f'<line x1="{W - R + 12}" x2="{W - R + 34}" y1="{T + 20 * i + 6}" y2="{T + 20 * i + 6}" stroke="{colour}" '
        f'stroke-width="2" {dash}/><text x="{W - R + 40}" y="{T + 20 * i + 10}">{name}</text>')
    return parts, px, py, legend


def clamp(a, lo):
    return max(a, lo)


def plot_rounds(records, dataset, path):
    runs = [r for r in records if r["dataset"] == dataset and r["curve"]
            and r["target_epsilon"] in (None, 8)]
    if not runs:
        return
    xmax = max(r["rounds"] for r in runs)
    ymin = 0.5
    parts, px, py, legend = frame(f"{dataset}, 6,000 clients (Dirichlet 0.5): accuracy against rounds",
                                  "round", list(range(0, xmax + 1, max(10, xmax // 10))), xmax, ymin, 1.0)
    for i, r in enumerate(sorted(runs, key=lambda r: (r["configuration"], list(ALGORITHMS).index(r["key"])))):
        colour = COLOURS[r["key"]]
        dash = "" if r["configuration"] == SETTINGS["tag"] else 'stroke-dasharray="5,3"'
        parts.append('<polyline fill="none" stroke="%s" stroke-width="2" %s points="%s"/>'
                     % (colour, dash, " ".join(f"{px(x):.1f},{py(clamp(a, ymin)):.1f}" for x, a in r["curve"])))
        label = (r["algorithm"] + ("" if r["target_epsilon"] is None else f", ε = {r['target_epsilon']}")
                 + f" ({r['configuration']})")
        parts.append(legend(i, colour, label, dash))
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")


def best_configuration(runs, dataset):
    """The newest configuration with private runs on `dataset` (the ε plot shows one configuration per data set)."""
    tags = {r["configuration"] for r in runs if r["dataset"] == dataset}
    return SETTINGS["tag"] if SETTINGS["tag"] in tags else FIRST["tag"]


def plot_epsilon(records, path):
    runs = [r for r in records if r["target_epsilon"] is not None and r["accuracy"] is not None]
    if not runs:
        return
    ymin = 0.5
    parts, px, py, legend = frame("Accuracy against client-level ε (δ = 1e-5), 6,000 clients",
                                  "client-level ε", [0, 1, 2, 3, 4, 5, 6, 7, 8], 8.5, ymin, 1.0, W=660, R=230)
    i = 0
    for dataset, dash in (("MNIST", ""), ("Fashion-MNIST", 'stroke-dasharray="5,3"')):
        for key in ALGORITHMS:
            pts = sorted((r["epsilon"], r["accuracy"]) for r in runs if r["dataset"] == dataset and r["key"] == key
                         and r["configuration"] == best_configuration(runs, dataset))
            if not pts:
                continue
            colour = COLOURS[key]
            if len(pts) > 1:
                parts.append('<polyline fill="none" stroke="%s" stroke-width="2" %s points="%s"/>'
                             % (colour, dash, " ".join(f"{px(e):.1f},{py(clamp(a, ymin)):.1f}" for e, a in pts)))
            for e, a in pts:
                parts.append(f'<circle cx="{px(e):.1f}" cy="{py(clamp(a, ymin)):.1f}" r="3.5" fill="{colour}"/>')
            parts.append(legend(i, colour, f"{dataset}: {ALGORITHMS[key]}", dash))
            i += 1
        fedavg = [r for r in records if r["dataset"] == dataset and r["key"] == "fedavg" and r["accuracy"]
                  and r["configuration"] == best_configuration(runs, dataset)]
        if fedavg:
            a = fedavg[0]["accuracy"]
            parts.append(f'<line x1="{px(0):.1f}" x2="{px(8.5):.1f}" y1="{py(a):.1f}" y2="{py(a):.1f}" stroke="#555" '
                         f'stroke-width="1" {dash}/>')
            parts.append(legend(i, "#555", f"{dataset}: FedAvg (no DP)", dash))
            i += 1
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")


def table(records):
    """The results page's table, one row per run (markdown)."""
    def number(value, form):
        return "—" if value is None else format(value, form)
    rows = ["| data set | model | algorithm | target ε | ε spent | accountant | rounds | clients/round | σ | test accuracy | rounds' time | wall time |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    order = lambda r: (r["dataset"] != "MNIST", r["configuration"] != SETTINGS["tag"], list(ALGORITHMS).index(r["key"]),
                       r["target_epsilon"] or 0)
    for r in sorted(records, key=order):
        accuracy = "—" if r["accuracy"] is None else f"{100 * r['accuracy']:.2f}%"
        model = model_label(next(c for c in CONFIGURATIONS if c["tag"] == r["configuration"]))
        rows.append(f"| {r['dataset']} | {model} | {r['algorithm']} | {r['target_epsilon'] or '—'} | "
                    f"{number(r['epsilon'], '.4f')} | {r['accountant'] or '—'} | {r['rounds']} | {r['clients_per_round']} | "
                    f"{number(r['noise_multiplier'], '.3f')} | {accuracy} | "
                    f"{r['seconds']:.0f} s | {number(r['wall_seconds'], '.0f')} s |")
    return "\n".join(rows)


def plot():
    records = read_runs()
    (EXPORTS / "federated-results.json").write_text(json.dumps(records, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote notebooks-exports/federated-results.json ({len(records)} runs)")
    plot_rounds(records, "MNIST", EXPORTS / "federated-mnist-accuracy-vs-rounds.svg")
    plot_rounds(records, "Fashion-MNIST", EXPORTS / "federated-fashion-mnist-accuracy-vs-rounds.svg")
    plot_epsilon(records, EXPORTS / "federated-accuracy-vs-epsilon.svg")
    print(table(records))


if __name__ == "__main__":
    {"pipelines": write_pipelines, "tuning": write_tuning_pipelines, "plot": plot}[sys.argv[1] if len(sys.argv) > 1 else "plot"]()
