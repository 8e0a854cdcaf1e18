# bench/base.sh: the base register of the benchmarks, sourced by bench/run.sh,
# bench/client-photos.sh, bench/ledger.sh and bench/console.sh.  findings_args reads the
# arguments bench/ledger.sh and bench/console.sh share.  make_base needs SYNCD (the
# syncd binary) and TEMPLATE (the 100-point sheet's JSON) set; findings_register also
# FIXTURE (sc-bench-fixture), BUILD and SRC.

# The operator's part: syncd init, the org tree of DOMAIN.md §11, targets, the
# 100-point score sheet; ids land in DIR/bench-world.txt for the load generator.
# With STORE (a postgresql:// URL of an empty database) the register is there.
make_base() { # DIR [STORE]
    local d=$1 w=$1/bench-world.txt
    local store=()
    [[ -n "${2:-}" ]] && store=(--store "$2")
    adm() { "$SYNCD" admin --data "$d" "$@"; }
    "$SYNCD" init --data "$d" "${store[@]}" > "$d.init"
    awk '/^server key / { print "server_key", $3 }' "$d.init" > "$w"
    rm -f "$d.init"
    adm org add city --name 市疫情防控指挥部 --kind command_hq > /dev/null
    adm org add county --name "县(区)指挥部" --parent city --kind command_hq > /dev/null
    adm org add street --name 街道 --parent county > /dev/null
    adm org add community --name 君安社区 --parent street --kind residents_committee > /dev/null
    adm org add compound --name 君安花园小区 --parent community > /dev/null
    echo "responsible $(adm org add property --name 君安物业 --parent compound --kind property_co)" >> "$w"
    echo "template $(adm template add "$TEMPLATE")" >> "$w"
    local types=(compound market school eatery small_venue elderly_home rental_house supermarket)
    for i in $(seq 0 15); do
        echo "target $(adm target add "t$i" --name "检查对象$i" --org community --type "${types[$((i % 8))]}")" >> "$w"
    done
}

# findings_register N: a register of at least N findings, made by make_base and then
# `sc-bench-fixture grow`, whose inspection cycles (bench/opgen.h) raise 3 findings per 20 or
# 23 ops, through syncd's own ingest path; cached in BUILD/bench-cache/ledger-N
# (BENCH_REBUILD=1 makes it anew).  Prints its directory.
findings_register() { # N
    local n=$1 dir=$BUILD/bench-cache/ledger-$1
    local stamp="ledger-v2 opgen-v1 schema-$(grep -m1 'define SD_SCHEMA_VERSION' "$SRC/syncd/store/store.h" | awk '{ print $3 }') findings=$n"
    mkdir -p "$BUILD/bench-cache"
    if [[ ${BENCH_REBUILD:-0} == 1 || "$(cat "$dir.stamp" 2>/dev/null)" != "$stamp" ]]; then
        printf 'building a register of %s findings (sc-bench-fixture grow; cached in %s)\n' "$n" "$dir" >&2
        rm -rf "$dir" "$dir.stamp"
        make_base "$dir"
        # 3 findings per cycle of 20 (inspectors) or 23 (supervisors) ops, with the admin ops
        # before them: 8 ops a finding makes at least n.
        "$FIXTURE" grow "$dir" $((n * 8)) 64 >/dev/null
        echo "$stamp" > "$dir.stamp"
    fi
    printf '%s\n' "$dir"
}

# NAME DEFAULT_FINDINGS ARGS...: "BUILD_DIR [--findings N] [--out DIR]" into BUILD, FINDINGS and
# OUT (default HERE/results); a usage error exits 2.
findings_args() {
    local name=$1
    FINDINGS=$2
    shift 2
    [[ $# -ge 1 ]] || { echo "usage: bench/$name BUILD_DIR [--findings N] [--out DIR]" >&2; exit 2; }
    BUILD=$(cd "$1" && pwd)
    shift
    OUT=$HERE/results
    while [[ $# -gt 0 ]]; do
        case "$1" in
        --findings) FINDINGS=$2; shift ;;
        --out) OUT=$2; shift ;;
        *) echo "bench/$name: unknown argument $1" >&2; exit 2 ;;
        esac
        shift
    done
}
