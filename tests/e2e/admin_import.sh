#!/usr/bin/env bash
# Bulk import from a county office's CSV files, beside a running syncd: the
# example files (tests/vectors/import/, Chinese names and headers) go in
# whole, and an imported inspector enrolls and works.  A file with any bad
# row imports nothing: every problem is reported with its line number,
# the command exits 1, and the log does not move.
source "$(dirname "$0")/cli_common.bash"

make_register
start_syncd
V="$SC_SOURCE_DIR/tests/vectors/import"

n0=$(log_size)
admin import orgs "$V/orgs.csv" | grep -q "imported 5 org units" || fail "orgs"
admin import targets "$V/targets.csv" | grep -q "imported 3 targets" || fail "targets"
admin import users "$V/users.csv" | grep -q "imported 4 users" || fail "users"
expect_eq "$(log_size)" $((n0 + 12)) "one op per row"
json=$(admin org list --json)
expect_jq "$json" '.[] | select(.code == "xinan-yuan-wy") | [.name, .parent, .level, .kind] | join("|")' \
  "新苑物业服务中心|xinan-yuan|compound|property_co" "an org unit under one from the same file"
expect_jq "$json" '.[] | select(.code == "xinan-zf") | [.name, .level] | join("|")' \
  '新安街道综治办 "网格"|community' "quotes in a name; the level one below the parent's"
expect_jq "$(admin target list --json)" '.[] | select(.code == "T-XY02") | .address' \
  "新苑路 20 号, 东门" "a comma inside a quoted field"
expect_jq "$(admin user list --json)" '.[] | select(.login == "xa-sup") | [.role, .org] | join(" ")' \
  "supervisor county" "a Chinese role name"
# An address as long as a target's may be (8 KiB: 2,730 Chinese characters) fits its line.
long=$(printf '新%.0s' $(seq 2730))
printf 'code,name,org,type,address\nT-XY09,长地址小区,xinan-yuan-wy,compound,"%s"\n' "$long" >"$TMP/long.csv"
admin import targets "$TMP/long.csv" | grep -q "imported 1 targets" || fail "a target with an 8 KiB address"
expect_jq "$(admin target list --json)" '.[] | select(.code == "T-XY09") | .address | length' 2730 \
  "the long address, whole"
# An imported inspector enrolls and works on an imported target.
enroll liu xa-insp1
sync_ok liu
sc liu check open --target T-XY01 --kind spot --disclosure open >/dev/null
sync_ok liu
n1=$(log_size)

# refused FILE NAME LINE TEXT...: importing FILE (written from the remaining lines) as NAME
# exits 1, reports TEXT at LINE, imports nothing, and leaves the log as it was.
refused() {
  local what=$1 line=$2 text=$3
  shift 3
  printf '%s\n' "$@" >"$TMP/in.csv"
  expect_exit 1 admin import "$what" "$TMP/in.csv"
  grep -qF "in.csv:$line: $text" "$TMP/err" || fail "$what line $line '$text': $(cat "$TMP/err")"
  grep -q "nothing imported" "$TMP/err" || fail "says nothing was imported: $(cat "$TMP/err")"
  expect_eq "$(log_size)" "$n1" "a refused import logs nothing"
}
refused orgs 1 'unknown column "nom"' "code,nom" "a,甲"
refused orgs 1 "the header lacks the column name" "code,parent" "a,city"
refused orgs 1 "column code appears twice" "code,name,编码" "a,甲,b"
refused orgs 3 'code "a" is already on line 2' "code,name" "a,甲" "a,乙" "b,丙"
refused orgs 2 'code "xinan" is already in the register' "code,name" "xinan,重复"
refused orgs 2 'no org unit "nowhere" in the register or in the file' \
  "code,name,parent" "a,甲,nowhere" "b,乙,city"
refused orgs 2 'the parents of org unit "a" go round in a loop' "code,name,parent" "a,甲,b" "b,乙,a"
refused orgs 2 'unknown level "shire"' "code,name,level" "a,甲,shire"
refused orgs 3 "2 fields; the header has 3" "code,name,parent" "a,甲,city" "b,乙"
refused orgs 2 "a quoted field is not closed on its line" "code,name" '"a,甲'
refused orgs 2 "name is empty" "code,name" "a,"
refused users 2 'unknown role "boss"' "login,name,role,org" "zhao,赵,boss,xinan"
refused users 2 'no org unit "nope" in the register' "login,name,role,org" "zhao,赵,inspector,nope"
refused users 2 'login "xa-insp1" is already in the register' "login,role,org" "xa-insp1,inspector,xinan"
refused targets 2 "code is 65 bytes; at most 64" "code,name,org" \
  "$(printf 'T%.0s' $(seq 1 65)),名,xinan"
# Every problem of a file, in line order, and the good rows are not imported either.
printf '%s\n' "login,name,role,org" "ok1,好,inspector,xinan" "bad1,坏,boss,xinan" "ok2,好,inspector,xinan" \
  "bad2,坏,inspector,nope" >"$TMP/in.csv"
expect_exit 1 admin import users "$TMP/in.csv"
grep -c "in.csv:" "$TMP/err" | grep -qx 2 || fail "two problems: $(cat "$TMP/err")"
grep -q "2 problems in 2 of 4 rows" "$TMP/err" || fail "the count: $(cat "$TMP/err")"
expect_jq "$(admin user list --json)" '[.[] | select(.login == "ok1")] | length' 0 "no good row went in"
# Text that is not UTF-8, and NUL bytes.
printf 'code,name\na,\xff\xfe\n' >"$TMP/in.csv"
expect_exit 1 admin import orgs "$TMP/in.csv"
grep -q "in.csv:2: name is not valid UTF-8" "$TMP/err" || fail "not UTF-8: $(cat "$TMP/err")"
printf 'code,name\na,\0b\n' >"$TMP/in.csv"
expect_exit 1 admin import orgs "$TMP/in.csv"
grep -q "NUL bytes" "$TMP/err" || fail "NUL: $(cat "$TMP/err")"
# The bounds: 8 MiB, 20,000 rows.
{ echo "code,name"; head -c 9000000 /dev/zero | tr '\0' a; } >"$TMP/big.csv"
expect_exit 1 admin import orgs "$TMP/big.csv"
grep -q "at most 8388608 (8 MiB)" "$TMP/err" || fail "too big: $(cat "$TMP/err")"
{ echo "code,name"; seq -f "o%g,名" 1 20001; } >"$TMP/many.csv"
expect_exit 1 admin import orgs "$TMP/many.csv"
grep -q "many.csv:20002: more than 20000 rows" "$TMP/err" || fail "too many rows: $(cat "$TMP/err")"
: >"$TMP/empty.csv"
expect_exit 1 admin import orgs "$TMP/empty.csv"
grep -q "no header line" "$TMP/err" || fail "empty: $(cat "$TMP/err")"
echo "code,name" >"$TMP/head.csv"
expect_exit 1 admin import orgs "$TMP/head.csv"
grep -q "no rows under the header" "$TMP/err" || fail "header only: $(cat "$TMP/err")"
expect_exit 1 admin import orgs "$TMP/no-such.csv"
grep -q "cannot read" "$TMP/err" || fail "missing file: $(cat "$TMP/err")"
expect_exit 2 admin import things "$V/orgs.csv"
grep -q 'nothing to import as "things" (one of: orgs targets users)' "$TMP/err" ||
  fail "a kind: $(cat "$TMP/err")"
expect_exit 2 admin import orgs
grep -q "import: missing FILE.csv" "$TMP/err" || fail "no file: $(cat "$TMP/err")"
expect_eq "$(log_size)" "$n1" "nothing refused was logged"
echo "admin_import: imports and their refusals OK"
