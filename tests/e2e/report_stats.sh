#!/usr/bin/env bash
# Statistics (docs/reports.md) from real syncd and CLI processes, on the
# register of scripts/make-register.sh with one more unit beside the
# community (其他社区, code other, and its target T-OTHER).  Four checks and
# four findings, whose figures are counted by hand below; `syncd report
# stats` over the register and the supervisor's `spotcheck report stats`
# must give exactly those, by org unit (rolled up, ranked among siblings),
# by target and by month, as JSON, CSV and a table.
source "$(dirname "$0")/cli_common.bash"

make_register
admin org add other --name "其他社区" --parent street --level community --kind residents_committee >/dev/null
admin target add T-OTHER --name "其他小区" --org other --type compound >/dev/null
start_syncd
for who in inspector supervisor wuye; do enroll "$who" "$who"; done
sync_ok inspector supervisor wuye

# C1, 君安花园小区: every item met, 100 points.  F1 general, rectified and closed today; F2 major,
# due in 14 days, open.
C1=$(new_check inspector T-JAHY)
score_sheet inspector "$C1"
F1=$(new_finding inspector "$C1" "消防通道被占用" general --deadline "$(day 3)")
new_finding inspector "$C1" "燃气管道老化" major --deadline "$(day 14)" >/dev/null
sc inspector check submit "$C1" >/dev/null
# C2, 星悦城一期: the veto item not met (its 20 points lost): 80 points, not passed.  F3 general,
# due in 7 days, open.
C2=$(new_check inspector T-XYC1)
score_sheet inspector "$C2" "no-confirmed=not_met:0"
sc inspector finding add --check "$C2" --desc "配电箱无警示标识" --grade general --responsible junan \
  --deadline "$(day 7)" >/dev/null
sc inspector check submit "$C2" >/dev/null
# C3, 君安农贸市场 (the street's): an unannounced patrol, a draft: counted, not scored.
sc inspector check open --target T-JAMKT --kind patrol --disclosure unannounced >/dev/null
# C4, 其他小区: 100 points.  F4 general, due in 5 days, rectified and closed today.
C4=$(new_check inspector T-OTHER)
score_sheet inspector "$C4"
F4=$(expect_id "$(sc inspector finding add --check "$C4" --desc "垃圾未分类" --grade general \
                  --responsible other --deadline "$(day 5)" | jq -r .id)" F4)
sc inspector check submit "$C4" >/dev/null
sync_ok inspector wuye supervisor
sc wuye rectify "$F1" --note "已清理" >/dev/null
sc supervisor rectify "$F4" --note "纸质整改报告" >/dev/null
sync_ok wuye supervisor inspector
for f in "$F1" "$F4"; do sc inspector revisit "$f" --result rectified >/dev/null; done
sync_ok inspector supervisor
for f in "$F1" "$F4"; do sc supervisor close "$f" --note "销号" >/dev/null; done
sync_ok supervisor

AS_OF=$(day 10)
# Counted by hand, as of day 10 (F3, due day 7, is the one overdue; F2, due day 14, is not):
#   君安花园物业 (T-JAHY):  checks 1 (supervisory, open), scored 1, average 100.0, pass 1/1;
#                          findings 2 (1 general, 1 major), closed 1 (F1, on time, 0 days),
#                          overdue 0, 整改率 1/2 = 0.500, reopen rate 0/1.
#   君安社区 (+ T-XYC1):   checks 2, scored 2, average (100 + 80) / 2 = 90.0, pass 1/2;
#                          findings 3 (2 general, 1 major), closed 1, overdue 1 (F3), 整改率 1/3 = 0.333.
#   其他社区 (T-OTHER):    checks 1, average 100.0, pass 1/1; findings 1, closed 1 (F4), 整改率 1.000.
#   街道 (+ T-JAMKT, and both communities): checks 4 (supervisory 3, patrol 1; open 3,
#                          unannounced 1), submitted 3, scored 3, average 280 / 3 = 93.3,
#                          pass 2/3 = 0.667; findings 4 (3 general, 1 major), closed 2 (both on
#                          time, 0 days), late 0, overdue 1, 整改率 2/4 = 0.500, look-backs 0.
#   县(区)指挥部, 市疫情防控指挥部: as the street.
#   Ranks among siblings by 整改率: 其他社区 1 of 2, 君安社区 2 of 2; the rest alone.
expect_org() { # JSON CODE "checks submitted scored avg pass findings general major closed on_time late overdue rate days reopen rank siblings"
  expect_jq "$1" ".groups[] | select(.code == \"$2\") | [.checks.total, .checks.submitted, .checks.scored,
    .checks.average_score, .checks.pass_rate, .findings.total, .findings.general, .findings.major,
    .findings.closed, .findings.on_time, .findings.late, .findings.overdue,
    .findings.rectification_rate, .findings.mean_days_to_close, .findings.reopen_rate, .rank,
    .siblings] | map(tostring) | join(\" \")" "$3" "$2 in $4"
}
check_orgs() { # JSON WHERE
  expect_org "$1" junan-garden "1 1 1 100 1 2 1 1 1 1 0 0 0.5 0 0 1 1" "$2"
  expect_org "$1" junan "2 2 2 90 0.5 3 2 1 1 1 0 1 0.333 0 0 2 2" "$2"
  expect_org "$1" other "1 1 1 100 1 1 1 0 1 1 0 0 1 0 0 1 2" "$2"
  for org in street county city; do
    expect_org "$1" "$org" "4 3 3 93.3 0.667 4 3 1 2 2 0 1 0.5 0 0 1 1" "$2"
  done
  expect_jq "$1" '.groups[] | select(.code == "street") | [.checks.by_kind.supervisory, .checks.by_kind.patrol,
    .checks.by_disclosure.open, .checks.by_disclosure.unannounced, .findings.look_backs] | join(" ")' \
    "3 1 3 1 0" "the street's checks by kind and disclosure in $2"
  expect_jq "$1" '[.groups[] | .code] | join(" ")' "city county street junan junan-garden other" \
    "tree order in $2"
}

reg=$("$SYNCD" report stats --data "$DATA" --json --as-of "$AS_OF")
check_orgs "$reg" "syncd report stats"
sup=$(sc supervisor report stats --as-of "$AS_OF")
check_orgs "$sup" "the supervisor's report stats"

# By target: the same checks and findings, one group each.
t=$("$SYNCD" report stats --data "$DATA" --json --by target --as-of "$AS_OF")
expect_jq "$t" '[.groups[] | "\(.code):\(.checks.total)/\(.findings.total)/\(.findings.closed)"] | join(" ")' \
  "T-JAHY:1/2/1 T-JAMKT:1/0/0 T-OTHER:1/1/1 T-XYC1:1/1/0" "by target"
# By month: everything found this month, one group.
m=$(sc supervisor report stats --by month --as-of "$AS_OF")
expect_jq "$m" '[.groups[] | "\(.period) \(.checks.total) \(.findings.total) \(.findings.rectification_rate)"] | join(",")' \
  "$(date -u +%Y-%m-01) 4 4 0.5" "by month"
# A period with nothing in it: every unit shown, with nothing counted and no rates.
e=$("$SYNCD" report stats --data "$DATA" --json --period 2001 --as-of "$AS_OF")
expect_jq "$e" '[.groups[] | .findings.total] | add' 0 "an empty period"
expect_jq "$e" '.groups[0] | [.checks.average_score, .findings.rectification_rate, .rank] | map(tostring) | join(" ")' \
  "null null null" "no rates over nothing"

# CSV and the table say the same.
"$SYNCD" report stats --data "$DATA" --format csv --lang en --as-of "$AS_OF" >"$TMP/stats.csv"
head -c 3 "$TMP/stats.csv" | od -An -tx1 | grep -q "ef bb bf" || fail "the CSV has no BOM"
grep -q "^街道,4,3,1,0,93.3,66.7%,4,3,1,2,2,0,1,50.0%,0.0,0,0.0%,1/1" "$TMP/stats.csv" ||
  fail "the street's CSV line: $(grep 街道 "$TMP/stats.csv")"
"$SPOT" --db "$TMP/supervisor.db" report stats --as-of "$AS_OF" >"$TMP/table"
grep -q "^    街道 .* 50\.0% .* 1/1$" "$TMP/table" || fail "the street in the table: $(cat "$TMP/table")"
awk '{ print length($0) }' "$TMP/table" >/dev/null

# Bad values: refused naming the valid ones.
expect_exit 2 "$SYNCD" report stats --data "$DATA" --by year
grep -qF 'by "year" is not valid: one of org, target, day, week, month, quarter' "$TMP/err" ||
  fail "bad --by: $(cat "$TMP/err")"
expect_exit 1 "$SPOT" --db "$TMP/supervisor.db" report stats --format pdf
grep -qF 'format "pdf" is not valid: one of table, json, csv' "$TMP/err" || fail "bad --format: $(cat "$TMP/err")"
log_size >/dev/null
