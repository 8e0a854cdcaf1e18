#!/usr/bin/env bash
# demo-scenario.sh [--markdown] [--tour] BUILD_DIR VAR_DIR URL: the story `make
# run` plays against a running syncd, with real `spotcheck` and `syncd admin`
# commands, each printed as typed and followed by its real output.
#
# The people are those of scripts/make-register.sh.  Their tablets are
# replicas under VAR_DIR/devices/, enrolled on the first run and reused after
# (a replica enrolled with another server is enrolled afresh).  The story:
#   (a) the supervisor plans an unannounced check (暗访) of 君安花园小区; the
#       property company does not see the plan; the inspector, offline,
#       scores the 100-point sheet, records three findings with photos,
#       submits, has the property company's manager sign it off on the
#       tablet (共同签字确认) and syncs; now everyone sees the check and its
#       findings, and the manager countersigns it on her own tablet;
#   (b) the major hazard goes round the rectification loop: the property
#       company signs for the notice (签收) and files its plan (整改方案);
#       the supervisor escalates the overdue hazard (提醒函) and stops work
#       on it (停工整改); the company asks for a later deadline (延期),
#       which the supervisor approves; reported, not rectified, reported
#       again, accepted (验收) by the level above with the stop-work order
#       lifted, closed (销号), and reopened by a look-back (回头看) of a
#       round the supervisor planned;
#   then the register is audited and exported, and the bundle verified.
# With --tour it also plays a closure overruled by a failing revisit (safety
# first) and the conflict the supervisor acknowledges.
#
# The story is played once per register: a register that already holds its
# plan (an assignment with the story's note, seen by the supervisor's
# tablet after it syncs) is not given a second copy of the story; the
# tablets sync, show where the story stands, and the audit runs again.
#
# Output is for people on a terminal, or with --markdown a page of prose and
# console blocks (scripts/make-tour.sh writes docs/tour.md with it).
set -euo pipefail

markdown=0
tour=0
while [[ ${1:-} == --* ]]; do
  case $1 in
    --markdown) markdown=1 ;;
    --tour) tour=1 ;;
    *) echo "demo-scenario.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
if (($# != 3)); then
  echo "usage: demo-scenario.sh [--markdown] [--tour] BUILD_DIR VAR_DIR URL" >&2
  exit 2
fi
build=$1
var=$2
url=$3
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin() { [[ -x $build/$1 ]] && echo "$build/$1" || echo "$root/$build/$1"; }
syncd=$(bin syncd/syncd)
spot=$(bin client-lib/spotcheck)
shown=${var#./}
data=$var/data
devices=$var/devices
photos=$var/photos
mkdir -p "$devices" "$photos"

# ---- printing ----

c_sec= c_cmd= c_off=
if ((!markdown)) && [[ -t 1 ]]; then
  c_sec=$'\033[1;34m' c_cmd=$'\033[36m' c_off=$'\033[0m'
fi
inblock=0
close_block() {
  if ((markdown && inblock)); then printf '```\n\n'; fi
  inblock=0
}
section() {
  close_block
  if ((markdown)); then printf '## %s\n\n' "$1"; else printf '\n%s== %s ==%s\n' "$c_sec" "$1" "$c_off"; fi
}
say() {
  close_block
  if ((markdown)); then printf '%s\n\n' "$*"; else printf '\n%s\n' "$*"; fi
}
# show LINE: a command line as typed (./var/x shows as var/x).
show() {
  local line=${1//"$var/"/"$shown/"}
  line=${line//"$root/"/}
  if ((markdown && !inblock)); then printf '```console\n'; fi
  inblock=1
  if ((markdown)); then printf '$ %s\n' "$line"; else printf '%s$ %s%s\n' "$c_cmd" "$line" "$c_off"; fi
}
# print_out TEXT: a command's output.
print_out() {
  [[ -n $1 ]] || return 0
  if ((markdown)); then printf '%s\n' "$1"; else printf '%s\n' "$1" | sed 's/^/    /'; fi
}
# quote ARG...: the arguments as one would type them.
quote() {
  local a words=()
  for a in "$@"; do
    if [[ $a =~ ^[A-Za-z0-9_./:@=+,-]+$ ]]; then
      words+=("$a")
    else
      a=${a//\\/\\\\} a=${a//\"/\\\"} a=${a//\$/\\\$} a=${a//\`/\\\`}
      words+=("\"$a\"")
    fi
  done
  printf '%s' "${words[*]}"
}

# ---- running (each sets $out to what the command printed) ----

out=
# sc WHO ARGS...: spotcheck on WHO's tablet.
sc() {
  local who=$1
  shift
  show "spotcheck --db $devices/$who.db $(quote "$@")"
  out=$("$spot" --db "$devices/$who.db" "$@")
  print_out "$out"
}
# scj WHO FILTER ARGS...: spotcheck --json on WHO's tablet, through jq -c FILTER.
scj() {
  local who=$1 filter=$2
  shift 2
  show "spotcheck --db $devices/$who.db --json $(quote "$@") | jq -c '$filter'"
  out=$("$spot" --db "$devices/$who.db" --json "$@" | jq -c "$filter")
  print_out "$out"
}
# sd ARGS...: syncd with the register's data directory.
sd() {
  local sub=$1
  shift
  show "syncd $sub --data $data${*:+ $(quote "$@")}"
  out=$("$syncd" "$sub" --data "$data" "$@")
  print_out "$out"
}
# quietly WHO ARGS...: spotcheck --json on WHO's tablet, not shown (the narration says what it does).
quietly() {
  local who=$1
  shift
  "$spot" --db "$devices/$who.db" --json "$@"
}
day() { date -u -d "$1 days" +%F; }
# png FILE TEXT: a 1x1 PNG with TEXT after its end (so each photo has its own hash).
png() {
  base64 -d >"$1" <<<"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
  printf '%s\n' "$2" >>"$1"
}

INSPECTOR="检查员 王明 (inspector)"
INSPECTOR2="检查员 张强 (a second inspector)"
SUPERVISOR="督导组 李华 (supervisor)"
WUYE="物业经理 陈静 (wuye, the property company: the responsible unit)"
people=(inspector supervisor wuye)
((tour)) && people+=(inspector2)

# ---- the tablets ----

section "The tablets"
fresh=()
for who in "${people[@]}"; do
  db=$devices/$who.db
  if [[ -e $db ]] && [[ $(quietly "$who" status | jq -r .server) != "$url" ]]; then
    rm -rf "$db" "$db-wal" "$db-shm" "$db.blobs"
  fi
  [[ -e $db ]] || fresh+=("$who")
done
if ((${#fresh[@]})); then
  say "Each person's tablet makes its own Ed25519 key and enrolls it with a one-time code that the" \
      "admin gives out of band. 每台平板自行生成密钥, 用一次性注册码登记."
  for who in "${fresh[@]}"; do
    sd admin enroll "$who"
    sc "$who" enroll --plain-key --server "$url" --code "$out" --label "$who's tablet"
  done
fi
reused=()
for who in "${people[@]}"; do
  [[ " ${fresh[*]:-} " == *" $who "* ]] || reused+=("$who")
done
if ((${#reused[@]})); then
  say "Tablets enrolled on an earlier run are used again: ${reused[*]}."
fi
say "Every tablet syncs once to fetch the org units, targets, people and the score sheet."
for who in "${people[@]}"; do sc "$who" sync; done

# The story's plan, if an earlier run put it in this register.
STORY_NOTE="暗访: 无疫小区测评"
ASG=$(quietly supervisor list assignments --target T-JAHY |
      jq -r --arg note "$STORY_NOTE" '[.items[] | select(.note == $note)][0].id // empty')
if [[ -n $ASG ]]; then
  section "The story so far"
  say "This register holds the story already (the plan $ASG, from an earlier run), so it is not" \
      "played again: a second copy would only duplicate it. Where it stands:"
  sc supervisor list checks --assignment "$ASG"
  sc supervisor list findings --assignment "$ASG"
else

  # ---- (a) the unannounced check ----

  section "(a) An unannounced check (暗访)"
  say "$SUPERVISOR plans an unannounced check of 君安花园小区 (T-JAHY) on the 100-point 无疫 score" \
      "sheet, on his own tablet: the plan is an op signed by his device, like everything he records."
  sc supervisor assign --target T-JAHY --inspector inspector --kind spot --disclosure unannounced \
    --due "$(day 7)" --template no-epidemic-100 --note "$STORY_NOTE"
  ASG=$out
  say "Everyone syncs. The inspector and the supervisor see the plan; the property company never does."
  for who in supervisor inspector wuye; do quietly "$who" sync >/dev/null; done
  sc inspector list assignments --status open
  sc wuye list assignments

  say "$INSPECTOR arrives unannounced. Offline, on the tablet, the inspector opens the check from" \
      "the plan (which supplies the target, kind, disclosure and score sheet) and scores it. 离线打分."
  sc inspector check open --assignment "$ASG"
  CHECK=$out
  sc inspector check score "$CHECK" --item sanitation --status not_met --points 6 \
    --note "电梯公共区域未按每2小时消毒并记录"
  sc inspector check score "$CHECK" --item records --status not_met --points 0 \
    --note "进出人员登记缺少籍贯、来去方向、交通方式"
  met=(org-leadership no-confirmed no-suspected no-close-contacts no-missed-key-persons publicity effect duty)
  show "for item in ${met[*]}; do spotcheck --db $devices/inspector.db check score $CHECK --item \$item --status met; done"
  out=$(for item in "${met[@]}"; do "$spot" --db "$devices/inspector.db" check score "$CHECK" --item "$item" --status met; done)
  print_out "$out"

  say "Three findings from DOMAIN.md §11, one of them a major hazard (重大隐患), with photos. The gas" \
      "pipeline was first registered at the street's self-check (自查); its deadline has passed."
  png "$photos/fire-lane.png" "fire lane blocked by parked cars"
  png "$photos/gas-pipe.png" "corroded gas pipe, inspection tag expired"
  png "$photos/entrance.png" "the compound's entrance"
  sc inspector finding add --check "$CHECK" --desc "小区消防通道被车辆占用" --grade general \
    --category FIRE_LANE --location "3号楼北侧" --deadline "$(day 3)" --responsible junan-garden \
    --photo "$photos/fire-lane.png"
  sc inspector finding add --check "$CHECK" --desc "燃气管道老化未按期检验" --grade major --category GAS \
    --location "地下车库燃气总阀" --deadline "$(day -3)" --responsible junan-garden
  GAS=$out
  sc inspector photo add "$GAS" "$photos/gas-pipe.png" --caption "管道锈蚀, 检验标签过期"
  sc inspector finding add --check "$CHECK" --desc "电梯公共区域未按每2小时消毒并记录" --grade general \
    --category DISINFECTION --item sanitation --deadline "$(day 7)" --responsible junan-garden
  sc inspector photo add "$CHECK" "$photos/entrance.png" --caption "小区入口"
  sc inspector check submit "$CHECK" --remarks "暗访, 未提前通知"
  say "At the end of the check the property company's manager, called to the gate, signs it off on" \
      "the inspector's tablet (共同签字确认): her name, her post and the signature she draws, which is" \
      "kept as a photo of the check. Only a submitted check is signed off."
  png "$photos/signature.png" "陈静 drawn signature"
  sc inspector check sign-off "$CHECK" --name 陈静 --role 物业经理 --signature "$photos/signature.png" \
    --gps 32.2049,118.7851
  say "Everything so far is signed on the tablet and waits in its outbox; nobody else has seen any of it."
  scj inspector '{outbox, photos_pending_upload}' status
  sc supervisor sync
  sc wuye list checks

  say "Back on the network, the inspector syncs: the ops are verified and logged by syncd, the" \
      "photos uploaded. Then the supervisor and the property company sync."
  sc inspector sync
  for who in supervisor wuye; do sc "$who" sync; done
  say "$WUYE has a tablet of her own enrolled, so she also countersigns the check with it, her own" \
      "key; everyone who sees the check reads both, the signature photo with its hash, time and place."
  sc wuye check sign-off "$CHECK" --countersign --note "情况属实, 按期整改"
  quietly wuye sync >/dev/null
  quietly supervisor sync >/dev/null
  scj supervisor '[.sign_offs[] | {kind, name, role, signer_login, note, gps, signature: (.signature | if . then {sha256, time_source, present} else null end)}]' \
    show "$CHECK"
  say "What each tablet shows now: the check with its score (91 of 100, pass mark 80) and the three findings."
  for who in supervisor wuye; do
    sc "$who" list checks --assignment "$ASG"
    sc "$who" list findings --assignment "$ASG"
  done
  say "The property company still does not see the plan itself:"
  sc wuye list assignments

  # ---- (b) the rectification loop ----

  section "(b) The rectification loop (整改闭环)"
  # gas_on WHO...: each syncs (not shown), then what its tablet says of the gas pipeline.
  gas_on() {
    local who
    for who in "$@"; do
      quietly "$who" sync >/dev/null
      scj "$who" '{status, overdue, reopen_count}' show "$GAS"
    done
  }

  say "The gas pipeline is overdue in everyone's lists and in the supervisor's review queue."
  sc wuye list findings --overdue --assignment "$ASG"
  scj supervisor '[.overdue[].description]' review

  say "The submission issued its notice (限期整改通知): the property company, the responsible unit," \
      "by the deadline the inspector gave. $WUYE signs for it (签收) and files the rectification" \
      "plan (整改方案). A major hazard's plan names the funds and their source, the interim" \
      "controls while it is open and the lead official (牵头领导); without them it is refused."
  sc wuye sign-for "$GAS" --note "已签收限期整改通知"
  sc wuye plan "$GAS" --person wuye --measures "更换老化管道及总阀, 委托特检机构检验" \
    --funds 12000 --funds-source "物业维修基金" --interim "关闭地下车库燃气总阀, 每日两次巡查" \
    --lead-official "物业公司总经理 赵强"
  sc wuye sync

  say "Three days late, the register's escalation ladder (\`syncd admin org policy --ladder\`) puts" \
      "it in the supervisor's queue for a reminder letter (提醒函). $SUPERVISOR sends one and," \
      "while the pipe is unsafe, orders its use stopped (停工整改) until a revisit finds it fixed."
  sc supervisor sync
  scj supervisor '[.needs_escalation[] | {description, late_days, suggested_step}]' review
  png "$photos/letter.png" "reminder letter, stamped"
  sc supervisor escalate "$GAS" --step reminder --level county \
    --reason "逾期未整改, 发提醒函" --photo "$photos/letter.png"
  sc supervisor stop-work "$GAS" --reason "燃气管道未经检验, 停止地下车库供气"
  sc supervisor sync

  say "The property company sees both on its own finding, and asks for a later deadline (延期): the" \
      "inspection body cannot come before next month. Only a supervisor's approval moves it."
  sc wuye sync
  scj wuye '{stop_work_in_force, escalations: [.escalations[].step], deadline}' show "$GAS"
  sc wuye extension request "$GAS" --deadline "$(day 30)" --reason "特检机构排期至下月"
  sc wuye sync
  sc supervisor sync
  sc supervisor extension approve "$GAS" --reason "同意, 期间落实临时管控措施"
  sc supervisor sync

  say "$WUYE reports the rectification with a photo of the new valve."
  png "$photos/new-valve.png" "new valve fitted"
  sc wuye rectify "$GAS" --note "已更换老化管道" --measures "更换总阀及两段管道" --photo "$photos/new-valve.png"
  sc wuye sync
  say "$INSPECTOR revisits (复查): there is no inspection certificate yet. Not rectified: the item is open again."
  sc inspector sync
  sc inspector revisit "$GAS" --result not_rectified --note "复查: 未出具燃气管道检验报告"
  sc inspector sync
  gas_on wuye supervisor

  say "The property company has the pipe inspected and reports again; this time the revisit passes." \
      "For a major hazard it is an acceptance (验收): the street's inspector is of an org unit above the" \
      "property company, which reported the work. The acceptance also lifts the stop-work order:" \
      "nothing but a rectified revisit that says so lifts one, and no closure comes before it."
  png "$photos/certificate.png" "inspection certificate"
  sc wuye rectify "$GAS" --note "已委托检验并取得合格报告" --photo "$photos/certificate.png"
  sc wuye sync
  sc inspector sync
  sc inspector revisit "$GAS" --result rectified --acceptance --lift-stop-work --note "验收合格, 恢复供气"
  sc inspector sync

  say "$SUPERVISOR finds it in the review queue and closes it (销号). A major hazard is closed only" \
      "after an acceptance by the level above, and by a third person: neither the reporter nor the" \
      "acceptor, as here."
  sc supervisor sync
  scj supervisor '[.awaiting_closure[].description]' review
  sc supervisor close "$GAS" --note "销号"
  sc supervisor sync
  gas_on inspector wuye

  say "A month on, $SUPERVISOR plans a look-back round (回头看, 杀回马枪) that re-checks the closed" \
      "hazard; the inspector's look-back names the round and finds the joints corroding again:" \
      "reopened. The finding and the round count the look-back."
  sc supervisor assign --target T-JAHY --inspector inspector --kind follow_up --disclosure unannounced \
    --recheck "$GAS" --note "回头看: 重大隐患整改复查"
  ROUND=$out
  sc supervisor sync
  sc inspector sync
  sc inspector revisit "$GAS" --result not_rectified --look-back-of "$ROUND" --note "回头看: 管道接口再次锈蚀"
  sc inspector sync
  gas_on supervisor wuye
  scj supervisor '{look_backs_done, escalations: [.escalations[].step], stop_work_in_force}' show "$GAS"
  scj supervisor "[.items[] | select(.id == \"$ROUND\") | {kind, rechecks: (.rechecks | length), look_backs_done}]" \
    list assignments --target T-JAHY
  say "The whole story is in the finding's history, signed op by op, the same on every tablet; each" \
      "op names the person and the device the register enrolled (\`--json\` gives the keys):"
  sc wuye show "$GAS"

  # ---- safety first (tour only) ----

  if ((tour)); then
    section "Safety first: a closure overruled by a failing revisit"
    say "The unit reports again and the revisit passes; everyone syncs. Then, both offline, the" \
        "supervisor closes the item while $INSPECTOR2 finds the joints still leaking."
    sc wuye rectify "$GAS" --note "更换全部接口"
    quietly wuye sync >/dev/null
    quietly inspector sync >/dev/null
    sc inspector revisit "$GAS" --result rectified --acceptance
    quietly inspector sync >/dev/null
    for who in supervisor inspector2; do quietly "$who" sync >/dev/null; done
    sc supervisor close "$GAS" --note "销号"
    sc inspector2 revisit "$GAS" --result not_rectified --note "复查: 2号接口仍有燃气味"
    say "Both sync. Safety wins on every tablet: the item is open, and the overruled closure is kept in" \
        "its history and raised as a conflict for the supervisor."
    for who in supervisor inspector2 supervisor; do sc "$who" sync; done
    scj supervisor '{status, reopen_count}' show "$GAS"
    scj supervisor '[.history[] | select(.kind == "closure")] | last | {kind, state, valid, log_index}' show "$GAS"
    sc supervisor conflicts
    say "The supervisor acknowledges it; the item stays open and the inbox empties everywhere."
    sc supervisor resolve "$GAS" --field status
    sc supervisor sync
    quietly inspector2 sync >/dev/null
    scj inspector2 '{status, conflicts}' show "$GAS"

    # ---- the plans' own sheets (tour only) ----

    section "A check on the plan's own sheet: sections, 八有, deductions, a grade band"
    say "The admin publishes two sheets as the work plans write them (tests/vectors/templates):" \
        "无疫社区 (002 L249-268), whose 八有 item is scored by its eight sub-items and which names" \
        "its grade bands 达标 and 精美 and its campaign rule, and the 综治 亮剑 item that deducts 2" \
        "points (001 L463). The inspector finds them with \`list templates\` and reads one by its code."
    sd admin template add "$root/tests/vectors/templates/no-epidemic-community.json"
    sd admin template add "$root/tests/vectors/templates/zongzhi-liangjian.json"
    quietly inspector sync >/dev/null
    sc inspector list templates
    scj inspector '{code, version, pass_mark, max_total, grades, eight_haves: [.items[] | select(.parent == "eight-haves") | "\(.code) \(.max_points)"]}' \
      show no-epidemic-community
    say "$INSPECTOR checks 星悦城一期 (T-XYC1) on it. \`show\` of the draft lists what is left to score;" \
        "the 八有 item is scored by its sub-items, the sanitation item, not met, needs a photo of it" \
        "before the check can be submitted, and a value measured and 易反弹 (likely to slip back) are" \
        "kept with a result."
    sc inspector check open --target T-XYC1 --kind rating --disclosure open --template no-epidemic-community \
      --gps 31.2304,121.4737
    SHEET_CHECK=$out
    scj inspector '[.unscored[].code]' show "$SHEET_CHECK"
    sc inspector check score "$SHEET_CHECK" --item fever-screening --status met --points 3 --note "台帐缺两日"
    sc inspector check score "$SHEET_CHECK" --item market-checkpoints --status met --measured "36.4" --relapse-prone
    sc inspector check score "$SHEET_CHECK" --item sanitation --status not_met --points 4
    sc inspector check score "$SHEET_CHECK" --item eh-disinfection --status not_met
    sc inspector check score "$SHEET_CHECK" --item eh-reporting --status na
    met=(org plan closed-management publicity eh-mechanism eh-protection eh-temperature eh-education
         eh-supplies eh-cleaning no-new-cases)
    show "for item in ${met[*]}; do spotcheck --db $devices/inspector.db check score $SHEET_CHECK --item \$item --status met; done"
    out=$(for item in "${met[@]}"; do "$spot" --db "$devices/inspector.db" check score "$SHEET_CHECK" --item "$item" --status met; done)
    print_out "$out"
    show "spotcheck --db $devices/inspector.db check submit $SHEET_CHECK"
    out=$("$spot" --db "$devices/inspector.db" check submit "$SHEET_CHECK" 2>&1) || true
    print_out "$out"
    png "$var/sanitation.png" "垃圾未清理"
    sc inspector photo add "$SHEET_CHECK" "$var/sanitation.png" --item sanitation --caption "垃圾未清理" \
      --gps 31.2305,121.4738
    sc inspector check submit "$SHEET_CHECK" --gps 31.2304,121.4737
    say "The score, section by section: 10 + 47 + 30 = 87 of 98 that apply (八有's reporting item is" \
        "n.a.), above the pass mark and the 达标 band (80), below 精美 (95)."
    scj inspector '{score, applicable_max, passed, grade_band, sections: [.sections[] | "\(.section) \(.points)/\(.max)"], eight_haves: (.sections[1].items[] | select(.code == "eight-haves") | "\(.points)/\(.max)"), opened_at, submitted_at}' \
      show "$SHEET_CHECK"
    say "A deduction item scores its maximum less what is deducted: 亮剑 not carried out, 扣2分 of 2."
    sc inspector check open --target T-XYC1 --kind rating --disclosure open --template zongzhi-liangjian
    DEDUCT_CHECK=$out
    show "spotcheck --db $devices/inspector.db check score $DEDUCT_CHECK --item carried-out --status not_met --deduct 3"
    out=$("$spot" --db "$devices/inspector.db" check score "$DEDUCT_CHECK" --item carried-out --status not_met --deduct 3 2>&1) || true
    print_out "$out"
    sc inspector check score "$DEDUCT_CHECK" --item carried-out --status not_met --deduct 2
    sc inspector check score "$DEDUCT_CHECK" --item no-security-failure --status met
    scj inspector '{score, max, passed, results: [.results[] | "\(.item) \(.status) deducted \(.deduction)"]}' show "$DEDUCT_CHECK"
    sc inspector sync
  fi

fi # the story, played once per register

# ---- audit ----

section "Audit"
say "Anyone may check the register without trusting the server: \`syncd audit\` re-verifies every" \
    "signature, the Merkle log and every entity's state; \`syncd export\` writes a bundle that" \
    "\`spotcheck verify-bundle\` checks on another machine; each tablet verifies its own replica."
sd audit
sd export --out "$var/register.scb"
show "spotcheck verify-bundle $var/register.scb"
out=$("$spot" verify-bundle "$var/register.scb")
print_out "$out"
sc wuye verify
close_block
