#!/usr/bin/env bash
# Render a benchmark run as Markdown: bench/report.sh RAW.tsv ENV.tsv COMMAND > latest.md
#
# RAW.tsv lines are "key value unit method" as the benchmark programs print
# them (bench/bench.h).  Each figure is compared with its DESIGN §9 target
# here, and ingest with the ceilings measured in the same run.
set -euo pipefail
RAW=$1
ENV=$2
CMD=$3

echo "# Spotcheck benchmarks: latest run"
echo
echo "Produced by \`$CMD\` (bench/run.sh; docs/operations.md, \"Benchmarks\", says how to read it)."
echo
echo "## Machine and software"
echo
awk -F'\t' '{ printf "- %s: %s\n", $1, $2 }' "$ENV"
echo
echo "## Results"
echo
awk -F'\t' '
function fmt(v, u) {
    if (u == "ops/s" || u == "rows/s" || u == "syncs/s" || u == "findings/s") {
        if (v >= 1e6) return sprintf("%.2fM %s", v / 1e6, u)
        if (v >= 1e4) return sprintf("%.1fk %s", v / 1e3, u)
        return sprintf("%.0f %s", v, u)
    }
    if (u == "ms") return sprintf("%.2f ms", v)
    if (u == "us") return v >= 1000 ? sprintf("%.0f us", v) : sprintf("%.1f us", v)
    if (u == "B") return sprintf("%.0f B (%.2f MiB)", v, v / 1048576)
    if (u == "MiB" || u == "MB/s" || u == "s") return sprintf("%.1f %s", v, u)
    if (u == "%") return sprintf("%.1f%%", v)
    return sprintf("%g %s", v, u)
}
function row(name, key, target, ratio, verdict) {
    if (!(key in val)) return  # its phase did not run (BENCH_PHASES)
    printf "| %s | %s | %s | %s | %s |\n", name, fmt(val[key], unit[key]), target, ratio, verdict
    shown[key] = 1
}
function pct(r) { return sprintf("%.0f%%", 100 * r) }
function best(k) { return (k "_after") in val && val[k "_after"] > val[k] ? val[k "_after"] : val[k] }
function ceil(name, k) {
    if ((k "_after") in val)
        printf "| %s | %s | (ceiling; before / after the ingest phase: %s / %s) |  |  |\n", name,
            fmt(best(k), unit[k]), fmt(val[k], unit[k]), fmt(val[k "_after"], unit[k])
    else
        row(name, k, "(ceiling)", "", "")
    shown[k] = 1
}
function minv(a, b) { return a < b ? a : b }
# The phases `spotcheck sync --timings` reported for one run.
function cli_phases(p,    t) {
    if (!((p "_push") in val)) return
    t = sprintf("start and open %.1f, status %.1f, push %.1f, pull %.1f, after %.1f (ms)",
                val[p "_open"], val[p "_status"], val[p "_push"], val[p "_pull"], val[p "_after"])
    printf "|   phases | %s | | | |\n", t
    shown[p "_open"] = shown[p "_status"] = shown[p "_push"] = shown[p "_pull"] = shown[p "_after"] = 1
}
# The register write lock of one ingest run (bench/run.sh lock_figures; docs/performance.md).
function lock_rows(lk) {
    if (!((lk "_hold_us_per_op") in val)) return
    row("  register write lock held per op", lk "_hold_us_per_op", "", "", "")
    row("  mean hold / wait per write transaction", lk "_hold_us", "", "", "")
    printf "| | %s | (wait) | | |\n", fmt(val[lk "_wait_us"], unit[lk "_wait_us"])
    shown[lk "_wait_us"] = 1
    row("  ops per group commit", lk "_ops_per_commit", "", "", "")
}
{ val[$1] = $2 + 0; unit[$1] = $3; desc[$1] = $4; order[++n] = $1 }
END {
    print "| benchmark | result | target | ratio | verdict |"
    print "|---|---:|---|---:|---|"
    # ceilings, measured before and after the ingest phase; ratios use the higher of the two
    ceil("ceiling: Ed25519 verify, 1 thread", "ceil_verify_1t")
    ceil("ceiling: Ed25519 verify, 2 threads", "ceil_verify_2t")
    ceil("ceiling: SQLite durable inserts, 100 rows/txn", "ceil_sqlite_b100")
    ceil("ceiling: SQLite durable inserts, 1,000 rows/txn", "ceil_sqlite_b1000")
    # ingest
    for (i = 1; i <= n; i++) {
        k = order[i]
        if (k !~ /^ingest_b[0-9]+_d[0-9]+$/) continue
        split(k, p, "_"); b = substr(p[2], 2); d = substr(p[3], 2)
        lower = minv(best("ceil_verify_2t"), best("ceil_sqlite_b" b))
        r = lower > 0 ? val[k] / lower : 0
        # Both stages on the same two cores (the shared-core estimate of RESULTS.md): 2 / (verify + insert).
        shared = 2 / (1 / best("ceil_verify_1t") + 1 / best("ceil_sqlite_b" b))
        row(sprintf("ingest, %s ops/request, %s device%s", b, d, d == 1 ? "" : "s"), k,
            sprintf(">= 60%% of lower ceiling (%.1fk; shared-core bound %.1fk)", lower / 1e3, shared / 1e3),
            pct(r), r >= 0.6 ? "pass" : "**miss**")
        if ((k "_p99") in val) row(sprintf("  p99 of those requests"), k "_p99", "", "", "")
        lock_rows("lock_sqlite_b" b "_d" d)
    }
    # pull
    for (s = 1; s <= 3; s++) {
        sz = s == 1 ? "small" : s == 2 ? "mid" : "big"
        if (("pull_ops_" sz) in val) {
            ops = val["pull_ops_" sz]
            r = val["pull_wire_" sz] / 1e5
            row(sprintf("pull, wire/delivery rate, %.0fk-op register", ops / 1e3), "pull_wire_" sz,
                "> 100k ops/s", pct(r), r > 1 ? "pass" : "**miss**")
        }
        if (("pull_client_" sz) in val) {
            r = val["pull_client_" sz] / 1e5
            row(sprintf("pull into a fresh client, verified + folded + stored, %.0fk-op register", ops / 1e3),
                "pull_client_" sz, "> 100k ops/s", pct(r), r > 1 ? "pass" : "**miss**")
            row(sprintf("  time to materialize that replica"), "pull_client_" sz "_s", "", "", "")
        }
    }
    # the review console (bench/console.mjs)
    if ("console_load" in val) {
        row("review console: page load to the review queue drawn, first page of a new browser", "console_load", "< 300 ms", "",
            val["console_load"] < 300 ? "pass" : "**miss**")
        if ("console_load_warm" in val)
            row("review console: page load to the review queue drawn, reloaded in a running browser (median)",
                "console_load_warm", "< 300 ms", "", val["console_load_warm"] < 300 ? "pass" : "**miss**")
        nv = split("review overdue plans ledger dashboard audit finding check", views, " ")
        for (i = 1; i <= nv; i++) {
            k = "console_render_" views[i]
            if (k in val)
                row(sprintf("review console: the %s view drawn (median)", views[i]), k, "< 300 ms", "",
                    val[k] < 300 ? "pass" : "**miss**")
        }
    }
    # no-op sync
    small = val["noop_p50_small"]; big = val["noop_p50_big"]
    if (small > 0 && ("noop_p50_big" in val)) {
        row(sprintf("no-op sync p50, %.0fk-op register", val["pull_ops_small"] / 1e3), "noop_p50_small", "", "", "")
        r = big / small
        row(sprintf("no-op sync p50, %.0fk-op register", val["pull_ops_big"] / 1e3), "noop_p50_big",
            "flat in register size (<= 1.5x the small one)", sprintf("%.2fx", r), r <= 1.5 ? "pass" : "**miss**")
        row("no-op sync p99, small register", "noop_p99_small", "", "", "")
        row("no-op sync p99, big register", "noop_p99_big", "", "", "")
        rt = val["noop_round_trips_big"]
        row("no-op sync round trips, big register", "noop_round_trips_big", "1", "", rt == 1 ? "pass" : "**miss**")
        for (s = 1; s <= 3; s++) {
            sz = s == 1 ? "small" : s == 2 ? "mid" : "big"
            if (("noop_client_" sz "_p50") in val)
                row("no-op sc_sync (client library) p50, " sz " register", "noop_client_" sz "_p50", "", "", "")
            if (("noop_client_" sz "_rounds") in val)
                row("  round trips per no-op sc_sync", "noop_client_" sz "_rounds", "1", "",
                    val["noop_client_" sz "_rounds"] == 1 ? "pass" : "**miss**")
        }
    }
    # the register on PostgreSQL, beside the SQLite rows
    for (i = 1; i <= n; i++) {
        k = order[i]
        if (k !~ /^pg_ingest_b[0-9]+_d[0-9]+_i[0-9]+$/) continue
        split(k, p, "_"); b = substr(p[3], 2); d = substr(p[4], 2); inst = substr(p[5], 2)
        sq = "ingest_b" b "_d" d
        row(sprintf("PostgreSQL ingest, %s ops/request, %s devices, %s syncd", b, d, inst), k,
            "(beside SQLite)", (sq in val) && val[sq] > 0 ? sprintf("%.2fx SQLite", val[k] / val[sq]) : "", "")
        if ((k "_p99") in val) row("  p99 of those requests", k "_p99", "", "", "")
        lock_rows("lock_pg_b" b "_d" d "_i" inst)
    }
    if ("pg_pull_wire_small" in val) {
        r = val["pg_pull_wire_small"] / 1e5
        row(sprintf("PostgreSQL pull, wire/delivery rate, %.0fk-op register", val["pg_pull_ops_small"] / 1e3),
            "pg_pull_wire_small", "> 100k ops/s", pct(r), r > 1 ? "pass" : "**miss**")
    }
    if ("pg_noop_p50_small" in val) {
        row("PostgreSQL no-op sync p50", "pg_noop_p50_small", "", "", "")
        row("PostgreSQL no-op sync p99", "pg_noop_p99_small", "", "", "")
        rt = val["pg_noop_round_trips_small"]
        row("PostgreSQL no-op sync round trips", "pg_noop_round_trips_small", "1", "", rt == 1 ? "pass" : "**miss**")
    }
    # photos
    for (i = 1; i <= n; i++) {
        k = order[i]
        if (k ~ /^photos_c[0-9]+_chunk[0-9]+$/) {
            split(k, p, "_"); c = substr(p[2], 2); ch = substr(p[3], 6)
            r = val[k] / 100
            row(sprintf("photo upload with hashing, %s conn, %s KiB chunks", c, ch), k, "> 100 MB/s",
                pct(r), r > 1 ? "pass" : "**miss**")
        }
        if (k == "client_photos_adaptive") {
            r = val[k] / 100
            row("photo upload through the client library (sc_sync), adaptive chunks", k, "> 100 MB/s",
                pct(r), r > 1 ? "pass" : "**miss**")
            if ("client_photos_chunk1024" in val)
                row("  the same with chunk_bytes = 1 MiB (the fixed chunk of earlier versions)",
                    "client_photos_chunk1024", "(for comparison)", "", "")
        }
        if (k ~ /^resume_resent_chunk[0-9]+$/) {
            ch = substr(k, 20) * 1024
            row("bytes re-sent after an upload cut at 50%", k, "at most the cut chunk", "",
                val[k] <= ch ? "pass" : "**miss**")
            if ("resume_wait_s" in val)
                row("  time until syncd accepted the resumed chunk", "resume_wait_s",
                    "(see docs/performance.md)", "", "")
        }
    }
    # memory
    nrp = 0
    for (i = 1; i <= n; i++) {
        k = order[i]
        if (k ~ /^rss_devices[0-9]+$/) {
            r = val[k] / 64
            row(sprintf("syncd peak RSS, %s devices syncing", substr(k, 12)), k, "< 64 MiB", pct(r),
                r < 1 ? "pass" : "**miss**")
        }
        if (k ~ /^devices[0-9]+_sync_p99$/) row("  p99 sync latency in that run", k, "", "", "")
        if (k ~ /^rss_photos/) rp[++nrp] = k
    }
    for (j = 1; j <= nrp; j++) {
        k = rp[j]
        if (j == 1) { row(sprintf("syncd peak RSS, %s", substr(k, 5)), k, "", "", ""); continue }
        r = val[rp[1]] > 0 ? val[k] / val[rp[1]] : 0
        row(sprintf("syncd peak RSS, %s", substr(k, 5)), k, "flat in photo size (<= 1.25x the smaller photos)",
            sprintf("%.2fx", r), r <= 1.25 ? "pass" : "**miss**")
    }
    # as a user sees it: one spotcheck process per command
    for (i = 1; i <= n; i++) {
        k = order[i]
        if (k ~ /^cli_push_[0-9]+$/) {
            c = substr(k, 10)
            row(sprintf("CLI: `spotcheck sync` pushing %s findings recorded offline (%.0f ops)", c, val["outbox_push" c]),
                k, "10x the PouchDB push (issue 20; bench/peer)", "", "")
            cli_phases("cli_push_" c)
        }
        if (k ~ /^cli_pull_[0-9]+$/) {
            c = substr(k, 10)
            row(sprintf("CLI: `spotcheck enroll` of a fresh tablet, pulling the register of the %s-finding push", c),
                k, "10x the PouchDB pull (issue 20; bench/peer)", "", "")
            if (("cli_pull_findings_" c) in val)
                row("  the same in findings, as the peer counts its documents", "cli_pull_findings_" c, "", "", "")
        }
        if (k ~ /^cli_noop_[0-9]+_p50$/) {
            row("CLI: no-op `spotcheck sync`, p50 (wall, process start included)", k, "", "", "")
            cli_phases(substr(k, 1, length(k) - 4))
        }
    }
    # latency, client
    row("/v1/sync latency p50, steady mixed load", "latency_p50", "", "", "")
    row("/v1/sync latency p99, steady mixed load", "latency_p99", "", "", "")
    row("client: record an inspection (10 items, 3 findings, 3 photos), p50", "client_record_p50", "", "", "")
    row("client: record an inspection, p90", "client_record_p90", "", "", "")
    if ("bench_background_cpu" in val)
        row("share of the CPUs used by other processes during the run", "bench_background_cpu", "~0", "", "")
    if ("bench_background_cpu_ingest" in val)
        row("  during the ingest phase", "bench_background_cpu_ingest", "~0", "", "")
    for (i = 1; i <= n; i++) {
        k = order[i]
        if (k ~ /_rejected$|_not_empty$/)
            row("**errors**: " desc[k], k, "0", "", val[k] == 0 ? "pass" : "**fail**")
    }
    print ""
    print "## Method, figure by figure"
    print ""
    for (i = 1; i <= n; i++) {
        k = order[i]
        printf "- `%s` = %s: %s\n", k, fmt(val[k], unit[k]), desc[k]
    }
}' "$RAW"
