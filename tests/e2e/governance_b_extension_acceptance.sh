#!/usr/bin/env bash
# Governance (b): deadline extensions (延期) and acceptance (验收) of a major
# hazard by the level above, with real syncd and CLI processes (004 L27:
# 市、区两级验收).
#  - The property company asks for a later deadline; only a supervisor's
#    approval moves it, a rejection states its reason, and a supervisor may
#    change the deadline stating a reason.  Two supervisors deciding one
#    request offline, one approving and one rejecting: the rejection wins
#    on every replica, raised as an extension conflict, until a decision
#    that has seen both settles it.
#  - The verified gas pipeline closes only on an acceptance by a user above
#    the responsible unit; the unit's own level may not accept, the
#    acceptor may not close on any of their tablets, and reporter, acceptor
#    and closer are three users.
#  - Whoever asked for an extension never decides it, even made a supervisor.
source "$(dirname "$0")/cli_common.bash"

make_register
# The city's supervisor (市级验收) and an inspector of the compound's own unit.
admin user add city-sup --role supervisor --org city --name "市住建局 赵刚" >/dev/null
admin user add garden-insp --role inspector --org junan-garden --name "物业自查员 孙丽" >/dev/null
start_syncd
ALL=(inspector supervisor wuye city-sup garden-insp)
for who in "${ALL[@]}"; do enroll "$who" "$who"; done
# The county supervisor's second tablet: one person, two devices.
enroll supervisor-b supervisor
sync_ok "${ALL[@]}" supervisor-b

standing() { sc "$1" status | jq -c '{outbox, ops, replica_hash}'; }

GAS=$(submitted_finding inspector "燃气管道老化未按期检验" major --category GAS --deadline "$(day 30)")
sync_ok inspector "${ALL[@]}" supervisor-b

# ---- extensions ----
before=$(standing wuye)
expect_exit 1 "$SPOT" --db "$TMP/wuye.db" extension request "$GAS" --deadline "$(day 20)" --reason "x"
grep -qF "an extension asks for a date after the deadline in force" "$TMP/err" ||
  fail "an earlier date: $(cat "$TMP/err")"
expect_exit 2 "$SPOT" --db "$TMP/wuye.db" extension request "$GAS" --deadline "$(day 45)"
expect_eq "$(standing wuye)" "$before" "refused requests record nothing"
REQ1=$(sc wuye extension request "$GAS" --deadline "$(day 45)" --reason "检验机构排期至下月" | jq -r .op)
expect_exit 1 "$SPOT" --db "$TMP/wuye.db" extension request "$GAS" --deadline "$(day 50)" --reason "y"
grep -qF "an earlier extension request is still pending" "$TMP/err" || fail "two pending: $(cat "$TMP/err")"
# The unit may not decide its own request.
expect_exit 1 "$SPOT" --db "$TMP/wuye.db" extension approve "$GAS"
grep -qF "a user with role responsible may not make extension_decision on a finding" "$TMP/err" ||
  fail "the requester approving: $(cat "$TMP/err")"
sync_ok wuye supervisor
# Pending: the deadline in force is the notice's; a rejection states its reason.
expect_jq "$(sc supervisor show "$GAS")" '[.deadline, .extensions_pending] | join(" ")' "$(day 30) 1" \
          "pending moves nothing"
expect_jq "$(sc supervisor review)" '[.extension_requests[].id] | join(" ")' "$GAS" "the supervisor's queue"
expect_exit 2 "$SPOT" --db "$TMP/supervisor.db" extension reject "$GAS"
sc supervisor extension reject "$GAS" --reason "检验可另约机构, 不予延期" >/dev/null
expect_jq "$(sc supervisor show "$GAS")" '.deadline' "$(day 30)" "a rejection moves nothing"
expect_exit 1 "$SPOT" --db "$TMP/supervisor.db" extension approve "$GAS" --request "$REQ1"
grep -qF "the extension was already rejected" "$TMP/err" || fail "deciding twice: $(cat "$TMP/err")"
sync_ok supervisor wuye

# A second request; the county and the city decide it offline, differently.
REQ2=$(sc wuye extension request "$GAS" --deadline "$(day 40)" --reason "管道采购到货延迟" | jq -r .op)
sync_ok wuye supervisor city-sup
sc supervisor extension approve "$GAS" --reason "同意" >/dev/null
sc city-sup extension reject "$GAS" --reason "重大隐患不予延期" >/dev/null
sync_ok supervisor city-sup supervisor wuye inspector
for who in supervisor city-sup wuye; do
  g=$(sc "$who" show "$GAS")
  expect_jq "$g" '[.deadline, (.governance.extensions | map(.status) | join(","))] | join(" ")' \
            "$(day 30) rejected,rejected" "the rejection wins on $who"
  expect_jq "$g" '[.conflicts[] | select(.field == "extension") | .item, (.values | join(","))] | join(" ")' \
            "$REQ2 rejected,approved" "the extension conflict on $who"
done
expect_jq "$(sc supervisor conflicts)" '[.items[].id] | join(" ")' "$GAS" "in the conflict inbox"
# A decision that has seen both settles it: approved, the deadline moves.
sc supervisor extension approve "$GAS" --request "$REQ2" --reason "经市县协调同意" >/dev/null
sync_ok supervisor city-sup wuye inspector
g=$(sc wuye show "$GAS")
expect_jq "$g" '[.deadline, .governance.extensions[1].status, (.conflicts | length)] | join(" ")' \
          "$(day 40) approved 0" "settled"
# The deadline in force each time it changed: the approval, the rejection that overruled it,
# the settling approval (overdue counts against these, day by day).
expect_jq "$g" '[.governance.deadline_history[] | .cause + ":" + .deadline] | join(" ")' \
          "finding:$(day 30) extension:$(day 40) extension:$(day 30) extension:$(day 40)" \
          "the deadline history"

# After the notice only a supervisor changes the deadline, stating a reason.
expect_exit 1 "$SPOT" --db "$TMP/inspector.db" deadline "$GAS" --deadline "$(day 35)" --reason "z"
grep -qF "a user with role inspector may not make deadline_change on a finding" "$TMP/err" ||
  fail "an inspector's change: $(cat "$TMP/err")"
expect_exit 2 "$SPOT" --db "$TMP/supervisor.db" deadline "$GAS" --deadline "$(day 35)"
sc supervisor deadline "$GAS" --deadline "$(day 35)" --reason "区安委会要求提前完成" >/dev/null
expect_jq "$(sc supervisor show "$GAS")" '[.deadline, .governance.deadline_history[-1].cause] | join(" ")' \
          "$(day 35) supervisor" "the supervisor's change"
sync_ok supervisor

# ---- acceptance (验收) ----
photo "$TMP/valve.jpg" "new valve fitted"
sc wuye rectify "$GAS" --note "已更换管道并取得检验合格报告" --photo "$TMP/valve.jpg" >/dev/null
sync_ok wuye inspector
sc inspector revisit "$GAS" --result rectified --note "复查合格" >/dev/null
sync_ok inspector city-sup garden-insp supervisor supervisor-b
expect_jq "$(sc city-sup show "$GAS")" '[.status, .accepted] | join(" ")' "verified false" "verified, not accepted"
# Verified is not enough for a major hazard.
before=$(standing city-sup)
expect_exit 1 "$SPOT" --db "$TMP/city-sup.db" close "$GAS" --note "销号"
grep -qF "closing a major hazard needs an acceptance (验收) by a user of an org unit above the responsible unit" \
  "$TMP/err" || fail "closing unaccepted: $(cat "$TMP/err")"
expect_eq "$(standing city-sup)" "$before" "a refused closure records nothing"
# The compound's own level may not accept.
expect_exit 1 "$SPOT" --db "$TMP/garden-insp.db" revisit "$GAS" --result rectified --acceptance
grep -qF "an acceptance (验收) is made by a user of an org unit above the responsible unit" "$TMP/err" ||
  fail "the unit's level accepting: $(cat "$TMP/err")"
# The county accepts; it may not also close, on either of its tablets.
sc supervisor revisit "$GAS" --result rectified --acceptance --note "区级验收合格" >/dev/null
sync_ok supervisor supervisor-b city-sup
for dev in supervisor supervisor-b; do
  before=$(standing "$dev")
  expect_exit 1 "$SPOT" --db "$TMP/$dev.db" close "$GAS" --note "销号"
  grep -qF "the closer must be someone other than the acceptor" "$TMP/err" ||
    fail "the acceptor closing on $dev: $(cat "$TMP/err")"
  expect_eq "$(standing "$dev")" "$before" "nothing recorded on $dev"
done
sc city-sup close "$GAS" --note "市级验收后销号" >/dev/null
sync_ok city-sup "${ALL[@]}" supervisor-b
sup_key=$(sc supervisor status | jq -r .device_key)
for who in "${ALL[@]}"; do
  g=$(sc "$who" show "$GAS")
  expect_jq "$g" '[.status, .accepted, .governance.accepted_by] | join(" ")' "closed true $sup_key" \
            "closed after acceptance, on $who"
  expect_jq "$g" '[.history[] | .valid] | unique | join(" ")' "true" "every op valid on $who"
done

# The reporter may not close either: a supervisor who recorded a paper report.
PAPER=$(submitted_finding inspector "锅炉使用登记资料缺失" major --category SPECIAL_EQUIPMENT \
          --deadline "$(day 30)")
sync_ok inspector supervisor city-sup
sc supervisor rectify "$PAPER" --note "代录纸质整改报告" >/dev/null
sync_ok supervisor city-sup
sc city-sup revisit "$PAPER" --result rectified --acceptance >/dev/null
sync_ok city-sup supervisor
expect_exit 1 "$SPOT" --db "$TMP/supervisor.db" close "$PAPER"
grep -qF "the closer must be someone other than the reporter" "$TMP/err" ||
  fail "the reporter closing: $(cat "$TMP/err")"

# Whoever asked never decides, whatever role they come to hold: the property company's contact
# asks for more time, is made a supervisor, and still may not approve the request.
sync_ok wuye
sc wuye extension request "$PAPER" --deadline "$(day 45)" --reason "锅炉检验排期" >/dev/null
sync_ok wuye
admin user role wuye supervisor >/dev/null
sync_ok wuye
expect_jq "$(sc wuye status)" .role supervisor "the new role on the tablet"
before=$(standing wuye)
expect_exit 1 "$SPOT" --db "$TMP/wuye.db" extension approve "$PAPER"
grep -qF "an extension is decided by someone other than the person who asked for it" "$TMP/err" ||
  fail "the requester approving: $(cat "$TMP/err")"
expect_eq "$(standing wuye)" "$before" "the refused approval records nothing"

# The register agrees with all of it.
stop_syncd
"$SYNCD" audit --data "$DATA" >"$TMP/audit" || { cat "$TMP/audit" >&2; fail "audit"; }
grep -q "OK: everything holds" "$TMP/audit" || fail "audit: $(cat "$TMP/audit")"
echo "ok: extensions and acceptance"
