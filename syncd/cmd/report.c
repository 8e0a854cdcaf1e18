/*
 * report.c: `syncd report ledger`, the ledger (台账) of the whole register,
 * as CSV or XLSX (docs/reports.md, docs/operations.md).  Every finding or
 * inspection is in it, released or not: the command is an operator's, on
 * the data directory, as `syncd export` is.  The rows are the core's
 * (core/ledger.c), the same a client writes of its replica; they are read
 * in one read transaction through the store interface (either backend),
 * one entity at a time, so memory stays flat however large the register.
 * The file is written by report/ledger_sink.c, as `spotcheck report
 * ledger` writes its own, under FILE.partial, and renamed once whole.
 * `syncd report stats` folds the same states into the statistics
 * (core/stats.c) and prints them as a table, JSON or CSV, and `syncd
 * report period` into the period report (report/period.c), an HTML page.
 * Like the ledger, both see the whole register, released or not.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "core/date.h"
#include "core/ids.h"
#include "core/ledger.h"
#include "core/state.h"
#include "core/stats.h"
#include "core/stats_out.h"
#include "report/period.h"
#include "register/register.h"
#include "store/store.h"
#include "whole.h"
#include "ledger_sink.h"

/* A stored state's size is checked against this before it is decoded (as the register does). */
#define REPORT_STATE_MAX ((size_t)64 << 20)

typedef struct reporter {
    sd_store *s;
    const sc_env *env;
    sc_ledger *lg;
    sc_ledger_sink sink; /* the file the rows go to, as `spotcheck report ledger` writes it */
    sc_err err;
    sc_status rc;
} reporter;

static sc_status src_state(void *ctx, const uint8_t id[SC_ID_LEN], Scpb__EntityState **out)
{
    reporter *r = ctx;
    sd_entity_row row;
    *out = NULL;
    sc_status rc = r->s->vt->entity_get(r->s, id, true, &row, &r->err);
    if (rc != SC_OK)
        return rc;
    rc = sc_state_decode(r->env, row.state, row.state_len, REPORT_STATE_MAX, out, &r->err);
    free(row.state);
    return rc;
}

static sc_status src_person(void *ctx, const uint8_t key[SC_KEY_LEN], char *out, size_t cap)
{
    reporter *r = ctx;
    out[0] = '\0';
    sd_device_row d;
    sc_status rc = r->s->vt->device_get(r->s, key, &d, &r->err);
    if (rc == SC_ERR_NOT_FOUND)
        return SC_OK; /* the server's own key, or one no enrollment names */
    Scpb__EntityState *u = NULL;
    if (rc == SC_OK)
        rc = src_state(ctx, d.user, &u);
    if (rc == SC_OK && u->kind_case == SCPB__ENTITY_STATE__KIND_USER)
        snprintf(out, cap, "%s", u->user->name && *u->user->name ? u->user->name : u->user->login);
    sc_state_free(r->env, u);
    return rc == SC_ERR_NOT_FOUND ? SC_OK : rc;
}

typedef struct op_feed {
    sc_ledger_op_fn fn;
    void *ctx;
} op_feed;

static bool feed_op(void *ctx, const sd_op_row *row)
{
    op_feed *f = ctx;
    return f->fn(f->ctx, row->op_id, row->kind, row->hlc);
}

static sc_status src_ops(void *ctx, const uint8_t id[SC_ID_LEN], sc_ledger_op_fn fn, void *fctx)
{
    reporter *r = ctx;
    op_feed f = {fn, fctx};
    return r->s->vt->entity_ops(r->s, id, feed_op, &f, &r->err);
}

static int write_row(void *ctx, const sc_ledger_row *row)
{
    reporter *r = ctx;
    return sc_ledger_sink_row(&r->sink, row);
}

static bool add_entity(void *ctx, const sd_entity_row *row)
{
    reporter *r = ctx;
    Scpb__EntityState *st = NULL;
    r->rc = sc_state_decode(r->env, row->state, row->state_len, REPORT_STATE_MAX, &st, &r->err);
    if (r->rc == SC_OK)
        r->rc = sc_ledger_add(r->lg, st, write_row, r, &r->err);
    sc_state_free(r->env, st);
    return r->rc == SC_OK;
}

/* An org unit's or target's code (or 32-hex id) into id. */
static sc_status resolve(reporter *r, int type, const char *what, const char *text,
                         uint8_t id[SC_ID_LEN])
{
    if (strlen(text) == 2 * SC_ID_LEN && sc_hex_decode(text, strlen(text), id, SC_ID_LEN) == SC_OK)
        return SC_OK;
    sc_status rc = r->s->vt->code_find(r->s, type, text, 0, id, &r->err);
    if (rc == SC_ERR_NOT_FOUND)
        return sc_err_set(&r->err, rc, 0, "no %s has the code \"%s\"", what, text);
    return rc;
}

typedef struct report_args {
    const char *data, *format, *out, *org, *target, *by;
    sc_ledger_query q;
    bool findings, checks, json;
} report_args;

/* The ledger into the open sink: header, then every entity of the ledger's type. */
static sc_status ledger_run(reporter *r, const report_args *a, sc_ledger_totals *t)
{
    sc_ledger_spec spec;
    sc_status rc = sc_ledger_spec_parse(&a->q, sc_date_from_ms(sc_env_now_ms(r->env)), &spec,
                                        &r->err);
    if (rc == SC_OK && a->org &&
        (rc = resolve(r, SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT, "org unit", a->org, spec.org)) ==
            SC_OK)
        spec.has_org = true;
    if (rc == SC_OK && a->target &&
        (rc = resolve(r, SCPB__ENTITY_TYPE__ENTITY_TARGET, "target", a->target, spec.target)) ==
            SC_OK)
        spec.has_target = true;
    if (rc != SC_OK)
        return rc;
    sc_ledger_src src = {r, src_state, src_person, src_ops};
    if (sc_ledger_new(r->env, &src, &spec, &r->lg) != SC_OK)
        return sc_err_set(&r->err, SC_ERR_NOMEM, 0, "out of memory");
    r->rc = sc_ledger_header(r->lg, write_row, r, &r->err);
    if (r->rc == SC_OK) {
        rc = r->s->vt->entity_type_scan(r->s, sc_ledger_entity_type(r->lg), add_entity, r,
                                        &r->err);
        if (rc != SC_OK && r->rc == SC_OK)
            r->rc = rc;
    }
    sc_ledger_totals_get(r->lg, t);
    sc_ledger_free(r->lg);
    r->lg = NULL;
    return r->rc;
}

/* Open the store and the sink, run the ledger, close both; 0 or the exit status. */
static int ledger_write(const report_args *a, const char *partial, sc_ledger_totals *t)
{
    reporter r;
    memset(&r, 0, sizeof r);
    r.env = sd_env_system();
    bool xlsx = strcmp(a->format, "xlsx") == 0, open = false;
    const char *why = NULL;
    sc_status rc = sd_store_open_dir(a->data, &r.s, &r.err);
    if (rc == SC_OK && (rc = r.s->vt->begin(r.s, false, &r.err)) == SC_OK) {
        open = sc_ledger_sink_open(&r.sink, xlsx, partial, a->checks ? "checks" : "findings",
                                   &why) == 0;
        rc = open ? ledger_run(&r, a, t) : SC_ERR_IO;
        r.s->vt->rollback(r.s);
    }
    int wrote = open ? sc_ledger_sink_close(&r.sink, &why) : 0;
    if (r.s)
        r.s->vt->close(r.s);
    if (rc != SC_OK || wrote != 0) {
        remove(partial);
        fprintf(stderr, "syncd report: %s\n",
                rc != SC_OK && r.err.msg[0] ? r.err.msg : why ? why : sc_strerror(rc));
        return r.err.code == SC_ERR_INVALID_ARG || rc == SC_ERR_NOT_FOUND ? 2 : 1;
    }
    return 0;
}

static int report_ledger(report_args *a)
{
    if (!a->data || !a->format || !a->out)
        return sd_cmdline_fail("report", "ledger needs --data DIR, --format csv|xlsx and --out FILE");
    if (strcmp(a->format, "csv") != 0 && strcmp(a->format, "xlsx") != 0)
        return sd_cmdline_fail("report", "--format \"%s\" is not valid: one of csv, xlsx", a->format);
    if (a->findings && a->checks)
        return sd_cmdline_fail("report", "--findings or --checks, not both");
    a->q.size = sizeof a->q;
    a->q.ledger = a->checks ? "checks" : "findings";
    char partial[4096];
    if (snprintf(partial, sizeof partial, "%s.partial", a->out) >= (int)sizeof partial)
        return sd_cmdline_fail("report", "--out is too long");
    sc_ledger_totals t = {.size = sizeof t};
    int rc = ledger_write(a, partial, &t);
    if (rc)
        return rc;
    if (rename(partial, a->out) != 0) {
        fprintf(stderr, "syncd report: %s: %s\n", a->out, strerror(errno));
        remove(partial);
        return 1;
    }
    if (a->checks)
        printf("%s: %llu check%s (%llu submitted, %llu drafts, %llu photos)\n", a->out, t.rows,
               t.rows == 1 ? "" : "s", t.closed, t.open, t.photos);
    else
        printf("%s: %llu finding%s (%llu major, %llu open, %llu closed, %llu overdue, %llu photos)\n",
               a->out, t.rows, t.rows == 1 ? "" : "s", t.major, t.open, t.closed, t.overdue, t.photos);
    return 0;
}

/* ---- statistics and the period report: folds over org units, inspections and findings ---- */

typedef sc_status (*fold_fn)(void *ctx, const Scpb__EntityState *st, sc_err *err);

typedef struct fold_run {
    reporter *r;
    void *ctx;
    fold_fn org, add; /* each org unit; each inspection and finding */
    sc_status rc;
} fold_run;

static bool fold_row(fold_run *x, const sd_entity_row *row, fold_fn fn)
{
    Scpb__EntityState *st = NULL;
    x->rc = sc_state_decode(x->r->env, row->state, row->state_len, REPORT_STATE_MAX, &st, &x->r->err);
    if (x->rc == SC_OK)
        x->rc = fn(x->ctx, st, &x->r->err);
    sc_state_free(x->r->env, st);
    return x->rc == SC_OK;
}

static bool fold_org(void *ctx, const sd_entity_row *row)
{
    fold_run *x = ctx;
    return fold_row(x, row, x->org);
}

static bool fold_entity(void *ctx, const sd_entity_row *row)
{
    fold_run *x = ctx;
    return fold_row(x, row, x->add);
}

/* Fold the register's org units, then its inspections and findings, through x. */
static sc_status fold_scan(fold_run *x)
{
    static const int types[] = {SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT,
                                SCPB__ENTITY_TYPE__ENTITY_INSPECTION,
                                SCPB__ENTITY_TYPE__ENTITY_FINDING};
    sd_store *s = x->r->s;
    for (size_t i = 0; i < 3; i++) {
        sc_status rc = s->vt->entity_type_scan(s, types[i], i == 0 ? fold_org : fold_entity, x,
                                               &x->r->err);
        if (x->rc != SC_OK)
            return x->rc;
        if (rc != SC_OK)
            return rc;
    }
    return SC_OK;
}

typedef struct stats_ctx {
    sc_stats *st;
    const sc_stats_spec *spec;
} stats_ctx;

static sc_status stats_org(void *ctx, const Scpb__EntityState *st, sc_err *err)
{
    stats_ctx *x = ctx;
    return sc_stats_org(x->st, st, err);
}

static sc_status stats_entity(void *ctx, const Scpb__EntityState *st, sc_err *err)
{
    stats_ctx *x = ctx;
    return sc_stats_spec_keeps(x->spec, st) ? sc_stats_add(x->st, st, err) : SC_OK;
}

static int report_stats(const report_args *a)
{
    if (!a->data)
        return sd_cmdline_fail("report", "stats needs --data DIR");
    sc_stats_query q = {sizeof q, a->by, a->json ? "json" : a->format, a->q.lang, a->q.period,
                        a->q.as_of};
    if (a->json && a->format && strcmp(a->format, "json") != 0)
        return sd_cmdline_fail("report", "--json or --format %s, not both", a->format);
    reporter r;
    memset(&r, 0, sizeof r);
    r.env = sd_env_system();
    sc_stats_spec spec;
    if (sc_stats_spec_parse(&q, sc_date_from_ms(sc_env_now_ms(r.env)), &spec, &r.err) != SC_OK) {
        fprintf(stderr, "syncd report: %s\n", r.err.msg);
        return 2;
    }
    stats_ctx sx = {NULL, &spec};
    fold_run x = {&r, &sx, stats_org, stats_entity, SC_OK};
    sc_ledger_src src = {&r, src_state, src_person, src_ops};
    char *text = NULL;
    size_t len = 0;
    sc_status rc = sd_store_open_dir(a->data, &r.s, &r.err);
    if (rc == SC_OK && (rc = r.s->vt->begin(r.s, false, &r.err)) == SC_OK) {
        rc = sc_stats_new(r.env, &src, spec.view.by, spec.view.period, spec.view.as_of, &sx.st);
        if (rc == SC_OK)
            rc = fold_scan(&x);
        const sc_stats_group *g = NULL;
        size_t n = 0;
        if (rc == SC_OK)
            rc = sc_stats_groups(sx.st, &g, &n, &r.err);
        if (rc == SC_OK)
            rc = sc_stats_render(r.env, g, n, &spec.view, &text, &len);
        sc_stats_free(sx.st);
        r.s->vt->rollback(r.s);
    }
    if (r.s)
        r.s->vt->close(r.s);
    if (rc != SC_OK) {
        fprintf(stderr, "syncd report: %s\n", r.err.msg[0] ? r.err.msg : sc_strerror(rc));
        sc_free(r.env, text);
        return 1;
    }
    int bad = fwrite(text, 1, len, stdout) != len;
    sc_free(r.env, text);
    return bad ? 1 : 0;
}

/* ---- the period report ---- */

static sc_status period_org(void *ctx, const Scpb__EntityState *st, sc_err *err)
{
    return sc_period_org(ctx, st, err);
}

static sc_status period_entity(void *ctx, const Scpb__EntityState *st, sc_err *err)
{
    return sc_period_add(ctx, st, err);
}

/* The page of the register's period report into *html (r->env's), in one read transaction. */
static sc_status period_make(reporter *r, const report_args *a, char **html, size_t *len)
{
    int64_t now = sc_env_now_ms(r->env);
    sc_period_query q = {sizeof q, a->org, a->q.period, a->q.lang, a->q.as_of};
    sc_period_spec spec;
    sc_status rc = sc_period_spec_parse(&q, sc_date_from_ms(now), &spec, &r->err);
    if (rc != SC_OK)
        return rc;
    spec.generated_ms = now;
    if ((rc = sd_store_open_dir(a->data, &r->s, &r->err)) != SC_OK ||
        (rc = r->s->vt->begin(r->s, false, &r->err)) != SC_OK)
        return rc;
    sc_period *pr = NULL;
    sc_ledger_src src = {r, src_state, src_person, src_ops};
    rc = resolve(r, SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT, "org unit", a->org, spec.org);
    if (rc == SC_OK && sc_period_new(r->env, &src, &spec, &pr) != SC_OK)
        rc = sc_err_set(&r->err, SC_ERR_NOMEM, 0, "out of memory");
    fold_run x = {r, pr, period_org, period_entity, SC_OK};
    if (rc == SC_OK)
        rc = fold_scan(&x);
    if (rc == SC_OK)
        rc = sc_period_render(pr, html, len, &r->err);
    sc_period_free(pr);
    r->s->vt->rollback(r->s);
    return rc;
}

static int report_period(const report_args *a)
{
    if (!a->data || !a->org || !a->q.period)
        return sd_cmdline_fail("report", "period needs --data DIR, --org ORG and --period P");
    reporter r;
    memset(&r, 0, sizeof r);
    r.env = sd_env_system();
    char *html = NULL;
    size_t len = 0;
    sc_status rc = period_make(&r, a, &html, &len);
    if (r.s)
        r.s->vt->close(r.s);
    if (rc != SC_OK) {
        fprintf(stderr, "syncd report: %s\n", r.err.msg[0] ? r.err.msg : sc_strerror(rc));
        return r.err.code == SC_ERR_INVALID_ARG || rc == SC_ERR_NOT_FOUND ? 2 : 1;
    }
    int bad = 0;
    if (!a->out) {
        bad = fwrite(html, 1, len, stdout) != len || fflush(stdout) != 0;
        if (bad)
            fprintf(stderr, "syncd report: writing the report failed: %s\n", strerror(errno));
    } else {
        const char *why = NULL;
        if ((bad = sc_write_whole(a->out, html, len, &why)) != 0)
            fprintf(stderr, "syncd report: cannot write %s: %s\n", a->out, why);
        else
            printf("%s: period report of %s for %s (%zu bytes)\n", a->out, a->org, a->q.period,
                   len);
    }
    sc_free(r.env, html);
    return bad ? 1 : 0;
}

int sd_cmd_report(int argc, char **argv)
{
    report_args a;
    memset(&a, 0, sizeof a);
    const sd_option opts[] = {{"data", &a.data, NULL},
                              {"format", &a.format, NULL},
                              {"out", &a.out, NULL},
                              {"findings", NULL, &a.findings},
                              {"checks", NULL, &a.checks},
                              {"lang", &a.q.lang, NULL},
                              {"org", &a.org, NULL},
                              {"target", &a.target, NULL},
                              {"period", &a.q.period, NULL},
                              {"grade", &a.q.grade, NULL},
                              {"status", &a.q.status, NULL},
                              {"kind", &a.q.kind, NULL},
                              {"source", &a.q.source, NULL},
                              {"as-of", &a.q.as_of, NULL},
                              {"by", &a.by, NULL},
                              {"json", NULL, &a.json},
                              {NULL, NULL, NULL}};
    const char *words[1];
    size_t nwords = 0;
    int rc = sd_cmdline_parse("report", argc, argv, opts, words, 1, &nwords);
    if (rc >= 0)
        return rc;
    if (nwords == 1 && strcmp(words[0], "stats") == 0)
        return report_stats(&a);
    if (nwords == 1 && strcmp(words[0], "period") == 0)
        return report_period(&a);
    if (nwords != 1 || strcmp(words[0], "ledger") != 0)
        return sd_cmdline_fail("report", "which report: ledger, stats or period");
    a.q.org = a.org;
    a.q.target = a.target;
    return report_ledger(&a);
}
