#!/usr/bin/env python3
"""Checks captured messages with Python's own parser (email.policy.default), independent of Nurture's code.

Usage: check_mime.py EXPECTED.json FILE.eml...
EXPECTED may give "subject", "from_name", "to_name", "headers" (the exact set of header names).
Prints one JSON object per file: {"file", "ok", "problems": [...]}.
"""
import email, email.policy, json, sys

REQUIRED_ONCE = ['From', 'To', 'Subject', 'Date', 'MIME-Version', 'Message-ID', 'List-Unsubscribe', 'List-Unsubscribe-Post']

def check(path, expected):
    raw = open(path, 'rb').read()
    problems = []
    if b'\n' in raw.replace(b'\r\n', b'') or b'\r' in raw.replace(b'\r\n', b''):
        problems.append('bare CR or LF')
    lines = raw.split(b'\r\n')
    if any(len(l) > 998 for l in lines):
        problems.append('line over 998 octets')
    head, _, body = raw.partition(b'\r\n\r\n')
    if any(len(l) > 78 and not l.startswith(b'List-Unsubscribe:') for l in head.split(b'\r\n')):
        problems.append('header line over 78 characters')
    if any(len(l) > 76 for l in body.split(b'\r\n') if not l.startswith(b'--=_')):
        problems.append('body line over 76 characters')
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    for name in REQUIRED_ONCE:
        n = len(msg.get_all(name) or [])
        if n != 1:
            problems.append(f'{name} appears {n} times')
    if expected.get('headers') is not None and sorted(set(msg.keys())) != sorted(expected['headers']):
        problems.append(f'header set {sorted(set(msg.keys()))}')
    if msg['List-Unsubscribe-Post'] != 'List-Unsubscribe=One-Click':
        problems.append('List-Unsubscribe-Post missing or wrong')
    lu = str(msg['List-Unsubscribe'] or '')
    if not (lu.startswith('<http') and lu.endswith('>') and '/u/' in lu):
        problems.append(f'List-Unsubscribe {lu!r}')
    if 'subject' in expected and str(msg['Subject']) != expected['subject']:
        problems.append(f'subject {str(msg["Subject"])!r}')
    if 'from_name' in expected and msg['From'].addresses[0].display_name != expected['from_name']:
        problems.append(f'from name {msg["From"].addresses[0].display_name!r}')
    if 'to_name' in expected and msg['To'].addresses[0].display_name != expected['to_name']:
        problems.append(f'to name {msg["To"].addresses[0].display_name!r}')
    if 'to_addr' in expected and msg['To'].addresses[0].addr_spec != expected['to_addr']:
        problems.append(f'to address {msg["To"].addresses[0].addr_spec!r}')
    if msg.get_content_type() != 'multipart/alternative':
        problems.append(f'content type {msg.get_content_type()}')
    parts = {p.get_content_type(): p for p in msg.iter_parts()}
    if set(parts) != {'text/plain', 'text/html'}:
        problems.append(f'parts {sorted(parts)}')
    else:
        text = parts['text/plain'].get_content().replace('\r\n', '\n')
        html = parts['text/html'].get_content().replace('\r\n', '\n')
        for needle in expected.get('text_contains', []):
            if needle not in text:
                problems.append(f'text part lacks {needle!r}')
        for needle in expected.get('html_contains', []):
            if needle not in html:
                problems.append(f'html part lacks {needle!r}')
    return {'file': path, 'ok': not problems, 'problems': problems}

if __name__ == '__main__':
    expected = json.load(open(sys.argv[1]))
    for path in sys.argv[2:]:
        print(json.dumps(check(path, expected)))
