#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests: a new cluster in a temporary folder, owned by an unprivileged user,
# listening on loopback only, on a free port, with a random password for the superuser `nurture`.
#   pg_env=$(scripts/pg-test-server.sh start) && eval "$pg_env"   # prints the exports the tests read
#   scripts/pg-test-server.sh stop              # stops it and removes its folder
# State lives in $NURTURE_PG_TEST_DIR (default /tmp/nurture-pg-test-$UID): one server per folder.
set -euo pipefail

dir="${NURTURE_PG_TEST_DIR:-/tmp/nurture-pg-test-$(id -u)}"
bin="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}"

# postgres refuses to run as root: as root, the cluster belongs to `nobody`; otherwise to the caller.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi
}

start() {
  [ -x "$bin/initdb" ] || { echo "pg-test-server: no PostgreSQL server binaries (apt-get install postgresql)" >&2; exit 1; }
  if [ -f "$dir/env" ] && as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    cat "$dir/env"; return
  fi
  rm -rf "$dir"
  mkdir -p "$dir"
  chmod 0755 "$dir"
  umask 077
  # The password the tests read from a file (never on a command line); the server's copy is readable by its owner only.
  head -c 24 /dev/urandom | base64 | tr -d '/+=\n' > "$dir/password"
  install -m 0600 "$dir/password" "$dir/server-password"
  mkdir -p "$dir/data"
  if [ "$(id -u)" -eq 0 ]; then chown nobody "$dir/data" "$dir/server-password"; fi
  as_owner "$bin/initdb" -D "$dir/data" -U nurture --pwfile="$dir/server-password" --auth=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 > "$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  rm -f "$dir/server-password"
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/data/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir/data -c max_connections=300" start >/dev/null \
    || { cat "$dir/data/server.log" >&2; exit 1; }
  PGPASSWORD="$(cat "$dir/password")" "$bin/psql" -qAt -h 127.0.0.1 -p "$port" -U nurture -d postgres \
    -c "CREATE DATABASE nurture_test" >/dev/null
  cat > "$dir/env" <<EOF
export NURTURE_TEST_POSTGRES_URL='postgresql://nurture@127.0.0.1:$port/nurture_test?sslmode=disable'
export NURTURE_TEST_POSTGRES_PASSWORD_FILE='$dir/password'
EOF
  cat "$dir/env"
}

stop() {
  [ -d "$dir/data" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
