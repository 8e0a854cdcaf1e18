#!/usr/bin/env bash
# (c) Concurrent edits.  Two inspectors change the same finding's category
# offline; both sync (its deadline, once the notice is issued, moves only by
# an extension or a supervisor: tests/e2e/governance_b_extension_acceptance.sh).  Every replica shows the same value (last writer in
# fold order) and the same conflict (field, both values with the one in
# effect first, both ops); the supervisor resolves it with a signed op and
# the conflict is gone everywhere.  Edits that agree raise nothing.
source "$(dirname "$0")/cli_common.bash"

ALL=(inspector inspector2 supervisor wuye)
start_with "${ALL[@]}"
LIFT=$(submitted_finding inspector "电梯公共区域未按每2小时消毒并记录" general --category DISINFECTION \
       --deadline "$(day 10)")
sync_ok "${ALL[@]}"

# Offline, each inspector files it under a different category.
D1=ENTRY_CONTROL
D2=SANITATION
sc inspector finding set "$LIFT" --category "$D1" >/dev/null
sc inspector2 finding set "$LIFT" --category "$D2" >/dev/null
edit_op() { sc "$1" show "$LIFT" | jq -r '.history[] | select(.kind == "field_edit" and .local) | .op'; }
OP1=$(edit_op inspector)
OP2=$(edit_op inspector2)
sync_ok inspector inspector2 inspector supervisor wuye

# The same value and the same conflict everywhere.
IN_EFFECT=$(sc supervisor show "$LIFT" | jq -r .category)
[[ $IN_EFFECT == "$D1" || $IN_EFFECT == "$D2" ]] || fail "category in effect: $IN_EFFECT"
want_ops=$(printf '%s\n' "$OP1" "$OP2" | sort | paste -sd' ')
for who in "${ALL[@]}"; do
  shown=$(sc "$who" show "$LIFT")
  expect_jq "$shown" .category "$IN_EFFECT" "the category in effect on $who"
  expect_jq "$shown" '.conflicts | length' 1 "one conflict on $who"
  expect_jq "$shown" '.conflicts[0].field' category "the conflict's field on $who"
  expect_jq "$shown" '.conflicts[0].values[0]' "$IN_EFFECT" "the value in effect comes first on $who"
  expect_jq "$shown" '.conflicts[0].values | sort | join(" ")' "$D1 $D2" "both values on $who"
  expect_jq "$shown" '.conflicts[0].ops | sort | join(" ")' "$want_ops" "both edits on $who"
  inbox=$(sc "$who" conflicts)
  expect_jq "$inbox" '[.items[] | "\(.id) \(.type) \(.conflicts[0].field)"] | join(",")' \
            "$LIFT finding category" "the conflict inbox on $who"
done
expect_jq "$(sc supervisor review)" '[.conflicts[].id] | join(" ")' "$LIFT" "the review queue"

# The supervisor settles it with a third value; the resolve has both edits in its past.
D3=DISINFECTION
sc supervisor resolve "$LIFT" --field category --value "$D3" >/dev/null
out=$(sc supervisor sync)
expect_jq "$out" '[.accepted, .conflicts] | join(" ")' "1 0" "the resolve is accepted, no conflicts left"
sync_ok inspector inspector2 wuye
for who in "${ALL[@]}"; do
  shown=$(sc "$who" show "$LIFT")
  expect_jq "$shown" '[.category, (.conflicts | length)] | join(" ")' "$D3 0" "resolved on $who"
  expect_jq "$shown" '[.history[] | select(.kind == "resolve")] | length' 1 "the resolve op on $who"
  expect_jq "$(sc "$who" conflicts)" '.items | length' 0 "the inbox is empty on $who"
done

# Concurrent edits that agree are no conflict.
sc inspector finding set "$LIFT" --location "1号楼电梯厅" >/dev/null
sc inspector2 finding set "$LIFT" --location "1号楼电梯厅" >/dev/null
sync_ok inspector inspector2 inspector supervisor
for who in inspector inspector2 supervisor; do
  expect_jq "$(sc "$who" show "$LIFT")" '[.location, (.conflicts | length)] | join(" ")' "1号楼电梯厅 0" \
            "agreeing edits on $who"
done
echo "ok: concurrent edits"
