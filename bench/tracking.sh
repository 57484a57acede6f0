#!/usr/bin/env bash
# Tracking benchmark: wrk against `nurture serve`'s open pixel (and click redirect) on loopback, beside nginx serving a
# static 1x1 GIF in the same run; then checks that the opens recorded equal the requests wrk completed.
# Usage: bench/tracking.sh [SECONDS] [CONNECTIONS] [THREADS]
# Prints one line per target: "target=… requests=… rps=… p99_ms=…", then "recorded=… completed=…".
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
N=${NURTURE_BIN:-$here/.build/release/nurture}
seconds=${1:-30}; connections=${2:-64}; threads=${3:-2}
work=$(mktemp -d /tmp/nurture-bench-tracking.XXXXXX)
port=$((30000 + RANDOM % 10000)); nginx_port=$((port + 1))
trap 'kill $(jobs -p) 2>/dev/null || true; [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null; rm -rf "$work"' EXIT

mkdir -p "$work/sequences" "$work/templates" "$work/www"
chmod 755 "$work" "$work/www" # nginx workers run as another user
cat > "$work/nurture.yaml" <<YAML
database: var/nurture.sqlite
sequences: sequences
templates: templates
timezone: UTC
fields: [first_name]
# One token replayed by wrk: every hit stored (as the pixel path did before replays were capped), so each request
# measures the full path — lookup, event, group commit — not the in-memory answer to a capped replay.
http: { listen: 127.0.0.1:$port, public_url: http://127.0.0.1:$port, stored_repeats_per_hour: 10000000 }
transport: file://var/outbox
sender: { name: Bench, email: bench@example.com, postal_address: 1 Bench Street }
YAML
cat > "$work/sequences/bench.yaml" <<YAML
id: bench
persona: reader
steps:
  - { id: only, after: 0m, template: step }
YAML
printf '<html><body>{{{content}}}<a href="{{unsubscribe_url}}">u</a> {{postal_address}}</body></html>\n' > "$work/templates/_layout.html"
printf '{{{content}}}\n{{unsubscribe_url}}\n{{postal_address}}\n' > "$work/templates/_layout.txt"
printf -- '---\nsubject: Hi\n---\nHello, [read](https://example.com/read).\n' > "$work/templates/step.md"
printf 'email,first_name\nreader@example.com,Ada\n' > "$work/leads.csv"
(cd "$work" && "$N" lead import leads.csv --consent bench --persona reader --quiet > /dev/null)
(cd "$work" && exec "$N" serve > /dev/null 2> serve.log) &
for _ in $(seq 200); do ls "$work"/var/outbox/*.eml > /dev/null 2>&1 && break; sleep 0.1; done
eml=$(ls "$work"/var/outbox/*.eml | head -1)
decoded=$(sed -e ':a' -e '/=\r$/{N;s/=\r\n//;ba}' "$eml" | sed 's/=3D/=/g')
open=$(grep -o "/o/[A-Za-z0-9_-]*\.gif" <<< "$decoded" | head -1)
click=$(grep -o "/c/[A-Za-z0-9_-]*" <<< "$decoded" | head -1)

# nginx: the same 1x1 GIF as a static file, one worker per core.
python3 -c "import sys; sys.stdout.buffer.write(bytes.fromhex('4749463839610100010080000000000000ffffff21f90401000000002c00000000010001000002024401003b'))" > "$work/www/p.gif"
cat > "$work/nginx.conf" <<CONF
user nobody nogroup;
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  server { listen 127.0.0.1:$nginx_port; root $work/www; location / { add_header Cache-Control "no-store"; } }
}
CONF
nginx -c "$work/nginx.conf"

run_wrk() { # name url
  local out
  out=$(wrk -t"$threads" -c"$connections" -d"${seconds}s" --latency "$2")
  local requests rps p99
  requests=$(awk '/requests in/ {print $1}' <<< "$out")
  rps=$(awk '/Requests\/sec/ {print $2}' <<< "$out")
  p99=$(awk '$1 == "99%" {print $2}' <<< "$out")
  echo "target=$1 requests=$requests rps=$rps p99=$p99 non2xx3xx=$(awk '/Non-2xx/ {print $NF}' <<< "$out")"
}
run_wrk nginx-static-gif "http://127.0.0.1:$nginx_port/p.gif"
served() { # pixel requests the server answered, from its own metrics
  curl -s "http://127.0.0.1:$port/metrics" | awk -F'} ' '/^hb_requests\{http_route="\/o\/\{token\}",http_request_method="GET",http_response_status_code="200"\}/ {print $2}' | head -1
}
before=$(sqlite3 "$work/var/nurture.sqlite" "SELECT count(*) FROM event WHERE type = 'open'")
served_before=$(served); served_before=${served_before:-0}
line=$(run_wrk nurture-open "http://127.0.0.1:$port$open"); echo "$line"
completed=$(sed -E 's/.*requests=([0-9]+).*/\1/' <<< "$line")
sleep 1 # requests wrk abandoned at its deadline are still answered (and counted) by the server
recorded=$(( $(sqlite3 "$work/var/nurture.sqlite" "SELECT count(*) FROM event WHERE type = 'open'") - before ))
answered=$(( $(served) - served_before ))
echo "opens recorded=$recorded answered_by_server=$answered completed_by_wrk=$completed (wrk drops the replies still in flight at its deadline)"
run_wrk nurture-click "http://127.0.0.1:$port$click"
