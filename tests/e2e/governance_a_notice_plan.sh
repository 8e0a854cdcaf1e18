#!/usr/bin/env bash
# Governance (a): the notice (限期整改通知) issued at submission, sign-for (签收)
# and the plan (整改方案), with real syncd and CLI processes (DOMAIN.md §11:
# the gas pipeline, #2, a major hazard; the lift notices, #5, general).
#  - Submitting a major hazard without its unit and deadline is refused,
#    naming what is missing, and nothing is recorded; a general finding
#    takes the defaults (the target's unit, today plus the register's
#    period, set per org unit with `syncd admin org policy`) and says so.
#  - The property company signs for it once; its plan for the major hazard
#    must give funds, interim controls and a lead official; the supervisor
#    sends it back with a reason and the company files anew.
#  - Wrong roles, and the property company acting on the community's own
#    finding, are refused with their reasons, and change nothing.
source "$(dirname "$0")/cli_common.bash"

ALL=(inspector supervisor wuye)
start_with "${ALL[@]}"

# standing NAME: what a refused call must leave as it was.
standing() { sc "$1" status | jq -c '{outbox, ops, replica_hash}'; }

# The register's policy: the compound's unit gives general findings 10 days.
policy=$(admin org policy junan-garden --general-days 10 --sign-for-days 2)
expect_jq "$policy" '.own.general_days' 10 "the unit's own period"
expect_jq "$policy" '[.in_force.general_days, .in_force.sign_for_days, .in_force.plan_days] | join(" ")' \
          "10 2 7" "the periods in force there (plan_days built in)"
expect_exit 2 "$SYNCD" admin --data "$DATA" org policy junan-garden --plan-days 0
grep -q 'not a number of days from 1 to 3650, or inherit' "$TMP/err" || fail "policy of 0 days: $(cat "$TMP/err")"
sync_ok "${ALL[@]}"

CHECK=$(new_check inspector)
score_sheet inspector "$CHECK"
GAS=$(expect_id "$(sc inspector finding add --check "$CHECK" --desc "燃气管道老化未按期检验" --grade major \
                    --category GAS | jq -r .id)" "the gas pipeline")
LIFT=$(expect_id "$(sc inspector finding add --check "$CHECK" --desc "电梯、健身器材未张贴使用说明和注意事项" \
                     --grade general --category SIGNAGE | jq -r .id)" "the lift notices")
# The community's own to fix (DOMAIN.md §11 #6): the property company sees it, but does not answer for it.
SIGNS=$(expect_id "$(sc inspector finding add --check "$CHECK" --desc "配电箱、水系、护栏处无明显警示标识" \
                      --grade general --category SIGNAGE --responsible junan | jq -r .id)" "the warning signs")

# The major hazard names neither unit nor deadline: the submission is refused, nothing recorded.
before=$(standing inspector)
expect_exit 1 "$SPOT" --db "$TMP/inspector.db" check submit "$CHECK"
grep -qF "finding $GAS is a major hazard with no responsible unit and no deadline: its notice (限期整改通知) names both" \
  "$TMP/err" || fail "major without notice facts: $(cat "$TMP/err")"
expect_eq "$(standing inspector)" "$before" "a refused submission records nothing"
expect_jq "$(sc inspector show "$CHECK")" .status draft "still a draft"
expect_jq "$(sc inspector show "$LIFT")" .notice false "no notice for the general one either"
# JSON says the same, with its reason.
out=$("$SPOT" --db "$TMP/inspector.db" --json check submit "$CHECK" 2>/dev/null || true)
expect_jq "$out" '.error.reason' invalid_transition "the refusal's reason"
sc inspector finding set "$GAS" --responsible junan-garden >/dev/null
expect_exit 1 "$SPOT" --db "$TMP/inspector.db" check submit "$CHECK"
grep -qF "is a major hazard with no deadline" "$TMP/err" || fail "deadline still missing: $(cat "$TMP/err")"
sc inspector finding set "$GAS" --deadline "$(day 60)" >/dev/null
sc inspector check submit "$CHECK" >/dev/null
sync_ok "${ALL[@]}"

# The general finding took the defaults, and says so; the major hazard's were named.
lift=$(sc wuye show "$LIFT")
expect_jq "$lift" '[.responsible, .deadline, .responsible_defaulted, .deadline_defaulted] | join(" ")' \
          "junan-garden $(day 10) true true" "the lift finding's defaulted notice"
expect_jq "$lift" '.governance.notice.sign_for_due' "$(day 2)" "sign for within the unit's 2 days"
gas=$(sc wuye show "$GAS")
expect_jq "$gas" '[.responsible, .deadline, .responsible_defaulted, .deadline_defaulted] | join(" ")' \
          "junan-garden $(day 60) false false" "the gas finding's named notice"
expect_jq "$gas" '[.history[].kind] | join(" ")' "finding_create field_edit field_edit notice" \
          "the notice in the history"
# Once issued, nobody edits the deadline.
before=$(standing inspector)
expect_exit 1 "$SPOT" --db "$TMP/inspector.db" finding set "$GAS" --deadline "$(day 90)"
grep -qF "after the notice the deadline moves only by an approved extension or a supervisor's deadline change with its reason" \
  "$TMP/err" || fail "deadline edit after the notice: $(cat "$TMP/err")"
expect_eq "$(standing inspector)" "$before" "a refused edit records nothing"

# Sign-for: the compound's contact, once, for its own unit's findings; not an inspector.
before=$(standing wuye)
expect_exit 1 "$SPOT" --db "$TMP/wuye.db" sign-for "$SIGNS"
grep -qF "sign-for (签收) is for the responsible unit (junan), which you do not speak for" \
  "$TMP/err" || fail "another unit's sign-for: $(cat "$TMP/err")"
expect_eq "$(standing wuye)" "$before" "nothing recorded for another unit's finding"
expect_exit 1 "$SPOT" --db "$TMP/inspector.db" sign-for "$GAS"
grep -qF "a user with role inspector may not make sign_for on a finding" "$TMP/err" ||
  fail "an inspector's sign-for: $(cat "$TMP/err")"
sc wuye sign-for "$GAS" --note "已签收, 物业经理 陈静" >/dev/null
expect_exit 1 "$SPOT" --db "$TMP/wuye.db" sign-for "$GAS"
grep -qF "the notice was already signed for" "$TMP/err" || fail "signing twice: $(cat "$TMP/err")"

# The plan: a major hazard's must give funds, interim controls and a lead official.
before=$(standing wuye)
expect_exit 1 "$SPOT" --db "$TMP/wuye.db" plan "$GAS" --person wuye --measures "更换老化管道"
grep -qF "a major hazard's plan needs the funds amount, the funds source, the interim controls or contingency plan (临时管控措施、应急预案) and the lead official (牵头领导)" \
  "$TMP/err" || fail "a bare plan: $(cat "$TMP/err")"
expect_exit 1 "$SPOT" --db "$TMP/wuye.db" plan "$GAS" --person wuye --measures "更换老化管道" \
  --funds 12000 --funds-source "安全专项费用" --interim "关闭总阀, 每日巡查"
grep -qF "a major hazard's plan needs the lead official (牵头领导)" "$TMP/err" || fail "no lead: $(cat "$TMP/err")"
expect_exit 2 "$SPOT" --db "$TMP/wuye.db" plan "$GAS" --measures "更换老化管道"
grep -qF "a plan names its responsible person" "$TMP/err" || fail "no person: $(cat "$TMP/err")"
expect_exit 1 "$SPOT" --db "$TMP/wuye.db" plan "$GAS" --person wuye --measures "更换" --funds 12k \
  --funds-source x --interim y --lead-official z
grep -qF 'funds "12k" is not an amount' "$TMP/err" || fail "a bad amount: $(cat "$TMP/err")"
expect_exit 3 "$SPOT" --db "$TMP/wuye.db" plan "$GAS" --person nobody --measures "更换" --funds 1 \
  --funds-source x --interim y --lead-official z
expect_eq "$(standing wuye)" "$before" "refused plans record nothing"
out=$(sc wuye plan "$GAS" --person wuye --measures "更换老化管道，委托有资质单位检验" --funds 12000 \
        --funds-source "安全专项费用" --interim "关闭总阀, 每日巡查" --lead-official "王副主任")
PLAN1=$(jq -r .op <<<"$out")
[[ $PLAN1 =~ ^[0-9a-f]{64}$ ]] || fail "plan op: $out"
# The general one's plan needs no funds; a name and a phone do for the person.
sc wuye plan "$LIFT" --person-name "陈静" --person-phone "13800000000" --measures "三日内张贴" >/dev/null
sync_ok wuye supervisor inspector

# The supervisor sends the major hazard's plan back with a reason; an inspector may not.
expect_exit 1 "$SPOT" --db "$TMP/inspector.db" plan-return "$GAS" --reason "x"
grep -qF "a user with role inspector may not make plan_return on a finding" "$TMP/err" ||
  fail "an inspector's return: $(cat "$TMP/err")"
expect_exit 2 "$SPOT" --db "$TMP/supervisor.db" plan-return "$GAS"
sc supervisor plan-return "$GAS" --reason "资金来源不明, 请附预算" >/dev/null
sync_ok supervisor wuye
gas=$(sc wuye show "$GAS")
expect_jq "$gas" '[.governance.plan.op, .governance.plan.returned, .governance.plan.return_reason] | join(" ")' \
          "$PLAN1 true 资金来源不明, 请附预算" "the plan sent back"
expect_jq "$gas" '.governance.plan_due' "$(day 7)" "a new plan due within the period"
expect_jq "$gas" '.governance.plan.funds' "12000.00" "funds as an amount"
sc wuye plan "$GAS" --person wuye --measures "更换老化管道" --funds 12000.50 --funds-source "街道安全专项资金" \
  --interim "关闭总阀, 每日巡查" --lead-official "王副主任" >/dev/null
sync_ok wuye supervisor inspector
for who in "${ALL[@]}"; do
  g=$(sc "$who" show "$GAS")
  expect_jq "$g" '[.governance.plan_count, .governance.plan.returned, .governance.plan.funds_source, .plan] | join(" ")' \
            "2 false 街道安全专项资金 true" "the plan in effect on $who"
  expect_jq "$g" '.governance.signed_for.by' "$(sc wuye status | jq -r .device_key)" "signed for, on $who"
  expect_jq "$g" '[.history[] | .valid] | unique | join(" ")' "true" "every op valid on $who"
done
# Help for the new commands.
"$SPOT" plan --help | grep -q "^usage: spotcheck plan FINDING --measures" || fail "plan --help"
"$SPOT" sign-for --help | grep -q "签收" || fail "sign-for --help"
echo "ok: notice, sign-for and plan"
