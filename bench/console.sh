#!/usr/bin/env bash
# The review console's benchmark (docs/console.md, "How fast"): how long each view of
# `spotcheck console` takes to draw in Debian's chromium (bench/console.mjs) over a
# supervisor's replica of a register of FINDINGS findings (default 10,000).  The goal: every
# view under 300 ms.
#
#   bench/console.sh BUILD_DIR [--findings N] [--out DIR]
#
# BUILD_DIR holds a Release build (make bench: build/bench).  The register is bench/ledger.sh's
# (base.sh's findings_register, cached in BUILD_DIR/bench-cache/ledger-N); a supervisor is
# added to a copy of it, syncd serves it, and sc-bench-client pulls the supervisor's replica
# with one sc_sync, as a tablet's first sync would.  Output: a table on stdout, and
# DIR/console.tsv (key, value, unit, method).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/.." && pwd)
source "$HERE/base.sh"
findings_args console.sh 10000 "$@"
SYNCD=$BUILD/syncd/syncd
FIXTURE=$BUILD/bench/sc-bench-fixture
CLIENT=$BUILD/bench/sc-bench-client
SPOT=$BUILD/client-lib/spotcheck
TEMPLATE=$SRC/tests/vectors/templates/no-epidemic-100.json
for b in "$SYNCD" "$FIXTURE" "$CLIENT" "$SPOT"; do
    [[ -x $b ]] || { echo "bench/console.sh: missing $b (build first: make bench)" >&2; exit 1; }
done
[[ -x /usr/bin/chromium && -d $SRC/tests/browser/node_modules/playwright-core ]] ||
    { echo "bench/console.sh: chromium and playwright-core are required (scripts/install-deps.sh --test)" >&2; exit 1; }
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
TSV=$OUT/console.tsv
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sc-bench-console-XXXXXX")
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT

say() { printf '%s\n' "$*" >&2; }

# wait_for FILE SED: the first line of FILE that SED prints, once there; fails after 30 s.
wait_for() {
    local v
    for _ in $(seq 300); do
        v=$(sed -n "$2" "$1" 2>/dev/null | head -n 1)
        [[ -n $v ]] && { printf '%s\n' "$v"; return 0; }
        sleep 0.1
    done
    echo "bench/console.sh: nothing in $1 after 30 s" >&2
    exit 1
}

reg=$(findings_register "$FINDINGS")
say "a supervisor's replica of the register: syncd serves a copy, sc-bench-client pulls it"
cp -a "$reg" "$WORK/reg"
"$FIXTURE" users "$WORK/reg" supervisor 1 console- "$WORK/codes"
: > "$WORK/syncd.out"
"$SYNCD" serve --data "$WORK/reg" --listen 127.0.0.1:0 > "$WORK/syncd.out" 2> "$WORK/syncd.log" &
PIDS+=($!)
url=$(wait_for "$WORK/syncd.out" '/^listening on / s/^listening on \([^ ]*\).*/\1/p')
"$CLIENT" pull --url "$url" --code "$(awk '{ print $3; exit }' "$WORK/codes")" --dir "$WORK/client" \
    --key console > "$WORK/pull.out"
kill -TERM "${PIDS[0]}" && wait "${PIDS[0]}" || true
PIDS=()

: > "$WORK/console.out"
"$SPOT" --db "$WORK/client/pull-console.db" --json console > "$WORK/console.out" 2> "$WORK/console.err" &
PIDS+=($!)
curl=$(wait_for "$WORK/console.out" 's/^{"url":"\([^"]*\)".*/\1/p')
printf 'console_bench_load\t%s\t\t1/5/15 min load average before the timed runs (%s cores)\n' \
    "$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' '/')" "$(nproc)" > "$TSV"
say "drawing each view (load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores)"
node "$HERE/console.mjs" "$curl" "${PIDS[0]}" | awk -F'\t' 'NF >= 4' >> "$TSV"
awk -F'\t' '{ printf "%-28s %10s %-3s %s\n", $1, $2, $3, $4 }' "$TSV"
echo "written to $TSV"
