#!/usr/bin/env python3
"""A hand-off receiver for tests: records every POST (headers and body) as one JSON line in LOG, answers 503 to
the first FAIL requests and 200 after, each after DELAY seconds. Usage: webhook_server.py PORT LOG [FAIL [DELAY]]"""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

port, log, fail = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 0
delay = float(sys.argv[4]) if len(sys.argv) > 4 else 0
seen = 0


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        global seen
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        seen += 1
        time.sleep(delay)
        status = 503 if seen <= fail else 200
        with open(log, "a") as f:
            f.write(json.dumps({"status": status, "headers": dict(self.headers), "body": body.decode()}) + "\n")
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


HTTPServer(("127.0.0.1", port), Handler).serve_forever()
