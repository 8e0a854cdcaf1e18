#!/usr/bin/env bash
# The story `make run` plays and docs/tour.md shows (scripts/demo-scenario.sh,
# with --tour) runs to the end against a real syncd on the shared register,
# and says what the lifecycle scenarios assert: so the demo and the tour
# cannot rot unnoticed.  The scenarios prove the behaviour; this only keeps
# the demo honest.
source "$(dirname "$0")/cli_common.bash"

make_register
start_syncd
"$SC_SOURCE_DIR/scripts/demo-scenario.sh" --markdown --tour "$SC_BIN_DIR" "$TMP" "$URL" >"$TMP/story.md"
for line in "submitted  T-JAHY  spot  91/100 passed" '{"status":"open","overdue":true,"reopen_count":1}' \
            '{"status":"closed","overdue":false,"reopen_count":0}' '"kind":"closure","state":"accepted","valid":true' \
            '{"status":"open","conflicts":[]}' "OK: everything holds" "ok: yes"; do
  grep -qF -- "$line" "$TMP/story.md" || fail "the story lacks: $line"
done
expect_eq "$(grep -c '^```console$' "$TMP/story.md")" "$(grep -c '^```$' "$TMP/story.md")" "code blocks closed"
# Played again on the same register, the tablets are reused.
"$SC_SOURCE_DIR/scripts/demo-scenario.sh" "$SC_BIN_DIR" "$TMP" "$URL" >"$TMP/again.txt"
grep -q "used again: inspector supervisor wuye" "$TMP/again.txt" || fail "tablets reused"
echo "ok: demo scenario"
