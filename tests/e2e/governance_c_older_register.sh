#!/usr/bin/env bash
# Governance (c): a register made before rectification governance still
# loads and works.  tests/vectors/register-v4 was written by the syncd and
# spotcheck of commit 73b871d (its make.sh says how): the demo story with a
# major hazard closed on a plain revisit and reopened by a look-back, and a
# major hazard submitted with neither unit nor deadline.  This syncd
# migrates it and audits it to the root and replica hash the old one printed, so every
# finding folds byte for byte as before; its findings keep the rules they
# were made under until a notice is issued for them; new findings follow
# the new rules; and the whole register audits clean at the end.
source "$(dirname "$0")/cli_common.bash"

V4_ROOT=dd00db572c84f5c5e58c56c30ff0338bdcc6d07ab7411ec68457f24c0dd75a70
V4_REPLICA=d4db30db7182c42203714029f58c8d27eba23a820b34b99f2420415e47e622a8

cp -R "$SC_SOURCE_DIR/tests/vectors/register-v4/data" "$DATA"
# git keeps neither the key's mode nor empty directories.
chmod 700 "$DATA"
chmod 600 "$DATA/server.key"
# Schema 4 then; `syncd migrate` brings it to this version's, and its audit finds the old states.
"$SYNCD" migrate --data "$DATA" >"$TMP/migrate" 2>&1 || { cat "$TMP/migrate" >&2; fail "migrate"; }
grep -q "from schema version 4 to" "$TMP/migrate" || fail "migrate: $(cat "$TMP/migrate")"
grep -q "replica hash $V4_REPLICA" "$TMP/migrate" || fail "migrate's audit: $(cat "$TMP/migrate")"
"$SYNCD" audit --data "$DATA" >"$TMP/audit" 2>&1 || { cat "$TMP/audit" >&2; fail "audit"; }
grep -q "root $V4_ROOT" "$TMP/audit" || fail "the old root: $(cat "$TMP/audit")"
grep -q "replica hash $V4_REPLICA" "$TMP/audit" || fail "the old states: $(cat "$TMP/audit")"

start_syncd
ALL=(inspector supervisor wuye)
for who in "${ALL[@]}"; do enroll "$who" "$who"; done
sync_ok "${ALL[@]}"

# finding_by TEXT: the id of the finding whose description starts with TEXT.
finding_by() {
  expect_id "$(sc supervisor list findings | jq -r --arg d "$1" '.items[] | select(.description | startswith($d)) | .id')" "$1"
}
GAS=$(finding_by "燃气管道老化")
FIRE=$(finding_by "烟花爆竹零售点")
for f in "$GAS" "$FIRE"; do
  expect_jq "$(sc supervisor show "$f")" '[.governance, .notice, .status] | map(tostring) | join(" ")' \
            "null false open" "an earlier finding, as it was"
done

# The reopened gas pipeline goes round again under the rules it was made under.
sc wuye rectify "$GAS" --note "再次更换接口" >/dev/null
sync_ok wuye inspector
sc inspector revisit "$GAS" --result rectified --note "复查合格" >/dev/null
sync_ok inspector supervisor
sc supervisor close "$GAS" --note "销号" >/dev/null
sync_ok supervisor
expect_jq "$(sc supervisor show "$GAS")" '[.status, .governance] | map(tostring) | join(" ")' \
          "closed null" "closed as before"

# The fireworks point gets its notice now: a major hazard's names unit and deadline.
expect_exit 1 "$SPOT" --db "$TMP/inspector.db" notice "$FIRE"
grep -qF "finding $FIRE is a major hazard with no responsible unit and no deadline" "$TMP/err" ||
  fail "an earlier major hazard's notice: $(cat "$TMP/err")"
sc inspector notice "$FIRE" --responsible junan --deadline "$(day 20)" >/dev/null
sync_ok inspector wuye supervisor
fire=$(sc supervisor show "$FIRE")
expect_jq "$fire" '[.notice, .responsible, .deadline, .governance.rules] | join(" ")' \
          "true junan $(day 20) 0" "the notice on an earlier finding"
# From its notice on, it follows the new rules: its deadline is no longer edited.
expect_exit 1 "$SPOT" --db "$TMP/inspector.db" finding set "$FIRE" --deadline "$(day 25)"
grep -qF "after the notice the deadline moves only" "$TMP/err" || fail "locked: $(cat "$TMP/err")"

# New findings on the old register follow the new rules.
LIFT=$(submitted_finding inspector "电梯未张贴使用说明" general)
sync_ok inspector wuye
expect_jq "$(sc wuye show "$LIFT")" '[.notice, .deadline_defaulted, .governance.rules] | join(" ")' \
          "true true 2" "a new finding (its deadline defaulted)"

stop_syncd
"$SYNCD" audit --data "$DATA" >"$TMP/audit" 2>&1 || { cat "$TMP/audit" >&2; fail "audit after"; }
grep -q "OK: everything holds" "$TMP/audit" || fail "audit after: $(cat "$TMP/audit")"
echo "ok: an older register loads and works"
