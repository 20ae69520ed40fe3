"""Audits every mechanism of `veil audit mechanism` and writes the results page and its plot.

Runs `veil audit mechanism NAME --json` for each mechanism at ε = 1 (δ where the mechanism needs one), and
for three mechanisms at growing trial counts, then writes notebooks-exports/privacy-audit.md (the table),
privacy-audit.json (the raw reports) and privacy-audit-convergence.svg (a hand-written SVG: audited bound
against runs per input). Usage: python3 scripts/privacy_audit_results.py PATH/TO/veil OUTPUT_DIR
"""
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

VEIL, OUT = sys.argv[1], Path(sys.argv[2])
EPSILON, CONFIDENCE = 1.0, 0.95
# δ for the mechanisms that claim (ε, δ): partition selection needs δ ≳ 1/trials for the audit to see anything.
DELTAS = {"discrete-gaussian": 1e-5, "granular-gaussian": 1e-5, "partition-selection": 1e-2}
TRIALS = {"permute-and-flip": 20_000}
DEFAULT_TRIALS = 100_000
# The deliberately broken variants of Tests/PrivacyAuditTests/Mutants, by the mechanism they break; each is
# flagged by `swift test --filter MutantDetectionTests` (ε̂ > claimed ε).
MUTANTS = {
    "discrete-laplace": "half noise scale; sensitivity off by one; a unit's rows not bounded",
    "discrete-gaussian": "a quarter of σ",
    "granular-laplace": "clamp skipped",
}
CONVERGENCE = ["randomized-response", "discrete-laplace", "report-noisy-max"]
LADDER = [1_000, 3_000, 10_000, 30_000, 100_000]
COLOURS = {"randomized-response": "#c0392b", "discrete-laplace": "#2471a3", "report-noisy-max": "#1e8449"}


def audit(name, trials):
    command = [VEIL, "audit", "mechanism", name, "--epsilon", str(EPSILON), "--trials", str(trials),
               "--confidence", str(CONFIDENCE), "--json"]
    if name in DELTAS:
        command += ["--delta", str(DELTAS[name])]
    start = time.monotonic()
    run = subprocess.run(command, capture_output=True, text=True)
    if run.returncode not in (0, 1):
        sys.exit(f"{' '.join(command)} failed: {run.stderr}")
    report = json.loads(run.stdout)
    report["seconds"] = round(time.monotonic() - start, 1)
    print(f"{name} at {trials}: ε̂ = {report['epsilon_lower_bound']:.3f} ({report['seconds']} s)", file=sys.stderr)
    return report


names = ["discrete-laplace", "discrete-gaussian", "granular-laplace", "granular-gaussian", "report-noisy-max",
         "permute-and-flip", "sparse-vector", "partition-selection", "randomized-response", "kary-randomized-response"]
load = os.getloadavg()[0]
reports = [audit(name, TRIALS.get(name, DEFAULT_TRIALS)) for name in names]
ladder = {name: [audit(name, trials) for trials in LADDER] for name in CONVERGENCE}
OUT.mkdir(parents=True, exist_ok=True)
(OUT / "privacy-audit.json").write_text(json.dumps({"reports": reports, "convergence": ladder}, indent=1) + "\n")

# SVG: runs per input on a log x axis, audited ε̂ on y, the claimed ε dashed.
W, H, L, R, T, B = 720, 420, 70, 200, 30, 60
lx0, lx1 = math.log10(LADDER[0]), math.log10(LADDER[-1])
def x(trials): return L + (math.log10(trials) - lx0) / (lx1 - lx0) * (W - L - R)
def y(eps): return T + (1.1 - eps) / 1.1 * (H - T - B)
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<text x="{(L + W - R) / 2}" y="18" font-size="14" text-anchor="middle">Audited ε lower bound '
       f'(claimed ε = {EPSILON:g}, {CONFIDENCE:.0%} confidence)</text>']
for trials in LADDER:
    svg.append(f'<line x1="{x(trials):.1f}" y1="{T}" x2="{x(trials):.1f}" y2="{H-B}" stroke="#eee"/>')
    svg.append(f'<text x="{x(trials):.1f}" y="{H-B+16}" text-anchor="middle">{trials:,}</text>')
for tick in [0, 0.2, 0.4, 0.6, 0.8, 1.0]:
    svg.append(f'<line x1="{L}" y1="{y(tick):.1f}" x2="{W-R}" y2="{y(tick):.1f}" stroke="#eee"/>')
    svg.append(f'<text x="{L-6}" y="{y(tick)+4:.1f}" text-anchor="end">{tick:g}</text>')
svg.append(f'<line x1="{L}" y1="{y(EPSILON):.1f}" x2="{W-R}" y2="{y(EPSILON):.1f}" stroke="#555" stroke-dasharray="6 4"/>')
svg.append(f'<text x="{W-R+8}" y="{y(EPSILON)+4:.1f}">claimed ε</text>')
svg.append(f'<text x="{(L + W - R)/2}" y="{H-20}" text-anchor="middle">runs on each input (log scale)</text>')
svg.append(f'<text x="16" y="{(T + H - B)/2}" transform="rotate(-90 16 {(T + H - B)/2})" text-anchor="middle">audited ε̂</text>')
for i, name in enumerate(CONVERGENCE):
    points = [(LADDER[k], r["epsilon_lower_bound"]) for k, r in enumerate(ladder[name])]
    path = " ".join(f"{'M' if k == 0 else 'L'}{x(t):.1f},{y(e):.1f}" for k, (t, e) in enumerate(points))
    svg.append(f'<path d="{path}" fill="none" stroke="{COLOURS[name]}" stroke-width="2"/>')
    for t, e in points:
        svg.append(f'<circle cx="{x(t):.1f}" cy="{y(e):.1f}" r="3" fill="{COLOURS[name]}"/>')
    ly = T + 40 + i * 20
    svg.append(f'<line x1="{W-R+8}" y1="{ly}" x2="{W-R+38}" y2="{ly}" stroke="{COLOURS[name]}" stroke-width="2"/>')
    svg.append(f'<text x="{W-R+44}" y="{ly+4}">{name}</text>')
svg.append("</svg>")
(OUT / "privacy-audit-convergence.svg").write_text("\n".join(svg) + "\n")

lines = ["# Privacy audits of Veil's mechanisms", "",
         f"Produced by `python3 scripts/privacy_audit_results.py {VEIL} notebooks-exports` "
         f"(load average {load:.1f} when it started). Each row is one `veil audit mechanism NAME --epsilon 1 "
         f"--trials N --json` on the mechanism's worst-case neighbours (docs/privacy-audit.md), noise from the "
         f"operating system's CSPRNG. ε̂ is a lower bound on the true ε that holds with {CONFIDENCE:.0%} confidence; "
         "ε̂ above the claimed ε would prove a violation.", "",
         "| mechanism | neighbours | claimed ε | claimed δ | audited ε̂ | runs per input | confidence | violation | "
         "mutants caught (tests) | seconds |",
         "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
for r in reports:
    lines.append(f"| {r['mechanism']} | {r['neighbours']} | {r['claimed_epsilon']:g} | {r['claimed_delta']:g} | "
                 f"{r['epsilon_lower_bound']:.3f} | {r['trials']:,} | {r['confidence']:.0%} | "
                 f"{'yes' if r['exceeds_claim'] else 'no'} | {MUTANTS.get(r['mechanism'], '—')} | {r['seconds']} |")
lines += ["", "![audited ε̂ against runs per input](privacy-audit-convergence.svg)", "",
          "| runs per input | " + " | ".join(CONVERGENCE) + " |", "| --- |" + " --- |" * len(CONVERGENCE)]
for k, trials in enumerate(LADDER):
    lines.append(f"| {trials:,} | " + " | ".join(f"{ladder[n][k]['epsilon_lower_bound']:.3f}" for n in CONVERGENCE) + " |")
(OUT / "privacy-audit.md").write_text("\n".join(lines) + "\n")
