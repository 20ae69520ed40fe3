#!/usr/bin/env python3
"""Recompute the hash chain of a Veil budget ledger without Veil: Python's standard library only.

Usage: python3 scripts/verify_ledger.py LEDGER.sqlite

Each entry's hash must be the SHA-256 of its canonical JSON (the non-null columns except `hash`,
with `prev_hash` renamed `prev`; keys sorted, no whitespace, non-ASCII kept as UTF-8), each
`prev_hash` the previous entry's hash (64 zeros for the first), and the ids 1, 2, 3, ... without
gaps. Prints `chain verified: N entries, head H` and exits 0, or names the first entry that does
not match and exits 1. See docs/budget-ledger.md.
"""
import hashlib
import json
import sqlite3
import sys


def verify(path):
    # Read-only, so that auditing never writes to the file.
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    prev = "0" * 64
    count = 0
    for row in db.execute("SELECT * FROM entry ORDER BY id"):
        count += 1
        if row["id"] != count:
            return f"entry {row['id']}: expected entry {count} (an entry is missing or out of order)", prev, count - 1
        if row["prev_hash"] != prev:
            return f"entry {row['id']}: its prev hash does not match the hash of entry {count - 1}", prev, count - 1
        entry = {k: row[k] for k in row.keys() if row[k] is not None and k not in ("hash", "prev_hash")}
        entry["prev"] = row["prev_hash"]
        text = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        if hashlib.sha256(text.encode("utf-8")).hexdigest() != row["hash"]:
            return f"entry {row['id']}: its content does not match its hash", prev, count - 1
        prev = row["hash"]
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
