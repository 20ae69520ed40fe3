#!/usr/bin/env bash
# Builds a small demo ledger with three budgets (basic, rdp and zcdp composition), several analysts,
# one refused charge and one reservation resolved by an operator.
# Usage: scripts/budget-demo-ledger.sh LEDGER.sqlite [PATH/TO/veil]
# The ledger file must not exist yet. Charges are spaced out a little so that the report's
# cumulative-ε chart has a time axis worth reading.
set -euo pipefail
LEDGER=${1:?usage: scripts/budget-demo-ledger.sh LEDGER.sqlite [PATH/TO/veil]}
VEIL=${2:-.build/debug/veil}
[ -e "$LEDGER" ] && { echo "$LEDGER exists; give a new path" >&2; exit 2; }
veil() { "$VEIL" budget "$@" --ledger "$LEDGER"; }
charge() { veil charge "$@" >/dev/null; sleep 0.3; }

veil create health_panel --epsilon 3 --delta 1e-5 --composition basic
veil create training --epsilon 10 --delta 1e-5 --composition rdp
veil create census_tables --epsilon 6 --delta 1e-6 --composition zcdp

charge health_panel --epsilon 0.5 --analyst ana --purpose "weekly admissions by ward" --result-digest sha256:9f2c41
charge health_panel --epsilon 0.25 --delta 1e-6 --analyst bruno --purpose "median length of stay" --result-digest sha256:0b7e11
charge training --epsilon 1.5 --analyst ml-team --purpose "readmission model, run 1" --result-digest sha256:77ad03
charge census_tables --epsilon 0.4 --analyst chen --purpose "households by district" --result-digest sha256:c3d9e0
charge health_panel --epsilon 0.75 --analyst ana --purpose "admissions by age band" --result-digest sha256:5a1f62
charge training --epsilon 1.5 --analyst ml-team --purpose "readmission model, run 2" --result-digest sha256:e0c8b4
charge census_tables --epsilon 0.6 --analyst dana --purpose "income deciles" --result-digest sha256:1d44aa
charge health_panel --epsilon 0.5 --delta 2e-6 --analyst bruno --purpose "readmissions within 30 days" --result-digest sha256:8e0f37
charge training --epsilon 2 --analyst ana --purpose "triage classifier" --result-digest sha256:aa9051
charge census_tables --epsilon 0.5 --analyst chen --purpose "commuting flows" --result-digest sha256:42b7c9
# Refused: more than is left.
veil charge health_panel --epsilon 2 --analyst ana --purpose "full cross-tab" || true
charge health_panel --epsilon 0.4 --analyst ana --purpose "admissions by weekday" --result-digest sha256:6c0de2
# Reserved before an export that failed: given back.
failed=$(veil reserve census_tables --epsilon 0.3 --analyst dana --purpose "age pyramid export")
veil resolve "$failed" --refund --note "export failed before any noise was drawn" >/dev/null
sleep 0.3
# Reserved and not yet committed: counts as spent until resolved.
veil reserve health_panel --epsilon 0.2 --analyst bruno --purpose "ad-hoc extract for the board" >/dev/null
veil show
