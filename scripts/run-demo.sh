#!/usr/bin/env bash
# run-demo.sh BUILD_DIR: the README's `make run`.
#
# Creates ./var/data with demo data the first time (scripts/make-register.sh:
# the hierarchy fixture of DOMAIN.md, 市疫情防控指挥部 → 县(区)指挥部 → 街道 →
# 君安社区 → 君安花园物业, three targets, inspectors, a supervisor, the
# property company's responsible user, an auditor and the 100-point 无疫
# score sheet), starts syncd on 127.0.0.1:8080,
# prints the URL and a fresh enrollment code for each user, and serves in
# the foreground until Ctrl-C.  Logs (JSON lines) go to ./var/syncd.log.
#
# Environment: SPOTCHECK_LISTEN (default 127.0.0.1:8080), SPOTCHECK_VAR
# (default ./var).
set -euo pipefail

build=${1:-build/release}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
syncd="$build/syncd/syncd"
[[ -x $syncd ]] || syncd="$root/$build/syncd/syncd"
if [[ ! -x $syncd ]]; then
  echo "run-demo: no syncd binary under $build (run \`make build\` first)" >&2
  exit 1
fi
var=${SPOTCHECK_VAR:-./var}
data="$var/data"
listen=${SPOTCHECK_LISTEN:-127.0.0.1:8080}

if [[ ! -e $data ]]; then
  echo "creating demo data in $data"
  mkdir -p "$var"
  "$root/scripts/make-register.sh" "$syncd" "$data"
fi

codes=()
for login in inspector supervisor wuye; do
  codes+=("$login $("$syncd" admin --data "$data" enroll "$login" --ttl 72)")
done

out=$(mktemp "${TMPDIR:-/tmp}/syncd-demo.XXXXXX")
"$syncd" serve --data "$data" --listen "$listen" >"$out" 2>>"$var/syncd.log" &
pid=$!
interrupted=0
stop() {
  interrupted=1
  kill -TERM "$pid" 2>/dev/null || true
}
trap stop INT TERM
trap 'rm -f "$out"' EXIT

# Wait for the one line syncd prints once it accepts connections.
url=
for _ in $(seq 1 100); do
  if ! kill -0 "$pid" 2>/dev/null; then
    break
  fi
  line=$(head -n 1 "$out" 2>/dev/null || true)
  if [[ $line == "listening on "* ]]; then
    url=${line#listening on }
    break
  fi
  sleep 0.1
done
if [[ -z $url ]]; then
  echo "run-demo: syncd did not start; the end of $var/syncd.log says:" >&2
  tail -n 5 "$var/syncd.log" >&2 || true
  stop
  wait "$pid" 2>/dev/null || true
  exit 1
fi

cat <<TEXT

syncd is serving the demo register at $url
  data:     $data
  log:      $var/syncd.log (JSON lines)
  health:   $url/healthz
  metrics:  $url/metrics

Enrollment codes (single use, valid 72 hours):
TEXT
for entry in "${codes[@]}"; do
  printf '  %-11s %s\n' "${entry%% *}" "${entry#* }"
done
cat <<TEXT

Enroll a device with one of them, e.g.
  spotcheck enroll --server $url --code CODE
Press Ctrl-C to stop.
TEXT

status=0
wait "$pid" || status=$?
# A trapped Ctrl-C interrupts `wait` before syncd has finished draining: wait again for its status.
while ((interrupted)); do
  interrupted=0
  again=0
  wait "$pid" || again=$?
  if ((again != 127)); then
    status=$again
  fi
done
echo "syncd stopped (exit $status)"
exit "$status"
