/*
 * stats.c: the statistics fold (stats.h).
 *
 * Groups live in one array; a hash of their keys (an org unit's or
 * target's id, or a period's first day) finds them.  An org-unit group is
 * made for every org unit before any finding comes (sc_stats_org), and a
 * finding or check is counted in its target's unit and each unit above,
 * walking parents through the groups themselves, at most SC_ORG_DEPTH_MAX
 * steps (a damaged tree whose parents loop cannot spin the walk).
 * Targets come through a state cache (statecache.h) for their org unit;
 * score sheets too, to score checks.
 */
#include "stats.h"

#include <stdlib.h>
#include <string.h>

#include "date.h"
#include "governance.h"
#include "ledger.h"
#include "score.h"
#include "statecache.h"

struct sc_stats {
    const sc_env *env;
    int by, period;
    int32_t as_of;
    sc_state_cache *cache;
    sc_stats_group *g;
    size_t n, cap;
    size_t *slots; /* group index + 1; 0 empty */
    size_t nslots;
    bool ranked;
};

static uint64_t key_hash(const uint8_t id[SC_ID_LEN], int32_t day)
{
    uint64_t h = (uint64_t)(uint32_t)day * 0x9e3779b97f4a7c15ull;
    for (int i = 8; i < SC_ID_LEN; i++)
        h = (h ^ id[i]) * 0x100000001b3ull;
    return h;
}

static bool same_key(const sc_stats_group *g, const uint8_t id[SC_ID_LEN], int32_t day)
{
    return g->day == day && memcmp(g->id, id, SC_ID_LEN) == 0;
}

/* The slot of a key: its group's, or the empty one it would take. */
static size_t slot_of(const sc_stats *s, const uint8_t id[SC_ID_LEN], int32_t day)
{
    size_t k = (size_t)(key_hash(id, day) & (s->nslots - 1));
    while (s->slots[k] && !same_key(&s->g[s->slots[k] - 1], id, day))
        k = (k + 1) & (s->nslots - 1);
    return k;
}

static sc_status rehash(sc_stats *s, size_t nslots)
{
    size_t *ns = sc_calloc(s->env, nslots, sizeof *ns);
    if (!ns)
        return SC_ERR_NOMEM;
    sc_free(s->env, s->slots);
    s->slots = ns;
    s->nslots = nslots;
    for (size_t i = 0; i < s->n; i++)
        s->slots[slot_of(s, s->g[i].id, s->g[i].day)] = i + 1;
    return SC_OK;
}

/* The group of a key, made when new (*out NULL only on failure). */
static sc_status group_of(sc_stats *s, const uint8_t id[SC_ID_LEN], int32_t day, sc_stats_group **out,
                          sc_err *err)
{
    size_t k = slot_of(s, id, day);
    if (s->slots[k]) {
        *out = &s->g[s->slots[k] - 1];
        return SC_OK;
    }
    *out = NULL;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        sc_stats_group *ng = sc_realloc_array(s->env, s->g, cap, sizeof *ng);
        if (!ng)
            return sc_err_set(err, SC_ERR_NOMEM, 0, "stats: out of memory");
        s->g = ng;
        s->cap = cap;
    }
    if (2 * (s->n + 1) > s->nslots) {
        if (rehash(s, s->nslots * 2) != SC_OK)
            return sc_err_set(err, SC_ERR_NOMEM, 0, "stats: out of memory");
        k = slot_of(s, id, day);
    }
    sc_stats_group *g = &s->g[s->n];
    memset(g, 0, sizeof *g);
    memcpy(g->id, id, SC_ID_LEN);
    g->day = day;
    s->slots[k] = ++s->n;
    s->ranked = false;
    *out = g;
    return SC_OK;
}

sc_status sc_stats_new(const sc_env *env, const sc_ledger_src *src, int by, int period,
                       int32_t as_of, sc_stats **out)
{
    *out = NULL;
    sc_stats *s = sc_calloc(env, 1, sizeof *s);
    if (!s)
        return SC_ERR_NOMEM;
    s->env = env;
    s->by = by;
    s->period = period;
    s->as_of = as_of;
    s->nslots = 128;
    s->slots = sc_calloc(env, s->nslots, sizeof *s->slots);
    if (!s->slots || sc_state_cache_new(env, src->state, src->ctx, &s->cache) != SC_OK) {
        sc_stats_free(s);
        return SC_ERR_NOMEM;
    }
    *out = s;
    return SC_OK;
}

void sc_stats_free(sc_stats *s)
{
    if (!s)
        return;
    sc_state_cache_free(s->cache);
    sc_free(s->env, s->g);
    sc_free(s->env, s->slots);
    sc_free(s->env, s);
}

int32_t sc_stats_bucket(int period, int32_t day)
{
    int y, m, d;
    int32_t out = day;
    switch (period) {
    case SC_PERIOD_WEEK:
        /* Day 0 (1970-01-01) was a Thursday: Monday-based weekday is (day + 3) mod 7. */
        return day - (int32_t)(((day + 3) % 7 + 7) % 7);
    case SC_PERIOD_MONTH:
        sc_date_to_civil(day, &y, &m, &d);
        sc_date_from_civil(y, m, 1, &out);
        return out;
    case SC_PERIOD_QUARTER:
        sc_date_to_civil(day, &y, &m, &d);
        sc_date_from_civil(y, m - (m - 1) % 3, 1, &out);
        return out;
    default:
        return day;
    }
}

static void copy_text(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
}

sc_status sc_stats_org(sc_stats *s, const Scpb__EntityState *st, sc_err *err)
{
    if (s->by != SC_STATS_ORG || st->kind_case != SCPB__ENTITY_STATE__KIND_ORG || st->voided ||
        !st->has_id || st->id.len != SC_ID_LEN)
        return SC_OK;
    sc_stats_group *g;
    sc_status rc = group_of(s, st->id.data, 0, &g, err);
    if (rc != SC_OK)
        return rc;
    copy_text(g->code, sizeof g->code, st->org->code);
    copy_text(g->name, sizeof g->name, st->org->name);
    g->has_parent = st->org->has_parent && st->org->parent.len == SC_ID_LEN;
    if (g->has_parent)
        memcpy(g->parent, st->org->parent.data, SC_ID_LEN);
    return SC_OK;
}

/* Add the counts of one finding or check to f. */
static void count_finding(const sc_stats *s, const Scpb__EntityState *st, sc_stats_figs *f)
{
    const Scpb__FindingState *fs = st->finding;
    sc_gov_policy pol;
    sc_gov_policy_default(&pol);
    sc_gov_flags fl;
    sc_gov_flags_of(st, &pol, s->as_of, &fl);
    bool closed = fs->status == SCPB__FINDING_STATUS__FINDING_CLOSED;
    f->findings++;
    f->general += fs->grade == SCPB__GRADE__GRADE_GENERAL;
    f->major += fs->grade == SCPB__GRADE__GRADE_MAJOR;
    f->look_backs += fs->n_look_backs;
    f->reopened += fs->reopen_count > 0;
    f->ever_closed += closed || fs->reopen_count > 0;
    if (!closed) {
        f->overdue += fl.late_days > 0;
        return;
    }
    f->closed++;
    f->on_time += fl.overdue_days == 0;
    f->late += fl.overdue_days > 0;
    int32_t found = sc_date_from_ms((int64_t)(st->created_hlc >> 16));
    int32_t shut = sc_date_from_ms((int64_t)(fs->closed_hlc >> 16));
    f->close_days += shut > found ? (uint64_t)(shut - found) : 0;
}

static sc_status count_check(sc_stats *s, const Scpb__EntityState *st, sc_stats_figs *f,
                             sc_err *err)
{
    const Scpb__InspectionState *in = st->inspection;
    f->checks++;
    if ((unsigned)in->kind < SC_STATS_KINDS)
        f->by_kind[in->kind]++;
    if ((unsigned)in->disclosure < SC_STATS_DISCLOSURES)
        f->by_disclosure[in->disclosure]++;
    if (in->status != SCPB__INSPECTION_STATUS__INSPECTION_SUBMITTED)
        return SC_OK;
    f->submitted++;
    const Scpb__EntityState *t;
    sc_status rc = sc_state_cache_get(s->cache, &in->template_, in->has_template_, &t, err);
    sc_score sc;
    if (rc != SC_OK || !t || t->kind_case != SCPB__ENTITY_STATE__KIND_TEMPLATE ||
        sc_score_inspection(t->template_, in, &sc) != SC_OK || !sc.complete)
        return rc;
    f->scored++;
    f->score_sum += sc.total;
    f->passed += sc.passed;
    return SC_OK;
}

/* The counts of st into g's figures. */
static sc_status count(sc_stats *s, const Scpb__EntityState *st, sc_stats_figs *f, sc_err *err)
{
    if (st->kind_case == SCPB__ENTITY_STATE__KIND_FINDING) {
        count_finding(s, st, f);
        return SC_OK;
    }
    return count_check(s, st, f, err);
}

/* Count st in the target's org unit and every unit above it. */
static sc_status add_to_orgs(sc_stats *s, const Scpb__EntityState *st, const uint8_t org[SC_ID_LEN],
                             sc_err *err)
{
    uint8_t cur[SC_ID_LEN];
    memcpy(cur, org, SC_ID_LEN);
    for (int depth = 0; depth < SC_ORG_DEPTH_MAX; depth++) {
        size_t k = slot_of(s, cur, 0);
        if (!s->slots[k])
            return SC_OK; /* an org unit the source did not give: the walk stops there */
        sc_stats_group *g = &s->g[s->slots[k] - 1];
        sc_status rc = count(s, st, &g->f, err);
        if (rc != SC_OK || !g->has_parent)
            return rc;
        memcpy(cur, g->parent, SC_ID_LEN);
    }
    return SC_OK;
}

sc_status sc_stats_add(sc_stats *s, const Scpb__EntityState *st, sc_err *err)
{
    const ProtobufCBinaryData *tid;
    protobuf_c_boolean has;
    if (st->voided)
        return SC_OK;
    if (st->kind_case == SCPB__ENTITY_STATE__KIND_FINDING) {
        tid = &st->finding->target;
        has = st->finding->has_target;
    } else if (st->kind_case == SCPB__ENTITY_STATE__KIND_INSPECTION) {
        tid = &st->inspection->target;
        has = st->inspection->has_target;
    } else {
        return SC_OK;
    }
    const Scpb__EntityState *t;
    sc_status rc = sc_state_cache_get(s->cache, tid, has, &t, err);
    if (rc != SC_OK || !t || t->kind_case != SCPB__ENTITY_STATE__KIND_TARGET)
        return rc;
    sc_stats_group *g;
    if (s->by == SC_STATS_ORG) {
        if (!t->target->has_org || t->target->org.len != SC_ID_LEN)
            return SC_OK;
        return add_to_orgs(s, st, t->target->org.data, err);
    }
    if (s->by == SC_STATS_TARGET) {
        if ((rc = group_of(s, tid->data, 0, &g, err)) != SC_OK)
            return rc;
        copy_text(g->code, sizeof g->code, t->target->code);
        copy_text(g->name, sizeof g->name, t->target->name);
    } else {
        static const uint8_t zero[SC_ID_LEN];
        int32_t day = sc_date_from_ms((int64_t)(st->created_hlc >> 16));
        if ((rc = group_of(s, zero, sc_stats_bucket(s->period, day), &g, err)) != SC_OK)
            return rc;
    }
    return count(s, st, &g->f, err);
}

void sc_stats_rates_of(const sc_stats_figs *f, sc_stats_rates *out)
{
    out->avg_score_x10 = f->scored ? (f->score_sum * 10 + (int64_t)f->scored / 2) / (int64_t)f->scored : -1;
    out->pass_permille = f->scored ? (int32_t)((f->passed * 1000 + f->scored / 2) / f->scored) : -1;
    out->rect_permille = f->findings ? (int32_t)((f->closed * 1000 + f->findings / 2) / f->findings) : -1;
    out->close_days_x10 =
        f->closed ? (int64_t)((f->close_days * 10 + f->closed / 2) / f->closed) : -1;
    out->reopen_permille =
        f->ever_closed ? (int32_t)((f->reopened * 1000 + f->ever_closed / 2) / f->ever_closed) : -1;
}

/* ---- order and ranks ---- */

static int by_code(const void *a, const void *b)
{
    const sc_stats_group *x = a, *y = b;
    int c = strcmp(x->code, y->code);
    return c ? c : memcmp(x->id, y->id, SC_ID_LEN);
}

static int by_day(const void *a, const void *b)
{
    const sc_stats_group *x = a, *y = b;
    return (x->day > y->day) - (x->day < y->day);
}

/* Rank siblings (same parent, or both roots) by 整改率, highest first; no findings: unranked. */
static void rank_siblings(sc_stats *s)
{
    for (size_t i = 0; i < s->n; i++) {
        sc_stats_group *g = &s->g[i];
        sc_stats_rates r;
        sc_stats_rates_of(&g->f, &r);
        g->rank = 0;
        g->siblings = 0;
        if (r.rect_permille < 0)
            continue;
        uint32_t better = 0, ranked = 0;
        for (size_t j = 0; j < s->n; j++) {
            const sc_stats_group *h = &s->g[j];
            bool sib = h->has_parent == g->has_parent &&
                       (!g->has_parent || memcmp(h->parent, g->parent, SC_ID_LEN) == 0);
            sc_stats_rates q;
            sc_stats_rates_of(&h->f, &q);
            if (!sib || q.rect_permille < 0)
                continue;
            ranked++;
            better += q.rect_permille > r.rect_permille;
        }
        g->rank = better + 1;
        g->siblings = ranked;
    }
}

/* Org units in tree order: each after its parent, siblings by code; depth set. */
static sc_status tree_order(sc_stats *s, sc_err *err)
{
    qsort(s->g, s->n, sizeof *s->g, by_code);
    if (rehash(s, s->nslots) != SC_OK)
        return sc_err_set(err, SC_ERR_NOMEM, 0, "stats: out of memory");
    sc_stats_group *out = sc_calloc(s->env, s->n ? s->n : 1, sizeof *out);
    bool *done = sc_calloc(s->env, s->n ? s->n : 1, sizeof *done);
    if (!out || !done) {
        sc_free(s->env, out);
        sc_free(s->env, done);
        return sc_err_set(err, SC_ERR_NOMEM, 0, "stats: out of memory");
    }
    size_t m = 0;
    /* Roots (and units whose parent is not a group) first, then each placed unit's children
     * right after it: a depth-first walk by repeated passes over the sorted units. */
    for (size_t i = 0; i < s->n; i++) {
        bool orphan = !s->g[i].has_parent || !s->slots[slot_of(s, s->g[i].parent, 0)];
        if (!orphan || done[i])
            continue;
        done[i] = true;
        out[m] = s->g[i];
        out[m++].depth = 0;
        for (size_t at = m - 1; at < m; at++) {
            size_t insert = at + 1;
            for (size_t j = 0; j < s->n; j++) {
                if (done[j] || !s->g[j].has_parent ||
                    memcmp(s->g[j].parent, out[at].id, SC_ID_LEN) != 0)
                    continue;
                done[j] = true;
                memmove(&out[insert + 1], &out[insert], (m - insert) * sizeof *out);
                out[insert] = s->g[j];
                out[insert].depth = out[at].depth + 1;
                insert++;
                m++;
            }
        }
    }
    /* Units in a parent loop have no root above them: after the rest, at depth 0. */
    for (size_t i = 0; i < s->n; i++)
        if (!done[i])
            out[m++] = s->g[i];
    memcpy(s->g, out, s->n * sizeof *out);
    sc_free(s->env, out);
    sc_free(s->env, done);
    return rehash(s, s->nslots) == SC_OK ? SC_OK
                                         : sc_err_set(err, SC_ERR_NOMEM, 0, "stats: out of memory");
}

sc_status sc_stats_groups(sc_stats *s, const sc_stats_group **out, size_t *n, sc_err *err)
{
    *out = NULL;
    *n = 0;
    if (!s->ranked) {
        sc_status rc = SC_OK;
        if (s->by == SC_STATS_ORG) {
            rank_siblings(s);
            rc = tree_order(s, err);
        } else {
            qsort(s->g, s->n, sizeof *s->g, s->by == SC_STATS_TARGET ? by_code : by_day);
            rc = rehash(s, s->nslots) == SC_OK
                     ? SC_OK
                     : sc_err_set(err, SC_ERR_NOMEM, 0, "stats: out of memory");
        }
        if (rc != SC_OK)
            return rc;
        s->ranked = true;
    }
    *out = s->g;
    *n = s->n;
    return SC_OK;
}
