#!/usr/bin/env bash
# abi/old_header: a program built against the previous release's header runs
# with this library.  tests/abi/app.c is compiled against
# tests/vectors/abi/0.1/spotcheck.h (release 0.1's header, kept as it was)
# and linked with this build's libspotcheck.so; here it enrolls, records an
# inspection with a finding and a photo, and syncs against a real syncd.
# Everything it recorded must be in the register, proven, and readable by
# this release's CLI on the replica it made.
source "$(dirname "$0")/../e2e/cli_common.bash"
source "$SC_SOURCE_DIR/tests/support/sdk_common.bash"
APP="$SC_BIN_DIR/tests/abi_app_0_1"
[[ -x "$APP" ]] || fail "the 0.1 app is not built at $APP"
V=$(project_version)

# It runs with this build's library, not one of its own.
loads=$(ldd "$APP")
grep -q "libspotcheck.so.$(soversion) => $SC_BIN_DIR/client-lib/" <<<"$loads" ||
  fail "the 0.1 app does not load this build's libspotcheck: $loads"

make_register
start_syncd
code=$(admin enroll inspector)
photo "$TMP/photo.jpg" "taken by a 0.1 app"
out=$("$APP" "$TMP/app.db" "$URL" "$code" "$TMP/photo.jpg" 2>"$TMP/app.err") ||
  fail "the 0.1 app failed: $(cat "$TMP/app.err") after: $out"
line() { sed -n "s/^$1: //p" <<<"$out"; }
expect_eq "$(line library)" "$V protocol 1" "the library the 0.1 app runs with"
sync=$(line sync)
# open, score, the finding, its evidence photo, the photo added, the note, the finding's
# notice (限期整改通知, which this library issues at the submission) and the submission
expect_jq "$sync" .accepted 8 "ops the 0.1 app's sync got in"
expect_jq "$sync" '.rejected | length' 0 "ops refused"
expect_jq "$sync" .photos_uploaded 1 "photos uploaded"
status=$(line status)
expect_jq "$status" .outbox 0 "the 0.1 app's outbox after its sync"
expect_jq "$status" .photos_pending_upload 0 "its photos waiting"
expect_jq "$(line verify)" .ok true "its replica verifies"
(($(line events) > 0)) || fail "no progress event reached the 0.1 app's callbacks"
finding=$(jq -r .finding <<<"$(line recorded)")
expect_jq "$(line list)" ".items[0].id" "$finding" "the finding in sc_list with a 0.1 filter"
expect_eq "$(line strerror)" "the server's TLS identity could not be verified" "sc_strerror"

# The register holds it all, and this release's CLI reads the replica the 0.1 app made.
"$SYNCD" audit --data "$DATA" >"$TMP/audit.out" 2>&1 || { cat "$TMP/audit.out" >&2; fail "syncd audit"; }
shown=$("$SPOT" --db "$TMP/app.db" --json show "$finding")
expect_jq "$shown" .description "门岗未测温" "the finding as spotcheck shows it"
expect_jq "$shown" '.notes[0].text' "物业已通知整改" "its note"
expect_jq "$shown" '[.history[] | select(.log_index == null)] | length' 0 "ops of it not in the log"
echo "abi: a program built against the 0.1 header ran with libspotcheck $V: 7 ops and a photo synced"
