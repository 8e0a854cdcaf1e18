/*
 * merge.c: the deterministic fold of an entity's ops into its state.
 *
 * Invariants (see merge.h for the rules themselves):
 *  - The output depends only on the set of (id, op) pairs: inputs are sorted
 *    into fold order (HLC, author, id) before anything else looks at them,
 *    every list in the state has a canonical order, and no clock, address or
 *    arrival order leaks in.
 *  - Every op is judged against its own causal past.  Ops are visited in
 *    fold order; a valid op's deps have smaller HLCs and are valid, so its
 *    whole past has been visited before it.  An op that depends on an
 *    invalid op is itself invalid, which keeps that true for adversarial
 *    input as well.
 *  - Registers: the frontier of a register within a set of ops is the set of
 *    its writes that no other write in the set has in its causal past.  For
 *    the final state the frontier is taken over all ops with closure bit
 *    sets.  For lifecycle validity it is needed within the past of every op;
 *    there it is memoized per op (life[i] is the lifecycle frontier within
 *    op i's closure), which costs O(n * width^2) instead of O(n^2 * writes).
 *
 * Allocation failures set a sticky flag; the fold finishes its current step
 * and returns SC_ERR_NOMEM with nothing allocated.
 */
#include "merge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "date.h"
#include "ids.h"
#include "names.h"
#include "wire.pb-c.h"

/* ---- the fold's working set ---- */

typedef struct reg_write {
    size_t op;                     /* input index of the writer */
    const char *text;              /* canonical value text; points into the op or into owned */
    char *owned;                   /* formatted text we allocated, else NULL */
    const Scpb__ItemResult *item;  /* FIELD_ITEM: the result written, borrowed from the op */
    bool late;                     /* FIELD_ITEM: an item result the submission did not cover */
} reg_write;

typedef struct reg {
    Scpb__Field field;
    const char *item_code; /* FIELD_ITEM only; borrowed from an op */
    reg_write *w;
    size_t n, cap;
} reg;

typedef struct fold {
    const sc_env *env;
    const sc_users *users; /* who devices speak for; NULL: each key its own person */
    sc_status users_rc;    /* the first failure of users->user_of, else SC_OK */
    const sc_fold_input *in;
    size_t n;
    bool oom;

    size_t *order;    /* fold order: order[k] is an input index */
    size_t *rank;     /* rank[i]: position of input i in fold order */
    size_t *byid;     /* input indices sorted by op id, for dep lookup */
    size_t *dep;      /* n * SC_DEPS_MAX dep indices */
    size_t *ndep;     /* deps per op */
    uint64_t *clo;    /* closure rows: n rows of `words` words; row i has bit j if j is in i's past or j == i */
    size_t words;
    bool *valid;
    const char **why;
    bool *is_dep;     /* some op names this one as a dep */
    bool *voided;     /* a valid void names this op (filled after judging) */

    Scpb__EntityType type;
    size_t create;    /* input index of the valid create, or n */

    /* lifecycle (finding status, inspection status) */
    bool *lw;          /* op i is a valid lifecycle write */
    int *lres;         /* its resulting status */
    size_t *lver;      /* finding: the op whose author verified (n if none) */
    size_t *loff;      /* life[i] = lpool[loff[i] .. loff[i] + llen[i]) */
    size_t *llen;
    size_t *lpool;
    size_t lpool_n, lpool_cap;
    size_t *scratch;   /* n entries */

    /* registers */
    reg *regs;
    size_t nregs, regs_cap;

    /* per-kind bookkeeping */
    size_t *voids;     /* valid whole-entity voids */
    size_t nvoids;
    size_t *reports;   /* valid rectification reports (and a fixed-on-spot create) */
    size_t nreports;
    size_t *submits;   /* valid inspection submissions */
    size_t nsubmits;
} fold;

#define BIT(row, j) ((row)[(j) >> 6] >> ((j)&63) & 1u)

static const uint64_t *row(const fold *f, size_t i)
{
    return f->clo + i * f->words;
}

/* j is in the causal past of i (strictly). */
static bool in_past(const fold *f, size_t j, size_t i)
{
    return j != i && BIT(row(f, i), j);
}

static void *falloc(fold *f, size_t n, size_t size)
{
    void *p = sc_calloc(f->env, n ? n : 1, size);
    if (!p)
        f->oom = true;
    return p;
}

static const Scpb__Op *op_of(const fold *f, size_t i)
{
    return f->in[i].op;
}

static const uint8_t *author_of(const fold *f, size_t i)
{
    return op_of(f, i)->author.data;
}

/*
 * The person behind a device key, as 1 + SC_KEY_LEN bytes: 'u' and the
 * enrolled user's id, or 'k' and the key itself when no enrollment names it
 * (or no map was given), a person of its own.  A lookup failure is kept in
 * users_rc and fails the fold.
 */
#define PERSON_LEN (1 + SC_KEY_LEN)

static void person_of(fold *f, const uint8_t *key, uint8_t who[PERSON_LEN])
{
    memset(who, 0, PERSON_LEN);
    sc_status rc = SC_ERR_NOT_FOUND;
    if (f->users && f->users->user_of && f->users_rc == SC_OK)
        rc = f->users->user_of(f->users->ctx, key, who + 1);
    if (rc == SC_OK) {
        who[0] = 'u';
        memset(who + 1 + SC_ID_LEN, 0, SC_KEY_LEN - SC_ID_LEN);
        return;
    }
    if (rc != SC_ERR_NOT_FOUND && f->users_rc == SC_OK)
        f->users_rc = rc;
    who[0] = 'k';
    memcpy(who + 1, key, SC_KEY_LEN);
}

/* Ops a and b were made by the same person (DESIGN §10: separation of duties is by person). */
static bool same_person(fold *f, size_t a, size_t b)
{
    const uint8_t *ka = author_of(f, a), *kb = author_of(f, b);
    if (memcmp(ka, kb, SC_KEY_LEN) == 0)
        return true;
    uint8_t pa[PERSON_LEN], pb[PERSON_LEN];
    person_of(f, ka, pa);
    person_of(f, kb, pb);
    return memcmp(pa, pb, PERSON_LEN) == 0;
}

/* ---- ordering ---- */

static int cmp_fold(const fold *f, size_t a, size_t b)
{
    const Scpb__Op *x = op_of(f, a), *y = op_of(f, b);
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

static size_t find_id(const fold *f, const uint8_t *id)
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

static sc_status build_graph(fold *f, sc_err *err)
{
    const size_t n = f->n;
    f->order = falloc(f, n, sizeof *f->order);
    f->rank = falloc(f, n, sizeof *f->rank);
    f->byid = falloc(f, n, sizeof *f->byid);
    f->dep = falloc(f, n, SC_DEPS_MAX * sizeof *f->dep);
    f->ndep = falloc(f, n, sizeof *f->ndep);
    f->is_dep = falloc(f, n, sizeof *f->is_dep);
    f->valid = falloc(f, n, sizeof *f->valid);
    f->why = falloc(f, n, sizeof *f->why);
    f->words = (n + 63) / 64;
    if (f->words && n > SIZE_MAX / f->words) {
        f->oom = true;
        return sc_err_set(err, SC_ERR_NOMEM, 0, "fold: closure matrix too large");
    }
    f->clo = falloc(f, n * f->words, sizeof *f->clo);
    if (f->oom)
        return sc_err_set(err, SC_ERR_NOMEM, 0, "fold: out of memory");

    const Scpb__Op *first = op_of(f, 0);
    for (size_t i = 0; i < n; i++) {
        const Scpb__Op *op = op_of(f, i);
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
        const Scpb__Op *op = op_of(f, i);
        for (size_t d = 0; d < op->n_deps; d++) {
            size_t j = op->deps[d].len == SC_HASH_LEN ? find_id(f, op->deps[d].data) : n;
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
    size_t *pending = falloc(f, n, sizeof *pending); /* unresolved deps per op */
    size_t *queue = falloc(f, n, sizeof *queue);
    size_t *users = falloc(f, n * SC_DEPS_MAX + 1, sizeof *users); /* reverse edges, CSR */
    size_t *uoff = falloc(f, n + 1, sizeof *uoff);
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
            const uint64_t *s = row(f, f->dep[i * SC_DEPS_MAX + d]);
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

/* ---- registers ---- */

static reg *reg_get(fold *f, Scpb__Field field, const char *item_code)
{
    for (size_t r = 0; r < f->nregs; r++)
        if (f->regs[r].field == field &&
            (field != SCPB__FIELD__FIELD_ITEM || strcmp(f->regs[r].item_code, item_code) == 0))
            return &f->regs[r];
    if (f->nregs == f->regs_cap) {
        size_t cap = f->regs_cap ? f->regs_cap * 2 : 8;
        reg *nr = sc_realloc_array(f->env, f->regs, cap, sizeof *nr);
        if (!nr) {
            f->oom = true;
            return NULL;
        }
        f->regs = nr;
        f->regs_cap = cap;
    }
    reg *r = &f->regs[f->nregs++];
    memset(r, 0, sizeof *r);
    r->field = field;
    r->item_code = item_code;
    return r;
}

/* Record a write; `owned` (may be NULL) becomes the register's to free. */
static void reg_write_add(fold *f, Scpb__Field field, const char *item_code, size_t op,
                          const char *text, char *owned, const Scpb__ItemResult *item)
{
    reg *r = f->oom ? NULL : reg_get(f, field, item_code);
    if (!r) {
        sc_free(f->env, owned);
        return;
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 4;
        reg_write *nw = sc_realloc_array(f->env, r->w, cap, sizeof *nw);
        if (!nw) {
            f->oom = true;
            sc_free(f->env, owned);
            return;
        }
        r->w = nw;
        r->cap = cap;
    }
    r->w[r->n++] = (reg_write){.op = op, .text = text ? text : "", .owned = owned, .item = item};
}

/* The canonical text of an item result: "status" or "status:points". */
static void item_write(fold *f, size_t op, const Scpb__ItemResult *res)
{
    const char *st = sc_name_of(&sc_names_item_status, res->status);
    char buf[64];
    if (res->has_points)
        snprintf(buf, sizeof buf, "%s:%d", st ? st : "?", res->points);
    else
        snprintf(buf, sizeof buf, "%s", st ? st : "?");
    char *text = sc_memdup(f->env, buf, strlen(buf) + 1);
    if (!text)
        f->oom = true;
    else
        reg_write_add(f, SCPB__FIELD__FIELD_ITEM, res->item_code ? res->item_code : "", op, text,
                      text, res);
}

static void hex_write(fold *f, Scpb__Field field, size_t op, const ProtobufCBinaryData *ref,
                      bool has)
{
    if (!has || ref->len != SC_ID_LEN) {
        reg_write_add(f, field, NULL, op, "", NULL, NULL);
        return;
    }
    char *text = sc_alloc(f->env, SC_ID_HEX);
    if (!text) {
        f->oom = true;
        return;
    }
    sc_hex_encode(ref->data, SC_ID_LEN, text, SC_ID_HEX);
    reg_write_add(f, field, NULL, op, text, text, NULL);
}

static void day_write(fold *f, Scpb__Field field, size_t op, int32_t day, bool has)
{
    if (!has) {
        reg_write_add(f, field, NULL, op, "", NULL, NULL);
        return;
    }
    char *text = sc_alloc(f->env, 11);
    if (!text) {
        f->oom = true;
        return;
    }
    sc_date_format(day, text);
    reg_write_add(f, field, NULL, op, text, text, NULL);
}

/* The initial values a finding's create op writes to every field register. */
static void finding_create_writes(fold *f, size_t op, const Scpb__FindingCreate *c)
{
    const char *grade = sc_name_of(&sc_names_grade, c->grade);
    reg_write_add(f, SCPB__FIELD__FIELD_DESCRIPTION, NULL, op, c->description, NULL, NULL);
    reg_write_add(f, SCPB__FIELD__FIELD_GRADE, NULL, op, grade ? grade : "", NULL, NULL);
    day_write(f, SCPB__FIELD__FIELD_DEADLINE, op, c->deadline_day, c->has_deadline_day);
    hex_write(f, SCPB__FIELD__FIELD_RESPONSIBLE, op, &c->responsible, c->has_responsible);
    reg_write_add(f, SCPB__FIELD__FIELD_CATEGORY, NULL, op, c->category, NULL, NULL);
    reg_write_add(f, SCPB__FIELD__FIELD_LOCATION, NULL, op, c->location, NULL, NULL);
}

/*
 * The frontier of register r among the writes for which keep() holds: writes
 * that no other kept write has in its causal past.  `below` collects the
 * strict pasts of all kept writes, so each test is one bit.  Returns the
 * count; the frontier goes into out (indices into r->w) in fold order.
 */
static size_t reg_frontier(fold *f, const reg *r, bool (*keep)(const fold *, const reg_write *),
                           size_t *out)
{
    uint64_t *below = falloc(f, f->words, sizeof *below);
    if (!below)
        return 0;
    for (size_t k = 0; k < r->n; k++) {
        if (!keep(f, &r->w[k]))
            continue;
        size_t op = r->w[k].op;
        const uint64_t *s = row(f, op);
        for (size_t w = 0; w < f->words; w++)
            below[w] |= s[w] & (w == op >> 6 ? ~(UINT64_C(1) << (op & 63)) : ~UINT64_C(0));
    }
    size_t m = 0;
    for (size_t k = 0; k < r->n; k++)
        if (keep(f, &r->w[k]) && !BIT(below, r->w[k].op))
            out[m++] = k;
    sc_free(f->env, below);
    /* Insertion sort by fold rank: frontiers are small. */
    for (size_t a = 1; a < m; a++)
        for (size_t b = a; b > 0 && f->rank[r->w[out[b - 1]].op] > f->rank[r->w[out[b]].op]; b--) {
            size_t t = out[b];
            out[b] = out[b - 1];
            out[b - 1] = t;
        }
    return m;
}

static bool keep_not_voided_or_late(const fold *f, const reg_write *w);

/* ---- lifecycle ---- */

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
            dominated = a != b && in_past(f, f->scratch[a], f->scratch[b]);
        if (!dominated)
            f->scratch[out++] = f->scratch[a];
    }
    return out;
}

/* The winning write of a frontier (n if empty). */
static size_t life_winner(fold *f, const size_t *front, size_t m)
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

static void push_idx(fold *f, size_t **v, size_t *n, size_t i)
{
    /* Capacity is n of the fold: each list holds each op at most once. */
    if (!*v) {
        *v = falloc(f, f->n, sizeof **v);
        if (!*v)
            return;
    }
    (*v)[(*n)++] = i;
}

/* The status of the lifecycle in op i's past, or -1 when nothing is there. */
static int life_status_past(fold *f, size_t i, size_t *winner)
{
    size_t m = life_past(f, i);
    size_t w = life_winner(f, f->scratch, m);
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

/* The grade in effect within op i's past (LWW over the grade register's frontier there). */
static int grade_in_past(fold *f, size_t i)
{
    reg *r = NULL;
    for (size_t k = 0; k < f->nregs; k++)
        if (f->regs[k].field == SCPB__FIELD__FIELD_GRADE)
            r = &f->regs[k];
    if (!r)
        return SCPB__GRADE__GRADE_GENERAL;
    size_t best = r->n;
    for (size_t a = 0; a < r->n; a++) {
        size_t op = r->w[a].op;
        if (!in_past(f, op, i))
            continue;
        bool dominated = false;
        for (size_t b = 0; b < r->n && !dominated; b++)
            dominated = b != a && in_past(f, r->w[b].op, i) && in_past(f, op, r->w[b].op);
        if (!dominated && (best == r->n || f->rank[op] > f->rank[r->w[best].op]))
            best = a;
    }
    if (best == r->n)
        return SCPB__GRADE__GRADE_GENERAL;
    return strcmp(r->w[best].text, "major") == 0 ? SCPB__GRADE__GRADE_MAJOR
                                                 : SCPB__GRADE__GRADE_GENERAL;
}

/* ---- judging one op against its causal past ---- */

#define F_OPEN SCPB__FINDING_STATUS__FINDING_OPEN
#define F_SUBMITTED SCPB__FINDING_STATUS__FINDING_SUBMITTED
#define F_VERIFIED SCPB__FINDING_STATUS__FINDING_VERIFIED
#define F_CLOSED SCPB__FINDING_STATUS__FINDING_CLOSED
#define I_DRAFT SCPB__INSPECTION_STATUS__INSPECTION_DRAFT
#define I_SUBMITTED SCPB__INSPECTION_STATUS__INSPECTION_SUBMITTED

static bool voided_in_past(const fold *f, size_t i)
{
    for (size_t k = 0; k < f->nvoids; k++)
        if (in_past(f, f->voids[k], i))
            return true;
    return false;
}

static bool is_lifecycle_type(Scpb__EntityType t)
{
    return t == SCPB__ENTITY_TYPE__ENTITY_FINDING || t == SCPB__ENTITY_TYPE__ENTITY_INSPECTION;
}

static void life_write(fold *f, size_t i, int result, size_t verifier)
{
    f->lw[i] = true;
    f->lres[i] = result;
    f->lver[i] = verifier;
}

/* Finding transitions (DESIGN §4); returns NULL when valid. */
static const char *judge_finding(fold *f, size_t i, int past, size_t winner)
{
    const Scpb__Op *op = op_of(f, i);
    switch (op->body_case) {
    case SCPB__OP__BODY_RECTIFICATION_REPORT:
        if (past != F_OPEN && past != F_SUBMITTED)
            return "a rectification report needs an open finding";
        life_write(f, i, F_SUBMITTED, f->n);
        push_idx(f, &f->reports, &f->nreports, i);
        return NULL;
    case SCPB__OP__BODY_REVISIT:
        if (op->revisit->result == SCPB__REVISIT_RESULT__REVISIT_RECTIFIED) {
            if (past == F_OPEN)
                return "a revisit cannot verify a finding that nothing was reported on";
            if (past == F_SUBMITTED)
                life_write(f, i, F_VERIFIED, i);
            return NULL; /* verified or closed: a confirming look-back, no transition */
        }
        if (past == F_SUBMITTED || past == F_VERIFIED || past == F_CLOSED)
            life_write(f, i, F_OPEN, f->n);
        return NULL;
    case SCPB__OP__BODY_CLOSURE: {
        if (past != F_VERIFIED)
            return "closing (销号) needs a verified finding";
        if (grade_in_past(f, i) == SCPB__GRADE__GRADE_MAJOR) {
            size_t v = winner < f->n ? f->lver[winner] : f->n;
            if (v == f->n)
                return "closing a major hazard needs a verifying revisit";
            for (size_t k = 0; k < f->nreports; k++)
                if (in_past(f, f->reports[k], i) && same_person(f, f->reports[k], v))
                    return "a major hazard must be verified by someone other than the reporting unit";
        }
        life_write(f, i, F_CLOSED, winner < f->n ? f->lver[winner] : f->n);
        return NULL;
    }
    case SCPB__OP__BODY_REOPEN:
        if (past != F_VERIFIED && past != F_CLOSED)
            return "only a verified or closed finding can be reopened";
        life_write(f, i, F_OPEN, f->n);
        return NULL;
    case SCPB__OP__BODY_RESOLVE:
        if (op->resolve->field == SCPB__FIELD__FIELD_STATUS) {
            /* Settles a status conflict: keeps the outcome its past already has. */
            life_write(f, i, past, winner < f->n ? f->lver[winner] : f->n);
            return NULL;
        }
        if (op->resolve->field == SCPB__FIELD__FIELD_ITEM)
            return "findings have no checklist items";
        return NULL;
    default:
        return NULL;
    }
}

static const char *judge_inspection(fold *f, size_t i, int past)
{
    const Scpb__Op *op = op_of(f, i);
    switch (op->body_case) {
    case SCPB__OP__BODY_ITEM_RESULT:
        if (past != I_DRAFT)
            return "the inspection is submitted: amend it instead of scoring";
        return NULL;
    case SCPB__OP__BODY_INSPECTION_SUBMIT:
        if (past != I_DRAFT)
            return "the inspection is already submitted";
        life_write(f, i, I_SUBMITTED, f->n);
        push_idx(f, &f->submits, &f->nsubmits, i);
        return NULL;
    case SCPB__OP__BODY_INSPECTION_AMEND:
        if (past != I_SUBMITTED)
            return "only a submitted inspection is amended; edit the draft instead";
        return NULL;
    case SCPB__OP__BODY_RESOLVE:
        if (op->resolve->field != SCPB__FIELD__FIELD_ITEM)
            return "an inspection's conflicts are about checklist items";
        return NULL;
    default:
        return NULL;
    }
}

static bool is_void_of_entity(const Scpb__Op *op)
{
    return op->body_case == SCPB__OP__BODY_VOID_RECORD && !op->void_record->has_target_op;
}

static const char *judge(fold *f, size_t i)
{
    const Scpb__Op *op = op_of(f, i);
    /* HLC first: only with it does fold order visit the deps before the op. */
    for (size_t d = 0; d < f->ndep[i]; d++)
        if (op_of(f, f->dep[i * SC_DEPS_MAX + d])->hlc >= op->hlc)
            return "its HLC is not after the HLC of its deps";
    for (size_t d = 0; d < f->ndep[i]; d++)
        if (!f->valid[f->dep[i * SC_DEPS_MAX + d]])
            return "depends on an op that is not valid";
    if (sc_op_kind_is_create(op->body_case)) {
        if (f->create != f->n)
            return "the entity was already created";
        if (!sc_op_kind_applies(op->body_case, f->type))
            return "this op kind does not apply to the entity type";
        f->create = i;
        if (is_lifecycle_type(f->type)) {
            int init = I_DRAFT;
            if (f->type == SCPB__ENTITY_TYPE__ENTITY_FINDING) {
                bool spot = op->finding_create->has_fixed_on_spot && op->finding_create->fixed_on_spot;
                init = spot ? F_SUBMITTED : F_OPEN;
                if (spot)
                    push_idx(f, &f->reports, &f->nreports, i);
            }
            life_write(f, i, init, f->n);
        }
        return NULL;
    }
    if (!sc_op_kind_applies(op->body_case, f->type))
        return "this op kind does not apply to the entity type";
    if (f->create == f->n || !in_past(f, f->create, i))
        return "the entity is not created in its causal past";
    if (voided_in_past(f, i) && op->body_case != SCPB__OP__BODY_NOTE)
        return "the entity is voided";

    if (op->body_case == SCPB__OP__BODY_VOID_RECORD && op->void_record->has_target_op) {
        size_t t = op->void_record->target_op.len == SC_HASH_LEN
                       ? find_id(f, op->void_record->target_op.data)
                       : f->n;
        if (t == f->n || !in_past(f, t, i) || !f->valid[t])
            return "a void names an op that is not in its causal past";
        Scpb__Op__BodyCase k = op_of(f, t)->body_case;
        if (k != SCPB__OP__BODY_PHOTO_ATTACH && k != SCPB__OP__BODY_NOTE &&
            k != SCPB__OP__BODY_ITEM_RESULT)
            return "only a photo, a note or an item result can be voided on its own";
        return NULL;
    }
    if (is_void_of_entity(op)) {
        push_idx(f, &f->voids, &f->nvoids, i);
        return NULL;
    }
    if (!is_lifecycle_type(f->type))
        return NULL;

    size_t winner;
    int past = life_status_past(f, i, &winner);
    if (past < 0)
        return "the entity is not created in its causal past";
    if (f->type == SCPB__ENTITY_TYPE__ENTITY_FINDING)
        return judge_finding(f, i, past, winner);
    return judge_inspection(f, i, past);
}

/* After judging: the op's register writes and its memoized lifecycle frontier. */
static void record(fold *f, size_t i)
{
    const Scpb__Op *op = op_of(f, i);
    if (f->valid[i]) {
        switch (op->body_case) {
        case SCPB__OP__BODY_FINDING_CREATE:
            finding_create_writes(f, i, op->finding_create);
            break;
        case SCPB__OP__BODY_FIELD_EDIT:
            reg_write_add(f, op->field_edit->field, NULL, i, op->field_edit->value, NULL, NULL);
            break;
        case SCPB__OP__BODY_ITEM_RESULT:
            item_write(f, i, op->item_result);
            break;
        case SCPB__OP__BODY_INSPECTION_AMEND:
            for (size_t k = 0; k < op->inspection_amend->n_results; k++)
                item_write(f, i, op->inspection_amend->results[k]);
            break;
        case SCPB__OP__BODY_RESOLVE:
            if (op->resolve->field == SCPB__FIELD__FIELD_ITEM)
                item_write(f, i, op->resolve->result);
            else if (op->resolve->field != SCPB__FIELD__FIELD_STATUS)
                reg_write_add(f, op->resolve->field, NULL, i, op->resolve->value, NULL, NULL);
            break;
        default:
            break;
        }
    }
    if (!is_lifecycle_type(f->type))
        return;
    if (f->lw[i]) {
        life_store(f, i, &i, 1);
    } else {
        size_t m = f->create == i ? 0 : life_past(f, i);
        life_store(f, i, f->scratch, m);
    }
}

/* ---- building the state ---- */

static bool set_bytes(fold *f, ProtobufCBinaryData *dst, protobuf_c_boolean *has, const void *src,
                      size_t len)
{
    dst->data = sc_memdup(f->env, src, len);
    dst->len = dst->data ? len : 0;
    if (has)
        *has = dst->data != NULL;
    if (!dst->data)
        f->oom = true;
    return dst->data != NULL;
}

static void copy_bytes(fold *f, ProtobufCBinaryData *dst, protobuf_c_boolean *has,
                       const ProtobufCBinaryData *src, protobuf_c_boolean src_has)
{
    if (src_has && src->len)
        set_bytes(f, dst, has, src->data, src->len);
}

static char *str_dup(fold *f, const char *s)
{
    if (!s)
        return NULL;
    size_t len = strlen(s);
    char *d = sc_memdup(f->env, s, len + 1);
    if (!d)
        f->oom = true;
    return d;
}

/* Deep copy of a message through its encoding, allocated with the env. */
static void *msg_copy(fold *f, const ProtobufCMessage *m)
{
    if (!m)
        return NULL;
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = sc_alloc(f->env, len);
    if (!buf) {
        f->oom = true;
        return NULL;
    }
    protobuf_c_message_pack(m, buf);
    ProtobufCAllocator a;
    sc_env_pb_allocator(f->env, &a);
    ProtobufCMessage *c = protobuf_c_message_unpack(m->descriptor, &a, len, buf);
    sc_free(f->env, buf);
    if (!c)
        f->oom = true;
    return c;
}

static void *new_msg(fold *f, size_t size, void (*init)(void *))
{
    void *m = falloc(f, 1, size);
    if (m)
        init(m);
    return m;
}

static void init_org(void *m) { scpb__org_state__init(m); }
static void init_target(void *m) { scpb__target_state__init(m); }
static void init_user(void *m) { scpb__user_state__init(m); }
static void init_device(void *m) { scpb__device_state__init(m); }
static void init_template(void *m) { scpb__template_state__init(m); }
static void init_assignment(void *m) { scpb__assignment_state__init(m); }
static void init_inspection(void *m) { scpb__inspection_state__init(m); }
static void init_finding(void *m) { scpb__finding_state__init(m); }
static void init_attachment(void *m) { scpb__attachment__init(m); }
static void init_note(void *m) { scpb__note_entry__init(m); }
static void init_conflict(void *m) { scpb__conflict__init(m); }
static void init_state(void *m) { scpb__entity_state__init(m); }

static int cmp_bytes32(const void *a, const void *b)
{
    const ProtobufCBinaryData *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->data, y->data, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Insert a copy of h into a sorted list of unique hashes, keeping it canonical. */
static void add_unique(fold *f, ProtobufCBinaryData **v, size_t *n, const ProtobufCBinaryData *h)
{
    size_t lo = 0, hi = *n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_bytes32(&(*v)[mid], h);
        if (c == 0)
            return;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    ProtobufCBinaryData *nv = sc_realloc_array(f->env, *v, *n + 1, sizeof *nv);
    if (!nv) {
        f->oom = true;
        return;
    }
    *v = nv;
    ProtobufCBinaryData copy;
    if (!set_bytes(f, &copy, NULL, h->data, h->len))
        return;
    memmove(&nv[lo + 1], &nv[lo], (*n - lo) * sizeof *nv);
    nv[lo] = copy;
    (*n)++;
}

static void add_ids(fold *f, ProtobufCBinaryData **v, size_t *n, const ProtobufCBinaryData *src,
                    size_t nsrc)
{
    for (size_t k = 0; k < nsrc && !f->oom; k++)
        add_unique(f, v, n, &src[k]);
}

static bool op_voided(const fold *f, size_t t)
{
    return f->voided[t];
}

/* Mark every op a valid single-op void names. */
static void mark_voided(fold *f)
{
    for (size_t i = 0; i < f->n; i++) {
        const Scpb__Op *op = op_of(f, i);
        if (f->valid[i] && op->body_case == SCPB__OP__BODY_VOID_RECORD &&
            op->void_record->has_target_op) {
            size_t t = find_id(f, op->void_record->target_op.data);
            if (t < f->n)
                f->voided[t] = true;
        }
    }
}

static bool keep_not_voided_or_late(const fold *f, const reg_write *w)
{
    return !w->late && !op_voided(f, w->op);
}

/* Fill a conflict for register r if its frontier disagrees. */
static void add_conflict(fold *f, Scpb__EntityState *st, Scpb__Field field, const char *item_code,
                         const char **values, const size_t *ops, size_t m)
{
    Scpb__Conflict *c = new_msg(f, sizeof *c, init_conflict);
    if (!c)
        return;
    c->has_field = true;
    c->field = field;
    c->item_code = str_dup(f, item_code);
    c->values = falloc(f, m, sizeof *c->values);
    c->ops = falloc(f, m, sizeof *c->ops);
    if (c->values && c->ops) {
        for (size_t k = 0; k < m; k++) {
            c->values[k] = str_dup(f, values[k]);
            if (!c->values[k])
                break;
            c->n_values++;
            if (!set_bytes(f, &c->ops[k], NULL, f->in[ops[k]].id, SC_HASH_LEN))
                break;
            c->n_ops++;
        }
    }
    Scpb__Conflict **nv = sc_realloc_array(f->env, st->conflicts, st->n_conflicts + 1, sizeof *nv);
    if (!nv) {
        f->oom = true;
        ProtobufCAllocator a;
        sc_env_pb_allocator(f->env, &a);
        protobuf_c_message_free_unpacked(&c->base, &a);
        return;
    }
    st->conflicts = nv;
    st->conflicts[st->n_conflicts++] = c;
}

/*
 * Resolve register r into (winning write index or r->n) and raise its
 * conflict.  With late item results, each one the covered writes have not
 * seen is raised beside the value in effect.
 */
static size_t reg_resolve(fold *f, Scpb__EntityState *st, const reg *r)
{
    size_t *front = falloc(f, r->n + 1, sizeof *front);
    const char **vals = falloc(f, r->n + 2, sizeof *vals);
    size_t *ops = falloc(f, r->n + 2, sizeof *ops);
    size_t win = r->n;
    if (f->oom)
        goto done;
    size_t m = reg_frontier(f, r, keep_not_voided_or_late, front);
    if (m == 0 && f->oom)
        goto done;
    if (m > 0)
        win = front[m - 1];
    size_t nv = 0;
    if (win < r->n) {
        vals[nv] = r->w[win].text;
        ops[nv++] = r->w[win].op;
    }
    bool differ = false;
    for (size_t k = 0; k + 1 < m; k++) {
        const reg_write *w = &r->w[front[k]];
        if (strcmp(w->text, r->w[win].text) != 0) {
            differ = true;
            vals[nv] = w->text;
            ops[nv++] = w->op;
        }
    }
    /* Late results: not covered by the submission and not seen by any covered write. */
    for (size_t k = 0; k < r->n; k++) {
        const reg_write *w = &r->w[k];
        if (!w->late || op_voided(f, w->op))
            continue;
        bool seen = false;
        for (size_t j = 0; j < r->n && !seen; j++)
            seen = !r->w[j].late && in_past(f, w->op, r->w[j].op);
        if (!seen) {
            differ = true;
            vals[nv] = w->text;
            ops[nv++] = w->op;
        }
    }
    if (differ) {
        if (win == r->n) {
            /* Only late results: nothing in effect; show an empty value first. */
            for (size_t k = nv; k > 0; k--) {
                vals[k] = vals[k - 1];
                ops[k] = ops[k - 1];
            }
            vals[0] = "";
            ops[0] = f->create;
            nv++;
        }
        add_conflict(f, st, r->field, r->field == SCPB__FIELD__FIELD_ITEM ? r->item_code : NULL,
                     vals, ops, nv);
    }
done:
    sc_free(f->env, front);
    sc_free(f->env, vals);
    sc_free(f->env, ops);
    return win;
}

static int cmp_conflict(const void *a, const void *b)
{
    const Scpb__Conflict *x = *(Scpb__Conflict *const *)a, *y = *(Scpb__Conflict *const *)b;
    if (x->field != y->field)
        return x->field < y->field ? -1 : 1;
    return strcmp(x->item_code ? x->item_code : "", y->item_code ? y->item_code : "");
}

static int cmp_attachment(const void *a, const void *b)
{
    const Scpb__Attachment *x = *(Scpb__Attachment *const *)a, *y = *(Scpb__Attachment *const *)b;
    int c = cmp_bytes32(&x->sha256, &y->sha256);
    return c ? c : cmp_bytes32(&x->op, &y->op);
}

static void build_common(fold *f, Scpb__EntityState *st)
{
    const Scpb__Op *first = op_of(f, 0);
    set_bytes(f, &st->id, &st->has_id, first->entity.data, SC_ID_LEN);
    st->has_type = true;
    st->type = f->type;
    st->has_op_count = true;
    st->op_count = (uint32_t)f->n;
    uint64_t last = 0;
    for (size_t i = 0; i < f->n; i++)
        if (op_of(f, i)->hlc > last)
            last = op_of(f, i)->hlc;
    st->has_last_hlc = true;
    st->last_hlc = last;
    if (f->create < f->n) {
        set_bytes(f, &st->created_by, &st->has_created_by, author_of(f, f->create), SC_KEY_LEN);
        st->has_created_hlc = true;
        st->created_hlc = op_of(f, f->create)->hlc;
    }
    for (size_t k = 0; k < f->n && !f->oom; k++) {
        size_t i = f->byid[k];
        ProtobufCBinaryData id = {SC_HASH_LEN, (uint8_t *)(uintptr_t)f->in[i].id};
        if (!f->is_dep[i]) {
            ProtobufCBinaryData *nv =
                sc_realloc_array(f->env, st->heads, st->n_heads + 1, sizeof *nv);
            if (!nv) {
                f->oom = true;
                break;
            }
            st->heads = nv;
            if (set_bytes(f, &nv[st->n_heads], NULL, id.data, id.len))
                st->n_heads++;
        }
        if (!f->valid[i]) {
            ProtobufCBinaryData *nv =
                sc_realloc_array(f->env, st->invalid_ops, st->n_invalid_ops + 1, sizeof *nv);
            if (!nv) {
                f->oom = true;
                break;
            }
            st->invalid_ops = nv;
            if (set_bytes(f, &nv[st->n_invalid_ops], NULL, id.data, id.len))
                st->n_invalid_ops++;
        }
    }
    /* Voids, photos and notes, in fold order. */
    for (size_t k = 0; k < f->n && !f->oom; k++) {
        size_t i = f->order[k];
        const Scpb__Op *op = op_of(f, i);
        if (!f->valid[i])
            continue;
        if (op->body_case == SCPB__OP__BODY_VOID_RECORD) {
            if (op->void_record->has_target_op) {
                add_unique(f, &st->voided_ops, &st->n_voided_ops, &op->void_record->target_op);
            } else if (!st->voided) {
                st->has_voided = true;
                st->voided = true;
                st->void_reason = str_dup(f, op->void_record->reason);
            }
        }
    }
    for (size_t k = 0; k < f->n && !f->oom; k++) {
        size_t i = f->order[k];
        const Scpb__Op *op = op_of(f, i);
        if (!f->valid[i] || op_voided(f, i))
            continue;
        if (op->body_case == SCPB__OP__BODY_PHOTO_ATTACH) {
            const Scpb__PhotoAttach *p = op->photo_attach;
            Scpb__Attachment *a = new_msg(f, sizeof *a, init_attachment);
            Scpb__Attachment **nv =
                a ? sc_realloc_array(f->env, st->photos, st->n_photos + 1, sizeof *nv) : NULL;
            if (!nv) {
                f->oom = true;
                sc_free(f->env, a);
                break;
            }
            st->photos = nv;
            nv[st->n_photos++] = a;
            copy_bytes(f, &a->sha256, &a->has_sha256, &p->sha256, p->has_sha256);
            a->has_size = p->has_size;
            a->size = p->size;
            a->mime = str_dup(f, p->mime);
            a->has_captured_ms = p->has_captured_ms;
            a->captured_ms = p->captured_ms;
            a->caption = str_dup(f, p->caption);
            set_bytes(f, &a->op, &a->has_op, f->in[i].id, SC_HASH_LEN);
            set_bytes(f, &a->author, &a->has_author, author_of(f, i), SC_KEY_LEN);
            if (p->geo)
                a->geo = msg_copy(f, &p->geo->base);
        } else if (op->body_case == SCPB__OP__BODY_NOTE) {
            Scpb__NoteEntry *e = new_msg(f, sizeof *e, init_note);
            Scpb__NoteEntry **nv =
                e ? sc_realloc_array(f->env, st->notes, st->n_notes + 1, sizeof *nv) : NULL;
            if (!nv) {
                f->oom = true;
                sc_free(f->env, e);
                break;
            }
            st->notes = nv;
            nv[st->n_notes++] = e;
            set_bytes(f, &e->op, &e->has_op, f->in[i].id, SC_HASH_LEN);
            set_bytes(f, &e->author, &e->has_author, author_of(f, i), SC_KEY_LEN);
            e->has_hlc = true;
            e->hlc = op->hlc;
            e->text = str_dup(f, op->note->text);
        }
    }
    if (st->n_photos > 1)
        qsort(st->photos, st->n_photos, sizeof *st->photos, cmp_attachment);
}

static void build_admin(fold *f, Scpb__EntityState *st)
{
    if (f->create == f->n)
        return;
    const Scpb__Op *c = op_of(f, f->create);
    switch (c->body_case) {
    case SCPB__OP__BODY_ORG_CREATE: {
        Scpb__OrgState *s = new_msg(f, sizeof *s, init_org);
        if (!s)
            return;
        st->kind_case = SCPB__ENTITY_STATE__KIND_ORG;
        st->org = s;
        s->code = str_dup(f, c->org_create->code);
        s->name = str_dup(f, c->org_create->name);
        copy_bytes(f, &s->parent, &s->has_parent, &c->org_create->parent, c->org_create->has_parent);
        s->has_level = c->org_create->has_level;
        s->level = c->org_create->level;
        s->has_kind = c->org_create->has_kind;
        s->kind = c->org_create->kind;
        break;
    }
    case SCPB__OP__BODY_TARGET_CREATE: {
        Scpb__TargetState *s = new_msg(f, sizeof *s, init_target);
        if (!s)
            return;
        st->kind_case = SCPB__ENTITY_STATE__KIND_TARGET;
        st->target = s;
        const Scpb__TargetCreate *t = c->target_create;
        s->code = str_dup(f, t->code);
        s->name = str_dup(f, t->name);
        copy_bytes(f, &s->org, &s->has_org, &t->org, t->has_org);
        s->has_type = t->has_type;
        s->type = t->type;
        s->address = str_dup(f, t->address);
        break;
    }
    case SCPB__OP__BODY_USER_CREATE: {
        Scpb__UserState *s = new_msg(f, sizeof *s, init_user);
        if (!s)
            return;
        st->kind_case = SCPB__ENTITY_STATE__KIND_USER;
        st->user = s;
        const Scpb__UserCreate *u = c->user_create;
        s->login = str_dup(f, u->login);
        s->name = str_dup(f, u->name);
        s->has_role = u->has_role;
        s->role = u->role;
        copy_bytes(f, &s->org, &s->has_org, &u->org, u->has_org);
        break;
    }
    case SCPB__OP__BODY_DEVICE_ENROLL: {
        Scpb__DeviceState *s = new_msg(f, sizeof *s, init_device);
        if (!s)
            return;
        st->kind_case = SCPB__ENTITY_STATE__KIND_DEVICE;
        st->device = s;
        const Scpb__DeviceEnroll *d = c->device_enroll;
        copy_bytes(f, &s->user, &s->has_user, &d->user, d->has_user);
        copy_bytes(f, &s->key, &s->has_key, &d->key, d->has_key);
        s->label = str_dup(f, d->label);
        for (size_t k = 0; k < f->n; k++) {
            size_t i = f->order[k];
            const Scpb__Op *op = op_of(f, i);
            if (f->valid[i] && op->body_case == SCPB__OP__BODY_DEVICE_REVOKE) {
                s->has_revoked = true;
                s->revoked = true;
                s->revoke_reason = str_dup(f, op->device_revoke->reason);
                s->has_revoked_hlc = true;
                s->revoked_hlc = op->hlc;
                break;
            }
        }
        break;
    }
    case SCPB__OP__BODY_TEMPLATE_PUBLISH: {
        Scpb__TemplateState *s = new_msg(f, sizeof *s, init_template);
        if (!s)
            return;
        st->kind_case = SCPB__ENTITY_STATE__KIND_TEMPLATE;
        st->template_ = s;
        const Scpb__TemplatePublish *t = c->template_publish;
        s->code = str_dup(f, t->code);
        s->name = str_dup(f, t->name);
        s->has_version = t->has_version;
        s->version = t->version;
        s->has_pass_mark = t->has_pass_mark;
        s->pass_mark = t->pass_mark;
        s->items = falloc(f, t->n_items, sizeof *s->items);
        int64_t total = 0;
        for (size_t k = 0; s->items && k < t->n_items && !f->oom; k++) {
            s->items[k] = msg_copy(f, &t->items[k]->base);
            if (s->items[k])
                s->n_items++;
            total += t->items[k]->max_points;
        }
        s->has_max_total = true;
        s->max_total = total > INT32_MAX ? INT32_MAX : (int32_t)total;
        break;
    }
    case SCPB__OP__BODY_ASSIGNMENT_CREATE: {
        Scpb__AssignmentState *s = new_msg(f, sizeof *s, init_assignment);
        if (!s)
            return;
        st->kind_case = SCPB__ENTITY_STATE__KIND_ASSIGNMENT;
        st->assignment = s;
        const Scpb__AssignmentCreate *a = c->assignment_create;
        copy_bytes(f, &s->target, &s->has_target, &a->target, a->has_target);
        add_ids(f, &s->inspectors, &s->n_inspectors, a->inspectors, a->n_inspectors);
        s->has_kind = a->has_kind;
        s->kind = a->kind;
        s->has_disclosure = a->has_disclosure;
        s->disclosure = a->disclosure;
        s->has_due_day = a->has_due_day;
        s->due_day = a->due_day;
        copy_bytes(f, &s->template_, &s->has_template_, &a->template_, a->has_template_);
        s->note = str_dup(f, a->note);
        break;
    }
    default:
        break;
    }
}

/* The lifecycle frontier over every op: the maximal valid lifecycle writes. */
static size_t life_final(fold *f, size_t *front)
{
    size_t m = 0;
    for (size_t i = 0; i < f->n; i++) {
        if (!f->lw[i] || !f->valid[i])
            continue;
        bool dominated = false;
        for (size_t j = 0; j < f->n && !dominated; j++)
            dominated = f->lw[j] && f->valid[j] && in_past(f, i, j);
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

static void life_conflict(fold *f, Scpb__EntityState *st, const size_t *front, size_t m,
                          size_t win)
{
    const char **vals = falloc(f, m + 1, sizeof *vals);
    size_t *ops = falloc(f, m + 1, sizeof *ops);
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
            add_conflict(f, st, SCPB__FIELD__FIELD_STATUS, NULL, vals, ops, nv);
    }
    sc_free(f->env, vals);
    sc_free(f->env, ops);
}

static const reg *find_reg(const fold *f, Scpb__Field field)
{
    for (size_t r = 0; r < f->nregs; r++)
        if (f->regs[r].field == field)
            return &f->regs[r];
    return NULL;
}

static void add_evidence(fold *f, Scpb__FindingState *s, ProtobufCBinaryData *ev, size_t n)
{
    add_ids(f, &s->evidence, &s->n_evidence, ev, n);
}

static void build_finding(fold *f, Scpb__EntityState *st, size_t *front)
{
    Scpb__FindingState *s = new_msg(f, sizeof *s, init_finding);
    if (!s)
        return;
    st->kind_case = SCPB__ENTITY_STATE__KIND_FINDING;
    st->finding = s;
    const Scpb__FindingCreate *c = op_of(f, f->create)->finding_create;
    copy_bytes(f, &s->inspection, &s->has_inspection, &c->inspection, c->has_inspection);
    copy_bytes(f, &s->target, &s->has_target, &c->target, c->has_target);
    s->item_code = str_dup(f, c->item_code);
    s->has_fixed_on_spot = true;
    s->fixed_on_spot = c->has_fixed_on_spot && c->fixed_on_spot;
    s->has_source = c->has_source;
    s->source = c->source;

    /* Fields: each register's value in effect, and its conflict. */
    static const Scpb__Field fields[] = {
        SCPB__FIELD__FIELD_DESCRIPTION, SCPB__FIELD__FIELD_GRADE,    SCPB__FIELD__FIELD_DEADLINE,
        SCPB__FIELD__FIELD_RESPONSIBLE, SCPB__FIELD__FIELD_CATEGORY, SCPB__FIELD__FIELD_LOCATION};
    for (size_t k = 0; k < sizeof fields / sizeof fields[0] && !f->oom; k++) {
        const reg *r = find_reg(f, fields[k]);
        if (!r)
            continue;
        size_t w = reg_resolve(f, st, r);
        if (w == r->n)
            continue;
        const char *v = r->w[w].text;
        switch (fields[k]) {
        case SCPB__FIELD__FIELD_DESCRIPTION:
            s->description = str_dup(f, v);
            break;
        case SCPB__FIELD__FIELD_GRADE: {
            int g = SCPB__GRADE__GRADE_GENERAL;
            sc_name_parse(&sc_names_grade, v, &g);
            s->has_grade = true;
            s->grade = (Scpb__Grade)g;
            break;
        }
        case SCPB__FIELD__FIELD_DEADLINE: {
            int32_t day;
            if (v[0] && sc_date_parse(v, strlen(v), &day) == SC_OK) {
                s->has_deadline_day = true;
                s->deadline_day = day;
            }
            break;
        }
        case SCPB__FIELD__FIELD_RESPONSIBLE: {
            uint8_t id[SC_ID_LEN];
            if (v[0] && sc_hex_decode(v, strlen(v), id, SC_ID_LEN) == SC_OK)
                set_bytes(f, &s->responsible, &s->has_responsible, id, SC_ID_LEN);
            break;
        }
        case SCPB__FIELD__FIELD_CATEGORY:
            s->category = v[0] ? str_dup(f, v) : NULL;
            break;
        case SCPB__FIELD__FIELD_LOCATION:
            s->location = v[0] ? str_dup(f, v) : NULL;
            break;
        default:
            break;
        }
    }

    /* Lifecycle. */
    size_t m = life_final(f, front);
    size_t win = life_winner(f, front, m);
    if (win < f->n) {
        s->has_status = true;
        s->status = (Scpb__FindingStatus)f->lres[win];
        set_bytes(f, &s->status_op, &s->has_status_op, f->in[win].id, SC_HASH_LEN);
        life_conflict(f, st, front, m, win);
        if ((s->status == F_VERIFIED || s->status == F_CLOSED) && f->lver[win] < f->n)
            set_bytes(f, &s->verified_by, &s->has_verified_by, author_of(f, f->lver[win]),
                      SC_KEY_LEN);
    }

    /* Counters and unions, in fold order. */
    uint32_t reopens = 0, revisits = 0;
    add_evidence(f, s, c->evidence, c->n_evidence);
    for (size_t k = 0; k < f->n && !f->oom; k++) {
        size_t i = f->order[k];
        const Scpb__Op *op = op_of(f, i);
        if (!f->valid[i])
            continue;
        switch (op->body_case) {
        case SCPB__OP__BODY_RECTIFICATION_REPORT:
            add_evidence(f, s, op->rectification_report->evidence,
                         op->rectification_report->n_evidence);
            sc_free(f->env, s->reported_by.data);
            s->reported_by.data = NULL;
            set_bytes(f, &s->reported_by, &s->has_reported_by, author_of(f, i), SC_KEY_LEN);
            break;
        case SCPB__OP__BODY_REVISIT:
            add_evidence(f, s, op->revisit->evidence, op->revisit->n_evidence);
            revisits++;
            s->has_last_revisit = true;
            s->last_revisit = op->revisit->result;
            break;
        case SCPB__OP__BODY_CLOSURE:
            if (s->status == F_CLOSED) {
                sc_free(f->env, s->closed_by.data);
                s->closed_by.data = NULL;
                set_bytes(f, &s->closed_by, &s->has_closed_by, author_of(f, i), SC_KEY_LEN);
                s->has_closed_hlc = true;
                s->closed_hlc = op->hlc;
            }
            break;
        default:
            break;
        }
        /* A transition out of closed back to open is a reopen (回头看 relapse or an explicit reopen). */
        if (f->lw[i] && f->lres[i] == F_OPEN && i != f->create) {
            size_t w;
            /* Recompute the past status from the memo of the deps. */
            if (life_status_past(f, i, &w) == F_CLOSED)
                reopens++;
        }
    }
    s->has_reopen_count = true;
    s->reopen_count = reopens;
    s->has_revisit_count = true;
    s->revisit_count = revisits;
}

static bool covered_by_submit(const fold *f, size_t op)
{
    for (size_t k = 0; k < f->nsubmits; k++)
        if (in_past(f, op, f->submits[k]))
            return true;
    return false;
}

static int cmp_item(const void *a, const void *b)
{
    const Scpb__ItemResult *x = *(Scpb__ItemResult *const *)a, *y = *(Scpb__ItemResult *const *)b;
    return strcmp(x->item_code ? x->item_code : "", y->item_code ? y->item_code : "");
}

static void build_inspection(fold *f, Scpb__EntityState *st, size_t *front)
{
    Scpb__InspectionState *s = new_msg(f, sizeof *s, init_inspection);
    if (!s)
        return;
    st->kind_case = SCPB__ENTITY_STATE__KIND_INSPECTION;
    st->inspection = s;
    const Scpb__Op *cop = op_of(f, f->create);
    const Scpb__InspectionOpen *c = cop->inspection_open;
    copy_bytes(f, &s->target, &s->has_target, &c->target, c->has_target);
    copy_bytes(f, &s->template_, &s->has_template_, &c->template_, c->has_template_);
    copy_bytes(f, &s->assignment, &s->has_assignment, &c->assignment, c->has_assignment);
    s->has_kind = c->has_kind;
    s->kind = c->kind;
    s->has_disclosure = c->has_disclosure;
    s->disclosure = c->disclosure;
    s->has_relation = c->has_relation;
    s->relation = c->relation;
    set_bytes(f, &s->opened_by, &s->has_opened_by, author_of(f, f->create), SC_KEY_LEN);

    size_t m = life_final(f, front);
    size_t win = life_winner(f, front, m);
    s->has_status = true;
    s->status = win < f->n ? (Scpb__InspectionStatus)f->lres[win] : SCPB__INSPECTION_STATUS__INSPECTION_DRAFT;
    bool submitted = s->status == I_SUBMITTED;

    /* The submission in effect: the first in fold order gives who and when; lists are unions. */
    uint32_t amends = 0;
    for (size_t k = 0; k < f->n && !f->oom; k++) {
        size_t i = f->order[k];
        const Scpb__Op *op = op_of(f, i);
        if (!f->valid[i])
            continue;
        if (op->body_case == SCPB__OP__BODY_INSPECTION_AMEND)
            amends++;
        if (op->body_case != SCPB__OP__BODY_INSPECTION_SUBMIT)
            continue;
        const Scpb__InspectionSubmit *sub = op->inspection_submit;
        if (!s->has_submitted_by) {
            set_bytes(f, &s->submitted_by, &s->has_submitted_by, author_of(f, i), SC_KEY_LEN);
            s->has_submitted_hlc = true;
            s->submitted_hlc = op->hlc;
            s->remarks = str_dup(f, sub->remarks);
        }
        add_ids(f, &s->findings, &s->n_findings, sub->findings, sub->n_findings);
        add_ids(f, &s->finding_heads, &s->n_finding_heads, sub->finding_heads, sub->n_finding_heads);
        add_ids(f, &s->submitted_photos, &s->n_submitted_photos, sub->photos, sub->n_photos);
    }
    s->has_amend_count = true;
    s->amend_count = amends;

    /* Item registers: once submitted, results the submission did not cover are late. */
    for (size_t r = 0; r < f->nregs && !f->oom; r++) {
        reg *rg = &f->regs[r];
        if (rg->field != SCPB__FIELD__FIELD_ITEM)
            continue;
        for (size_t k = 0; k < rg->n; k++)
            rg->w[k].late = submitted &&
                            op_of(f, rg->w[k].op)->body_case == SCPB__OP__BODY_ITEM_RESULT &&
                            !covered_by_submit(f, rg->w[k].op);
        size_t w = reg_resolve(f, st, rg);
        if (w == rg->n)
            continue;
        Scpb__ItemResult **nv = sc_realloc_array(f->env, s->results, s->n_results + 1, sizeof *nv);
        if (!nv) {
            f->oom = true;
            break;
        }
        s->results = nv;
        nv[s->n_results] = msg_copy(f, &rg->w[w].item->base);
        if (nv[s->n_results])
            s->n_results++;
    }
    if (s->n_results > 1)
        qsort(s->results, s->n_results, sizeof *s->results, cmp_item);
}

static void fold_dispose(fold *f)
{
    const sc_env *env = f->env;
    sc_free(env, f->order);
    sc_free(env, f->rank);
    sc_free(env, f->byid);
    sc_free(env, f->dep);
    sc_free(env, f->ndep);
    sc_free(env, f->clo);
    sc_free(env, f->valid);
    sc_free(env, f->is_dep);
    sc_free(env, f->voided);
    sc_free(env, f->lw);
    sc_free(env, f->lres);
    sc_free(env, f->lver);
    sc_free(env, f->loff);
    sc_free(env, f->llen);
    sc_free(env, f->lpool);
    sc_free(env, f->scratch);
    for (size_t r = 0; r < f->nregs; r++) {
        for (size_t k = 0; k < f->regs[r].n; k++)
            sc_free(env, f->regs[r].w[k].owned);
        sc_free(env, f->regs[r].w);
    }
    sc_free(env, f->regs);
    sc_free(env, f->voids);
    sc_free(env, f->reports);
    sc_free(env, f->submits);
    /* why is handed to the caller on success; fold_dispose frees it only on failure. */
}

sc_status sc_fold(const sc_env *env, const sc_users *users, const sc_fold_input *ops, size_t n,
                  sc_fold_out *out, sc_err *err)
{
    fold f;
    memset(&f, 0, sizeof f);
    sc_status rc = SC_OK;
    Scpb__EntityState *st = NULL;
    if (out)
        memset(out, 0, sizeof *out);
    if (!ops || !out || n == 0)
        return sc_err_set(err, SC_ERR_INVALID_ARG, 0, "fold: no ops");
    if (n > SC_ENTITY_OPS_MAX)
        return sc_err_set(err, SC_ERR_LIMIT, SCPB__REASON__REASON_ENTITY_FULL,
                          "the entity has more than %d ops", SC_ENTITY_OPS_MAX);
    f.env = env;
    f.users = users;
    f.in = ops;
    f.n = n;
    f.create = n;

    rc = build_graph(&f, err);
    if (rc != SC_OK)
        goto done;
    f.lw = falloc(&f, n, sizeof *f.lw);
    f.lres = falloc(&f, n, sizeof *f.lres);
    f.lver = falloc(&f, n, sizeof *f.lver);
    f.loff = falloc(&f, n, sizeof *f.loff);
    f.llen = falloc(&f, n, sizeof *f.llen);
    f.scratch = falloc(&f, n * SC_DEPS_MAX + 1, sizeof *f.scratch);
    if (f.oom)
        goto oom;
    for (size_t i = 0; i < n; i++)
        f.lver[i] = n;

    for (size_t k = 0; k < n && !f.oom; k++) {
        size_t i = f.order[k];
        f.why[i] = judge(&f, i);
        f.valid[i] = f.why[i] == NULL;
        if (!f.valid[i])
            f.lw[i] = false;
        record(&f, i);
    }
    if (f.users_rc != SC_OK) {
        rc = sc_err_set(err, f.users_rc, 0, "fold: cannot tell which user a device speaks for");
        goto done;
    }
    f.voided = falloc(&f, n, sizeof *f.voided);
    if (f.oom)
        goto oom;
    mark_voided(&f);

    st = new_msg(&f, sizeof *st, init_state);
    if (!st)
        goto oom;
    build_common(&f, st);
    if (f.create < n && !f.oom) {
        size_t *front = falloc(&f, n, sizeof *front);
        if (front) {
            if (f.type == SCPB__ENTITY_TYPE__ENTITY_FINDING)
                build_finding(&f, st, front);
            else if (f.type == SCPB__ENTITY_TYPE__ENTITY_INSPECTION)
                build_inspection(&f, st, front);
            else
                build_admin(&f, st);
        }
        sc_free(env, front);
    }
    if (st->n_conflicts > 1)
        qsort(st->conflicts, st->n_conflicts, sizeof *st->conflicts, cmp_conflict);
    if (f.oom)
        goto oom;
    out->state = st;
    out->why = f.why;
    out->n = n;
    f.why = NULL;
    st = NULL;
    goto done;
oom:
    rc = sc_err_set(err, SC_ERR_NOMEM, 0, "fold: out of memory");
done:
    sc_state_free(env, st);
    sc_free(env, f.why);
    fold_dispose(&f);
    return rc;
}

void sc_fold_out_dispose(const sc_env *env, sc_fold_out *out)
{
    if (!out)
        return;
    sc_state_free(env, out->state);
    sc_free(env, (void *)out->why);
    memset(out, 0, sizeof *out);
}
