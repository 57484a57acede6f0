#!/usr/bin/env bash
# Scheduling at scale: imports LEADS leads (timed, peak RSS), lets `nurture serve` enroll them all (first step 30 days
# away), makes 5 % of the sends due, then measures the daemon itself: start to ready (READY: HTTP port open), the
# time its scheduler takes to find each due batch (from its own log), and resident memory while sending.
# Usage: bench/scale.sh [LEADS]   (default 1000000; needs sqlite3 and a release build)
# Prints key=value lines.
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
printf -- '---\nsubject: Hey {{first_name}}\n---\nHello again {{first_name}}.\n' > templates/step-b.md
# Sequences v2 at scale: the CTO track branches and waits, the marketing one A/B-tests its first step against a
# holdout, the founder one stays linear.
cat > sequences/cto.yaml <<'YAML'
id: scale-cto
persona: cto
goal: { on: converted, within: 60d }
steps:
  - { id: one, after: 30d, template: step }
  - id: route
    if: "clicked(one) or score >= 10"
    then: goto two
    else: goto wait
  - id: wait
    wait_for: { event: demo_requested, within: 5d }
    then: goto two
    else: exit
  - { id: two, after: 3d, template: step }
YAML
cat > sequences/marketing_manager.yaml <<'YAML'
id: scale-marketing-manager
persona: marketing_manager
holdout: 10%
steps:
  - id: one
    after: 30d
    variants:
      - { id: a, template: step, weight: 50 }
      - { id: b, template: step-b, weight: 50 }
  - { id: two, after: 3d, template: step }
YAML
printf 'id: scale-founder\npersona: founder\nreenter: { after: 90d }\nsteps:\n  - { id: one, after: 30d, template: step }\n  - { id: two, after: 3d, template: step }\n' \
  > sequences/founder.yaml
port=$((40000 + RANDOM % 10000))
cat > nurture.yaml <<YAML
database: var/nurture.sqlite
fields: [first_name]
http: { listen: 127.0.0.1:$port, public_url: http://127.0.0.1:$port }
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
/usr/bin/time -f "import_seconds=%e import_peak_rss_kb=%M" "$N" lead import leads.csv --consent bench --quiet > /dev/null 2> import.time
grep import_ import.time | tr ' ' '\n'

start=$(date +%s.%N)
"$N" serve > /dev/null 2> enroll.log & pid=$!
until [ "$(sqlite3 var/nurture.sqlite 'SELECT count(*) FROM enrollment' 2>/dev/null || echo 0)" -ge "$leads" ]; do sleep 1; done
echo "enroll_seconds=$(python3 -c "print(round($(date +%s.%N) - $start, 1))")"
kill -TERM $pid; wait $pid

now=$(( $(date +%s) * 1000 ))
sqlite3 var/nurture.sqlite "UPDATE outbox SET due_at = $now WHERE id % 20 = 0"
echo "due_sends=$(sqlite3 var/nurture.sqlite "SELECT count(*) FROM outbox WHERE status IN ('scheduled','deferred') AND due_at <= $now")"
echo "scheduled_sends=$(sqlite3 var/nurture.sqlite "SELECT count(*) FROM outbox WHERE status = 'scheduled'")"

t0=$(date +%s%N)
"$N" serve > /dev/null 2> serve.log & pid=$!
until grep -q "HTTP listening" serve.log; do sleep 0.005; done
echo "ready_ms=$(( ($(date +%s%N) - t0) / 1000000 ))"
sleep 10
echo "sent_in_10s=$(sqlite3 var/nurture.sqlite "SELECT count(*) FROM outbox WHERE status = 'sent'")"
echo "steady_rss_kb=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)"
echo "peak_rss_kb=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)"
kill -TERM $pid; wait $pid
# The scheduler logs how long each due-batch query took: report their median and maximum.
grep -o "due batch found in [0-9.]* ms" serve.log | awk '{print $5}' | sort -n | awk '{a[NR]=$1} END {if (NR) print "due_batch_ms_median=" a[int((NR+1)/2)] "\ndue_batch_ms_max=" a[NR] "\ndue_batches=" NR}'
