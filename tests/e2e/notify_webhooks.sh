#!/usr/bin/env bash
# Webhooks and the operators' metrics, with real syncd, CLI and receiver
# processes (docs/operations.md, "Webhooks" and "Metrics").
#  - A receiver (tests/e2e/webhook_receiver.py) on 127.0.0.1 verifies every
#    delivery's HMAC signature and gets: a major hazard when its
#    unannounced check is submitted (nothing while it is a draft), one
#    finding.overdue per finding and deadline from the timer, an
#    escalation, a conflict, a closure; a second hook takes closures only.
#  - The receiver down while syncd is killed with a delivery queued: once
#    both are back, the delivery arrives with the same event id.
#  - A redirect or a 503 is retried, not taken as delivered; the redirect
#    is not followed.  After notify.max_attempts a delivery is dead; `syncd
#    notify retry --dead` sends it again.
#  - /metrics after the scenario: build_info, open findings by grade,
#    overdue, the oldest overdue's age, escalations, queue depth,
#    deliveries and failures, each checked against what happened.
#  - Hooks come from the settings file only, http(s) only, with a private
#    secret; anything else stops syncd at start with the reason.
source "$(dirname "$0")/cli_common.bash"
source "$(dirname "$0")/notify_common.bash"

make_register
admin org policy junan-garden --ladder 2:reminder,5:interview >/dev/null
start_receiver 0

# ---- settings refused at start: only http(s) URLs, only private secrets ----
for url in file:///etc/passwd gopher://127.0.0.1:70/x "http://127.0.0.1:$PORT/a b"; do
  printf 'notify.hook.x.url = %s\nnotify.hook.x.secret_file = %s\n' "$url" "$TMP/hook.secret" \
    >"$TMP/bad.conf"
  expect_exit 2 "$SYNCD" serve --data "$DATA" --listen 127.0.0.1:0 --config "$TMP/bad.conf"
  grep -qF "is not an http:// or https:// URL" "$TMP/err" || fail "URL $url: $(cat "$TMP/err")"
done
printf 'notify.hook.x.url = http://127.0.0.1:%s/\n' "$PORT" >"$TMP/bad.conf"
expect_exit 2 "$SYNCD" serve --data "$DATA" --listen 127.0.0.1:0 --config "$TMP/bad.conf"
grep -qF "notify.hook.x needs both url and secret_file" "$TMP/err" || fail "no secret: $(cat "$TMP/err")"
cp "$TMP/hook.secret" "$TMP/open.secret"
chmod 644 "$TMP/open.secret"
printf 'notify.hook.x.url = http://127.0.0.1:%s/\nnotify.hook.x.secret_file = %s\n' "$PORT" \
  "$TMP/open.secret" >"$TMP/bad.conf"
expect_exit 1 "$SYNCD" serve --data "$DATA" --listen 127.0.0.1:0 --config "$TMP/bad.conf"
grep -qF "is open to group or others: chmod 600 it" "$TMP/err" || fail "open secret: $(cat "$TMP/err")"
printf 'notify.hook.x.url = http://127.0.0.1:%s/\nnotify.hook.x.secret_file = %s\nnotify.hook.x.events = finding.lost\n' \
  "$PORT" "$TMP/hook.secret" >"$TMP/bad.conf"
expect_exit 2 "$SYNCD" serve --data "$DATA" --listen 127.0.0.1:0 --config "$TMP/bad.conf"
grep -qF 'unknown event "finding.lost"' "$TMP/err" || fail "unknown event: $(cat "$TMP/err")"
[[ ! -s $R/got.jsonl ]] || fail "a refused start sent something"

conf 1000
start_syncd --config "$TMP/syncd.conf"
ALL=(inspector inspector2 supervisor wuye)
for who in "${ALL[@]}"; do enroll "$who" "$who"; done
sync_ok "${ALL[@]}"

# ---- an unannounced check: nothing until it is submitted ----
ASG=$(expect_id "$(sc supervisor assign --target T-JAHY --inspector inspector --kind spot \
      --disclosure unannounced --due "$(day 7)" --template "$TEMPLATE" | jq -r .id)" assign)
sync_ok supervisor inspector
CHECK=$(expect_id "$(sc inspector check open --assignment "$ASG" | jq -r .id)" "check open")
GAS=$(new_finding inspector "$CHECK" "燃气管道老化未按期检验" major --category GAS --deadline "$(day 14)")
sync_ok inspector
sleep 3 # three overdue scans and six rounds of deliveries
expect_eq "$(got "[.[] | select(.payload.entity == \"$GAS\" or .payload.entity == \"$CHECK\")] | length")" 0 \
          "deliveries about the draft unannounced check"
expect_eq "$(nlog "[.[] | select(.payload.entity == \"$GAS\")] | length")" 0 \
          "events queued about the draft unannounced check"
sc inspector check submit "$CHECK" >/dev/null
sync_ok inspector
wait_until "the major hazard, once submitted" is_delivered finding.major_hazard "$GAS"
m=$(got "[.[] | select(.payload.entity == \"$GAS\")][0].payload")
expect_jq "$m" '[.finding, .grade, .status, .deadline, .inspection, .entity_type] | join(" ")' \
          "$GAS major open $(day 14) $CHECK finding" "the major hazard's payload"
[[ $(jq -r .target <<<"$m") =~ ^[0-9a-f]{32}$ ]] || fail "the payload's target: $m"
[[ $(jq -r .id <<<"$m") =~ ^[0-9a-f]{32}$ ]] || fail "the payload's event id: $m"
grep -qF "燃气" <<<"$m" && fail "the payload carries the finding's text: $m"

# ---- overdue: once per finding and deadline, from the timer ----
LATE=$(submitted_finding inspector "楼道堆物、飞线充电" general --category FIRE --deadline "$(day -3)")
sync_ok inspector supervisor wuye inspector2
wait_until "finding.overdue" is_delivered finding.overdue "$LATE"
sleep 2.5 # two more scans
expect_eq "$(delivered finding.overdue "$LATE")" 1 "one finding.overdue per deadline"
expect_jq "$(got "[.[] | select(.payload.type == \"finding.overdue\")][0].payload")" \
          '[.days_overdue, .deadline] | join(" ")' "3 $(day -3)" "the overdue payload"
expect_eq "$(delivered finding.major_hazard "$LATE")" 0 "a general finding is no major hazard"

# ---- an escalation, a conflict, a closure (the second hook takes closures only) ----
sc supervisor escalate "$LATE" --step reminder --level county --reason "逾期3天未整改" >/dev/null
sync_ok supervisor
wait_until "finding.escalated" is_delivered finding.escalated "$LATE"
expect_jq "$(got "[.[] | select(.payload.type == \"finding.escalated\")][0].payload")" \
          '[.step, .level] | join(" ")' "reminder county" "the escalation's payload"
sc inspector finding set "$LATE" --category ENTRY_CONTROL >/dev/null
sc inspector2 finding set "$LATE" --category SANITATION >/dev/null
sync_ok inspector inspector2
wait_until "conflict.raised" is_delivered conflict.raised "$LATE"
expect_jq "$(got "[.[] | select(.payload.type == \"conflict.raised\")][0].payload")" .conflicts 1 \
          "the conflict's payload"
LIFT=$(submitted_finding inspector "电梯公共区域未按每2小时消毒并记录" general --category DISINFECTION \
       --deadline "$(day 10)")
sync_ok inspector wuye
photo "$TMP/fixed.jpg" "disinfection log"
sc wuye rectify "$LIFT" --note "已整改" --photo "$TMP/fixed.jpg" >/dev/null
sync_ok wuye inspector
sc inspector revisit "$LIFT" --result rectified --note "复查合格" >/dev/null
sync_ok inspector supervisor
sc supervisor close "$LIFT" --note "销号" >/dev/null
sync_ok supervisor
wait_until "finding.closed on both hooks" is_delivered finding.closed "$LIFT" /closures
wait_until "finding.closed" is_delivered finding.closed "$LIFT" /hook
expect_eq "$(got '[.[] | select(.path == "/closures") | .payload.type] | unique | join(" ")')" \
          "finding.closed" "the closures hook's events"

# ---- the receiver down, syncd killed with the delivery queued ----
stop_receiver
DOWN=$(submitted_finding inspector "配电箱未上锁" major --category POWER --deadline "$(day 5)")
sync_ok inspector
failing() { [[ $(nlog "[.[] | select(.payload.entity == \"$DOWN\" and .state == \"pending\" and .attempts >= 2)] | length") -ge 1 ]]; }
wait_until "two failed attempts while the receiver is down" failing
EVENT=$(nlog "[.[] | select(.payload.entity == \"$DOWN\")][0].event")
kill -9 "$SYNCD_PID"
wait "$SYNCD_PID" 2>/dev/null || true
start_receiver "$PORT"
RESTART_AT=$(wc -l <"$R/got.jsonl")
start_syncd --config "$TMP/syncd.conf" --listen "${URL#http://}" # where the tablets know it
wait_until "the queued delivery after the restart" is_delivered finding.major_hazard "$DOWN"
expect_eq "$(got "[.[] | select(.payload.entity == \"$DOWN\") | .event] | unique | join(\" \")")" \
          "$EVENT" "the event id after retries and a restart"
expect_eq "$(nlog "[.[] | select(.payload.entity == \"$DOWN\") | .state] | join(\" \")")" delivered \
          "the delivery log"

# ---- a redirect and a 503 are retried, not delivered; the redirect is not followed ----
echo 302 >"$R/status"
REDIR=$(submitted_finding inspector "消防栓无水" major --category FIRE --deadline "$(day 5)")
sync_ok inspector
answered() { [[ $(got "[.[] | select(.payload.entity == \"$REDIR\" and .status == $1)] | length") -ge 1 ]]; }
wait_until "a 302" answered 302
echo 503 >"$R/status"
wait_until "a 503" answered 503
rm "$R/status"
wait_until "delivered after the redirect and the 503" is_delivered finding.major_hazard "$REDIR"
expect_eq "$(got '[.[] | select(.path == "/elsewhere")] | length')" 0 "the redirect followed"
expect_eq "$(got "[.[] | select(.payload.entity == \"$REDIR\") | .event] | unique | length")" 1 \
          "one event id over the attempts"
expect_eq "$(got 'all(.ok)')" true "every delivery's signature verifies"

# ---- the metrics, against what happened ----
metric() { curl -fsS "$URL/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
wait_until "the last deliveries recorded" test "$(nlog '[.[] | select(.state == "pending")] | length')" = 0
sleep 1.5 # an overdue scan after the last op
expect_eq "$(metric 'syncd_build_info{version="'"$("$SYNCD" --version | awk '{print $2}')"'",protocol="1"}')" 1 \
          "build_info"
expect_eq "$(metric 'syncd_findings_open{grade="major"}')" 3 "open major hazards (GAS, DOWN, REDIR)"
expect_eq "$(metric 'syncd_findings_open{grade="general"}')" 1 "open general findings (LATE)"
expect_eq "$(metric syncd_findings_overdue)" 1 "overdue findings"
age=$(metric syncd_findings_oldest_overdue_seconds)
now_s=$(date -u +%s)
since=$(date -u -d "$(day -2) 00:00:00" +%s)
(( age >= now_s - since - 60 && age <= now_s - since + 60 )) ||
  fail "the oldest overdue's age: $age, expected about $((now_s - since))"
expect_eq "$(metric syncd_finding_escalations)" 1 "escalations"
expect_eq "$(metric syncd_webhook_queue_depth)" 0 "the queue, drained"
expect_eq "$(metric syncd_webhook_deliveries_total)" \
          "$(tail -n +"$((RESTART_AT + 1))" "$R/got.jsonl" | jq -s '[.[] | select(.status < 300)] | length')" \
          "deliveries since the restart"
expect_eq "$(metric syncd_webhook_failures_total)" \
          "$(tail -n +"$((RESTART_AT + 1))" "$R/got.jsonl" | jq -s '[.[] | select(.status >= 300)] | length')" \
          "failed attempts since the restart"
expect_eq "$(metric syncd_webhook_dead_total)" 0 "dead deliveries"

# ---- dead after notify.max_attempts, then sent again ----
stop_syncd
conf 2
start_syncd --config "$TMP/syncd.conf" --listen "${URL#http://}"
echo 500 >"$R/status"
DEAD=$(submitted_finding inspector "灭火器过期" major --category FIRE --deadline "$(day 5)")
sync_ok inspector
is_dead() { [[ $(nlog "[.[] | select(.payload.entity == \"$DEAD\" and .state == \"dead\")] | length") == 1 ]]; }
wait_until "a dead delivery" is_dead
expect_eq "$(nlog "[.[] | select(.payload.entity == \"$DEAD\")][0] | [.attempts, .last_status] | join(\" \")")" \
          "2 500" "the dead delivery's attempts and last answer"
expect_eq "$(metric syncd_webhook_dead_total)" 1 "dead deliveries"
"$SYNCD" notify log --data "$DATA" | grep -q " dead " || fail "the log's table shows the dead delivery"
expect_exit 1 "$SYNCD" notify retry --data "$DATA" --id 999999
grep -qF "no dead or dropped delivery 999999" "$TMP/err" || fail "retry --id: $(cat "$TMP/err")"
expect_exit 2 "$SYNCD" notify retry --data "$DATA"
rm "$R/status"
expect_eq "$("$SYNCD" notify retry --data "$DATA" --dead)" "1 deliveries queued again" "retry --dead"
wait_until "the dead delivery sent again" is_delivered finding.major_hazard "$DEAD"

# ---- a full queue: the op is committed, its event recorded as dropped, and queued again later ----
stop_syncd
conf 1000
echo "notify.queue_max = 1" >>"$TMP/syncd.conf"
start_syncd --config "$TMP/syncd.conf" --listen "${URL#http://}"
echo 503 >"$R/status"
C1=$(new_check inspector)
FULL1=$(new_finding inspector "$C1" "高空坠物隐患" major --category FALL --deadline "$(day 5)")
FULL2=$(new_finding inspector "$C1" "电动车楼道充电" major --category FIRE --deadline "$(day 5)")
sc inspector check submit "$C1" >/dev/null
sync_ok inspector
expect_eq "$(nlog "[.[] | select(.payload.entity == \"$FULL1\" or .payload.entity == \"$FULL2\") | .state] | sort | join(\" \")")" \
          "dropped pending" "one queued, one dropped with notify.queue_max = 1"
expect_eq "$(metric syncd_webhook_dropped_total)" 1 "dropped deliveries"
rm "$R/status"
both() { is_delivered finding.major_hazard "$FULL1" && is_delivered finding.major_hazard "$FULL2"; }
one() { [[ $(( $(delivered finding.major_hazard "$FULL1") + $(delivered finding.major_hazard "$FULL2") )) -eq 1 ]]; }
wait_until "the queued one delivered" one
expect_eq "$("$SYNCD" notify retry --data "$DATA" --dropped)" "1 deliveries queued again" "retry --dropped"
wait_until "the dropped one delivered after retry --dropped" both

# A forged delivery is refused by the receiver: the check above can fail.
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Spotcheck-Signature: t=1,v1=00' \
       -H 'X-Spotcheck-Event: x' --data '{"id":"x"}' "http://127.0.0.1:$PORT/hook")
expect_eq "$code" 401 "the receiver's answer to a bad signature"
log_size >/dev/null
echo "ok: webhooks and metrics"
