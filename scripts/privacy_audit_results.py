"""Audits every mechanism, five SQL queries and the MNIST DP-SGD pipelines, and writes the results page.

Runs `veil audit mechanism NAME --json` for each mechanism at ε = 1 (δ where the mechanism needs one), and
for three mechanisms at growing trial counts; `veil audit query` for five queries on the shipped health
panel; `veil audit training` for pipelines/mnist-cnn-eps{1,3,8}.yaml and the non-private MNIST CNN claimed
as ε = 1; `veil audit federated` for the MNIST MLP DP-FedAvg pipelines at ε 1, 3, 8 and FedAvg claimed as ε = 1. Writes notebooks-exports/privacy-audit.md (the tables), privacy-audit.json (the
raw reports), privacy-audit-convergence.svg (audited bound against runs per input) and
privacy-audit-training.svg (audited against claimed ε of the training runs), both hand-written SVG.
Usage: python3 scripts/privacy_audit_results.py PATH/TO/veil OUTPUT_DIR
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


ROOT = Path(__file__).resolve().parent.parent
PANEL = ["--db", str(ROOT / "datasets/health_panel.sqlite"), "--metadata", str(ROOT / "datasets/health_panel.privacy.yaml")]
# Five representative queries: public keys, a sum, a mean, a filter, private keys (partition selection).
QUERIES = [
    ("count by year", "SELECT year, COUNT(*) AS n FROM visits GROUP BY year", 0),
    ("sum of income by year", "SELECT year, SUM(income) AS income FROM visits GROUP BY year", 0),
    ("mean doctor visits by sex", "SELECT female, AVG(doctor_visits) AS visits FROM visits GROUP BY female", 0),
    ("filtered count", "SELECT COUNT(*) AS n FROM visits WHERE age >= 50", 0),
    ("count by age (private keys)", "SELECT age, COUNT(*) AS n FROM visits GROUP BY age", 1e-5),
]
QUERY_TRIALS = 2000
# The DP-SGD runs audited (claim: the pipeline's planned ε), and a non-private run claimed as ε = 1.
TRAINING = [("MNIST CNN, DP-SGD", f"pipelines/mnist-cnn-eps{e}.yaml", None) for e in (1, 3, 8)] + [
    ("MNIST CNN, no clipping or noise (claimed ε = 1)", "pipelines/mnist-cnn-nonprivate.yaml", 1.0)]
CANARIES = 1000
# Federated runs (client-level): the MLP configuration of the federated results page.
FEDERATED = [("MNIST MLP, DP-FedAvg", f"pipelines/mnist-mlp-federated-dpfedavg-eps{e}.yaml", None) for e in (1, 3, 8)] + [
    ("MNIST MLP, FedAvg (claimed ε = 1)", "pipelines/mnist-mlp-federated-fedavg.yaml", 1.0)]
CANARY_CLIENTS, EXAMPLES_PER_CANARY = 500, 5


def run_json(command, label):
    """Runs one `veil audit … --json` (exit 0 or 1 are both reports), timing it."""
    start = time.monotonic()
    run = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if run.returncode not in (0, 1):
        sys.exit(f"{' '.join(command)} failed: {run.stderr}")
    report = json.loads(run.stdout)
    report["seconds"] = round(time.monotonic() - start, 1)
    print(f"{label}: ε̂ = {report['epsilon_lower_bound']:.3f} ({report['seconds']} s)", file=sys.stderr)
    return report


def audit(name, trials):
    command = [VEIL, "audit", "mechanism", name, "--epsilon", str(EPSILON), "--trials", str(trials),
               "--confidence", str(CONFIDENCE), "--json"]
    if name in DELTAS:
        command += ["--delta", str(DELTAS[name])]
    return run_json(command, f"{name} at {trials}")


def audit_query(label, sql, delta):
    command = [VEIL, "audit", "query", *PANEL, "--epsilon", str(EPSILON), "--delta", str(delta),
               "--trials", str(QUERY_TRIALS), "--confidence", str(CONFIDENCE), "--json", sql]
    return {"query": label, "sql": sql, **run_json(command, label)}


def audit_training(label, pipeline, claim):
    command = [VEIL, "audit", "training", pipeline, "--canaries", str(CANARIES), "--confidence", str(CONFIDENCE),
               "--json"] + (["--epsilon", str(claim)] if claim else [])
    return {"run": label, "pipeline": pipeline, **run_json(command, label)}


def audit_federated(label, pipeline, claim):
    command = [VEIL, "audit", "federated", pipeline, "--canaries", str(CANARY_CLIENTS), "--examples-per-canary",
               str(EXAMPLES_PER_CANARY), "--confidence", str(CONFIDENCE), "--json"] + (
               ["--epsilon", str(claim)] if claim else [])
    return {"run": label, "pipeline": pipeline, **run_json(command, label)}


names = ["discrete-laplace", "discrete-gaussian", "granular-laplace", "granular-gaussian", "report-noisy-max",
         "permute-and-flip", "sparse-vector", "partition-selection", "randomized-response", "kary-randomized-response"]
load = os.getloadavg()[0]
reports = [audit(name, TRIALS.get(name, DEFAULT_TRIALS)) for name in names]
ladder = {name: [audit(name, trials) for trials in LADDER] for name in CONVERGENCE}
queries = [audit_query(*q) for q in QUERIES]
trainings = [audit_training(*t) for t in TRAINING]
federated = [audit_federated(*f) for f in FEDERATED]
OUT.mkdir(parents=True, exist_ok=True)
(OUT / "privacy-audit.json").write_text(json.dumps(
    {"reports": reports, "convergence": ladder, "queries": queries, "training": trainings, "federated": federated},
    indent=1) + "\n")

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

# SVG: the DP-SGD runs' audited ε̂ against their claimed ε, with the line ε̂ = ε above which a claim fails.
dp_runs = [t for t in trainings if "DP-SGD" in t["run"]]
W2, H2, L2, R2, T2, B2 = 520, 420, 70, 40, 30, 60
top = 9.0
def x2(eps): return L2 + eps / top * (W2 - L2 - R2)
def y2(eps): return T2 + (top - eps) / top * (H2 - T2 - B2)
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W2}" height="{H2}" font-family="sans-serif" font-size="12">',
       f'<rect width="{W2}" height="{H2}" fill="white"/>',
       f'<text x="{(L2 + W2 - R2) / 2}" y="18" font-size="14" text-anchor="middle">MNIST CNN, DP-SGD: one-run audit '
       f'({CANARIES:,} canaries, {CONFIDENCE:.0%})</text>']
for tick in range(0, 10):
    svg.append(f'<line x1="{x2(tick):.1f}" y1="{T2}" x2="{x2(tick):.1f}" y2="{H2-B2}" stroke="#eee"/>')
    svg.append(f'<text x="{x2(tick):.1f}" y="{H2-B2+16}" text-anchor="middle">{tick}</text>')
    svg.append(f'<line x1="{L2}" y1="{y2(tick):.1f}" x2="{W2-R2}" y2="{y2(tick):.1f}" stroke="#eee"/>')
    svg.append(f'<text x="{L2-6}" y="{y2(tick)+4:.1f}" text-anchor="end">{tick}</text>')
svg.append(f'<line x1="{x2(0)}" y1="{y2(0)}" x2="{x2(top)}" y2="{y2(top)}" stroke="#555" stroke-dasharray="6 4"/>')
svg.append(f'<text x="{x2(6.2):.1f}" y="{y2(6.6):.1f}" transform="rotate(-38 {x2(6.2):.1f} {y2(6.6):.1f})">'
           'audited = claimed: above it, a violation</text>')
for t in dp_runs:
    svg.append(f'<circle cx="{x2(t["claimed_epsilon"]):.1f}" cy="{y2(t["epsilon_lower_bound"]):.1f}" r="5" fill="#2471a3"/>')
    svg.append(f'<text x="{x2(t["claimed_epsilon"]):.1f}" y="{y2(t["epsilon_lower_bound"])-10:.1f}" text-anchor="middle">'
               f'{t["epsilon_lower_bound"]:.2f}</text>')
svg.append(f'<text x="{(L2 + W2 - R2)/2}" y="{H2-20}" text-anchor="middle">claimed ε (planned, RDP accountant, δ = 1e-5)</text>')
svg.append(f'<text x="16" y="{(T2 + H2 - B2)/2}" transform="rotate(-90 16 {(T2 + H2 - B2)/2})" text-anchor="middle">audited ε̂</text>')
svg.append("</svg>")
(OUT / "privacy-audit-training.svg").write_text("\n".join(svg) + "\n")

lines = ["# Privacy audits of Veil's mechanisms, queries and training runs", "",
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
lines += ["", "## Queries", "",
          f"Each row is one `veil audit query` on `datasets/health_panel.sqlite` with its metadata, {QUERY_TRIALS} runs of "
          "the whole engine on the panel and on a copy without the heaviest person, charged to a throw-away ledger. "
          "The bound is the largest over the released cells, Bonferroni-corrected.", "",
          "| query | SQL | claimed ε | claimed δ | audited ε̂ | released cells | runs per database | violation | seconds |",
          "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
for q in queries:
    lines.append(f"| {q['query']} | `{q['sql']}` | {q['claimed_epsilon']:g} | {q['claimed_delta']:g} | "
                 f"{q['epsilon_lower_bound']:.3f} | {q['cells']} | {q['trials']} | "
                 f"{'yes' if q['exceeds_claim'] else 'no'} | {q['seconds']} |")
lines += ["", "## Training runs", "",
          f"Each row is one `veil audit training PIPELINE --canaries {CANARIES}`: the one-run audit of Steinke, Nasr and "
          "Jagielski (2023) with wrong-label test images as canaries, each trained on with probability ½, guessed from the "
          "final model's loss (a fifth of them guessed, half each way). The claim is the pipeline's planned ε, or the "
          "one given for the run without noise. Black-box audits of correct DP-SGD stay far below the claim "
          "(docs/privacy-audit.md).", "",
          "![audited against claimed ε for the DP-SGD runs](privacy-audit-training.svg)", "",
          "| run | pipeline | claimed ε | claimed δ | audited ε̂ | right guesses | canaries (trained on) | steps | violation | seconds |",
          "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]


def one_run_row(r, canaries, length):
    """A table row of a one-run audit report: the claim, the bound, the guesses, the canaries, the run's length."""
    return (f"| {r['run']} | `{r['pipeline']}` | {r['claimed_epsilon']:.3g} | {r['claimed_delta']:g} | "
            f"{r['epsilon_lower_bound']:.3f} | {r['correct_guesses']} of {r['guesses']} | "
            f"{r[canaries]:,} ({r['canaries_included']}) | {r[length]:,} | "
            f"{'yes' if r['exceeds_claim'] else 'no'} | {r['seconds']} |")


lines += [one_run_row(t, "canaries", "steps") for t in trainings]
lines += ["", "## Federated runs", "",
          f"Each row is one `veil audit federated PIPELINE --canaries {CANARY_CLIENTS} --examples-per-canary "
          f"{EXAMPLES_PER_CANARY}`: canary clients of wrong-label test images, each taking part with probability ½, "
          "guessed from the final model's mean loss on their images. The claim is client-level.", "",
          "| run | pipeline | claimed ε | claimed δ | audited ε̂ | right guesses | canary clients (took part) | rounds | violation | seconds |",
          "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
lines += [one_run_row(f, "canary_clients", "rounds") for f in federated]
(OUT / "privacy-audit.md").write_text("\n".join(lines) + "\n")
