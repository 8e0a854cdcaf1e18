/*
 * merge.c: the deterministic fold of an entity's ops into its state:
 * sc_fold's steps in order (the graph, judging and recording each op in
 * fold order, voids, the state), and the fold's working set.  The steps
 * live in merge_graph.c, merge_rules.c, merge_life.c and merge_state.c
 * (merge_internal.h); what is particular to a kind is named by its entry
 * in opkinds.def.
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
#include "merge_internal.h"

#include <string.h>

#include "wire.pb-c.h"

void *mg_alloc(fold *f, size_t n, size_t size)
{
    void *p = sc_calloc(f->env, n ? n : 1, size);
    if (!p)
        f->oom = true;
    return p;
}

void mg_push(fold *f, size_t **v, size_t *n, size_t i)
{
    /* Capacity is n of the fold: each list holds each op at most once. */
    if (!*v) {
        *v = mg_alloc(f, f->n, sizeof **v);
        if (!*v)
            return;
    }
    (*v)[(*n)++] = i;
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
    sc_free(env, f->regix);
    sc_free(env, f->voids);
    sc_free(env, f->reports);
    sc_free(env, f->submits);
    sc_free(env, f->notices);
    sc_free(env, f->escalations);
    sc_free(env, f->stopworks);
    sc_free(env, f->signoffs);
    sc_free(env, f->lifts);
    sc_free(env, f->signfors);
    sc_free(env, f->plans);
    sc_free(env, f->returns);
    sc_free(env, f->requests);
    sc_free(env, f->decisions);
    sc_free(env, f->dreq);
    sc_free(env, f->outcome_memo);
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
    f.deadline_writer = n;
    f.responsible_writer = n;
    f.verifier = n;

    rc = mg_graph_build(&f, err);
    if (rc != SC_OK)
        goto done;
    f.lw = mg_alloc(&f, n, sizeof *f.lw);
    f.lres = mg_alloc(&f, n, sizeof *f.lres);
    f.lver = mg_alloc(&f, n, sizeof *f.lver);
    f.loff = mg_alloc(&f, n, sizeof *f.loff);
    f.llen = mg_alloc(&f, n, sizeof *f.llen);
    f.scratch = mg_alloc(&f, n * SC_DEPS_MAX + 1, sizeof *f.scratch);
    if (f.oom)
        goto oom;
    for (size_t i = 0; i < n; i++)
        f.lver[i] = n;

    for (size_t k = 0; k < n && !f.oom; k++) {
        size_t i = f.order[k];
        f.why[i] = mg_judge(&f, i);
        f.valid[i] = f.why[i] == NULL;
        if (!f.valid[i])
            f.lw[i] = false;
        mg_record(&f, i);
    }
    if (f.users_rc != SC_OK) {
        rc = sc_err_set(err, f.users_rc, 0, "fold: cannot tell which user a device speaks for");
        goto done;
    }
    f.voided = mg_alloc(&f, n, sizeof *f.voided);
    if (f.oom)
        goto oom;
    mg_mark_voided(&f);

    st = mg_state_build(&f);
    if (!st)
        goto oom;
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
