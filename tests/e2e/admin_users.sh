#!/usr/bin/env bash
# Administration of people, with a real syncd and CLI tablets: a user
# disabled (its devices refused with their own reason, its codes revoked,
# what it signed before kept in the log and audited), enabled again (its
# queued work goes in), given another role (the server judges by it, the
# tablet records by it); enrollment codes listed and revoked.  Every
# refusal says why, exits with its code, and changes nothing.
source "$(dirname "$0")/cli_common.bash"

make_register
start_syncd
enroll li inspector
enroll wang supervisor
sync_ok li wang

CHECK=$(new_check li)
sync_ok li
CODE=$(admin enroll inspector) # handed out, not used yet
n0=$(log_size)

# Disable: one admin op; the tablet's next request is refused with its reason.
out=$(admin user disable inspector --reason "调离岗位")
grep -q "inspector is disabled" <<<"$out" || fail "disable says: $out"
expect_eq "$(log_size)" $((n0 + 1)) "the disable is one op in the log"
sc li note "$CHECK" --text "写于停用之后" >/dev/null
expect_exit 1 sc li sync
grep -q "user_disabled\|is disabled" "$TMP/err" || fail "refusal names its reason: $(cat "$TMP/err")"
expect_jq "$(sc li status)" .outbox 1 "the note stays queued on the tablet"
expect_eq "$(log_size)" $((n0 + 1)) "nothing of the refused request was logged"
# The code handed out before the disable enrolls nothing.
expect_exit 1 "$SPOT" --db "$TMP/li2.db" --json enroll --plain-key --server "$URL" --code "$CODE"
grep -q "revoked" "$TMP/err" || fail "a revoked code: $(cat "$TMP/err")"
expect_jq "$(admin code list --all --json)" '[.[] | select(.login == "inspector")] | last | .status' \
  revoked "code list shows the code revoked"
# What the user signed before the disable stays: the supervisor pulls it, the audit holds.
sync_ok wang
expect_jq "$(sc wang show "$CHECK")" .id "$CHECK" "the check made before the disable"
expect_jq "$(admin user list --json)" '.[] | select(.login == "inspector") | .disabled' true \
  "user list shows it disabled"
admin user list | grep -E "^inspector .*disabled" >/dev/null || fail "user list table: $(admin user list)"

# Refusals: the message, the exit code, and nothing changed.
n1=$(log_size)
expect_exit 1 admin user disable inspector
grep -q "already disabled" "$TMP/err" || fail "disable twice: $(cat "$TMP/err")"
expect_exit 1 admin enroll inspector
grep -q "is disabled" "$TMP/err" || fail "a code for a disabled user: $(cat "$TMP/err")"
expect_exit 1 admin user enable nobody
grep -q 'no user with login "nobody"' "$TMP/err" || fail "unknown login: $(cat "$TMP/err")"
expect_exit 2 admin user role inspector boss
grep -q 'unknown role "boss"' "$TMP/err" || fail "unknown role: $(cat "$TMP/err")"
expect_exit 1 admin user role supervisor supervisor
grep -q "already a supervisor" "$TMP/err" || fail "same role: $(cat "$TMP/err")"
expect_exit 1 admin user enable supervisor
grep -q "not disabled" "$TMP/err" || fail "enable an active user: $(cat "$TMP/err")"
expect_exit 2 admin user disable
expect_exit 2 admin user disable inspector --role admin
expect_eq "$(log_size)" "$n1" "refusals log nothing"

# Enabled again: the queued note goes in, the same tablet works on.
admin user enable inspector >/dev/null
sync_ok li
expect_jq "$(sc li status)" .outbox 0 "the queued note was accepted"

# A new role: the server judges by it, and the tablet learns it from its next sync.
sc li check open --target T-JAHY --kind spot --disclosure open >/dev/null # offline, as an inspector
admin user role inspector auditor | grep -q "is an auditor from now on" || fail "role change"
out=$(sc li sync) || true
expect_jq "$out" '.rejected[0].reason' forbidden_role "an inspector's op pushed by an auditor"
expect_jq "$(sc li status)" .role auditor "the tablet took its new role"
expect_exit 1 sc li check open --target T-JAHY --kind spot --disclosure open
grep -qi "role" "$TMP/err" || fail "the tablet refuses by its role: $(cat "$TMP/err")"
admin user role inspector inspector >/dev/null
sync_ok li
expect_jq "$(sc li status)" .role inspector "back to inspector"

# Codes: listed without the secret, revoked by id or by the code itself.
C2=$(admin enroll supervisor)
list=$(admin code list --user supervisor --json)
expect_jq "$list" 'length' 1 "one unused code of supervisor"
grep -q "${C2:0:4}" <<<"$list" && fail "code list shows the code itself"
ID=$(jq -r '.[0].id' <<<"$list")
admin code revoke "$ID" | grep -q "revoked code $ID" || fail "revoke by id"
expect_exit 1 admin code revoke "$ID"
grep -q "no unused code" "$TMP/err" || fail "revoke twice: $(cat "$TMP/err")"
expect_exit 1 "$SPOT" --db "$TMP/sup2.db" --json enroll --plain-key --server "$URL" --code "$C2"
C3=$(admin enroll supervisor)
admin code revoke "$C3" >/dev/null
expect_exit 1 "$SPOT" --db "$TMP/sup3.db" --json enroll --plain-key --server "$URL" --code "$C3"
expect_exit 2 admin code revoke zz
expect_exit 2 admin code revoke
expect_exit 2 admin code list --bogus
C4=$(admin enroll supervisor)
enroll_out=$("$SPOT" --db "$TMP/sup4.db" --json enroll --plain-key --server "$URL" --code "$C4")
expect_jq "$enroll_out" .login supervisor "an unrevoked code enrolls"
expect_exit 1 admin code revoke "$C4"

log_size >/dev/null
sc li verify >/dev/null || fail "li's replica verifies"
sc wang verify >/dev/null || fail "wang's replica verifies"
echo "admin_users: disable, enable, role and codes OK"
