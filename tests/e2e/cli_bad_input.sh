#!/usr/bin/env bash
# Bad input gets a clear message and its exit code, and leaves the replica
# as it was: unknown ids, invalid transitions, an unreadable photo, a wrong
# passphrase, usage errors, an unreachable server, a server answering
# garbage (HTTP with a junk body, and bytes that are not HTTP at all).
source "$(dirname "$0")/cli_common.bash"

make_register
start_syncd
export SC_PASS="正确 horse battery"
enroll li inspector SC_PASS
enroll wang supervisor
sc li --passphrase-env SC_PASS sync >/dev/null
sc wang sync >/dev/null

P=(--passphrase-env SC_PASS)
CHECK=$(sc li "${P[@]}" check open --target T-JAHY --kind spot --disclosure open --template "$TEMPLATE" | jq -r .id)
FINDING=$(sc li "${P[@]}" finding add --check "$CHECK" --desc "楼道堆物" --grade general | jq -r .id)
sc li "${P[@]}" check submit "$CHECK" >/dev/null
sc li "${P[@]}" sync >/dev/null
sc wang sync >/dev/null
before=$(sc li status | jq -c '{outbox, ops, entities}')

# Usage: 2.
expect_exit 2 "$SPOT" --db "$TMP/li.db" frobnicate
expect_exit 2 "$SPOT" --db "$TMP/li.db" check score "$CHECK"
expect_exit 2 "$SPOT" --db "$TMP/li.db" list
expect_exit 2 "$SPOT" --db "$TMP/li.db" check score "$CHECK" --item org-leadership --status met --points many
# A mistyped option is an unknown option, with the one meant, before the command and after it.
expect_exit 2 "$SPOT" --db "$TMP/li.db" --jsn list findings
grep -qF 'unknown option "--jsn" (did you mean --json?)' "$TMP/err" || fail "--jsn: $(cat "$TMP/err")"
grep -q "unknown command" "$TMP/err" && fail "--jsn called a command: $(cat "$TMP/err")"
expect_exit 2 "$SPOT" --db "$TMP/li.db" list findings --overdu
grep -qF 'unknown option "--overdu" (did you mean --overdue?)' "$TMP/err" || fail "--overdu: $(cat "$TMP/err")"
expect_exit 2 "$SPOT" --db "$TMP/li.db" --frobnicate list findings
grep -qF 'unknown option "--frobnicate"' "$TMP/err" || fail "--frobnicate: $(cat "$TMP/err")"
grep -q "did you mean" "$TMP/err" && fail "--frobnicate has no near option: $(cat "$TMP/err")"

# Not found: 3, with the id in the message.
expect_exit 3 sc li show 0123456789abcdef0123456789abcdef
grep -q 0123456789abcdef0123456789abcdef "$TMP/err" || fail "message names the id"
expect_exit 3 sc li "${P[@]}" check open --target NOPE --kind spot --disclosure open
grep -q NOPE "$TMP/err" || fail "message names the code"
expect_exit 3 sc li "${P[@]}" check score "$CHECK" --item no-such-item --status met
jq -e '.error.status == "SC_ERR_NOT_FOUND"' "$TMP/out" >/dev/null || fail "--json error document"

# Refused: 1, with the fold's reason.
expect_exit 1 sc li "${P[@]}" check score "$CHECK" --item org-leadership --status met
grep -q "amend" "$TMP/err" || fail "scoring a submitted check: $(cat "$TMP/err")"
expect_exit 1 sc wang close "$FINDING"
grep -q "verified" "$TMP/err" || fail "closing an open finding: $(cat "$TMP/err")"
expect_exit 1 sc li "${P[@]}" close "$FINDING"
grep -qi "role" "$TMP/err" || fail "an inspector closing: $(cat "$TMP/err")"
expect_exit 1 sc li "${P[@]}" check open --target T-JAHY --kind sometimes --disclosure open

# The photo must be a readable file: 6 (local file), naming it.
expect_exit 6 sc li "${P[@]}" photo add "$FINDING" "$TMP/no-such.jpg"
grep -q "no-such.jpg" "$TMP/err" || fail "message names the file"
expect_exit 6 sc li "${P[@]}" photo add "$FINDING" "$TMP"

# A wrong passphrase: 1, and a clear word about it; without one, signing is refused.
export SC_WRONG=wrong
expect_exit 1 sc li --passphrase-env SC_WRONG status
grep -q "wrong passphrase" "$TMP/err" || fail "wrong passphrase message: $(cat "$TMP/err")"
expect_exit 1 sc li note "$CHECK" --text "no key"
grep -q "passphrase" "$TMP/err" || fail "locked key message"
expect_exit 2 sc li --passphrase-env SC_UNSET_VARIABLE status

# The device key needs a keeper: enroll without a passphrase or --plain-key is a usage error
# naming both, and spends no code (it enrolls after); the two at once are refused too.
code=$(admin enroll inspector)
expect_exit 2 "$SPOT" --db "$TMP/zhao.db" enroll --server "$URL" --code "$code"
grep -q -- "--passphrase-env VAR" "$TMP/err" && grep -q -- "--plain-key" "$TMP/err" ||
  fail "enroll without a passphrase: $(cat "$TMP/err")"
[[ ! -e "$TMP/zhao.db" ]] || fail "a replica was left by a refused enrollment"
expect_exit 2 "$SPOT" --db "$TMP/zhao.db" --passphrase-env SC_PASS enroll --plain-key --server "$URL" --code "$code"
expect_jq "$("$SPOT" --db "$TMP/zhao.db" --json enroll --plain-key --server "$URL" --code "$code" --no-sync)" \
  .key plain "enrolled with --plain-key"
expect_jq "$(sc zhao status)" .key plain "status of a plain key"
# A device label is one line of text (admins see it in tables): a newline or an escape
# sequence in it is refused by the tablet before anything is sent, and no replica is left.
code=$(admin enroll inspector)
expect_exit 1 "$SPOT" --db "$TMP/qian.db" enroll --plain-key --server "$URL" --code "$code" \
  --label $'tab\n9999  forged row'
grep -q "one line of text" "$TMP/err" || fail "a label with a newline: $(cat "$TMP/err")"
[[ ! -e "$TMP/qian.db" ]] || fail "a replica was left by a refused label"
expect_jq "$("$SPOT" --db "$TMP/qian.db" --json enroll --plain-key --server "$URL" --code "$code" \
  --label "钱的平板" --no-sync)" .key plain "the same code, a one-line label"
# key protect encrypts it in place; then signing needs the passphrase, and a wrong one changes nothing.
export SC_NEW="新的 passphrase"
expect_exit 2 sc zhao key protect
expect_jq "$(sc zhao key protect --new-passphrase-env SC_NEW)" .key passphrase "key protect"
expect_jq "$(sc zhao status)" .key passphrase "status after key protect"
seed=$(sqlite3 "$TMP/zhao.db" "SELECT hex(value) FROM meta WHERE key='keyfile'")
(( ${#seed} == 224 )) || fail "the key file is not the encrypted one: ${#seed} hex digits"
expect_exit 1 "$SPOT" --db "$TMP/zhao.db" note "$CHECK" --text "locked"
grep -q -- "--passphrase-env" "$TMP/err" || fail "a locked key names --passphrase-env: $(cat "$TMP/err")"
expect_exit 1 sc zhao --passphrase-env SC_PASS sync
grep -q "wrong passphrase" "$TMP/err" || fail "wrong passphrase after protect: $(cat "$TMP/err")"
expect_jq "$(sc zhao status)" .key passphrase "the key file after a wrong passphrase"
expect_jq "$(sc zhao --passphrase-env SC_NEW sync)" .pushed 0 "sync with the new passphrase"

expect_eq "$(sc li status | jq -c '{outbox, ops, entities}')" "$before" "replica unchanged by refusals"

# Unreachable: the server is gone; 4, and the outbox keeps the op.
sc li "${P[@]}" note "$FINDING" --text "recorded offline" >/dev/null
stop_syncd
expect_exit 4 sc li "${P[@]}" sync
grep -q "unreachable" "$TMP/err" || fail "unreachable message: $(cat "$TMP/err")"
expect_eq "$(sc li status | jq .outbox)" 1 "outbox kept"

# Garbage: a listener that answers junk, in HTTP and not.
junk_server() { # MODE PORTFILE
  python3 - "$1" "$2" <<'PY' &
import socket, sys
mode, portfile = sys.argv[1], sys.argv[2]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(16)
open(portfile, "w").write(str(s.getsockname()[1]))
while True:
    c, _ = s.accept()
    c.recv(1 << 20)
    if mode == "http":
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 21\r\nConnection: close\r\n\r\n\xff\xfe not a SyncResponse")
    else:
        c.sendall(b"SSH-2.0-OpenSSH_9.0 hello there\r\n")
    c.close()
PY
  PIDS+=($!)
}
point_at() { # REPLICA URL: repoint an enrolled replica (tests only)
  sqlite3 "$TMP/$1.db" "UPDATE meta SET value = CAST('$2' AS BLOB) WHERE key = 'server'"
}
# python3 is not among scripts/install-deps.sh's packages: without it these two
# cases are left to tests/client/test_sync (its in-process server answers junk too).
modes=(http raw)
if ! command -v python3 >/dev/null; then
  echo "python3 is not installed: the junk-server cases are skipped here" >&2
  modes=()
fi
for mode in "${modes[@]}"; do
  rm -f "$TMP/port.$mode"
  junk_server "$mode" "$TMP/port.$mode"
  for _ in $(seq 1 50); do [[ -s "$TMP/port.$mode" ]] && break; sleep 0.1; done
  point_at li "http://127.0.0.1:$(cat "$TMP/port.$mode")"
  ops_before=$(sc li status | jq .ops)
  expect_exit 4 sc li "${P[@]}" sync
  grep -qi "not a SyncResponse\|not HTTP" "$TMP/err" || fail "garbage ($mode) message: $(cat "$TMP/err")"
  expect_eq "$(sc li status | jq .outbox)" 1 "outbox kept after garbage ($mode)"
  expect_eq "$(sc li status | jq .ops)" "$ops_before" "nothing applied from garbage ($mode)"
done

# Enrolling against garbage or nothing: 4, and no replica is left behind.
for port in $(cat "$TMP/port.http" 2>/dev/null) "${URL##*:}"; do
  expect_exit 4 "$SPOT" --db "$TMP/new.db" enroll --plain-key --server "http://127.0.0.1:$port" --code x
  expect_no_replica new "a failed enroll"
done
echo "ok: bad input"
