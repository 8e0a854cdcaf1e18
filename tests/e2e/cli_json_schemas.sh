#!/usr/bin/env bash
# The CLI's --json answers against their schemas (docs/schema, checked with
# bindings/python/schema.py), with real syncd and CLI processes: enroll,
# status, sync, outbox, list checks and findings, show (a signed-off check
# and a finding under governance), verify, a supervisor's review and the
# open conflicts, and every governance command's answer (notice, sign-for,
# plan, plan-return, extension request and decisions, deadline, escalate,
# stop-work, check sign-off).  Each answer is taken where it has something
# to show (a conflict in the queue, an overdue finding, an op id), and the
# check is shown to bite: a field added, one missing, one retyped fail it.
source "$(dirname "$0")/cli_common.bash"
PY=/usr/bin/python3
[[ -x $PY ]] || fail "python3 is not installed at $PY (scripts/install-deps.sh installs it)"
VALIDATE=("$PY" "$SC_SOURCE_DIR/bindings/python/schema.py" "$SC_SOURCE_DIR/docs/schema")

# conform NAME JSON WHAT: JSON matches docs/schema/NAME.json; prints JSON.
conform() {
  printf '%s' "$2" | PYTHONDONTWRITEBYTECODE=1 "${VALIDATE[@]}" "$1" 2>"$TMP/schema.err" ||
    fail "$3 does not match docs/schema/$1.json: $(cat "$TMP/schema.err"); the answer: $2"
  printf '%s\n' "$2"
}

make_register
admin org policy junan-garden --ladder 2:reminder,5:interview >/dev/null
start_syncd
code=$(admin enroll inspector)
conform enroll "$("$SPOT" --db "$TMP/inspector.db" --json enroll --plain-key --server "$URL" \
                  --code "$code")" "enroll" >/dev/null
for who in supervisor wuye; do enroll "$who" "$who"; done
sync_ok supervisor wuye

# ---- a check with two findings, the notice of one issued by hand, submitted and signed off ----
CHECK=$(new_check inspector)
score_sheet inspector "$CHECK"
LATE=$(new_finding inspector "$CHECK" "楼道堆物、飞线充电" general --category FIRE --deadline "$(day -3)")
MAJOR=$(new_finding inspector "$CHECK" "燃气管道老化未按期检验" major --category GAS --deadline "$(day 14)")
expect_jq "$(conform governance "$(sc inspector notice "$LATE")" "notice")" '.id' "$LATE" "notice"
sc inspector check submit "$CHECK" >/dev/null
photo "$TMP/signature.jpg" "王建国"
signed=$(conform governance "$(sc inspector check sign-off "$CHECK" --name 王建国 --role 物业经理 \
           --signature "$TMP/signature.jpg" --gps 32.2049,118.7851)" "check sign-off")
[[ $(jq -r .op <<<"$signed") =~ ^[0-9a-f]{64}$ ]] || fail "check sign-off names its op: $signed"
expect_jq "$(conform status "$(sc inspector status)" status)" '.outbox > 0' true "status"
conform outbox "$(sc inspector outbox)" outbox >/dev/null
expect_jq "$(conform sync "$(sc inspector sync)" sync)" '.rejected | length' 0 "the inspector's sync"
sync_ok wuye supervisor

# ---- the governance commands ----
conform governance "$(sc wuye sign-for "$MAJOR")" sign-for >/dev/null
plan=$(conform governance "$(sc wuye plan "$MAJOR" --measures "更换老化管道" --person wuye \
         --funds 12000.50 --funds-source "物业维修基金" --interim "关闭总阀, 每日巡查" \
         --lead-official "街道 王主任")" plan)
[[ $(jq -r .op <<<"$plan") =~ ^[0-9a-f]{64}$ ]] || fail "plan names its op: $plan"
conform governance "$(sc wuye extension request "$MAJOR" --deadline "$(day 30)" --reason "管材未到货")" \
  "extension request" >/dev/null
sync_ok wuye supervisor
conform governance "$(sc supervisor extension reject "$MAJOR" --reason "不予延期")" "extension reject" >/dev/null
conform governance "$(sc supervisor plan-return "$MAJOR" --reason "资金来源不明")" plan-return >/dev/null
conform governance "$(sc supervisor deadline "$MAJOR" --deadline "$(day 10)" --reason "区安委会要求提前")" \
  deadline >/dev/null
conform governance "$(sc supervisor escalate "$LATE" --step reminder --level county --reason "逾期未整改")" \
  escalate >/dev/null
conform governance "$(sc supervisor stop-work "$MAJOR" --reason "危险作业未停")" stop-work >/dev/null
sync_ok supervisor wuye
conform governance "$(sc wuye extension request "$MAJOR" --deadline "$(day 40)" --reason "停工期间顺延")" \
  "extension request" >/dev/null
sync_ok wuye supervisor
conform governance "$(sc supervisor extension approve "$MAJOR")" "extension approve" >/dev/null

# ---- a conflict: the inspector and the supervisor edit one finding offline ----
sync_ok inspector
sc inspector finding set "$LATE" --desc "楼道堆物" >/dev/null
sc supervisor finding set "$LATE" --desc "飞线充电" >/dev/null
sync_ok inspector supervisor

# ---- the queries ----
conflicts=$(conform conflicts "$(sc supervisor conflicts)" conflicts)
expect_jq "$conflicts" '[.items[] | .id + ":" + .conflicts[0].field] | join(" ")' "$LATE:description" \
          "the open conflict"
review=$(conform review "$(sc supervisor review)" review)
expect_jq "$review" '[.conflicts[].id, .overdue[].id] | join(" ")' "$LATE $LATE" "review: conflict, overdue"
conform list_findings "$(sc supervisor list findings)" "list findings" >/dev/null
conform list_checks "$(sc supervisor list checks)" "list checks" >/dev/null
expect_jq "$(conform show "$(sc supervisor show "$CHECK")" "show a check")" '.sign_offs[0].name' 王建国 \
          "show a signed-off check"
expect_jq "$(conform show "$(sc supervisor show "$MAJOR")" "show a finding")" '.stop_work_in_force' true \
          "show a finding under governance"
expect_jq "$(conform verify "$(sc supervisor verify)" verify)" '.ok' true "verify"

# ---- the check bites ----
bites() {
  printf '%s' "$2" | PYTHONDONTWRITEBYTECODE=1 "${VALIDATE[@]}" "$1" 2>/dev/null &&
    fail "docs/schema/$1.json takes $3"
  return 0
}
bites review "$(jq -c '.extra = 1' <<<"$review")" "a field it does not document"
bites review "$(jq -c 'del(.needs_escalation)' <<<"$review")" "an answer without needs_escalation"
bites review "$(jq -c '.overdue[0].overdue = "yes"' <<<"$review")" "a finding's flag retyped"
bites conflicts "$(jq -c '.items[0].conflicts[0].field = "colour"' <<<"$conflicts")" "an unknown field name"
bites governance "$(jq -c '.op = "x"' <<<"$plan")" "an op that is no op id"
log_size >/dev/null
echo "OK"
