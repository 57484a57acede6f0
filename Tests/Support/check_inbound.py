#!/usr/bin/env python3
"""Reads inbound messages with Python's own parser (email, compat32 policy), independent of Nurture's code, and
prints what a classifier needs to agree on: the top content type and report-type, the message's Message-ID, the
returned message's Message-ID, the delivery-status recipient blocks and the feedback type.

Usage: check_inbound.py FILE.eml...
Prints one JSON object per file: {"file", "content_type", "report_type", "message_id", "returned_message_id",
"dsn": [[action, status], ...] or null, "feedback_type"}.
"""
import email, email.parser, email.policy, json, re, sys

MSGID = re.compile(r'<([^<>]+)>')
STATUS = re.compile(r'(?<![\d.])([245]\.\d{1,3}\.\d{1,3})(?!\d|\.\d)')


def own_id(value):
    if value is None:
        return None
    value = str(value)
    m = MSGID.search(value)
    if m:
        return '<' + re.sub(r'\s+', '', m.group(1)) + '>'
    bare = value.strip()
    return '<' + bare + '>' if bare and '@' in bare and ' ' not in bare else None


def headers_of(part):
    """The returned message's header (message/rfc822) or header section (text/rfc822-headers)."""
    ctype = part.get_content_type()
    if ctype in ('message/rfc822', 'message/global'):
        payload = part.get_payload()
        if isinstance(payload, list) and payload:
            return payload[0]
        return None
    raw = part.get_payload(decode=True) or b''
    return email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)


def walk(part, found):
    """Depth first, not into returned messages (as the classifier reads a report's own parts)."""
    ctype = part.get_content_type()
    if ctype in ('message/rfc822', 'message/global', 'text/rfc822-headers', 'message/global-headers'):
        if 'returned' not in found:
            h = headers_of(part)
            found['returned'] = own_id(h['Message-ID']) if h is not None else None
        return
    if ctype in ('message/delivery-status', 'message/global-delivery-status') and 'dsn' not in found:
        blocks = part.get_payload()
        rows = []
        if isinstance(blocks, list):
            for b in blocks:
                if any(b[k] is not None for k in ('Final-Recipient', 'Original-Recipient', 'Action', 'Status')):
                    action = b['Action'].split()[0].lower() if b['Action'] and b['Action'].split() else None
                    m = STATUS.search(b['Status'] or '')
                    rows.append([action, m.group(1) if m else None])
        found['dsn'] = rows
        return
    if ctype == 'message/feedback-report' and 'feedback' not in found:
        payload = part.get_payload()
        fields = payload[0] if isinstance(payload, list) and payload else \
            email.parser.HeaderParser().parsestr(payload if isinstance(payload, str) else '')
        ft = fields['Feedback-Type']
        found['feedback'] = ft.split()[0].lower() if ft and ft.split() else None
        return
    if part.is_multipart():
        payload = part.get_payload()
        if isinstance(payload, list):
            for p in payload:
                walk(p, found)


def check(path):
    raw = open(path, 'rb').read()
    msg = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(raw)
    found = {}
    walk(msg, found)
    rt = msg.get_param('report-type')
    return {
        'file': path.rsplit('/', 1)[-1],
        'content_type': msg.get_content_type(),
        'report_type': rt.lower() if isinstance(rt, str) else None,
        'message_id': own_id(msg['Message-ID']),
        'returned_message_id': found.get('returned'),
        'dsn': found.get('dsn'),
        'feedback_type': found.get('feedback'),
    }


for path in sys.argv[1:]:
    print(json.dumps(check(path)))
