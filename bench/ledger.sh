#!/usr/bin/env bash
# The ledger benchmark (docs/reports.md, "How fast"): `syncd report ledger`
# over a register of FINDINGS findings, as CSV and as XLSX, with its
# wall-clock and CPU seconds and peak RSS (GNU time), and the same over a register
# a tenth the size, so the two RSS figures show whether memory grows with
# the rows.  The goal (issue 15): 100,000 findings in under 10 s, in
# constant memory.
#
#   bench/ledger.sh BUILD_DIR [--findings N] [--out DIR]
#
# BUILD_DIR holds a Release build of syncd and bench/ (make bench: build/bench).
# The registers are made as bench/run.sh makes its big ones: the base of
# bench/base.sh (syncd init and syncd admin), then `sc-bench-fixture grow`,
# whose inspection cycles (bench/opgen.h) raise 3 findings per 20 or 23 ops,
# through syncd's own ingest path.  They are cached in
# BUILD_DIR/bench-cache/ledger-N (BENCH_REBUILD=1 makes them anew).
# Output: a table on stdout, and DIR/ledger.tsv (key, value, unit, method).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/.." && pwd)
source "$HERE/base.sh"
findings_args ledger.sh 100000 "$@"
SYNCD=$BUILD/syncd/syncd
FIXTURE=$BUILD/bench/sc-bench-fixture
TEMPLATE=$SRC/tests/vectors/templates/no-epidemic-100.json
for b in "$SYNCD" "$FIXTURE"; do
    [[ -x $b ]] || { echo "bench/ledger.sh: missing $b (build first: make bench)" >&2; exit 1; }
done
[[ -x /usr/bin/time ]] || { echo "bench/ledger.sh: GNU time (/usr/bin/time) is required" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "bench/ledger.sh: sqlite3 is required" >&2; exit 1; }
mkdir -p "$OUT" "$BUILD/bench-cache"
OUT=$(cd "$OUT" && pwd)
TSV=$OUT/ledger.tsv
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sc-bench-ledger-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
: > "$TSV"

say() { printf '%s\n' "$*" >&2; }

# measure KEY DIR FORMAT: one ledger, timed; records seconds and peak RSS.
measure() {
    local key=$1 dir=$2 fmt=$3 rows
    /usr/bin/time -f '%e %U %S %M' -o "$WORK/time" "$SYNCD" report ledger --data "$dir" \
        --format "$fmt" --out "$WORK/ledger.$fmt" > "$WORK/summary"
    rows=$(sed "s/.*: \([0-9]*\) finding.*/\1/" "$WORK/summary")
    read -r secs user sys kib < "$WORK/time"
    cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
    printf 'ledger_%s_%s_s\t%s\ts\t%s findings, syncd report ledger --format %s (wall clock)\n' \
        "$key" "$fmt" "$secs" "$rows" "$fmt" >> "$TSV"
    printf 'ledger_%s_%s_cpu\t%s\ts\tCPU seconds of that run, user and system (GNU time %%U + %%S)\n' \
        "$key" "$fmt" "$cpu" >> "$TSV"
    printf 'ledger_%s_%s_rss\t%s\tKiB\tpeak RSS of that run (GNU time %%M)\n' "$key" "$fmt" "$kib" >> "$TSV"
    printf '%-8s %-5s %8s findings %8s s wall %8s s CPU %8s KiB peak RSS %10s bytes\n' "$key" \
        "$fmt" "$rows" "$secs" "$cpu" "$kib" "$(stat -c %s "$WORK/ledger.$fmt")"
}

small=$(findings_register $((FINDINGS / 10)))
big=$(findings_register "$FINDINGS")
# The machine's load when the timing starts: other work on the cores slows every figure.
printf 'ledger_load\t%s\t\t1/5/15 min load average before the timed runs (%s cores)\n' \
    "$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' '/')" "$(nproc)" >> "$TSV"
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
echo "findings in the registers: $(sqlite3 "$small/register.db" 'SELECT count(*) FROM entities WHERE type = 8'), $(sqlite3 "$big/register.db" 'SELECT count(*) FROM entities WHERE type = 8')"
for fmt in csv xlsx; do
    measure small "$small" "$fmt"
    measure big "$big" "$fmt"
done
echo "written to $TSV"
