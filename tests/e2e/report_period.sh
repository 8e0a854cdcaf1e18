#!/usr/bin/env bash
# The period report (docs/reports.md, "Period report") from real syncd and CLI
# processes, on the register of scripts/make-register.sh with the other
# community of e2e/report_stats (其他社区, T-OTHER) and an inspector of it:
#  - the street's report of this month: its statistics table holds exactly
#    what `report stats --json` counts for the street and its two
#    communities; the charts are well-formed SVG; the major hazard's plan,
#    the overdue finding and the escalation are listed;
#  - the page is self-contained: no script, no external URL, stylesheet,
#    font or image; Chinese by default, English with --lang en;
#  - an unannounced check (暗访) still a draft, with a major hazard, is in
#    the supervisor's report and the register's (syncd), and not in the
#    report of the property company (until it is released) nor in that of
#    the other community's inspector;
#  - headless Chromium prints it to A4 with the page count the row counts
#    give (period.h: each section starts a page, tables cut at fixed
#    rows per page), at two sizes: one page per section, then with 35 more
#    overdue findings, which spill onto a second page; no page is blank and
#    every section's heading is printed;
#  - a bad period, an unknown org unit and an unwritable file are refused
#    with a message, and nothing is written.
source "$(dirname "$0")/cli_common.bash"
[[ -x /usr/bin/chromium ]] || fail "chromium is required (scripts/install-deps.sh installs it)"
command -v pdfinfo >/dev/null && command -v pdftotext >/dev/null ||
  fail "pdfinfo and pdftotext are required (scripts/install-deps.sh installs poppler-utils)"
PY=/usr/bin/python3
[[ -x $PY ]] || PY=python3

make_register
admin org add other --name "其他社区" --parent street --level community --kind residents_committee >/dev/null
admin target add T-OTHER --name "其他小区" --org other --type compound >/dev/null
admin user add inspector3 --role inspector --org other --name "检查员 赵六" >/dev/null
start_syncd
ALL=(inspector supervisor wuye inspector3)
for who in "${ALL[@]}"; do enroll "$who" "$who"; done
sync_ok "${ALL[@]}"

# C1, 君安花园小区, 100 points: F1 general, closed today; F2 major, due day 14, with a plan.
C1=$(new_check inspector T-JAHY)
score_sheet inspector "$C1"
F1=$(new_finding inspector "$C1" "消防通道被占用" general --deadline "$(day 3)")
F2=$(new_finding inspector "$C1" "燃气管道老化" major --deadline "$(day 14)")
sc inspector check submit "$C1" >/dev/null
# C2, 星悦城一期, 80 points (the veto item): F3 general, due 3 days ago, escalated.
C2=$(new_check inspector T-XYC1)
score_sheet inspector "$C2" "no-confirmed=not_met:0"
F3=$(expect_id "$(sc inspector finding add --check "$C2" --desc "配电箱无警示标识" --grade general \
                  --responsible junan --deadline "$(day -3)" | jq -r .id)" F3)
sc inspector check submit "$C2" >/dev/null
# An unannounced spot check of the compound, a draft: a major hazard two days overdue.
ASG=$(expect_id "$(sc supervisor assign --target T-JAHY --inspector inspector --kind spot \
      --disclosure unannounced --template "$TEMPLATE" | jq -r .id)" assign)
sync_ok supervisor inspector
SECRET=$(expect_id "$(sc inspector check open --assignment "$ASG" | jq -r .id)" "the unannounced check")
SECRET_TEXT="暗访发现门岗未测温登记"
HIDDEN=$(new_finding inspector "$SECRET" "$SECRET_TEXT" major --deadline "$(day -2)")
sync_ok inspector wuye supervisor
sc wuye plan "$F2" --person-name "陈静" --person-phone 13800000000 --measures "更换老化管道" \
  --funds 12000.50 --funds-source "安全专项费用" --interim "关闭总阀" --lead-official "王副主任" >/dev/null
sc wuye rectify "$F1" --note "已清理" >/dev/null
sync_ok wuye supervisor inspector
sc inspector revisit "$F1" --result rectified >/dev/null
sync_ok inspector supervisor
sc supervisor close "$F1" --note "销号" >/dev/null
sc supervisor escalate "$F3" --step reminder --level street --reason "逾期3天未整改, 发提醒函" >/dev/null
sync_ok supervisor "${ALL[@]}"

PERIOD=$(date -u +%Y-%m)
AS_OF=$(day 0)
period() { # WHO FILE [ARGS...]: WHO's period report of the street into FILE
  local who=$1 file=$2
  shift 2
  sc "$who" report period --org street --period "$PERIOD" --as-of "$AS_OF" --out "$file" "$@" >/dev/null
}
period supervisor "$TMP/sup.html"
out=$("$SYNCD" report period --data "$DATA" --org street --period "$PERIOD" --as-of "$AS_OF" --out "$TMP/reg.html")
expect_eq "$out" "$TMP/reg.html: period report of street for $PERIOD ($(stat -c %s "$TMP/reg.html") bytes)" \
  "syncd's summary"
[[ ! -e $TMP/reg.html.partial && ! -e $TMP/sup.html.partial ]] || fail "a partial file was left"

# ---- the statistics table is the statistics' ----
# stats_rows HTML: the table's rows as JSON, {code: [cells]}.
stats_rows() {
  "$PY" - "$1" <<'EOF'
import html.parser, json, sys
class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(); self.rows = {}; self.code = None; self.cell = None; self.table = None
    def handle_starttag(self, tag, a):
        a = dict(a)
        if tag == 'table': self.table = a.get('class')
        if tag == 'tr' and self.table == 'stats' and 'data-code' in a:
            self.code = a['data-code']; self.rows[self.code] = []
        if tag == 'td' and self.code: self.cell = ''
    def handle_endtag(self, tag):
        if tag == 'td' and self.cell is not None: self.rows[self.code].append(self.cell); self.cell = None
        if tag == 'tr': self.code = None
    def handle_data(self, d):
        if self.cell is not None: self.cell += d
p = P(); p.feed(open(sys.argv[1], encoding='utf-8').read()); print(json.dumps(p.rows, ensure_ascii=False))
EOF
}
# expected_rows JSON: `report stats --json`'s figures of the street and its communities, as the
# table shows them (rates per mille as "33.3%", means to a tenth, "-" for none).
expected_rows() {
  "$PY" -c '
import json, sys
g = {x["code"]: x for x in json.load(sys.stdin)["groups"]}
def pct(r): return "-" if r is None else "%d.%d%%" % divmod(round(r * 1000), 10)
def x10(v): return "-" if v is None else "%.1f" % v
out = {}
for code in ("street", "junan", "other"):
    x = g[code]; c = x["checks"]; f = x["findings"]
    out[code] = [x["name"], str(c["total"]), x10(c["average_score"]), pct(c["pass_rate"]),
                 str(f["total"]), str(f["major"]), str(f["closed"]), str(f["overdue"]),
                 pct(f["rectification_rate"]), x10(f["mean_days_to_close"]), pct(f["reopen_rate"]),
                 "-" if x["rank"] is None else "%d/%d" % (x["rank"], x["siblings"])]
print(json.dumps(out, ensure_ascii=False))'
}
same_figures() { # HTML STATS-JSON WHAT
  expect_eq "$(stats_rows "$1" | jq -S -c .)" "$(expected_rows <<<"$2" | jq -S -c .)" "$3"
}
reg_stats=$("$SYNCD" report stats --data "$DATA" --json --period "$PERIOD" --as-of "$AS_OF")
sup_stats=$(sc supervisor report stats --period "$PERIOD" --as-of "$AS_OF")
same_figures "$TMP/sup.html" "$sup_stats" "the supervisor's table against report stats"
same_figures "$TMP/reg.html" "$reg_stats" "the register's table against syncd report stats"
# And by hand: the street has 3 checks (the draft counted), 4 findings, 2 major, 1 closed,
# 2 overdue (F3, the hidden one): 整改率 1/4.
expect_eq "$(stats_rows "$TMP/sup.html" | jq -r '.street | [.[1], .[4], .[5], .[6], .[7], .[8]] | join(" ")')" \
  "3 4 2 1 2 25.0%" "the street's figures"

# The register's report is the supervisor's (whose scope is the whole county), to the byte, but
# for the time each was made.
strip_time() { grep -v '^<p class="meta">' "$1"; }
expect_eq "$(strip_time "$TMP/reg.html" | md5sum)" "$(strip_time "$TMP/sup.html" | md5sum)" \
  "syncd's report against the supervisor's"

# ---- self-contained, well-formed charts, the lists ----
self_contained() { # FILE
  ! grep -Eiq '(src|href)[[:space:]]*=[[:space:]]*["'"'"']?[[:space:]]*(https?:|//|file:|data:)|<script|<link|<img|<iframe|<object|@import|url\(' "$1" ||
    fail "$1 refers outside itself: $(grep -Eio '(src|href)=[^ >]*|<script|<link|<img|@import|url\([^)]*' "$1" | head -3)"
  grep -q '@media print' "$1" && grep -q '@page { size: A4' "$1" || fail "$1 has no print stylesheet"
}
self_contained "$TMP/sup.html"
"$PY" - "$TMP/sup.html" <<'EOF' || fail "the charts"
import re, sys, xml.etree.ElementTree as ET
page = open(sys.argv[1], encoding='utf-8').read()
svgs = re.findall(r'<svg .*?</svg>', page, re.S)
assert len(svgs) == 2, len(svgs)
NS = '{http://www.w3.org/2000/svg}'
lines, bars = (ET.fromstring(s) for s in svgs)
# This month, per day: two series over every day of it.
days = len(lines.find(NS + 'g[@class="sc-line"]').find(NS + 'polyline').get('points').split())
assert len(lines.findall(NS + 'g[@class="sc-line"]')) == 2 and days in (28, 29, 30, 31), days
texts = [''.join(t.itertext()) for t in bars.iter(NS + 'text')]
# 整改率 per community: 君安社区 1 of its 4 findings closed; 其他社区 has none.
assert '君安社区' in texts and '25.0%' in texts and '其他社区' in texts and '-' in texts, texts
assert len(bars.findall(NS + 'g[@class="sc-bar"]')) == 2
EOF
for text in "更换老化管道" "13800000000" "12000.50 元" "安全专项费用" "关闭总阀" "王副主任" \
            "配电箱无警示标识" "逾期3天未整改, 发提醒函" "提醒函" "$SECRET_TEXT"; do
  grep -qF "$text" "$TMP/sup.html" || fail "the supervisor's report lacks $text"
done

# ---- who sees the unannounced check ----
period wuye "$TMP/wuye.html"
period inspector3 "$TMP/other.html"
! grep -qF "$SECRET_TEXT" "$TMP/wuye.html" || fail "the inspected unit's report shows the unreleased check's finding"
! grep -qF "$SECRET_TEXT" "$TMP/other.html" || fail "the other community's inspector sees the unreleased check's finding"
! grep -qF "君安花园小区" "$TMP/other.html" || fail "the other community's inspector sees the compound's findings"
expect_eq "$(stats_rows "$TMP/wuye.html" | jq -r '.street | [.[1], .[4], .[5]] | join(" ")')" "1 2 1" \
  "the unit's figures: its compound's one submitted check, two findings, one major"
# Released: submitted, it reaches the unit.
score_sheet inspector "$SECRET"
sc inspector check submit "$SECRET" >/dev/null
sync_ok inspector wuye
period wuye "$TMP/wuye2.html"
grep -qF "$SECRET_TEXT" "$TMP/wuye2.html" || fail "released, the unit's report shows the finding"

# ---- English ----
period supervisor "$TMP/en.html" --lang en
grep -q '<html lang="en">' "$TMP/en.html" || fail "the English page's lang"
for text in "1. Statistics" "2. Charts" "3. Open major hazards and their rectification plans" \
            "4. Overdue findings" "5. Escalations" "Rect. rate" "Reminder" "Measures"; do
  grep -qF "$text" "$TMP/en.html" || fail "the English report lacks $text"
done
for text in 整改率 督办措施 整改措施 检查与整改统计 逾期天数 生成时间; do
  ! grep -qF "$text" "$TMP/en.html" || fail "the English report has the Chinese label $text"
done

# ---- printed: the page count follows from the rows ----
pages_of() { # ROWS FIRST PER: pages of a section
  local n=$1 first=$2 per=$3
  if ((n <= first)); then echo 1; else echo $((1 + (n - first + per - 1) / per)); fi
}
expected_pages() { # WHO: from the rows of what WHO sees (period.h's rows per page)
  local majors late
  majors=$(sc "$1" list findings | jq '[.items[] | select(.grade == "major" and .status != "closed")] | length')
  late=$(sc "$1" list findings --overdue | jq '.items | length')
  echo $(($(pages_of 3 20 30) + $(pages_of 2 16 30) + $(pages_of "$majors" 16 16) +
          $(pages_of "$late" 30 30) + $(pages_of 1 30 30)))
}
print_pdf() { # HTML PDF
  timeout 120 /usr/bin/chromium --headless --no-sandbox --disable-gpu --user-data-dir="$TMP/chromium" \
    --print-to-pdf="$2" --no-pdf-header-footer "file://$1" >/dev/null 2>&1 || true
  [[ -s $2 ]] || fail "chromium printed no $2"
}
check_pdf() { # PDF PAGES WHAT
  expect_eq "$(pdfinfo "$1" | sed -n 's/^Pages: *//p')" "$2" "$3: pages"
  # A4 in millimetres, as Chromium rounds it to its pixels (594.96 x 841.92 pt).
  expect_eq "$(pdfinfo "$1" | awk '/^Page size:/ { printf "%.0fx%.0f", $3 * 25.4 / 72, $5 * 25.4 / 72 }')" \
    "210x297" "$3: A4"
  local i
  for ((i = 1; i <= $2; i++)); do
    [[ -n $(pdftotext -f "$i" -l "$i" "$1" - | tr -d '[:space:]') ]] || fail "$3: page $i is blank"
  done
  pdftotext "$1" "$TMP/pdf.txt"
  for text in 一、检查与整改统计 二、图表 三、未销号重大隐患及整改方案 四、逾期未整改问题 五、督办与问责; do
    grep -qF "$text" "$TMP/pdf.txt" || fail "$3: the heading $text is not printed"
  done
}
period supervisor "$TMP/short.html"
short=$(expected_pages supervisor)
expect_eq "$short" 5 "the short report: one page per section"
print_pdf "$TMP/short.html" "$TMP/short.pdf"
check_pdf "$TMP/short.pdf" "$short" "the short report"

# 35 more findings of 其他小区, all a day overdue: the overdue list takes two pages.
C5=$(expect_id "$(sc inspector3 check open --target T-OTHER --kind patrol --disclosure open | jq -r .id)" C5)
for i in $(seq 1 35); do
  sc inspector3 finding add --check "$C5" --desc "巡查问题 $i" --grade general --responsible other \
    --deadline "$(day -1)" >/dev/null
done
sc inspector3 check submit "$C5" >/dev/null
sync_ok inspector3 supervisor
period supervisor "$TMP/long.html"
long=$(expected_pages supervisor)
expect_eq "$long" 6 "the long report: the overdue list on two pages"
expect_eq "$(grep -c '<h2>四、逾期未整改问题' "$TMP/long.html")" 2 "the overdue section's pages"
expect_eq "$(grep -c '^<tr><td>' "$TMP/long.html")" $((2 + 37 + 1)) "rows: two plans, 37 overdue, an escalation"
print_pdf "$TMP/long.html" "$TMP/long.pdf"
check_pdf "$TMP/long.pdf" "$long" "the long report"
grep -qF "四、逾期未整改问题（续）" "$TMP/pdf.txt" || fail "the overdue list's second page"

# ---- refusals: a message, and nothing written ----
expect_exit 1 "$SPOT" --db "$TMP/supervisor.db" report period --org street --period 2026-13 --out "$TMP/bad.html"
grep -qF 'period "2026-13" is not valid' "$TMP/err" || fail "a bad period: $(cat "$TMP/err")"
expect_exit 3 "$SPOT" --db "$TMP/supervisor.db" report period --org nowhere --period "$PERIOD" --out "$TMP/bad.html"
grep -qF 'nowhere' "$TMP/err" || fail "an unknown org unit: $(cat "$TMP/err")"
expect_exit 2 "$SPOT" --db "$TMP/supervisor.db" report period --period "$PERIOD"
expect_exit 6 "$SPOT" --db "$TMP/supervisor.db" report period --org street --period "$PERIOD" \
  --out "$TMP/no-such-dir/r.html"
grep -qF "cannot write $TMP/no-such-dir/r.html" "$TMP/err" || fail "an unwritable file: $(cat "$TMP/err")"
expect_exit 2 "$SYNCD" report period --data "$DATA" --org street --period 2026-Q5 --out "$TMP/bad.html"
grep -qF 'period "2026-Q5" is not valid' "$TMP/err" || fail "syncd, a bad period: $(cat "$TMP/err")"
expect_exit 2 "$SYNCD" report period --data "$DATA" --org nowhere --period "$PERIOD" --out "$TMP/bad.html"
grep -qF 'no org unit has the code "nowhere"' "$TMP/err" || fail "syncd, an unknown org: $(cat "$TMP/err")"
expect_exit 1 "$SYNCD" report period --data "$DATA" --org street --period "$PERIOD" --out "$TMP/no-such-dir/r.html"
ls "$TMP"/bad.html* "$TMP"/no-such-dir 2>/dev/null && fail "a refused report left a file"
"$SPOT" report period --help | grep -q -- "--period P" || fail "report period --help"
log_size >/dev/null
