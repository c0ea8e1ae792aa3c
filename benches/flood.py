#!/usr/bin/env python3
"""Floods for the bounded-memory measurement (README, "Reliability"): prints events on stdout.

    python3 benches/flood.py borrowers N   # N income events, each for a new borrower id
    python3 benches/flood.py events N      # N income events of one borrower, each a new event_id

Pipe into `postloan-monitor replay --input - --output /dev/null` under `/usr/bin/time -v`
and read "Maximum resident set size".
"""
import sys
from datetime import datetime, timedelta, timezone

kind, n = sys.argv[1], int(sys.argv[2])
start = datetime(2026, 1, 1, tzinfo=timezone.utc)
out = sys.stdout
for i in range(n):
    # One second apart: well inside any retention, so only the caps can bound memory.
    at = (start + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
    borrower = f"U{i:09d}" if kind == "borrowers" else "B000000001"
    out.write(
        f'{{"event_id":"flood-{i}","type":"income","borrower_id":"{borrower}",'
        f'"occurred_at":"{at}","monthly_income":"10000.00","currency":"CNY","source":"payroll"}}\n'
    )
