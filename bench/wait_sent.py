#!/usr/bin/env python3
"""Waits until N outbox rows are sent, polling one read-only connection (a new sqlite3 or psql process per poll
would steal a core's worth of CPU from what is measured). Prints "TOTAL STEADY": messages/s from START (a Unix
time, when the daemon was started) and from the first poll that saw a sent row (steady state, startup excluded).
  wait_sent.py DATABASE.sqlite N START
  wait_sent.py --psql PORT DBNAME PASSWORD_FILE N START   (one psql process kept open, fed a query per poll)"""
import os, sqlite3, subprocess, sys, time

SENT = "SELECT count(*) FROM outbox WHERE status = 'sent'"

if sys.argv[1] == "--psql":
    port, dbname, password_file, n, start = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), float(sys.argv[6])
    with open(password_file) as f:
        env = {**os.environ, "PGPASSWORD": f.read().strip()}
    psql = subprocess.Popen(["psql", "-qAtX", "-h", "127.0.0.1", "-p", port, "-U", "nurture", "-d", dbname],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, bufsize=1)
    def count():
        psql.stdin.write(SENT + ";\n")
        psql.stdin.flush()
        return int(psql.stdout.readline())
else:
    db, n, start = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    conn = None
    while conn is None:
        try:
            conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
            conn.execute("SELECT count(*) FROM outbox")
        except sqlite3.Error:
            conn = None
            time.sleep(0.02)
    def count():
        return conn.execute(SENT).fetchone()[0]

first_time = first_count = None
while True:
    sent = count()
    now = time.time()
    if sent > 0 and first_time is None:
        first_time, first_count = now, sent
    if sent >= n:
        break
    time.sleep(0.02)
steady = (n - first_count) / (now - first_time) if now > first_time else float("nan")
print(round(n / (now - start)), round(steady))
