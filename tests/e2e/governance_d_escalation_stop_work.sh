#!/usr/bin/env bash
# Governance (d): escalation (提醒函, 通报, 约谈, 黄牌, 问责), stop-work
# orders (停工整改) and linked look-backs (回头看), with real syncd and CLI
# processes (001 L463; 000 L63, L185; 002 L117).
#  - A finding past its deadline shows in the supervisor's "needs
#    escalation" queue as the register's ladder says; the supervisor
#    escalates it with a level, a reason and an evidence photo, and the
#    responsible unit sees the escalation of its own finding, not of
#    another unit's.  The unit may not escalate; a finding within its
#    deadline that never relapsed is not escalated; no escalation without
#    its reason.
#  - A stop-work order stands until a rectified revisit lifts it: a
#    closure, a report or a plain revisit do not, and lists filter on it.
#  - A look-back round names the findings it re-checks; a look-back names
#    its round, and both the finding and the round count it.
# Each refusal says why, exits 1 (2 for usage) and records nothing.
source "$(dirname "$0")/cli_common.bash"

make_register
admin org policy junan-garden --ladder 2:reminder,5:interview >/dev/null
start_syncd
ALL=(inspector supervisor wuye)
for who in "${ALL[@]}"; do enroll "$who" "$who"; done
sync_ok "${ALL[@]}"

standing() { sc "$1" status | jq -c '{outbox, ops, replica_hash}'; }

# A finding three days past its deadline, another within it.
LATE=$(submitted_finding inspector "楼道堆物、飞线充电" general --category FIRE --deadline "$(day -3)")
SOON=$(submitted_finding inspector "电梯未张贴使用说明" general --category SIGNAGE --deadline "$(day 5)")
sync_ok inspector supervisor wuye

# ---- the needs-escalation queue (ladder 2 days → reminder, 5 → interview) ----
q=$(sc supervisor review)
expect_jq "$q" '[.needs_escalation[] | .id + ":" + .suggested_step] | join(" ")' "$LATE:reminder" \
          "the supervisor's queue"
expect_jq "$(sc supervisor list findings --needs-escalation)" '[.items[].id] | join(" ")' "$LATE" \
          "list --needs-escalation"

# ---- refusals, each recording nothing ----
before=$(standing wuye)
expect_exit 1 "$SPOT" --db "$TMP/wuye.db" escalate "$LATE" --step reminder --level street --reason "x"
grep -qF "a user with role responsible may not make escalation on a finding" "$TMP/err" ||
  fail "the responsible unit escalating: $(cat "$TMP/err")"
expect_eq "$(standing wuye)" "$before" "the unit's refused escalation records nothing"
before=$(standing supervisor)
expect_exit 1 "$SPOT" --db "$TMP/supervisor.db" escalate "$SOON" --step reminder --level county \
            --reason "提醒"
grep -qF "an escalation is for an overdue or relapsing finding: this one is within its deadline and never relapsed" \
  "$TMP/err" || fail "escalating a finding within its deadline: $(cat "$TMP/err")"
expect_exit 2 "$SPOT" --db "$TMP/supervisor.db" escalate "$LATE" --step reminder --level county
grep -qF -- "--reason" "$TMP/err" || fail "an escalation without reason: $(cat "$TMP/err")"
expect_exit 1 "$SPOT" --db "$TMP/supervisor.db" escalate "$LATE" --step red_card --level county \
            --reason "x"
grep -qF 'step "red_card" is not one of: reminder, public_notice, interview, yellow_card, accountability' \
  "$TMP/err" || fail "an unknown step: $(cat "$TMP/err")"
expect_exit 1 "$SPOT" --db "$TMP/supervisor.db" escalate "$LATE" --step reminder --level province \
            --reason "x"
grep -qF 'level "province" is not one of: city, county, street, community, grid, compound, building, unit, household' \
  "$TMP/err" || fail "an unknown level: $(cat "$TMP/err")"
expect_eq "$(standing supervisor)" "$before" "refused escalations record nothing"

# ---- the escalation, seen by the unit ----
photo "$TMP/letter.jpg" "提醒函 scanned"
ESC=$(sc supervisor escalate "$LATE" --step reminder --level county --reason "逾期3天未整改, 发提醒函" \
        --photo "$TMP/letter.jpg" | jq -r .op)
[[ $ESC =~ ^[0-9a-f]{64}$ ]] || fail "escalation op: $ESC"
sync_ok supervisor wuye inspector
g=$(sc wuye show "$LATE")
expect_jq "$g" '[.escalations[0].step, .escalations[0].level, .escalations[0].reason, (.escalations[0].evidence | length)] | join(" ")' \
          "reminder county 逾期3天未整改, 发提醒函 1" "the unit sees the escalation of its finding"
expect_jq "$(sc wuye list findings)" "[.items[] | select(.id == \"$LATE\") | .escalated_step] | join(\"\")" \
          "reminder" "the unit's list"
expect_jq "$(sc supervisor review)" '.needs_escalation | length' 0 "escalated as the ladder says"
log_size >/dev/null # the register audits

# ---- stop-work: only a rectified revisit lifts it ----
before=$(standing wuye)
expect_exit 1 "$SPOT" --db "$TMP/wuye.db" stop-work "$LATE" --reason "x"
grep -qF "a user with role responsible may not make stop_work on a finding" "$TMP/err" ||
  fail "the unit stopping work: $(cat "$TMP/err")"
expect_eq "$(standing wuye)" "$before" "nothing recorded"
expect_exit 2 "$SPOT" --db "$TMP/supervisor.db" stop-work "$LATE"
sc supervisor stop-work "$LATE" --reason "飞线充电存在火灾隐患, 停止使用充电区" >/dev/null
sync_ok supervisor wuye inspector
expect_jq "$(sc wuye list findings --stop-work)" '[.items[].id] | join(" ")' "$LATE" "list --stop-work"
photo "$TMP/cleared.jpg" "stairwell cleared"
sc wuye rectify "$LATE" --note "已清理楼道, 拆除飞线" --photo "$TMP/cleared.jpg" >/dev/null
sync_ok wuye inspector supervisor
# A revisit that verifies does not lift it; nor does the closure.
sc inspector revisit "$LATE" --result rectified --note "复查合格" >/dev/null
sync_ok inspector supervisor
expect_jq "$(sc supervisor show "$LATE")" '[.status, .stop_work_in_force] | join(" ")' "verified true" \
          "verified, still stopped"
before=$(standing supervisor)
expect_exit 1 "$SPOT" --db "$TMP/supervisor.db" close "$LATE" --note "销号"
grep -qF "the finding is under a stop-work order (停工整改): a rectified revisit lifts it before it is closed" \
  "$TMP/err" || fail "closing under a stop-work order: $(cat "$TMP/err")"
expect_exit 1 "$SPOT" --db "$TMP/supervisor.db" revisit "$LATE" --result not_rectified --lift-stop-work
grep -qF "only a rectified revisit lifts a stop-work order" "$TMP/err" ||
  fail "a failed revisit lifting: $(cat "$TMP/err")"
expect_exit 1 "$SPOT" --db "$TMP/supervisor.db" revisit "$SOON" --result rectified --lift-stop-work
grep -qF "no stop-work order (停工整改) is in force to lift" "$TMP/err" ||
  fail "lifting where none stands: $(cat "$TMP/err")"
expect_eq "$(standing supervisor)" "$before" "refused lifts and closure record nothing"
sc inspector revisit "$LATE" --result rectified --lift-stop-work --note "复工条件具备" >/dev/null
sync_ok inspector supervisor wuye
g=$(sc supervisor show "$LATE")
expect_jq "$g" '[.stop_work_in_force, .stop_work[0].lifted] | join(" ")' "false true" "lifted"
expect_jq "$(sc supervisor list findings --stop-work)" '.items | length' 0 "none stopped"
sc supervisor close "$LATE" --note "销号" >/dev/null
sync_ok supervisor inspector wuye

# ---- a look-back round ----
expect_exit 1 "$SPOT" --db "$TMP/supervisor.db" assign --target T-JAHY --inspector inspector \
            --kind follow_up --disclosure unannounced --recheck "$LATE,$LATE"
grep -qF "is named twice" "$TMP/err" || fail "a finding re-checked twice: $(cat "$TMP/err")"
ROUND=$(sc supervisor assign --target T-JAHY --inspector inspector --kind follow_up \
          --disclosure unannounced --recheck "$LATE" --note "杀回马枪" | jq -r .id)
expect_id "$ROUND" "the look-back round"
sync_ok supervisor inspector
expect_exit 1 "$SPOT" --db "$TMP/inspector.db" revisit "$SOON" --result rectified --look-back-of "$ROUND"
grep -qF "does not re-check this finding" "$TMP/err" || fail "a look-back of another round: $(cat "$TMP/err")"
sc inspector revisit "$LATE" --result rectified --look-back-of "$ROUND" --note "回头看未反弹" >/dev/null
sync_ok inspector supervisor
expect_jq "$(sc supervisor show "$LATE")" '[.status, .look_backs_done, .look_backs[0].round] | join(" ")' \
          "closed 1 $ROUND" "the finding counts its look-back"
expect_jq "$(sc supervisor list assignments)" "[.items[] | select(.id == \"$ROUND\") | .look_backs_done] | join(\"\")" \
          "1" "the round counts it"
log_size >/dev/null
