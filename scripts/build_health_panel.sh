#!/usr/bin/env bash
# Builds datasets/health_panel.sqlite from the published German health panel CSV with `veil import csv`.
# Usage: scripts/build_health_panel.sh [path/to/veil] [path/to/german_health_panel.csv]
set -euo pipefail
cd "$(dirname "$0")/.."
VEIL=${1:-.build/debug/veil}
CSV=${2:-../shared/datasets/tabular/german_health_panel.csv}
DB=datasets/health_panel.sqlite
[ -x "$VEIL" ] || swift build --product veil
rm -f "$DB"
"$VEIL" import csv "$CSV" --db "$DB" --table visits --metadata datasets/health_panel.privacy.yaml \
  --rename id=person_id --rename docvis=doctor_visits --rename hospvis=hospital_days \
  --rename hhninc=income --rename educ=education_years --rename edlevel=education_level \
  --rename outwork=out_of_work --rename self=self_employed
sqlite3 "$DB" "VACUUM" 2>/dev/null || true
