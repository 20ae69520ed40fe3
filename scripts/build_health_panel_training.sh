#!/usr/bin/env bash
# Builds datasets/health_panel_training.sqlite, the training example's data, from datasets/health_panel.sqlite:
# one row per person (the person's latest survey year), so that DP-SGD's privacy unit (one training
# example) is one person; split by person into `train` (person_id % 5 <> 0) and `test` (person_id % 5 = 0),
# a split that reads no data values. The person and year columns are left out.
# Usage: scripts/build_health_panel_training.sh   (needs the sqlite3 command-line tool)
set -euo pipefail
cd "$(dirname "$0")/.."
DB=datasets/health_panel_training.sqlite
rm -f "$DB"
sqlite3 "$DB" <<'SQL'
ATTACH 'datasets/health_panel.sqlite' AS panel;
CREATE TEMP VIEW latest AS
  SELECT v.* FROM panel.visits AS v
  WHERE v.year = (SELECT max(year) FROM panel.visits AS w WHERE w.person_id = v.person_id);
CREATE TABLE train (age INTEGER, income REAL, education_years REAL, education_level INTEGER,
                    doctor_visits INTEGER, hospital_days INTEGER, married INTEGER, kids INTEGER,
                    out_of_work INTEGER, self_employed INTEGER, female INTEGER);
CREATE TABLE test (age INTEGER, income REAL, education_years REAL, education_level INTEGER,
                   doctor_visits INTEGER, hospital_days INTEGER, married INTEGER, kids INTEGER,
                   out_of_work INTEGER, self_employed INTEGER, female INTEGER);
INSERT INTO train SELECT age, income, education_years, education_level, doctor_visits, hospital_days, married,
                         kids, out_of_work, self_employed, female
                  FROM latest WHERE person_id % 5 <> 0 ORDER BY person_id;
INSERT INTO test SELECT age, income, education_years, education_level, doctor_visits, hospital_days, married,
                        kids, out_of_work, self_employed, female
                 FROM latest WHERE person_id % 5 = 0 ORDER BY person_id;
DETACH panel;
VACUUM;
SQL
