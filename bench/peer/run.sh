#!/usr/bin/env bash
# bench/peer/run.sh BUILD_DIR [N]: Spotcheck's CLI against its peer, PouchDB,
# in one run on this machine: N findings (default 3,000) recorded offline and
# pushed with one sync, then a fresh device pulling them.  PouchDB 9 through
# express-pouchdb (pinned in package-lock.json, installed here by `npm ci`
# from the npm registry); Spotcheck through `spotcheck` against syncd, as
# make bench's cli phase runs them (BUILD_DIR holds a Release build: make
# bench makes build/bench).  Not part of make test.  Prints a table with the
# ratios; figures and logs stay in the directory it names.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
[[ $# -ge 1 ]] || { echo "usage: bench/peer/run.sh BUILD_DIR [N]" >&2; exit 2; }
BUILD=$(cd "$1" && pwd)
N=${2:-3000}
[[ $N =~ ^[1-9][0-9]*$ ]] || { echo "bench/peer/run.sh: N must be a positive number, not $N" >&2; exit 2; }
command -v node >/dev/null && command -v npm >/dev/null ||
  { echo "bench/peer/run.sh: needs node and npm (apt-get install nodejs npm)" >&2; exit 1; }
if [[ ! -d $HERE/node_modules || $HERE/package-lock.json -nt $HERE/node_modules ]]; then
  (cd "$HERE" && npm ci --no-audit --no-fund --ignore-scripts >&2)
fi
OUT=$(mktemp -d "${TMPDIR:-/tmp}/sc-peer.XXXXXX")
mkdir "$OUT/pouch"
echo "PouchDB: $N documents pushed, then pulled by a fresh database" >&2
node "$HERE/peer.js" "$N" "$OUT/pouch" >"$OUT/peer.tsv"
echo "Spotcheck: $N findings pushed with spotcheck sync, then a fresh tablet enrolled" >&2
BENCH_PHASES=cli BENCH_CLI_SIZES=$N BENCH_DUR=${BENCH_DUR:-0.5} \
  "$SRC/bench/run.sh" "$BUILD" --out "$OUT/spotcheck" >"$OUT/spotcheck.log" 2>&1 ||
  { tail -20 "$OUT/spotcheck.log" >&2; exit 1; }
cat "$OUT/peer.tsv" "$OUT/spotcheck/raw.tsv" | awk -F'\t' -v n="$N" '
  { v[$1] = $2 }
  END {
    pp = v["peer_push_" n]; pl = v["peer_pull_" n]
    sops = v["cli_push_" n]; qops = v["outbox_push" n]
    spush = sops * n / qops                     # findings per second in that push
    pull = v["cli_pull_" n]; fpull = v["cli_pull_findings_" n]
    printf "| N = %d | PouchDB | Spotcheck | ratio |\n|---|---:|---:|---:|\n", n
    printf "| push: %d findings recorded offline, then one sync | %.0f docs/s | %.0f findings/s (%.0f ops/s) | %.1f |\n", n, pp, spush, sops, spush / pp
    printf "| pull: a fresh device enrolls and syncs the register | %.0f docs/s | %.0f findings/s (%.0f ops/s) | %.1f |\n", pl, fpull, pull, fpull / pl
  }'
echo "figures: $OUT (peer.tsv, spotcheck/raw.tsv, spotcheck/latest.md)" >&2
