/*
 * report.c: ledgers of what the replica holds (sc_report_ledger), which is
 * what its user may see: syncd sends a device only the ops its user may
 * read (docs/protocol.md §6), so an unannounced check not yet released is
 * not here for the inspected unit, and neither are its findings.  The rows
 * are the core's (core/ledger.c), the same syncd writes of the whole
 * register; this file feeds it the replica's states, people and ops.  The
 * statistics (sc_report_stats) are the core's fold (core/stats.c) over the
 * same states, and the period report (sc_report_period) is report/period.c's
 * page over them.
 */
#include <jansson.h>
#include <string.h>

#include "core/date.h"
#include "core/ledger.h"
#include "core/stats.h"
#include "core/stats_out.h"
#include "internal.h"
#include "report/period.h"

static sc_status src_state(void *ctx, const uint8_t id[SC_ID_LEN], Scpb__EntityState **out)
{
    return st_state_get(ctx, id, out);
}

static sc_status src_person(void *ctx, const uint8_t key[SC_KEY_LEN], char *out, size_t cap)
{
    rp_person p;
    sc_status s = rp_person_of(ctx, key, &p);
    out[0] = '\0';
    if (s == SC_OK && p.known)
        snprintf(out, cap, "%s", p.server ? "syncd" : p.name[0] ? p.name : p.login);
    return s;
}

typedef struct op_feed {
    sc_ledger_op_fn fn;
    void *ctx;
} op_feed;

static sc_status feed_op(sc_client *c, void *ctx, const st_opinfo *info)
{
    (void)c;
    op_feed *f = ctx;
    /* An op syncd refused is no part of the record. */
    if (info->state != ST_REJECTED)
        f->fn(f->ctx, info->id, info->kind, info->hlc);
    return SC_OK;
}

static sc_status src_ops(void *ctx, const uint8_t id[SC_ID_LEN], sc_ledger_op_fn fn, void *fctx)
{
    op_feed f = {fn, fctx};
    return st_ops_each(ctx, id, feed_op, &f);
}

typedef struct ledger_run {
    sc_ledger *lg;
    sc_ledger_fn fn;
    void *ctx;
    sc_err err;
} ledger_run;

static sc_status add_entity(sc_client *c, void *ctx, const uint8_t id[SC_ID_LEN])
{
    ledger_run *r = ctx;
    Scpb__EntityState *st = NULL;
    sc_status s = st_state_get(c, id, &st);
    if (s == SC_OK)
        s = sc_ledger_add(r->lg, st, r->fn, r->ctx, &r->err);
    rp_state_free(c, st);
    return s;
}

static sc_status ledger_read(sc_client *c, const sc_ledger_query *q, sc_ledger_fn fn, void *ctx,
                             sc_ledger_totals *totals)
{
    sc_ledger_spec spec;
    sc_status s = sc_ledger_spec_parse(q, sc_date_from_ms(sc_env_now_ms(&c->env)), &spec, &c->err);
    if (s != SC_OK)
        return s;
    if (q->org && (s = rp_resolve(c, q->org, SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT, "org unit",
                                  spec.org)) != SC_OK)
        return s;
    spec.has_org = q->org != NULL;
    if (q->target && (s = rp_resolve(c, q->target, SCPB__ENTITY_TYPE__ENTITY_TARGET, "target",
                                     spec.target)) != SC_OK)
        return s;
    spec.has_target = q->target != NULL;
    sc_ledger_src src = {c, src_state, src_person, src_ops};
    ledger_run r = {NULL, fn, ctx, {SC_OK, 0, ""}};
    if (sc_ledger_new(&c->env, &src, &spec, &r.lg) != SC_OK)
        return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
    s = sc_ledger_header(r.lg, fn, ctx, &r.err);
    if (s == SC_OK)
        s = st_entities_each(c, sc_ledger_entity_type(r.lg), false, add_entity, &r);
    if (s == SC_OK && totals)
        sc_ledger_totals_get(r.lg, totals);
    sc_ledger_free(r.lg);
    if (s != SC_OK && r.err.code != SC_OK)
        return cl_fail(c, s, r.err.reason, "%s", r.err.msg);
    return s;
}

sc_status sc_report_ledger(sc_client *c, const sc_ledger_query *q, sc_ledger_fn fn, void *ctx,
                           sc_ledger_totals *totals)
{
    if (!c)
        return SC_ERR_INVALID_ARG;
    sc_err_clear(&c->err);
    if (!q || !fn)
        return cl_fail(c, SC_ERR_INVALID_ARG, 0, "sc_report_ledger: q and fn are required");
    sc_ledger_query query;
    sc_ledger_totals t;
    sc_status s = cl_sized(c, &query, sizeof query, CL_SIZE_THROUGH(sc_ledger_query, as_of), q,
                           "sc_ledger_query");
    if (s == SC_OK && totals)
        s = cl_sized(c, &t, sizeof t, CL_SIZE_THROUGH(sc_ledger_totals, photos), totals,
                     "sc_ledger_totals");
    if (s != SC_OK)
        return s;
    t.size = sizeof t;
    bool began = false;
    if ((s = st_snapshot_begin(c, &began)) == SC_OK)
        s = ledger_read(c, &query, fn, ctx, totals ? &t : NULL);
    st_snapshot_end(c, began);
    if (s == SC_OK && totals) {
        size_t size = totals->size;
        memcpy(totals, &t, size < sizeof t ? size : sizeof t);
        totals->size = size;
    }
    return s;
}

/* ---- statistics ---- */

typedef struct stats_run {
    sc_stats *st;
    const sc_stats_spec *spec;
    sc_err err;
} stats_run;

static sc_status stats_org(sc_client *c, void *ctx, const uint8_t id[SC_ID_LEN])
{
    stats_run *r = ctx;
    Scpb__EntityState *st = NULL;
    sc_status s = st_state_get(c, id, &st);
    if (s == SC_OK)
        s = sc_stats_org(r->st, st, &r->err);
    rp_state_free(c, st);
    return s;
}

static sc_status stats_entity(sc_client *c, void *ctx, const uint8_t id[SC_ID_LEN])
{
    stats_run *r = ctx;
    Scpb__EntityState *st = NULL;
    sc_status s = st_state_get(c, id, &st);
    if (s == SC_OK && sc_stats_spec_keeps(r->spec, st))
        s = sc_stats_add(r->st, st, &r->err);
    rp_state_free(c, st);
    return s;
}

/* The text into memory sc_json_free frees (jansson's allocator). */
static sc_status hand_out(sc_client *c, const char *text, size_t len, char **out)
{
    json_malloc_t m;
    json_free_t f;
    json_get_alloc_funcs(&m, &f);
    char *p = m(len + 1);
    if (!p)
        return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
    memcpy(p, text, len + 1);
    *out = p;
    return SC_OK;
}

static sc_status stats_read(sc_client *c, const sc_stats_query *q, char **text)
{
    sc_stats_spec spec;
    sc_status s = sc_stats_spec_parse(q, sc_date_from_ms(sc_env_now_ms(&c->env)), &spec, &c->err);
    if (s != SC_OK)
        return s;
    sc_ledger_src src = {c, src_state, src_person, src_ops};
    stats_run r = {NULL, &spec, {SC_OK, 0, ""}};
    if (sc_stats_new(&c->env, &src, spec.view.by, spec.view.period, spec.view.as_of, &r.st) !=
        SC_OK)
        return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
    if (spec.view.by == SC_STATS_ORG)
        s = st_entities_each(c, SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT, false, stats_org, &r);
    if (s == SC_OK)
        s = st_entities_each(c, SCPB__ENTITY_TYPE__ENTITY_INSPECTION, false, stats_entity, &r);
    if (s == SC_OK)
        s = st_entities_each(c, SCPB__ENTITY_TYPE__ENTITY_FINDING, false, stats_entity, &r);
    const sc_stats_group *g = NULL;
    size_t n = 0;
    if (s == SC_OK)
        s = sc_stats_groups(r.st, &g, &n, &r.err);
    char *out = NULL;
    size_t len = 0;
    if (s == SC_OK && (s = sc_stats_render(&c->env, g, n, &spec.view, &out, &len)) == SC_OK)
        s = hand_out(c, out, len, text);
    sc_free(&c->env, out);
    sc_stats_free(r.st);
    if (s != SC_OK && r.err.code != SC_OK)
        return cl_fail(c, s, r.err.reason, "%s", r.err.msg);
    return s;
}

sc_status sc_report_stats(sc_client *c, const sc_stats_query *q, char **text)
{
    if (text)
        *text = NULL;
    if (!c)
        return SC_ERR_INVALID_ARG;
    sc_err_clear(&c->err);
    if (!text)
        return cl_fail(c, SC_ERR_INVALID_ARG, 0, "sc_report_stats: text is required");
    sc_stats_query query = {sizeof query, NULL, NULL, NULL, NULL, NULL};
    sc_status s = SC_OK;
    if (q && (s = cl_sized(c, &query, sizeof query, CL_SIZE_THROUGH(sc_stats_query, as_of), q,
                           "sc_stats_query")) != SC_OK)
        return s;
    bool began = false;
    if ((s = st_snapshot_begin(c, &began)) == SC_OK)
        s = stats_read(c, &query, text);
    st_snapshot_end(c, began);
    return s;
}

/* ---- the period report ---- */

typedef struct period_run {
    sc_period *pr;
    sc_err err;
} period_run;

static sc_status period_org(sc_client *c, void *ctx, const uint8_t id[SC_ID_LEN])
{
    period_run *r = ctx;
    Scpb__EntityState *st = NULL;
    sc_status s = st_state_get(c, id, &st);
    if (s == SC_OK)
        s = sc_period_org(r->pr, st, &r->err);
    rp_state_free(c, st);
    return s;
}

static sc_status period_entity(sc_client *c, void *ctx, const uint8_t id[SC_ID_LEN])
{
    period_run *r = ctx;
    Scpb__EntityState *st = NULL;
    sc_status s = st_state_get(c, id, &st);
    if (s == SC_OK)
        s = sc_period_add(r->pr, st, &r->err);
    rp_state_free(c, st);
    return s;
}

static sc_status period_read(sc_client *c, const sc_period_query *q, char **html)
{
    int64_t now = sc_env_now_ms(&c->env);
    sc_period_spec spec;
    sc_status s = sc_period_spec_parse(q, sc_date_from_ms(now), &spec, &c->err);
    if (s != SC_OK)
        return s;
    if (!q->org)
        return cl_fail(c, SC_ERR_INVALID_ARG, 0, "a period report needs an org unit (its code)");
    if ((s = rp_resolve(c, q->org, SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT, "org unit", spec.org)) !=
        SC_OK)
        return s;
    spec.generated_ms = now;
    sc_ledger_src src = {c, src_state, src_person, src_ops};
    period_run r = {NULL, {SC_OK, 0, ""}};
    if (sc_period_new(&c->env, &src, &spec, &r.pr) != SC_OK)
        return cl_fail(c, SC_ERR_NOMEM, 0, "out of memory");
    s = st_entities_each(c, SCPB__ENTITY_TYPE__ENTITY_ORG_UNIT, false, period_org, &r);
    if (s == SC_OK)
        s = st_entities_each(c, SCPB__ENTITY_TYPE__ENTITY_INSPECTION, false, period_entity, &r);
    if (s == SC_OK)
        s = st_entities_each(c, SCPB__ENTITY_TYPE__ENTITY_FINDING, false, period_entity, &r);
    char *out = NULL;
    size_t len = 0;
    if (s == SC_OK && (s = sc_period_render(r.pr, &out, &len, &r.err)) == SC_OK)
        s = hand_out(c, out, len, html);
    sc_free(&c->env, out);
    sc_period_free(r.pr);
    if (s != SC_OK && r.err.code != SC_OK)
        return cl_fail(c, s, r.err.reason, "%s", r.err.msg);
    return s;
}

sc_status sc_report_period(sc_client *c, const sc_period_query *q, char **html)
{
    if (html)
        *html = NULL;
    if (!c)
        return SC_ERR_INVALID_ARG;
    sc_err_clear(&c->err);
    if (!q || !html)
        return cl_fail(c, SC_ERR_INVALID_ARG, 0, "sc_report_period: q and html are required");
    sc_period_query query;
    sc_status s = cl_sized(c, &query, sizeof query, CL_SIZE_THROUGH(sc_period_query, as_of), q,
                           "sc_period_query");
    if (s != SC_OK)
        return s;
    bool began = false;
    if ((s = st_snapshot_begin(c, &began)) == SC_OK)
        s = period_read(c, &query, html);
    st_snapshot_end(c, began);
    return s;
}
