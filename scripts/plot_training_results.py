"""Plots test accuracy against ε for the recorded training runs.

Reads notebooks-exports/training-results.json (a list of runs: dataset, model, epsilon, accuracy, ...; a
record of several runs also has "accuracy_std", drawn as an error bar) and writes
notebooks-exports/training-accuracy-vs-epsilon.svg, one curve per data set and model (solid for the CNN,
dashed for ScatterNet + linear, dotted for ScatterNet + CNN, dash-dotted for ScatterNet + linear with shifted views). Runs without an accuracy (not done) and runs marked "plot": false
(superseded by a longer run) are skipped. Usage: python3 scripts/plot_training_results.py
"""
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "notebooks-exports"
runs = [r for r in json.loads((ROOT / "training-results.json").read_text())
        if r.get("accuracy") is not None and r.get("plot", True)]
COLOURS = {"MNIST": "#2471a3", "Fashion-MNIST": "#c0392b"}
DASHES = {"CNN tanh": "", "ScatterNet + linear": "6 4", "ScatterNet + CNN": "2 3",
          "ScatterNet + linear, 5 shifted views": "10 3 2 3"}
W, H, L, R, T, B = 760, 380, 60, 330, 30, 50
xmax = max([r["epsilon"] for r in runs] + [8.5])
ymin, ymax = 0.80, 1.00


def px(e):
    return L + (W - L - R) * e / xmax


def py(a):
    return T + (H - T - B) * (ymax - a) / (ymax - ymin)


parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
         f'<rect width="{W}" height="{H}" fill="white"/>',
         f'<text x="{L}" y="18" font-size="14">Test accuracy against ε (δ = 1e-5), DP-SGD</text>']
for k in range(0, 5):
    a = ymin + k * (ymax - ymin) / 4
    parts.append(f'<line x1="{L}" x2="{W - R}" y1="{py(a):.1f}" y2="{py(a):.1f}" stroke="#ddd"/>')
    parts.append(f'<text x="{L - 8}" y="{py(a) + 4:.1f}" text-anchor="end">{a:.2f}</text>')
for e in range(0, int(xmax) + 1):
    parts.append(f'<text x="{px(e):.1f}" y="{H - B + 18}" text-anchor="middle">{e}</text>')
parts.append(f'<line x1="{L}" x2="{W - R}" y1="{H - B}" y2="{H - B}" stroke="black"/>')
parts.append(f'<line x1="{L}" x2="{L}" y1="{T}" y2="{H - B}" stroke="black"/>')
parts.append(f'<text x="{(L + W - R) / 2}" y="{H - 12}" text-anchor="middle">ε spent</text>')
parts.append(f'<text x="16" y="{(T + H - B) / 2}" transform="rotate(-90 16 {(T + H - B) / 2})" text-anchor="middle">test accuracy</text>')
series = [(name, model) for name in COLOURS for model in DASHES
          if any(r["dataset"] == name and r.get("model", "CNN tanh") == model for r in runs)]
for i, (name, model) in enumerate(series):
    colour, dash = COLOURS[name], DASHES[model]
    chosen = sorted((r for r in runs if r["dataset"] == name and r.get("model", "CNN tanh") == model),
                    key=lambda r: r["epsilon"])
    if len(chosen) > 1:
        parts.append('<polyline fill="none" stroke="%s" stroke-width="2" stroke-dasharray="%s" points="%s"/>'
                     % (colour, dash, " ".join(f"{px(r['epsilon']):.1f},{py(r['accuracy']):.1f}" for r in chosen)))
    for r in chosen:
        e, a = r["epsilon"], r["accuracy"]
        if r.get("accuracy_std"):
            d = r["accuracy_std"]
            parts.append(f'<line x1="{px(e):.1f}" x2="{px(e):.1f}" y1="{py(a - d):.1f}" y2="{py(a + d):.1f}" stroke="{colour}"/>')
        parts.append(f'<circle cx="{px(e):.1f}" cy="{py(a):.1f}" r="4" fill="{colour}"/>')
        parts.append(f'<text x="{px(e) + 6:.1f}" y="{py(a) - 6:.1f}" font-size="10">{a * 100:.1f}%</text>')
    y = T + 20 * i
    parts.append(f'<line x1="{W - R + 15}" x2="{W - R + 45}" y1="{y + 6}" y2="{y + 6}" stroke="{colour}" '
                 f'stroke-width="2" stroke-dasharray="{dash}"/>')
    parts.append(f'<text x="{W - R + 52}" y="{y + 10}">{name}, {model}</text>')
parts.append("</svg>")
(ROOT / "training-accuracy-vs-epsilon.svg").write_text("\n".join(parts) + "\n")
print(f"wrote {ROOT / 'training-accuracy-vs-epsilon.svg'} ({len(runs)} runs)")
