#!/usr/bin/env bash
# A mistyped --db is an error, never a new empty replica: every command but
# enroll refuses a path that holds no replica (exit 3, the path named, enroll
# suggested) and leaves nothing on disk; a file that is not a replica is
# refused (exit 6) and keeps its bytes.  A failed enrollment leaves no .db
# and no .blobs/ behind, and never removes a replica that was there before.
source "$(dirname "$0")/cli_common.bash"

make_register
start_syncd
enroll li inspector
sc li sync >/dev/null
before=$(sc li status | jq -c '{outbox, ops, entities, replica_hash}')

# expect_refused_missing NAME ARGS...: `spotcheck --db NAME.db ARGS` refuses the missing replica.
expect_refused_missing() {
  local name=$1
  shift
  expect_exit 3 "$SPOT" --db "$TMP/$name.db" "$@"
  grep -qF "no replica at $TMP/$name.db" "$TMP/err" || fail "$*: the path is not named: $(cat "$TMP/err")"
  grep -q "enroll" "$TMP/err" || fail "$*: enroll is not suggested: $(cat "$TMP/err")"
  expect_no_replica "$name" "spotcheck $*"
}
CHECK=0123456789abcdef0123456789abcdef
for args in "list findings" "status" "sync" "verify" "review" "conflicts" "show $CHECK" \
            "note $CHECK --text x" "close $CHECK" "server set-url $URL" \
            "check open --target T-JAHY --kind spot --disclosure open"; do
  # shellcheck disable=SC2086 # each line is a command's words
  expect_refused_missing typo $args
done
# With --json, one error document; through $SPOTCHECK_DB, the same.
expect_exit 3 "$SPOT" --db "$TMP/typo.db" --json list findings
expect_jq "$(cat "$TMP/out")" .error.status SC_ERR_NOT_FOUND "--json error status"
expect_jq "$(cat "$TMP/out")" .error.exit 3 "--json error exit"
expect_no_replica typo "--json list"
expect_exit 3 env SPOTCHECK_DB="$TMP/typo.db" "$SPOT" list checks
expect_no_replica typo "SPOTCHECK_DB"

# verify-bundle needs no replica and makes none, whatever --db says.
"$SYNCD" export --data "$DATA" --out "$TMP/register.scb" >/dev/null
"$SPOT" --db "$TMP/typo.db" verify-bundle "$TMP/register.scb" >/dev/null
expect_no_replica typo "verify-bundle"

# Files that are not replicas: refused, exit 6, not a byte changed, no photo store beside them.
printf 'name,code\n君安花园,T-JAHY\n' >"$TMP/notes.db"
sqlite3 "$TMP/other.db" "CREATE TABLE t(x); INSERT INTO t VALUES (1);"
for name in notes other; do
  sum=$(sha256sum <"$TMP/$name.db")
  for args in "list findings" "enroll --plain-key --server $URL --code NOPE"; do
    # shellcheck disable=SC2086
    expect_exit 6 "$SPOT" --db "$TMP/$name.db" $args
    grep -q "is not a Spotcheck replica" "$TMP/err" || fail "$name.db $args: $(cat "$TMP/err")"
    expect_eq "$(sha256sum <"$TMP/$name.db")" "$sum" "$name.db untouched by $args"
    [[ ! -e $TMP/$name.db.blobs ]] || fail "$name.db: a photo store was made beside it"
  done
done
expect_eq "$(sqlite3 "$TMP/other.db" .tables)" t "another program's database keeps its tables"

# Failed enrollments leave nothing: a bad code (refused, 1), no server (4).
expect_exit 1 "$SPOT" --db "$TMP/new.db" enroll --plain-key --server "$URL" --code BAD-CODE
grep -q "forbidden\|code" "$TMP/err" || fail "bad code message: $(cat "$TMP/err")"
expect_no_replica new "an enrollment with a bad code"
expect_exit 4 "$SPOT" --db "$TMP/new.db" enroll --plain-key --server "http://127.0.0.1:9" --code x
expect_no_replica new "an enrollment with no server"
mkdir -p "$TMP/new.db.blobs/ab"
echo photo >"$TMP/new.db.blobs/ab/kept"
expect_exit 4 "$SPOT" --db "$TMP/new.db" enroll --plain-key --server "http://127.0.0.1:9" --code x
[[ -f $TMP/new.db.blobs/ab/kept && ! -e $TMP/new.db && ! -e $TMP/new.db.blobs/tmp ]] ||
  fail "a photo store that was there before lost its files or gained ours"
rm -rf "$TMP/new.db.blobs"

# An enrolled replica given to enroll again: refused (1), and kept whole.
code=$(admin enroll inspector)
expect_exit 1 "$SPOT" --db "$TMP/li.db" enroll --plain-key --server "$URL" --code "$code"
grep -q "already enrolled" "$TMP/err" || fail "second enrollment: $(cat "$TMP/err")"
expect_eq "$(sc li status | jq -c '{outbox, ops, entities, replica_hash}')" "$before" "li.db unchanged"

# The one way to make a replica: an enrollment that succeeds (the unused code still works).
out=$("$SPOT" --db "$TMP/new.db" --json enroll --plain-key --server "$URL" --code "$code")
expect_jq "$out" .login inspector "enrolled"
[[ -f $TMP/new.db && -d $TMP/new.db.blobs ]] || fail "an enrollment that succeeded kept no replica"
expect_jq "$(sc new status)" .enrolled true "the new replica"
echo "ok: replica paths"
