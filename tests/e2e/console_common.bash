# console_common.bash: what the review console's scenarios share: a
# console started on a replica, with its port and one-time token.  Sourced
# after cli_common.bash, never run.

# start_console NAME: `spotcheck console` on replica NAME (stopped at exit); sets URL_WITH_TOKEN,
# PORT, TOKEN, CURL_BASE, ORIGIN and CONSOLE_PID.
start_console() {
  : >"$TMP/console-$1.out"
  "$SPOT" --db "$TMP/$1.db" --json console >"$TMP/console-$1.out" 2>"$TMP/console-$1.err" &
  CONSOLE_PID=$!
  PIDS+=("$CONSOLE_PID")
  local i url=
  for i in $(seq 1 100); do
    url=$(jq -r .url "$TMP/console-$1.out" 2>/dev/null || true)
    [[ -n $url && $url != null ]] && break
    kill -0 "$CONSOLE_PID" 2>/dev/null || { cat "$TMP/console-$1.err" >&2; fail "console exited"; }
    sleep 0.1
  done
  [[ $url =~ ^http://127\.0\.0\.1:([0-9]+)/#token=([0-9a-f]{64})$ ]] || fail "console URL: '$url'"
  URL_WITH_TOKEN=$url
  PORT=${BASH_REMATCH[1]}
  TOKEN=${BASH_REMATCH[2]}
  CURL_BASE="http://127.0.0.1:$PORT"
  ORIGIN="http://127.0.0.1:$PORT"
}
