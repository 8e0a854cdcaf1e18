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
for line in "submitted  T-JAHY  spot  91/100 passed" '{"status":"open","overdue":false,"reopen_count":1}' \
            '{"stop_work_in_force":true,"escalations":["reminder"]' '"suggested_step":"reminder"' \
            '{"look_backs_done":1,"escalations":["reminder"],"stop_work_in_force":false}' \
            '{"status":"closed","overdue":false,"reopen_count":0}' '"kind":"closure","state":"accepted","valid":true' \
            '{"status":"open","conflicts":[]}' '"grade_band":"达标","sections":["组织管理 10/10","防控措施 47/58","防控效果 30/30"]' \
            "item sanitation is not met and needs a photo" "would score it below zero" \
            '"score":0,"max":2,"passed":true' "OK: everything holds" "ok: yes" \
            '{"kind":"sign_off","name":"陈静","role":"物业经理"' \
            '"kind":"countersign","name":null,"role":null,"signer_login":"wuye","note":"情况属实, 按期整改"'; do
  grep -qF -- "$line" "$TMP/story.md" || fail "the story lacks: $line"
done
expect_eq "$(grep -c '^```console$' "$TMP/story.md")" "$(grep -c '^```$' "$TMP/story.md")" "code blocks closed"
# Played again on the same register (a second `make run`): the tablets are reused, and the story
# is not played a second time: the register's log does not grow and holds one plan, one check and
# its three findings, and the audit still holds.
dev() { "$SPOT" --db "$TMP/devices/$1.db" --json "${@:2}"; }
dev supervisor sync >/dev/null
size=$(dev supervisor status | jq .checkpoint.size)
"$SC_SOURCE_DIR/scripts/demo-scenario.sh" "$SC_BIN_DIR" "$TMP" "$URL" >"$TMP/again.txt"
grep -q "used again: inspector supervisor wuye" "$TMP/again.txt" || fail "tablets reused"
grep -q "holds the story already" "$TMP/again.txt" || fail "the second run does not say the story was played"
grep -q "OK: everything holds" "$TMP/again.txt" || fail "the second run's audit"
expect_eq "$(dev supervisor status | jq .checkpoint.size)" "$size" "the register's log after a second run"
asg=$(dev supervisor list assignments --target T-JAHY | jq -r '.items[] | select(.kind == "spot") | .id')
expect_eq "$(wc -l <<<"$asg")" 1 "plans of the story"
expect_eq "$(dev supervisor list assignments --target T-JAHY | jq '.items | length')" 2 \
          "the plan and the look-back round"
expect_eq "$(dev supervisor list checks --assignment "$asg" | jq '.items | length')" 1 "checks of the story"
expect_eq "$(dev supervisor list findings --assignment "$asg" | jq '.items | length')" 3 "findings of the story"
grep -qF "$asg" "$TMP/again.txt" || fail "the second run does not name the plan"
echo "ok: demo scenario"
