/*
 * merge_graph.c: the fold's causal graph.  Ops are put in fold order
 * (HLC, author key, op id), found by id, linked to their deps, and given
 * closure rows: row i has bit j when op j is in op i's causal past, or is
 * i.  Nothing here looks at what an op says, only at how ops follow each
 * other, so the graph is the same for every kind.
 *
 * The closure is built in a topological order of the deps (Kahn), not in
 * fold order: input may hold ops with bad HLCs, which the rules judge
 * later, and a cycle (possible only with made-up ids) is refused.
 */
#include <string.h>

#include "ids.h"
#include "merge_internal.h"
#include "wire.pb-c.h"

/* ---- ordering ---- */

static int cmp_fold(const fold *f, size_t a, size_t b)
{
    const Scpb__Op *x = mg_op(f, a), *y = mg_op(f, b);
    if (x->hlc != y->hlc)
        return x->hlc < y->hlc ? -1 : 1;
    int c = memcmp(x->author.data, y->author.data, SC_KEY_LEN);
    if (c)
        return c;
    return memcmp(f->in[a].id, f->in[b].id, SC_HASH_LEN);
}

static int cmp_id(const fold *f, size_t a, size_t b)
{
    return memcmp(f->in[a].id, f->in[b].id, SC_HASH_LEN);
}

/* Heap sort: no recursion, no allocation, and a comparison with context. */
static void sort_idx(fold *f, size_t *v, size_t n, int (*cmp)(const fold *, size_t, size_t))
{
    if (n < 2)
        return;
    for (size_t start = n / 2; start-- > 0;) {
        size_t root = start;
        for (size_t child; (child = 2 * root + 1) < n; root = child) {
            if (child + 1 < n && cmp(f, v[child], v[child + 1]) < 0)
                child++;
            if (cmp(f, v[root], v[child]) >= 0)
                break;
            size_t t = v[root];
            v[root] = v[child];
            v[child] = t;
        }
    }
    for (size_t end = n - 1; end > 0; end--) {
        size_t t = v[0];
        v[0] = v[end];
        v[end] = t;
        size_t root = 0;
        for (size_t child; (child = 2 * root + 1) < end; root = child) {
            if (child + 1 < end && cmp(f, v[child], v[child + 1]) < 0)
                child++;
            if (cmp(f, v[root], v[child]) >= 0)
                break;
            t = v[root];
            v[root] = v[child];
            v[child] = t;
        }
    }
}

size_t mg_find_id(const fold *f, const uint8_t *id)
{
    size_t lo = 0, hi = f->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(f->in[f->byid[mid]].id, id, SC_HASH_LEN);
        if (c == 0)
            return f->byid[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return f->n;
}

/* ---- structure: ids, deps, closure ---- */

sc_status mg_graph_build(fold *f, sc_err *err)
{
    const size_t n = f->n;
    f->order = mg_alloc(f, n, sizeof *f->order);
    f->rank = mg_alloc(f, n, sizeof *f->rank);
    f->byid = mg_alloc(f, n, sizeof *f->byid);
    f->dep = mg_alloc(f, n, SC_DEPS_MAX * sizeof *f->dep);
    f->ndep = mg_alloc(f, n, sizeof *f->ndep);
    f->is_dep = mg_alloc(f, n, sizeof *f->is_dep);
    f->valid = mg_alloc(f, n, sizeof *f->valid);
    f->why = mg_alloc(f, n, sizeof *f->why);
    f->words = (n + 63) / 64;
    if (f->words && n > SIZE_MAX / f->words) {
        f->oom = true;
        return sc_err_set(err, SC_ERR_NOMEM, 0, "fold: closure matrix too large");
    }
    f->clo = mg_alloc(f, n * f->words, sizeof *f->clo);
    if (f->oom)
        return sc_err_set(err, SC_ERR_NOMEM, 0, "fold: out of memory");

    const Scpb__Op *first = mg_op(f, 0);
    for (size_t i = 0; i < n; i++) {
        const Scpb__Op *op = mg_op(f, i);
        if (!op || !f->in[i].id || op->entity.len != SC_ID_LEN ||
            memcmp(op->entity.data, first->entity.data, SC_ID_LEN) != 0 ||
            op->entity_type != first->entity_type || op->author.len != SC_KEY_LEN ||
            op->n_deps > SC_DEPS_MAX)
            return sc_err_set(err, SC_ERR_INVALID_ARG, 0,
                              "fold: op %zu is not an op of the same entity", i);
        f->order[i] = i;
        f->byid[i] = i;
    }
    f->type = first->entity_type;
    sort_idx(f, f->order, n, cmp_fold);
    for (size_t k = 0; k < n; k++)
        f->rank[f->order[k]] = k;
    sort_idx(f, f->byid, n, cmp_id);
    for (size_t k = 1; k < n; k++)
        if (cmp_id(f, f->byid[k - 1], f->byid[k]) == 0)
            return sc_err_set(err, SC_ERR_INVALID_ARG, 0, "fold: the same op appears twice");

    for (size_t i = 0; i < n; i++) {
        const Scpb__Op *op = mg_op(f, i);
        for (size_t d = 0; d < op->n_deps; d++) {
            size_t j = op->deps[d].len == SC_HASH_LEN ? mg_find_id(f, op->deps[d].data) : n;
            if (j == n) {
                char hex[SC_HASH_HEX] = "?";
                if (op->deps[d].len == SC_HASH_LEN)
                    sc_hex_encode(op->deps[d].data, SC_HASH_LEN, hex, sizeof hex);
                return sc_err_set(err, SC_ERR_REJECTED, SCPB__REASON__REASON_UNKNOWN_DEPENDENCY,
                                  "dep %.16s is not a known op of this entity", hex);
            }
            f->dep[i * SC_DEPS_MAX + f->ndep[i]++] = j;
            f->is_dep[j] = true;
        }
    }

    /*
     * Closure rows in a topological order (Kahn).  Fold order is topological
     * for valid ops, but input may hold ops with bad HLCs; this does not rely
     * on it.  A cycle cannot come from real ops (ids are hashes of the deps),
     * only from a caller passing made-up ids, which is refused.
     */
    size_t *pending = mg_alloc(f, n, sizeof *pending); /* unresolved deps per op */
    size_t *queue = mg_alloc(f, n, sizeof *queue);
    size_t *users = mg_alloc(f, n * SC_DEPS_MAX + 1, sizeof *users); /* reverse edges, CSR */
    size_t *uoff = mg_alloc(f, n + 1, sizeof *uoff);
    sc_status rc = SC_OK;
    if (f->oom) {
        rc = sc_err_set(err, SC_ERR_NOMEM, 0, "fold: out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t d = 0; d < f->ndep[i]; d++)
            uoff[f->dep[i * SC_DEPS_MAX + d] + 1]++;
    for (size_t i = 0; i < n; i++)
        uoff[i + 1] += uoff[i];
    {
        size_t *fill = queue; /* reuse as a cursor array before the queue is needed */
        for (size_t i = 0; i < n; i++)
            fill[i] = uoff[i];
        for (size_t i = 0; i < n; i++)
            for (size_t d = 0; d < f->ndep[i]; d++) {
                size_t j = f->dep[i * SC_DEPS_MAX + d];
                users[fill[j]++] = i;
            }
    }
    size_t head = 0, tail = 0;
    for (size_t k = 0; k < n; k++) {
        size_t i = f->order[k];
        pending[i] = f->ndep[i];
        if (pending[i] == 0)
            queue[tail++] = i;
    }
    while (head < tail) {
        size_t i = queue[head++];
        uint64_t *r = f->clo + i * f->words;
        r[i >> 6] |= UINT64_C(1) << (i & 63);
        for (size_t d = 0; d < f->ndep[i]; d++) {
            const uint64_t *s = mg_row(f, f->dep[i * SC_DEPS_MAX + d]);
            for (size_t w = 0; w < f->words; w++)
                r[w] |= s[w];
        }
        for (size_t u = uoff[i]; u < uoff[i + 1]; u++)
            if (--pending[users[u]] == 0)
                queue[tail++] = users[u];
    }
    if (tail != n)
        rc = sc_err_set(err, SC_ERR_INVALID_ARG, 0, "fold: the deps form a cycle");
done:
    sc_free(f->env, pending);
    sc_free(f->env, queue);
    sc_free(f->env, users);
    sc_free(f->env, uoff);
    return rc;
}
