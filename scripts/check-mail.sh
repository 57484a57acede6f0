#!/usr/bin/env bash
# Scores every shipped template's rendered, DKIM-signed message with SpamAssassin (its shipped rules, local tests
# only: `spamassassin -L -t`) and prints one line per template with its score and the rules it hit.
# Fails when a template scores over 0.1 or hits a rule that carries points.
# Usage: scripts/check-mail.sh   (NURTURE_BIN overrides the binary; default .build/debug/nurture)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
N=${NURTURE_BIN:-$here/.build/debug/nurture}
command -v spamassassin > /dev/null || { echo "spamassassin is missing: scripts/install-deps.sh test" >&2; exit 2; }
work=$(mktemp -d /tmp/nurture-check-mail.XXXXXX)
trap 'rm -rf "$work"' EXIT
sed -e "s|^sequences: sequences|sequences: $here/sequences|" -e "s|^templates: templates|templates: $here/templates|" \
  "$here/nurture.example.yaml" > "$work/nurture.yaml"
mkdir "$work/keys"
domain=$(awk '/^sender:/ {s=1} s && /email:/ {sub(/.*@/, ""); print; exit}' "$work/nurture.yaml")
(cd "$work" && "$N" dkim keygen --selector check --directory keys > /dev/null)
echo "dkim: { domain: $domain, selector: check, rsa_key_file: keys/check.rsa.key, ed25519_key_file: keys/check.ed25519.key }" >> "$work/nurture.yaml"
lead='{"first_name":"Ada","last_name":"Lovelace","company":"Analytical Engines","job_title":"CTO","whitepaper_title":"Observability at scale"}'
status=0
printf '%-34s %6s  %s\n' "template" "score" "rules hit (points)"
for file in "$here"/sequences/*.yaml; do
  id=$(sed -n 's/^id: //p' "$file")
  while read -r step template; do
    rm -rf "$work/var/outbox"
    (cd "$work" && "$N" send-test "$id" "$step" --to ada@example.net --lead-json "$lead" > /dev/null)
    report=$(spamassassin -L -t < "$work"/var/outbox/*.eml 2> /dev/null)
    score=$(sed -n 's/^X-Spam-Status: [A-Za-z]*, score=\([-0-9.]*\).*/\1/p' <<< "$report")
    # The "Content analysis details" table: "pts rule_name description".
    rules=$(awk '/^Content analysis details/ {t=1; next} t && /^ *-?[0-9.]+ +[A-Z_0-9]+ / {printf "%s(%s) ", $2, $1}' <<< "$report")
    charged=$(awk '/^Content analysis details/ {t=1; next} t && /^ *-?[0-9.]+ +[A-Z_0-9]+ / && $1 > 0 {print $2}' <<< "$report")
    printf '%-34s %6s  %s\n' "$template" "$score" "$rules"
    if awk -v s="$score" 'BEGIN {exit !(s > 0.1)}' || [ -n "$charged" ]; then status=1; fi
  done < <(awk '/^  - id: / {step=$3} /^    template: / {print step, $2}' "$file")
done
[ "$status" -eq 0 ] && echo "every template scores at most 0.1 and hits no rule that carries points" \
  || echo "FAILED: a template scores over 0.1 or hits a rule that carries points" >&2
exit "$status"
