#!/usr/bin/env python3
"""SmartNoise SQL on the same synthetic panel and queries as `veil-bench sql --accuracy`.

Usage: reference_sql_accuracy.py DATABASE RUNS
       reference_sql_accuracy.py --peak-memory DATABASE
Prints one JSON object: for each query, the median relative error per group over RUNS runs
(|released - exact| / |exact|, exact from plain SQL on the same file), at the same epsilon as Veil and with
the same total cost: each query's charged (epsilon, delta), as SmartNoise's odometer reports it, is printed
(SmartNoise charges an AVG as a SUM and a COUNT at the query's epsilon each, so Veil runs AVG at epsilon 2).

Metadata: the privacy unit person_id with max_ids = 5 (each person has up to five rows), the same clamping
bounds as Veil's metadata; censor_dims off for the public keys (year, female) and on for region, whose
groups must be selected privately (delta 1e-5, as on Veil's side).

With --peak-memory, each query of `veil-bench sql` that SmartNoise can answer (counts and sums by year and by
region, mean visits by sex) runs once in a child process of its own, whose /proc/PID/status is read every 2 ms as
veil-bench reads `veil query`'s: the JSON gives its wall time, peak resident size (VmHWM) and the largest sampled
anonymous resident memory (RssAnon, which leaves out file-backed pages: the interpreter's libraries, the database).
"""
import json
import sqlite3
import subprocess
import statistics
import sys
import time

import snsql
from snsql import Privacy

QUERIES = [
    # name, SmartNoise query, exact query, epsilon, delta, private keys
    ("count_by_year", "SELECT survey_year, COUNT(*) AS n FROM temp.visits GROUP BY survey_year",
     "SELECT year, COUNT(*) FROM panel.visits GROUP BY year", 1.0, 0.0, False),
    ("sum_income_by_year", "SELECT survey_year, SUM(income) AS income FROM temp.visits GROUP BY survey_year",
     "SELECT year, SUM(MAX(0, MIN(15, income))) FROM panel.visits GROUP BY year", 1.0, 0.0, False),
    ("avg_visits_by_sex", "SELECT female, AVG(doctor_visits) AS visits FROM temp.visits GROUP BY female",
     "SELECT female, AVG(MAX(0, MIN(30, doctor_visits))) FROM panel.visits GROUP BY female", 1.0, 0.0, False),
    ("filtered_count", "SELECT COUNT(*) AS n FROM temp.visits WHERE doctor_visits > 4",
     "SELECT COUNT(*) FROM panel.visits WHERE doctor_visits > 4", 1.0, 0.0, False),
    ("count_by_region_private_keys", "SELECT region, COUNT(*) AS n FROM temp.visits GROUP BY region",
     "SELECT region, COUNT(*) FROM panel.visits GROUP BY region", 1.0, 1e-5, True),
    ("sum_visits_by_region_private_keys",
     "SELECT region, SUM(doctor_visits) AS visits FROM temp.visits GROUP BY region",
     "SELECT region, SUM(MAX(0, MIN(30, doctor_visits))) FROM panel.visits GROUP BY region", 1.0, 1e-5, True),
]


def metadata(censor_dims, schema="temp", table="visits"):
    """SmartNoise's metadata for the panel's visits table: the bounds of datasets/health_panel.privacy.yaml."""
    return {"Panel": {schema: {table: {
        "max_ids": 5, "row_privacy": False, "censor_dims": censor_dims,
        "person_id": {"type": "int", "private_id": True},
        "survey_year": {"type": "int"},
        "region": {"type": "string"},
        "female": {"type": "int"},
        "doctor_visits": {"type": "int", "lower": 0, "upper": 30},
        "income": {"type": "float", "lower": 0.0, "upper": 15.0},
    }}}}


def key_of(value):
    """Group keys compared as text, numbers in their integer form when they are whole (1984.0 -> "1984")."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


MEMORY_QUERIES = [
    # the name veil-bench reports, SmartNoise query, private keys
    ("count_sum_by_year",
     "SELECT survey_year, COUNT(*) AS n, SUM(doctor_visits) AS visits FROM temp.visits GROUP BY survey_year", False),
    ("mean_visits_by_sex", "SELECT female, AVG(doctor_visits) AS visits FROM temp.visits GROUP BY female", False),
    ("count_sum_by_region_private_keys",
     "SELECT region, COUNT(*) AS n, SUM(doctor_visits) AS visits FROM temp.visits GROUP BY region", True),
]


def open_panel(path):
    """An in-memory connection with the panel attached read-only and the view SmartNoise reads."""
    # SmartNoise's grammar reserves YEAR and a quoted "year" comes back as NULL keys, so its queries read a
    # view of the same table (read-only) that renames the column; nothing else differs.
    connection = sqlite3.connect(":memory:", uri=True)
    connection.execute("ATTACH DATABASE ? AS panel", (f"file:{path}?mode=ro",))
    connection.execute("CREATE TEMP VIEW visits AS SELECT person_id, year AS survey_year, region, doctor_visits, "
                       "income, female FROM panel.visits")
    return connection


def status_kib(pid, field):
    """The kB figure of a /proc/PID/status line, 0 when the process or the line is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def peak_memory(path):
    """Each memory query in a child process of its own, sampled every 2 ms (see the module's documentation)."""
    report = {"area": "sql-memory-smartnoise"}
    for name, _, _ in MEMORY_QUERIES:
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, __file__, "--one", name, path], stdout=subprocess.DEVNULL)
        hwm = anon = 0
        while child.poll() is None:
            hwm = max(hwm, status_kib(child.pid, "VmHWM:"))
            anon = max(anon, status_kib(child.pid, "RssAnon:"))
            time.sleep(0.002)
        seconds = time.perf_counter() - start
        if child.returncode != 0:
            sys.exit(f"{name}: SmartNoise exited with {child.returncode}")
        report[f"{name}_time"] = {"value": seconds, "unit": "s"}
        report[f"{name}_peak_rss"] = {"value": hwm / 1024, "unit": "MiB"}
        report[f"{name}_peak_anon"] = {"value": anon / 1024, "unit": "MiB"}
    print(json.dumps(report))


def run_one(name, path):
    """One memory query, as the child of peak_memory."""
    query, private_keys = next((q, p) for n, q, p in MEMORY_QUERIES if n == name)
    reader = snsql.from_connection(open_panel(path), engine="sqlite", privacy=Privacy(epsilon=1.0, delta=1e-5),
                                   metadata=metadata(censor_dims=private_keys))
    reader.execute(query)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--peak-memory":
        peak_memory(sys.argv[2])
        return
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        run_one(sys.argv[2], sys.argv[3])
        return
    if len(sys.argv) != 3:
        sys.exit("usage: reference_sql_accuracy.py DATABASE RUNS")
    path, runs = sys.argv[1], int(sys.argv[2])
    connection = open_panel(path)
    report = {"area": "sql-accuracy-smartnoise", "smartnoise_sql": snsql.__version__ if hasattr(snsql, "__version__") else "1.0.10",
              "runs": runs}
    for name, query, exact_query, epsilon, delta, private_keys in QUERIES:
        exact = {}
        for row in connection.execute(exact_query).fetchall():
            if len(row) == 1:
                exact[""] = [float(row[0])]
            else:
                exact[key_of(row[0])] = [float(v) for v in row[1:]]
        reader = snsql.from_connection(connection, engine="sqlite",
                                       privacy=Privacy(epsilon=epsilon, delta=delta),
                                       metadata=metadata(censor_dims=private_keys))
        errors, seconds, missing = [], [], 0
        for _ in range(runs):
            start = time.perf_counter()
            rows = reader.execute(query)[1:]
            seconds.append(time.perf_counter() - start)
            seen = set()
            for row in rows:
                key = "" if len(row) == len(exact.get("", [])) else key_of(row[0])
                values = row if key == "" else row[1:]
                truth = exact.get(key)
                if truth is None:
                    continue
                seen.add(key)
                for released, value in zip(values, truth):
                    if value != 0 and released is not None:
                        errors.append(abs(float(released) - value) / abs(value))
            missing += len(set(exact) - seen)
        report[f"{name}_median_relative_error"] = {"value": statistics.median(errors) if errors else None,
                                                    "unit": "fraction"}
        report[f"{name}_groups_missing"] = {"value": missing / runs, "unit": "groups per run"}
        report[f"{name}_time"] = {"value": statistics.median(seconds), "unit": "s"}
        charged_epsilon, charged_delta = reader.get_privacy_cost(query)
        report[f"{name}_epsilon_charged"] = {"value": charged_epsilon, "unit": "epsilon"}
        report[f"{name}_delta_charged"] = {"value": charged_delta, "unit": "delta"}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
