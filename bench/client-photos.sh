#!/usr/bin/env bash
# The client library's photo upload rate alone: the client_photos_* figures of
# bench/run.sh's photos phase, without the rest of `make bench`.
#
#   bench/client-photos.sh BUILD_DIR [ROUNDS]
#
# BUILD_DIR holds a build of syncd and bench/ (make bench uses build/bench, a
# Release build).  Each round makes a fresh base register (bench/base.sh) with
# two inspectors, starts a real `syncd serve` on 127.0.0.1 (an ephemeral port,
# default settings), and has sc-bench-client upload 50 photos of 4,000,000
# bytes in one sc_sync, once with the adaptive chunks and once with
# chunk_bytes = 1 MiB (the fixed chunk of earlier versions), the order
# alternating from round to round.  The result lines (bench/bench.h) go to
# stdout.  About 10 s per round (default 3).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/.." && pwd)
[[ $# -ge 1 ]] || { echo "usage: bench/client-photos.sh BUILD_DIR [ROUNDS]" >&2; exit 2; }
BUILD=$(cd "$1" && pwd)
ROUNDS=${2:-3}
SYNCD=$BUILD/syncd/syncd
FIXTURE=$BUILD/bench/sc-bench-fixture
CLIENT=$BUILD/bench/sc-bench-client
for b in "$SYNCD" "$FIXTURE" "$CLIENT"; do
    [[ -x $b ]] || { echo "bench/client-photos.sh: missing $b" >&2; exit 1; }
done
TEMPLATE=$SRC/tests/vectors/templates/no-epidemic-100.json
source "$HERE/base.sh"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sc-client-photos.XXXXXX")
SPID=
cleanup() {
    if [[ -n "$SPID" ]]; then kill -TERM "$SPID" 2>/dev/null || true; wait "$SPID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

for r in $(seq "$ROUNDS"); do
    reg=$WORK/reg
    make_base "$reg"
    "$FIXTURE" users "$reg" inspector 2 "photos-$r-" "$WORK/codes" > /dev/null
    : > "$WORK/syncd.out"
    "$SYNCD" serve --data "$reg" --listen 127.0.0.1:0 > "$WORK/syncd.out" 2> "$WORK/syncd.log" &
    SPID=$!
    url=
    for _ in $(seq 300); do
        url=$(awk '/^listening on / { print $3 }' "$WORK/syncd.out")
        [[ -n "$url" ]] && break
        sleep 0.05
    done
    [[ -n "$url" ]] || { echo "bench/client-photos.sh: syncd did not start" >&2; tail -n 5 "$WORK/syncd.log" >&2; exit 1; }
    order=(adaptive chunk1024)
    ((r % 2)) || order=(chunk1024 adaptive)
    n=0
    for mode in "${order[@]}"; do
        n=$((n + 1))
        extra=()
        [[ $mode == chunk1024 ]] && extra=(--chunk $((1 << 20)) --key chunk1024)
        "$CLIENT" photos --url "$url" --code "$(sed -n "${n}p" "$WORK/codes" | awk '{ print $3 }')" \
            --dir "$WORK/client" --world "$reg/bench-world.txt" --count 50 --size 4000000 "${extra[@]}"
        rm -rf "$WORK/client"
    done
    kill -TERM "$SPID"
    wait "$SPID" || { echo "bench/client-photos.sh: syncd exited with $?" >&2; exit 1; }
    SPID=
    rm -rf "$reg" "$WORK/codes"
done
