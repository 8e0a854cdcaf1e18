#!/usr/bin/env bash
# The Spotcheck benchmarks (docs/operations.md, "Benchmarks").
#
#   bench/run.sh BUILD_DIR [--smoke] [--out DIR]
#
# BUILD_DIR holds a build of syncd, the spotcheck library and bench/ (make
# bench uses build/bench, a Release build).  Every server is a real `syncd
# serve` on 127.0.0.1 with an ephemeral port and its default settings;
# every client runs on the same machine.  Each phase runs under `timeout`,
# so the whole run is bounded (about 4 minutes when the big register is
# cached in BUILD_DIR/bench-cache, a few more when it is built).
#
# Output: a table on stdout, and in DIR (default bench/results): raw.tsv
# (key, value, unit, method), latest.md (machine, versions, method, the
# command, every figure with its target, ratio and verdict) and the logs.
# --smoke runs every phase on tiny sizes for a few seconds (the bench/smoke
# test): it checks that the harness works, its figures mean nothing.
#
# Environment: BENCH_DUR (seconds per ceiling micro-run, default 2),
# BENCH_REBUILD=1 (rebuild the cached registers), BENCH_PHASES (which phases
# run after the ceilings: a space-separated subset of "ingest pull pg photos
# devices latency cli"; default all of them), BENCH_CLI_SIZES (the findings
# pushed through the CLI, default "3000 30000"; bench/peer/run.sh sets it).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/.." && pwd)
[[ $# -ge 1 ]] || { echo "usage: bench/run.sh BUILD_DIR [--smoke] [--out DIR]" >&2; exit 2; }
BUILD=$(cd "$1" && pwd)
shift
SMOKE=0
OUT="$HERE/results"
while [[ $# -gt 0 ]]; do
    case "$1" in
    --smoke) SMOKE=1 ;;
    --out) OUT=$2; shift ;;
    *) echo "bench/run.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
PHASES_ALL="ingest pull pg photos devices latency cli"
PHASES=${BENCH_PHASES:-$PHASES_ALL}
for p in $PHASES; do
    [[ " $PHASES_ALL " == *" $p "* ]] || { echo "bench/run.sh: BENCH_PHASES: no phase $p (the phases: $PHASES_ALL)" >&2; exit 2; }
done
want_phase() { [[ " $PHASES " == *" $1 "* ]]; }

SYNCD=$BUILD/syncd/syncd
FIXTURE=$BUILD/bench/sc-bench-fixture
LOADGEN=$BUILD/bench/sc-loadgen
CEIL=$BUILD/bench/sc-bench-ceilings
CLIENT=$BUILD/bench/sc-bench-client
SPOTCHECK=$BUILD/client-lib/spotcheck
for b in "$SYNCD" "$FIXTURE" "$LOADGEN" "$CEIL" "$CLIENT" "$SPOTCHECK"; do
    [[ -x $b ]] || { echo "bench/run.sh: missing $b (build first: make bench)" >&2; exit 1; }
done
TEMPLATE=$SRC/tests/vectors/templates/no-epidemic-100.json

# Sizes.  The smoke run keeps every phase and shrinks every number.
if ((SMOKE)); then
    DUR=${BENCH_DUR:-0.1}; PREFILL=2000
    INGEST_CONFIGS="100:1 100:8 1000:2"; INGEST_TOTAL=2000; INGEST_SECS=20
    SMALL=1000; MID=2000; BIG=3000; GROW_DEVICES=8
    NOOP=5; PHOTOS=2; PHOTO_MIB=1; MEM_DEVICES=20; MEM_SECS=1
    BLOB_AT_ONCE=4; LAT_SECS=2; RECORD_N=2
    PG_INGEST_CONFIGS="100:2"
    CLI_SIZES="200"; CLI_NOOP=3
    CACHE=$OUT/cache
else
    DUR=${BENCH_DUR:-2}; PREFILL=100000
    INGEST_CONFIGS=${BENCH_INGEST_CONFIGS:-"100:1 100:8 100:64 1000:1 1000:8 1000:64"}; INGEST_TOTAL=150000; INGEST_SECS=20
    SMALL=10000; MID=100000; BIG=1000000; GROW_DEVICES=1000
    NOOP=200; PHOTOS=50; PHOTO_MIB=4; MEM_DEVICES=1000; MEM_SECS=10
    BLOB_AT_ONCE=100; LAT_SECS=15; RECORD_N=20
    PG_INGEST_CONFIGS="100:8 1000:8"
    CLI_SIZES="3000 30000"; CLI_NOOP=20
    CACHE=$BUILD/bench-cache
fi

CLI_SIZES=${BENCH_CLI_SIZES:-$CLI_SIZES}
WORK=$OUT/work
RAW=$OUT/raw.tsv
LOGS=$OUT/logs
rm -rf "$WORK" "$LOGS"
mkdir -p "$WORK" "$LOGS" "$CACHE"
: > "$RAW"
T_START=$(date +%s)

SPID=
SPIDS=()
PG_DIR=
cleanup() {
    local p
    for p in "${SPIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    if [[ -n "$PG_DIR" ]]; then bash "$SRC/tests/support/sctest_pg.sh" stop "$PG_DIR" || true; fi
    if ((SMOKE)) || [[ -z "${BENCH_KEEP_WORK:-}" ]]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

say() { printf '[%4ds] %s\n' "$(($(date +%s) - T_START))" "$*" >&2; }
# record: run a benchmark program with a time limit, its result lines go to raw.tsv.
record() { # LIMIT_S LOGNAME CMD...
    local limit=$1 name=$2
    shift 2
    if ! timeout "$limit" "$@" > "$LOGS/$name.out" 2> "$LOGS/$name.err"; then
        echo "bench/run.sh: $name failed or timed out; its stderr:" >&2
        tail -n 20 "$LOGS/$name.err" >&2
        exit 1
    fi
    awk -F'\t' 'NF >= 4' "$LOGS/$name.out" >> "$RAW"
}

# ---- syncd ----

# start_syncd DIR: one more syncd serving DIR; SPID and URL are its own, URLS every running
# one's (comma-separated, as sc-loadgen takes them).  stop_syncd stops them all.
URL=
URLS=
start_syncd() { # DIR
    local dir=$1
    local conf=()
    [[ -n "${SYNCD_CONF:-}" ]] && conf=(--config "$SYNCD_CONF")
    : > "$dir/syncd.out" # exists before the poll below reads it (the child opens it later)
    "$SYNCD" serve --data "$dir" --listen 127.0.0.1:0 "${conf[@]}" > "$dir/syncd.out" 2> "$dir/syncd.log" &
    SPID=$!
    SPIDS+=("$SPID")
    for _ in $(seq 300); do
        URL=$(awk '/^listening on / { print $3 }' "$dir/syncd.out")
        if [[ -n "$URL" ]]; then
            URLS=${URLS:+$URLS,}$URL
            return 0
        fi
        kill -0 "$SPID" 2>/dev/null || break
        sleep 0.05
    done
    echo "bench/run.sh: syncd did not start on $dir:" >&2
    tail -n 5 "$dir/syncd.log" >&2
    exit 1
}
stop_syncd() {
    local p
    for p in "${SPIDS[@]}"; do
        kill -TERM "$p"
        wait "$p" || { echo "bench/run.sh: syncd exited with $?" >&2; exit 1; }
    done
    SPIDS=()
    SPID=
    URLS=
}

# rename_since MARK SED: apply a sed substitution to the lines of raw.tsv after line MARK (the
# figures of the run just recorded, whose keys another phase's figures share).
rename_since() { # MARK SED
    { head -n "$1" "$RAW"; tail -n +"$(($1 + 1))" "$RAW" | sed "$2"; } > "$RAW.tmp"
    mv "$RAW.tmp" "$RAW"
}

# lock_figures KEY: the register's write lock as the running syncd saw it (their /metrics,
# summed; docs/performance.md): mean hold and wait per write transaction, hold per op.
lock_figures() { # KEY
    local u
    for u in ${URLS//,/ }; do curl -fsS "$u/metrics"; done | awk -v key="$1" '
        $1 == "syncd_register_lock_hold_seconds_sum" { hs += $2 }
        $1 == "syncd_register_lock_hold_seconds_count" { hc += $2 }
        $1 == "syncd_register_lock_wait_seconds_sum" { ws += $2 }
        $1 == "syncd_commit_ops_sum" { ops += $2 }
        $1 == "syncd_ingest_commits_total" { commits += $2 }
        END {
            if (hc == 0 || ops == 0 || commits == 0) exit
            printf "%s_hold_us\t%.1f\tus\tmean time a write transaction held the register write lock (judge, append, checkpoint, commit)\n", key, 1e6 * hs / hc
            printf "%s_wait_us\t%.1f\tus\tmean time a write transaction waited for that lock\n", key, 1e6 * ws / hc
            printf "%s_hold_us_per_op\t%.2f\tus\tlock held per op: all hold time over the ops of the group commits\n", key, 1e6 * hs / ops
            printf "%s_ops_per_commit\t%.1f\tops\tops per group commit\n", key, ops / commits
        }' >> "$RAW"
}

# ---- registers ----

# make_base DIR: the operator's part (bench/base.sh).
source "$HERE/base.sh"

# A copy of the base register with users and one-time codes for a phase.
BASE=$WORK/base
phase_register() { # NAME "ROLE:COUNT ..." -> sets REG and CODES
    REG=$WORK/$1
    CODES=$WORK/$1.codes
    rm -rf "$REG"
    cp -a "$BASE" "$REG"
    add_users "$2"
}
add_users() { # "ROLE:COUNT ..." into REG, their codes into CODES
    : > "$CODES"
    local spec role count
    for spec in $1; do
        role=${spec%%:*}
        count=${spec##*:}
        "$FIXTURE" users "$REG" "$role" "$count" "$role-" "$CODES"
    done
}

# Mixed inspectors and supervisors in one codes file, interleaved.
mixed_codes() { # FILE_IN FILE_OUT
    awk '$1 == "inspector" { i[ni++] = $0 } $1 == "supervisor" { s[ns++] = $0 }
         END { for (k = 0; k < ni || k < ns; k++) { if (k < ni) print i[k]; if (k < ns) print s[k] } }' "$1" > "$2"
}

# ---- 0. the machine ----

{
    echo "date	$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "machine	$(nproc) vCPU, $(awk '/MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
    echo "cpu	$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
    echo "kernel	$(uname -sr)"
    echo "filesystem	$(df -T "$OUT" | awk 'NR == 2 { print $2 " on " $1 }')"
    echo "compiler	$(${CC:-cc} --version 2>/dev/null | head -1)"
    echo "libs	libsodium $(pkg-config --modversion libsodium), SQLite $(pkg-config --modversion sqlite3), protobuf-c $(pkg-config --modversion libprotobuf-c), libcurl $(pkg-config --modversion libcurl), libmicrohttpd $(pkg-config --modversion libmicrohttpd)"
    echo "commit	$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$SRC" diff --quiet -- . ':!bench/results' 2>/dev/null || echo ' (with uncommitted changes)')"
    echo "load	$(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min load average at the start)"
} > "$OUT/env.tsv"
say "machine: $(awk -F'\t' '$1 == "cpu" { print $2 }' "$OUT/env.tsv"), $(nproc) vCPU"

# CPU seconds (all CPUs, all processes) since boot, from /proc/stat.
busy_cpu_s() {
    awk -v hz="$(getconf CLK_TCK)" '/^cpu / { print ($2 + $3 + $4 + $7 + $8 + $9) / hz }' /proc/stat
}
# CPU seconds used by this script's finished children (every program and syncd it started and
# waited for), from the `times` builtin; must run in this shell, sets CHILD_S.
children_cpu() {
    times > "$WORK/times"
    CHILD_S=$(awk 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, p, /[ms]/); t += p[1] * 60 + p[2] } print t }' "$WORK/times")
}
# Share of the machine used by processes outside this run since mark_load; recorded as KEY.
mark_load() { children_cpu; L_C0=$CHILD_S; L_B0=$(busy_cpu_s); L_W0=$(date +%s.%N); }
record_load() { # KEY WHAT
    children_cpu
    awk -v b0="$L_B0" -v c0="$L_C0" -v w0="$L_W0" -v c1="$CHILD_S" -v b1="$(busy_cpu_s)" \
        -v w1="$(date +%s.%N)" -v n="$(nproc)" -v key="$1" -v what="$2" 'BEGIN {
        o = (b1 - b0) - (c1 - c0); if (o < 0) o = 0
        printf "%s\t%.1f\t%%\tshare of the %d CPUs used by other processes during %s (should be ~0)\n", key, 100 * o / ((w1 - w0) * n), n, what }' >> "$RAW"
}
mark_load
RUN_C0=$L_C0 RUN_B0=$L_B0 RUN_W0=$L_W0

# ---- 1. ceilings, in this run ----

# Measured before and again after the ingest phase (suffix _after); the ratios use the higher of
# the two, so a busy moment while the ceilings ran cannot flatter ingest.
say "ceilings: Ed25519 verify (1, 2 threads), SQLite durable inserts (100, 1000 rows/txn)"
record 120 ceil-verify "$CEIL" verify "$DUR"
record 300 ceil-sqlite "$CEIL" sqlite "$WORK" "$DUR" "$PREFILL"

# ---- 2. the base register ----

say "base register: syncd init + syncd admin (org tree, 16 targets, the 100-point sheet)"
make_base "$BASE"

# ---- 3. ingest ----

phase_ingest() {
    mark_load
    for cfg in $INGEST_CONFIGS; do
        batch=${cfg%%:*}
        devs=${cfg##*:}
        half=$(((devs + 1) / 2))
        say "ingest: $devs device(s), $batch ops per request"
        if ((devs > 1)); then
            phase_register "ingest-$batch-$devs" "inspector:$half supervisor:$half"
        else
            phase_register "ingest-$batch-$devs" "supervisor:1"
        fi
        mixed_codes "$CODES" "$CODES.mixed"
        start_syncd "$REG"
        record 180 "ingest-$batch-$devs" "$LOADGEN" ingest --url "$URL" --world "$REG/bench-world.txt" \
            --codes "$CODES.mixed" --devices "$devs" --batch "$batch" --total "$INGEST_TOTAL" \
            --seconds "$INGEST_SECS"
        lock_figures "lock_sqlite_b${batch}_d${devs}"
        stop_syncd
        rm -rf "$REG"
    done
    record_load bench_background_cpu_ingest "the ingest phase"
    say "ceilings again, after ingest"
    record 120 ceil-verify-after "$CEIL" verify "$DUR"
    record 300 ceil-sqlite-after "$CEIL" sqlite "$WORK" "$DUR" "$PREFILL"
    # record appended the second measurement under the first one's keys: rename those lines.
    awk -F'\t' 'BEGIN { OFS = "\t" } $1 ~ /^ceil_/ { if (seen[$1]++) $1 = $1 "_after" } { print }' "$RAW" > "$RAW.tmp"
    mv "$RAW.tmp" "$RAW"
}

# ---- 4. the big registers (cached) ----

# The review console over the replica a client pulled (bench/console.mjs): how long each view
# takes to draw, in Debian's chromium.  On the mid register's replica: some 14,000 findings.
CONSOLE_KEY=mid
console_phase() { # REPLICA
    local out=$WORK/console.out cpid url
    if [[ ! -x /usr/bin/chromium || ! -d $SRC/tests/browser/node_modules/playwright-core ]]; then
        say "console: skipped (no chromium or playwright-core: scripts/install-deps.sh --test)"
        return 0
    fi
    : > "$out"
    "$BUILD/client-lib/spotcheck" --db "$1" --json console > "$out" 2> "$LOGS/console-server.err" &
    cpid=$!
    for _ in $(seq 100); do
        url=$(sed -n 's/^{"url":"\([^"]*\)".*/\1/p' "$out")
        [[ -n "$url" ]] && break
        sleep 0.1
    done
    say "console: drawing each view over the replica"
    record 600 console node "$HERE/console.mjs" "$url" "$cpid"
    kill -TERM "$cpid"
    wait "$cpid" || true
}

phase_pull() {
    STAMP="opgen-v1 schema-$(grep -m1 'define SD_SCHEMA_VERSION' "$SRC/syncd/store/store.h" | awk '{ print $3 }') small=$SMALL mid=$MID big=$BIG"
    if [[ "${BENCH_REBUILD:-0}" == 1 ]] || [[ "$(cat "$CACHE/stamp" 2>/dev/null)" != "$STAMP" ]]; then
        say "building the $SMALL, $MID and $BIG-op registers in-process (syncd's register API and group commit; cached in $CACHE)"
        rm -rf "$CACHE"/reg-* "$CACHE/stamp"
        grow=$WORK/grow
        cp -a "$BASE" "$grow"
        t0=$(date +%s)
        for size in $SMALL $MID $BIG; do
            timeout 1800 "$FIXTURE" grow "$grow" "$size" "$GROW_DEVICES"
            cp -a "$grow" "$CACHE/reg-$size"
        done
        rm -rf "$grow"
        echo "$STAMP" > "$CACHE/stamp"
        echo "$(($(date +%s) - t0))" > "$CACHE/build-seconds"
    fi
    printf 'build_big_s\t%s\ts\tbuilding the %s-op register in-process (cached; 0 when reused)\n' \
        "$(cat "$CACHE/build-seconds" 2>/dev/null || echo 0)" "$BIG" >> "$RAW"

    # ---- 5. pull and no-op sync ----

    pull_on() { # SIZE KEY CLIENT_PULL(0/1)
        local size=$1 key=$2 client=$3
        REG=$WORK/reg-$key
        CODES=$WORK/reg-$key.codes
        say "pull/no-op on the $size-op register: copying it"
        rm -rf "$REG"
        cp -a "$CACHE/reg-$size" "$REG"
        : > "$CODES"
        "$FIXTURE" users "$REG" auditor 2 "pull-$key-" "$CODES"
        start_syncd "$REG"
        say "pull/no-op on the $size-op register: wire rate, then $NOOP no-op syncs"
        record 600 "pull-wire-$key" "$LOADGEN" pull --url "$URL" --codes "$CODES" --max-pull 1000 \
            --noop "$NOOP" --seconds 500
        sed -i "s/^\(pull_wire\|pull_wire_mb\|pull_ops\|noop_p50\|noop_p99\|noop_round_trips\)\t/\1_$key\t/" "$RAW"
        if ((client)); then
            say "pull/no-op on the $size-op register: a fresh client pulls and materializes it"
            sed -n 2p "$CODES" > "$CODES.2"
            record 900 "pull-client-$key" "$CLIENT" pull --url "$URL" \
                --code "$(awk '{ print $3 }' "$CODES.2")" --dir "$WORK/client-$key" --key "$key" \
                --noop "$((NOOP / 4 + 1))"
            [[ $key == "$CONSOLE_KEY" ]] && console_phase "$WORK/client-$key/pull-$key.db"
            rm -rf "$WORK/client-$key"
        fi
        stop_syncd
        rm -rf "$REG"
    }
    pull_on "$SMALL" small 1
    pull_on "$MID" mid 1
    pull_on "$BIG" big 1
}

# ---- 5b. the register on PostgreSQL ----

# A PostgreSQL of Debian's packages in a temp dir (tests/support/sctest_pg.sh, with fsync on),
# one fresh database per register; syncd instances on copies of the data directory, as
# docs/operations.md deploys them.  The same load as the SQLite rows above, for comparison.
phase_pg() {
    PG_DBS=0
    pg_register() { # NAME "ROLE:COUNT ..." -> REG, CODES: a base register in a fresh database
        PG_DBS=$((PG_DBS + 1))
        local db="bench_$PG_DBS"
        PGPASSWORD=$PG_PW "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U spotcheck "$db"
        REG=$WORK/$1
        CODES=$WORK/$1.codes
        rm -rf "$REG"
        make_base "$REG" "postgresql://spotcheck:$PG_PW@127.0.0.1:$PG_PORT/$db"
        add_users "$2"
    }
    pg_rc=0
    pg_line=$(SCTEST_PG_DURABLE=1 bash "$SRC/tests/support/sctest_pg.sh" start $$) || pg_rc=$?
    if ((pg_rc == 77)); then
        say "PostgreSQL: not installed (scripts/install-deps.sh --bench installs it); its rows are skipped"
    elif ((pg_rc != 0)); then
        echo "bench/run.sh: PostgreSQL did not start" >&2
        exit 1
    else
        read -r PG_DIR PG_PORT PG_PW <<< "$pg_line"
        PG_BIN=$(cat "$PG_DIR/bin")
        printf 'postgresql\t%s\n' "$("$PG_BIN/postgres" --version)" >> "$OUT/env.tsv"
        for cfg in $PG_INGEST_CONFIGS; do
            batch=${cfg%%:*}
            devs=${cfg##*:}
            half=$(((devs + 1) / 2))
            for inst in 1 2; do
                say "PostgreSQL ingest: $devs devices, $batch ops per request, $inst syncd"
                pg_register "pg-ingest-$batch-$devs-$inst" "inspector:$half supervisor:$half"
                mixed_codes "$CODES" "$CODES.mixed"
                for i in $(seq 2 "$inst"); do cp -a "$REG" "$REG.$i"; done
                start_syncd "$REG"
                for i in $(seq 2 "$inst"); do start_syncd "$REG.$i"; done
                mark=$(wc -l < "$RAW")
                record 180 "pg-ingest-$batch-$devs-$inst" "$LOADGEN" ingest --url "$URLS" \
                    --world "$REG/bench-world.txt" --codes "$CODES.mixed" --devices "$devs" \
                    --batch "$batch" --total "$INGEST_TOTAL" --seconds "$INGEST_SECS"
                rename_since "$mark" "s/^\(ingest_b${batch}_d${devs}\)\(_p99\)\?\t/pg_\1_i${inst}\2\t/"
                lock_figures "lock_pg_b${batch}_d${devs}_i${inst}"
                stop_syncd
                rm -rf "$REG" "$REG".[0-9]
            done
        done
        say "PostgreSQL pull/no-op: growing a $SMALL-op register in-process"
        pg_register pg-pull "auditor:2"
        timeout 1800 "$FIXTURE" grow "$REG" "$SMALL" "$GROW_DEVICES"
        start_syncd "$REG"
        mark=$(wc -l < "$RAW")
        record 600 "pg-pull-wire" "$LOADGEN" pull --url "$URL" --codes "$CODES" --max-pull 1000 \
            --noop "$NOOP" --seconds 500
        rename_since "$mark" "s/^\(pull_wire\|pull_wire_mb\|pull_ops\|noop_p50\|noop_p99\|noop_round_trips\)\t/pg_\1_small\t/"
        stop_syncd
        rm -rf "$REG"
        bash "$SRC/tests/support/sctest_pg.sh" stop "$PG_DIR"
        PG_DIR=
    fi
}

# ---- 6. photos ----

phase_photos() {
    say "photos: uploads with hashing, a cut upload resumed, RSS with $BLOB_AT_ONCE uploads at once"
    phase_register photos "inspector:$((2 * BLOB_AT_ONCE + 8))"
    # The load generator uploads photos no op names, dozens per device: lift the per-device quota on
    # those (docs/operations.md), or it would measure the quota.  The smoke run cannot wait the
    # default 60 s for syncd to drop the cut upload's connection.
    {
        echo "blobs.unreferenced_max_count = 1000000"
        echo "blobs.unreferenced_max_bytes = 17592186044416"
        if ((SMOKE)); then echo "http.connection_timeout_s = 2"; fi
    } > "$WORK/photos.conf"
    SYNCD_CONF=$WORK/photos.conf
    start_syncd "$REG"
    SYNCD_CONF=
    # "4 MB photos": 4,000,000 bytes, so the 50% cut of the resume test falls inside a 1 MiB chunk.
    SIZE=$((PHOTO_MIB * 1000000))
    sed -n '1p' "$CODES" > "$CODES.a"
    sed -n '2p' "$CODES" > "$CODES.b"
    sed -n '3,4p' "$CODES" > "$CODES.c"
    sed -n '5p' "$CODES" > "$CODES.d"
    record 120 photos-1m "$LOADGEN" photos --url "$URL" --codes "$CODES.a" --count "$PHOTOS" --size "$SIZE" --chunk $((1 << 20))
    record 120 photos-8m "$LOADGEN" photos --url "$URL" --codes "$CODES.b" --count "$PHOTOS" --size "$SIZE" --chunk $((8 << 20))
    record 120 photos-2c "$LOADGEN" photos --url "$URL" --codes "$CODES.c" --count "$PHOTOS" --size "$SIZE" --chunk $((1 << 20)) --conns 2
    # The same photos through the client library: one sc_sync, adaptive chunks, then fixed 1 MiB
    # ones; before the memory runs below write their 2 GB, as the figures above were.
    say "photos: $PHOTOS through sc_sync, adaptive chunks and fixed 1 MiB chunks"
    sed -n '6p' "$CODES" > "$CODES.g"
    sed -n '7p' "$CODES" > "$CODES.h"
    record 300 client-photos "$CLIENT" photos --url "$URL" --code "$(awk '{ print $3 }' "$CODES.g")" \
        --dir "$WORK/client-photos" --world "$REG/bench-world.txt" --count "$PHOTOS" --size "$SIZE"
    record 300 client-photos-1m "$CLIENT" photos --url "$URL" --code "$(awk '{ print $3 }' "$CODES.h")" \
        --dir "$WORK/client-photos" --world "$REG/bench-world.txt" --count "$PHOTOS" --size "$SIZE" \
        --chunk $((1 << 20)) --key chunk1024
    rm -rf "$WORK/client-photos"
    record 150 resume "$LOADGEN" resume --url "$URL" --codes "$CODES.d" --size "$SIZE" --chunk $((1 << 20)) --seconds 120
    sed -n "9,$((8 + BLOB_AT_ONCE))p" "$CODES" > "$CODES.e"
    sed -n "$((9 + BLOB_AT_ONCE)),$((8 + 2 * BLOB_AT_ONCE))p" "$CODES" > "$CODES.f"
    record 300 blobmem-a "$LOADGEN" blobmem --url "$URL" --codes "$CODES.e" --count "$BLOB_AT_ONCE" \
        --size "$SIZE" --chunk $((1 << 20)) --pid "$SPID"
    record 300 blobmem-b "$LOADGEN" blobmem --url "$URL" --codes "$CODES.f" --count "$BLOB_AT_ONCE" \
        --size "$((4 * SIZE))" --chunk $((1 << 20)) --pid "$SPID"
    stop_syncd
    rm -rf "$REG"
}

# ---- 7. memory with many devices ----

phase_devices() {
    say "memory: $MEM_DEVICES devices syncing at once"
    phase_register devices "inspector:$((MEM_DEVICES / 2)) supervisor:$((MEM_DEVICES - MEM_DEVICES / 2))"
    mixed_codes "$CODES" "$CODES.mixed"
    # Every device here connects from 127.0.0.1, as behind a proxy on the same machine, so the
    # per-address connection limit is off as docs/operations.md says to set it there.
    printf 'http.connections_per_address = 0\n' > "$WORK/devices.conf"
    SYNCD_CONF=$WORK/devices.conf start_syncd "$REG"
    record 300 devices "$LOADGEN" devices --url "$URL" --world "$REG/bench-world.txt" \
        --codes "$CODES.mixed" --devices "$MEM_DEVICES" --seconds "$MEM_SECS" --pid "$SPID"
    stop_syncd
    rm -rf "$REG"
}

# ---- 8. latency under a steady mixed load ----

phase_latency() {
    if ((SMOKE)); then LAT_MIX="inspector:4 supervisor:2 auditor:1 responsible:1"; else LAT_MIX="inspector:32 supervisor:16 auditor:8 responsible:8"; fi
    LAT_N=0
    for s in $LAT_MIX; do LAT_N=$((LAT_N + ${s##*:})); done
    say "latency: $LAT_N mixed devices, one sync each every 250 ms, $LAT_SECS s"
    phase_register latency "$LAT_MIX"
    start_syncd "$REG"
    record 300 latency "$LOADGEN" latency --url "$URL" --world "$REG/bench-world.txt" --codes "$CODES" \
        --devices "$LAT_N" --seconds "$LAT_SECS" --interval 0.25

    # ---- 9. the client: recording ----

    say "client: recording $RECORD_N inspections offline"
    : > "$CODES.rec"
    "$FIXTURE" users "$REG" inspector 1 rec- "$CODES.rec"
    record 300 client-record "$CLIENT" record --url "$URL" --code "$(awk '{ print $3 }' "$CODES.rec")" \
        --dir "$WORK/client-rec" --world "$REG/bench-world.txt" --count "$RECORD_N"
    stop_syncd
    rm -rf "$REG" "$WORK/client-rec"
}

# ---- 10. as a user sees it: the spotcheck CLI ----

# A tablet back from the field with N findings recorded offline (sc-bench-client outbox, through
# the library) runs `spotcheck sync`; then a fresh tablet enrolls, which pulls the whole register,
# and syncs; then no-op syncs.  Each is one CLI process, timed from outside (wall), and
# `sync --timings` says where a sync's time went.
cli_emit_timings() { # KEY FILE: the phases of `spotcheck sync --timings` as figures
    awk -v key="$1" '/^timings:/ {
        for (i = 1; i <= NF; i++) {
            if ($i == "open") printf "%s_open\t%s\tms\tprocess start and replica open\n", key, $(i + 1)
            if ($i == "status") printf "%s_status\t%s\tms\treading the outbox standing\n", key, $(i + 1)
            if ($i == "push") printf "%s_push\t%s\tms\tthe push round trips, their answers verified and applied\n", key, $(i + 1)
            if ($i == "pull") printf "%s_pull\t%s\tms\tthe pull round trips after the push\n", key, $(i + 1)
            if ($i == "after") printf "%s_after\t%s\tms\tphotos and the end of the sync\n", key, $(i + 1)
        }
    }' "$2" >> "$RAW"
}
cli_time() { # OUT_VAR CMD...: run CMD, wall seconds into OUT_VAR (bash's clock: no process of its own)
    local t0=$EPOCHREALTIME t1
    "${@:2}" > "$WORK/cli.out" 2> "$WORK/cli.err" || { echo "bench/run.sh: $2 ... failed:" >&2; cat "$WORK/cli.err" >&2; exit 1; }
    t1=$EPOCHREALTIME
    printf -v "$1" '%s' "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
}
phase_cli() {
    local n wall ops size i lat
    for n in $CLI_SIZES; do
        say "CLI: a tablet pushes $n findings recorded offline, a fresh one enrolls and pulls"
        phase_register "cli-$n" "inspector:1 auditor:1"
        start_syncd "$REG"
        record 1800 "cli-outbox-$n" "$CLIENT" outbox --url "$URL" \
            --code "$(awk '$1 == "inspector" { print $3; exit }' "$CODES")" --dir "$WORK" \
            --world "$REG/bench-world.txt" --count "$n" --key "push$n"
        ops=$(awk -F'\t' -v k="outbox_push$n" '$1 == k { print $2 }' "$RAW")
        # What set the phase up (the register's copy, the outbox), and what the phases before it
        # wrote (the 1M-op replica), is flushed before the clock starts: otherwise its writeback
        # lands in the sync's fsyncs (a 3,000-finding push: 0.69 s of wall time for 0.44 s of its
        # phases without the flush, 0.57 s for 0.52 s with it, in two runs of make bench).
        sync
        cli_time wall timeout 600 "$SPOTCHECK" --db "$WORK/push$n.db" sync --timings
        printf 'cli_push_%s\t%s\tops/s\t`spotcheck sync` of %s ops queued offline (%s findings), one process, wall\n' \
            "$n" "$(awk -v o="$ops" -v w="$wall" 'BEGIN { print o / w }')" "$ops" "$n" >> "$RAW"
        cli_emit_timings "cli_push_$n" "$WORK/cli.err"
        size=$(curl -fsS "$URL/metrics" | awk '$1 == "syncd_log_size" { print $2 }')
        sync
        cli_time wall timeout 600 "$SPOTCHECK" --db "$WORK/fresh$n.db" enroll --server "$URL" \
            --code "$(awk '$1 == "auditor" { print $3; exit }' "$CODES")" --plain-key
        printf 'cli_pull_%s\t%s\tops/s\t`spotcheck enroll` of a fresh tablet (an auditor), which pulls, verifies and folds the %s-op register, one process, wall\n' \
            "$n" "$(awk -v o="$size" -v w="$wall" 'BEGIN { print o / w }')" "$size" >> "$RAW"
        printf 'cli_pull_findings_%s\t%s\tfindings/s\tthe same enroll, counted in findings (%s of them in the register), as the peer counts documents\n' \
            "$n" "$(awk -v o="$n" -v w="$wall" 'BEGIN { print o / w }')" "$n" >> "$RAW"
        lat=()
        for i in $(seq "$CLI_NOOP"); do
            cli_time wall "$SPOTCHECK" --db "$WORK/fresh$n.db" sync --timings
            lat+=("$wall")
        done
        cli_emit_timings "cli_noop_$n" "$WORK/cli.err"
        printf 'cli_noop_%s_p50\t%s\tms\t`spotcheck sync` with nothing to push or pull, one process, wall; median of %s\n' \
            "$n" "$(printf '%s\n' "${lat[@]}" | sort -g | awk '{ v[NR] = $1 } END { print 1000 * v[int((NR + 1) / 2)] }')" "$CLI_NOOP" >> "$RAW"
        stop_syncd
        rm -rf "$REG" "$WORK/push$n.db"* "$WORK/fresh$n.db"*
    done
}

for phase in $PHASES_ALL; do
    if want_phase "$phase"; then
        "phase_$phase"
    fi
done

L_C0=$RUN_C0 L_B0=$RUN_B0 L_W0=$RUN_W0
record_load bench_background_cpu "the whole run"
T_TOTAL=$(($(date +%s) - T_START))
printf 'bench_total_s\t%s\ts\twall time of this run\n' "$T_TOTAL" >> "$RAW"
say "done in ${T_TOTAL} s"

# ---- 10. the report ----

CMD="make bench"
((SMOKE)) && CMD="bench/run.sh BUILD_DIR --smoke"
"$HERE/report.sh" "$RAW" "$OUT/env.tsv" "$CMD" > "$OUT/latest.md"
awk '/^## Results/ { on = 1; next } /^## / { on = 0 } on' "$OUT/latest.md"
echo "report: $OUT/latest.md" >&2
