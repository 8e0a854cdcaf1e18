#!/usr/bin/env bash
# A new inspector finds their way with the CLI alone: the targets and score
# sheets on the tablet, a sheet's sections, items, points, veto items and
# pass mark (by its code or id), the items of a draft still to score, each
# command's --help with the values its options take, and errors about a
# bad value that list the good ones (a misspelled item code lists the
# sheet's codes).  Nothing a refused command was given is recorded.
source "$(dirname "$0")/cli_common.bash"

start_with inspector

# list targets: the register's three, with their codes, names and org units.
out=$(sc inspector list targets)
expect_jq "$out" '[.items[].code] | sort | join(" ")' "T-JAHY T-JAMKT T-XYC1" "targets listed"
expect_jq "$out" '.items[] | select(.code == "T-JAHY") | .name' "君安花园小区" "a target's name"
expect_jq "$out" '.items[] | select(.code == "T-JAHY") | .org' "junan-garden" "a target's org unit"
expect_jq "$out" '.items[] | select(.code == "T-JAMKT") | .target_type' "market" "a target's type"
"$SPOT" --db "$TMP/inspector.db" list targets >"$TMP/human"
grep -q "T-JAHY.*君安花园小区" "$TMP/human" || fail "list targets for people: $(cat "$TMP/human")"

# list templates: the one sheet, with its id, version, pass mark and size.
out=$(sc inspector list templates)
expect_jq "$out" '.items | length' 1 "score sheets listed"
expect_jq "$out" '.items[0] | [.code, .version, .pass_mark, .max_total, .items, .veto_items] | join(" ")' \
  "$TEMPLATE 1 80 100 10 1" "the sheet's code, version, pass mark, maximum, items, veto items"
TPL=$(expect_id "$(jq -r '.items[0].id' <<<"$out")" "the sheet's id")
"$SPOT" --db "$TMP/inspector.db" list templates >"$TMP/human"
grep -q "$TPL.*$TEMPLATE.*v1" "$TMP/human" || fail "list templates for people: $(cat "$TMP/human")"
# list orgs: the register's five units, each under its parent (by code), the root under none.
out=$(sc inspector list orgs)
expect_jq "$out" '[.items[] | "\(.code)<\(.parent // "")"] | sort | join(" ")' \
  "city< county<city junan-garden<junan junan<street street<county" "org units and their parents"
expect_jq "$out" '.items[] | select(.code == "junan-garden") | [.name, .level] | join(" ")' \
  "君安花园物业 compound" "an org unit's name and level"
"$SPOT" --db "$TMP/inspector.db" list orgs >"$TMP/human"
grep -q "junan-garden.*君安花园物业.*under junan)" "$TMP/human" || fail "list orgs for people: $(cat "$TMP/human")"
expect_exit 1 sc inspector list orgs --target T-JAHY
# A filter that has no meaning for what is listed is refused, not ignored.
expect_exit 1 sc inspector list templates --status draft
grep -q "no status" "$TMP/err" || fail "status of templates: $(cat "$TMP/err")"
expect_exit 1 sc inspector list targets --overdue
# What cannot be listed says what can.
expect_exit 1 sc inspector list inspectors
grep -qF "checks, findings, assignments, targets, templates" "$TMP/err" || fail "list what: $(cat "$TMP/err")"
expect_exit 1 sc inspector list findings --status opne
grep -qF "open, submitted, verified, closed" "$TMP/err" || fail "finding statuses: $(cat "$TMP/err")"

# show of the sheet, by code and by id alike: sections, items, points, veto, pass mark.
by_code=$(sc inspector show "$TEMPLATE")
by_id=$(sc inspector show "$TPL")
expect_eq "$(jq -c 'del(.history, .people)' <<<"$by_code")" "$(jq -c 'del(.history, .people)' <<<"$by_id")" \
  "show by code is show by id"
expect_jq "$by_code" '.id' "$TPL" "the sheet's id"
expect_jq "$by_code" '.pass_mark' 80 "pass mark"
expect_jq "$by_code" '[.items[].code] | join(" ")' "${SHEET_ITEMS[*]}" "item codes, in the sheet's order"
expect_jq "$by_code" '.items[] | select(.code == "no-confirmed") | [.section, .max_points, .veto] | join(" ")' \
  "防控效果 20 true" "the veto item"
expect_jq "$by_code" '[.items[].max_points] | add' 100 "points add up to the maximum"
"$SPOT" --db "$TMP/inspector.db" show "$TEMPLATE" >"$TMP/human"
grep -q "no-confirmed" "$TMP/human" || fail "show for people names the item codes"
expect_exit 3 sc inspector show no-such-sheet
grep -q "no-such-sheet" "$TMP/err" || fail "unknown code: $(cat "$TMP/err")"

# A draft lists the items still to score; scoring one takes it off.
CHECK=$(new_check inspector)
out=$(sc inspector show "$CHECK")
expect_jq "$out" '[.unscored[].code] | join(" ")' "${SHEET_ITEMS[*]}" "a new draft: everything unscored"
sc inspector check score "$CHECK" --item publicity --status met >/dev/null
out=$(sc inspector show "$CHECK")
expect_jq "$out" '.unscored | length' 9 "one item scored"
expect_jq "$out" '[.unscored[].code] | index("publicity")' null "publicity is scored"
expect_jq "$out" '.unscored[] | select(.code == "no-confirmed") | .veto' true "unscored items say veto"

# A misspelled item code: refused (3), listing the sheet's codes; nothing recorded.
before=$(sc inspector status | jq -c '{outbox, ops}')
expect_exit 3 sc inspector check score "$CHECK" --item publicty --status met
for code in "${SHEET_ITEMS[@]}"; do
  grep -qF "$code" "$TMP/err" || fail "the error lists $code: $(cat "$TMP/err")"
done
# A bad status, kind, relation or source lists the valid ones.
expect_exit 1 sc inspector check score "$CHECK" --item publicity --status done
grep -qF "met, not_met, unknown, na" "$TMP/err" || fail "item statuses: $(cat "$TMP/err")"
expect_exit 1 sc inspector check open --target T-JAHY --kind sometimes --disclosure open
grep -qF "self, internal_review, daily" "$TMP/err" || fail "kinds: $(cat "$TMP/err")"
expect_exit 1 sc inspector check open --target T-JAHY --kind spot --disclosure open --relation cousin
grep -qF "self, superior, peer, external" "$TMP/err" || fail "relations: $(cat "$TMP/err")"
expect_exit 1 sc inspector finding add --target T-JAHY --desc x --grade general --source rumour
grep -qF "inspection, complaint, hotline, opinion, monitoring" "$TMP/err" || fail "sources: $(cat "$TMP/err")"
expect_eq "$(sc inspector status | jq -c '{outbox, ops}')" "$before" "refused commands recorded nothing"

# Every command has its own --help, without a replica; the values come from the library.
help() { SPOTCHECK_DB= "$SPOT" "$@" --help; }
help check open >"$TMP/h"
grep -q "^usage: spotcheck check open" "$TMP/h" || fail "check open --help: $(cat "$TMP/h")"
grep -qF "one of: self, internal_review, daily, patrol" "$TMP/h" || fail "--kind's values: $(cat "$TMP/h")"
grep -qF "one of: open, unannounced, experiential" "$TMP/h" || fail "--disclosure's values"
grep -qF "one of: self, superior, peer, external" "$TMP/h" || fail "--relation's values"
help check score >"$TMP/h"
grep -qF "one of: met, not_met, unknown, na" "$TMP/h" || fail "--status's values: $(cat "$TMP/h")"
help finding add >"$TMP/h"
grep -qF "one of: inspection, complaint, hotline, opinion, monitoring" "$TMP/h" || fail "--source's values"
grep -qF "one of: general, major" "$TMP/h" || fail "--grade's values"
help list >"$TMP/h"
grep -qF "checks, findings, assignments, targets, templates" "$TMP/h" || fail "list WHAT: $(cat "$TMP/h")"
grep -qF "finding_status: open, submitted, verified, closed" "$TMP/h" || fail "list --status: $(cat "$TMP/h")"
help revisit >"$TMP/h"
grep -qF "one of: rectified, not_rectified" "$TMP/h" || fail "--result's values"
help escalate >"$TMP/h"
grep -qF "one of: reminder, public_notice, interview, yellow_card, accountability" "$TMP/h" ||
  fail "escalate --step's values: $(cat "$TMP/h")"
grep -qF "one of: city, county, street, community, grid, compound, building, unit, household" "$TMP/h" ||
  fail "escalate --level's values: $(cat "$TMP/h")"
help check sign-off >"$TMP/h"
grep -q "^usage: spotcheck check sign-off CHECK --name NAME --role POST --signature FILE" "$TMP/h" ||
  fail "check sign-off --help: $(cat "$TMP/h")"
grep -q "^  --countersign" "$TMP/h" || fail "check sign-off --help lists --countersign: $(cat "$TMP/h")"
help check >"$TMP/h"
grep -q "open|score|submit|amend|sign-off" "$TMP/h" || fail "check --help lists its subcommands"
help extension >"$TMP/h"
grep -q "extension request" "$TMP/h" || fail "extension --help"
# Each option a command's help lists is one the command takes (the same table).
for cmd in "assign" "check open" "check score" "finding add" "finding set" "revisit" "rectify" "list" \
           "escalate" "check sign-off"; do
  # shellcheck disable=SC2086
  help $cmd | sed -n 's/^  \(--[a-z-]*\).*/\1/p' >"$TMP/opts"
  [[ -s $TMP/opts ]] || fail "$cmd --help lists no options"
  while read -r o; do
    # shellcheck disable=SC2086
    "$SPOT" --db "$TMP/inspector.db" $cmd "$o" 2>"$TMP/err" >/dev/null || true
    grep -q "unknown option" "$TMP/err" && fail "$cmd --help lists $o, which $cmd does not take"
  done <"$TMP/opts"
  # shellcheck disable=SC2086
  "$SPOT" --db "$TMP/inspector.db" $cmd --no-such-option 2>"$TMP/err" >/dev/null || true
  grep -q "unknown option" "$TMP/err" || fail "$cmd takes any option? $(cat "$TMP/err")"
done
expect_eq "$(sc inspector status | jq -c '{outbox, ops}')" "$before" "options tried recorded nothing"
# The global help points to them.
"$SPOT" --help | grep -q "COMMAND \[SUBCOMMAND\] --help" || fail "spotcheck --help"

# Text typed on a tablet reaches other people's terminals: printed for people, a newline in it
# does not forge a line and an escape sequence does not reach the terminal; --json keeps it whole.
CHECK=$(new_check inspector)
desc=$'管道老化\n9999  closed  T-JAHY  forged line\e]0;title\a\e[31m'
ID=$(new_finding inspector "$CHECK" "$desc" general)
"$SPOT" --db "$TMP/inspector.db" list findings >"$TMP/human"
! grep -q $'\e' "$TMP/human" || fail "an escape sequence reached the terminal: $(cat -A "$TMP/human")"
expect_eq "$(grep -c . "$TMP/human")" 1 "one finding, one line"
grep -q "管道老化 9999  closed  T-JAHY  forged line?]0;title??\[31m" "$TMP/human" ||
  fail "the description as shown: $(cat -A "$TMP/human")"
expect_jq "$(sc inspector list findings)" ".items[] | select(.id == \"$ID\") | .description" "$desc" \
  "--json keeps the text as recorded"
"$SPOT" --db "$TMP/inspector.db" show "$ID" >"$TMP/human"
! grep -q $'\e' "$TMP/human" || fail "show printed an escape sequence: $(cat -A "$TMP/human")"
echo "OK"
