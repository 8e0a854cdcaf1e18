#!/usr/bin/env bash
# (a) An unannounced check (暗访).  The supervisor plans it; the responsible
# unit syncs and does not see it.  The inspector, offline, scores the
# 100-point 无疫 sheet, records three findings from DOMAIN.md §11 (one a
# major hazard) with photos, submits, and only then syncs.  Now the
# supervisor and the unit see the inspection, its score, pass/fail and the
# findings; the plan itself stays hidden from the unit.  A second check
# shows the veto item (一票否决) failing a sheet whose points would pass.
source "$(dirname "$0")/cli_common.bash"

start_with inspector supervisor wuye

# The plan, made by the supervisor on his own device and signed by it.
DUE=$(day 7)
ASG=$(expect_id "$(sc supervisor assign --target T-JAHY --inspector inspector --kind spot \
      --disclosure unannounced --due "$DUE" --template "$TEMPLATE" --note "暗访: 无疫小区测评" |
      jq -r .id)" assign)
# An open check of 星悦城一期 was planned by the office (syncd admin), due
# yesterday: overdue until it is done.
LATE=$(expect_id "$(admin assign --target T-XYC1 --inspector inspector --kind spot --disclosure open \
       --due "$(day -1)" --template "$TEMPLATE@1")" assign)
sync_ok supervisor inspector wuye
expect_jq "$(sc inspector list assignments --overdue)" '[.items[].id] | join(" ")' "$LATE" "the late plan"
for who in inspector supervisor; do
  plan=$(sc "$who" list assignments --target T-JAHY)
  expect_jq "$plan" '.items | length' 1 "$who sees the plan"
  expect_jq "$plan" '.items[0] | [.id, .disclosure, .target, .due, .done] | join(" ")' \
            "$ASG unannounced T-JAHY $DUE false" "the plan on $who"
done
expect_jq "$(sc wuye list assignments)" '.items | length' 0 "the unit does not see the plan"

# Offline from here: the inspector opens the check from the plan and scores the sheet.
CHECK=$(expect_id "$(sc inspector check open --assignment "$ASG" | jq -r .id)" "check open")
shown=$(sc inspector show "$CHECK")
expect_jq "$shown" '[.status, .kind, .disclosure, .target, .template, .assignment] | join(" ")' \
          "draft spot unannounced T-JAHY $TEMPLATE $ASG" "the check takes the plan's terms"
# Nine items scored: incomplete, so not passed whatever the points.
score_sheet inspector "$CHECK" "sanitation=not_met:6:电梯公共区域未按每2小时消毒并记录" \
            "records=not_met:0:进出人员登记缺少籍贯、来去方向、交通方式" "duty=-"
c=$(sc inspector list checks | jq '.items[0]')
expect_jq "$c" '[.results, .complete, .passed] | join(" ")' "9 false false" "nine of ten items"
sc inspector check score "$CHECK" --item duty --status met --note "值班表齐全" >/dev/null
c=$(sc inspector list checks | jq '.items[0]')
expect_jq "$c" '[.score, .max, .pass_mark, .complete, .passed, .vetoed] | join(" ")' \
          "91 100 80 true true false" "the sheet: 100 - 4 (sanitation) - 5 (records)"

# Three findings of DOMAIN.md §11, one a major hazard (重大隐患), with photos.
photo "$TMP/fire-lane.jpg" "fire lane blocked by parked cars"
photo "$TMP/gas-pipe.jpg" "corroded gas pipe, no inspection tag"
photo "$TMP/gas-tag.jpg" "inspection tag expired 2024"
photo "$TMP/entrance.jpg" "the compound's entrance"
F_LANE=$(new_finding inspector "$CHECK" "小区消防通道被车辆占用" general --category FIRE_LANE \
         --location "3号楼北侧消防通道" --deadline "$(day 3)" --photo "$TMP/fire-lane.jpg")
F_GAS=$(new_finding inspector "$CHECK" "燃气管道老化未按期检验" major --category GAS \
        --location "地下车库燃气总阀" --deadline "$(day 14)")
sc inspector photo add "$F_GAS" "$TMP/gas-pipe.jpg" --caption "管道锈蚀" >/dev/null
sc inspector photo add "$F_GAS" "$TMP/gas-tag.jpg" --caption "检验标签过期" >/dev/null
F_LIFT=$(new_finding inspector "$CHECK" "电梯公共区域未按每2小时消毒并记录" general \
         --category DISINFECTION --item sanitation --deadline "$(day 7)")
sc inspector photo add "$CHECK" "$TMP/entrance.jpg" --caption "小区入口" >/dev/null
sc inspector check submit "$CHECK" --remarks "暗访, 未提前通知" >/dev/null
# 1 open + 10 scores + 3 findings + 4 photos (evidence named at creation is attached by its
# own op) + 3 notices (限期整改通知, issued at submission) + 1 submit, all still on the tablet.
expect_jq "$(sc inspector status)" '[.outbox, .photos_pending_upload] | join(" ")' "22 4" "the outbox"

# Nothing has left the tablet: the others see no check yet.
sync_ok supervisor wuye
for who in supervisor wuye; do
  expect_jq "$(sc "$who" list checks)" '.items | length' 0 "$who before the inspector syncs"
done

out=$(sc inspector sync)
expect_jq "$out" '[.pushed, .accepted, (.rejected | length), .photos_uploaded] | join(" ")' \
          "22 22 0 4" "the inspector's sync"
expect_jq "$(sc inspector status)" '[.outbox, .photos_pending_upload] | join(" ")' "0 0" "outbox drained"

# The supervisor and the responsible unit now see the check, its score and the findings.
for who in supervisor wuye; do
  out=$(sc "$who" sync)
  expect_jq "$out" .photos_downloaded 4 "photos reach $who"
  c=$(sc "$who" list checks)
  expect_jq "$c" '.items | length' 1 "$who sees one check"
  expect_jq "$c" '.items[0] | [.id, .status, .disclosure, .score, .max, .passed, .vetoed, .photos] | join(" ")' \
            "$CHECK submitted unannounced 91 100 true false 1" "the check on $who"
  shown=$(sc "$who" show "$CHECK")
  expect_jq "$shown" '[.results[] | select(.status == "not_met") | "\(.item):\(.points)"] | sort | join(" ")' \
            "records:0 sanitation:6" "the items not met, on $who"
  expect_jq "$shown" '.findings | length' 3 "the check lists its findings on $who"
  f=$(sc "$who" list findings)
  expect_jq "$f" '.items | length' 3 "$who sees three findings"
  expect_jq "$f" '[.items[] | .status] | unique | join(" ")' open "all open on $who"
  expect_jq "$f" '[.items[] | select(.grade == "major") | .id] | join(" ")' "$F_GAS" \
            "the one major hazard on $who"
  expect_jq "$f" '[.items[] | .overdue, .evidence_pending] | unique | join(" ")' false \
            "none overdue, no photo missing on $who"
  expect_jq "$f" '[.items[] | .responsible] | unique | join(" ")' junan-garden "responsible unit on $who"
  expect_jq "$(sc "$who" show "$F_GAS")" '[.description, .category, (.photos | length)] | join(" ")' \
            "燃气管道老化未按期检验 GAS 2" "the gas pipeline finding on $who"
  expect_jq "$(sc "$who" show "$F_LANE")" '.evidence | length' 1 "the fire lane photo on $who"
  expect_jq "$(sc "$who" show "$F_LIFT")" .item sanitation "the disinfection finding's item on $who"
done
# The plan is done; the unit still never sees it.
expect_jq "$(sc supervisor list assignments --target T-JAHY)" '.items[0].done' true "the plan is done"
expect_jq "$(sc wuye list assignments)" '.items | length' 0 "the plan stays hidden from the unit"
sync_ok inspector
expect_jq "$(sc inspector list assignments --status open)" '[.items[].id] | join(" ")' "$LATE" \
          "one plan left to do"

# The late plan, and the veto: 星悦城一期 loses only the 20 points of 无确诊病例
# (80 = the pass mark) and still fails, because that item is 一票否决.
VETO=$(expect_id "$(sc inspector check open --assignment "$LATE" | jq -r .id)" "check open")
score_sheet inspector "$VETO" "no-confirmed=not_met:0:辖区内报告确诊病例1例"
sc inspector check submit "$VETO" >/dev/null
sync_ok inspector supervisor wuye
c=$(sc supervisor list checks --target T-XYC1)
expect_jq "$c" '.items[0] | [.score, .pass_mark, .complete, .vetoed, .veto_item, .passed] | join(" ")' \
          "80 80 true true no-confirmed false" "a veto item not met fails the sheet"
"$SPOT" --db "$TMP/supervisor.db" list checks --target T-XYC1 | grep -q "80/100 not passed" ||
  fail "the people's list shows the failed sheet"
expect_jq "$(sc wuye list checks)" '[.items[].target] | join(" ")' T-JAHY \
          "星悦城一期 is outside the unit's scope"
expect_jq "$(sc inspector list assignments --overdue)" '.items | length' 0 "done is never overdue"
# People's output: one line per finding, Chinese passed through.
"$SPOT" --db "$TMP/wuye.db" list findings | grep "$F_GAS" | grep -q "major.*燃气管道老化未按期检验" ||
  fail "the unit's list for people"
echo "ok: unannounced check"
