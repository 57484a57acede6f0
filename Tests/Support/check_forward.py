#!/usr/bin/env python3
"""Reads a forwarded reply with Python's email package (an independent reader) and prints what a mail client sees:
Reply-To, Subject, and the attached message's Message-ID and first body line."""
import sys
from email import policy
from email.parser import BytesParser

with open(sys.argv[1], "rb") as f:
    msg = BytesParser(policy=policy.default).parse(f)
print("reply-to:", msg["Reply-To"])
print("subject:", msg["Subject"])
print("type:", msg.get_content_type())
for part in msg.iter_parts():
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()[0]
        print("attached-message-id:", inner["Message-ID"])
        print("attached-body:", inner.get_content().strip().splitlines()[0])
    elif part.get_content_type() == "text/plain":
        print("note:", part.get_content().strip().splitlines()[0])
