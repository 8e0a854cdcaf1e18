#!/usr/bin/env bash
# run-demo.sh BUILD_DIR: the README's `make run`.
#
# Creates ./var/data with demo data the first time (the hierarchy fixture of
# DOMAIN.md: 市疫情防控指挥部 → 县(区)指挥部 → 街道 → 君安社区 → 君安花园小区, three
# targets, an inspector, a supervisor, the property company's responsible
# user and the 100-point 无疫 score sheet), starts syncd on 127.0.0.1:8080,
# prints the URL and a fresh enrollment code for each user, and serves in
# the foreground until Ctrl-C.  Logs (JSON lines) go to ./var/syncd.log.
#
# Environment: SPOTCHECK_LISTEN (default 127.0.0.1:8080), SPOTCHECK_VAR
# (default ./var).
set -euo pipefail

build=${1:-build/release}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
syncd="$build/syncd/syncd"
[[ -x $syncd ]] || syncd="$root/$build/syncd/syncd"
if [[ ! -x $syncd ]]; then
  echo "run-demo: no syncd binary under $build (run \`make build\` first)" >&2
  exit 1
fi
var=${SPOTCHECK_VAR:-./var}
data="$var/data"
listen=${SPOTCHECK_LISTEN:-127.0.0.1:8080}
template="$root/tests/vectors/templates/no-epidemic-100.json"

admin() { "$syncd" admin --data "$data" "$@" >/dev/null; }

if [[ ! -e $data ]]; then
  echo "creating demo data in $data"
  mkdir -p "$var"
  "$syncd" init --data "$data" --origin spotcheck.demo/register >/dev/null
  # The command chain, down to the compound (DOMAIN.md §6 and §11).
  admin org add city --name "市疫情防控指挥部" --level city --kind command_hq
  admin org add county --name "县(区)指挥部" --parent city --level county --kind command_hq
  admin org add street --name "街道" --parent county --level street --kind gov_dept
  admin org add junan --name "君安社区" --parent street --level community --kind residents_committee
  # The compound is run by its property company: its responsible user's scope is the compound.
  admin org add junan-garden --name "君安花园小区" --parent junan --level compound --kind property_co
  # Targets (检查对象).
  admin target add T-JAHY --name "君安花园小区" --org junan-garden --type compound --address "君安社区"
  admin target add T-XYC1 --name "星悦城一期" --org junan --type compound --address "君安社区"
  admin target add T-JAMKT --name "君安农贸市场" --org street --type market --address "街道"
  # People.
  admin user add inspector --role inspector --org street --name "检查员 王明"
  admin user add supervisor --role supervisor --org county --name "督导组 李华"
  admin user add wuye --role responsible --org junan-garden --name "物业经理 陈静"
  # The 100-point score sheet.
  if [[ -f $template ]]; then
    admin template add "$template"
  else
    echo "run-demo: $template is missing; no score sheet published" >&2
  fi
fi

codes=()
for login in inspector supervisor wuye; do
  codes+=("$login $("$syncd" admin --data "$data" enroll "$login" --ttl 72)")
done

out=$(mktemp "${TMPDIR:-/tmp}/syncd-demo.XXXXXX")
"$syncd" serve --data "$data" --listen "$listen" >"$out" 2>>"$var/syncd.log" &
pid=$!
interrupted=0
stop() {
  interrupted=1
  kill -TERM "$pid" 2>/dev/null || true
}
trap stop INT TERM
trap 'rm -f "$out"' EXIT

# Wait for the one line syncd prints once it accepts connections.
url=
for _ in $(seq 1 100); do
  if ! kill -0 "$pid" 2>/dev/null; then
    break
  fi
  line=$(head -n 1 "$out" 2>/dev/null || true)
  if [[ $line == "listening on "* ]]; then
    url=${line#listening on }
    break
  fi
  sleep 0.1
done
if [[ -z $url ]]; then
  echo "run-demo: syncd did not start; the end of $var/syncd.log says:" >&2
  tail -n 5 "$var/syncd.log" >&2 || true
  stop
  wait "$pid" 2>/dev/null || true
  exit 1
fi

cat <<TEXT

syncd is serving the demo register at $url
  data:     $data
  log:      $var/syncd.log (JSON lines)
  health:   $url/healthz
  metrics:  $url/metrics

Enrollment codes (single use, valid 72 hours):
TEXT
for entry in "${codes[@]}"; do
  printf '  %-11s %s\n' "${entry%% *}" "${entry#* }"
done
cat <<TEXT

Enroll a device with one of them, e.g.
  spotcheck enroll --server $url --code CODE
Press Ctrl-C to stop.
TEXT

status=0
wait "$pid" || status=$?
# A trapped Ctrl-C interrupts `wait` before syncd has finished draining: wait again for its status.
while ((interrupted)); do
  interrupted=0
  again=0
  wait "$pid" || again=$?
  if ((again != 127)); then
    status=$again
  fi
done
echo "syncd stopped (exit $status)"
exit "$status"
