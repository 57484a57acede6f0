#!/usr/bin/env python3
"""Verifies every DKIM-Signature of messages with dkimpy, an independent implementation.

Usage: dkim_verify.py RECORDS.json FILE.eml...
RECORDS.json maps a DNS name (SELECTOR._domainkey.DOMAIN) to its TXT value; no DNS is queried.
Prints one JSON object per file: {"file": F, "signatures": [{"a": ALG, "d": DOMAIN, "ok": BOOL}, ...]}.
Exit status 0 when it could check every file (whatever the verdicts), 2 on a usage error.
"""
import json
import re
import sys

import dkim


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        records = {k.rstrip(".").lower(): v for k, v in json.load(f).items()}

    def dns(name, timeout=5):
        key = name.decode().rstrip(".").lower() if isinstance(name, bytes) else name.rstrip(".").lower()
        value = records.get(key)
        return value.encode() if value is not None else None

    for path in sys.argv[2:]:
        with open(path, "rb") as f:
            message = f.read()
        count = len(re.findall(rb"(?im)^DKIM-Signature:", message.split(b"\r\n\r\n", 1)[0]))
        results = []
        for i in range(count):
            d = dkim.DKIM(message)
            try:
                ok = bool(d.verify(idx=i, dnsfunc=dns))
            except Exception as e:  # a malformed signature is a failed one
                ok = False
            fields = getattr(d, "signature_fields", {}) or {}
            results.append({"a": fields.get(b"a", b"").decode(), "d": fields.get(b"d", b"").decode(), "ok": ok})
        print(json.dumps({"file": path, "signatures": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
