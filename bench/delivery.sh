#!/usr/bin/env bash
# Delivery benchmark: N due sends through Nurture's whole pipeline (scheduler → render → MIME → libcurl SMTP →
# outbox state committed) into Postfix's smtp-sink, beside smtp-source sending the same number of messages of the
# same size to the same sink with the same number of connections, in the same run.
# Usage: [DKIM=off|ed25519|rsa|both] [STORE=sqlite|postgresql] [NODES=1] bench/delivery.sh [MESSAGES] [CONNECTIONS...]
#   e.g. bench/delivery.sh 20000 1 4 8;  STORE=postgresql NODES=3 bench/delivery.sh 20000 4
# DKIM signs every message (in the render stage) with fresh keys of that kind. STORE=postgresql starts a throwaway
# PostgreSQL server on loopback (scripts/pg-test-server.sh) and gives each run a database of its own; NODES daemons
# then share it (each with CONNECTIONS connections), and the rate is theirs together.
# Prints one line per connection count: "connections=C … nurture=X msg/s … smtp_source=Y msg/s ratio=R": X is the
# steady rate, from the first message sent to the last; the rate counted from the daemon's start is shown beside it.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
N=${NURTURE_BIN:-$here/.build/release/nurture}
messages=${1:-20000}; shift || true
connections=("${@:-1 4}")
[ ${#connections[@]} -eq 1 ] && read -r -a connections <<< "${connections[0]}"
work=$(mktemp -d /tmp/nurture-bench-delivery.XXXXXX)
port=$((30000 + RANDOM % 20000))
store=${STORE:-sqlite}; nodes=${NODES:-1}
pg_dir=/tmp/nurture-pg-bench-$$
trap 'kill $(jobs -p) 2>/dev/null || true; [ -n "${KEEP_LOGS:-}" ] && cp -r "$work"/run-* "$KEEP_LOGS"/ 2>/dev/null; [ "$store" = postgresql ] && NURTURE_PG_TEST_DIR=$pg_dir "$here/scripts/pg-test-server.sh" stop; rm -rf "$work"' EXIT
case "$store" in
  sqlite) [ "$nodes" -eq 1 ] || { echo "NODES needs STORE=postgresql (SQLite has one daemon per file)" >&2; exit 2; } ;;
  postgresql) eval "$(NURTURE_PG_TEST_DIR=$pg_dir "$here/scripts/pg-test-server.sh" start)"
     pg_port=$(sed -E 's#.*:([0-9]+)/.*#\1#' <<< "$NURTURE_TEST_POSTGRES_URL")
     pg() { PGPASSWORD="$(cat "$NURTURE_TEST_POSTGRES_PASSWORD_FILE")" psql -qAt -h 127.0.0.1 -p "$pg_port" -U nurture "$@"; } ;;
  *) echo "STORE must be sqlite or postgresql" >&2; exit 2 ;;
esac

smtp-sink -c -u nobody 127.0.0.1:$port 1000 > /dev/null 2>&1 &
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done

# A project: the shipped templates, one one-step sequence, limits out of the way (this measures throughput).
mkdir -p "$work/sequences" "$work/keys"
dkim_line=""
case "${DKIM:-off}" in
  off) ;;
  ed25519|rsa) (cd "$work" && "$N" dkim keygen "--$DKIM" --selector bench --directory keys > /dev/null)
     dkim_line="dkim: { domain: acme-analytics.example, selector: bench, ${DKIM}_key_file: $work/keys/bench.$DKIM.key }" ;;
  both) (cd "$work" && "$N" dkim keygen --selector bench --directory keys > /dev/null)
     dkim_line="dkim: { domain: acme-analytics.example, selector: bench, rsa_key_file: $work/keys/bench.rsa.key, ed25519_key_file: $work/keys/bench.ed25519.key }" ;;
  *) echo "DKIM must be off, ed25519, rsa or both" >&2; exit 2 ;;
esac
cp -r "$here/templates" "$work/templates"
cat > "$work/sequences/bench.yaml" <<YAML
id: bench
persona: cto
steps:
  - { id: only, after: 1h, template: cto/whitepaper }
YAML
csv="$work/leads.csv"
python3 - "$messages" > "$csv" <<'PY'
import sys
n = int(sys.argv[1])
print("email,first_name,company,whitepaper_title,persona")
for i in range(n):
    print(f"lead{i}@example{i % 500}.com,Lead{i},Company {i % 97},The Warehouse-Native Analytics Playbook,cto")
PY

# Counts outbox rows of the run's database (SQL on stdin), for the enrollment phase.
query() { # dir sql
  if [ "$store" = sqlite ]; then sqlite3 "$1/var/nurture.sqlite" "$2" 2>/dev/null || echo 0
  else pg -d "$(basename "$1" | tr - _)" -c "$2" 2>/dev/null || echo 0; fi
}

start_node() { # dir node log → starts `nurture serve` for that node, pid in dir/pid.NODE
  local dir=$1 k=$2 log=$3
  (cd "$dir" && exec "$N" serve --config "nurture-$k.yaml" > /dev/null 2> "$log.$k") & echo $! > "$dir/pid.$k"
}
stop_nodes() { # dir
  local pid
  for pidfile in "$1"/pid.*; do kill -TERM "$(cat "$pidfile")" 2>/dev/null || true; done
  for pidfile in "$1"/pid.*; do pid=$(cat "$pidfile"); while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done; rm -f "$pidfile"; done
}

run_nurture() { # connections → msg/s
  local c=$1 dir="$work/run-$1" database
  mkdir -p "$dir"
  if [ "$store" = sqlite ]; then
    database="database: var/nurture.sqlite"
  else
    pg -d postgres -c "CREATE DATABASE run_$c"
    database="database: postgresql://nurture@127.0.0.1:$pg_port/run_$c?sslmode=disable
postgresql: { pool_size: 8 }
secrets: { database_password_file: $NURTURE_TEST_POSTGRES_PASSWORD_FILE }"
  fi
  for k in $(seq "$nodes"); do
    cat > "$dir/nurture-$k.yaml" <<YAML
$database
sequences: $work/sequences
templates: $work/templates
timezone: UTC
fields: [first_name, company, whitepaper_title]
transport: smtp://127.0.0.1:$port
smtp: { starttls: off, connections: $c }
http: { listen: 127.0.0.1:$((port + k)), public_url: http://localhost:8080 }
sender: { name: Acme Analytics, email: hello@acme-analytics.example, postal_address: "12 rue de la Paix, 75002 Paris" }
throttle: { rate: 100000/s, domain_rate: 100000/s, domain_concurrency: $((c * nodes)), min_gap: 1s, sunset_after: 1000 }
$dkim_line
YAML
  done
  cp "$dir/nurture-1.yaml" "$dir/nurture.yaml"
  (cd "$dir" && "$N" lead import "$csv" --consent bench --quiet > /dev/null)
  # Enroll everyone (first step an hour away), then make all sends due now: only delivery is timed.
  start_node "$dir" 1 "$dir/serve-enroll.log"
  until [ "$(query "$dir" "SELECT count(*) FROM outbox")" -ge "$messages" ]; do
    kill -0 "$(cat "$dir/pid.1")" 2>/dev/null || { echo "nurture serve stopped before enrolling:" >&2; cat "$dir/serve-enroll.log.1" >&2; exit 1; }
    sleep 0.2
  done
  stop_nodes "$dir"
  if [ "$store" = sqlite ]; then query "$dir" "UPDATE outbox SET due_at = (CAST(strftime('%s','now') AS INTEGER) - 1) * 1000" > /dev/null
  else query "$dir" "UPDATE outbox SET due_at = (extract(epoch FROM now())::bigint - 1) * 1000" > /dev/null; fi
  local start rates
  start=$(date +%s.%N)
  for k in $(seq "$nodes"); do start_node "$dir" "$k" "$dir/serve.log"; done
  if [ "$store" = sqlite ]; then
    rates=$(python3 "$here/bench/wait_sent.py" "$dir/var/nurture.sqlite" "$messages" "$start")
  else
    rates=$(python3 "$here/bench/wait_sent.py" --psql "$pg_port" "run_$c" "$NURTURE_TEST_POSTGRES_PASSWORD_FILE" "$messages" "$start")
  fi
  stop_nodes "$dir"
  echo "$rates"
}

message_size() { # the size of a rendered message, for smtp-source
  local dir="$work/size"
  mkdir -p "$dir"
  sed -e "s#^transport: .*#transport: file://$dir/outbox#" -e '/^smtp:/d' -e "s#^database: .*#database: var/nurture.sqlite#" \
    -e '/^postgresql:/d' -e '/^secrets:/d' "$work/run-${connections[0]}/nurture.yaml" > "$dir/nurture.yaml"
  (cd "$dir" && "$N" send-test bench only --to lead1@example1.com --lead-json '{"first_name":"Lead1","company":"Company 1","whitepaper_title":"The Warehouse-Native Analytics Playbook"}' > /dev/null)
  wc -c < "$(ls "$dir"/outbox/*.eml | head -1)"
}

run_source() { # connections size → msg/s
  local start end
  start=$(date +%s.%N)
  smtp-source -s "$1" -d -l "$2" -m "$messages" -f bench@acme-analytics.example -t lead@example.com 127.0.0.1:$port
  end=$(date +%s.%N)
  python3 -c "print(round($messages / ($end - $start)))"
}

for c in "${connections[@]}"; do
  read -r total steady <<< "$(run_nurture "$c")"
  size=${size:-$(message_size)}
  source=$(run_source "$c" "$size")
  ratio=$(python3 -c "print(f'{$steady / $source:.2f}')")
  total_ratio=$(python3 -c "print(f'{$total / $source:.2f}')")
  echo "connections=$c store=$store nodes=$nodes messages=$messages size=$size nurture=$steady msg/s (with startup: $total) smtp_source=$source msg/s ratio=$ratio (with startup: $total_ratio)"
done
