#!/usr/bin/env bash
# (f) Audit.  After a closed loop, `syncd audit` passes, `syncd export`
# writes a bundle and `spotcheck verify-bundle` checks it on its own: same
# size, root and replica hash as the register, and the root the devices
# verified.  One flipped byte in the bundle, or one row changed in the
# register (an op's bytes in the log, or an entity's stored state), makes
# them fail and name the log entry.  The auditor's own replica sees and
# verifies everything, the unannounced plan included, and records nothing.
source "$(dirname "$0")/cli_common.bash"

ALL=(inspector supervisor wuye auditor)
start_with "${ALL[@]}"

# History worth auditing: an unannounced plan, its check, a major hazard through to 销号.
ASG=$(expect_id "$(admin assign --target T-JAHY --inspector inspector --kind spot \
      --disclosure unannounced --template "$TEMPLATE@1")" assign)
sync_ok inspector
CHECK=$(expect_id "$(sc inspector check open --assignment "$ASG" | jq -r .id)" "check open")
score_sheet inspector "$CHECK"
GAS=$(new_finding inspector "$CHECK" "燃气管道老化未按期检验" major --category GAS --deadline "$(day 14)")
LANE=$(new_finding inspector "$CHECK" "小区消防通道被车辆占用" general --category FIRE_LANE)
photo "$TMP/pipe.jpg" "corroded gas pipe"
sc inspector photo add "$GAS" "$TMP/pipe.jpg" >/dev/null
sc inspector check submit "$CHECK" >/dev/null
sync_ok inspector wuye
sc wuye rectify "$GAS" --note "已更换管道并取得检验合格报告" >/dev/null
sync_ok wuye inspector
sc inspector revisit "$GAS" --result rectified >/dev/null
sync_ok inspector supervisor
sc supervisor close "$GAS" --note 销号 >/dev/null
sync_ok supervisor "${ALL[@]}"

# The register audits clean.
audit=$("$SYNCD" audit --data "$DATA")
grep -q "^OK: everything holds" <<<"$audit" || fail "syncd audit: $audit"
ROOT=$(sed -n 's/^  root \([0-9a-f]\{64\}\)$/\1/p' <<<"$audit")
RHASH=$(sed -n 's/^  replica hash \([0-9a-f]\{64\}\)$/\1/p' <<<"$audit")
[[ -n $ROOT && -n $RHASH ]] || fail "audit prints the root and the replica hash: $audit"
SIZE=$(sc auditor status | jq .checkpoint.size)
for who in "${ALL[@]}"; do
  expect_jq "$(sc "$who" status)" '"\(.checkpoint.size) \(.checkpoint.root)"' "$SIZE $ROOT" \
            "the checkpoint $who verified is the register's"
done

# The bundle checks out on its own, against what the register and the devices hold.
"$SYNCD" export --data "$DATA" --out "$TMP/register.scb" >/dev/null
out=$("$SPOT" --json verify-bundle "$TMP/register.scb")
expect_jq "$out" '[.ok, .entries, .root, .replica_hash, .origin, .error] | join(" ")' \
          "true $SIZE $ROOT $RHASH spotcheck.demo/register " "verify-bundle"
expect_jq "$out" .server_key "$(sqlite3 "$DATA/register.db" "SELECT lower(hex(value)) FROM meta WHERE key = 'server_key'")" \
          "the bundle names the server key"

# The auditor sees everything, the unannounced plan too, verifies it, and may record nothing.
expect_jq "$(sc auditor list assignments)" '.items[0].id' "$ASG" "the auditor sees the plan"
expect_jq "$(sc auditor show "$GAS")" '[.status, .closed_by] | join(" ")' \
          "closed $(sc supervisor status | jq -r .device_key)" "the auditor sees the closure"
v=$(sc auditor verify)
expect_jq "$v" '[.ok, .ops, (.errors | length)] | join(" ")' "true $SIZE 0" "the auditor's replica verifies"
expect_exit 1 sc auditor note "$GAS" --text "审计意见"
grep -qi "role" "$TMP/err" || fail "an auditor recording: $(cat "$TMP/err")"

# The entry to tamper with: the gas finding's creation.
IDX=$(sc auditor show "$GAS" | jq '.history[] | select(.kind == "finding_create") | .log_index')
OP=$(sc auditor show "$GAS" | jq -r '.history[] | select(.kind == "finding_create") | .op')
# named MESSAGE WHAT: the message names entry IDX and its op id.
named() { grep -q "entry $IDX (op ${OP:0:16}" <<<"$1" || fail "$2 does not name entry $IDX (op ${OP:0:16}…): $1"; }

# One flipped byte in the bundle: the first byte of 燃 (e7 -> e6, still UTF-8).
at=$(grep -obUa "燃气管道老化未按期检验" "$TMP/register.scb" | head -n 1 | cut -d: -f1)
[[ $at =~ ^[0-9]+$ ]] || fail "the description is not in the bundle"
cp "$TMP/register.scb" "$TMP/flipped.scb"
byte=$(od -An -tu1 -j "$at" -N1 "$TMP/flipped.scb" | tr -d ' ')
printf "\\$(printf '%03o' $((byte ^ 1)))" | dd of="$TMP/flipped.scb" bs=1 seek="$at" conv=notrunc status=none
expect_eq "$( (cmp -l "$TMP/register.scb" "$TMP/flipped.scb" || true) | wc -l)" 1 "bytes that differ"
expect_exit 5 "$SPOT" --json verify-bundle "$TMP/flipped.scb"
expect_jq "$(cat "$TMP/out")" .ok false "verify-bundle of the flipped bundle"
# The bytes no longer hash to the op's id, so the entry is named by its index.
grep -q "entry $IDX: op: signature does not match the author key" "$TMP/err" ||
  fail "verify-bundle names entry $IDX: $(cat "$TMP/err")"

# One row changed in the register, on a copy: the op's bytes in the log now say 煤气 (e7 85 a4).
cp -a "$DATA" "$TMP/forged"
hex=$(sqlite3 "$TMP/forged/register.db" "SELECT hex(signed) FROM ops WHERE idx = $IDX")
forged=${hex/E78783E6B094/E785A4E6B094}
[[ $forged != "$hex" ]] || fail "the op's bytes hold the description"
sqlite3 "$TMP/forged/register.db" "UPDATE ops SET signed = X'$forged' WHERE idx = $IDX"
rc=0
out=$("$SYNCD" audit --data "$TMP/forged" 2>"$TMP/err") || rc=$?
expect_eq "$rc" 1 "syncd audit of a forged log entry"
grep -q "^FAILED: " <<<"$out" || fail "audit says FAILED: $out"
named "$out" "syncd audit"
named "$(cat "$TMP/err")" "syncd audit's stderr"
rc=0
"$SYNCD" export --data "$TMP/forged" --out "$TMP/forged.scb" >/dev/null 2>"$TMP/err" || rc=$?
[[ $rc -ne 0 && ! -e $TMP/forged.scb ]] || fail "a register that does not verify is not exported"
named "$(cat "$TMP/err")" "syncd export"

# Another copy, another row: the fire-lane finding's stored state replaced by
# the closed gas finding's (a closure nobody signed).
rm -rf "$TMP/forged"
cp -a "$DATA" "$TMP/forged"
sqlite3 "$TMP/forged/register.db" "UPDATE entities SET state = (SELECT state FROM entities
  WHERE id = X'$GAS'), state_hash = (SELECT state_hash FROM entities WHERE id = X'$GAS')
  WHERE id = X'$LANE'"
IDX=$(sc auditor show "$LANE" | jq '[.history[].log_index] | max')
OP=$(sc auditor show "$LANE" | jq -r "[.history[] | select(.log_index == $IDX)][0].op")
rc=0
out=$("$SYNCD" audit --data "$TMP/forged" 2>/dev/null) || rc=$?
expect_eq "$rc" 1 "syncd audit of a forged state"
named "$out" "syncd audit of a forged state"
grep -q "the latest of finding $LANE: the stored state differs from replaying" <<<"$out" ||
  fail "the audit says what differs: $out"
echo "ok: audit"
