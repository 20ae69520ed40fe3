"""Plots ε against the number of DP-SGD steps for Veil's RDP and PLD accountants.

Runs `veil account dpsgd --json` for each point and writes an SVG line chart plus a Markdown page with
the table. Usage: python3 scripts/plot_epsilon_vs_steps.py PATH/TO/veil OUTPUT_DIR
"""
import json
import subprocess
import sys
from pathlib import Path

VEIL, OUT = sys.argv[1], Path(sys.argv[2])
Q, DELTA = 0.004267, 1e-5
SIGMAS = [0.8, 1.1, 2.0]
STEPS = [100, 300, 1000, 3000, 10000, 30000, 100000]
COLOURS = {0.8: "#c0392b", 1.1: "#2471a3", 2.0: "#1e8449"}


def epsilon(sigma, steps, accountant):
    out = subprocess.run([VEIL, "account", "dpsgd", "--sampling-rate", str(Q), "--noise-multiplier", str(sigma),
                          "--steps", str(steps), "--delta", str(DELTA), "--accountant", accountant, "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["epsilon"]


rows = []
for sigma in SIGMAS:
    for steps in STEPS:
        rows.append((sigma, steps, epsilon(sigma, steps, "rdp"), epsilon(sigma, steps, "pld")))
        print(f"σ={sigma} T={steps}: rdp {rows[-1][2]:.4f} pld {rows[-1][3]:.4f}", file=sys.stderr)

# SVG: log10(steps) on x, ε on y (log scale), solid = PLD, dashed = RDP.
import math
W, H, L, R, T, B = 720, 440, 70, 170, 30, 60
ymax = max(max(r[2], r[3]) for r in rows)
ymin = min(min(r[2], r[3]) for r in rows)
lx0, lx1 = math.log10(STEPS[0]), math.log10(STEPS[-1])
ly0, ly1 = math.floor(math.log10(ymin) * 2) / 2, math.ceil(math.log10(ymax) * 2) / 2
def x(steps): return L + (math.log10(steps) - lx0) / (lx1 - lx0) * (W - L - R)
def y(eps): return T + (ly1 - math.log10(eps)) / (ly1 - ly0) * (H - T - B)
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<text x="{(L + W - R) / 2}" y="18" font-size="14" text-anchor="middle">ε of DP-SGD (q = {Q}, δ = {DELTA})</text>']
for steps in STEPS:
    svg.append(f'<line x1="{x(steps):.1f}" y1="{T}" x2="{x(steps):.1f}" y2="{H-B}" stroke="#eee"/>')
    svg.append(f'<text x="{x(steps):.1f}" y="{H-B+16}" text-anchor="middle">{steps:,}</text>')
tick = ly0
while tick <= ly1 + 1e-9:
    v = 10 ** tick
    svg.append(f'<line x1="{L}" y1="{y(v):.1f}" x2="{W-R}" y2="{y(v):.1f}" stroke="#eee"/>')
    svg.append(f'<text x="{L-6}" y="{y(v)+4:.1f}" text-anchor="end">{v:.3g}</text>')
    tick += 0.5
svg.append(f'<text x="{(L + W - R)/2}" y="{H-20}" text-anchor="middle">steps T (log scale)</text>')
svg.append(f'<text x="16" y="{(T + H - B)/2}" transform="rotate(-90 16 {(T + H - B)/2})" text-anchor="middle">ε (log scale)</text>')
for i, sigma in enumerate(SIGMAS):
    pts = [r for r in rows if r[0] == sigma]
    for col, dash in ((3, ""), (2, ' stroke-dasharray="6 4"')):
        path = " ".join(f"{'M' if k == 0 else 'L'}{x(r[1]):.1f},{y(r[col]):.1f}" for k, r in enumerate(pts))
        svg.append(f'<path d="{path}" fill="none" stroke="{COLOURS[sigma]}" stroke-width="2"{dash}/>')
    ly = T + 20 + i * 20
    svg.append(f'<line x1="{W-R+15}" y1="{ly}" x2="{W-R+45}" y2="{ly}" stroke="{COLOURS[sigma]}" stroke-width="2"/>')
    svg.append(f'<text x="{W-R+50}" y="{ly+4}">σ = {sigma}</text>')
svg.append(f'<line x1="{W-R+15}" y1="{T+90}" x2="{W-R+45}" y2="{T+90}" stroke="#333" stroke-width="2"/><text x="{W-R+50}" y="{T+94}">PLD</text>')
svg.append(f'<line x1="{W-R+15}" y1="{T+110}" x2="{W-R+45}" y2="{T+110}" stroke="#333" stroke-width="2" stroke-dasharray="6 4"/><text x="{W-R+50}" y="{T+114}">RDP</text>')
svg.append("</svg>")
OUT.mkdir(parents=True, exist_ok=True)
(OUT / "accounting-epsilon-vs-steps.svg").write_text("\n".join(svg) + "\n")

md = ["# ε of DP-SGD against the number of steps", "",
      f"Poisson sampling rate q = {Q} (expected batch 256 of 60,000), δ = {DELTA}. Solid lines: PLD accountant "
      "(value discretisation 10⁻⁴); dashed: RDP accountant. Produced by `python3 scripts/plot_epsilon_vs_steps.py "
      ".build/release/veil notebooks-exports`.", "",
      "![ε against steps](accounting-epsilon-vs-steps.svg)", "",
      "| σ | steps | ε (RDP) | ε (PLD) | PLD / RDP |", "| --- | --- | --- | --- | --- |"]
for sigma, steps, e_rdp, e_pld in rows:
    md.append(f"| {sigma} | {steps:,} | {e_rdp:.4f} | {e_pld:.4f} | {e_pld / e_rdp:.3f} |")
(OUT / "accounting-epsilon-vs-steps.md").write_text("\n".join(md) + "\n")
