#!/usr/bin/env bash
# make-register.sh SYNCD DATA_DIR [INIT-OPTIONS...]: a new register in DATA_DIR holding the
# fixtures of DOMAIN.md §6 and §11, made the way an operator makes one
# (`syncd init`, then `syncd admin`).  `make run` (scripts/run-demo.sh) and
# the scenario tests (tests/e2e/cli_common.bash) build the same register, so
# the demo shows what the tests prove.
#
#   org units  市疫情防控指挥部 → 县(区)指挥部 → 街道 → 君安社区 → 君安花园物业
#              (codes city, county, street, junan, junan-garden)
#   targets    T-JAHY 君安花园小区 (run by junan-garden), T-XYC1 星悦城一期
#              (junan), T-JAMKT 君安农贸市场 (street)
#   users      inspector, inspector2 (inspectors, scope street), supervisor
#              (county), wuye (responsible: the property company's contact,
#              scope junan-garden), auditor (city)
#   score sheet no-epidemic-100, version 1: the 100-point 无疫 测评表, pass
#              mark 80, 无确诊病例 a veto item
#
# INIT-OPTIONS go to `syncd init` (--store URL: the register in PostgreSQL);
# SC_REGISTER_STORE=postgresql://... does the same from the environment.
# Prints nothing on success; fails (exit 1) when DATA_DIR exists.
set -euo pipefail

if (($# < 2)); then
  echo "usage: make-register.sh SYNCD DATA_DIR [INIT-OPTIONS...]" >&2
  exit 2
fi
syncd=$1
data=$2
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ -e $data ]]; then
  echo "make-register.sh: $data exists; not touching it" >&2
  exit 1
fi

admin() { "$syncd" admin --data "$data" "$@" >/dev/null; }

mkdir -p "$(dirname "$data")"
"$syncd" init --data "$data" --origin spotcheck.demo/register ${SC_REGISTER_STORE:+--store "$SC_REGISTER_STORE"} "${@:3}" >/dev/null
# The command chain down to the compound's property company (DOMAIN.md §6, §11).
admin org add city --name "市疫情防控指挥部" --level city --kind command_hq
admin org add county --name "县(区)指挥部" --parent city --level county --kind command_hq
admin org add street --name "街道" --parent county --level street --kind gov_dept
admin org add junan --name "君安社区" --parent street --level community --kind residents_committee
admin org add junan-garden --name "君安花园物业" --parent junan --level compound --kind property_co
# Targets (检查对象); the property company answers for the compound it runs.
admin target add T-JAHY --name "君安花园小区" --org junan-garden --type compound --address "君安社区"
admin target add T-XYC1 --name "星悦城一期" --org junan --type compound --address "君安社区"
admin target add T-JAMKT --name "君安农贸市场" --org street --type market --address "街道"
# People: two inspectors of the street, the county's supervisor, the
# property company's contact (the responsible unit) and an auditor.
admin user add inspector --role inspector --org street --name "检查员 王明"
admin user add inspector2 --role inspector --org street --name "检查员 张强"
admin user add supervisor --role supervisor --org county --name "督导组 李华"
admin user add wuye --role responsible --org junan-garden --name "物业经理 陈静"
admin user add auditor --role auditor --org city --name "纪工委 审计 周敏"
admin template add "$root/tests/vectors/templates/no-epidemic-100.json"
