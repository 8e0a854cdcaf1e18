#!/usr/bin/env bash
# The progress line `spotcheck sync` draws on a terminal shows totals: a
# download counts photos done of all to fetch and bytes done of their total
# (from 0 of both to all of both), a push ops of the outbox.  Off a terminal
# nothing is drawn, and --json output stays one document.
source "$(dirname "$0")/cli_common.bash"

command -v script >/dev/null || { echo "SKIPPED: script(1) (util-linux) is not installed" >&2; exit 0; }
start_with inspector supervisor auditor

# on_tty NAME ARGS...: the CLI on replica NAME under a pseudo-terminal; what it drew, one update per line.
on_tty() {
  local name=$1
  shift
  script -qec "$(printf '%q ' "$SPOT" --db "$TMP/$name.db" "$@")" /dev/null |
    tr '\r' '\n' | sed 's/\x1b\[K//g'
}
# human N: bytes as the CLI writes them.
human() {
  awk -v n="$1" 'BEGIN { if (n < 1024) printf "%d B", n; else if (n < 1048576) printf "%.1f KiB", n / 1024;
                         else printf "%.1f MiB", n / 1048576 }'
}

CHECK=$(new_check inspector)
head -c 1500000 /dev/urandom >"$TMP/raw"
{ printf '\xff\xd8\xff\xe0'; cat "$TMP/raw"; } >"$TMP/big.jpg"
photo "$TMP/small.jpg" "门岗登记表"
new_finding inspector "$CHECK" "楼道堆物" general --photo "$TMP/big.jpg" --photo "$TMP/small.jpg" >/dev/null
sc inspector check submit "$CHECK" >/dev/null
queued=$(sc inspector status | jq .outbox)
on_tty inspector sync >"$TMP/push.txt"
grep -qx "push     $queued/$queued ops" "$TMP/push.txt" || fail "push progress without the outbox total: $(cat "$TMP/push.txt")"
big=$(human "$(stat -c %s "$TMP/big.jpg")")
grep -qxF "upload   $big/$big of a photo" "$TMP/push.txt" || fail "no upload to the photo's size: $(cat "$TMP/push.txt")"

total=$(($(stat -c %s "$TMP/big.jpg") + $(stat -c %s "$TMP/small.jpg")))
on_tty supervisor sync >"$TMP/pull.txt"
grep -qxF "download 0/2 photos, 0 B/$(human "$total")" "$TMP/pull.txt" ||
  fail "the download does not start from its totals: $(grep download "$TMP/pull.txt")"
grep -qxF "download 2/2 photos, $(human "$total")/$(human "$total")" "$TMP/pull.txt" ||
  fail "the download does not end at its totals: $(grep download "$TMP/pull.txt")"
grep -q "pushed 0 (accepted 0), pulled $queued, photos up 0 down 2" "$TMP/pull.txt" || fail "the report: $(cat "$TMP/pull.txt")"
# Every line the download drew is within its totals.
grep "^download" "$TMP/pull.txt" | while read -r _ photos _ bytes; do
  [[ ${photos%/*} -le ${photos#*/} ]] || fail "photos past their total: $photos"
  [[ $bytes == */"$(human "$total")" ]] || fail "a byte total that moved: $bytes"
done

# Off a terminal, no progress; with --json, one document and nothing else.
out=$("$SPOT" --db "$TMP/auditor.db" --json sync 2>"$TMP/err")
[[ ! -s "$TMP/err" ]] || fail "progress drawn off a terminal: $(cat "$TMP/err")"
expect_jq "$out" .photos_downloaded 2 "the auditor's photos"

# --timings: one line on stderr with each phase, the ops it pushed and pulled; the output unchanged.
queued=$(sc inspector status | jq .outbox)
out=$("$SPOT" --db "$TMP/inspector.db" --json sync --timings 2>"$TMP/err")
expect_jq "$out" .pushed "$queued" "the pushed ops beside --timings"
line=$(cat "$TMP/err")
[[ $(wc -l <"$TMP/err") -eq 1 ]] || fail "--timings wrote more than its line: $line"
[[ $line =~ ^timings:\ start\ and\ open\ [0-9.]+\ ms,\ status\ [0-9.]+\ ms,\ push\ [0-9.]+\ ms\ \($queued\ ops,\ ([0-9]+)\ answers\),\ pull\ [0-9.]+\ ms\ \([0-9]+\ ops,\ ([0-9]+)\ answers\),\ after\ [0-9.]+\ ms\;\ sync\ [0-9.]+\ ms,\ total\ [0-9.]+\ ms$ ]] ||
  fail "the --timings line: $line"
# Its answers are the sync's round trips, one phase or the other: those that pushed ops, the rest.
push_answers=${BASH_REMATCH[1]} pull_answers=${BASH_REMATCH[2]}
rounds=$(jq '.rounds | length' <<<"$out")
pushing=$(jq '[.rounds[] | select(.pushed > 0)] | length' <<<"$out")
[[ $push_answers -eq $pushing && $((push_answers + pull_answers)) -eq $rounds ]] ||
  fail "--timings counted $push_answers push and $pull_answers pull answers for $rounds rounds, $pushing pushing: $line"

# A sync with ops to push: its answers that pushed are the push phase's, at least one.
for i in 1 2; do
  C=$(new_check inspector)
  for j in $(seq 1 20); do new_finding inspector "$C" "楼道堆物 $i-$j" general >/dev/null; done
  sc inspector check submit "$C" >/dev/null
done
queued=$(sc inspector status | jq .outbox)
out=$("$SPOT" --db "$TMP/inspector.db" --json sync --timings 2>"$TMP/err")
line=$(cat "$TMP/err")
[[ $line =~ push\ [0-9.]+\ ms\ \($queued\ ops,\ ([0-9]+)\ answers\),\ pull\ [0-9.]+\ ms\ \([0-9]+\ ops,\ ([0-9]+)\ answers\) ]] ||
  fail "the --timings line of the bigger push: $line"
rounds=$(jq '.rounds | length' <<<"$out")
pushing=$(jq '[.rounds[] | select(.pushed > 0)] | length' <<<"$out")
[[ ${BASH_REMATCH[1]} -eq $pushing && $((BASH_REMATCH[1] + BASH_REMATCH[2])) -eq $rounds && $pushing -ge 1 ]] ||
  fail "--timings counted ${BASH_REMATCH[1]} push and ${BASH_REMATCH[2]} pull answers for $rounds rounds, $pushing pushing: $line"
"$SPOT" --db "$TMP/inspector.db" sync --help | grep -q -- "--timings" || fail "sync --help does not name --timings"
echo "ok: progress totals, timings"
