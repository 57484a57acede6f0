#!/usr/bin/env bash
# Scheduling at scale: imports LEADS leads, lets `nurture serve` enroll them all (first step 30 days away), then
# measures with that many enrolled leads: the due-batch query, start-to-ready, and resident memory while sending.
# Usage: bench/scale.sh [LEADS]   (default 1000000; needs sqlite3 and a release build)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
N=${NURTURE_BIN:-$here/.build/release/nurture}
leads=${1:-1000000}
work=$(mktemp -d /tmp/nurture-bench-scale.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
mkdir -p sequences templates
cp "$here"/templates/_layout.* templates/
printf -- '---\nsubject: Hi {{first_name}}\n---\nHello {{first_name}}.\n' > templates/step.md
for persona in cto marketing_manager founder; do
  printf 'id: scale-%s\npersona: %s\nsteps:\n  - { id: one, after: 30d, template: step }\n  - { id: two, after: 3d, template: step }\n' \
    "${persona//_/-}" "$persona" > "sequences/$persona.yaml"
done
cat > nurture.yaml <<YAML
database: var/nurture.sqlite
fields: [first_name]
transport: file://var/outbox
sender: { name: Scale, email: scale@example.com, postal_address: 1 Test Street }
throttle: { rate: 1000/s, domain_rate: 1000/s }
YAML
python3 - "$leads" > leads.csv <<'PY'
import sys
personas = ["cto", "marketing_manager", "founder"]
print("email,first_name,persona")
for i in range(int(sys.argv[1])):
    print(f"lead{i}@example{i % 500}.com,First{i},{personas[i % 3]}")
PY
"$N" lead import leads.csv --consent bench --quiet | tail -1

start=$(date +%s)
"$N" serve > /dev/null 2> enroll.log & pid=$!
until [ "$(sqlite3 var/nurture.sqlite 'SELECT count(*) FROM enrollment' 2>/dev/null || echo 0)" -ge "$leads" ]; do sleep 1; done
echo "enrolled $leads leads in $(( $(date +%s) - start )) s"
kill -TERM $pid; wait $pid

now=$(( $(date +%s) * 1000 ))
sqlite3 var/nurture.sqlite "UPDATE outbox SET due_at = $now WHERE id % 20 = 0"
echo "due now: $(sqlite3 var/nurture.sqlite "SELECT count(*) FROM outbox WHERE status IN ('scheduled','deferred') AND due_at <= $now")"
sqlite3 var/nurture.sqlite "EXPLAIN QUERY PLAN SELECT o.id FROM outbox o WHERE o.status IN ('scheduled','deferred') AND o.due_at <= $now ORDER BY o.due_at, o.id LIMIT 500" | tail -1
for _ in 1 2 3; do
  sqlite3 var/nurture.sqlite <<SQL | grep "Run Time" || true
.timer on
SELECT count(*) FROM (SELECT o.id FROM outbox o JOIN enrollment e ON e.id = o.enrollment_id JOIN lead l ON l.id = o.lead_id
  WHERE o.status IN ('scheduled','deferred') AND o.due_at <= $now ORDER BY o.due_at, o.id LIMIT 500);
SQL
done

t0=$(date +%s%N)
"$N" serve > /dev/null 2> serve.log & pid=$!
until grep -q "nurture serve: 3 sequences" serve.log; do sleep 0.01; done
echo "ready in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
sleep 10
echo "after 10 s sending: sent=$(sqlite3 var/nurture.sqlite "SELECT count(*) FROM outbox WHERE status = 'sent'") $(grep -E 'VmHWM' /proc/$pid/status | tr -s ' ')"
kill -TERM $pid; wait $pid
