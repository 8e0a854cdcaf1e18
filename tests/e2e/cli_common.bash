# cli_common.bash: what the CLI scenario scripts (tests/e2e/cli_*.sh) share:
# a temp dir, a real syncd on 127.0.0.1 with an ephemeral port, fixtures made
# with `syncd admin`, devices enrolled with the CLI, and cleanup that always
# stops what was started.  Sourced, never run (the .bash name keeps ctest
# from picking it up as a test).
set -euo pipefail

: "${SC_BIN_DIR:?SC_BIN_DIR must point at the build directory}"
SYNCD="$SC_BIN_DIR/syncd/syncd"
SPOT="$SC_BIN_DIR/client-lib/spotcheck"
command -v jq >/dev/null || { echo "jq is required (scripts/install-deps.sh installs it)" >&2; exit 1; }
[[ -x "$SPOT" ]] || { echo "spotcheck is not built at $SPOT" >&2; exit 1; }
if [[ ! -x "$SYNCD" ]]; then
  # syncd lands on main separately; until it does, say so loudly rather than fail obscurely.
  echo "SKIPPED: syncd is not built at $SYNCD" >&2
  exit 0
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sc-e2e-XXXXXX")
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]:-}"; do
    [[ -n "$pid" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  done
  rm -rf "$TMP"
}
trap cleanup EXIT
# Fast retries against servers that are meant to be down.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"

fail() { echo "FAIL: $*" >&2; exit 1; }
# expect_eq ACTUAL EXPECTED WHAT
expect_eq() { [[ "$1" == "$2" ]] || fail "$3: got '$1', expected '$2'"; }

DATA="$TMP/data"
admin() { "$SYNCD" admin --data "$DATA" "$@"; }

# start_syncd: serve the register in $DATA; sets URL and SYNCD_PID.
start_syncd() {
  # Empty the log first: the child opens it only after the fork, and until then
  # the loop below must see neither a missing file nor an earlier run's line.
  : >"$TMP/serve.log"
  "$SYNCD" serve --data "$DATA" --listen 127.0.0.1:0 >"$TMP/serve.log" 2>&1 &
  SYNCD_PID=$!
  PIDS+=("$SYNCD_PID")
  local i
  for i in $(seq 1 100); do
    URL=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$TMP/serve.log" | head -n 1)
    [[ -n "$URL" ]] && return 0
    kill -0 "$SYNCD_PID" 2>/dev/null || { cat "$TMP/serve.log" >&2; fail "syncd serve exited"; }
    sleep 0.1
  done
  cat "$TMP/serve.log" >&2
  fail "syncd did not say where it listens"
}

stop_syncd() {
  kill "$SYNCD_PID" 2>/dev/null || true
  wait "$SYNCD_PID" 2>/dev/null || true
}

# The fixtures of DOMAIN.md §11: a city, a property company (the responsible
# unit), a compound, an inspector, a supervisor, the unit's contact, the
# 100-point 无疫 score sheet with its veto item.
make_register() {
  "$SYNCD" init --data "$DATA" >/dev/null
  admin org add city --name 市疫情防控指挥部 --level city >/dev/null
  admin org add unit-a --name 君安物业 --parent city --level community >/dev/null
  admin target add T1 --name 君安花园小区 --org unit-a --type compound >/dev/null
  admin user add li --role inspector --org city --name 李检查 >/dev/null
  admin user add wang --role supervisor --org city --name 王督查 >/dev/null
  admin user add zhao --role responsible --org unit-a --name 赵物业 >/dev/null
  cat >"$TMP/sheet.json" <<'JSON'
{"code": "WUYI", "name": "无疫社区测评表", "version": 1, "pass_mark": 80,
 "items": [
  {"code": "1", "section": "组织管理", "text": "组织领导", "max_points": 5},
  {"code": "2", "section": "防控效果", "text": "无确诊病例", "max_points": 20, "veto": true},
  {"code": "3", "section": "防控效果", "text": "无疑似病例", "max_points": 15},
  {"code": "4", "section": "防控效果", "text": "无密切接触者", "max_points": 15},
  {"code": "5", "section": "防控措施", "text": "无重点人员漏管", "max_points": 10},
  {"code": "6", "section": "防控措施", "text": "防控宣传", "max_points": 10},
  {"code": "7", "section": "防控措施", "text": "卫生情况", "max_points": 10},
  {"code": "8", "section": "组织管理", "text": "防控资料", "max_points": 5},
  {"code": "9", "section": "防控效果", "text": "防控效果", "max_points": 5},
  {"code": "10", "section": "组织管理", "text": "值班守班", "max_points": 5}]}
JSON
  TEMPLATE=$(admin template add "$TMP/sheet.json")
}

# enroll NAME LOGIN [PASSVAR]: a replica $TMP/NAME.db enrolled as LOGIN.
enroll() {
  local name=$1 login=$2 passvar=${3:-}
  local code out
  code=$(admin enroll "$login")
  if [[ -n "$passvar" ]]; then
    out=$("$SPOT" --db "$TMP/$name.db" --json --passphrase-env "$passvar" enroll --server "$URL" --code "$code")
  else
    out=$("$SPOT" --db "$TMP/$name.db" --json enroll --server "$URL" --code "$code")
  fi
  [[ $(jq -r .device_id <<<"$out") =~ ^[0-9a-f]{32}$ ]] || fail "enroll $login: $out"
  expect_eq "$(jq -r .login <<<"$out")" "$login" "enrolled login"
}

# sc NAME ARGS...: the CLI on replica NAME, JSON out.
sc() {
  local name=$1
  shift
  "$SPOT" --db "$TMP/$name.db" --json "$@"
}

# expect_exit CODE CMD...: run CMD, which must fail with CODE and say why on stderr.
expect_exit() {
  local want=$1
  shift
  local rc=0
  "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
  [[ $rc -eq $want ]] || { cat "$TMP/out" "$TMP/err" >&2; fail "'$*' exited $rc, expected $want"; }
  [[ -s "$TMP/err" ]] || fail "'$*' failed without a message on stderr"
}
