#!/usr/bin/env bash
# What an administrator reads, with a real syncd and CLI tablets: the lists
# of org units, users, targets, score sheets and devices (a table for
# people, --json for scripts), when each device was last seen and with
# which app (written at most once a minute, not per request), and the admin
# acts read from the log.  Usage errors exit 2 and say why.
source "$(dirname "$0")/cli_common.bash"

make_register
start_syncd
t0=$(($(date +%s) * 1000 - 1000))
enroll li inspector
enroll wang supervisor
VERSION=$("$SYNCD" --version | awk '{print $2}')

# ---- org units, users, targets, score sheets ----
out=$(admin org list)
head -n 1 <<<"$out" | grep -Eq '^CODE +NAME +LEVEL +KIND +PARENT$' || fail "org list header: $out"
grep -Eq '^junan +君安社区 +community +residents_committee +street$' <<<"$out" ||
  fail "org list row: $out"
# Columns line up whatever the script of a name: each row's LEVEL starts where the header's does.
col=$(head -n 1 <<<"$out" | awk '{print index($0, "LEVEL")}')
while IFS= read -r line; do
  rest=$(awk '{print $3}' <<<"$line")
  prefix=${line%%"  $rest"*}
  # Display width of the prefix: a CJK character is 3 bytes and 2 columns.
  bytes=$(printf '%s' "$prefix" | wc -c)
  chars=$(printf '%s' "$prefix" | wc -m)
  width=$((chars + (bytes - chars) / 2))
  expect_eq $((width + 3)) "$col" "LEVEL column of: $line"
done < <(tail -n +2 <<<"$out")
json=$(admin org list --json)
expect_jq "$json" 'length' 5 "org units"
expect_jq "$json" '.[] | select(.code == "junan") | [.parent, .level, .kind] | join(" ")' \
  "street community residents_committee" "junan in JSON"
expect_jq "$json" '.[] | select(.code == "city") | .parent' null "a root has no parent"
json=$(admin user list --json)
expect_jq "$json" 'length' 5 "users"
expect_jq "$json" '.[] | select(.login == "inspector") | [.role, .org, .disabled, .devices] | map(tostring) | join(" ")' \
  "inspector street false 1" "inspector in JSON"
admin user list | grep -Eq '^wuye +物业经理 陈静 +responsible +junan-garden +active +0$' ||
  fail "user list row: $(admin user list)"
json=$(admin target list --json)
expect_jq "$json" '[.[].code] | join(" ")' "T-JAHY T-JAMKT T-XYC1" "targets by code"
expect_jq "$json" '.[] | select(.code == "T-JAMKT") | [.type, .org] | join(" ")' "market street" \
  "a target's type and org"
json=$(admin template list --json)
expect_jq "$json" '.[0] | [.code, .version, .items, .max_total, .pass_mark] | map(tostring) | join(" ")' \
  "no-epidemic-100 1 10 100 80" "the score sheet"

# ---- devices: last seen, and with which app ----
sync_ok li
seen=""
for _ in $(seq 1 50); do # syncd writes what is due every 2 seconds
  seen=$(admin device list --json | jq -c '.[] | select(.login == "inspector")')
  [[ $(jq -r '.last_seen_ms // empty' <<<"$seen") ]] && break
  sleep 0.2
done
t1=$(jq -r .last_seen_ms <<<"$seen")
[[ $t1 =~ ^[0-9]+$ && $t1 -ge $t0 && $t1 -le $(($(date +%s) * 1000 + 1000)) ]] ||
  fail "last seen: $seen"
expect_jq "$seen" .app_version "spotcheck/$VERSION libspotcheck/$VERSION" "the app version"
out=$(admin device list)
head -n 1 <<<"$out" | grep -Eq '^DEVICE +KEY +LOGIN +LABEL +STATUS +ENROLLED +LAST SEEN +APP$' ||
  fail "device list header: $out"
grep -E ' inspector ' <<<"$out" | grep -q "spotcheck/$VERSION libspotcheck/$VERSION" ||
  fail "app in the table: $out"
# Requests within the minute are noted in memory, not written one by one...
sleep 1.1
sync_ok li
sleep 3
expect_jq "$(admin device list --json)" '.[] | select(.login == "inspector") | .last_seen_ms' "$t1" \
  "a second sync within the minute is not written yet"
# ...and what is noted is written when syncd stops.
stop_syncd
t2=$(admin device list --json | jq -r '.[] | select(.login == "inspector") | .last_seen_ms')
[[ $t2 -gt $t1 ]] || fail "the last sighting is written at shutdown: $t2 after $t1"
start_syncd

# ---- the admin acts, from the log ----
plan=$(admin assign --target T-JAHY --inspector inspector --kind spot --disclosure open)
admin user disable inspector2 --reason "借调" >/dev/null
json=$(admin log --json)
# An enrolled device is named by its key, as device list shows it and as the
# acts it signs name it (the two devices enrolled within a second, so their
# ids, UUIDv7s, begin alike); a plan by its whole id, which the CLI takes.
expect_eq "$(jq -r '.[] | select(.kind == "device_enroll") | .on' <<<"$json" | sort)" \
  "$(admin device list --json | jq -r '.[] | "device \(.key[0:8]) of user \(.login)"' | sort)" \
  "enrollments named by their devices' keys"
expect_jq "$json" '.[] | select(.kind == "assignment_create") | .on' "assignment $plan" "a plan by its id"
expect_jq "$json" '.[0] | [.index, .kind, .on, .by] | map(tostring) | join("|")' \
  "0|org_create|org city|syncd admin" "the first act"
expect_jq "$json" '[.[] | select(.kind == "device_enroll")] | length' 2 "two enrollments"
expect_jq "$json" '.[] | select(.kind == "device_enroll") | .by' "syncd (enrollment)
syncd (enrollment)" "enrollments are syncd's"
expect_jq "$json" '.[-1] | [.kind, .command, .on, .detail, .by] | join("|")' \
  "user_disable|user disable|user inspector2|借调|syncd admin" "the last act"
expect_jq "$json" '[.[].index] == ([.[].index] | sort)' true "in log order"
out=$(admin log)
head -n 1 <<<"$out" | grep -Eq '^INDEX +WHEN +COMMAND +ON +DETAIL +BY$' || fail "log header: $out"
grep -q "user disable" <<<"$out" || fail "log table: $out"
expect_jq "$(admin log --since "$(day 1)" --json)" 'length' 0 "nothing since tomorrow"
expect_jq "$(admin log --since "$(day 0)" --json)" 'length' "$(jq length <<<"$json")" \
  "everything since today"

# ---- usage ----
expect_exit 2 admin org list extra
expect_exit 2 admin user list --bogus x
grep -q "unknown option --bogus" "$TMP/err" || fail "unknown option: $(cat "$TMP/err")"
expect_exit 2 admin user list --since
grep -q "user list: unknown option --since" "$TMP/err" || fail "another command's option: $(cat "$TMP/err")"
expect_exit 2 admin log --since
grep -q "log: --since needs a value" "$TMP/err" || fail "a lacking value: $(cat "$TMP/err")"
expect_exit 2 admin frob list
expect_exit 2 admin log --since 2026-13-01
expect_exit 2 admin log extra
expect_exit 1 "$SYNCD" admin --data "$TMP/nowhere" user list
grep -q "nowhere" "$TMP/err" || fail "a missing register is named: $(cat "$TMP/err")"
log_size >/dev/null
echo "admin_lists: lists, devices last seen and the admin log OK"
