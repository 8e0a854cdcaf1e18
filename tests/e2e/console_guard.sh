#!/usr/bin/env bash
# The review console's guard and its JSON API, against real processes:
# syncd, a supervisor's replica served by `spotcheck console`, curl as the
# browser and as the attacker.  A request without the session header, with
# another session, with the session in a cookie (a host's cookies go to all
# its ports, so a cookie is no credential here), naming another Host, a
# write from a foreign Origin or without the CSRF token, a second exchange
# of the one-time token: each is refused with its reason, and nothing is
# written.  Then the API's own
# answers: a closure (销号) signed by the supervisor's device, which syncd
# holds after the console's sync; closing it again, and a role that may not
# close, refused as the library refuses them; photos served by hash,
# checked against it; the findings ledger's page and its CSV and XLSX
# downloads, the command's own files, and a filter refused with the valid
# values; and `spotcheck photo get`.
source "$(dirname "$0")/cli_common.bash"
source "$(dirname "$0")/console_common.bash"
command -v curl >/dev/null || fail "curl is required (scripts/install-deps.sh installs it)"

ALL=(inspector supervisor wuye)
start_with "${ALL[@]}"

# A finding with the unit's photo, rectified and verified: it awaits the supervisor's closure.
CHECK=$(new_check inspector)
score_sheet inspector "$CHECK"
GAS=$(new_finding inspector "$CHECK" "燃气管道老化" general --deadline "$(day 7)")
OTHER=$(new_finding inspector "$CHECK" "消防通道堵塞" general --deadline "$(day 7)")
sc inspector check submit "$CHECK" >/dev/null
sync_ok inspector wuye
photo "$TMP/valve.jpg" "new valve fitted"
sc wuye rectify "$GAS" --note "已更换" --photo "$TMP/valve.jpg" >/dev/null
sc wuye rectify "$OTHER" --note "已清理" >/dev/null
sync_ok wuye inspector
sc inspector revisit "$GAS" --result rectified --note "复查合格" >/dev/null
sc inspector revisit "$OTHER" --result rectified --note "复查合格" >/dev/null
sync_ok inspector supervisor wuye
expect_jq "$(sc supervisor review)" '[.awaiting_closure[].id] | sort | join(" ")' \
          "$(printf '%s\n' "$GAS" "$OTHER" | sort | paste -sd' ')" "awaiting closure"
SHA=$(sc supervisor show "$GAS" | jq -r '[.photos[]?.sha256] + [.. | objects | .sha256? // empty] | .[0]')
[[ $SHA =~ ^[0-9a-f]{64}$ ]] || fail "the rectification's photo: '$SHA'"

# req METHOD PATH [CURL ARGS...]: the answer's body into $TMP/body, its headers into
# $TMP/headers; prints the HTTP status.
req() {
  local method=$1 path=$2
  shift 2
  curl -s -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' -X "$method" "$@" "$CURL_BASE$path"
}
# expect_refused STATUS REASON WHAT: the last answer was this refusal, with its sentence.
expect_refused() {
  expect_eq "$CODE" "$1" "$3: HTTP status"
  expect_jq "$(cat "$TMP/body")" .error.reason "$2" "$3: reason"
  [[ -n $(jq -r .error.message "$TMP/body") ]] || fail "$3: no message"
}
# post PATH JSON: a write as the page makes it (session, Origin, CSRF, JSON); W_SESSION,
# W_ORIGIN, W_CSRF, W_TYPE and W_HOST set for the call put another in its place.
post() {
  local path=$1 body=$2
  req POST "$path" -H "X-Spotcheck-Session: ${W_SESSION:-$SESSION}" -H "Origin: ${W_ORIGIN:-$ORIGIN}" \
    -H "X-Spotcheck-CSRF: ${W_CSRF:-$CSRF}" -H "Content-Type: ${W_TYPE:-application/json}" \
    -H "Host: ${W_HOST:-127.0.0.1:$PORT}" --data-binary "$body"
}
# untouched WHAT: the supervisor's replica holds no new op and GAS still awaits closure.
untouched() {
  expect_jq "$(sc supervisor status)" .outbox 0 "$1: the outbox"
  expect_jq "$(sc supervisor show "$GAS")" .status verified "$1: the finding"
}

start_console supervisor

# The pages are served from the binary to anyone on this machine: they hold no data.
CODE=$(req GET /)
expect_eq "$CODE" 200 "the page"
grep -q '<script type="module" src="/app.js">' "$TMP/body" || fail "the page loads its module"
grep -qi '^content-security-policy:.*script-src .self.' "$TMP/headers" || fail "the page's CSP"
CODE=$(req GET /app.js)
expect_eq "$CODE" 200 "the script"
grep -qi '^content-type: text/javascript' "$TMP/headers" || fail "the script's type"

# Without the session, the API answers nothing.
CODE=$(req GET /api/status)
expect_refused 401 no_session "no session"
CODE=$(req GET "/api/photo/$SHA")
expect_refused 401 no_session "a photo without the session"
CODE=$(req GET /api/standing)
expect_refused 401 no_session "the bar's standing without the session"
CODE=$(req GET /api/status -H "X-Spotcheck-Session: $(printf '%064d' 0)")
expect_refused 401 no_session "a made-up session, before any session"

# The exchange: the token, from the console's own Origin, as JSON.
CODE=$(req POST /api/session -H "Origin: $ORIGIN" -H 'Content-Type: application/json' \
       --data-binary '{"token":"'"$(printf '%064d' 0)"'"}')
expect_refused 403 bad_token "a wrong token"
CODE=$(req POST /api/session -H "Origin: http://evil.example" -H 'Content-Type: application/json' \
       --data-binary '{"token":"'"$TOKEN"'"}')
expect_refused 403 foreign_origin "the token from a foreign Origin"
CODE=$(req POST /api/session -H 'Content-Type: application/json' --data-binary '{"token":"'"$TOKEN"'"}')
expect_refused 403 foreign_origin "the token without an Origin"
CODE=$(req POST /api/session -H "Origin: $ORIGIN" -H 'Content-Type: text/plain' \
       --data-binary '{"token":"'"$TOKEN"'"}')
expect_refused 415 not_json "the token as a form would send it"
CODE=$(req POST /api/session -H "Host: evil.example:$PORT" -H "Origin: $ORIGIN" \
       -H 'Content-Type: application/json' --data-binary '{"token":"'"$TOKEN"'"}')
expect_refused 421 foreign_host "the token through a rebound name"
CODE=$(req POST /api/session -H "Origin: $ORIGIN" -H 'Content-Type: application/json' \
       --data-binary '{"token":"'"$TOKEN"'"}')
expect_eq "$CODE" 200 "the exchange"
! grep -qi '^set-cookie:' "$TMP/headers" || fail "the exchange sets no cookie: $(cat "$TMP/headers")"
SESSION=$(jq -r .session "$TMP/body")
[[ $SESSION =~ ^[0-9a-f]{64}$ ]] || fail "the session: $(cat "$TMP/body")"
CSRF=$(jq -r .csrf "$TMP/body")
[[ $CSRF =~ ^[0-9a-f]{64}$ ]] || fail "the CSRF token: $(cat "$TMP/body")"
CODE=$(req POST /api/session -H "Origin: $ORIGIN" -H 'Content-Type: application/json' \
       --data-binary '{"token":"'"$TOKEN"'"}')
expect_refused 403 token_used "the token a second time"

# With the session: the replica, as the library answers it.
CODE=$(req GET /api/status -H "X-Spotcheck-Session: $SESSION")
expect_eq "$CODE" 200 "status with the session"
expect_jq "$(cat "$TMP/body")" .login supervisor "the console's user"
CODE=$(req GET /api/session -H "X-Spotcheck-Session: $SESSION")
expect_jq "$(cat "$TMP/body")" .csrf "$CSRF" "a reloaded page gets the CSRF token again"
CODE=$(req GET /api/status -H "X-Spotcheck-Session: $SESSION" -H "Host: localhost:$PORT")
expect_eq "$CODE" 200 "localhost names the console too"
CODE=$(req GET /api/status -H "X-Spotcheck-Session: $SESSION" -H "Host: evil.example:$PORT")
expect_refused 421 foreign_host "a rebound name with the session"
CODE=$(req GET /api/status -H "X-Spotcheck-Session: ${SESSION:0:63}0")
[[ ${SESSION:63:1} == 0 ]] && CODE=$(req GET /api/status -H "X-Spotcheck-Session: ${SESSION:0:63}1")
expect_refused 401 no_session "a session one digit off"
# What a page another local user serves on 127.0.0.1 would be given, had the console set a
# cookie (a host's cookies go to every port): the session in a cookie opens nothing.
CODE=$(req GET /api/status -b "sc_console=$SESSION")
expect_refused 401 no_session "the session in a cookie"
CODE=$(req GET "/api/photo/$SHA" -b "sc_console=$SESSION")
expect_refused 401 no_session "a photo with the session in a cookie"
CODE=$(req GET /api/session -b "sc_console=$SESSION")
expect_refused 401 no_session "the CSRF token with the session in a cookie"
# The bar's standing: who, and status's counts (from indexes, without the replica's hash).
standing_is() {
  local want got
  want=$(sc supervisor status | jq -c '{login, name, role, org, user, outbox, proven, rejected,
                                         photos_pending_upload, last_sync_ms}')
  CODE=$(req GET /api/standing -H "X-Spotcheck-Session: $SESSION")
  expect_eq "$CODE" 200 "$1: standing"
  got=$(jq -c '{login, name, role, org, user, outbox, proven, rejected, photos_pending_upload,
                last_sync_ms}' "$TMP/body")
  expect_eq "$got" "$want" "$1: standing as status counts it"
  expect_jq "$(cat "$TMP/body")" 'has("replica_hash")' false "$1: standing hashes nothing"
}
standing_is "before any change"
expect_jq "$(cat "$TMP/body")" .last_sync_ms "$(sc supervisor status | jq .last_sync_ms)" \
          "the replica's last sync, before any of the console's"
[[ $(jq .last_sync_ms "$TMP/body") =~ ^[0-9]+$ ]] || fail "the replica synced once: $(cat "$TMP/body")"
CODE=$(req GET /api/standing -H "X-Spotcheck-Session: $SESSION" -H "Host: evil.example:$PORT")
expect_refused 421 foreign_host "standing through a rebound name"
CODE=$(req GET /api/standing -H "X-Spotcheck-Session: ${SESSION:0:63}0")
[[ ${SESSION:63:1} == 0 ]] && CODE=$(req GET /api/standing -H "X-Spotcheck-Session: ${SESSION:0:63}1")
expect_refused 401 no_session "standing with a session one digit off"
CODE=$(post /api/standing '{}')
expect_eq "$CODE" 404 "standing is no action"
CODE=$(req GET /api/review -H "X-Spotcheck-Session: $SESSION")
expect_jq "$(cat "$TMP/body")" '.awaiting_closure | length' 2 "the review queue"
CODE=$(req GET "/api/queue?offset=1&limit=1" -H "X-Spotcheck-Session: $SESSION")
expect_jq "$(cat "$TMP/body")" '[.total, .offset, (.waiting | length), .waiting[0].id] | join(" ")' \
          "2 1 1 $(sc supervisor review | jq -r '[.awaiting_revisit[], .awaiting_closure[]][1].id')" \
          "the review queue's second page of one"

# Writes that lack any of Origin, CSRF, JSON: refused, and nothing is written.
close_body='{"finding":"'"$GAS"'","note":"销号"}'
CODE=$(W_ORIGIN=http://evil.example post /api/close "$close_body")
expect_refused 403 foreign_origin "a closure from a foreign Origin"
CODE=$(req POST /api/close -H "X-Spotcheck-Session: $SESSION" -H "X-Spotcheck-CSRF: $CSRF" \
       -H 'Content-Type: application/json' --data-binary "$close_body")
expect_refused 403 foreign_origin "a closure without an Origin"
CODE=$(req POST /api/close -H "X-Spotcheck-Session: $SESSION" -H "Origin: $ORIGIN" \
       -H 'Content-Type: application/json' --data-binary "$close_body")
expect_refused 403 bad_csrf "a closure without the CSRF token"
CODE=$(W_CSRF=$(printf '%064d' 0) post /api/close "$close_body")
expect_refused 403 bad_csrf "a closure with a wrong CSRF token"
CODE=$(W_TYPE=text/plain post /api/close "$close_body")
expect_refused 415 not_json "a closure sent as a form would send it"
CODE=$(W_SESSION=$(printf '%064d' 0) post /api/close "$close_body")
expect_refused 401 no_session "a closure with a wrong session"
CODE=$(req POST /api/close -b "sc_console=$SESSION" -H "Origin: $ORIGIN" -H "X-Spotcheck-CSRF: $CSRF" \
       -H 'Content-Type: application/json' --data-binary "$close_body")
expect_refused 401 no_session "a closure with the session in a cookie"
CODE=$(W_HOST=evil.example:$PORT post /api/close "$close_body")
expect_refused 421 foreign_host "a closure through a rebound name"
head -c 70000 /dev/zero | tr '\0' a >"$TMP/big"
CODE=$(post /api/note @"$TMP/big")
expect_eq "$CODE" 413 "a body over the limit"
CODE=$(post /api/close '{"finding":')
expect_eq "$CODE" 400 "a body that is not JSON"
untouched "after the refused writes"

# The closure, signed by the supervisor's device; again, it says who closed it.
CODE=$(post /api/close "$close_body")
expect_eq "$CODE" 200 "the closure: $(cat "$TMP/body")"
expect_jq "$(cat "$TMP/body")" .ok true "the closure's answer"
expect_jq "$(sc supervisor show "$GAS")" .status closed "closed in the replica"
standing_is "after the closure"
expect_jq "$(cat "$TMP/body")" .outbox 1 "the closure waits in the outbox"
# The detail's timeline names each author's role, as the replica knows it.
CODE=$(req GET "/api/show?id=$GAS" -H "X-Spotcheck-Session: $SESSION")
expect_jq "$(cat "$TMP/body")" \
  '[.history[] | select(.kind == "closure" or .kind == "rectification_report" or .kind == "revisit")
    | "\(.kind):\(.author_role)"] | join(" ")' \
  "rectification_report:responsible revisit:inspector closure:supervisor" "the authors' roles"
CODE=$(post /api/close "$close_body")
expect_eq "$CODE" 409 "closing it again"
expect_jq "$(cat "$TMP/body")" .error.status SC_ERR_INVALID_TRANSITION "closing it again"
grep -q 'already closed' "$TMP/body" || fail "closing again says so: $(cat "$TMP/body")"

# The dashboard: the statistics of a window and its two charts, drawn by the console as SVG.
CODE=$(req GET "/api/dashboard?from=$(day -6)&to=$(day 0)&by=day" -H "X-Spotcheck-Session: $SESSION")
expect_eq "$CODE" 200 "the dashboard: $(cat "$TMP/body")"
dash=$(cat "$TMP/body")
expect_jq "$dash" '[(.trend.buckets | length), (.trend.found | add), (.trend.closed | add)] | join(" ")' \
          "7 2 1" "a week by day: two found, one closed (销号)"
expect_jq "$dash" '.stats.groups[0].findings | [.total, .closed, .rectification_rate] | join(" ")' "2 1 0.5" \
          "the root's statistics"
/usr/bin/python3 - <<PY || fail "the dashboard's charts: $dash"
import json, sys, xml.etree.ElementTree as ET
d = json.loads(sys.argv[1] if len(sys.argv) > 1 else open("$TMP/body").read())
rate, trend = (ET.fromstring(d["charts"][k]) for k in ("rate", "trend"))
assert rate.tag == trend.tag == "{http://www.w3.org/2000/svg}svg"
texts = lambda e: [t.text for t in e.iter("{http://www.w3.org/2000/svg}text")]
assert "50.0%" in texts(rate) and "整改率（下级单位）" in texts(rate), texts(rate)
assert "发现问题" in texts(trend) and "销号" in texts(trend), texts(trend)
PY
CODE=$(req GET "/api/dashboard?from=$(day -6)&to=$(day 0)&by=year" -H "X-Spotcheck-Session: $SESSION")
expect_eq "$CODE" 400 "a dashboard by year"
expect_jq "$(cat "$TMP/body")" .error.message 'by "year" is not valid: one of day, week, month' "by year"
CODE=$(req GET "/api/dashboard?from=2026-02-30&to=$(day 0)" -H "X-Spotcheck-Session: $SESSION")
expect_eq "$CODE" 400 "a window from a day that is not one"
grep -q 'YYYY-MM-DD' "$TMP/body" || fail "the window refused in the library's words: $(cat "$TMP/body")"
CODE=$(req GET "/api/dashboard?from=2020-01-01&to=2026-12-31&by=day" -H "X-Spotcheck-Session: $SESSION")
expect_eq "$CODE" 400 "a window of too many days"
CODE=$(req GET "/api/dashboard?from=$(day -6)&to=$(day 0)&org=nowhere" -H "X-Spotcheck-Session: $SESSION")
expect_eq "$CODE" 404 "a dashboard of an org unit that does not exist"

# Photos by hash: the stored bytes, checked; an unknown hash and a malformed one refused.
CODE=$(req GET "/api/photo/$SHA" -H "X-Spotcheck-Session: $SESSION")
expect_eq "$CODE" 200 "the photo"
cmp -s "$TMP/body" "$TMP/valve.jpg" || fail "the photo served is not the one taken"
grep -qi '^content-type: image/jpeg' "$TMP/headers" || fail "the photo's type"
CODE=$(req GET "/api/photo/$(printf '%064d' 0)" -H "X-Spotcheck-Session: $SESSION")
expect_eq "$CODE" 404 "an unknown photo"
expect_jq "$(cat "$TMP/body")" .error.status SC_ERR_NOT_FOUND "an unknown photo"
CODE=$(req GET "/api/photo/..%2f..%2fetc" -H "X-Spotcheck-Session: $SESSION")
expect_eq "$CODE" 400 "a photo name that is not a hash"

# The findings ledger: its page and its downloads are reads behind the same guard, the rows
# sc_report_ledger's, the files byte for byte what `spotcheck report ledger` writes; a filter
# that is not valid is the library's refusal, naming the valid values; nothing is written.
hash_before=$(sc supervisor status | jq -r '[.replica_hash, .outbox] | join(" ")')
CODE=$(req GET /api/ledger.csv)
expect_refused 401 no_session "a ledger download without the session"
CODE=$(req GET /api/ledger -H "X-Spotcheck-Session: $SESSION" -H "Host: evil.example:$PORT")
expect_refused 421 foreign_host "the ledger through a rebound name"
CODE=$(req GET /api/ledger.xlsx -H "X-Spotcheck-Session: $SESSION" -H "Host: evil.example:$PORT")
expect_refused 421 foreign_host "a ledger download through a rebound name"
CODE=$(req GET "/api/ledger?status=done" -H "X-Spotcheck-Session: $SESSION")
expect_eq "$CODE" 400 "a ledger with a status that is not one"
expect_jq "$(cat "$TMP/body")" .error.message \
          'finding status "done" is not valid: one of open, submitted, verified, closed' "the status refused"
CODE=$(req GET "/api/ledger.csv?period=2026-13" -H "X-Spotcheck-Session: $SESSION")
expect_eq "$CODE" 400 "a ledger download with a period that is not one"
grep -q 'YYYY-Qn' "$TMP/body" || fail "the period refused names the forms: $(cat "$TMP/body")"
grep -qi '^content-disposition' "$TMP/headers" && fail "a refused download is not a file"
CODE=$(req GET "/api/ledger?org=nowhere" -H "X-Spotcheck-Session: $SESSION")
expect_eq "$CODE" 404 "a ledger of an org unit that does not exist"
CODE=$(req GET "/api/ledger?limit=201" -H "X-Spotcheck-Session: $SESSION")
expect_eq "$CODE" 400 "a page of more rows than the console sends"
CODE=$(req GET "/api/ledger?offset=1&limit=1&lang=en" -H "X-Spotcheck-Session: $SESSION")
expect_eq "$CODE" 200 "the ledger's second row: $(cat "$TMP/body")"
page=$(cat "$TMP/body")
expect_jq "$page" '[.totals.rows, (.rows | length), .headers[0], (.rows[0] | length)] | join(" ")' \
          "2 1 Finding $(jq '.headers | length' <<<"$page")" "one row of two, its cells under the headers"
expect_jq "$page" '.rows[0][0]' "$(printf '%s\n' "$GAS" "$OTHER" | sort | sed -n 2p)" "the second row, by id"
sc supervisor report ledger --format csv --out "$TMP/cli.csv" >/dev/null
sc supervisor report ledger --format xlsx --out "$TMP/cli.xlsx" --lang en >/dev/null
CODE=$(req GET /api/ledger.csv -H "X-Spotcheck-Session: $SESSION")
expect_eq "$CODE" 200 "the ledger as CSV"
grep -qi '^content-disposition: attachment; filename="ledger-findings.csv"' "$TMP/headers" ||
  fail "the CSV is a download: $(cat "$TMP/headers")"
grep -qi '^content-type: text/csv; charset=utf-8' "$TMP/headers" || fail "the CSV's type"
cmp -s "$TMP/body" "$TMP/cli.csv" || fail "the console's CSV is not the command's"
[[ $(head -c 3 "$TMP/body" | od -An -tx1 | tr -d ' ') == efbbbf ]] || fail "the CSV begins with a BOM"
CODE=$(req GET "/api/ledger.xlsx?lang=en" -H "X-Spotcheck-Session: $SESSION")
expect_eq "$CODE" 200 "the ledger as XLSX"
cp "$TMP/body" "$TMP/console.xlsx"
/usr/bin/python3 - "$TMP/console.xlsx" "$TMP/cli.xlsx" <<'PY' || fail "the console's XLSX is not the command's"
import sys, openpyxl
rows = [list(openpyxl.load_workbook(p, read_only=True).active.iter_rows(values_only=True)) for p in sys.argv[1:]]
assert rows[0] == rows[1] and len(rows[0]) == 3 and rows[0][0][0] == 'Finding', rows
PY
expect_eq "$(sc supervisor status | jq -r '[.replica_hash, .outbox] | join(" ")')" "$hash_before" \
          "the ledger's reads changed nothing"

# The sync button: the closure reaches syncd, and the inspector pulls it, signed by this device.
CODE=$(post /api/sync '{}')
expect_eq "$CODE" 200 "the sync starts"
for i in $(seq 1 100); do
  req GET /api/sync -H "X-Spotcheck-Session: $SESSION" >/dev/null
  [[ $(jq -r .running "$TMP/body") == false && $(jq -r .last "$TMP/body") != null ]] && break
  sleep 0.1
done
expect_jq "$(cat "$TMP/body")" .last.ok true "the console's sync: $(cat "$TMP/body")"
expect_jq "$(cat "$TMP/body")" .last.result.accepted 1 "the closure accepted by syncd"
sync_ok inspector
sup_key=$(sc supervisor status | jq -r .device_key)
expect_jq "$(sc inspector show "$GAS")" '[.status, .closed_by] | join(" ")' "closed $sup_key" \
          "syncd holds the closure by the supervisor's device"

# One record's inclusion proof, fetched from syncd and checked against the verified checkpoint:
# through the console, and through the CLI on another device's replica.
close_op=$(sc supervisor show "$GAS" | jq -r '.history[] | select(.kind == "closure") | .op')
close_index=$(sc supervisor show "$GAS" | jq -r '.history[] | select(.kind == "closure") | .log_index')
CODE=$(req GET "/api/prove?op=$close_op" -H "X-Spotcheck-Session: $SESSION")
expect_eq "$CODE" 200 "the closure's proof: $(cat "$TMP/body")"
expect_jq "$(cat "$TMP/body")" '[.verified, .log_index, .kind] | join(" ")' "true $close_index closure" \
          "the closure's proof"
expect_jq "$(sc inspector prove "$close_op")" .verified true "the closure proven on the inspector's tablet"
# An op still in the outbox has no proof yet, and says so.
sc supervisor note "$GAS" --text "照片已存档" >/dev/null
note_op=$(sc supervisor show "$GAS" | jq -r '.history[] | select(.kind == "note") | .op')
CODE=$(req GET "/api/prove?op=$note_op" -H "X-Spotcheck-Session: $SESSION")
expect_eq "$CODE" 409 "an op not in the log yet"
expect_jq "$(cat "$TMP/body")" .error.status SC_ERR_UNPROVEN "an op not in the log yet"
expect_exit 5 "$SPOT" --db "$TMP/supervisor.db" prove "$note_op"
grep -q "outbox" "$TMP/err" || fail "prove says the op waits: $(cat "$TMP/err")"

# A role that may not close: the unit's own console is refused, and nothing is written.
kill "$CONSOLE_PID"
wait "$CONSOLE_PID" || fail "the console did not stop cleanly on SIGTERM"
start_console wuye
CODE=$(req POST /api/session -H "Origin: $ORIGIN" -H 'Content-Type: application/json' \
       --data-binary '{"token":"'"$TOKEN"'"}')
SESSION=$(jq -r .session "$TMP/body")
CSRF=$(jq -r .csrf "$TMP/body")
CODE=$(post /api/close '{"finding":"'"$OTHER"'"}')
expect_eq "$CODE" 403 "the unit closing its own finding"
expect_jq "$(cat "$TMP/body")" .error.status SC_ERR_FORBIDDEN "the unit closing"
[[ -n $(jq -r .error.message "$TMP/body") ]] || fail "the refusal says why"
expect_jq "$(sc wuye status)" .outbox 0 "nothing recorded by the refused closure"
kill "$CONSOLE_PID"
wait "$CONSOLE_PID" || true

# Only loopback addresses.
expect_exit 2 "$SPOT" --db "$TMP/supervisor.db" console --listen 0.0.0.0:0

# `spotcheck photo get`: the bytes, checked; never over a file; a damaged store refused.
out=$(sc supervisor photo get "$SHA" "$TMP/out.jpg")
cmp -s "$TMP/out.jpg" "$TMP/valve.jpg" || fail "photo get wrote other bytes"
expect_jq "$out" .mime image/jpeg "photo get's type"
expect_exit 1 "$SPOT" --db "$TMP/supervisor.db" photo get "$SHA" "$TMP/out.jpg"
cmp -s "$TMP/out.jpg" "$TMP/valve.jpg" || fail "photo get overwrote a file"
expect_exit 3 "$SPOT" --db "$TMP/supervisor.db" photo get "$(printf '%064d' 0)" "$TMP/none.jpg"
[[ ! -e $TMP/none.jpg ]] || fail "a photo not found left a file"
stored="$TMP/supervisor.db.blobs/${SHA:0:2}/$SHA"
[[ -f $stored ]] || fail "the photo store holds $stored"
chmod u+w "$stored"
printf 'tampered' >>"$stored"
expect_exit 6 "$SPOT" --db "$TMP/supervisor.db" photo get "$SHA" "$TMP/bad.jpg"
grep -q 'does not match its hash' "$TMP/err" || fail "a damaged photo says so: $(cat "$TMP/err")"
[[ ! -e $TMP/bad.jpg ]] || fail "a damaged photo left a file"
echo "PASS"
