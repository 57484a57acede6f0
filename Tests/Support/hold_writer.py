#!/usr/bin/env python3
"""Holds SQLite's writer lock on a database (BEGIN IMMEDIATE) as another process would, until a line on stdin.

Prints "HELD" once the lock is taken, "RELEASED" after rolling back.
"""
import sqlite3, sys

con = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
con.execute("BEGIN IMMEDIATE")
print("HELD", flush=True)
sys.stdin.readline()
con.execute("ROLLBACK")
con.close()
print("RELEASED", flush=True)
