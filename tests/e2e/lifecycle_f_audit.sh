#!/usr/bin/env bash
# (f) Audit.  After a closed loop, `syncd audit` passes, `syncd export`
# writes a bundle and `spotcheck verify-bundle` checks it on its own: same
# size, root and replica hash as the register, and the root the devices
# verified.  One flipped byte in the bundle, or one row changed in the
# register (an op's bytes in the log, or an entity's stored state), makes
# them fail and name the log entry; so does a bad restore (a photo lost or
# damaged, another register's server key), naming the photo and its op, or
# the key.  The auditor's own replica sees and
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
sc inspector revisit "$GAS" --result rectified --acceptance >/dev/null
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
# A link planted at the temporary name (another user, in a shared directory) is not
# written through: the file it names stays as it was, and the bundle is the operator's alone.
echo "not yours" >"$TMP/victim"
ln -s "$TMP/victim" "$TMP/register.scb.tmp"
"$SYNCD" export --data "$DATA" --out "$TMP/register.scb" >/dev/null
expect_eq "$(cat "$TMP/victim")" "not yours" "the file a planted link names"
[[ -f $TMP/register.scb && ! -L $TMP/register.scb ]] || fail "the bundle is a regular file"
expect_eq "$(stat -c %a "$TMP/register.scb")" 600 "the bundle's mode"
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
# A bad restore, on copies of the data directory: each is wrong in a way the log cannot show,
# and the audit must say so, naming what is wrong (the photo and the op naming it, or the key).
PIPE=$(sha256sum "$TMP/pipe.jpg" | cut -d' ' -f1)
[[ -f $DATA/blobs/${PIPE:0:2}/$PIPE ]] || fail "the photo is stored"
grep -q "^  photos checked: *[1-9][0-9]* (.* 0 not stored, 0 not matching" <<<"$audit" ||
  fail "the clean audit checked the photos: $audit"
ATTACH=$(sc auditor show "$GAS" | jq -c '[.history[] | select(.kind == "photo_attach")][0]')
AIDX=$(jq .log_index <<<"$ATTACH")
AOP=$(jq -r .op <<<"$ATTACH")
[[ $AIDX =~ ^[0-9]+$ && ${#AOP} -eq 64 ]] || fail "the photo's op: $ATTACH"
# restored: a fresh copy of the data directory in $TMP/restored.
restored() { rm -rf "$TMP/restored"; cp -a "$DATA" "$TMP/restored"; }
# bad_restore WHAT STATUS NEEDLE...: the audit of $TMP/restored exits STATUS (3: only photos not
# stored, which a tablet may still upload; 1: anything else) saying FAILED and naming every NEEDLE;
# its stderr names the first.
bad_restore() {
  local what=$1 want=$2 rc=0 out n
  shift 2
  out=$("$SYNCD" audit --data "$TMP/restored" 2>"$TMP/err") || rc=$?
  expect_eq "$rc" "$want" "syncd audit after $what"
  grep -q "^FAILED: " <<<"$out" || fail "the audit after $what says FAILED: $out"
  for n in "$@"; do
    grep -qF -- "$n" <<<"$out" || fail "the audit after $what does not name '$n': $out"
  done
  grep -qF -- "$1" "$TMP/err" || fail "stderr after $what does not name '$1': $(cat "$TMP/err")"
}
NAMED="$PIPE named by entry $AIDX (op ${AOP:0:16}"
LISTED="$PIPE, named by entry $AIDX (op ${AOP:0:16}"
# The photo lost.
restored
rm "$TMP/restored/blobs/${PIPE:0:2}/$PIPE"
bad_restore "a lost photo" 3 "$NAMED" "photo not stored: $LISTED" "not stored"
# The photo's bytes damaged: one byte flipped, the size unchanged.
restored
f="$TMP/restored/blobs/${PIPE:0:2}/$PIPE"
chmod u+w "$f"
printf '\x00' | dd of="$f" bs=1 seek=3 conv=notrunc status=none
[[ $(sha256sum "$f" | cut -d' ' -f1) != "$PIPE" ]] || fail "the photo was damaged"
bad_restore "a damaged photo" 1 "$NAMED" "photo damaged: $LISTED" "do not match their hash"
# Another register's server key, in place of this one's.
restored
# (An empty directory made beforehand, open to others, is made private by init.)
mkdir -m 0755 "$TMP/other"
"$SYNCD" init --data "$TMP/other" --origin other.example/register >/dev/null
expect_eq "$(stat -c %a "$TMP/other")" 700 "the data directory init was given"
cp -p "$TMP/other/server.key" "$TMP/restored/server.key"
OURS=$(sqlite3 "$DATA/register.db" "SELECT lower(hex(value)) FROM meta WHERE key = 'server_key'")
THEIRS=$(sqlite3 "$TMP/other/register.db" "SELECT lower(hex(value)) FROM meta WHERE key = 'server_key'")
[[ ${#OURS} -eq 64 && ${#THEIRS} -eq 64 && $OURS != "$THEIRS" ]] || fail "two keys: $OURS $THEIRS"
bad_restore "another register's key" 1 "$TMP/restored/server.key" "$THEIRS" "$OURS"
# The same directory with its own key back audits clean.
cp -p "$DATA/server.key" "$TMP/restored/server.key"
out=$("$SYNCD" audit --data "$TMP/restored") || fail "the restored copy with its key: $out"
grep -q "^OK: everything holds" <<<"$out" || fail "the restored copy with its key: $out"
echo "ok: audit"
