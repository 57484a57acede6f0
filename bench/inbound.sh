#!/usr/bin/env bash
# Inbound benchmark: M distinct messages (a third hard-bounce DSNs naming a sent message by its Message-ID, a third
# replies from leads, a third out-of-office replies) through `nurture inbound`, one process per message as an MTA's
# pipe runs it, against a SQLite store of L leads. Prints "pipe=X msg/s (S ms per message)".
# Then the same messages placed in a throwaway Dovecot's Maildir and read by the daemon's IMAP poller (IMAPS, moved to
# a processed folder): "imap=Y msg/s", from the first message recorded to the last (the inbound table's times).
# Usage: bench/inbound.sh [MESSAGES] [LEADS]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
N=${NURTURE_BIN:-$here/.build/release/nurture}
messages=${1:-600}; leads=${2:-1000}
work=$(mktemp -d /tmp/nurture-bench-inbound.XXXXXX)
imap_dir=/tmp/nurture-imap-bench-$$
trap 'kill $(jobs -p) 2>/dev/null || true; NURTURE_IMAP_TEST_DIR=$imap_dir "$here/scripts/dovecot-test-server.sh" stop; rm -rf "$work"' EXIT
mkdir -p "$work/sequences" "$work/mail"
cp -r "$here/templates" "$work/templates"
cat > "$work/sequences/bench.yaml" <<YAML
id: bench
persona: cto
steps:
  - { id: only, after: 0m, template: cto/whitepaper }
YAML
cat > "$work/nurture.yaml" <<YAML
database: var/nurture.sqlite
fields: [first_name, company, whitepaper_title]
transport: file://var/outbox
sender: { name: Bench, email: hello@acme-analytics.example, postal_address: 1 Bench Street, verp: true }
throttle: { min_gap: 1s, max: 100 per 1d, rate: 100000/s, domain_rate: 100000/s, sunset_after: 100 }
http: { listen: "127.0.0.1:0", public_url: "http://127.0.0.1" }
YAML
python3 - "$leads" > "$work/leads.csv" <<'PY'
import sys
print("email,first_name,company,whitepaper_title,persona")
for i in range(int(sys.argv[1])):
    print(f"lead{i}@example{i % 50}.com,Lead{i},Company {i % 97},Playbook,cto")
PY
(cd "$work" && "$N" lead import leads.csv --consent bench > /dev/null)
# Every lead is sent its step (file outbox), so reports have messages to name.
(cd "$work" && exec "$N" serve > "$work/serve.log" 2>&1) & serve=$!
for _ in $(seq 600); do
  [ "$(ls "$work/var/outbox" 2>/dev/null | grep -c '\.eml$')" -ge "$leads" ] && break; sleep 0.1
done
kill -TERM $serve; wait $serve || true
ids="$work/ids.txt"
sqlite3 "$work/var/nurture.sqlite" "SELECT o.message_id || ' ' || l.email FROM outbox o JOIN lead l ON l.id = o.lead_id WHERE o.status = 'sent'" > "$ids"
python3 - "$messages" "$ids" "$work/mail" <<'PY'
import sys
n, ids, out = int(sys.argv[1]), [l.split() for l in open(sys.argv[2])], sys.argv[3]
for i in range(n):
    mid, email = ids[i % len(ids)]
    kind = i % 3
    if kind == 0:
        body = f"""From: MAILER-DAEMON@mx.example.net
To: bounces@acme-analytics.example
Subject: Undelivered Mail Returned to Sender
Message-ID: <bounce-{i}@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; {email}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 user unknown

--B
Content-Type: text/rfc822-headers

Message-ID: {mid}
Subject: The playbook

--B--
"""
    elif kind == 1:
        body = f"From: {email}\nTo: hello@acme-analytics.example\nSubject: Re: The playbook\nMessage-ID: <reply-{i}@example.com>\nIn-Reply-To: {mid}\n\nThanks, let's talk.\n\n> quoted text\n"
    else:
        body = f"From: {email}\nTo: hello@acme-analytics.example\nSubject: Automatic reply: The playbook\nAuto-Submitted: auto-replied\nMessage-ID: <ooo-{i}@example.com>\nIn-Reply-To: {mid}\n\nI am out of the office.\n"
    open(f"{out}/{i:06d}.eml", "w").write(body.replace("\n", "\r\n"))
PY
start=$(date +%s.%N)
for f in "$work"/mail/*.eml; do
  (cd "$work" && "$N" inbound < "$f" > /dev/null) || { echo "nurture inbound failed on $f" >&2; exit 1; }
done
end=$(date +%s.%N)
# The floor of one process per message: the same loop starting the binary for its version only.
vstart=$(date +%s.%N)
for f in "$work"/mail/*.eml; do "$N" --version < "$f" > /dev/null; done
vend=$(date +%s.%N)
python3 - "$messages" "$start" "$end" "$vstart" "$vend" <<'PY'
import sys
n, s, e, vs, ve = int(sys.argv[1]), *map(float, sys.argv[2:])
print(f"pipe={n / (e - s):.0f} msg/s ({(e - s) * 1000 / n:.1f} ms per message, one process each); "
      f"start_only={n / (ve - vs):.0f} msg/s ({(ve - vs) * 1000 / n:.1f} ms); ratio={(ve - vs) / (e - s):.2f}")
PY
sqlite3 "$work/var/nurture.sqlite" "SELECT outcome, count(*) FROM inbound GROUP BY outcome" | tr '\n' ' '; echo

# IMAP: a fresh database with the same leads and sends, the messages in a Maildir folder, the daemon polling it.
eval "$(NURTURE_IMAP_TEST_DIR=$imap_dir "$here/scripts/dovecot-test-server.sh" start)"
folder="$NURTURE_IMAP_TEST_MAILDIR/.bench"
mkdir -p "$folder/tmp" "$folder/new" "$folder/cur" && touch "$folder/maildirfolder" && chmod -R 0777 "$folder"
# The inbound keys are what make a message a duplicate: without them the same messages count again (the leads keep
# the pipe run's effects, which only spares some exit-rule work).
sqlite3 "$work/var/nurture.sqlite" "DELETE FROM handoff; DELETE FROM inbound" > /dev/null
for f in "$work"/mail/*.eml; do
  name="$(basename "$f" .eml).M1P$$.bench"
  cp "$f" "$folder/tmp/$name" && chmod 0666 "$folder/tmp/$name" && mv "$folder/tmp/$name" "$folder/new/$name"
done
cat >> "$work/nurture.yaml" <<YAML
inbound:
  poll_interval: 1s
  mailboxes:
    - url: $NURTURE_IMAP_TEST_IMAPS_URL/bench
      username: $NURTURE_IMAP_TEST_USER
      password_file: $NURTURE_IMAP_TEST_PASSWORD_FILE
      ca_file: $NURTURE_IMAP_TEST_CA_FILE
      processed_folder: processed
YAML
(cd "$work" && exec "$N" serve > "$work/serve-imap.log" 2>&1) & serve=$!
for _ in $(seq 1200); do
  [ "$(sqlite3 "$work/var/nurture.sqlite" "SELECT count(*) FROM inbound" 2>/dev/null || echo 0)" -ge "$messages" ] && break; sleep 0.1
done
kill -0 $serve 2>/dev/null || { echo "nurture serve stopped:" >&2; tail -5 "$work/serve-imap.log" >&2; exit 1; }
kill -TERM $serve; wait $serve || true
imap_rate=$(sqlite3 "$work/var/nurture.sqlite" "SELECT count(*), min(received_at), max(received_at) FROM inbound" | python3 -c '
import sys
n, lo, hi = (int(x) for x in sys.stdin.read().strip().split("|"))
print(f"{(n - 1) * 1000 / max(hi - lo, 1):.0f}")')
# Reference: Python's imaplib on the same server doing only the mailbox's part (search, fetch without \Seen, move).
ref="$NURTURE_IMAP_TEST_MAILDIR/.reference"
mkdir -p "$ref/tmp" "$ref/new" "$ref/cur" && touch "$ref/maildirfolder" && chmod -R 0777 "$ref"
for f in "$work"/mail/*.eml; do
  name="$(basename "$f" .eml).M2P$$.bench"
  cp "$f" "$ref/tmp/$name" && chmod 0666 "$ref/tmp/$name" && mv "$ref/tmp/$name" "$ref/new/$name"
done
imaplib_rate=$(python3 - "$NURTURE_IMAP_TEST_IMAPS_URL" "$NURTURE_IMAP_TEST_USER" "$NURTURE_IMAP_TEST_PASSWORD_FILE" "$NURTURE_IMAP_TEST_CA_FILE" <<'PY'
import imaplib, ssl, sys, time
url, user, pwfile, ca = sys.argv[1:]
host, port = url.split("//")[1].split(":")
c = imaplib.IMAP4_SSL(host, int(port), ssl_context=ssl.create_default_context(cafile=ca))
c.login(user, open(pwfile).read().strip())
c.create("reference-done")
c.select("reference")
uids = c.uid("SEARCH", None, "UNSEEN")[1][0].split()
start = time.time()
for uid in uids:
    c.uid("FETCH", uid, "(BODY.PEEK[])")
    c.uid("MOVE", uid, "reference-done")
print(f"{len(uids) / (time.time() - start):.0f}")
PY
)
echo "imap=$imap_rate msg/s (recorded, first to last; IMAPS, moved) imaplib=$imaplib_rate msg/s (fetch and move only) ratio=$(python3 -c "print(f'{$imap_rate / $imaplib_rate:.2f}')")"
sqlite3 "$work/var/nurture.sqlite" "SELECT outcome, count(*) FROM inbound GROUP BY outcome" | tr '\n' ' '; echo
