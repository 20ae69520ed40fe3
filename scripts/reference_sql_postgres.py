#!/usr/bin/env python3
"""SmartNoise SQL's PostgreSQL reader on the same server, rows and queries as `veil-bench sql --backend postgres`.

Usage: reference_sql_postgres.py URL ROWS REPEATS
URL is the server `veil-bench sql --backend postgres --postgres URL` ran on: its database veil_bench_<rows> (1M,
10M, ...) holds the table `visits` the benchmark generated. Prints one JSON object: for each query and each
max_parallel_workers_per_gather (0 and 2, PostgreSQL's default), the best of REPEATS wall times of SmartNoise's
private query and of the plain aggregate on the same connection, and their ratio.

Metadata: the privacy unit person_id with max_ids = 5 (each person has five rows; Veil bounds k = 5 groups of
m = 1 row), the same clamping bounds as Veil's metadata; censor_dims off for the public key (year) and on for
region, whose groups must be selected privately (delta 1e-6, as on Veil's side). SmartNoise's grammar reserves
YEAR, so its queries read a view `visits_sn` of the same table that renames the column (created once).
"""
import json
import sys
import time
from urllib.parse import urlsplit

import psycopg2
import snsql
from snsql import Privacy

from reference_sql_accuracy import metadata as panel_metadata

QUERIES = [
    # name, SmartNoise query, plain query, epsilon, delta, private keys
    ("count_sum_by_year",
     "SELECT survey_year, COUNT(*) AS n, SUM(doctor_visits) AS visits FROM public.visits_sn GROUP BY survey_year",
     "SELECT year, COUNT(*), SUM(GREATEST(0, LEAST(30, doctor_visits))) FROM visits GROUP BY year", 1.0, 0.0, False),
    ("count_sum_by_region_private_keys",
     "SELECT region, COUNT(*) AS n, SUM(doctor_visits) AS visits FROM public.visits_sn GROUP BY region",
     "SELECT region, COUNT(*), SUM(GREATEST(0, LEAST(30, doctor_visits))) FROM visits GROUP BY region",
     1.0, 1e-6, True),
]


def metadata(censor_dims):
    return panel_metadata(censor_dims, schema="public", table="visits_sn")


def label(rows):
    """The size label of veil-bench (SQLBenchmark.label)."""
    if rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}M"
    if rows % 1000 == 0:
        return f"{rows // 1000}k"
    return str(rows)


def best(repeats, body):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        body()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: reference_sql_postgres.py URL ROWS REPEATS")
    url, rows, repeats = urlsplit(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    connection = psycopg2.connect(host=url.hostname, port=url.port or 5432, user=url.username or "postgres",
                                  password=url.password, dbname=f"veil_bench_{label(rows).lower()}")
    connection.autocommit = True
    cursor = connection.cursor()
    cursor.execute("CREATE OR REPLACE VIEW visits_sn AS SELECT person_id, year AS survey_year, region, "
                   "doctor_visits, income, female FROM visits")
    report = {"area": "sql_postgres_smartnoise", "smartnoise_sql": "1.0.10", "rows": rows, "repeats": repeats}
    for workers in (0, 2):
        cursor.execute(f"SET max_parallel_workers_per_gather = {workers}")
        for name, query, plain, epsilon, delta, private_keys in QUERIES:
            reader = snsql.from_connection(connection, engine="postgres",
                                           privacy=Privacy(epsilon=epsilon, delta=delta),
                                           metadata=metadata(censor_dims=private_keys))
            smartnoise = best(repeats, lambda: reader.execute(query))

            def run_plain():
                cursor.execute(plain)
                cursor.fetchall()
            plain_time = best(repeats, run_plain)
            key = f"{name}_{label(rows)}_workers{workers}"
            report[f"{key}_smartnoise"] = {"value": smartnoise, "unit": "s"}
            report[f"{key}_plain"] = {"value": plain_time, "unit": "s"}
            report[f"{key}_ratio"] = {"value": smartnoise / plain_time, "unit": "x"}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
