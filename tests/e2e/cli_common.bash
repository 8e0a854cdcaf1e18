# cli_common.bash: what the scenario scripts (tests/e2e/*.sh) share: a temp
# dir, a real syncd on 127.0.0.1 with an ephemeral port, the register of
# scripts/make-register.sh, devices enrolled with the CLI, helpers for the
# score sheet and findings, and cleanup that always stops what was started
# (KEEP_TMP=1 keeps the temp dir to look at after a failure).  Sourced, never
# run (the .bash name keeps ctest from picking it up as a test).
set -euo pipefail

: "${SC_BIN_DIR:?SC_BIN_DIR must point at the build directory}"
: "${SC_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
SYNCD="$SC_BIN_DIR/syncd/syncd"
SPOT="$SC_BIN_DIR/client-lib/spotcheck"
command -v jq >/dev/null || { echo "jq is required (scripts/install-deps.sh installs it)" >&2; exit 1; }
[[ -x "$SPOT" ]] || { echo "spotcheck is not built at $SPOT" >&2; exit 1; }
if [[ ! -x "$SYNCD" ]]; then
  # syncd lands on main separately; until it does, say so loudly rather than fail obscurely.
  echo "SKIPPED: syncd is not built at $SYNCD" >&2
  exit 0
fi

SC_TMP_PREFIX=sc-e2e
source "$SC_SOURCE_DIR/tests/support/shell_common.bash"
# Fast retries against servers that are meant to be down.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"

DATA="$TMP/data"
admin() { "$SYNCD" admin --data "$DATA" "$@"; }

# start_syncd [SERVE-OPTIONS...]: serve the register in $DATA; sets URL and SYNCD_PID.
start_syncd() {
  # Empty the log first: the child opens it only after the fork, and until then
  # the loop below must see neither a missing file nor an earlier run's line.
  : >"$TMP/serve.log"
  "$SYNCD" serve --data "$DATA" --listen 127.0.0.1:0 "$@" >"$TMP/serve.log" 2>&1 &
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

# The register of DOMAIN.md §6 and §11 (scripts/make-register.sh, shared with
# `make run`): 市疫情防控指挥部 → … → 君安社区 → 君安花园物业, the compound
# T-JAHY it runs, two inspectors, a supervisor, the property company's
# contact (wuye), an auditor, and the 100-point 无疫 score sheet with its veto
# item.  make_register [INIT-OPTIONS...]: options for `syncd init` (--store URL).
TEMPLATE=no-epidemic-100
make_register() {
  "$SC_SOURCE_DIR/scripts/make-register.sh" "$SYNCD" "$DATA" "$@"
}

# log_size: the register's log size, as `syncd audit` counts it; the audit must hold.
log_size() {
  local out
  out=$("$SYNCD" audit --data "$DATA") || { echo "$out" >&2; fail "syncd audit failed"; }
  grep -q "OK: everything holds" <<<"$out" || fail "audit: $out"
  sed -n 's/^ *log entries checked: *\([0-9]*\).*/\1/p' <<<"$out"
}

# enroll NAME LOGIN [PASSVAR]: a replica $TMP/NAME.db enrolled as LOGIN.
enroll() {
  local name=$1 login=$2 passvar=${3:-}
  local code out
  code=$(admin enroll "$login")
  if [[ -n "$passvar" ]]; then
    out=$("$SPOT" --db "$TMP/$name.db" --json --passphrase-env "$passvar" enroll --server "$URL" --code "$code")
  else
    out=$("$SPOT" --db "$TMP/$name.db" --json enroll --plain-key --server "$URL" --code "$code")
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

# expect_no_replica NAME WHAT: nothing of replica NAME is on disk (no .db, -wal, -shm, .blobs/).
expect_no_replica() {
  local f
  for f in "$TMP/$1.db" "$TMP/$1.db-wal" "$TMP/$1.db-shm" "$TMP/$1.db.blobs"; do
    [[ ! -e $f ]] || fail "$2: $f was left behind"
  done
}

# expect_jq JSON FILTER EXPECTED WHAT: `jq -r FILTER` of JSON must print EXPECTED.
expect_jq() { expect_eq "$(jq -r "$2" <<<"$1")" "$3" "$4"; }

# expect_id VALUE WHAT: VALUE is an entity id (32 hex digits); prints it.
expect_id() {
  [[ $1 =~ ^[0-9a-f]{32}$ ]] || fail "$2: '$1' is not an entity id"
  printf '%s\n' "$1"
}

# day N: the date N days from today (UTC, as the client decides overdue), YYYY-MM-DD.
day() { date -u -d "$1 days" +%F; }

# photo FILE TEXT: a small file with JPEG magic bytes (the photo store reads MIME types from them).
photo() { printf '\xff\xd8\xff\xe0 %s' "$2" >"$1"; }

# sync_ok NAME...: sync each replica in turn; nothing it pushes may be rejected.
sync_ok() {
  local r out
  for r in "$@"; do
    out=$(sc "$r" sync)
    expect_jq "$out" '.rejected | length' 0 "ops rejected when $r synced: $out"
  done
}

# The 100-point 无疫 测评表 (tests/vectors/templates/no-epidemic-100.json), item codes in order.
SHEET_ITEMS=(org-leadership no-confirmed no-suspected no-close-contacts no-missed-key-persons
             publicity sanitation records effect duty)

# score_sheet NAME CHECK [ITEM=STATUS:POINTS[:NOTE] | ITEM=-]...: score the sheet's items on
# replica NAME; items not listed are met (full points), ITEM=- leaves one unscored.
score_sheet() {
  local name=$1 check=$2
  shift 2
  local item spec status points note s
  for item in "${SHEET_ITEMS[@]}"; do
    spec=
    for s in "$@"; do [[ ${s%%=*} == "$item" ]] && spec=${s#*=}; done
    if [[ $spec == - ]]; then
      continue
    elif [[ -z $spec ]]; then
      sc "$name" check score "$check" --item "$item" --status met >/dev/null
    else
      IFS=: read -r status points note <<<"$spec"
      sc "$name" check score "$check" --item "$item" --status "$status" --points "$points" \
        ${note:+--note "$note"} >/dev/null
    fi
  done
}

# new_check NAME [TARGET]: a draft open supervisory check (明查) on the score sheet; prints its id.
new_check() {
  expect_id "$(sc "$1" check open --target "${2:-T-JAHY}" --kind supervisory --disclosure open \
               --relation superior --template "$TEMPLATE" | jq -r .id)" "check open on $1"
}

# new_finding NAME CHECK DESC GRADE [ARGS...]: a finding on CHECK for the property company
# (junan-garden) to rectify; prints its id.
new_finding() {
  local name=$1 check=$2 desc=$3 grade=$4
  shift 4
  expect_id "$(sc "$name" finding add --check "$check" --desc "$desc" --grade "$grade" \
               --responsible junan-garden "$@" | jq -r .id)" "finding add on $name"
}

# start_with LOGIN...: the register, syncd, and one replica per login (named after it),
# enrolled and synced.
start_with() {
  make_register
  start_syncd
  local who
  for who in "$@"; do enroll "$who" "$who"; done
  sync_ok "$@"
}

# submitted_finding NAME DESC GRADE [ARGS...]: a new check on replica NAME with one finding,
# submitted (not synced); prints the finding's id.
submitted_finding() {
  local name=$1 check finding
  shift
  check=$(new_check "$name")
  finding=$(new_finding "$name" "$check" "$@")
  sc "$name" check submit "$check" >/dev/null
  printf '%s\n' "$finding"
}

# pg_start: a throwaway PostgreSQL server (tests/support/sctest_pg.sh) for this script, stopped at
# exit; sets PG_DIR, PG_PORT and PG_PW.  Without PostgreSQL installed the script ends there,
# skipped (in CI, sctest_pg.sh fails instead).
pg_start() {
  local rc=0 pg
  pg=$(bash "$SC_SOURCE_DIR/tests/support/sctest_pg.sh" start $$) || rc=$?
  if ((rc == 77)); then
    echo "SKIPPED: PostgreSQL is not installed" >&2
    exit 0
  fi
  ((rc == 0)) || fail "PostgreSQL did not start"
  read -r PG_DIR PG_PORT PG_PW <<<"$pg"
  trap 'bash "$SC_SOURCE_DIR/tests/support/sctest_pg.sh" stop "$PG_DIR"; cleanup' EXIT
}
