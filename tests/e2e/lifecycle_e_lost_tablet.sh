#!/usr/bin/env bash
# (e) A lost tablet.  The admin revokes it; its next sync is refused (exit 1,
# the server's 403 device_revoked) and what it recorded since stays in its outbox, never
# logged.  The ops it signed before the revocation stay valid: every
# replica still shows and verifies them, the inspector carries on from a
# new tablet, and `syncd audit` passes.
source "$(dirname "$0")/cli_common.bash"

make_register
start_syncd
enroll lost inspector
enroll supervisor supervisor
sync_ok lost supervisor

# Work from the tablet before it is lost: a check with a finding, synced.
CHECK=$(new_check lost)
score_sheet lost "$CHECK"
LANE=$(new_finding lost "$CHECK" "小区消防通道被车辆占用" general --category FIRE_LANE --deadline "$(day 3)")
sc lost check submit "$CHECK" >/dev/null
sync_ok lost
LOST_KEY=$(sc lost status | jq -r .device_key)
LOST_DEV=$(sc lost status | jq -r .device_id)
# Recorded after the last sync, on the tablet that is about to go missing.
sc lost note "$LANE" --text "现场照片待补" >/dev/null

# The inspector reports the tablet lost; the admin revokes it.
admin device revoke "$LOST_DEV" --reason "平板遗失 (lost on a site visit)" >/dev/null
dev=$(admin device list --json | jq -c ".[] | select(.device == \"$LOST_DEV\")")
expect_jq "$dev" '[.login, .revoked, .revoke_reason] | join(" ")' "inspector true 平板遗失 (lost on a site visit)" \
          "device list"
expect_exit 1 sc lost sync
expect_jq "$(cat "$TMP/out")" '.error | [.status, .reason] | join(" ")' "SC_ERR_FORBIDDEN device_revoked" \
          "the refusal"
grep -q "server answered 403 device_revoked: device is revoked" "$TMP/err" ||
  fail "the message says why: $(cat "$TMP/err")"
expect_jq "$(sc lost status)" .outbox 1 "the unsent note stays on the lost tablet"

# The earlier ops stay valid everywhere: on the supervisor's replica, which
# learns of the revocation, and on the inspector's new tablet.
enroll tablet2 inspector
sync_ok supervisor tablet2
for who in supervisor tablet2; do
  shown=$(sc "$who" show "$LANE")
  expect_jq "$shown" '[.history[] | .author] | unique | join(" ")' "$LOST_KEY" "signed by the lost tablet, on $who"
  expect_jq "$shown" '[.history[] | .valid, .state] | unique | join(" ")' "true accepted" "still valid on $who"
  expect_jq "$shown" '.notes | length' 0 "the unsent note never arrived, on $who"
  expect_jq "$(sc "$who" list checks)" '.items[0] | [.id, .status, .score] | join(" ")' \
            "$CHECK submitted 100" "the check on $who"
  expect_jq "$(sc "$who" show "$LOST_DEV")" '[.type, .revoked] | join(" ")' "device true" \
            "the revocation reached $who"
  expect_jq "$(sc "$who" verify)" .ok true "$who verifies every op, the lost tablet's too"
done

# The inspector carries on from the new tablet.
sc tablet2 note "$LANE" --text "现场照片待补 (从新平板补记)" >/dev/null
sync_ok tablet2 supervisor
expect_jq "$(sc supervisor show "$LANE")" '.notes[0].author' "$(sc tablet2 status | jq -r .device_key)" \
          "the new tablet's note"

out=$("$SYNCD" audit --data "$DATA")
grep -q "^OK: everything holds" <<<"$out" || fail "syncd audit: $out"
echo "ok: lost tablet"
