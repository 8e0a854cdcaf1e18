/*
 * report.c: `spotcheck report ledger`, a ledger (台账) of what the replica
 * holds, as CSV or XLSX, `spotcheck report stats`, its statistics as a
 * table, JSON or CSV, and `spotcheck report period`, an org unit's period
 * report as one HTML page (docs/reports.md).  The rows are the library's
 * (sc_report_ledger); the XLSX is written by client-lib/report/xlsx.c.
 * A ledger is written by report/ledger_sink.c, as the console's export
 * writes it, and a period report by report/whole.c, each under
 * FILE.partial and renamed once whole, so a failed run leaves no half
 * ledger or report under the name asked for.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ledger_sink.h"
#include "whole.h"

static int ledger_done(cli *k, const char *out, const sc_ledger_totals *t, bool checks)
{
    char line[512];
    if (checks)
        snprintf(line, sizeof line, "%s: %llu check%s (%llu submitted, %llu drafts, %llu photos)",
                 out, t->rows, t->rows == 1 ? "" : "s", t->closed, t->open, t->photos);
    else
        snprintf(line, sizeof line,
                 "%s: %llu finding%s (%llu major, %llu open, %llu closed, %llu overdue, %llu photos)",
                 out, t->rows, t->rows == 1 ? "" : "s", t->major, t->open, t->closed, t->overdue,
                 t->photos);
    return emit_pack(k,
                     json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I}", "file", out, "ledger",
                               checks ? "checks" : "findings", "rows", (json_int_t)t->rows,
                               "major", (json_int_t)t->major, "open", (json_int_t)t->open,
                               "closed", (json_int_t)t->closed, "overdue", (json_int_t)t->overdue,
                               "photos", (json_int_t)t->photos),
                     line);
}

static int cmd_ledger(cli *k, int argc, char **argv)
{
    static const optspec spec[] = {
        {"--findings", 0, NULL, NULL, "the findings ledger (the default)"},
        {"--checks", 0, NULL, NULL, "the inspections ledger"},
        {"--format", 1, "F", NULL, "csv (UTF-8 with a BOM) or xlsx (required)"},
        {"--out", 1, "FILE", NULL, "the file to write (required)"},
        {"--lang", 1, "L", "lang", "headers and names: zh (default) or en"},
        {"--org", 1, "ORG", NULL, "only targets in this org unit's subtree"},
        {"--target", 1, "CODE", NULL, "only this target"},
        {"--period", 1, "P", NULL,
         "found (opened) in: YYYY-MM-DD, YYYY-Www, YYYY-MM, YYYY-Qn, YYYY or DAY..DAY"},
        {"--grade", 1, "G", "grade", "findings of this grade"},
        {"--status", 1, "S", "finding_status inspection_status", "only those in this status"},
        {"--kind", 1, "K", "kind", "checks of this kind (findings: found in one)"},
        {"--source", 1, "S", "source", "findings from this source"},
        {"--as-of", 1, "YYYY-MM-DD", NULL, "count days overdue to this day (default today)"}};
    parsed p;
    PARSE(0);
    int rc;
    const char *format = OPT("--format"), *out = OPT("--out");
    if ((rc = need(format, "--format csv|xlsx")) || (rc = need(out, "--out FILE")))
        return rc;
    bool xlsx = strcmp(format, "xlsx") == 0;
    if (!xlsx && strcmp(format, "csv") != 0)
        return usage_error("--format \"%s\" is not valid: one of csv, xlsx", format);
    bool checks = OPT("--checks") != NULL;
    if (checks && OPT("--findings"))
        return usage_error("%s", "--findings or --checks, not both");
    sc_ledger_query q = {.size = sizeof q,
                         .ledger = checks ? "checks" : "findings",
                         .lang = OPT("--lang"),
                         .org = OPT("--org"),
                         .target = OPT("--target"),
                         .period = OPT("--period"),
                         .grade = OPT("--grade"),
                         .status = OPT("--status"),
                         .kind = OPT("--kind"),
                         .source = OPT("--source"),
                         .as_of = OPT("--as-of")};
    char partial[4096];
    if (snprintf(partial, sizeof partial, "%s.partial", out) >= (int)sizeof partial)
        return usage_error("--out \"%s\" is too long", out);
    sc_ledger_sink s;
    const char *why = NULL;
    if (sc_ledger_sink_open(&s, xlsx, partial, checks ? "checks" : "findings", &why) != 0) {
        fprintf(stderr, "spotcheck: cannot write %s: %s\n", partial, why);
        return EXIT_LOCAL;
    }
    sc_ledger_totals t = {.size = sizeof t};
    sc_status st = sc_report_ledger(k->c, &q, sc_ledger_sink_row, &s, &t);
    int closed = sc_ledger_sink_close(&s, &why);
    if (st == SC_OK && closed == 0 && rename(partial, out) != 0) {
        why = strerror(errno);
        closed = -1;
    }
    if (st != SC_OK || closed != 0) {
        remove(partial);
        if (st != SC_OK)
            return fail(k, st, NULL);
        fprintf(stderr, "spotcheck: writing %s failed: %s\n", out, why ? why : "");
        return EXIT_LOCAL;
    }
    return ledger_done(k, out, &t, checks);
}

static int cmd_stats(cli *k, int argc, char **argv)
{
    static const optspec spec[] = {
        {"--by", 1, "B", NULL, "org (default), target, day, week, month or quarter"},
        {"--format", 1, "F", NULL, "table (default), json or csv (--json: json)"},
        {"--lang", 1, "L", "lang", "headers: zh (default) or en"},
        {"--period", 1, "P", NULL, "count only what was found (opened) in P, as for ledgers"},
        {"--as-of", 1, "YYYY-MM-DD", NULL, "count overdue as of this day (default today)"}};
    parsed p;
    PARSE(0);
    const char *format = OPT("--format");
    if (k->json && format && strcmp(format, "json") != 0)
        return usage_error("--json or --format %s, not both", format);
    sc_stats_query q = {.size = sizeof q,
                        .by = OPT("--by"),
                        .format = k->json ? "json" : format,
                        .lang = OPT("--lang"),
                        .period = OPT("--period"),
                        .as_of = OPT("--as-of")};
    char *text = NULL;
    sc_status s = sc_report_stats(k->c, &q, &text);
    if (s != SC_OK)
        return fail(k, s, NULL);
    fputs(text, stdout);
    sc_json_free(k->c, text);
    return 0;
}

static int cmd_period(cli *k, int argc, char **argv)
{
    static const optspec spec[] = {
        {"--org", 1, "ORG", NULL, "the org unit: its code or id (required)"},
        {"--period", 1, "P", NULL,
         "the period (required): YYYY-MM, YYYY-Www, YYYY-Qn, YYYY, YYYY-MM-DD or DAY..DAY"},
        {"--lang", 1, "L", "lang", "every label: zh (default) or en"},
        {"--as-of", 1, "YYYY-MM-DD", NULL, "count overdue as of this day (default today)"},
        {"--out", 1, "FILE", NULL, "write the page to FILE (default: standard output)"}};
    parsed p;
    PARSE(0);
    int rc;
    const char *org = OPT("--org"), *period = OPT("--period"), *out = OPT("--out");
    if ((rc = need(org, "--org ORG")) || (rc = need(period, "--period P")))
        return rc;
    sc_period_query q = {.size = sizeof q,
                         .org = org,
                         .period = period,
                         .lang = OPT("--lang"),
                         .as_of = OPT("--as-of")};
    char *html = NULL;
    sc_status s = sc_report_period(k->c, &q, &html);
    if (s != SC_OK)
        return fail(k, s, NULL);
    size_t len = strlen(html);
    const char *why = NULL;
    rc = 0;
    if (!out) {
        if (fwrite(html, 1, len, stdout) != len || fflush(stdout) != 0) {
            fprintf(stderr, "spotcheck: writing the report failed: %s\n", strerror(errno));
            rc = EXIT_LOCAL;
        }
    } else if (sc_write_whole(out, html, len, &why) != 0) {
        fprintf(stderr, "spotcheck: cannot write %s: %s\n", out, why);
        rc = EXIT_LOCAL;
    }
    sc_json_free(k->c, html);
    if (rc || !out)
        return rc;
    char line[512];
    snprintf(line, sizeof line, "%s: period report of %s for %s (%zu bytes)", out, org, period,
             len);
    return emit_pack(k,
                     json_pack("{s:s,s:s,s:s,s:s,s:I}", "file", out, "report", "period", "org", org,
                               "period", period, "bytes", (json_int_t)len),
                     line);
}

bool report_is_command(const char *cmd)
{
    return strcmp(cmd, "report") == 0;
}

int report_command(cli *k, int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "stats") == 0)
        return cmd_stats(k, argc - 1, argv + 1);
    if (argc >= 1 && strcmp(argv[0], "period") == 0)
        return cmd_period(k, argc - 1, argv + 1);
    if (argc < 1 || strcmp(argv[0], "ledger") != 0)
        return usage_error("report \"%s\": the reports are: ledger, stats, period",
                           argc < 1 ? "" : argv[0]);
    return cmd_ledger(k, argc - 1, argv + 1);
}
