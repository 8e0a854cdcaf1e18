#!/usr/bin/env bash
# A server that rewrites its history is caught: the client keeps its last
# verified checkpoint, and when the server comes back from an older copy of
# its register (a smaller log, the device still enrolled there), sync fails
# with exit 5, applies nothing, and keeps the outbox and the checkpoint.
source "$(dirname "$0")/cli_common.bash"

repoint() { sqlite3 "$TMP/li.db" "UPDATE meta SET value = CAST('$URL' AS BLOB) WHERE key = 'server'"; }

make_register
start_syncd
enroll li inspector
sc li sync >/dev/null
stop_syncd
cp -a "$DATA" "$TMP/data.snapshot"       # the register with the device enrolled
start_syncd
repoint
CHECK=$(sc li check open --target T-JAHY --kind daily --disclosure open | jq -r .id)
sc li check score "$CHECK" --item 1 --status met >/dev/null
sc li sync >/dev/null
size=$(sc li status | jq .checkpoint.size)
root=$(sc li status | jq -r .checkpoint.root)

# The server is restored from the older copy: its log is shorter than what li verified.
stop_syncd
rm -rf "$DATA"
cp -a "$TMP/data.snapshot" "$DATA"
start_syncd
repoint
sc li note "$CHECK" --text "recorded after the restore" >/dev/null
ops=$(sc li status | jq .ops)
expect_exit 5 sc li sync
grep -q "history was rewritten" "$TMP/err" || fail "message: $(cat "$TMP/err")"
expect_eq "$(jq -r .error.status "$TMP/out")" SC_ERR_HISTORY_REWRITTEN "status"
expect_eq "$(sc li status | jq .ops)" "$ops" "nothing applied"
expect_eq "$(sc li status | jq .outbox)" 1 "outbox kept"
expect_eq "$(sc li status | jq .checkpoint.size)" "$size" "verified checkpoint kept"
expect_eq "$(sc li status | jq -r .checkpoint.root)" "$root" "verified root kept"
expect_eq "$(sc li verify | jq .ok)" true "the replica itself is intact"
echo "ok: history"
