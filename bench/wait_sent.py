#!/usr/bin/env python3
"""Waits until N outbox rows are sent, polling one read-only SQLite connection (a new sqlite3 process per poll
would steal a core's worth of CPU from what is measured). Prints "TOTAL STEADY": messages/s from START (a Unix
time, when the daemon was started) and from the first poll that saw a sent row (steady state, startup excluded)."""
import sqlite3, sys, time

db, n, start = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
conn = None
while conn is None:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        conn.execute("SELECT count(*) FROM outbox")
    except sqlite3.Error:
        conn = None
        time.sleep(0.02)
first_time = first_count = None
while True:
    count = conn.execute("SELECT count(*) FROM outbox WHERE status = 'sent'").fetchone()[0]
    now = time.time()
    if count > 0 and first_time is None:
        first_time, first_count = now, count
    if count >= n:
        break
    time.sleep(0.02)
steady = (n - first_count) / (now - first_time) if now > first_time else float("nan")
print(round(n / (now - start)), round(steady))
