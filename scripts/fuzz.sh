#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ (-sanitize=fuzzer,address, into .build-fuzz) and runs each for a bounded
# time over its committed corpus (fuzz/corpus/<target>/, never modified) plus new inputs kept in .build-fuzz/new/.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET]     (default 60; FUZZ_TARGETS="FuzzCSV FuzzMIME" picks targets)
# Prints one line per target: how long it ran, how many inputs, what it found; exits 1 if anything crashed.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
seconds="${1:-${FUZZ_SECONDS:-60}}"
targets="${FUZZ_TARGETS:-FuzzTemplate FuzzYAML FuzzMIME FuzzCSV FuzzJSON FuzzInbound}"
scratch=.build-fuzz
# Swift's backtracer reads other threads' memory and trips AddressSanitizer: let libFuzzer report crashes itself.
export SWIFT_BACKTRACE=enable=no
build() { swift build --package-path fuzz --scratch-path "$scratch" -c release -Xswiftc -sanitize=fuzzer,address "$@"; }
if command -v flock >/dev/null && [ -z "${NURTURE_NO_LOCK:-}" ]; then
  # The machine's build lock, when there is one: never two Swift builds at once.
  flock /tmp/nurture-swift.lock bash -c "$(declare -f build); scratch=$scratch; build"
else
  build
fi
bin="$(swift build --package-path fuzz --scratch-path "$scratch" -c release --show-bin-path)"
mkdir -p "$scratch/artifacts"
: > "$scratch/summary.txt"
failed=0
for t in $targets; do
  corpus="fuzz/corpus/$(echo "${t#Fuzz}" | tr '[:upper:]' '[:lower:]')"
  mkdir -p "$scratch/new/$t" "$corpus"
  log="$scratch/$t.log"
  start=$(date +%s)
  status=0
  "$bin/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=262144 -print_final_stats=1 \
    -artifact_prefix="$scratch/artifacts/$t-" "$scratch/new/$t" "$corpus" > "$log" 2>&1 || status=$?
  elapsed=$(( $(date +%s) - start ))
  runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo "?")
  if [ "$status" -eq 0 ]; then
    found="nothing"
  else
    found="$(grep -m1 -E 'Fatal error|failure|ERROR: |Precondition failed|timeout' "$log" || echo "exit $status") — see $log"
    # A committed reproducer failing again is a regression: always fatal. A new input found this run is fatal too,
    # unless FUZZ_NEW_FINDINGS=report (CI): then it is reported with its artifact and the run goes on.
    if "$bin/$t" -runs=0 -timeout=10 -rss_limit_mb=2048 "$corpus" > "$log.replay" 2>&1; then
      if [ "${FUZZ_NEW_FINDINGS:-fail}" = report ]; then
        found="NEW FINDING (reported, not fatal here): $found; reproducer in $scratch/artifacts/"
      else
        failed=1
      fi
    else
      found="REGRESSION on the committed corpus: $found"
      failed=1
    fi
  fi
  echo "$t: ${elapsed}s, $runs inputs, coverage $cov, corpus $(ls "$corpus" | wc -l) committed + $(ls "$scratch/new/$t" | wc -l) new; found: $found" | tee -a "$scratch/summary.txt"
done
exit $failed
