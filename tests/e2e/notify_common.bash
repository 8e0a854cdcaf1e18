# notify_common.bash: what the webhook scenarios (tests/e2e/notify_*.sh)
# share, on top of cli_common.bash: the receiver (webhook_receiver.py) on
# 127.0.0.1, the settings naming it, and polling what it got and what the
# delivery log says.  Sourced, never run.
command -v python3 >/dev/null || fail "python3 is required"

R="$TMP/recv"
mkdir "$R"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TMP/hook.secret"
chmod 600 "$TMP/hook.secret"

# await_port VAR DIR LOG WHAT: wait up to 10 s for the port a receiver writes to DIR/port, into VAR.
await_port() {
  local i
  for i in $(seq 1 100); do
    [[ -s $2/port ]] && { printf -v "$1" '%s' "$(cat "$2/port")"; return 0; }
    sleep 0.1
  done
  cat "$3" >&2
  fail "$4 did not start"
}

# start_receiver PORT: the receiver on PORT (0: any); sets PORT and RECV_PID.
start_receiver() {
  rm -f "$R/port"
  python3 "$SC_SOURCE_DIR/tests/e2e/webhook_receiver.py" "$R" "$TMP/hook.secret" "$1" \
    >>"$TMP/recv.log" 2>&1 &
  RECV_PID=$!
  PIDS+=("$RECV_PID")
  await_port PORT "$R" "$TMP/recv.log" "the receiver"
}
stop_receiver() { kill "$RECV_PID"; wait "$RECV_PID" 2>/dev/null || true; }

# conf ATTEMPTS: the settings file, with both hooks on the receiver.
conf() {
  cat >"$TMP/syncd.conf" <<EOF
notify.hook.ops.url = http://127.0.0.1:$PORT/hook
notify.hook.ops.secret_file = $TMP/hook.secret
notify.hook.closures.url = http://127.0.0.1:$PORT/closures
notify.hook.closures.secret_file = $TMP/hook.secret
notify.hook.closures.events = finding.closed
notify.retry_base_ms = 200
notify.retry_max_s = 1
notify.timeout_s = 2
notify.scan_interval_s = 1
notify.max_attempts = $1
EOF
}

# got FILTER: `jq -s FILTER` over what the receiver got.
got() { jq -s -r "$1" "$R/got.jsonl" 2>/dev/null || echo; }
# delivered TYPE ENTITY [PATH]: how many verified deliveries of TYPE about ENTITY were taken (2xx).
delivered() {
  got "[.[] | select(.ok and .status < 300 and .path == \"${3:-/hook}\" and
        .payload.type == \"$1\" and .payload.entity == \"$2\")] | length"
}
# wait_until WHAT CMD...: poll CMD (true when it succeeds) for up to 30 s.
wait_until() {
  local what=$1 i
  shift
  for i in $(seq 1 150); do
    "$@" && return 0
    sleep 0.2
  done
  echo "--- receiver got:" >&2
  cat "$R/got.jsonl" >&2 2>/dev/null || true
  echo "--- notify log:" >&2
  "$SYNCD" notify log --data "$DATA" >&2 || true
  fail "waited 30 s for: $what"
}
is_delivered() { [[ $(delivered "$@") -ge 1 ]]; }
# nlog FILTER: `jq -s FILTER` over `syncd notify log --json`.
nlog() { "$SYNCD" notify log --data "$DATA" --json | jq -s -r "$1"; }

# start_hanging: a receiver that takes every request and never answers (webhook_hang.py); sets
# HANG_PORT.  hang FILTER: `jq -s FILTER` over what it saw (attempts opened and closed).
H="$TMP/hang"
mkdir "$H"
start_hanging() {
  python3 "$SC_SOURCE_DIR/tests/e2e/webhook_hang.py" "$H" >>"$TMP/hang.log" 2>&1 &
  PIDS+=("$!")
  await_port HANG_PORT "$H" "$TMP/hang.log" "the hanging receiver"
}

# chat_ops_conf CHAT_URL TIMEOUT_S [LINE...]: the settings file with two hooks, chat at CHAT_URL
# and ops on the receiver, attempts every notify.timeout_s without end, and the lines given.
chat_ops_conf() {
  {
    echo "notify.hook.chat.url = $1"
    echo "notify.hook.chat.secret_file = $TMP/hook.secret"
    echo "notify.hook.ops.url = http://127.0.0.1:$PORT/hook"
    echo "notify.hook.ops.secret_file = $TMP/hook.secret"
    echo "notify.timeout_s = $2"
    echo "notify.max_attempts = 1000"
    shift 2
    printf '%s\n' "$@"
  } >"$TMP/syncd.conf"
}
hang() { jq -s -r "$1" "$H/hang.jsonl" 2>/dev/null || echo; }
