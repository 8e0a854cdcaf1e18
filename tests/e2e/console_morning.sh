#!/usr/bin/env bash
# A supervisor's morning in the review console, in a real browser (Debian's
# chromium driven by playwright-core, tests/browser/morning.mjs): sync, the
# review queue, a finding's photos before and after, one closure approved,
# another finding sent back with a reason, a conflict resolved, the findings
# ledger exported as CSV and XLSX (a filter refused first), a stale page
# refused, sync again; and an inspector's console refused a closure by role.
# Then the register is checked through syncd, not the page: an auditor's
# replica pulls it, and each op is there, signed by the right user, and
# nothing more.  Screenshots of each step: $SC_BIN_DIR/artifacts/console/.
source "$(dirname "$0")/cli_common.bash"
source "$(dirname "$0")/console_common.bash"
BROWSER_DIR="$SC_SOURCE_DIR/tests/browser"
[[ -x /usr/bin/chromium ]] || fail "chromium is required (scripts/install-deps.sh installs it)"
[[ -d $BROWSER_DIR/node_modules/playwright-core ]] ||
  fail "playwright-core is not installed: scripts/install-deps.sh --test runs npm ci in tests/browser"
ARTIFACTS="$SC_BIN_DIR/artifacts/console"
rm -rf "$ARTIFACTS"

make_register
admin user add supervisor2 --role supervisor --org county --name "督导组 赵敏" >/dev/null
start_syncd
ALL=(inspector supervisor supervisor2 wuye auditor)
for who in "${ALL[@]}"; do enroll "$who" "$who"; done
sync_ok "${ALL[@]}"

# png FILE R G B: a real 64x48 PNG of one colour (the page shows it, the browser decodes it).
png() {
  python3 - "$@" <<'PY'
import struct, sys, zlib
path, r, g, b = sys.argv[1], *map(int, sys.argv[2:])
w, h = 64, 48
raw = b''.join(b'\0' + bytes((r, g, b)) * w for _ in range(h))
chunk = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))
open(path, 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))
                       + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
PY
}
png "$TMP/before.png" 200 40 40
png "$TMP/after.png" 40 160 60

# The inspector's check finds five things; the unit rectifies; the inspector revisits some.
CHECK=$(new_check inspector)
score_sheet inspector "$CHECK"
A=$(new_finding inspector "$CHECK" "燃气管道阀门锈蚀" general --deadline "$(day 7)" --photo "$TMP/before.png")
B=$(new_finding inspector "$CHECK" "消防通道堆放杂物" general --deadline "$(day 7)")
C=$(new_finding inspector "$CHECK" "电梯未张贴使用说明" general --deadline "$(day 7)")
D=$(new_finding inspector "$CHECK" "垃圾分类点无人值守" general --deadline "$(day 7)")
E=$(new_finding inspector "$CHECK" "出入口未设测温点" general --deadline "$(day 7)")
sc inspector check submit "$CHECK" >/dev/null
sync_ok inspector wuye
sc wuye rectify "$A" --note "已更换阀门" --photo "$TMP/after.png" >/dev/null
for f in "$B" "$D" "$E"; do sc wuye rectify "$f" --note "已整改" >/dev/null; done
sync_ok wuye inspector
for f in "$A" "$D" "$E"; do sc inspector revisit "$f" --result rectified --note "复查合格" >/dev/null; done
# Two devices set C's category at once: a conflict.
sync_ok inspector supervisor2
sc inspector finding set "$C" --category SIGNAGE >/dev/null
sc supervisor2 finding set "$C" --category ELEVATOR >/dev/null
sync_ok inspector supervisor2 inspector supervisor2
expect_jq "$(sc supervisor2 show "$C")" '.conflicts | length' 1 "the conflict on C"

# The supervisor's console, on a replica that has not synced since; the inspector's, for a refusal.
start_console supervisor
SUP_URL=$URL_WITH_TOKEN
start_console inspector
INS_URL=$URL_WITH_TOKEN

# The stale page: supervisor2 closes D and syncs; the supervisor's replica pulls it behind the page.
cat >"$TMP/stale.sh" <<SH
set -e
"$SPOT" --db "$TMP/supervisor2.db" --json close "$D" --note "销号" >/dev/null
"$SPOT" --db "$TMP/supervisor2.db" --json sync >/dev/null
"$SPOT" --db "$TMP/supervisor.db" --json sync >/dev/null
SH

mkdir -p "$TMP/export"
CONSOLE_URL=$SUP_URL INSPECTOR_URL=$INS_URL EXPORT_DIR="$TMP/export" CLOSE_A=$A BACK_B=$B CONFLICT_C=$C CONFLICT_KEEP=ELEVATOR \
  STALE_D=$D FORBID_E=$E STALE_HOOK="bash $TMP/stale.sh" ARTIFACTS="$ARTIFACTS" \
  node "$BROWSER_DIR/morning.mjs" || fail "the morning in the browser (screenshots: $ARTIFACTS)"
for step in sync review-queue photo-full-size closed send-back-reason sent-back conflict resolved \
            ledger ledger-refused-filter ledger-exported review-queue-english sync-again audit-proof overdue plans dashboard refused-stale-page refused-role; do
  ls "$ARTIFACTS"/*-"$step".png >/dev/null 2>&1 || fail "no screenshot of $step"
done

# The ledger the page downloaded: as many findings as `spotcheck report ledger` writes, in a
# CSV that is UTF-8 with a BOM and an XLSX a real reader opens.
rows=$(sc supervisor report ledger --format csv --out "$TMP/cli.csv" | jq -r .rows)
expect_eq "$rows" 5 "the command's ledger: the morning's five findings"
counted=$(/usr/bin/python3 - "$TMP/export/ledger.csv" "$TMP/export/ledger.xlsx" <<'PY'
import csv, sys, openpyxl
raw = open(sys.argv[1], 'rb').read()
assert raw.startswith(b'\xef\xbb\xbf'), 'the CSV begins with a BOM'
lines = list(csv.reader(raw.decode('utf-8-sig').splitlines()))
assert lines[0][0] == '问题编号', lines[0]
sheet = list(openpyxl.load_workbook(sys.argv[2], read_only=True).active.iter_rows(values_only=True))
assert sheet[0][0] == '问题编号' and len(sheet) == len(lines), (sheet[0], len(sheet), len(lines))
print(len(lines) - 1)
PY
) || fail "the downloaded ledger"
expect_eq "$counted" "$rows" "the page's CSV and XLSX hold the command's rows"

# The register, through syncd: an auditor's replica pulls everything.
sync_ok auditor
sup=$(sc supervisor status | jq -r .device_key)
sup2=$(sc supervisor2 status | jq -r .device_key)
# ops KIND FINDING: who signed the finding's ops of KIND in the register, one login a line.
ops() { sc auditor show "$2" | jq -r --arg k "$1" '.history[] | select(.kind == $k and .log_index != null) | .author_login'; }
expect_eq "$(ops closure "$A")" supervisor "A: one closure, by the supervisor"
expect_jq "$(sc auditor show "$A")" '[.status, .closed_by] | join(" ")' "closed $sup" "A closed"
expect_eq "$(ops revisit "$B")" supervisor "B: one revisit, the supervisor's send back"
expect_jq "$(sc auditor show "$B")" '[.status, .last_revisit] | join(" ")' "open not_rectified" \
          "B sent back, not rectified"
expect_eq "$(ops resolve "$C")" supervisor "C: one resolve, by the supervisor"
expect_jq "$(sc auditor show "$C")" '[.category, (.conflicts | length)] | join(" ")' "ELEVATOR 0" "C resolved"
expect_eq "$(ops closure "$D")" supervisor2 "D: closed once, by supervisor2; the stale page made nothing"
expect_jq "$(sc auditor show "$D")" .closed_by "$sup2" "D closed by supervisor2"
expect_eq "$(ops closure "$E")" "" "E: the inspector's refused closure made nothing"
expect_jq "$(sc inspector status)" .outbox 0 "nothing queued on the inspector's replica"
expect_jq "$(sc supervisor status)" .outbox 0 "the supervisor's console synced everything"
log_size >/dev/null
echo "PASS"
