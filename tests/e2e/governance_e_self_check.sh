#!/usr/bin/env bash
# Governance (e): self-checks (自查) and self-reported hazards (自查自纠,
# 及时登记), with real syncd and CLI processes (002 L29; 004 L23; 000 L375).
#  - The property company opens a self-check of its own compound, scores
#    it, raises a hazard in it (marked self-reported) and submits it; the
#    register takes it, the supervisor sees it and schedules a spot check
#    that names the self-check it verifies; lists filter self-reported.
#  - Refused, recording nothing: the company opening anything but a
#    self-check, a self-check of another unit's target, an inspector
#    raising a hazard in the company's self-check, a spot check naming an
#    inspection that is not a self-check.
source "$(dirname "$0")/cli_common.bash"

start_with inspector supervisor wuye
standing() { sc "$1" status | jq -c '{outbox, ops, replica_hash}'; }

# ---- refusals ----
before=$(standing wuye)
expect_exit 1 "$SPOT" --db "$TMP/wuye.db" check open --target T-JAHY --kind spot --disclosure open
grep -qF "a responsible user opens self-checks (自查) only, on its own unit's targets" "$TMP/err" ||
  fail "the company opening a spot check: $(cat "$TMP/err")"
expect_exit 1 "$SPOT" --db "$TMP/wuye.db" check open --target T-XYC1 --kind self --disclosure open
grep -qF "a self-check (自查) is of your own unit's targets: this target is junan's, and you speak for junan-garden" \
  "$TMP/err" || fail "a self-check of another unit's target: $(cat "$TMP/err")"
expect_eq "$(standing wuye)" "$before" "refused opens record nothing"

# ---- the company's self-check ----
SELF=$(sc wuye check open --target T-JAHY --kind self --disclosure open --relation self \
         --template "$TEMPLATE" | jq -r .id)
expect_id "$SELF" "the self-check"
sc wuye check score "$SELF" --item org-leadership --status met >/dev/null
# The draft reaches the street's inspector, who may not raise a hazard in it.
sync_ok wuye inspector
# An inspector may not raise a hazard in the company's self-check.
before=$(standing inspector)
expect_exit 1 "$SPOT" --db "$TMP/inspector.db" finding add --check "$SELF" --desc "x" --grade general
grep -qF "the findings of a self-check (自查) are the responsible unit's own" "$TMP/err" ||
  fail "an inspector's finding in a self-check: $(cat "$TMP/err")"
expect_eq "$(standing inspector)" "$before" "nothing recorded"
HAZ=$(sc wuye finding add --check "$SELF" --desc "楼道堆物、飞线充电" --grade general \
        --category FIRE --deadline "$(day 7)" | jq -r .id)
expect_id "$HAZ" "the self-reported hazard"
sc wuye check submit "$SELF" >/dev/null
sync_ok wuye supervisor inspector
expect_jq "$(sc wuye show "$SELF")" '[.status, .self_check] | join(" ")' "submitted true" \
          "the company's self-check"
for who in wuye supervisor; do
  expect_jq "$(sc "$who" list findings --self-reported)" '[.items[] | .id + ":" + (.self_reported | tostring) + ":" + (.notice | tostring)] | join(" ")' \
            "$HAZ:true:true" "self-reported, with its notice, on $who"
done
expect_jq "$(sc supervisor show "$HAZ")" '.self_reported' true "show says self-reported"


# ---- the supervisor's spot check of it (督促检查) ----
OTHER=$(new_check supervisor)
sync_ok supervisor
expect_exit 1 "$SPOT" --db "$TMP/supervisor.db" assign --target T-JAHY --inspector inspector \
            --kind spot --disclosure unannounced --verifies "$OTHER"
grep -qF "is not a self-check (自查): a spot check verifies self-checks" "$TMP/err" ||
  fail "verifying an inspection that is no self-check: $(cat "$TMP/err")"
SPOTCHK=$(sc supervisor assign --target T-JAHY --inspector inspector --kind spot \
            --disclosure unannounced --verifies "$SELF" --note "抽查自查情况" | jq -r .id)
expect_id "$SPOTCHK" "the spot check"
sync_ok supervisor inspector
expect_jq "$(sc inspector list assignments)" "[.items[] | select(.id == \"$SPOTCHK\") | .verifies[]] | join(\" \")" \
          "$SELF" "the spot check names the self-check it verifies"
log_size >/dev/null
