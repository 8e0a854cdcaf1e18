# shell_common.bash: what every shell test shares: a temp dir removed at
# exit (KEEP_TMP=1 keeps it to look at after a failure), the processes to
# stop then (append their pids to PIDS), and the assertions.  Sourced,
# never run; set SC_TMP_PREFIX first to name the temp dir.
TMP=$(mktemp -d "${TMPDIR:-/tmp}/${SC_TMP_PREFIX:-sc-test}-XXXXXX")
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]:-}"; do
    [[ -n "$pid" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  done
  [[ -n ${KEEP_TMP:-} ]] && echo "kept $TMP" >&2 || rm -rf "$TMP"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
# expect_eq ACTUAL EXPECTED WHAT
expect_eq() { [[ "$1" == "$2" ]] || fail "$3: got '$1', expected '$2'"; }
