#!/usr/bin/env bash
# Installs the Debian packages Nurture needs that are missing; does nothing when all are present.
# Usage: scripts/install-deps.sh [build|test|bench]
set -euo pipefail

build=(libsqlite3-dev libcurl4-openssl-dev libcmark-dev pkg-config tzdata)
# Tests run real servers: Postfix's smtp-sink and smtp-source, aiosmtpd (Python), openssl for test certificates,
# headless Chromium driven by Selenium for the unsubscribe page, systemd-analyze for the unit file, a PostgreSQL
# server for the PostgreSQL store's tests (scripts/pg-test-server.sh runs a throwaway one), Dovecot for the IMAP
# mailbox client's tests (scripts/dovecot-test-server.sh runs a throwaway one), and SpamAssassin (its shipped rules,
# no network) for `make check-mail`.
test=(postfix openssl python3 python3-pip sqlite3 chromium chromium-driver systemd postgresql dovecot-imapd spamassassin)
# Benchmarks: load generator, reference web server, repeated timings, peak memory.
bench=(wrk nginx-light hyperfine time)
case "${1:-build}" in
  build) wanted=("${build[@]}") ;;
  test) wanted=("${build[@]}" "${test[@]}") ;;
  bench) wanted=("${build[@]}" "${test[@]}" "${bench[@]}") ;;
  *) echo "usage: $0 [build|test|bench]" >&2; exit 2 ;;
esac

missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ "${1:-build}" = test ]; then
  # module:package — dkimpy verifies our DKIM signatures (PyNaCl gives it Ed25519).
  for pair in aiosmtpd:aiosmtpd selenium:selenium dkim:dkimpy nacl:pynacl; do
    module=${pair%%:*} package=${pair#*:}
    python3 -c "import $module" 2>/dev/null && continue
    echo "Installing $package (PyPI)"
    python3 -m pip install --quiet "$package" 2>/dev/null || python3 -m pip install --quiet --break-system-packages "$package"
  done
fi

if ! command -v swift >/dev/null 2>&1 && [ ! -x /opt/swift/usr/bin/swift ]; then
  echo "Swift 6 is required: install it from swift.org (expected at /opt/swift or on PATH)" >&2
  exit 1
fi
