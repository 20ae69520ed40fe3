#!/usr/bin/env python3
"""Recompute the hash chain of a Veil budget ledger without Veil: Python's standard library only.

Usage: python3 scripts/verify_ledger.py LEDGER.sqlite
       python3 scripts/verify_ledger.py postgres://USER@HOST:PORT/DATABASE

A PostgreSQL ledger (the schema veil_ledger) is read in one read-only snapshot, through psycopg2 when it can be
imported, else through the `psql` client; the password, if any, from the URL or $PGPASSWORD.

Each entry's hash must be the SHA-256 of its canonical JSON (the non-null columns except `hash`,
with `prev_hash` renamed `prev`; keys sorted, no whitespace, non-ASCII kept as UTF-8, a negative
zero written 0.0), each `prev_hash` the previous entry's hash (64 zeros for the first), and the ids
1, 2, 3, ... without gaps. The running totals are recomputed too: the units of every reservation not
refunded, per scope. A `reserve` or `refund` entry of ledger format 2 records its scope's total after
it (`total_epsilon_units`, `total_delta_units`), which must match; so must the `scope_total` cache.
The `state_digest` of format 3 (an rdp/zcdp scope's composed state) is hashed like every column but
not recomposed here: that takes an RDP accountant (`veil budget verify` does it).
Prints `chain verified: N entries, head H` and exits 0, or names the first problem and exits 1.
See docs/budget-ledger.md.
"""
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys


def canonical(value):
    # -0.0 and 0.0 are one amount; Veil hashes 0.0 (SQLite reads -0.0 back as 0.0 anyway).
    if isinstance(value, float) and value == 0:
        return 0.0
    return value


# The columns the PostgreSQL ledger stores as DOUBLE PRECISION (JSON writes 1.0 as 1; Veil hashes a real).
REAL_COLUMNS = ("epsilon", "delta")
# One snapshot of the ledger, each row as JSON on a line of its own: 'E' then an entry, 'T' then a running total.
POSTGRES_SNAPSHOT = [
    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    "SELECT 'E' || row_to_json(e)::text FROM veil_ledger.entry e ORDER BY id",
    "SELECT 'T' || row_to_json(t)::text FROM veil_ledger.scope_total t",
    "COMMIT",
]


def postgres_lines(url):
    """The lines of POSTGRES_SNAPSHOT's output: through psycopg2 if it can be imported, else psql."""
    try:
        import psycopg2
    except ImportError:
        psql = shutil.which("psql")
        if psql is None:
            raise SystemExit("reading a PostgreSQL ledger needs psycopg2 or the psql client")
        script = "".join(statement + ";\n" for statement in POSTGRES_SNAPSHOT)
        run = subprocess.run([psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", url], input=script,
                             capture_output=True, text=True, encoding="utf-8",
                             env={**os.environ, "PGCLIENTENCODING": "UTF8"})
        if run.returncode != 0:
            raise SystemExit(f"psql failed: {run.stderr.strip()}")
        return run.stdout.splitlines()
    connection = psycopg2.connect(url)
    connection.set_client_encoding("UTF8")
    connection.autocommit = True
    lines = []
    with connection.cursor() as cursor:
        for statement in POSTGRES_SNAPSHOT:
            cursor.execute(statement)
            if cursor.description:
                lines += [row[0] for row in cursor.fetchall()]
    connection.close()
    return lines


def read_ledger(location):
    """The entries (dicts of column -> value, by id) and the scope_total rows (scope, epsilon units, delta units)."""
    if location.startswith(("postgres://", "postgresql://")):
        entries, totals = [], []
        for line in postgres_lines(location):
            if line.startswith("E"):
                row = json.loads(line[1:])
                for column in REAL_COLUMNS:
                    if row.get(column) is not None:
                        row[column] = float(row[column])
                entries.append(row)
            elif line.startswith("T"):
                row = json.loads(line[1:])
                totals.append((row["scope"], row["epsilon_units"], row["delta_units"]))
        return entries, totals
    # Read-only, so that auditing never writes to the file.
    db = sqlite3.connect(f"file:{location}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    entries = [{k: row[k] for k in row.keys()} for row in db.execute("SELECT * FROM entry ORDER BY id")]
    totals = list(db.execute("SELECT scope, epsilon_units, delta_units FROM scope_total"))
    return entries, totals


def verify(location):
    rows, scope_totals = read_ledger(location)
    prev = "0" * 64
    count = 0
    reserved = {}  # reservation id -> (scope, epsilon units, delta units)
    totals = {}    # scope -> [epsilon units, delta units]
    for row in rows:
        count += 1
        entry_id = row["id"]
        if entry_id != count:
            return f"entry {entry_id}: expected entry {count} (an entry is missing or out of order)", prev, count - 1
        if row["prev_hash"] != prev:
            return f"entry {entry_id}: its prev hash does not match the hash of entry {count - 1}", prev, count - 1
        entry = {k: canonical(v) for k, v in row.items() if v is not None and k not in ("hash", "prev_hash")}
        entry["prev"] = row["prev_hash"]
        text = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        if hashlib.sha256(text.encode("utf-8")).hexdigest() != row["hash"]:
            return f"entry {entry_id}: its content does not match its hash", prev, count - 1
        scope, kind = entry["scope"], entry["kind"]
        if kind == "budget":
            totals[scope] = [0, 0]
        elif kind == "reserve":
            units = (entry.get("epsilon_units", 0), entry.get("delta_units", 0))
            reserved[entry_id] = (scope, *units)
            total = totals.setdefault(scope, [0, 0])
            total[0] += units[0]
            total[1] += units[1]
        elif kind == "refund" and entry.get("reservation") in reserved:
            _, e, d = reserved.pop(entry["reservation"])
            total = totals.setdefault(scope, [0, 0])
            total[0] -= e
            total[1] -= d
        recorded = (entry.get("total_epsilon_units"), entry.get("total_delta_units"))
        if recorded != (None, None) and list(recorded) != totals.get(scope):
            return f"entry {entry_id}: the running total it records does not match the entries of {scope}", prev, count - 1
        prev = row["hash"]
    for scope, e, d in scope_totals:
        if totals.get(scope) != [e, d]:
            return f"the running total of {scope} does not match its entries", prev, count
    return None, prev, count


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    problem, head, count = verify(sys.argv[1])
    if problem:
        print(f"chain BROKEN: {problem}", file=sys.stderr)
        return 1
    print(f"chain verified: {count} entries, head {head}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
