#!/usr/bin/env bash
# Leases kept (docs/operations.md, "Webhooks", "Delivery"): two syncd on one
# PostgreSQL register, a hook (chat) whose receiver never answers (each
# attempt lasts notify.timeout_s, 2 s) and one (ops) whose receiver does.  A
# claim holds a delivery for notify.timeout_s + 10 s, and a syncd claims one
# delivery of a hook at a time, so every attempt ends inside its lease: the
# other syncd never sends a delivery the first still holds.  So ops gets each
# of twelve major hazards exactly once, within 5 s of the sync, and no two
# attempts of one chat delivery are ever open at once, though both syncd try
# the chat deliveries for longer than a lease.  (Before, a round of 32
# claimed deliveries took 32 x timeout_s, outlived its lease, and the second
# syncd sent what the first still held: 17 deliveries of 12 events.)  A
# throwaway PostgreSQL server (tests/support/sctest_pg.sh).
source "$(dirname "$0")/cli_common.bash"
source "$(dirname "$0")/notify_common.bash"

pg_start
make_register --store "postgresql://spotcheck:$PG_PW@127.0.0.1:$PG_PORT/postgres"
DATA_B="$TMP/data-b"
cp -a "$DATA" "$DATA_B"
start_receiver 0
start_hanging
chat_ops_conf "http://127.0.0.1:$HANG_PORT/chat" 2 "notify.retry_base_ms = 200" \
  "notify.retry_max_s = 1"
start_syncd --config "$TMP/syncd.conf"
enroll inspector inspector
sync_ok inspector

C=$(new_check inspector)
for n in $(seq 1 12); do
  new_finding inspector "$C" "重大隐患 $n" major --category GAS --deadline "$(day 9)" >/dev/null
done
sc inspector check submit "$C" >/dev/null
t0=$(date +%s%N)
sync_ok inspector
"$SYNCD" serve --data "$DATA_B" --listen 127.0.0.1:0 --config "$TMP/syncd.conf" \
  >"$TMP/serve-b.log" 2>&1 &
PIDS+=("$!")
for i in $(seq 1 100); do
  grep -q '^listening on ' "$TMP/serve-b.log" && break
  sleep 0.1
done
grep -q '^listening on ' "$TMP/serve-b.log" || { cat "$TMP/serve-b.log" >&2; fail "the second syncd did not start"; }

ops_got() { [[ $(got '[.[] | select(.ok and .path == "/hook")] | length') -ge 12 ]]; }
wait_until "twelve major hazards at ops" ops_got
ms=$((($(date +%s%N) - t0) / 1000000))
echo "ops got its twelve major hazards ${ms} ms after the sync"
((ms < 5000)) || fail "ops waited ${ms} ms behind the chat hook"

# Both syncd try the chat deliveries for longer than a lease (2 s + 10 s), each a claim of its own.
sleep 15
expect_eq "$(got '[.[] | select(.path == "/hook")] | length')" 12 "deliveries at ops"
expect_eq "$(got '[.[] | select(.path == "/hook") | .event] | unique | length')" 12 "events at ops"
expect_eq "$(got 'all(.ok)')" true "every signature verifies"
# Each chat attempt from its headers to its close (still open: until now); none of one event overlap.
overlaps=$(hang '(map(select(.close)) | map({key: (.conn | tostring), value: .t}) | from_entries) as $c
  | [.[] | select(.open) | {e: .open, a: .t, b: ($c[.conn | tostring] // 1e12)}]
  | group_by(.e) | map(sort_by(.a) | . as $v | [range(1; length) | select($v[.].a < $v[. - 1].b)]
  | length) | add // 0')
attempts=$(hang '[.[] | select(.open)] | length')
echo "chat: $attempts attempts of $(hang '[.[] | select(.open) | .open] | unique | length') deliveries"
((attempts >= 12)) || fail "the chat deliveries were tried $attempts times"
expect_eq "$overlaps" 0 "chat attempts of one delivery open at once (sent by both syncd)"
expect_eq "$(nlog '[.[] | select(.hook == "ops") | .state] | unique | join(" ")')" delivered \
          "the delivery log at ops"
echo "ok: two syncd send each delivery once at a time, a hanging hook's too"
