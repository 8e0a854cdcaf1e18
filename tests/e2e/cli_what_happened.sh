#!/usr/bin/env bash
# What a careful user can see, against a real syncd: `sync --json` lists per
# round which ops went in (accepted, with their log index), which were
# rejected and why; after a sync that failed in mid-photo (exit 4), `outbox`
# and the failure itself say what got into the log and what still waits;
# `list --include-voided` shows voided records, marked; `show` names authors
# by login and device, tells a voided op from a valid one with the void's
# reason; conflict values name an org unit by its code; and a void closes
# its entity's conflicts in every inbox, resolve saying so.
source "$(dirname "$0")/cli_common.bash"

start_with inspector inspector2 supervisor
# A compound outside the inspectors' street: syncd refuses their work on it.
admin org add west --name "西街道" --parent county --level street --kind gov_dept >/dev/null
admin target add T-OUT --name "外区小区" --org west --type compound --address "西街道" >/dev/null
sync_ok inspector inspector2 supervisor

# ---- sync --json, round by round: which ops went in, which were refused and why ----
CHECK=$(new_check inspector)
FIRE=$(new_finding inspector "$CHECK" "消防通道堆物" general --deadline "$(day 5)")
sc inspector check submit "$CHECK" >/dev/null
OUT=$(expect_id "$(sc inspector check open --target T-OUT --kind spot --disclosure open | jq -r .id)" "T-OUT")
sc inspector note "$OUT" --text "外区" >/dev/null
queued=$(sc inspector outbox | jq -c '[.queued[] | {op, kind}]')
expect_jq "$queued" '[.[].kind] | join(" ")' \
          "inspection_open finding_create notice inspection_submit inspection_open note" "the outbox, in order"
out=$(sc inspector sync)
expect_jq "$out" '.rounds | length' 1 "one round"
r=$(jq -c '.rounds[0]' <<<"$out")
expect_jq "$r" '[.pushed, (.accepted | length), (.rejected | length), (.duplicate | length)] | join(" ")' \
          "6 4 2 0" "the round's counts"
expect_jq "$r" '[.accepted[] | {op, kind}] | tojson' "$(jq -c '.[0:4]' <<<"$queued")" \
          "the accepted ops are the first four queued, by id and kind"
expect_jq "$r" '[.rejected[] | {op, kind}] | tojson' "$(jq -c '.[4:6]' <<<"$queued")" "the refused ones, the last two"
expect_jq "$r" '[.accepted[] | .log_index | type] | unique | join(" ")' number "each accepted op has its log index"
expect_jq "$r" '[.rejected[] | "\(.kind) \(.reason)"] | join(",")' \
          "inspection_open out_of_scope,note unknown_dependency" "the refused ops, with why"
expect_jq "$r" '.rejected[0].message' "target T-OUT is outside your org unit's scope" "the refusal's message"
expect_jq "$r" '.rejected[0].entity' "$OUT" "the refused inspection"
expect_jq "$out" '.rejected | length' 2 "the sync's rejected list"
expect_eq "$(jq -r '.checkpoint.size' <<<"$out")" "$(jq -r '.checkpoint.size' <<<"$r")" "the round's checkpoint"
# The refused inspection is not in the replica; its ops are, as refused history.
expect_exit 3 sc inspector show "$OUT"
expect_jq "$(sc inspector outbox)" '[.rejected[].kind] | join(" ")' "inspection_open note" "rejected ops listed"
expect_jq "$(sc inspector outbox)" '.queued | length' 0 "nothing left queued"
expect_jq "$(sc inspector sync)" '[.pushed, (.rounds | length)] | join(" ")' "0 1" "the next sync pushes nothing"

# ---- a sync that fails in mid-photo (exit 4): what got in, what waits ----
photo "$TMP/a.jpg" "消防通道 北"
photo "$TMP/b.jpg" "消防通道 南"
CHECK2=$(new_check inspector)
GAS=$(new_finding inspector "$CHECK2" "燃气管道老化" major --deadline "$(day 60)" --photo "$TMP/a.jpg" --photo "$TMP/b.jpg")
sc inspector check submit "$CHECK2" >/dev/null
want=$(sc inspector outbox | jq -c '[.queued[].op] | sort')
n=$(jq length <<<"$want")
# syncd cannot take photos now: its partial-upload directory is a file.
mv "$DATA/blobs/partial" "$DATA/blobs/partial.away"
: >"$DATA/blobs/partial"
expect_exit 4 "$SPOT" --db "$TMP/inspector.db" sync
grep -q "photo upload" "$TMP/err" || fail "the failure is not named: $(cat "$TMP/err")"
grep -qF "before it stopped, this sync got $n ops into the log (proven) and uploaded 0 photos; still waiting: 0 ops and 2 photos (spotcheck outbox lists them)" "$TMP/err" ||
  fail "what got in is not said: $(cat "$TMP/err")"
expect_exit 4 sc inspector sync
expect_jq "$(cat "$TMP/out")" '[.error.exit, .sync.ops_proven, .sync.ops_queued, .sync.photos_waiting] | join(" ")' \
          "4 0 0 2" "--json: the error, and where the sync left things"
ob=$(sc inspector outbox --all)
expect_jq "$ob" '.queued | length' 0 "the ops are out of the outbox"
expect_jq "$ob" "[.proven[] | select(.op as \$o | $want | index(\$o)) | .op] | sort | tojson" "$want" "each op proven"
expect_jq "$ob" "[.proven[] | select(.op as \$o | $want | index(\$o)) | .log_index | type] | unique | join(\" \")" \
          number "with its log index"
shas=$(for f in a b; do sha256sum "$TMP/$f.jpg" | cut -c1-64; done | sort | paste -sd' ')
expect_jq "$ob" '[.photos_waiting[].sha256] | sort | join(" ")' "$shas" "the photos that wait"
"$SPOT" --db "$TMP/inspector.db" outbox >"$TMP/outbox.txt"
grep -q "^queued, not yet in the log: 0$" "$TMP/outbox.txt" || fail "outbox text: $(cat "$TMP/outbox.txt")"
grep -q "^photos waiting to upload: 2$" "$TMP/outbox.txt" || fail "outbox text: $(cat "$TMP/outbox.txt")"
# What got in is the register's: the supervisor pulls the finding, its photos still to come.
sc supervisor sync >/dev/null
expect_jq "$(sc supervisor show "$GAS")" '[.status, .evidence_pending] | join(" ")' "open true" "the finding arrived"
rm "$DATA/blobs/partial"
mv "$DATA/blobs/partial.away" "$DATA/blobs/partial"
expect_jq "$(sc inspector sync)" '[.pushed, .photos_uploaded] | join(" ")' "0 2" "the photos go up next time"
expect_jq "$(sc inspector outbox)" '.photos_waiting | length' 0 "nothing waits"
"$SPOT" --db "$TMP/inspector.db" show "$GAS" >"$TMP/gas.txt"
for sha in $shas; do
  grep -q "^  $sha  [0-9]* B  image/jpeg  taken [0-9-]* [0-9:]* (file time)$" "$TMP/gas.txt" || fail "show text: photo $sha: $(cat "$TMP/gas.txt")"
done

# ---- show names people, and tells a voided op from a valid one ----
expect_jq "$(sc inspector photo add "$FIRE" "$TMP/a.jpg")" .sha256 "$(sha256sum "$TMP/a.jpg" | cut -c1-64)" "photo"
attach=$(sc inspector show "$FIRE" | jq -r '[.history[] | select(.kind == "photo_attach")] | last | .op')
sc inspector void "$attach" --reason "拍错了位置" >/dev/null
sc inspector note "$FIRE" --text "已通知物业" >/dev/null
sync_ok inspector inspector2 supervisor
key=$(sc inspector status | jq -r .device_key)
shown=$(sc supervisor show "$FIRE")
expect_jq "$shown" "[.history[] | select(.author == \"$key\") | .author_login] | unique | join(\" \")" inspector \
          "authors by login in --json"
expect_jq "$shown" ".people[\"$key\"] | [.login, .name, .device] | join(\"|\")" "inspector|检查员 王明|spotcheck" \
          "the inspector as the register knows them"
expect_jq "$shown" '[.history[] | select(.op == "'"$attach"'") | .valid, .validity, .why] | join(" ")' \
          "false voided 拍错了位置" "the voided photo and why"
expect_jq "$shown" '[.history[] | select(.kind == "void") | .validity] | join(" ")' valid "the void itself counts"
"$SPOT" --db "$TMP/supervisor.db" show "$FIRE" >"$TMP/show.txt"
grep -q "photo_attach  by inspector (检查员 王明, spotcheck)  log [0-9]*  VOIDED: 拍错了位置$" "$TMP/show.txt" ||
  fail "show text: the voided photo: $(cat "$TMP/show.txt")"
grep -q "^created_by: inspector (检查员 王明, spotcheck)$" "$TMP/show.txt" || fail "show text: created_by"
grep -qF "$key" "$TMP/show.txt" && fail "show text names the inspector by hex key"

# ---- conflict values name org units by code; a resolve takes the code ----
sc inspector finding set "$FIRE" --responsible junan >/dev/null
sc inspector2 finding set "$FIRE" --responsible junan-garden >/dev/null
sync_ok inspector inspector2 inspector supervisor
for who in inspector inspector2 supervisor; do
  inbox=$(sc "$who" conflicts)
  expect_jq "$inbox" '.items[0].conflicts[0] | [.field, (.values | sort | join(","))] | join(" ")' \
            "responsible junan,junan-garden" "codes in the inbox of $who"
  shown=$(sc "$who" show "$FIRE")
  expect_jq "$shown" '.responsible == .conflicts[0].values[0]' true "the value in effect, as the field shows it, on $who"
done

# ---- a void closes the finding's conflicts everywhere; resolve says so ----
sc supervisor void "$FIRE" --reason "重复登记" >/dev/null
out=$(sc supervisor sync)
expect_jq "$out" .conflicts 0 "no conflicts left in the sync report"
sync_ok inspector inspector2
for who in inspector inspector2 supervisor; do
  expect_jq "$(sc "$who" conflicts)" '.items | length' 0 "the inbox of $who"
  shown=$(sc "$who" show "$FIRE")
  expect_jq "$shown" '[.voided, .void_reason, (.conflicts | length), (.conflicts_closed_by_void | length)] | join(" ")' \
            "true 重复登记 0 1" "the voided finding on $who"
done
expect_jq "$(sc supervisor review)" '.conflicts | length' 0 "the review queue"
before=$(sc supervisor status | jq -c '{outbox, ops, replica_hash}')
expect_exit 1 "$SPOT" --db "$TMP/supervisor.db" resolve "$FIRE" --field responsible --value junan
grep -qF "finding $FIRE is voided: its conflicts were closed with the void, nothing is left to resolve" "$TMP/err" ||
  fail "resolve on a voided finding: $(cat "$TMP/err")"
expect_eq "$(sc supervisor status | jq -c '{outbox, ops, replica_hash}')" "$before" "a refused resolve changes nothing"

# ---- list --include-voided: voided records, marked, with their reason ----
expect_jq "$(sc supervisor list findings)" "[.items[].id] | index(\"$FIRE\")" null "left out by default"
all=$(sc supervisor list findings --include-voided)
expect_jq "$all" ".items[] | select(.id == \"$FIRE\") | [.voided, .void_reason, .conflicts] | join(\" \")" \
          "true 重复登记 0" "listed with --include-voided, marked"
expect_jq "$all" ".items[] | select(.id == \"$GAS\") | .voided" false "the others are not voided"
"$SPOT" --db "$TMP/supervisor.db" list findings --include-voided >"$TMP/list.txt"
grep -q "^$FIRE .*VOIDED: 重复登记$" "$TMP/list.txt" || fail "list text: $(cat "$TMP/list.txt")"
grep -q "^$GAS .*VOIDED" "$TMP/list.txt" && fail "list text marks a finding that is not voided"
echo "ok: what happened"
