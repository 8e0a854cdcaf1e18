#!/usr/bin/env bash
# make.sh SOURCE_DIR BUILD_DIR OUT_DIR: the schema-5 PostgreSQL register that
# tests/e2e/migrate_pg.sh upgrades.  PostgreSQL registers began at schema 5
# (commit 7017dd1); 75928ea is the last commit before schema 6.  It was made
# with the tree and the release build of commit 75928ea on a throwaway
# PostgreSQL (tests/support/sctest_pg.sh): the demo register
# (scripts/make-register.sh of the tree that has this file, which passes
# --store to `syncd init`; the old one's admin commands are the same) after
# the demo story with its tour part (scripts/demo-scenario.sh --tour), so
# the log holds a closure, a reopening, a conflict and photos.  schema.sql, beside this file, is the schema-5 DDL
# (SD_PG_SCHEMA of syncd/store/store_pg_schema.h at 7017dd1, printed by a
# program including that header, one statement a line); this script checks
# it against the schema the old syncd made (pg_dump --schema-only of both
# match).  OUT_DIR gets:
#   data.sql    every row the old syncd wrote (pg_dump --data-only), the
#               generation counter as an UPDATE of the row schema.sql inserts
#   data/       the data directory without store.conf (it holds the password):
#               server.key and the photos
#   audit.txt   `syncd audit` of the register by the syncd that wrote it
# Kept for the record; the committed files are the fixture, and a newer
# syncd cannot remake them.
set -euo pipefail
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
out=$3
work=$(mktemp -d)
pg=$(bash "$src/tests/support/sctest_pg.sh" start $$)
read -r pg_dir pg_port pg_pw <<<"$pg"
pid=
trap '[[ -n $pid ]] && kill "$pid" 2>/dev/null; bash "$src/tests/support/sctest_pg.sh" stop "$pg_dir"; rm -rf "$work"' EXIT
bin=$(cat "$pg_dir/bin")
export PGPASSWORD=$pg_pw PGHOST=127.0.0.1 PGPORT=$pg_port PGUSER=spotcheck
psql -q -v ON_ERROR_STOP=1 -d postgres -c 'CREATE DATABASE reg' -c 'CREATE DATABASE recovered'
"$(dirname "${BASH_SOURCE[0]}")/../../../scripts/make-register.sh" "$build/syncd/syncd" "$work/data" \
  --store "postgresql://spotcheck:$pg_pw@127.0.0.1:$pg_port/reg"
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
"$build/syncd/syncd" audit --data "$work/data" >"$work/audit.txt"
# The recovered DDL makes the schema the old syncd made.
psql -q -v ON_ERROR_STOP=1 -d recovered -f "$(dirname "${BASH_SOURCE[0]}")/schema.sql"
# (pg_dump's \restrict lines carry a random key per run: left out, as in data.sql.)
dump() { "$bin/pg_dump" "$@" | grep -v '^\\\(un\)\?restrict '; }
diff <(dump --schema-only -d reg) <(dump --schema-only -d recovered)
rm -rf "$out"
mkdir -p "$out"
{
  dump --data-only --no-owner --no-privileges --exclude-table-data=generation -d reg
  echo "UPDATE public.generation SET n = $(psql -At -d reg -c 'SELECT n FROM generation');"
} >"$out/data.sql"
cp "$work/audit.txt" "$out/audit.txt"
cp -a "$work/data" "$out/data"
rm -f "$out/data/store.conf"
rm -f "$out/data/syncd.lock"
