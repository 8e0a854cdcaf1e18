#!/usr/bin/env bash
# `syncd migrate` from every older SQLite schema to this syncd's
# (docs/operations.md, "Register schema versions"): tests/vectors/register-vN
# for each N below it, each written by the syncd of a commit at schema N
# (their make.sh say which), holding the demo story.  For each: this syncd
# refuses to serve it and changes nothing; the migration keeps every op,
# checkpoint, entity, code, device and release row as it was and audits to
# the root and replica hash the old syncd printed; the schema is then the
# one a new register has; it serves, logs a new op, and audits clean.  A new
# schema version without a fixture of the one before fails here.
source "$(dirname "$0")/cli_common.bash"

command -v sqlite3 >/dev/null || fail "sqlite3 is required (scripts/install-deps.sh installs it)"
V="$SC_SOURCE_DIR/tests/vectors"

# expected N: "ROOT REPLICA" that the syncd which wrote register-vN printed auditing it.
expected() {
  case $1 in
    # tests/syncd/test_migrate.c's V1_ROOT and V1_REPLICA.
    1) echo 5fb220c0392c5b78cd84c2abdc21d73d28e314048925f1eeafe938452f38541c \
            5751a1533d8bec5e6b1354795294bfdc4c37d08e2027e8546723bd4ca06b9d73 ;;
    # tests/e2e/governance_c_older_register.sh's V4_ROOT and V4_REPLICA.
    4) echo dd00db572c84f5c5e58c56c30ff0338bdcc6d07ab7411ec68457f24c0dd75a70 \
            d4db30db7182c42203714029f58c8d27eba23a820b34b99f2420415e47e622a8 ;;
    *) echo "$(sed -n 's/^ *root \([0-9a-f]*\)$/\1/p' "$V/register-v$1/audit.txt")" \
            "$(sed -n 's/^ *replica hash \([0-9a-f]*\)$/\1/p' "$V/register-v$1/audit.txt")" ;;
  esac
}

q() { sqlite3 -readonly -cmd '.mode quote' "$@"; }
# content DB N: every row the log, the state and the devices are kept in, as schema N has them.
content() {
  local db=$1 n=$2
  q "$db" "SELECT idx, op_id, entity, author, kind, hlc, received_ms, signed, leaf_hash
           FROM ops ORDER BY idx"
  q "$db" "SELECT id, type, op_count, last_idx, state, state_hash, target, scope_org, vis_class,
                  released, inspection FROM entities ORDER BY id"
  q "$db" "SELECT kind, code, version, entity FROM codes ORDER BY kind, code, version"
  q "$db" "SELECT key, device, user, enrolled_idx, revoked_idx FROM devices ORDER BY key"
  q "$db" "SELECT assignment, user FROM assignees ORDER BY assignment, user"
  q "$db" "SELECT hash, user, created_ms, expires_ms, used_ms, device FROM enroll_codes ORDER BY hash"
  q "$db" "SELECT size, root, time_ms, note FROM checkpoints ORDER BY size"
  q "$db" "SELECT seq, entity, idx FROM releases ORDER BY seq"
  q "$db" "SELECT key, value FROM meta WHERE key <> 'schema_version' ORDER BY key"
  if ((n >= 4)); then q "$db" "SELECT sha, entity, idx FROM photo_refs ORDER BY sha, entity"; fi
  if ((n >= 5)); then
    q "$db" "SELECT hash, revoked_ms FROM enroll_codes ORDER BY hash"
    q "$db" "SELECT key, seen_ms, agent FROM device_seen ORDER BY key"
  fi
}
# shape DB: every table's columns and every index's columns and uniqueness, however they came to be.
shape() {
  sqlite3 -readonly "$1" "SELECT m.name, p.cid, p.name, p.type, p.\"notnull\", p.pk
    FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table' ORDER BY m.name, p.cid"
  sqlite3 -readonly "$1" "SELECT m.name, l.\"unique\", l.partial,
      (SELECT group_concat(i.name, ',') FROM pragma_index_info(l.name) i)
    FROM sqlite_master m, pragma_index_list(m.name) l WHERE m.type = 'table' ORDER BY 1, 4, 2"
}
version() { sqlite3 -readonly "$1" "SELECT CAST(value AS TEXT) FROM meta WHERE key = 'schema_version'"; }

"$SYNCD" init --data "$TMP/fresh" >/dev/null
CURRENT=$(version "$TMP/fresh/register.db")
((CURRENT >= 2)) || fail "a new register's schema version: $CURRENT"
shape "$TMP/fresh/register.db" >"$TMP/fresh.shape"

for ((n = 1; n < CURRENT; n++)); do
  [[ -f $V/register-v$n/data/register.db ]] ||
    fail "no register of schema $n in tests/vectors/register-v$n: make one with the last syncd that wrote it"
  DATA="$TMP/v$n"
  cp -R "$V/register-v$n/data" "$DATA"
  # git keeps neither the key's mode nor empty directories.
  chmod 700 "$DATA"
  chmod 600 "$DATA/server.key"
  db="$DATA/register.db"
  expect_eq "$(version "$db")" "$n" "register-v$n's schema version"
  read -r root replica <<<"$(expected "$n")"
  [[ ${#root} -eq 64 && ${#replica} -eq 64 ]] || fail "register-v$n: no audit to compare with"
  entries=$(sqlite3 -readonly "$db" "SELECT count(*) FROM ops")
  content "$db" "$n" >"$TMP/v$n.before"
  sum=$(sha256sum <"$db")

  # Refused, with what to do, and the file untouched.
  expect_exit 1 "$SYNCD" serve --data "$DATA" --listen 127.0.0.1:0
  grep -q "schema version $n; this syncd reads version $CURRENT" "$TMP/err" ||
    fail "v$n refusal: $(cat "$TMP/err")"
  grep -q 'syncd migrate --data DIR' "$TMP/err" || fail "v$n: the refusal names no migration"
  expect_eq "$(sha256sum <"$db")" "$sum" "register-v$n after the refused serve"

  # Migrated: the rows as they were, the old syncd's root and replica hash, a new register's schema.
  "$SYNCD" migrate --data "$DATA" >"$TMP/out" 2>&1 || { cat "$TMP/out" >&2; fail "migrate v$n"; }
  grep -q "from schema version $n to $CURRENT" "$TMP/out" || fail "migrate v$n: $(cat "$TMP/out")"
  grep -q "log entries checked:  $entries\$" "$TMP/out" || fail "migrate v$n: $(cat "$TMP/out")"
  grep -q "root $root" "$TMP/out" || fail "v$n: not the old syncd's root: $(cat "$TMP/out")"
  grep -q "replica hash $replica" "$TMP/out" || fail "v$n: not the old syncd's states: $(cat "$TMP/out")"
  expect_eq "$(version "$db")" "$CURRENT" "register-v$n's version after the migration"
  content "$db" "$n" | diff "$TMP/v$n.before" - >&2 || fail "the migration of v$n changed its rows"
  shape "$db" | diff "$TMP/fresh.shape" - >&2 || fail "v$n migrated has not a new register's schema"
  expect_eq "$(sqlite3 -readonly "$db" "SELECT count(*) FROM notify")" 0 "v$n's webhook queue"

  # It serves and logs after the old ops, and the whole audits clean.
  start_syncd
  admin org add "new-street-$n" --name "新街道 $n" --parent county >/dev/null
  stop_syncd
  expect_eq "$(log_size)" "$((entries + 1))" "v$n's log after a new op"
  q "$db" "SELECT idx, op_id, entity, author, kind, hlc, received_ms, signed, leaf_hash
           FROM ops WHERE idx < $entries ORDER BY idx" | diff <(head -n "$entries" "$TMP/v$n.before") - >&2 ||
    fail "v$n's old ops changed after serving"
  echo "ok: schema $n migrated to $CURRENT ($entries ops, root $root)"
done
echo "ok: every older SQLite schema (1 to $((CURRENT - 1))) migrates to $CURRENT"
