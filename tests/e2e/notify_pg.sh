#!/usr/bin/env bash
# Webhooks from two syncd serving one register in PostgreSQL (docs/operations.md,
# "Webhooks" and "Several syncd on PostgreSQL"): each instance queues the
# events of the ops it commits, both deliver from the one queue, and every
# event reaches the receiver once, not once per instance, the overdue scans
# of both included.  A throwaway PostgreSQL server (tests/support/sctest_pg.sh).
source "$(dirname "$0")/cli_common.bash"
source "$(dirname "$0")/notify_common.bash"

pg_start

make_register --store "postgresql://spotcheck:$PG_PW@127.0.0.1:$PG_PORT/postgres"
DATA_B="$TMP/data-b"
cp -a "$DATA" "$DATA_B"
start_receiver 0
conf 1000

# Two instances, each with its own tablet.
start_syncd --config "$TMP/syncd.conf"
URL_A=$URL
cp "$TMP/serve.log" "$TMP/serve-a.log"
"$SYNCD" serve --data "$DATA_B" --listen 127.0.0.1:0 --config "$TMP/syncd.conf" \
  >"$TMP/serve-b.log" 2>&1 &
PIDS+=("$!")
for i in $(seq 1 100); do
  URL_B=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$TMP/serve-b.log" | head -n 1)
  [[ -n $URL_B ]] && break
  sleep 0.1
done
[[ -n $URL_B ]] || { cat "$TMP/serve-b.log" >&2; fail "the second syncd did not start"; }
enroll inspector inspector
URL=$URL_B
enroll inspector2 inspector2
sync_ok inspector inspector2

# Major hazards through both, and one overdue finding both instances' scans find.
MAJORS=()
for n in 1 2 3; do
  MAJORS+=("$(submitted_finding inspector "重大隐患 A$n" major --category GAS --deadline "$(day 9)")")
  MAJORS+=("$(submitted_finding inspector2 "重大隐患 B$n" major --category GAS --deadline "$(day 9)")")
done
LATE=$(submitted_finding inspector2 "逾期隐患" general --category FIRE --deadline "$(day -2)")
sync_ok inspector inspector2

for f in "${MAJORS[@]}"; do
  wait_until "the major hazard $f" is_delivered finding.major_hazard "$f"
done
wait_until "the overdue finding" is_delivered finding.overdue "$LATE"
sleep 3 # rounds of both instances, and three more scans each
for f in "${MAJORS[@]}"; do
  expect_eq "$(got "[.[] | select(.payload.entity == \"$f\")] | length")" 1 "deliveries of $f"
done
expect_eq "$(got "[.[] | select(.payload.entity == \"$LATE\")] | length")" 1 \
          "deliveries of the overdue finding"
expect_eq "$(got '[.[] | .event] | unique | length')" "$(got 'length')" "one delivery per event"
expect_eq "$(got 'all(.ok)')" true "every signature verifies"
# Both data directories read the one delivery log.
expect_eq "$("$SYNCD" notify log --data "$DATA_B" --json | jq -s -r '[.[] | select(.state == "delivered")] | length')" \
          7 "the delivery log, read through the second instance"
expect_eq "$(nlog '[.[] | .state] | unique | join(" ")')" delivered "the delivery log"
for u in "$URL_A" "$URL_B"; do
  expect_eq "$(curl -fsS "$u/metrics" | awk '$1 == "syncd_webhook_queue_depth" { print $2 }')" 0 \
            "the queue depth on $u"
done
echo "ok: webhooks from two syncd on PostgreSQL"
