/*
 * ledger.c: the console's findings ledger (台账), with no HTTP in it.  The
 * rows are sc_report_ledger's, as `spotcheck report ledger` writes them:
 * the view gets one page of them as JSON (a ledger of any length costs the
 * page the same: every row is built and counted, at most
 * SC_CONSOLE_LEDGER_ROWS_MAX are kept), and the export writes the whole
 * ledger into a file through report/ledger_sink.c, the command's own sink,
 * which server.c then sends as a download.  Neither changes anything in
 * the replica.  A filter that is not valid is the library's refusal, its
 * message naming the values that are.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "core/limits.h"
#include "ledger_sink.h"

/* A filter argument, or NULL when absent or empty (an empty select means any). */
static const char *opt(cs_arg_fn arg, void *ctx, const char *name)
{
    const char *v = arg(ctx, name);
    return v && *v ? v : NULL;
}

/* The findings ledger the request's arguments ask for. */
static sc_ledger_query query_of(cs_arg_fn arg, void *ctx)
{
    sc_ledger_query q = {.size = sizeof q,
                         .ledger = "findings",
                         .lang = opt(arg, ctx, "lang"),
                         .org = opt(arg, ctx, "org"),
                         .target = opt(arg, ctx, "target"),
                         .period = opt(arg, ctx, "period"),
                         .grade = opt(arg, ctx, "grade"),
                         .status = opt(arg, ctx, "status"),
                         .kind = opt(arg, ctx, "kind"),
                         .source = opt(arg, ctx, "source"),
                         .as_of = opt(arg, ctx, "as_of")};
    return q;
}

/* One page of a ledger, as its rows come. */
typedef struct cs_page {
    json_t *headers;                      /* [text] */
    json_t *rows;                         /* [[text]], the page's */
    unsigned long long seen, from, count; /* rows seen; the page: from, count rows */
} cs_page;

static json_t *texts(const sc_ledger_row *row)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < row->n; i++)
        if (json_array_append_new(a, json_string(row->cells[i].text)) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static int take_row(void *ctx, const sc_ledger_row *row)
{
    cs_page *p = ctx;
    if (row->header)
        return (p->headers = texts(row)) ? 0 : -1;
    bool shown = p->seen >= p->from && p->seen - p->from < p->count;
    p->seen++;
    return !shown || json_array_append_new(p->rows, texts(row)) == 0 ? 0 : -1;
}

/* A whole number argument no greater than max into *out (absent: dflt); false when it is not one. */
static bool whole(cs_arg_fn arg, void *ctx, const char *name, unsigned long long dflt,
                  unsigned long long max, unsigned long long *out)
{
    const char *v = opt(arg, ctx, name);
    *out = dflt;
    if (!v)
        return true;
    char *end = NULL;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || !end || *end || *v < '0' || *v > '9' || n > max)
        return false;
    *out = n;
    return true;
}

void cs_ledger_page(sc_client *c, cs_arg_fn arg, void *ctx, cs_answer *out)
{
    cs_page p = {.rows = json_array()};
    if (!whole(arg, ctx, "offset", 0, ~0ULL, &p.from) ||
        !whole(arg, ctx, "limit", 50, SC_CONSOLE_LEDGER_ROWS_MAX, &p.count)) {
        json_decref(p.rows);
        cs_api_error(out, 400, "SC_ERR_INVALID_ARG", "bad_field",
                     "offset and limit are whole numbers, limit at most 200");
        return;
    }
    sc_ledger_query q = query_of(arg, ctx);
    sc_ledger_totals t = {.size = sizeof t};
    sc_status s = p.rows ? sc_report_ledger(c, &q, take_row, &p, &t) : SC_ERR_NOMEM;
    json_t *o = NULL;
    if (s == SC_OK)
        o = json_pack("{s:o,s:o,s:I,s:I,s:{s:I,s:I,s:I,s:I,s:I,s:I}}", "headers",
                      p.headers ? p.headers : json_array(), "rows", p.rows, "offset",
                      (json_int_t)p.from, "limit", (json_int_t)p.count, "totals", "rows",
                      (json_int_t)t.rows, "major", (json_int_t)t.major, "open",
                      (json_int_t)t.open, "closed", (json_int_t)t.closed, "overdue",
                      (json_int_t)t.overdue, "photos", (json_int_t)t.photos);
    else {
        json_decref(p.headers);
        json_decref(p.rows);
    }
    if (s != SC_OK) {
        cs_api_fail(c, s, out);
        return;
    }
    out->http = o ? 200 : 500;
    out->body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
}

bool cs_ledger_export(sc_client *c, cs_arg_fn arg, void *ctx, bool xlsx, const char *path,
                      cs_answer *out)
{
    sc_ledger_query q = query_of(arg, ctx);
    sc_ledger_sink k;
    const char *why = NULL;
    if (sc_ledger_sink_open(&k, xlsx, path, "findings", &why) != 0) {
        cs_api_error(out, 500, "SC_ERR_IO", "", why ? why : "cannot write the ledger");
        return false;
    }
    sc_status s = sc_report_ledger(c, &q, sc_ledger_sink_row, &k, NULL);
    int closed = sc_ledger_sink_close(&k, &why);
    if (s != SC_OK || closed != 0) {
        remove(path);
        if (s != SC_OK)
            cs_api_fail(c, s, out);
        else
            cs_api_error(out, 500, "SC_ERR_IO", "", why ? why : "cannot write the ledger");
        return false;
    }
    return true;
}

void cs_ledger_filters(cs_answer *out)
{
    static const char *const fields[] = {"grade", "finding_status", "kind", "source"};
    json_t *o = json_object();
    for (size_t f = 0; o && f < sizeof fields / sizeof fields[0]; f++) {
        json_t *a = json_array();
        const char *v;
        for (size_t i = 0; a && (v = sc_value_name(fields[f], i)) != NULL; i++)
            json_array_append_new(a, json_string(v));
        json_object_set_new(o, fields[f], a ? a : json_null());
    }
    out->http = o ? 200 : 500;
    out->body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
}
