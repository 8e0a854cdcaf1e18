#!/usr/bin/env bash
# The bench/smoke test: run the whole harness on tiny sizes against real
# syncd processes and check that it produces well-formed results.  Timings
# are never judged here: a sanitizer build on a busy machine is slow, and
# that is fine.
#
#   bench/smoke.sh BUILD_DIR
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$1
OUT=$(mktemp -d "${TMPDIR:-/tmp}/sc-bench-smoke.XXXXXX")
trap 'rm -rf "$OUT"' EXIT

fail() { echo "bench/smoke: $*" >&2; exit 1; }

"$HERE/run.sh" "$BUILD" --smoke --out "$OUT" > "$OUT/stdout" 2> "$OUT/stderr" || {
    tail -n 30 "$OUT/stderr" >&2
    fail "the harness failed"
}

RAW=$OUT/raw.tsv
[[ -s $RAW ]] || fail "no raw.tsv"
# Every line: key, a finite number, a unit, a method.
awk -F'\t' 'NF != 4 || $1 !~ /^[a-z0-9_]+$/ || $2 !~ /^-?[0-9.]+(e[-+]?[0-9]+)?$/ || $3 == "" || $4 == "" {
    print "bad line " NR ": " $0; bad = 1 } END { exit bad }' "$RAW" >&2 || fail "malformed raw.tsv"
for key in ceil_verify_1t ceil_verify_2t ceil_sqlite_b100 ceil_sqlite_b1000 ingest_b100_d1 \
    ingest_b100_d8 ingest_b1000_d2 pull_wire_small pull_wire_big pull_client_small pull_client_mid \
    pull_client_big noop_p50_small noop_p50_big noop_round_trips_big noop_client_big_rounds \
    photos_c1_chunk1024 photos_c1_chunk8192 photos_c2_chunk1024 resume_resent_chunk1024 \
    resume_wait_s rss_devices20 rss_photos4_1mb rss_photos4_4mb latency_p50 latency_p99 \
    ceil_verify_2t_after ceil_sqlite_b100_after bench_background_cpu bench_background_cpu_ingest \
    client_record_p50 client_photos_adaptive client_photos_chunk1024 bench_total_s console_load \
    console_render_review console_render_overdue console_render_plans console_render_finding; do
    grep -q "^$key	" "$RAW" || fail "raw.tsv lacks $key"
done
# Protocol facts the harness checks as it goes must hold even here.
if grep -Eq '^(ingest|devices|latency)_rejected	' "$RAW"; then fail "ops were rejected"; fi
awk -F'\t' '$1 == "noop_round_trips_big" && $2 != 1 { exit 1 }' "$RAW" || fail "a no-op sync took more than one round trip"

MD=$OUT/latest.md
for section in "## Machine and software" "## Results" "## Method, figure by figure"; do
    grep -qF "$section" "$MD" || fail "latest.md lacks \"$section\""
done
grep -q '^| ingest, 100 ops/request, 1 device |' "$MD" || fail "latest.md lacks the ingest row"
grep -q 'make bench\|--smoke' "$MD" || fail "latest.md does not name its command"
echo "bench/smoke: ok ($(wc -l < "$RAW") figures)"
