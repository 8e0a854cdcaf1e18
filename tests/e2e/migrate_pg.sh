#!/usr/bin/env bash
# `syncd migrate` on a register in PostgreSQL (docs/operations.md, "Register
# schema versions"), from tests/vectors/register-pg-v5: the schema-5 DDL as
# commit 7017dd1 had it and the rows the syncd of commit 75928ea wrote
# playing the demo story (its make.sh says how).  This syncd refuses the
# register and changes nothing; a step that fails changes nothing and a
# second run completes; two migrations at once (with a serve started
# meanwhile) wait for one another under the register's write lock; the
# migrated register holds every row as it was, audits to the root and replica
# hash the old syncd's audit printed, has the schema a new register has (the
# pending deliveries indexed by hook, schema 7), and queues and delivers
# webhooks.  The fixture is taken through every step from 5 (6 -> 7
# included): a schema-6 register is what step 5 -> 6 makes of it, so none
# of its own is kept.  A throwaway PostgreSQL server (tests/support/sctest_pg.sh).
source "$(dirname "$0")/cli_common.bash"
source "$(dirname "$0")/notify_common.bash"

pg_start
PG_BIN=$(cat "$PG_DIR/bin")
CURRENT=$(sed -n 's/^#define SD_SCHEMA_VERSION \([0-9]*\).*/\1/p' "$SC_SOURCE_DIR/syncd/store/store.h")
((CURRENT >= 7)) || fail "this syncd's schema version: $CURRENT"
export PGPASSWORD=$PG_PW PGHOST=127.0.0.1 PGPORT=$PG_PORT PGUSER=spotcheck
V5="$SC_SOURCE_DIR/tests/vectors/register-pg-v5"
# What the syncd that wrote the fixture printed auditing it.
V5_ROOT=$(sed -n 's/^ *root \([0-9a-f]*\)$/\1/p' "$V5/audit.txt")
V5_REPLICA=$(sed -n 's/^ *replica hash \([0-9a-f]*\)$/\1/p' "$V5/audit.txt")
V5_ENTRIES=$(sed -n 's/^ *log entries checked: *\([0-9]*\).*/\1/p' "$V5/audit.txt")
[[ ${#V5_ROOT} -eq 64 && ${#V5_REPLICA} -eq 64 && $V5_ENTRIES -gt 50 ]] || fail "the fixture's audit.txt"

sql() { "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -d reg "$@"; }
version() { sql -c "SELECT convert_from(value, 'UTF8') FROM meta WHERE key = 'schema_version'"; }
# dump [PG_DUMP-OPTIONS...]: the register's database, less pg_dump's random \restrict keys.
dump() { "$PG_BIN/pg_dump" -d reg "$@" | grep -v '^\\\(un\)\?restrict '; }
# content: every row the log, the state and the devices are kept in, in storage order: all but the
# webhook queue, the generation counter (every write transaction raises it) and the schema version.
content() {
  dump --data-only --exclude-table=notify --exclude-table=notify_id_seq --exclude-table-data=generation \
    --exclude-table-data=meta
  sql -c "SELECT key, encode(value, 'hex') FROM meta WHERE key <> 'schema_version' ORDER BY key"
}
# datadir DIR: a data directory on the register, as an operator would have one on each machine.
datadir() {
  cp -R "$V5/data" "$1"
  chmod 700 "$1"
  chmod 600 "$1/server.key"
  printf 'store = postgresql://spotcheck:%s@127.0.0.1:%s/reg\n' "$PG_PW" "$PG_PORT" >"$1/store.conf"
  chmod 600 "$1/store.conf"
}

# The register as the schema-5 syncd left it, served from two machines' data directories.
"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d postgres -c 'CREATE DATABASE reg'
sql -f "$V5/schema.sql"
sql --single-transaction -f "$V5/data.sql"
expect_eq "$(version)" 5 "the fixture's schema version"
expect_eq "$(sql -c 'SELECT count(*) FROM ops')" "$V5_ENTRIES" "the fixture's log"
datadir "$DATA"
datadir "$TMP/data-b"
datadir "$TMP/data-c"
dump >"$TMP/v5.dump"
content >"$TMP/v5.content"
ops_digest() {
  sql -c "SELECT md5(string_agg(encode(signed, 'hex') || encode(leaf_hash, 'hex'), ',' ORDER BY idx))
          FROM ops WHERE idx < $V5_ENTRIES"
}
V5_OPS=$(ops_digest)

# 1. This syncd refuses to serve it, says what to do, and writes nothing (not even the generation).
expect_exit 1 "$SYNCD" serve --data "$DATA" --listen 127.0.0.1:0
grep -q "has schema version 5; this syncd reads version $CURRENT" "$TMP/err" || fail "refusal: $(cat "$TMP/err")"
grep -q 'syncd migrate --data DIR' "$TMP/err" || fail "the refusal names no migration"
! grep -q "$PG_PW" "$TMP/err" || fail "the refusal shows the password"
dump | cmp -s - "$TMP/v5.dump" || fail "a refused serve changed the register"

# 2. A step that fails (an object of the step's name already there) changes nothing.
sql -c 'CREATE TABLE notify(note text)'
dump >"$TMP/conflict.dump"
expect_exit 1 "$SYNCD" migrate --data "$DATA"
grep -q 'relation "notify" already exists' "$TMP/err" || fail "the failed step: $(cat "$TMP/err")"
! grep -q "$PG_PW" "$TMP/err" || fail "the failed step shows the password"
dump | cmp -s - "$TMP/conflict.dump" || fail "a failed step changed the register"
expect_eq "$(version)" 5 "the version after a failed step"
sql -c 'DROP TABLE notify'
dump | cmp -s - "$TMP/v5.dump" || fail "the register is not as it was"

# 3. Two migrations at once, from two machines, while another syncd holds the write lock (as a
# group commit would): both wait for it, one takes the step and the other then finds nothing
# left to do; a serve started meanwhile refuses the register still at 5.
sql -c "SELECT pg_advisory_lock(x'7363776c6f67'::bigint), pg_sleep(300)" >/dev/null 2>&1 &
HOLDER=$!
PIDS+=("$HOLDER")
waiters() { sql -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND $1"; }
i=0
until [[ $(waiters granted) -ge 1 ]]; do ((++i < 100)) || fail "the lock was not taken"; sleep 0.1; done
"$SYNCD" migrate --data "$DATA" >"$TMP/mig-a.out" 2>&1 &
MIG_A=$!
"$SYNCD" migrate --data "$TMP/data-b" >"$TMP/mig-b.out" 2>&1 &
MIG_B=$!
PIDS+=("$MIG_A" "$MIG_B")
i=0
until [[ $(waiters "NOT granted") -ge 2 ]]; do
  ((++i < 300)) || { cat "$TMP"/mig-?.out >&2; fail "the migrations did not wait for the lock"; }
  sleep 0.1
done
expect_eq "$(version)" 5 "the version while the migrations wait"
expect_exit 1 "$SYNCD" serve --data "$TMP/data-c" --listen 127.0.0.1:0
grep -q "has schema version 5; this syncd reads version $CURRENT" "$TMP/err" ||
  fail "serve beside the migrations: $(cat "$TMP/err")"
sql -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(300)%' AND pid <> pg_backend_pid()" >/dev/null
wait "$HOLDER" || true
wait "$MIG_A" || { cat "$TMP/mig-a.out" >&2; fail "the first migration failed"; }
wait "$MIG_B" || { cat "$TMP/mig-b.out" >&2; fail "the second migration failed"; }
for out in "$TMP/mig-a.out" "$TMP/mig-b.out"; do
  grep -q "from schema version 5 to $CURRENT" "$out" || fail "$out: $(cat "$out")"
  grep -q "log entries checked:  $V5_ENTRIES\$" "$out" || fail "$out: $(cat "$out")"
  grep -q "root $V5_ROOT" "$out" || fail "$out: the root is not the old syncd's"
  grep -q "replica hash $V5_REPLICA" "$out" || fail "$out: the replica hash is not the old syncd's"
  ! grep -q "$PG_PW" "$out" || fail "$out shows the password"
done
expect_eq "$(version)" "$CURRENT" "the version after the migrations"
expect_eq "$(sql -c "SELECT count(*) FROM pg_tables WHERE tablename = 'notify'")" 1 "notify tables"
expect_eq "$(sql -c 'SELECT count(*) FROM notify')" 0 "deliveries queued by the migration"
# The notify table and its indexes as a new register has them (step 6 -> 7: notify_pending).
"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d postgres -c 'CREATE DATABASE fresh'
"$SYNCD" init --data "$TMP/fresh" --store "postgresql://spotcheck:$PG_PW@127.0.0.1:$PG_PORT/fresh" >/dev/null
indexes() {
  "$PG_BIN/psql" -X -q -At -d "$1" -c "SELECT indexname, indexdef FROM pg_indexes
    WHERE tablename = 'notify' ORDER BY indexname"
}
indexes fresh | diff - <(indexes reg) >&2 || fail "the migrated notify table's indexes are not a new register's"
grep -q '^notify_pending|.*(hook, next_ms, id) WHERE (state = 0)' <(indexes reg) ||
  fail "no notify_pending: $(indexes reg)"

# 4. Every op, checkpoint, entity, code and device as it was, and the audit agrees.
content | diff "$TMP/v5.content" - >&2 || fail "the migration changed the register's rows"
out=$("$SYNCD" audit --data "$DATA") || fail "audit after the migration: $out"
grep -q "OK: everything holds" <<<"$out" || fail "audit: $out"
grep -q "root $V5_ROOT" <<<"$out" || fail "audit root: $out"
grep -q "replica hash $V5_REPLICA" <<<"$out" || fail "audit replica hash: $out"
# A trigger someone added to the database (here one that would undo revocations) fails the
# audit: restoring a dump checks with `syncd audit` that the register runs no SQL of its own.
sql -c "CREATE FUNCTION undo_revoke() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN
          NEW.revoked_idx := NULL; RETURN NEW; END \$\$;
        CREATE TRIGGER undo_revoke BEFORE UPDATE ON devices FOR EACH ROW EXECUTE FUNCTION undo_revoke()"
out=$("$SYNCD" audit --data "$DATA" 2>&1) && fail "audit with a trigger added: $out"
grep -q "schema holds what syncd never makes (trigger undo_revoke on devices)" <<<"$out" ||
  fail "audit with a trigger added: $out"
sql -c "DROP TRIGGER undo_revoke ON devices; DROP FUNCTION undo_revoke()"
"$SYNCD" audit --data "$DATA" >/dev/null 2>&1 || fail "audit once the trigger is gone"
# So does a rule; an extension's views (pg_stat_statements, which an operator may install in the
# register's schema to count statements) do not.
sql -c "CREATE RULE keep_devices AS ON UPDATE TO devices DO INSTEAD NOTHING"
out=$("$SYNCD" audit --data "$DATA" 2>&1) && fail "audit with a rule added: $out"
grep -q "(rule keep_devices on devices)" <<<"$out" || fail "audit with a rule added: $out"
sql -c "DROP RULE keep_devices ON devices; CREATE EXTENSION pg_stat_statements"
out=$("$SYNCD" audit --data "$DATA" 2>&1) || fail "audit with pg_stat_statements installed: $out"
sql -c "DROP EXTENSION pg_stat_statements"
"$SYNCD" migrate --data "$TMP/data-b" >"$TMP/out" 2>&1 || fail "again: $(cat "$TMP/out")"
grep -q "nothing to migrate" "$TMP/out" || fail "again: $(cat "$TMP/out")"

# 5. Webhooks work: a major hazard recorded on the migrated register is queued and delivered.
start_receiver 0
conf 3
start_syncd --config "$TMP/syncd.conf"
enroll tablet inspector
sync_ok tablet
MAJOR=$(submitted_finding tablet "燃气管道锈蚀泄漏" major --category GAS --deadline "$(day 9)")
sync_ok tablet
expect_eq "$(sql -c "SELECT count(*) FROM notify WHERE type = 'finding.major_hazard'")" 1 \
          "major hazards queued"
wait_until "the major hazard $MAJOR" is_delivered finding.major_hazard "$MAJOR"
stop_syncd
# New ops after the old ones, which are as they were, and the whole audits clean.
expect_eq "$(ops_digest)" "$V5_OPS" "the old syncd's ops"
[[ $(log_size) -gt $V5_ENTRIES ]] || fail "no new ops were logged"
echo "ok: a schema-5 PostgreSQL register refused, a failed step undone, migrated once by two, served"
