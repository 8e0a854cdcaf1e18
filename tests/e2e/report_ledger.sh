#!/usr/bin/env bash
# Ledgers (台账, docs/reports.md) from real syncd and CLI processes, on the
# register of scripts/make-register.sh with (REGISTER_STORE=postgresql,
# e2e/report_ledger_pg) the register in PostgreSQL:
#  - three findings of two submitted checks go through sign-for, a plan, an
#    extension, rectification, closure and a reopen; a fourth is found in an
#    unannounced check (暗访) still a draft, synced but not released;
#  - `syncd report ledger` writes every finding of the register, and its
#    row count and totals match the register's own tables; the supervisor's
#    `spotcheck report ledger` is the same rows, and the property
#    company's (wuye, the inspected unit) leaves out the unreleased check
#    and its finding until the check is submitted;
#  - each row's columns are checked against what was done: the deadline in
#    force after the extension, sign-for, plan person, dates, days overdue as
#    of a given day, the reopen count, photos, the op id `show` names;
#  - the XLSX opens in openpyxl with the same cells (dates as dates);
#  - filters, English headers, the CSV's BOM and quoting, a formula typed
#    as a description written as text; bad filters are refused naming the
#    valid values, and leave no file behind.
source "$(dirname "$0")/cli_common.bash"
# Debian's python3, where python3-openpyxl installs (another python3 may come first on PATH).
PY=/usr/bin/python3
[[ -x $PY ]] || PY=python3
"$PY" -c 'import openpyxl' 2>/dev/null ||
  fail "python3-openpyxl is required (scripts/install-deps.sh installs it)"

if [[ ${REGISTER_STORE:-} == postgresql ]]; then
  pg=$("$SC_SOURCE_DIR/tests/support/sctest_pg.sh" start $$) || exit $?
  read -r PG_DIR PG_PORT PG_PW <<<"$pg"
  PGPASSWORD=$PG_PW psql -q -h 127.0.0.1 -p "$PG_PORT" -U spotcheck -d postgres \
    -c "CREATE DATABASE ledger" >/dev/null
  export SC_REGISTER_STORE="postgresql://spotcheck:$PG_PW@127.0.0.1:$PG_PORT/ledger"
  # reg_count SQL: one number from the register's tables.
  reg_count() { PGPASSWORD=$PG_PW psql -qtA -h 127.0.0.1 -p "$PG_PORT" -U spotcheck -d ledger -c "$1"; }
else
  reg_count() { sqlite3 "$DATA/register.db" "$1"; }
fi

ALL=(inspector supervisor wuye)
start_with "${ALL[@]}"

# A submitted check of the compound: a major hazard with a photo, and a general finding whose
# description is a formula with a comma and quotes (whoever types a finding writes the ledger).
CHECK=$(new_check inspector)
score_sheet inspector "$CHECK"
photo "$TMP/gas.jpg" "corroded gas pipe"
photo "$TMP/gas2.jpg" "expired tag"
GAS=$(new_finding inspector "$CHECK" "燃气管道老化未按期检验" major --category GAS \
      --deadline "$(day 14)" --photo "$TMP/gas.jpg")
sc inspector photo add "$GAS" "$TMP/gas2.jpg" --caption "检验标签过期" >/dev/null
FORMULA='=HYPERLINK("http://example.invalid","消防通道, 点击")'
LANE=$(new_finding inspector "$CHECK" "$FORMULA" general --category FIRE_LANE --deadline "$(day 3)")
sc inspector check submit "$CHECK" >/dev/null
# A submitted check of 星悦城一期, for the community itself to fix.
CHECK2=$(new_check inspector T-XYC1)
score_sheet inspector "$CHECK2"
SIGNS=$(expect_id "$(sc inspector finding add --check "$CHECK2" --desc "配电箱无明显警示标识" --grade general \
                     --responsible junan --deadline "$(day 7)" | jq -r .id)" "the signs")
sc inspector check submit "$CHECK2" >/dev/null
# An unannounced check of the compound, planned by the supervisor: a draft, synced, not released.
ASG=$(expect_id "$(sc supervisor assign --target T-JAHY --inspector inspector --kind spot \
      --disclosure unannounced --template "$TEMPLATE" | jq -r .id)" assign)
sync_ok supervisor inspector
SECRET=$(expect_id "$(sc inspector check open --assignment "$ASG" | jq -r .id)" "the unannounced check")
HIDDEN=$(new_finding inspector "$SECRET" "暗访: 门岗未测温" general --deadline "$(day 5)")
sync_ok inspector supervisor wuye

# The gas pipeline: signed for, planned, its deadline extended to day 30.
sc wuye sign-for "$GAS" >/dev/null
sc wuye plan "$GAS" --person-name "陈静" --person-phone 13800000000 --measures "更换老化管道" \
  --funds 12000 --funds-source "安全专项费用" --interim "关闭总阀" --lead-official "王副主任" >/dev/null
sc wuye extension request "$GAS" --deadline "$(day 30)" --reason "检验机构排期" >/dev/null
sync_ok wuye supervisor
sc supervisor extension approve "$GAS" --reason "同意" >/dev/null
# The fire lane: rectified, revisited, closed, reopened, and closed again.
sc wuye rectify "$LANE" --note "已清理" >/dev/null
sync_ok wuye inspector supervisor
sc inspector revisit "$LANE" --result rectified >/dev/null
sync_ok inspector supervisor
sc supervisor close "$LANE" --note "销号" >/dev/null
sc supervisor reopen "$LANE" --reason "回头看: 又被占用" >/dev/null
sync_ok supervisor wuye
sc wuye rectify "$LANE" --note "再次清理, 加装地锁" >/dev/null
sync_ok wuye inspector
sc inspector revisit "$LANE" --result rectified >/dev/null
sync_ok inspector supervisor
sc supervisor close "$LANE" --note "销号" >/dev/null
sync_ok "${ALL[@]}"

# csv_rows FILE: the CSV as JSON rows (the BOM checked and taken off).
csv_rows() {
  "$PY" - "$1" <<'EOF'
import csv, json, sys
raw = open(sys.argv[1], 'rb').read()
assert raw.startswith(b'\xef\xbb\xbf'), 'no UTF-8 BOM'
assert b'\r\n' in raw, 'lines do not end with CRLF'
print(json.dumps(list(csv.reader(raw[3:].decode('utf-8').splitlines()))))
EOF
}
# col ROWS ID HEADER: the cell of the row whose first cell is ID, in the column HEADER.
col() { jq -r --arg id "$2" --arg h "$3" '.[0] as $hd | ($hd | index($h)) as $i | .[1:][] | select(.[0] == $id) | .[$i]' <<<"$1"; }

AS_OF=$(day 20)
TODAY=$(day 0)
# The whole register, from syncd (serving meanwhile).
# A link planted at FILE.partial is not written through (the file it names stays as it was).
echo "not yours" >"$TMP/victim"
ln -s "$TMP/victim" "$TMP/all.csv.partial"
out=$("$SYNCD" report ledger --data "$DATA" --format csv --out "$TMP/all.csv" --lang en --as-of "$AS_OF")
expect_eq "$(cat "$TMP/victim")" "not yours" "the file a planted link names"
[[ -f $TMP/all.csv && ! -L $TMP/all.csv ]] || fail "the ledger is a regular file"
expect_eq "$(stat -c %a "$TMP/all.csv")" 600 "the ledger's mode"
expect_eq "$out" "$TMP/all.csv: 4 findings (1 major, 3 open, 1 closed, 2 overdue, 2 photos)" "syncd's summary"
[[ ! -e $TMP/all.csv.partial ]] || fail "the partial file was left"
all=$(csv_rows "$TMP/all.csv")
# The register's own count: every finding, none voided.
expect_eq "$(jq 'length - 1' <<<"$all")" "$(reg_count "SELECT count(*) FROM entities WHERE type = 8")" \
  "rows against the register's findings"
expect_eq "$(jq -r '.[0] | join("|")' <<<"$all")" \
  "Finding|Target code|Target|Unit|Grade|Category|Description|Source|Check kind|Disclosure|Found|Deadline in force|Extensions|Responsible unit|Responsible person|Signed for|Signed for by|Status|Rectified|Accepted|Closed|Days overdue|Look-backs|Reopens|Photos|Op id" \
  "the English header"
expect_eq "$(jq -r '[.[1:][][0]] | sort | join(" ")' <<<"$all")" \
  "$(printf '%s\n' "$GAS" "$LANE" "$SIGNS" "$HIDDEN" | sort | paste -sd' ')" "every finding, once"
row() { jq -r --arg id "$1" '.[0] as $h | .[1:][] | select(.[0] == $id) | [.[1], .[2], .[3], .[4], .[5], .[7], .[8], .[9], .[10], .[11], .[12], .[13], .[14], .[15], .[16], .[17], .[18], .[19], .[20], .[21], .[22], .[23], .[24]] | join("|")' <<<"$all"; }
# The gas pipeline: deadline in force after the extension, signed for by the company's contact,
# the plan's person; still open, not overdue on day 20 (due day 30).
expect_eq "$(row "$GAS")" \
  "T-JAHY|君安花园小区|君安花园物业|major|GAS|inspection|supervisory|open|$TODAY|$(day 30)|1|君安花园物业|陈静|$TODAY|物业经理 陈静|open||||0|0|0|2" \
  "the gas pipeline's row"
# The fire lane: closed twice, reopened once, rectified and closed today, never late.
expect_eq "$(row "$LANE")" \
  "T-JAHY|君安花园小区|君安花园物业|general|FIRE_LANE|inspection|supervisory|open|$TODAY|$(day 3)|0|君安花园物业||||closed|$TODAY||$TODAY|0|0|1|0" \
  "the fire lane's row"
# The signs: the community's, due day 7: 13 days overdue on day 20.
expect_eq "$(row "$SIGNS")" \
  "T-XYC1|星悦城一期|君安社区|general||inspection|supervisory|open|$TODAY|$(day 7)|0|君安社区||||open||||13|0|0|0" \
  "the signs' row"
expect_eq "$(col "$all" "$HIDDEN" Disclosure) $(col "$all" "$HIDDEN" "Check kind")" "unannounced spot" \
  "the unannounced check's finding"
# The formula is text, quoted once for its comma and quotes, with an apostrophe before it.
expect_eq "$(col "$all" "$LANE" Description)" "'$FORMULA" "a formula written as text"
grep -qF "\"'=HYPERLINK(\"\"http://example.invalid\"\",\"\"消防通道, 点击\"\")\"" "$TMP/all.csv" ||
  fail "the formula's CSV quoting: $(grep -a HYPERLINK "$TMP/all.csv")"
# The op id is the transition in effect, as `show` names it.
expect_eq "$(col "$all" "$LANE" "Op id")" "$(sc supervisor show "$LANE" | jq -r '.history | map(select(.kind == "closure")) | last | .op')" \
  "the fire lane's op id is its last closure"
# Totals against the register: majors, closed.
expect_eq "$(jq '[.[1:][] | select(.[4] == "major")] | length' <<<"$all")" 1 "major rows"
expect_eq "$(jq '[.[1:][] | select(.[17] == "closed")] | length' <<<"$all")" 1 "closed rows"

# The supervisor's replica holds the same rows (in Chinese by default), overdue as of today
# matching `list findings --overdue`.
sc supervisor report ledger --format csv --out "$TMP/sup.csv" >"$TMP/sup.json"
sup=$(csv_rows "$TMP/sup.csv")
expect_eq "$(jq -r '.[0][0:5] | join("|")' <<<"$sup")" "问题编号|检查对象编码|检查对象|所属单位|隐患等级" "the Chinese header"
expect_eq "$(jq -r '[.[1:][][0]] | sort | join(" ")' <<<"$sup")" "$(jq -r '[.[1:][][0]] | sort | join(" ")' <<<"$all")" \
  "the supervisor sees every row"
expect_eq "$(col "$sup" "$GAS" 隐患等级) $(col "$sup" "$GAS" 状态) $(col "$sup" "$LANE" 状态)" "重大隐患 待整改 已销号" \
  "names in Chinese"
expect_jq "$(cat "$TMP/sup.json")" '[.rows, .major, .open, .closed, .overdue] | join(" ")' \
  "4 1 3 1 $(sc supervisor list findings --overdue | jq '.items | length')" "the supervisor's totals"

# The property company (scope: its compound, so not 星悦城一期) does not see the unannounced
# check nor its finding, until it is released.
sc wuye report ledger --format csv --out "$TMP/wuye.csv" --lang en >/dev/null
wuye=$(csv_rows "$TMP/wuye.csv")
expect_eq "$(jq -r '[.[1:][][0]] | sort | join(" ")' <<<"$wuye")" \
  "$(printf '%s\n' "$GAS" "$LANE" | sort | paste -sd' ')" "the unit's ledger leaves the draft out"
sc wuye report ledger --checks --format csv --out "$TMP/wuye-checks.csv" --lang en >/dev/null
expect_eq "$(jq -r '[.[1:][][0]] | join(" ")' <<<"$(csv_rows "$TMP/wuye-checks.csv")")" "$CHECK" \
  "the unit's checks ledger leaves the draft out"
sc supervisor report ledger --checks --format csv --out "$TMP/sup-checks.csv" --lang en >/dev/null
checks=$(csv_rows "$TMP/sup-checks.csv")
expect_eq "$(jq 'length - 1' <<<"$checks")" "$(reg_count "SELECT count(*) FROM entities WHERE type = 7")" \
  "the supervisor's checks against the register's"
expect_eq "$(col "$checks" "$SECRET" Status) $(col "$checks" "$SECRET" Disclosure) $(col "$checks" "$CHECK" Score) $(col "$checks" "$CHECK" Passed) $(col "$checks" "$CHECK" Findings)" \
  "draft unannounced 100 yes 2" "the checks' rows"
# Released: now the unit's ledger has it.
score_sheet inspector "$SECRET"
sc inspector check submit "$SECRET" >/dev/null
sync_ok inspector wuye
expect_eq "$(jq -r '[.[1:][][0]] | sort | join(" ")' <<<"$(sc wuye report ledger --format csv --out "$TMP/wuye2.csv" >/dev/null; csv_rows "$TMP/wuye2.csv")")" \
  "$(printf '%s\n' "$GAS" "$LANE" "$HIDDEN" | sort | paste -sd' ')" "released, the unit sees it"

# The XLSX, from syncd and from the supervisor's replica, read by openpyxl.
"$SYNCD" report ledger --data "$DATA" --format xlsx --out "$TMP/all.xlsx" --as-of "$AS_OF" >/dev/null
sc supervisor report ledger --format xlsx --out "$TMP/sup.xlsx" --as-of "$AS_OF" >/dev/null
for f in all sup; do
  "$PY" - "$TMP/$f.xlsx" "$GAS" "$(day 30)" <<'EOF' || fail "the XLSX $f"
import datetime, sys
from openpyxl import load_workbook
path, gas, due = sys.argv[1:]
ws = load_workbook(path, read_only=True).worksheets[0]
rows = list(ws.iter_rows(values_only=True))
assert ws.title == 'findings', ws.title
assert len(rows) == 5, len(rows)
h = rows[0]
assert h[:5] == ('问题编号', '检查对象编码', '检查对象', '所属单位', '隐患等级'), h[:5]
g = [r for r in rows[1:] if r[0] == gas]
assert len(g) == 1, g
g = dict(zip(h, g[0]))
assert g['隐患等级'] == '重大隐患', g
assert g['整改期限'] == datetime.datetime.fromisoformat(due), g['整改期限']
assert isinstance(g['发现日期'], datetime.datetime), g['发现日期']
assert g['延期次数'] == 1 and g['照片数'] == 2 and g['逾期天数'] == 0, g
assert g['签收人'] == '物业经理 陈静' and g['责任人'] == '陈静', g
assert g['销号日期'] is None, g
assert any(r[6] == '=HYPERLINK("http://example.invalid","消防通道, 点击")' for r in rows[1:]), \
    'the formula is kept as text'
EOF
done

# Filters: grade, status, target, org subtree, period, source and kind.
count() { "$SYNCD" report ledger --data "$DATA" --format csv --out "$TMP/f.csv" "$@" | sed 's/.*: \([0-9]*\) .*/\1/'; }
expect_eq "$(count --grade major)" 1 "--grade major"
expect_eq "$(count --status closed)" 1 "--status closed"
expect_eq "$(count --target T-XYC1)" 1 "--target"
expect_eq "$(count --org junan-garden)" 3 "--org: the compound's subtree"
expect_eq "$(count --org junan)" 4 "--org: the community's subtree"
expect_eq "$(count --period "$(date -u +%Y-%m)")" 4 "--period this month"
expect_eq "$(count --period 2001-Q1)" 0 "--period long ago"
expect_eq "$(count --period "$(day -1)..$(day 1)")" 4 "--period a range"
expect_eq "$(count --source complaint)" 0 "--source"
expect_eq "$(count --kind spot)" 1 "--kind: the unannounced spot check's finding"
expect_eq "$(count --checks --status submitted)" 3 "checks --status"
expect_eq "$(sc wuye report ledger --format csv --out "$TMP/f.csv" --grade general | jq .rows)" 2 "the CLI's --grade"

# Bad filters: refused with the valid values, no file written.
rm -f "$TMP/bad.csv"
expect_exit 2 "$SYNCD" report ledger --data "$DATA" --format csv --out "$TMP/bad.csv" --grade huge
grep -qF 'grade "huge" is not valid: one of general, major' "$TMP/err" || fail "bad grade: $(cat "$TMP/err")"
expect_exit 2 "$SYNCD" report ledger --data "$DATA" --format csv --out "$TMP/bad.csv" --period 2026-13
grep -qF 'period "2026-13" is not valid: one of YYYY-MM-DD, YYYY-Www, YYYY-MM, YYYY-Qn, YYYY' "$TMP/err" ||
  fail "bad period: $(cat "$TMP/err")"
expect_exit 2 "$SYNCD" report ledger --data "$DATA" --format pdf --out "$TMP/bad.csv"
grep -qF -- '--format "pdf" is not valid: one of csv, xlsx' "$TMP/err" || fail "bad format: $(cat "$TMP/err")"
expect_exit 2 "$SYNCD" report ledger --data "$DATA" --format csv --out "$TMP/bad.csv" --checks --grade major
grep -qF 'the checks ledger has no grade or source' "$TMP/err" || fail "checks by grade: $(cat "$TMP/err")"
expect_exit 2 "$SYNCD" report ledger --data "$DATA" --format csv --out "$TMP/bad.csv" --org nowhere
grep -qF 'no org unit has the code "nowhere"' "$TMP/err" || fail "unknown org: $(cat "$TMP/err")"
expect_exit 1 "$SPOT" --db "$TMP/wuye.db" report ledger --format csv --out "$TMP/bad.csv" --status done
grep -qF 'finding status "done" is not valid: one of open, submitted, verified, closed' "$TMP/err" ||
  fail "bad status: $(cat "$TMP/err")"
expect_exit 1 "$SPOT" --db "$TMP/wuye.db" report ledger --format csv --out "$TMP/bad.csv" --kind nope
grep -qF 'kind "nope" is not valid: one of self, internal_review' "$TMP/err" || fail "bad kind: $(cat "$TMP/err")"
expect_exit 1 "$SPOT" --db "$TMP/wuye.db" report ledger --format csv --out "$TMP/bad.csv" --as-of tomorrow
grep -qF 'as-of "tomorrow" is not a day: YYYY-MM-DD' "$TMP/err" || fail "bad as-of: $(cat "$TMP/err")"
expect_exit 3 "$SPOT" --db "$TMP/wuye.db" report ledger --format csv --out "$TMP/bad.csv" --target T-NONE
[[ ! -e $TMP/bad.csv && ! -e $TMP/bad.csv.partial ]] || fail "a refused ledger left a file"
# A file that cannot be written: said so, nothing left.
expect_exit 1 "$SYNCD" report ledger --data "$DATA" --format csv --out "$TMP/no/such/dir/x.csv"
expect_exit 6 "$SPOT" --db "$TMP/wuye.db" report ledger --format xlsx --out "$TMP/no/such/dir/x.xlsx"
# Reading changed nothing.
log_size >/dev/null
