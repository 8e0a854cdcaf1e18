#!/usr/bin/env bash
# A hanging receiver holds only its own hook (docs/operations.md, "Webhooks",
# "Delivery"): each hook is delivered by a thread of its own.  The chat hook's
# receiver takes every request and never answers, so each of its attempts
# lasts notify.timeout_s (5 s); the dispatcher's hook (ops) still gets its
# five major hazards within 3 s of the sync, where one thread for all hooks
# made them wait 5 s behind each of the chat hook's attempts ahead of them.
# A delivery queued for a hook no longer configured is marked dead, as
# before.  SIGTERM ends syncd within 3 s while the chat hook's attempt hangs,
# though it would last 5 s more.
source "$(dirname "$0")/cli_common.bash"
source "$(dirname "$0")/notify_common.bash"
command -v sqlite3 >/dev/null || fail "sqlite3 is required (scripts/install-deps.sh installs it)"

make_register
# A delivery for a hook the settings below no longer name, as an older syncd's settings queued it.
sqlite3 "$DATA/register.db" "INSERT INTO notify(event, hook, type, dedupe, body, created_ms, state,
  next_ms) VALUES('$(printf '%032d' 7)', 'gone', 'finding.closed', 'closed:stray', '{}',
  1700000000000, 0, 1700000000000)"
start_receiver 0
start_hanging
chat_ops_conf "http://127.0.0.1:$HANG_PORT/chat" 5
start_syncd --config "$TMP/syncd.conf"
enroll inspector inspector
sync_ok inspector

# Five major hazards, queued for chat and ops in one commit (chat's rows first).
C=$(new_check inspector)
for n in 1 2 3 4 5; do
  new_finding inspector "$C" "重大隐患 $n" major --category GAS --deadline "$(day 9)" >/dev/null
done
sc inspector check submit "$C" >/dev/null
t0=$(date +%s%N)
sync_ok inspector
ops_got() { [[ $(got '[.[] | select(.ok and .path == "/hook" and .payload.type == "finding.major_hazard")] | length') -ge 5 ]]; }
wait_until "five major hazards at ops" ops_got
ms=$((($(date +%s%N) - t0) / 1000000))
echo "ops got its five major hazards ${ms} ms after the sync"
((ms < 3000)) || fail "ops waited ${ms} ms behind the chat hook's hanging receiver"
expect_eq "$(got '[.[] | select(.path == "/hook") | .event] | unique | length')" 5 "ops' events"
expect_eq "$(got '[.[] | select(.path == "/hook")] | length')" 5 "ops' deliveries"
# The chat hook is being tried all the while, one delivery at a time.
chat_tried() { [[ $(hang '[.[] | select(.open)] | length') -ge 1 ]]; }
wait_until "an attempt at the chat hook" chat_tried
expect_eq "$(nlog '[.[] | select(.hook == "chat" and .state != "pending")] | length')" 0 \
          "chat deliveries given up"

# The stray delivery: dead, saying why, without an attempt.
stray_dead() { [[ $(nlog '[.[] | select(.hook == "gone") | .state] | join(" ")') == dead ]]; }
wait_until "the delivery of the hook no longer configured marked dead" stray_dead
expect_eq "$(nlog '[.[] | select(.hook == "gone") | "\(.attempts) \(.last_error)"] | join("")')" \
          '0 no hook "gone" is configured' "the stray delivery's log"

# Stop while the chat hook's attempt hangs: prompt, and the attempt given up, not counted.  One
# thread tries the chat hook's deliveries one at a time: every attempt before the one in flight
# ended (timed out) and was recorded.
opened=$(hang '[.[] | select(.open)] | length')
in_flight() { [[ $(hang '[.[] | select(.open)] | length') -gt $opened ]]; }
wait_until "a new attempt at the chat hook" in_flight
t0=$(date +%s%N)
stop_syncd
ms=$((($(date +%s%N) - t0) / 1000000))
echo "syncd stopped ${ms} ms after SIGTERM, an attempt of 5 s in flight"
((ms < 3000)) || fail "syncd took ${ms} ms to stop"
closed() { [[ $(hang '[.[] | select(.close)] | length') -ge $(hang '[.[] | select(.open)] | length') ]]; }
wait_until "every attempt closed" closed
expect_eq "$(nlog '[.[] | select(.hook == "chat") | .attempts] | add')" \
          "$(($(hang '[.[] | select(.open)] | length') - 1))" "chat attempts recorded (the last given up)"
echo "ok: a hanging receiver delays only its own hook, and syncd stops at once"
