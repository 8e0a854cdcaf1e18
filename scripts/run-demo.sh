#!/usr/bin/env bash
# run-demo.sh BUILD_DIR: the README's `make run`.
#
# Creates ./var/data with demo data the first time (scripts/make-register.sh:
# the hierarchy fixture of DOMAIN.md, 市疫情防控指挥部 → 县(区)指挥部 → 街道 →
# 君安社区 → 君安花园物业, three targets, inspectors, a supervisor, the
# property company's responsible user, an auditor and the 100-point 无疫
# score sheet), starts syncd on 127.0.0.1:8080, plays the scenario of
# scripts/demo-scenario.sh with CLI tablets under ./var/devices (an
# unannounced check and a rectification loop, step by step), then prints the
# URL and a fresh enrollment code for each user and serves in the foreground
# until Ctrl-C.  Logs (JSON lines) go to ./var/syncd.log.  Run it again and
# it serves the same register with the same tablets, which sync and show
# where the story stands: it is played once per register, never twice.
#
# Environment: SPOTCHECK_LISTEN (default 127.0.0.1:8080), SPOTCHECK_VAR
# (default ./var).
set -euo pipefail

build=${1:-build/release}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
syncd="$build/syncd/syncd"
[[ -x $syncd ]] || syncd="$root/$build/syncd/syncd"
spot="$build/client-lib/spotcheck"
[[ -x $spot ]] || spot="$root/$build/client-lib/spotcheck"
if [[ ! -x $syncd || ! -x $spot ]]; then
  echo "run-demo: no syncd or spotcheck binary under $build (run \`make build\` first)" >&2
  exit 1
fi
var=${SPOTCHECK_VAR:-./var}
data="$var/data"
listen=${SPOTCHECK_LISTEN:-127.0.0.1:8080}

if [[ ! -e $data ]]; then
  echo "creating demo data in $data"
  mkdir -p "$var"
  "$root/scripts/make-register.sh" "$syncd" "$data"
  # Tablets enrolled with an earlier register cannot sync with this one.
  rm -rf "$var/devices"
fi

# A register made by an older build: bring it to this one's schema (a no-op when it is).
if ! "$syncd" migrate --data "$data" --no-backup >/dev/null 2>"$var/migrate.err"; then
  echo "run-demo: cannot migrate $data:" >&2
  cat "$var/migrate.err" >&2
  exit 1
fi
rm -f "$var/migrate.err"

out=$(mktemp "${TMPDIR:-/tmp}/syncd-demo.XXXXXX")
"$syncd" serve --data "$data" --listen "$listen" >"$out" 2>>"$var/syncd.log" &
pid=$!
interrupted=0
console_pid=
stop() {
  interrupted=1
  kill -TERM "$pid" 2>/dev/null || true
  [[ -n $console_pid ]] && kill -TERM "$console_pid" 2>/dev/null || true
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

echo
echo "syncd is serving the demo register at $url. The scenario (scripts/demo-scenario.sh):"
if ! "$root/scripts/demo-scenario.sh" "$build" "$var" "$url"; then
  echo "run-demo: the scenario stopped on an error (see above); syncd keeps serving" >&2
fi

# The review console (docs/console.md) over the demo supervisor's replica, on a free loopback port.
console_url=
console_pid=
if [[ -f $var/devices/supervisor.db ]]; then
  console_out="$var/console.out"
  : >"$console_out"
  "$spot" --db "$var/devices/supervisor.db" --json console >"$console_out" 2>>"$var/console.log" &
  console_pid=$!
  for _ in $(seq 1 50); do
    console_url=$(sed -n 's/^{"url":"\([^"]*\)".*/\1/p' "$console_out")
    [[ -n $console_url ]] && break
    kill -0 "$console_pid" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n $console_url ]] || echo "run-demo: the console did not start (see $var/console.log)" >&2
fi

codes=()
for login in inspector inspector2 supervisor wuye auditor; do
  codes+=("$login $("$syncd" admin --data "$data" enroll "$login" --ttl 72)")
done

cat <<TEXT

syncd is serving the demo register at $url
  tablets:  $var/devices/*.db (the scenario's replicas: try spotcheck --db $var/devices/wuye.db list findings)
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

Enroll a device of your own with one of them, e.g.
  $spot --db my-tablet.db enroll --plain-key --server $url --code CODE
TEXT
if [[ -n $console_url ]]; then
  cat <<TEXT

The review console of the demo supervisor (督导组 李华), in a browser on this machine:
  console: $console_url
  (the link works once; $spot --db $var/devices/supervisor.db console makes a new one)
TEXT
fi
echo "Press Ctrl-C to stop."

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
if [[ -n $console_pid ]]; then
  kill -TERM "$console_pid" 2>/dev/null || true
  wait "$console_pid" 2>/dev/null || true
fi
echo "syncd stopped (exit $status)"
exit "$status"
