#!/usr/bin/env bash
# The inspected unit's sign-off (共同签字确认, 001 L97; 签章, 002 L66), with
# real syncd and CLI processes.
#  - An unannounced check (暗访) is not signed off while it is a draft: the
#    inspector's tablet refuses (the unit signs the record as submitted),
#    and the unit's representative, who may not see it yet, cannot even
#    name it.
#  - Submitted, the representative signs on the inspector's tablet: name,
#    post, the drawn signature (an image, attached as a photo and uploaded
#    with the sync) and the time and place; a second party of the joint
#    check signs too, and both are kept.
#  - The unit's contact, with a device of their own enrolled, countersigns
#    once on it; the register takes it.
#  - Everyone who sees the check reads both kinds in `show`, the signature
#    photo with its hash, time and place; the audit holds.
# Each refusal says why, exits 1 (2 for usage, 3 for what is not there) and
# records nothing (6 when a file cannot be read).
source "$(dirname "$0")/cli_common.bash"

start_with inspector supervisor wuye
standing() { sc "$1" status | jq -c '{outbox, ops, replica_hash}'; }

ASG=$(expect_id "$(sc supervisor assign --target T-JAHY --inspector inspector --kind spot \
      --disclosure unannounced --due "$(day 7)" --template "$TEMPLATE" | jq -r .id)" assign)
sync_ok supervisor inspector
CHECK=$(expect_id "$(sc inspector check open --assignment "$ASG" | jq -r .id)" "check open")
score_sheet inspector "$CHECK" "records=not_met:2:登记不全"
sync_ok inspector wuye

# ---- a draft is not signed off ----
printf '\x89PNG\r\n\x1a\n 王建国 signature strokes' >"$TMP/sig-wang.png"
printf '\x89PNG\r\n\x1a\n 李秀英 signature strokes' >"$TMP/sig-li.png"
before=$(standing inspector)
expect_exit 1 "$SPOT" --db "$TMP/inspector.db" check sign-off "$CHECK" --name 王建国 --role 物业经理 \
            --signature "$TMP/sig-wang.png"
grep -qF "inspection $CHECK is a draft: its unit signs it off once it is submitted" "$TMP/err" ||
  fail "a sign-off on a draft: $(cat "$TMP/err")"
# The unit may not see an unannounced check before it is submitted: it is not there to sign.
expect_exit 3 "$SPOT" --db "$TMP/wuye.db" check sign-off "$CHECK" --countersign
grep -qF "$CHECK" "$TMP/err" || fail "the unit countersigning a hidden check: $(cat "$TMP/err")"
expect_jq "$(sc wuye list checks)" '.items | length' 0 "the unit does not see the draft"

# ---- usage errors, and bad coordinates ----
expect_exit 2 "$SPOT" --db "$TMP/inspector.db" check sign-off "$CHECK" --name 王建国 --role 物业经理
grep -qF -- "--signature" "$TMP/err" || fail "a sign-off without its signature: $(cat "$TMP/err")"
expect_exit 2 "$SPOT" --db "$TMP/inspector.db" check sign-off "$CHECK" --countersign --name 王建国
grep -qF "countersign signs with this device's own key" "$TMP/err" ||
  fail "--countersign with --name: $(cat "$TMP/err")"
expect_exit 1 "$SPOT" --db "$TMP/inspector.db" check sign-off "$CHECK" --name 王建国 --role 物业经理 \
            --signature "$TMP/sig-wang.png" --gps 95,200
grep -qF "are off the globe" "$TMP/err" || fail "a sign-off off the globe: $(cat "$TMP/err")"
expect_eq "$(standing inspector)" "$before" "refused sign-offs record nothing"

# ---- submitted: the representatives sign on the inspector's tablet ----
sc inspector check submit "$CHECK" >/dev/null
before=$(standing inspector)
expect_exit 6 "$SPOT" --db "$TMP/inspector.db" check sign-off "$CHECK" --name 王建国 --role 物业经理 \
            --signature "$TMP/no-such-file.png"
grep -qF "cannot read photo" "$TMP/err" || fail "a signature that is not there: $(cat "$TMP/err")"
expect_eq "$(standing inspector)" "$before" "a sign-off whose signature cannot be read records nothing"
expect_exit 1 "$SPOT" --db "$TMP/inspector.db" check sign-off "$CHECK" --countersign
grep -qF "a user with role inspector may not make countersign on a inspection" "$TMP/err" ||
  grep -qF "may not make countersign" "$TMP/err" || fail "an inspector countersigning: $(cat "$TMP/err")"
OP1=$(sc inspector check sign-off "$CHECK" --name 王建国 --role 物业经理 --signature "$TMP/sig-wang.png" \
        --gps 32.2049,118.7851 | jq -r .op)
[[ $OP1 =~ ^[0-9a-f]{64}$ ]] || fail "sign-off op: $OP1"
OP2=$(sc inspector check sign-off "$CHECK" --name 李秀英 --role 社区书记 --signature "$TMP/sig-li.png" |
        jq -r .op)
SHA1=$(sha256sum "$TMP/sig-wang.png" | cut -d' ' -f1)
SHA2=$(sha256sum "$TMP/sig-li.png" | cut -d' ' -f1)
shown=$(sc inspector show "$CHECK")
expect_jq "$shown" '[.sign_offs[] | .kind + ":" + .name + ":" + .role] | join(" ")' \
          "sign_off:王建国:物业经理 sign_off:李秀英:社区书记" "both sign-offs, in order"
expect_jq "$shown" '.sign_offs[0] | [.op, .signature.sha256, .gps.lat_e7, .gps.lon_e7,
          .signature.gps.lat_e7, .signature.time_source, .signature.present] | join(" ")' \
          "$OP1 $SHA1 322049000 1187851000 322049000 file true" "the first sign-off and its signature"
expect_jq "$shown" '.sign_offs[1] | [.signature.sha256, .gps] | join(" ")' "$SHA2 " \
          "the second, signed without a place"
expect_jq "$shown" '.sign_offs[0].signed_ms > 1700000000000 and .sign_offs[0].signed_ms <= now * 1000' \
          true "the time it was signed"
expect_jq "$shown" "[.photos[] | select(.sha256 == \"$SHA1\") | .caption] | join(\"\")" "signature (签字)" \
          "the signature is a photo of the check"
expect_jq "$(sc inspector outbox)" '.photos_waiting | length' 2 "the signatures wait for the sync"
sync_ok inspector
expect_jq "$(sc inspector outbox)" '.photos_waiting | length' 0 "the signatures uploaded"

# ---- the unit's contact countersigns on their own device ----
sync_ok wuye
expect_jq "$(sc wuye list checks)" '[.items[].id] | join(" ")' "$CHECK" "the unit sees the submitted check"
OP3=$(sc wuye check sign-off "$CHECK" --countersign --note "情况属实，按期整改" | jq -r .op)
[[ $OP3 =~ ^[0-9a-f]{64}$ ]] || fail "countersign op: $OP3"
before=$(standing wuye)
expect_exit 1 "$SPOT" --db "$TMP/wuye.db" check sign-off "$CHECK" --countersign
grep -qF "this user has already countersigned the inspection" "$TMP/err" ||
  fail "a second countersign: $(cat "$TMP/err")"
expect_eq "$(standing wuye)" "$before" "the refused countersign records nothing"
sync_ok wuye

# ---- everyone who sees the check reads both kinds ----
sync_ok supervisor
shown=$(sc supervisor show "$CHECK")
expect_jq "$shown" '[.sign_offs[] | .kind] | join(" ")' "sign_off sign_off countersign" "three, in fold order"
expect_jq "$shown" '.sign_offs[2] | [.op, .signer_login, .note] | join(" ")' "$OP3 wuye 情况属实，按期整改" \
          "the countersign and its signer"
expect_jq "$shown" '[.sign_offs[0,1].signature.present] | join(" ")' "true true" \
          "the supervisor's replica fetched the signatures"
human=$("$SPOT" --db "$TMP/supervisor.db" show "$CHECK")
grep -qF "signed by 王建国, 物业经理" <<<"$human" || fail "show for people: $human"
grep -qF "signature $SHA1" <<<"$human" || fail "show names the signature photo: $human"
grep -qF "countersigned by wuye with their own device" <<<"$human" || fail "show, countersign: $human"
expect_jq "$(sc wuye show "$CHECK")" '.sign_offs | length' 3 "the unit reads them too"
log_size >/dev/null
echo "OK"
