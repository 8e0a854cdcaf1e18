#!/usr/bin/env bash
# make-old-register.sh SOURCE_DIR BUILD_DIR OUT_DIR: a SQLite register as the
# tree in SOURCE_DIR and its release build in BUILD_DIR (an older commit's)
# write it, for tests/e2e/migrate_sqlite.sh: the demo register
# (scripts/make-register.sh) after the demo story with its tour part
# (scripts/demo-scenario.sh --tour), so the log holds a closure, a
# reopening, a conflict and photos.  OUT_DIR gets data/ (the WAL
# checkpointed into register.db, so the register is one file, with the
# schema that syncd created) and audit.txt, what that syncd's `syncd audit`
# printed for it.  register-vN/make.sh name the commit of each fixture.
set -euo pipefail
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
out=$3
work=$(mktemp -d)
pid=
trap '[[ -n $pid ]] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
"$src/scripts/make-register.sh" "$build/syncd/syncd" "$work/data"
"$build/syncd/syncd" serve --data "$work/data" --listen 127.0.0.1:0 >"$work/out" 2>"$work/log" &
pid=$!
for _ in $(seq 1 100); do
  url=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$work/out" | head -n 1)
  [[ -n $url ]] && break
  sleep 0.1
done
"$src/scripts/demo-scenario.sh" --tour "$build" "$work" "$url" >/dev/null
kill -TERM "$pid"
wait "$pid"
pid=
"$build/syncd/syncd" audit --data "$work/data" >"$work/audit.txt"
sqlite3 "$work/data/register.db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
rm -f "$work/data/register.db-wal" "$work/data/register.db-shm" "$work/data/syncd.lock"
rm -rf "$out"
mkdir -p "$out"
cp -a "$work/data" "$out/data"
cp "$work/audit.txt" "$out/audit.txt"
