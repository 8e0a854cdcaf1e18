#!/usr/bin/env bash
# The work plans' own score sheets (tests/vectors/templates, from
# /work/shared/seeds), published with `syncd admin template add` and scored
# with the CLI: sections, sub-items (八有, 5+5+5+3+2), a deduction item (扣2分),
# grade bands (达标/精美), an item that needs a photo when not met, measured
# values and 易反弹, and a sheet's next version beside checks of the old one.
# Every total below is counted by hand from the seed text, in its comment;
# syncd, the scoring tablet and a second tablet that only pulls agree on it.
# The refusals (a deduction below zero, points over a sub-item's maximum, a
# sheet whose sub-items exceed their item, a submission without the photo)
# leave nothing recorded.
source "$(dirname "$0")/cli_common.bash"

V=$SC_SOURCE_DIR/tests/vectors/templates
make_register
admin template add "$V/no-epidemic-community.json" >/dev/null
admin template add "$V/no-epidemic-unit.json" >/dev/null
admin template add "$V/zongzhi-liangjian.json" >/dev/null

# A sheet whose sub-items add up past their item (5+5+5+3+3 = 21 > 20) is refused.
jq '.code = "over" | (.items[] | select(.code == "rtw-personal") | .max_points) = 3' \
  "$V/no-epidemic-unit.json" >"$TMP/over.json"
rc=0
admin template add "$TMP/over.json" >"$TMP/out" 2>"$TMP/err" || rc=$?
[[ $rc -ne 0 ]] || fail "a sheet whose sub-items exceed their item was published"
grep -q "sub-items add up to 21 points, over the item's 20" "$TMP/err" || fail "over: $(cat "$TMP/err")"
# A sub-item of a sub-item, and a grade band out of order, are refused too.
jq '.code = "nested" | (.items[] | select(.code == "rtw-meals") | .parent) = "rtw-entering"' \
  "$V/no-epidemic-unit.json" >"$TMP/nested.json"
admin template add "$TMP/nested.json" >/dev/null 2>"$TMP/err" && fail "nested sub-items published"
grep -q "is a sub-item itself" "$TMP/err" || fail "nested: $(cat "$TMP/err")"
jq '.code = "bands" | .grades = [{"name": "精美", "min_points": 95}, {"name": "达标", "min_points": 80}]' \
  "$V/no-epidemic-community.json" >"$TMP/bands.json"
admin template add "$TMP/bands.json" >/dev/null 2>"$TMP/err" && fail "bands out of order published"
grep -q "not above the band before" "$TMP/err" || fail "bands: $(cat "$TMP/err")"

start_syncd
enroll inspector inspector
enroll auditor auditor
sync_ok inspector auditor

# The community sheet as the tablet shows it: sections, the 八有 sub-items, bands, the campaign rule.
sheet=$(sc inspector show no-epidemic-community)
expect_jq "$sheet" '.max_total' 100 "the community sheet adds up to 100 (10 + 5+5+5+5+10+10+20 + 30)"
expect_jq "$sheet" '[.items[] | select(.parent == "eight-haves") | .max_points] | add' 20 "八有 as sub-items"
expect_jq "$sheet" '[.grades[] | "\(.name)=\(.min_points)"] | join(" ")' "达标=80 精美=95" "grade bands"
expect_jq "$sheet" '.aggregate | "\(.min_percent) \(.target_types | join(","))"' "80 community,village" \
  "the campaign rule (002 L30)"
expect_jq "$sheet" '.items[] | select(.code == "sanitation") | .photo_if_not_met' true "photo rule"

# ---- Check A on the community sheet (002 L249-268), counted by hand:
#   组织管理  org met                                   10 / 10
#   防控措施  plan met 5, fever-screening met --points 3 3,
#             closed-management not met 0, publicity met 5,
#             market-checkpoints met 10, sanitation not met --points 4 4,
#             八有: mechanism 3, protection 3, temperature 3, disinfection not met 0,
#                   education 2, supplies 2, reporting n.a. (out: max 20-2 = 18), cleaning 2
#                   = 15 / 18
#             5+3+0+5+10+4+15 = 42                      42 / 58
#   防控效果  no-new-cases met                           30 / 30
#   total 10+42+30 = 82 of 98 applicable (100 on the sheet): 82*100 >= 80*98 passes;
#   达标 (80: 8200 >= 7840) but not 精美 (95: 8200 < 9310).
A=$(expect_id "$(sc inspector check open --target T-JAHY --kind supervisory --disclosure open \
                 --template no-epidemic-community | jq -r .id)" "check A")
score() { sc inspector check score "$A" "$@" >/dev/null; }
score --item org --status met
score --item plan --status met
score --item fever-screening --status met --points 3
score --item closed-management --status not_met --measured "3 of 5 gates unattended"
score --item publicity --status met --relapse-prone --note "海报已褪色"
score --item market-checkpoints --status met --measured "36.4"
score --item sanitation --status not_met --points 4
for s in mechanism protection temperature education supplies cleaning; do score --item "eh-$s" --status met; done
score --item eh-disinfection --status not_met
score --item eh-reporting --status na
score --item no-new-cases --status met

before=$(sc inspector status | jq -c '{outbox, ops}')
# An item with sub-items is scored by them; points over a sub-item's maximum; a deduction
# on an item scored by points; all refused with nothing recorded.
expect_exit 1 sc inspector check score "$A" --item eight-haves --status met
grep -q "scored by its sub-items" "$TMP/err" || fail "a parent item: $(cat "$TMP/err")"
expect_exit 1 sc inspector check score "$A" --item eh-education --status met --points 3
grep -q "3 points, the item has 0 to 2" "$TMP/err" || fail "over a sub-item: $(cat "$TMP/err")"
expect_exit 1 sc inspector check score "$A" --item plan --status met --deduct 1
grep -q "not by deduction" "$TMP/err" || fail "deduction on an earned item: $(cat "$TMP/err")"
# sanitation is not met and needs a photo of it: the submission is refused until there is one.
expect_exit 1 sc inspector check submit "$A"
grep -q "item sanitation is not met and needs a photo" "$TMP/err" || fail "photo rule: $(cat "$TMP/err")"
expect_eq "$(sc inspector status | jq -c '{outbox, ops}')" "$before" "refusals recorded nothing"
# A photo of another item, or of an item not on the sheet, does not do.
photo "$TMP/a.jpg" "垃圾未清理"
sc inspector photo add "$A" "$TMP/a.jpg" --item publicity >/dev/null
expect_exit 1 sc inspector check submit "$A"
expect_exit 3 sc inspector photo add "$A" "$TMP/a.jpg" --item sanitaton
grep -q "its items: org, plan" "$TMP/err" || fail "photo item codes: $(cat "$TMP/err")"
sc inspector photo add "$A" "$TMP/a.jpg" --item sanitation --caption "垃圾未清理" >/dev/null

out=$(sc inspector show "$A")
expect_jq "$out" '[.score, .applicable_max, .max, .passed, .grade_band] | join(" ")' "82 98 100 true 达标" \
  "check A as counted by hand"
expect_jq "$out" '[.sections[] | "\(.section)=\(.points)/\(.max)"] | join(" ")' \
  "组织管理=10/10 防控措施=42/58 防控效果=30/30" "check A by section"
expect_jq "$out" '.sections[1].items[] | select(.code == "eight-haves") | "\(.points)/\(.max) \(.sub_items | length)"' \
  "15/18 8" "八有 from its sub-items"
expect_jq "$out" '.results[] | select(.item == "publicity") | .relapse_prone' true "易反弹 kept"
expect_jq "$out" '.results[] | select(.item == "market-checkpoints") | .measured' 36.4 "measured value kept"
expect_jq "$out" '.unscored | length' 0 "nothing left to score"
sc inspector check submit "$A" >/dev/null

# ---- Check B on the unit sheet (002 L271-290), counted by hand:
#   everything met at full points (10 + 10+10+5+5+5+5 + 30 = 80) but 返岗 (20):
#   commute 5, entering --points 3 3, meals not met 0, exercise 3, personal 2 = 13 / 20
#   total 80 + 13 = 93 of 100: passes; the sheet has no bands.
B=$(expect_id "$(sc inspector check open --target T-JAMKT --kind supervisory --disclosure open \
                 --template no-epidemic-unit | jq -r .id)" "check B")
for i in task-force main-responsibility health-monitoring canteen dormitory workplace hygiene-safety \
  rtw-commute rtw-exercise rtw-personal no-new-cases; do
  sc inspector check score "$B" --item "$i" --status met >/dev/null
done
sc inspector check score "$B" --item rtw-entering --status met --points 3 >/dev/null
sc inspector check score "$B" --item rtw-meals --status not_met >/dev/null
sc inspector check submit "$B" >/dev/null
out=$(sc inspector show "$B")
expect_jq "$out" '[.score, .max, .passed, .grade_band // "-"] | join(" ")' "93 100 true -" "check B as counted by hand"

# ---- Check C on 综治 亮剑 (001 L463: 未按要求开展的记扣2分; 失职致问题突出则一票否决):
#   carried-out not met, deduct 2 of its 2: 0; no-security-failure met: 0.  total 0 of 2, passes
#   (pass mark 0).  Deducting 3 would score it below zero: refused; points on it: refused.
C=$(expect_id "$(sc inspector check open --target T-XYC1 --kind supervisory --disclosure open \
                 --template zongzhi-liangjian | jq -r .id)" "check C")
expect_exit 1 sc inspector check score "$C" --item carried-out --status not_met --deduct 3
grep -q "deducting 3 from its 2 points would score it below zero" "$TMP/err" || fail "below zero: $(cat "$TMP/err")"
expect_exit 1 sc inspector check score "$C" --item carried-out --status met --points 1
grep -q "scored by deduction" "$TMP/err" || fail "points on a deduction item: $(cat "$TMP/err")"
expect_exit 1 sc inspector check score "$C" --item carried-out --status met --deduct -1
grep -q "never below zero" "$TMP/err" || fail "a negative deduction: $(cat "$TMP/err")"
sc inspector check score "$C" --item carried-out --status not_met --deduct 2 >/dev/null
sc inspector check score "$C" --item no-security-failure --status met >/dev/null
expect_jq "$(sc inspector show "$C")" '[.score, .max, .passed] | join(" ")' "0 2 true" "check C: 2 - 2 = 0"
# One deducted: 2 - 1 = 1.
sc inspector check score "$C" --item carried-out --status met --deduct 1 >/dev/null
expect_jq "$(sc inspector show "$C")" '.score' 1 "check C: 2 - 1 = 1"
# The veto item not met fails the sheet whatever the total.
sc inspector check score "$C" --item no-security-failure --status not_met >/dev/null
expect_jq "$(sc inspector show "$C")" '[.passed, .vetoed, .veto_item] | join(" ")' "false true no-security-failure" \
  "一票否决"
sc inspector check submit "$C" >/dev/null

sync_ok inspector
# syncd judged the same: nothing rejected, and the auditor's tablet scores the same figures.
sync_ok auditor
for x in "$A:82 达标" "$B:93 " "$C:1 "; do
  expect_jq "$(sc auditor show "${x%%:*}")" '"\(.score) \(.grade_band // "")"' "${x#*:}" "the auditor's replica"
done

# ---- A new version of the community sheet keeps check A valid on version 1.
jq '.version = 2 | .items |= map(select(.code != "market-checkpoints")) |
    (.items[] | select(.code == "no-new-cases") | .max_points) = 40' \
  "$V/no-epidemic-community.json" >"$TMP/v2.json"
admin template add "$TMP/v2.json" >/dev/null
sync_ok inspector
expect_jq "$(sc inspector show "$A")" '[.score, .applicable_max, .grade_band] | join(" ")' "82 98 达标" \
  "check A keeps version 1's score"
D=$(expect_id "$(sc inspector check open --target T-JAHY --kind supervisory --disclosure open \
                 --template no-epidemic-community | jq -r .id)" "check D")
expect_jq "$(sc inspector show "$D")" '[.unscored[].code] | index("market-checkpoints")' null \
  "a new check takes version 2"
expect_jq "$(sc inspector list templates)" '[.items[] | select(.code == "no-epidemic-community") | .version] | sort | join(",")' \
  "1,2" "both versions listed"

log_size >/dev/null
echo "OK"
