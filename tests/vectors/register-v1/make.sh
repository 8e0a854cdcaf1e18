#!/usr/bin/env bash
# make.sh BUILD_DIR OUT_DIR: the schema-1 register that tests/syncd/test_migrate.c
# upgrades.  It was made with the syncd of commit 43840a7 (the last one that
# wrote schema 1): the demo register (scripts/make-register.sh) after the demo
# scenario (scripts/demo-scenario.sh) has played ten times, so the log holds
# a few hundred ops, photos, closures and reopenings, and its Merkle tree has
# nodes at levels 1 to 8.  The WAL is checkpointed into register.db so the
# register is one file.  Kept for the record; the committed files are the
# fixture, and a newer syncd cannot remake them.
set -euo pipefail
build=$(cd "$1" && pwd)
out=$2
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
"$root/scripts/make-register.sh" "$build/syncd/syncd" "$work/data"
"$build/syncd/syncd" serve --data "$work/data" --listen 127.0.0.1:0 >"$work/out" 2>"$work/log" &
pid=$!
for _ in $(seq 1 100); do
  url=$(sed -n 's/^listening on //p' "$work/out")
  [[ -n $url ]] && break
  sleep 0.1
done
for _ in $(seq 1 10); do
  "$root/scripts/demo-scenario.sh" "$build" "$work" "$url" >/dev/null
done
kill -TERM "$pid"
wait "$pid"
sqlite3 "$work/data/register.db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
rm -f "$work/data/register.db-wal" "$work/data/register.db-shm"
"$build/syncd/syncd" audit --data "$work/data" >/dev/null
sqlite3 "$work/data/register.db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
rm -f "$work/data/register.db-wal" "$work/data/register.db-shm"
rm -rf "$out"
cp -a "$work/data" "$out"
