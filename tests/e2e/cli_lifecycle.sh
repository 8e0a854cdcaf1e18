#!/usr/bin/env bash
# An unannounced spot check from an assignment to 销号, across three devices
# and a real syncd: the inspector records offline and syncs; the responsible
# unit sees the finding only once the inspection is submitted, reports with
# a photo; the inspector verifies; the supervisor closes.  Every replica and
# an export bundle verify at the end.
source "$(dirname "$0")/cli_common.bash"

make_register
start_syncd
enroll li li
enroll wang wang
enroll zhao zhao

# The plan: an unannounced check of T1, due in the past (so it shows overdue).
ASG=$(admin assign --target T1 --inspector li --kind spot --disclosure unannounced \
      --due 2020-01-01 --template "$TEMPLATE" --note 暗访)
[[ $ASG =~ ^[0-9a-f]{32}$ ]] || fail "assign printed '$ASG'"

sc li sync >/dev/null
sc zhao sync >/dev/null
expect_eq "$(sc li list assignments | jq -r '.items[0].id')" "$ASG" "inspector sees the plan"
expect_eq "$(sc li list assignments --overdue | jq '.items | length')" 1 "plan is overdue"
expect_eq "$(sc zhao list assignments | jq '.items | length')" 0 "the unit never sees an unannounced plan"

# Offline from here: the inspector records.
CHECK=$(sc li check open --assignment "$ASG" | jq -r .id)
[[ $CHECK =~ ^[0-9a-f]{32}$ ]] || fail "check open: $CHECK"
for item in 1 2 3 4 5 6 8 9 10; do
  sc li check score "$CHECK" --item "$item" --status met >/dev/null
done
sc li check score "$CHECK" --item 7 --status not_met --points 4 --note "垃圾箱外溢" >/dev/null
printf '\xff\xd8\xff\xe0 before photo of the fire lane' >"$TMP/before.jpg"
FINDING=$(sc li finding add --check "$CHECK" --desc "小区消防通道被车辆占用" --grade general \
          --category FIRE_LANE --item 7 --deadline 2020-01-31 --responsible unit-a | jq -r .id)
[[ $FINDING =~ ^[0-9a-f]{32}$ ]] || fail "finding add: $FINDING"
SHA=$(sc li photo add "$FINDING" "$TMP/before.jpg" | jq -r .sha256)
expect_eq "$SHA" "$(sha256sum "$TMP/before.jpg" | cut -d' ' -f1)" "photo address is its sha256"
sc li check submit "$CHECK" >/dev/null
expect_eq "$(sc li status | jq .outbox)" 14 "outbox before sync"

out=$(sc li sync)
expect_eq "$(jq .pushed <<<"$out")" 14 "pushed"
expect_eq "$(jq .accepted <<<"$out")" 14 "accepted"
expect_eq "$(jq '.rejected | length' <<<"$out")" 0 "rejected"
expect_eq "$(jq .photos_uploaded <<<"$out")" 1 "photos uploaded"
[[ $(jq -r .checkpoint.root <<<"$out") =~ ^[0-9a-f]{64}$ ]] || fail "checkpoint: $out"
expect_eq "$(sc li status | jq .outbox)" 0 "outbox after sync"

checks=$(sc li list checks)
expect_eq "$(jq '.items[0].score' <<<"$checks")" 94 "score"
expect_eq "$(jq '.items[0].max' <<<"$checks")" 100 "max"
expect_eq "$(jq '.items[0].passed' <<<"$checks")" true "passed"
expect_eq "$(jq -r '.items[0].status' <<<"$checks")" submitted "check status"

shown=$(sc li show "$FINDING")
expect_eq "$(jq -r .type <<<"$shown")" finding "type"
[[ $(jq -r '.history[0].op' <<<"$shown") =~ ^[0-9a-f]{64}$ ]] || fail "history op id"
jq -e '.history | all(.log_index != null)' <<<"$shown" >/dev/null || fail "log indexes after sync"

# The responsible unit: the finding is visible now that the check is submitted.
out=$(sc zhao sync)
[[ $(jq .pulled <<<"$out") -gt 0 ]] || fail "zhao pulled nothing: $out"
expect_eq "$(jq .photos_downloaded <<<"$out")" 1 "photo downloaded"
f=$(sc zhao list findings | jq ".items[] | select(.id == \"$FINDING\")")
expect_eq "$(jq -r .status <<<"$f")" open "status at the unit"
expect_eq "$(jq .overdue <<<"$f")" true "overdue"
expect_eq "$(jq .evidence_pending <<<"$f")" false "evidence present"
expect_eq "$(jq -r .grade <<<"$f")" general "grade"
expect_eq "$(jq -r .deadline <<<"$f")" 2020-01-31 "deadline"
expect_eq "$(sc zhao list findings --overdue --target T1 | jq '.items | length')" 1 "overdue filter"
expect_eq "$(sc zhao list checks | jq '.items | length')" 1 "the unit sees the submitted check"

printf '\x89PNG\r\n\x1a\n after photo' >"$TMP/after.png"
sc zhao rectify "$FINDING" --note "车辆已挪走, 设置禁停标识" --photo "$TMP/after.png" >/dev/null
out=$(sc zhao sync)
expect_eq "$(jq .accepted <<<"$out")" 2 "photo and report accepted"

# The inspector revisits and verifies; the supervisor closes (销号).
sc li sync >/dev/null
expect_eq "$(sc li show "$FINDING" | jq -r .status)" submitted "after the report"
sc li revisit "$FINDING" --result rectified --note 复查合格 >/dev/null
sc li sync >/dev/null
sc wang sync >/dev/null
expect_eq "$(sc wang review | jq -r '.awaiting_closure[0].id')" "$FINDING" "review queue"
sc wang close "$FINDING" --note 销号 >/dev/null
sc wang sync >/dev/null
sc li sync >/dev/null
shown=$(sc li show "$FINDING")
expect_eq "$(jq -r .status <<<"$shown")" closed "closed"
expect_eq "$(jq .overdue <<<"$shown")" false "closed is not overdue"
expect_eq "$(jq .reopen_count <<<"$shown")" 0 "reopen count"

# People's output passes Chinese through.
"$SPOT" --db "$TMP/li.db" show "$FINDING" | grep -q "小区消防通道被车辆占用" || fail "human output"

# Every replica checks out on its own, and so does the server's export.
for r in li wang zhao; do
  expect_eq "$(sc $r verify | jq .ok)" true "verify $r"
done
"$SYNCD" export --data "$DATA" --out "$TMP/export.bundle" >/dev/null
out=$("$SPOT" --json verify-bundle "$TMP/export.bundle")
expect_eq "$(jq .ok <<<"$out")" true "verify-bundle"
[[ $(jq .entries <<<"$out") -gt 20 ]] || fail "bundle entries: $out"
echo "ok: lifecycle"
