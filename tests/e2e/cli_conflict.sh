#!/usr/bin/env bash
# Offline edits that collide: two tablets change a finding's deadline at the
# same time; after both sync every replica shows the same conflict, the
# supervisor resolves it with a signed op, and the conflict is gone
# everywhere.  A closure that collides with a failing revisit loses (safety
# wins) and is acknowledged with `resolve --field status`.
source "$(dirname "$0")/cli_common.bash"

make_register
start_syncd
enroll li li
enroll li2 li          # the same inspector's second tablet
enroll wang wang
for r in li li2 wang; do sc $r sync >/dev/null; done

CHECK=$(sc li check open --target T1 --kind patrol --disclosure open | jq -r .id)
FINDING=$(sc li finding add --check "$CHECK" --desc "电梯公共区域未按每2小时消毒" --grade general \
          --deadline 2030-06-01 --responsible unit-a | jq -r .id)
sc li check submit "$CHECK" >/dev/null
sc li sync >/dev/null
sc li2 sync >/dev/null
sc wang sync >/dev/null

# Both tablets edit offline, then sync.
sc li finding set "$FINDING" --deadline 2030-06-10 >/dev/null
sc li2 finding set "$FINDING" --deadline 2030-06-20 >/dev/null
sc li sync >/dev/null
sc li2 sync >/dev/null
sc li sync >/dev/null
sc wang sync >/dev/null
for r in li li2 wang; do
  c=$(sc $r conflicts)
  expect_eq "$(jq '.items | length' <<<"$c")" 1 "conflicts on $r"
  expect_eq "$(jq -r '.items[0].conflicts[0].field' <<<"$c")" deadline "conflict field on $r"
  expect_eq "$(jq -c '.items[0].conflicts[0].values | sort' <<<"$c")" '["2030-06-10","2030-06-20"]' \
            "conflict values on $r"
done
# Every replica settled on the same value (last writer in fold order).
d1=$(sc li show "$FINDING" | jq -r .deadline)
expect_eq "$(sc li2 show "$FINDING" | jq -r .deadline)" "$d1" "same value everywhere"
expect_eq "$(sc wang review | jq '.conflicts | length')" 1 "review shows the conflict"

sc wang resolve "$FINDING" --field deadline --value 2030-06-15 >/dev/null
out=$(sc wang sync)
expect_eq "$(jq .conflicts <<<"$out")" 0 "no conflicts after resolving"
for r in li li2; do
  sc $r sync >/dev/null
  expect_eq "$(sc $r conflicts | jq '.items | length')" 0 "resolved on $r"
  expect_eq "$(sc $r show "$FINDING" | jq -r .deadline)" 2030-06-15 "resolved value on $r"
done

# Safety wins: report, verify, then offline a closure races a failing look-back.
enroll zhao zhao
sc zhao sync >/dev/null
sc zhao rectify "$FINDING" --note 已消毒并记录 >/dev/null
sc zhao sync >/dev/null
sc li sync >/dev/null
sc li revisit "$FINDING" --result rectified >/dev/null
sc li sync >/dev/null
sc wang sync >/dev/null
sc wang close "$FINDING" >/dev/null                                            # offline
sc li2 sync >/dev/null
sc li2 revisit "$FINDING" --result not_rectified --look-back --note 回头看 >/dev/null  # offline
sc wang sync >/dev/null
sc li2 sync >/dev/null
sc wang sync >/dev/null
shown=$(sc wang show "$FINDING")
expect_eq "$(jq -r .status <<<"$shown")" open "the failing look-back beats the closure"
expect_eq "$(jq -r '.conflicts[] | select(.field == "status") | .field' <<<"$shown")" status \
          "the overruled closure is a conflict"
sc wang resolve "$FINDING" --field status >/dev/null
sc wang sync >/dev/null
expect_eq "$(sc wang show "$FINDING" | jq '[.conflicts[] | select(.field == "status")] | length')" 0 \
          "status conflict acknowledged"
expect_eq "$(sc wang show "$FINDING" | jq -r .status)" open "still open"
echo "ok: conflicts"
