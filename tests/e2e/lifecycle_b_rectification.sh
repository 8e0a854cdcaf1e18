#!/usr/bin/env bash
# (b) The rectification loop (整改闭环) of a major hazard past its deadline.
# The responsible unit reports with a photo; the inspector's revisit (复查)
# says not rectified, so it is open again; the unit reports again, the revisit
# says rectified; the supervisor closes it (销号); a later look-back (回头看)
# finds a relapse and reopens it (reopen count 1).  While open it is overdue
# in every list and in the review queue; closed, it is not.
source "$(dirname "$0")/cli_common.bash"

ALL=(inspector supervisor wuye)
start_with "${ALL[@]}"

# The inspector's open check finds the gas pipeline (重大隐患, due yesterday) and
# the missing lift notices (限期整改 7 days, DOMAIN.md §11 #5).
CHECK=$(new_check inspector)
score_sheet inspector "$CHECK"
GAS=$(new_finding inspector "$CHECK" "燃气管道老化未按期检验" major --category GAS --deadline "$(day -1)")
LIFT=$(new_finding inspector "$CHECK" "电梯、健身器材未张贴使用说明和注意事项" general --category SIGNAGE \
       --deadline "$(day 7)")
sc inspector check submit "$CHECK" >/dev/null
sync_ok "${ALL[@]}"

# status_everywhere STATUS REOPENS OVERDUE WHAT: every replica agrees on the gas finding.
status_everywhere() {
  local who
  for who in "${ALL[@]}"; do
    expect_jq "$(sc "$who" show "$GAS")" '[.status, .reopen_count, .overdue] | join(" ")' \
              "$1 $2 $3" "$4, on $who"
  done
}
# overdue_everywhere IDS WHAT: the overdue list and the review queue hold exactly IDS.
overdue_everywhere() {
  local who
  for who in "${ALL[@]}"; do
    expect_jq "$(sc "$who" list findings --overdue)" '[.items[].id] | join(" ")' "$1" \
              "overdue findings on $who, $2"
  done
  expect_jq "$(sc supervisor review)" '[.overdue[].id] | join(" ")' "$1" "the review queue's overdue, $2"
}

status_everywhere open 0 true "raised past its deadline"
overdue_everywhere "$GAS" "when raised"
"$SPOT" --db "$TMP/wuye.db" list findings | grep "$GAS" | grep -q OVERDUE || fail "people's list: OVERDUE"
"$SPOT" --db "$TMP/wuye.db" list findings | grep "$LIFT" | grep -qv OVERDUE || fail "LIFT is not overdue"

# The unit reports with a photo; the inspector's revisit finds it not rectified.
photo "$TMP/new-valve.jpg" "new valve fitted"
sc wuye rectify "$GAS" --note "已更换老化管道" --measures "更换总阀及两段管道" --photo "$TMP/new-valve.jpg" >/dev/null
expect_jq "$(sc wuye show "$GAS")" .status submitted "reported"
out=$(sc wuye sync)
expect_jq "$out" '[.accepted, .photos_uploaded] | join(" ")' "2 1" "the report and its photo"
sync_ok inspector supervisor
expect_jq "$(sc supervisor review)" '[.awaiting_revisit[].id] | join(" ")' "$GAS" "awaiting revisit"
sc inspector revisit "$GAS" --result not_rectified --note "复查: 未出具燃气管道检验报告" >/dev/null
sync_ok inspector wuye supervisor
status_everywhere open 0 true "a failing revisit sends it back"

# Reported again, revisited rectified: verified, awaiting the supervisor.
photo "$TMP/report.jpg" "inspection certificate"
sc wuye rectify "$GAS" --note "已委托检验并取得合格报告" --photo "$TMP/report.jpg" >/dev/null
out=$(sc wuye sync)
expect_jq "$out" '[.accepted, .photos_uploaded] | join(" ")' "2 1" "the second report and its photo"
out=$(sc inspector sync)
expect_jq "$out" .photos_downloaded 1 "the unit's photo reaches the inspector"
sc inspector revisit "$GAS" --result rectified --note "复查合格" >/dev/null
sync_ok inspector supervisor wuye
status_everywhere verified 0 true "verified, still not closed"
expect_jq "$(sc supervisor review)" '[.awaiting_closure[].id] | join(" ")' "$GAS" "awaiting closure"

# 销号.
sc supervisor close "$GAS" --note "销号" >/dev/null
sync_ok supervisor inspector wuye
status_everywhere closed 0 false "closed"
overdue_everywhere "" "once closed"
sup_key=$(sc supervisor status | jq -r .device_key)
expect_jq "$(sc wuye show "$GAS")" .closed_by "$sup_key" "closed by the supervisor's device"
expect_jq "$(sc supervisor review)" '.awaiting_closure | length' 0 "nothing awaits closure"
# Closing it again says it is closed already, and by whom; nothing is recorded.
before=$(sc supervisor status | jq -c '{outbox, ops, replica_hash}')
expect_exit 1 "$SPOT" --db "$TMP/supervisor.db" close "$GAS" --note "again"
grep -qF "finding $GAS is already closed (销号) by supervisor: nothing changed" "$TMP/err" ||
  fail "closing a closed finding: $(cat "$TMP/err")"
expect_eq "$(sc supervisor status | jq -c '{outbox, ops, replica_hash}')" "$before" "a second closure changes nothing"

# A month on, the look-back (回头看) finds the pipe corroding again: reopened.
sc inspector revisit "$GAS" --result not_rectified --look-back --note "回头看: 管道接口再次锈蚀" >/dev/null
sync_ok inspector supervisor wuye
status_everywhere open 1 true "reopened by the look-back"
overdue_everywhere "$GAS" "after the relapse"

# The whole story is in the history, the same on every replica.
want="finding_create photo_attach rectification_report revisit photo_attach rectification_report"
want+=" revisit closure revisit"
for who in "${ALL[@]}"; do
  h=$(sc "$who" show "$GAS")
  expect_jq "$h" '[.history[].kind] | join(" ")' "$want" "history on $who"
  expect_jq "$h" '[.history[] | .valid, .state] | unique | join(" ")' "true accepted" "all valid on $who"
  expect_jq "$h" '[(.photos | length), .revisit_count] | join(" ")' "2 3" "photos and revisits on $who"
done
expect_jq "$(sc wuye show "$LIFT")" '[.status, .overdue, .reopen_count] | join(" ")' "open false 0" \
          "the other finding is untouched"
echo "ok: rectification loop"
