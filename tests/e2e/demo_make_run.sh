#!/usr/bin/env bash
# `make run` twice (scripts/run-demo.sh, as the Makefile runs it, each time
# stopped with SIGTERM once it serves): the first run makes the register and
# plays the story; the second serves the same register and does not play
# the story again, so the register holds one plan, one check and three
# findings, not two of each.
source "$(dirname "$0")/cli_common.bash"

export SPOTCHECK_VAR="$TMP/var" SPOTCHECK_LISTEN=127.0.0.1:0
# run_demo N: run-demo.sh until it serves and waits for Ctrl-C; its output in $TMP/run.N.
run_demo() {
  local out="$TMP/run.$1" pid i
  "$SC_SOURCE_DIR/scripts/run-demo.sh" "$SC_BIN_DIR" >"$out" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  for i in $(seq 1 1200); do
    grep -q "^Press Ctrl-C to stop" "$out" && break
    kill -0 "$pid" 2>/dev/null || { cat "$out" >&2; fail "run-demo.sh $1 ended early"; }
    sleep 0.25
  done
  grep -q "^Press Ctrl-C to stop" "$out" || { cat "$out" >&2; fail "run-demo.sh $1 did not come up"; }
  # The console it prints serves the page while the demo runs.
  local console
  console=$(sed -n 's|^  console: \(http://[^/]*\)/#token=.*|\1|p' "$out")
  [[ -z $console ]] || curl -sf "$console/" | grep -q '<script type="module"' ||
    fail "the demo's console does not serve its page ($1)"
  kill -TERM "$pid"
  wait "$pid" || { cat "$out" >&2; fail "run-demo.sh $1 did not stop cleanly"; }
  grep -q "syncd stopped (exit 0)" "$out" || { cat "$out" >&2; fail "syncd did not stop cleanly ($1)"; }
}

run_demo 1
grep -q "creating demo data" "$TMP/run.1" || fail "the first run made no register"
grep -Eq '^  console: http://127\.0\.0\.1:[0-9]+/#token=[0-9a-f]{64}$' "$TMP/run.1" ||
  fail "the first run does not print the supervisor's console URL"
grep -q "An unannounced check" "$TMP/run.1" || fail "the first run did not play the story"
run_demo 2
grep -q "creating demo data" "$TMP/run.2" && fail "the second run made the register again"
grep -q "An unannounced check" "$TMP/run.2" && fail "the second run played the story again"
grep -q "holds the story already" "$TMP/run.2" || fail "the second run does not say why"
grep -q "OK: everything holds" "$TMP/run.2" || fail "the second run's audit"

# The register, read by a tablet of the second run: one story.
SPOTCHECK_DB="$TMP/var/devices/supervisor.db"
export SPOTCHECK_DB
# The unannounced check's plan and the look-back round that re-checks its major hazard.
expect_eq "$("$SPOT" --json list assignments --target T-JAHY | jq '.items | length')" 2 "plans"
expect_eq "$("$SPOT" --json list assignments --target T-JAHY | jq '[.items[] | select(.kind == "follow_up")] | length')" 1 "look-back rounds"
asg=$("$SPOT" --json list assignments --target T-JAHY | jq -r '[.items[] | select(.kind == "spot")][0].id')
expect_eq "$("$SPOT" --json list checks --target T-JAHY | jq '.items | length')" 1 "checks"
expect_eq "$("$SPOT" --json list findings --assignment "$asg" | jq '.items | length')" 3 "findings"
"$SYNCD" audit --data "$TMP/var/data" >/dev/null || fail "the register does not audit"
echo "ok: make run twice"
