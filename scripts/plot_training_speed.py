"""Plots Veil's training throughput against PyTorch (plain) and the better Opacus mode (DP-SGD).

Reads notebooks-exports/runs/bench-training.json (pairs of `veil-bench training` and
scripts/reference_bench_training.py run in the same minute) and writes
notebooks-exports/training-speed-vs-references.svg: for each model, one dot per pair for Veil plain / PyTorch
plain and for Veil DP-SGD / the better Opacus mode, beside the targets (1 and 2).
Usage: python3 scripts/plot_training_speed.py
"""
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "notebooks-exports"
pairs = json.loads((ROOT / "runs" / "bench-training.json").read_text())["pairs"]
MODELS = [("logistic", "logistic"), ("mlp", "MLP 784-256-10"), ("cnn", "tanh CNN")]
PANELS = [("plain: Veil / PyTorch", lambda f: f["veil_plain"] / f["pytorch_plain"], 1.0),
          ("DP-SGD: Veil / best Opacus", lambda f: f["veil_dpsgd"] / max(f["opacus_hooks"], f["opacus_ghost"]), 2.0)]
W, H, L, T, B, GAP = 620, 300, 50, 40, 50, 40
panel_width = (W - L - GAP - 20) / 2
ymax = 11.0


def py(ratio):
    return T + (H - T - B) * (1 - min(ratio, ymax) / ymax)


parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
         f'<rect width="{W}" height="{H}" fill="white"/>',
         f'<text x="{L}" y="18" font-size="14">Training throughput against the references, {len(pairs)} pairs of runs</text>']
for p, (title, ratio, target) in enumerate(PANELS):
    x0 = L + p * (panel_width + GAP)
    parts.append(f'<text x="{x0}" y="{T - 6}">{title}</text>')
    for tick in range(0, int(ymax) + 1, 2):
        y = py(tick)
        parts.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x0 + panel_width:.1f}" y2="{y:.1f}" stroke="#eee"/>')
        parts.append(f'<text x="{x0 - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}×</text>')
    y = py(target)
    parts.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x0 + panel_width:.1f}" y2="{y:.1f}" stroke="#c0392b" '
                 f'stroke-dasharray="4 3"/>')
    parts.append(f'<text x="{x0 + 4}" y="{y - 4:.1f}" fill="#c0392b">target {target:g}×</text>')
    slot = panel_width / len(MODELS)
    for m, (key, label) in enumerate(MODELS):
        cx = x0 + slot * (m + 0.5)
        for i, pair in enumerate(pairs):
            x = cx + (i - (len(pairs) - 1) / 2) * 7
            parts.append(f'<circle cx="{x:.1f}" cy="{py(ratio(pair[key])):.1f}" r="3.5" fill="#2471a3"/>')
        parts.append(f'<text x="{cx:.1f}" y="{H - B + 18}" text-anchor="middle">{label}</text>')
    parts.append(f'<line x1="{x0}" y1="{H - B}" x2="{x0 + panel_width:.1f}" y2="{H - B}" stroke="black"/>')
parts.append("</svg>")
out = ROOT / "training-speed-vs-references.svg"
out.write_text("\n".join(parts) + "\n")
print(f"wrote {out} ({len(pairs)} pairs)")
