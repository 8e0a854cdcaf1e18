#!/usr/bin/env bash
# (d) Safety first.  A verified finding: the supervisor closes it (销号) while,
# offline, an inspector's revisit finds it not rectified.  After everyone
# syncs the item is open on every replica; the overruled closure is in its
# history (a valid op by the supervisor that lost) and in the conflict
# inbox, until the supervisor acknowledges it with `resolve --field status`,
# which keeps it open.
source "$(dirname "$0")/cli_common.bash"

ALL=(inspector inspector2 supervisor wuye)
start_with "${ALL[@]}"

# Stairwell clutter and flying-lead charging (DOMAIN.md §11 #7, prone to relapse), rectified and verified.
CLUTTER=$(submitted_finding inspector "楼道堆物、飞线充电" general --category FIRE --deadline "$(day 5)")
sync_ok inspector wuye
sc wuye rectify "$CLUTTER" --note "已清理楼道, 拆除飞线" >/dev/null
sync_ok wuye inspector
sc inspector revisit "$CLUTTER" --result rectified >/dev/null
sync_ok "${ALL[@]}"
for who in "${ALL[@]}"; do
  expect_jq "$(sc "$who" show "$CLUTTER")" .status verified "verified on $who"
done

# Offline on both sides: the supervisor closes; the second inspector, back in
# the stairwell, finds new charging leads.
sc supervisor close "$CLUTTER" --note "销号" >/dev/null
expect_jq "$(sc supervisor show "$CLUTTER")" .status closed "closed on the supervisor's tablet"
sc inspector2 revisit "$CLUTTER" --result not_rectified --note "复查: 3单元楼道仍有飞线充电" >/dev/null
expect_jq "$(sc inspector2 show "$CLUTTER")" .status open "open on the inspector's tablet"
CLOSE_OP=$(sc supervisor show "$CLUTTER" | jq -r '.history[] | select(.kind == "closure") | .op')
REVISIT_OP=$(sc inspector2 show "$CLUTTER" | jq -r '.history[] | select(.kind == "revisit" and .local) | .op')
sync_ok supervisor inspector2 "${ALL[@]}"

sup_key=$(sc supervisor status | jq -r .device_key)
for who in "${ALL[@]}"; do
  shown=$(sc "$who" show "$CLUTTER")
  expect_jq "$shown" '[.status, .reopen_count, .last_revisit] | join(" ")' "open 0 not_rectified" \
            "safety wins on $who"
  # The closure is kept: accepted, valid against its own past, logged, by the supervisor.
  expect_jq "$shown" ".history[] | select(.op == \"$CLOSE_OP\") | [.kind, .state, .valid, .author] | join(\" \")" \
            "closure accepted true $sup_key" "the overruled closure in the history on $who"
  [[ $(jq ".history[] | select(.op == \"$CLOSE_OP\") | .log_index" <<<"$shown") =~ ^[0-9]+$ ]] ||
    fail "the closure is logged, on $who"
  expect_jq "$shown" '[.conflicts[] | .field] | join(" ")' status "a status conflict on $who"
  expect_jq "$shown" '.conflicts[0].values | join(" ")' "open closed" "safe outcome first on $who"
  expect_jq "$shown" '.conflicts[0].ops | sort | join(" ")' \
            "$(printf '%s\n' "$CLOSE_OP" "$REVISIT_OP" | sort | paste -sd' ')" "the colliding ops on $who"
  expect_jq "$(sc "$who" conflicts)" '[.items[] | "\(.id) \(.conflicts[0].field)"] | join(",")' \
            "$CLUTTER status" "the conflict inbox on $who"
done
expect_jq "$(sc supervisor review)" '[.conflicts[].id, .awaiting_closure[].id] | join(" ")' "$CLUTTER" \
          "in the supervisor's conflicts, not awaiting closure"

# The supervisor acknowledges the overruled closure; the item stays open and the inbox empties.
sc supervisor resolve "$CLUTTER" --field status >/dev/null
sync_ok supervisor "${ALL[@]}"
for who in "${ALL[@]}"; do
  shown=$(sc "$who" show "$CLUTTER")
  expect_jq "$shown" '[.status, (.conflicts | length)] | join(" ")' "open 0" "acknowledged on $who"
  expect_jq "$shown" '[.history[].kind] | join(" ")' \
            "finding_create notice rectification_report revisit closure revisit resolve" "history on $who"
  expect_jq "$(sc "$who" conflicts)" '.items | length' 0 "the inbox is empty on $who"
done
# Closing again needs the loop again: report, a rectified revisit, then 销号.
expect_exit 1 sc supervisor close "$CLUTTER"
grep -q verified "$TMP/err" || fail "closing an open item: $(cat "$TMP/err")"
echo "ok: safety first"
