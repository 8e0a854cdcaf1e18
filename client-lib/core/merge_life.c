/*
 * merge_life.c: the lifecycle, the register of an entity's status.
 *
 * A finding's status (open, submitted, verified, closed) and an
 * inspection's (draft, submitted) are written by the create op and by every
 * valid transition.  A transition is judged against the status in effect
 * in its own causal past, so each op needs the lifecycle frontier within
 * its past: life[i] memoizes it per op, built from the deps' frontiers,
 * which costs O(n * width^2) instead of O(n^2 * writes).  A frontier
 * resolves to the safest finding status (open < submitted < verified <
 * closed: a failing revisit or a reopen beats a concurrent closure) and to
 * the furthest inspection status; overruled writes raise a status conflict.
 */
#include <string.h>

#include "merge_internal.h"
#include "names.h"

/* Finding statuses resolve to the safest; inspection statuses to the furthest. */
static bool life_better(const fold *f, size_t a, size_t b)
{
    int ra = f->lres[a], rb = f->lres[b];
    if (ra != rb)
        return f->type == SCPB__ENTITY_TYPE__ENTITY_FINDING ? ra < rb : ra > rb;
    return f->rank[a] > f->rank[b];
}

/*
 * The lifecycle frontier within the strict past of op i, from the memoized
 * frontiers of its deps.  Written to f->scratch; returns its size.
 */
static size_t life_past(fold *f, size_t i)
{
    size_t m = 0;
    for (size_t d = 0; d < f->ndep[i]; d++) {
        size_t j = f->dep[i * SC_DEPS_MAX + d];
        for (size_t k = 0; k < f->llen[j]; k++) {
            size_t w = f->lpool[f->loff[j] + k];
            bool seen = false;
            for (size_t x = 0; x < m && !seen; x++)
                seen = f->scratch[x] == w;
            if (!seen)
                f->scratch[m++] = w;
        }
    }
    /* Keep the maximal ones. */
    size_t out = 0;
    for (size_t a = 0; a < m; a++) {
        bool dominated = false;
        for (size_t b = 0; b < m && !dominated; b++)
            dominated = a != b && mg_in_past(f, f->scratch[a], f->scratch[b]);
        if (!dominated)
            f->scratch[out++] = f->scratch[a];
    }
    return out;
}

/* The winning write of a frontier (n if empty). */
size_t mg_life_winner(fold *f, const size_t *front, size_t m)
{
    size_t best = f->n;
    for (size_t k = 0; k < m; k++)
        if (best == f->n || life_better(f, front[k], best))
            best = front[k];
    return best;
}

static void life_store(fold *f, size_t i, const size_t *front, size_t m)
{
    if (f->lpool_n + m > f->lpool_cap) {
        size_t cap = f->lpool_cap ? f->lpool_cap * 2 : 64;
        while (cap < f->lpool_n + m)
            cap *= 2;
        size_t *np = sc_realloc_array(f->env, f->lpool, cap, sizeof *np);
        if (!np) {
            f->oom = true;
            f->llen[i] = 0;
            return;
        }
        f->lpool = np;
        f->lpool_cap = cap;
    }
    f->loff[i] = f->lpool_n;
    f->llen[i] = m;
    if (m)
        memcpy(f->lpool + f->lpool_n, front, m * sizeof *front);
    f->lpool_n += m;
}

/* The status of the lifecycle in op i's past, or -1 when nothing is there. */
int mg_life_status_past(fold *f, size_t i, size_t *winner)
{
    size_t m = life_past(f, i);
    size_t w = mg_life_winner(f, f->scratch, m);
    *winner = w;
    return w == f->n ? -1 : f->lres[w];
}

static const char *status_name(const fold *f, int st)
{
    const char *s = f->type == SCPB__ENTITY_TYPE__ENTITY_FINDING
                        ? sc_name_of(&sc_names_finding_status, st)
                        : sc_name_of(&sc_names_inspection_status, st);
    return s ? s : "?";
}

bool mg_is_lifecycle_type(Scpb__EntityType t)
{
    return t == SCPB__ENTITY_TYPE__ENTITY_FINDING || t == SCPB__ENTITY_TYPE__ENTITY_INSPECTION;
}

void mg_life_write(fold *f, size_t i, int result, size_t verifier)
{
    f->lw[i] = true;
    f->lres[i] = result;
    f->lver[i] = verifier;
}

/* Memoize op i's lifecycle frontier: itself when it writes the status, else its past's. */
void mg_life_record(fold *f, size_t i)
{
    if (f->lw[i]) {
        life_store(f, i, &i, 1);
    } else {
        size_t m = f->create == i ? 0 : life_past(f, i);
        life_store(f, i, f->scratch, m);
    }
}

/* The lifecycle frontier over every op: the maximal valid lifecycle writes. */
size_t mg_life_final(fold *f, size_t *front)
{
    size_t m = 0;
    for (size_t i = 0; i < f->n; i++) {
        if (!f->lw[i] || !f->valid[i])
            continue;
        bool dominated = false;
        for (size_t j = 0; j < f->n && !dominated; j++)
            dominated = f->lw[j] && f->valid[j] && mg_in_past(f, i, j);
        if (!dominated)
            front[m++] = i;
    }
    /* In fold order, so conflict listings are canonical. */
    for (size_t a = 1; a < m; a++)
        for (size_t b = a; b > 0 && f->rank[front[b - 1]] > f->rank[front[b]]; b--) {
            size_t t = front[b];
            front[b] = front[b - 1];
            front[b - 1] = t;
        }
    return m;
}

void mg_life_conflict(fold *f, Scpb__EntityState *st, const size_t *front, size_t m, size_t win)
{
    const char **vals = mg_alloc(f, m + 1, sizeof *vals);
    size_t *ops = mg_alloc(f, m + 1, sizeof *ops);
    if (vals && ops) {
        size_t nv = 0;
        vals[nv] = status_name(f, f->lres[win]);
        ops[nv++] = win;
        for (size_t k = 0; k < m; k++)
            if (front[k] != win && f->lres[front[k]] != f->lres[win]) {
                vals[nv] = status_name(f, f->lres[front[k]]);
                ops[nv++] = front[k];
            }
        if (nv > 1)
            mg_add_conflict(f, st, SCPB__FIELD__FIELD_STATUS, NULL, vals, ops, nv);
    }
    sc_free(f->env, vals);
    sc_free(f->env, ops);
}
