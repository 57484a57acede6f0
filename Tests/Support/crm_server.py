#!/usr/bin/env python3
"""A CRM for tests: takes each hand-off webhook (200), then answers it the way a CRM integration would, through
Nurture's API: POST API/api/v1/handoffs/{X-Nurture-Delivery} {"outcome": OUTCOME, "reason": REASON} with the
bearer token. Logs the webhook and the API's reply as JSON lines in LOG.
Usage: crm_server.py PORT LOG API_BASE TOKEN_FILE OUTCOME REASON"""
import json
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

port, log, api, token_file, outcome, reason = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
token = open(token_file).read().strip()
lock = threading.Lock()


def record(entry):
    with lock, open(log, "a") as f:
        f.write(json.dumps(entry) + "\n")


def answer(delivery):
    body = json.dumps({"outcome": outcome, "reason": reason}).encode()
    request = urllib.request.Request(f"{api}/api/v1/handoffs/{delivery}", data=body, method="POST",
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            record({"answer": delivery, "status": r.status, "body": json.loads(r.read())})
    except urllib.error.HTTPError as e:
        record({"answer": delivery, "status": e.code, "body": e.read().decode()})


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        delivery = self.headers.get("X-Nurture-Delivery")
        record({"webhook": delivery, "body": json.loads(body)})
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        # After the 200: the CRM answers later, on its own connection.
        threading.Thread(target=answer, args=(delivery,)).start()

    def log_message(self, *args):
        pass


HTTPServer(("127.0.0.1", port), Handler).serve_forever()
