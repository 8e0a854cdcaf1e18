#!/usr/bin/env bash
# make.sh BUILD_DIR OUT_DIR: a schema-1 client replica with work queued in
# its outbox, and the register it is enrolled with, for
# tests/client/test_migrate.c.  It was made with the spotcheck and syncd of
# commit 73b871d (the last libspotcheck that wrote replica schema 1), built
# in BUILD_DIR:
#   - the demo register (scripts/make-register.sh) in OUT_DIR/data;
#   - OUT_DIR/replica.db (and its photo store replica.db.blobs): `inspector`
#     enrolled with the passphrase "vector-passphrase", who opened an
#     inspection of T-JAHY on the 100-point sheet and scored one item, and
#     synced that; then, offline, scored another item, raised a finding
#     with a photo, added a note and submitted the inspection.  Those ops
#     and the photo are still queued: the test migrates the replica, syncs
#     them to the register and checks that each got in once.
# Both databases are checkpointed so each is one file.  Kept for the record;
# the committed files are the fixture, and a newer spotcheck cannot remake
# them.
set -euo pipefail
build=$(cd "$1" && pwd)
out=$2
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
syncd=$build/syncd/syncd
spot=$build/client-lib/spotcheck
work=$(mktemp -d)
pid=
trap '[[ -n $pid ]] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
"$root/scripts/make-register.sh" "$syncd" "$work/data"
"$syncd" serve --data "$work/data" --listen 127.0.0.1:0 >"$work/out" 2>"$work/log" &
pid=$!
for _ in $(seq 1 100); do
  url=$(sed -n 's/^listening on //p' "$work/out")
  [[ -n $url ]] && break
  sleep 0.1
done
export VECTOR_PASS=vector-passphrase
sc() { "$spot" --db "$work/replica.db" --json --passphrase-env VECTOR_PASS "$@"; }
code=$("$syncd" admin --data "$work/data" enroll inspector)
sc enroll --server "$url" --code "$code" --label "tablet of schema 1" >/dev/null
check=$(sc check open --target T-JAHY --kind spot --disclosure open --template no-epidemic-100 |
  sed -n 's/.*"id":"\([0-9a-f]*\)".*/\1/p')
sc check score "$check" --item org-leadership --status met --points 5 >/dev/null
sc sync >/dev/null
# Offline from here on: queued, not synced.
sc check score "$check" --item no-suspected --status not_met --points 10 --note "两名发热人员未登记" >/dev/null
printf '\377\330\377\340schema-1 photo %s\n' "$check" >"$work/photo.jpg"
finding=$(sc finding add --check "$check" --desc "门岗未测温" --grade general \
  --deadline 2026-12-31 --responsible junan-garden --photo "$work/photo.jpg" |
  sed -n 's/.*"id":"\([0-9a-f]*\)".*/\1/p')
sc note "$finding" --text "物业已通知整改" >/dev/null
sc check submit "$check" --remarks "检查完毕" >/dev/null
echo "check $check finding $finding"
sc status
kill -TERM "$pid"
wait "$pid" || true
pid=
for db in "$work/data/register.db" "$work/replica.db"; do
  sqlite3 "$db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
  rm -f "$db-wal" "$db-shm"
done
rm -f "$work/data/syncd.lock"
rm -rf "$out/data" "$out/replica.db" "$out/replica.db.blobs"
mkdir -p "$out"
cp -a "$work/data" "$out/data"
cp -a "$work/replica.db" "$work/replica.db.blobs" "$out/"
