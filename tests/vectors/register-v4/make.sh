#!/usr/bin/env bash
# make.sh SOURCE_DIR BUILD_DIR OUT_DIR: the register tests/e2e/governance_c_older_register.sh
# loads.  It was made with the tree and the release build of commit 73b871d,
# the last before rectification governance (schema version 4, findings of
# the earlier rules): the demo register (scripts/make-register.sh) after the
# demo story with its tour part (scripts/demo-scenario.sh --tour), so the
# log holds a major hazard closed on a plain revisit and reopened by a
# look-back, a conflict, photos; then one more inspection whose major
# hazard names neither unit nor deadline, submitted as that version allowed.
# The WAL is checkpointed into register.db so the register is one file.
# Kept for the record; the committed files are the fixture, and a newer
# syncd cannot remake them.
set -euo pipefail
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
out=$3
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
"$src/scripts/make-register.sh" "$build/syncd/syncd" "$work/data"
"$build/syncd/syncd" serve --data "$work/data" --listen 127.0.0.1:0 >"$work/out" 2>"$work/log" &
pid=$!
for _ in $(seq 1 100); do
  url=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$work/out" | head -n 1)
  [[ -n $url ]] && break
  sleep 0.1
done
"$src/scripts/demo-scenario.sh" --tour "$build" "$work" "$url" >/dev/null
spot() { "$build/client-lib/spotcheck" --db "$work/devices/inspector.db" --json "$@"; }
check=$(spot check open --target T-XYC1 --kind spot --disclosure open | jq -r .id)
spot finding add --check "$check" --desc "烟花爆竹零售点无防火设施、与居民楼未隔离" --grade major \
  --category FIREWORKS >/dev/null
spot check submit "$check" >/dev/null
spot sync >/dev/null
kill -TERM "$pid"
wait "$pid"
"$build/syncd/syncd" audit --data "$work/data" >/dev/null
sqlite3 "$work/data/register.db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
rm -f "$work/data/register.db-wal" "$work/data/register.db-shm"
rm -rf "$out"
cp -a "$work/data" "$out"
