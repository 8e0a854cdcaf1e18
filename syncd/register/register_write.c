/*
 * register_write.c: write transactions.  Every change to the register
 * happens inside one sd_txn on the writer connection, under wmu: a batch
 * of pushed ops (sd_register_ingest, one group commit), an admin fact
 * (sd_register_admin_op), or an enrollment.  The transaction caches the
 * entities it touches (row, decoded state, decoded ops), so a batch's ops
 * are judged against the database as the transaction left it and an op
 * may depend on one accepted just before it.
 *
 * Invariants:
 *  - One ingest call is one transaction: on any storage failure all of it
 *    rolls back and every op that would have been accepted is reported
 *    REASON_STORAGE.  The in-memory Merkle frontier is replaced only after
 *    a commit succeeded.
 *  - An op whose dependency was refused in this transaction is refused too
 *    (its dep is not logged): the refused set remembers them.
 *  - The caches die with the transaction; a failed one also drops the
 *    connection's org tree, which may hold org units it wrote.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/metrics.h"
#include "core/hlc.h"
#include "core/ids.h"
#include "core/merge.h"
#include "core/state.h"
#include "register_internal.h"
#include "tlog.h"

/* Decoded ops one transaction keeps cached before it starts over. */
#define CACHE_OPS_MAX 200000

/* ---- one write transaction ---- */

static void ent_free(const sc_env *env, sd_ent *e)
{
    if (!e)
        return;
    free(e->row.state);
    sc_state_free(env, e->state);
    for (size_t i = 0; i < e->nops; i++)
        if (e->own[i])
            sc_op_free(env, e->ops[i]);
    free(e->ops);
    free(e->idx);
    free(e->own);
    free(e->verdicts);
    sd_idmap_dispose(&e->vmap);
    sd_idmap_dispose(&e->codes);
    sc_state_free(env, e->batch_state);
    free(e);
}

/*
 * Is the batch fold's state e's state?  When its set of ops is e's ops:
 * as many, the first batch_first the same by construction, and every op
 * accepted since one of the set with no objection.
 */
static bool batch_state_fits(const sd_ent *e)
{
    if (!e->batch_state || e->nops != e->batch_n || e->batch_first > e->nops)
        return false;
    for (size_t i = e->batch_first; i < e->nops; i++) {
        void **slot = sd_idmap_find(&e->vmap, e->ops[i]->id);
        const sd_verdict *v = slot ? *slot : NULL;
        if (!v || v->why || memcmp(v->id, e->ops[i]->id, SC_HASH_LEN) != 0)
            return false;
    }
    return true;
}

static void cache_clear(sd_txn *t)
{
    for (size_t i = 0; i < t->nall; i++)
        ent_free(t->env, t->all[i]);
    t->nall = 0;
    t->ndirty = 0;
    t->cached_ops = 0;
    sd_idmap_dispose(&t->ents);
}

sc_status sd_txn_fail(sd_txn *t, sc_status rc)
{
    if (t->rc == SC_OK)
        t->rc = rc;
    return t->rc;
}

/*
 * Fold a stale entity's ops into its state (see sd_accept).  Every op of
 * the entity was accepted, so every op is valid; and an inspection's
 * released flag, which sd_accept derived from its ops' kinds without the
 * state, must agree with the state's status.  Either failing is a bug, not
 * a verdict: the transaction fails.  Returns the sticky status.
 */
static sc_status ent_refold(sd_txn *t, sd_ent *e)
{
    sc_fold_out fo;
    memset(&fo, 0, sizeof fo);
    sc_status rc = SC_OK;
    if (batch_state_fits(e)) {
        fo.state = e->batch_state;
        e->batch_state = NULL;
    } else {
        sc_fold_input *in = calloc(e->nops ? e->nops : 1, sizeof *in);
        if (!in)
            return sd_txn_fail(t, sc_err_set(t->err, SC_ERR_NOMEM, 0, "register: out of memory"));
        for (size_t i = 0; i < e->nops; i++) {
            in[i].id = e->ops[i]->id;
            in[i].op = e->ops[i]->op;
        }
        sc_err ferr;
        sc_err_clear(&ferr);
        sc_users users = sd_txn_users(t);
        rc = sc_fold(t->env, &users, in, e->nops, &fo, &ferr);
        free(in);
        if (rc != SC_OK)
            return sd_txn_fail(t, sc_err_set(t->err,
                                             rc == SC_ERR_NOMEM ? SC_ERR_NOMEM : SC_ERR_INTERNAL, 0,
                                             "register: fold failed: %s", ferr.msg));
    }
    char hex[SC_ID_HEX];
    for (size_t i = 0; fo.why && i < e->nops; i++)
        if (fo.why[i]) {
            sd_hex_id(e->id, SC_ID_LEN, hex, sizeof hex);
            rc = sc_err_set(t->err, SC_ERR_INTERNAL, 0,
                            "register: the accepted op at log index %llu of %s does not fold: %s",
                            (unsigned long long)e->idx[i], hex, fo.why[i]);
            break;
        }
    const Scpb__EntityState *st = fo.state;
    if (rc == SC_OK && e->row.type == T_(INSPECTION) &&
        (st->kind_case == SCPB__ENTITY_STATE__KIND_INSPECTION &&
         st->inspection->status == SCPB__INSPECTION_STATUS__INSPECTION_SUBMITTED) !=
            e->row.released) {
        sd_hex_id(e->id, SC_ID_LEN, hex, sizeof hex);
        rc = sc_err_set(t->err, SC_ERR_INTERNAL, 0,
                        "register: inspection %s: its state and its released flag disagree", hex);
    }
    if (rc != SC_OK) {
        sc_fold_out_dispose(t->env, &fo);
        return sd_txn_fail(t, rc);
    }
    sc_state_free(t->env, e->state);
    e->state = fo.state;
    fo.state = NULL;
    sc_fold_out_dispose(t->env, &fo);
    e->stale = false;
    return SC_OK;
}

sc_status sd_txn_flush(sd_txn *t)
{
    for (size_t i = 0; t->ndirty > 0 && i < t->nall && t->rc == SC_OK; i++) {
        sd_ent *e = t->all[i];
        if (!e->dirty)
            continue;
        if (e->stale && ent_refold(t, e) != SC_OK)
            return t->rc;
        uint8_t *buf = NULL;
        size_t len = 0;
        if (sc_state_encode(t->env, e->state, &buf, &len) != SC_OK)
            return sd_txn_fail(t, sc_err_set(t->err, SC_ERR_NOMEM, 0, "register: out of memory"));
        sd_entity_row row = e->row;
        row.state = buf;
        row.state_len = len;
        sc_sha256(buf, len, row.state_hash);
        sc_status rc = t->s->vt->entity_put(t->s, &row, t->err);
        sc_free(t->env, buf);
        if (rc != SC_OK)
            return sd_txn_fail(t, rc);
        memcpy(e->row.state_hash, row.state_hash, SC_HASH_LEN);
        e->dirty = false;
        t->ndirty--;
    }
    return sd_notify_flush(t);
}

void sd_txn_trim(sd_txn *t)
{
    if (t->cached_ops > CACHE_OPS_MAX && sd_txn_flush(t) == SC_OK)
        cache_clear(t);
}

sd_ent *sd_ent_get(sd_txn *t, const uint8_t id[SC_ID_LEN])
{
    void **slot = sd_idmap_find(&t->ents, id);
    if (slot)
        return *slot;
    sd_ent *e = calloc(1, sizeof *e);
    if (!e) {
        sd_txn_fail(t, sc_err_set(t->err, SC_ERR_NOMEM, 0, "register: out of memory"));
        return NULL;
    }
    memcpy(e->id, id, SC_ID_LEN);
    sc_status rc = t->s->vt->entity_get(t->s, id, true, &e->row, t->err);
    if (rc == SC_OK) {
        e->exists = true;
    } else if (rc != SC_ERR_NOT_FOUND) {
        free(e);
        sd_txn_fail(t, rc);
        return NULL;
    }
    if (t->nall == t->capall) {
        size_t cap = t->capall ? t->capall * 2 : 64;
        sd_ent **v = realloc(t->all, cap * sizeof *v);
        if (!v) {
            ent_free(t->env, e);
            sd_txn_fail(t, sc_err_set(t->err, SC_ERR_NOMEM, 0, "register: out of memory"));
            return NULL;
        }
        t->all = v;
        t->capall = cap;
    }
    if (!sd_idmap_put(&t->ents, id, e)) {
        ent_free(t->env, e);
        sd_txn_fail(t, sc_err_set(t->err, SC_ERR_NOMEM, 0, "register: out of memory"));
        return NULL;
    }
    t->all[t->nall++] = e;
    return e;
}

const Scpb__EntityState *sd_ent_state(sd_txn *t, sd_ent *e)
{
    if (!e->exists)
        return NULL;
    if (e->stale)
        return ent_refold(t, e) == SC_OK ? e->state : NULL;
    return sd_ent_created_state(t, e);
}

const Scpb__EntityState *sd_ent_created_state(sd_txn *t, sd_ent *e)
{
    if (!e->exists)
        return NULL;
    /* A stale entity whose older state was never decoded has none to offer: fold it. */
    if (!e->state && e->stale)
        return ent_refold(t, e) == SC_OK ? e->state : NULL;
    if (!e->state) {
        sc_status rc = sd_decode_state(t->env, e->row.state, e->row.state_len, &e->state, t->err);
        if (rc != SC_OK) {
            sd_txn_fail(t, rc);
            return NULL;
        }
    }
    return e->state;
}

bool sd_ent_push_op(sd_ent *e, sc_op *o, uint64_t idx, bool own)
{
    if (e->nops == e->capops) {
        size_t cap = e->capops ? e->capops * 2 : 16;
        sc_op **v = realloc(e->ops, cap * sizeof *v);
        if (!v)
            return false;
        e->ops = v;
        uint64_t *x = realloc(e->idx, cap * sizeof *x);
        if (!x)
            return false;
        e->idx = x;
        bool *w = realloc(e->own, cap * sizeof *w);
        if (!w)
            return false;
        e->own = w;
        e->capops = cap;
    }
    e->ops[e->nops] = o;
    e->idx[e->nops] = idx;
    e->own[e->nops] = own;
    e->nops++;
    return true;
}

size_t sd_ent_find_op(const sd_ent *e, const uint8_t id[SC_HASH_LEN])
{
    /* From the newest: a dep is most often the entity's latest op. */
    for (size_t i = e->nops; i-- > 0;)
        if (memcmp(e->ops[i]->id, id, SC_HASH_LEN) == 0)
            return i;
    return e->nops;
}

typedef struct load_ctx {
    sd_txn *t;
    sd_ent *e;
} load_ctx;

static bool load_op(void *ctx, const sd_op_row *row)
{
    load_ctx *l = ctx;
    sc_op *o = NULL;
    sc_err e;
    sc_err_clear(&e);
    sc_status rc = sc_op_open(l->t->env, row->signed_op, row->signed_len, 0, &o, &e);
    if (rc != SC_OK) {
        sd_txn_fail(l->t, rc == SC_ERR_NOMEM
                              ? sc_err_set(l->t->err, SC_ERR_NOMEM, 0, "register: out of memory")
                              : sc_err_set(l->t->err, SC_ERR_STORAGE, R_(STORAGE),
                                           "register: logged op %llu does not decode: %s",
                                           (unsigned long long)row->idx, e.msg));
        return false;
    }
    if (!sd_ent_push_op(l->e, o, row->idx, true)) {
        sc_op_free(l->t->env, o);
        sd_txn_fail(l->t, sc_err_set(l->t->err, SC_ERR_NOMEM, 0, "register: out of memory"));
        return false;
    }
    l->t->cached_ops++;
    return true;
}

sc_status sd_ent_load_ops(sd_txn *t, sd_ent *e)
{
    if (e->ops_loaded || !e->exists) {
        e->ops_loaded = true;
        return SC_OK;
    }
    load_ctx l = {t, e};
    sc_status rc = t->s->vt->entity_ops(t->s, e->id, load_op, &l, t->err);
    if (rc != SC_OK)
        return sd_txn_fail(t, rc);
    if (t->rc != SC_OK)
        return t->rc;
    e->ops_loaded = true;
    return SC_OK;
}

/* Monotonic seconds, for the write-lock metrics. */
static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

sc_status sd_txn_begin(sd_register *r, sd_txn *t, sc_err *err)
{
    memset(t, 0, sizeof *t);
    t->asked_at = mono_s();
    t->r = r;
    t->c = &r->writer;
    t->s = r->writer.s;
    t->env = &r->env;
    t->err = err;
    sc_status rc = t->s->vt->begin(t->s, true, err);
    if (rc != SC_OK)
        return rc;
    t->locked_at = mono_s();
    t->now = sc_env_now_ms(t->env);
    rc = t->s->vt->log_size(t->s, &t->start, err);
    if (rc != SC_OK)
        return rc;
    t->size = t->start;
    if (r->frontier_ok && r->frontier.size == t->start)
        t->fr = r->frontier;
    else
        rc = sd_tlog_frontier_load(t->s, t->start, &t->fr, err);
    return rc;
}

sc_status sd_txn_commit(sd_txn *t)
{
    sc_status rc = sd_txn_flush(t);
    if (rc == SC_OK && t->size > t->start)
        rc = sd_tlog_checkpoint(t->s, t->env, t->r->kp, t->r->origin, &t->fr, t->now, t->err);
    if (rc == SC_OK)
        rc = t->s->vt->commit(t->s, t->err);
    if (rc == SC_OK) {
        t->r->frontier = t->fr;
        t->r->frontier_ok = true;
        sd_metrics_webhook_queued(t->nt_queued, t->nt_dropped);
    }
    return rc;
}

void sd_refused_add(sd_txn *t, const uint8_t id[SC_HASH_LEN])
{
    if (t->nrefused == t->caprefused) {
        size_t cap = t->caprefused ? t->caprefused * 2 : 64;
        uint8_t(*v)[SC_HASH_LEN] = malloc(cap * sizeof *v);
        if (!v)
            return; /* only the message gets less precise */
        if (t->nrefused)
            memcpy(v, t->refused_ids, t->nrefused * sizeof *v);
        /* The map points into the array: rebuild it over the new one. */
        sd_idmap_dispose(&t->refused);
        free(t->refused_ids);
        t->refused_ids = v;
        t->caprefused = cap;
        for (size_t i = 0; i < t->nrefused; i++)
            sd_idmap_put(&t->refused, v[i], v[i]);
    }
    memcpy(t->refused_ids[t->nrefused], id, SC_HASH_LEN);
    if (sd_idmap_put(&t->refused, id, t->refused_ids[t->nrefused]))
        t->nrefused++;
}

bool sd_refused_has(const sd_txn *t, const uint8_t id[SC_HASH_LEN])
{
    void **slot = sd_idmap_find(&t->refused, id);
    return slot && memcmp(*slot, id, SC_HASH_LEN) == 0;
}

void sd_txn_end(sd_txn *t, bool failed)
{
    sd_idmap_dispose(&t->refused);
    free(t->refused_ids);
    t->refused_ids = NULL;
    if (failed) {
        t->s->vt->rollback(t->s);
        /* Org units this transaction wrote into the connection's cache are gone. */
        sd_orgcache_invalidate(&t->c->orgs);
    }
    if (t->locked_at > 0) /* committed or rolled back by now: the lock is free */
        sd_metrics_write_lock(t->locked_at - t->asked_at, mono_s() - t->locked_at);
    cache_clear(t);
    free(t->all);
    t->all = NULL;
}

/* ---- pushed ops ---- */

/*
 * List a group commit's ops in judging order and link each to the next op
 * of its entity (one pass from the end, remembering the latest op seen per
 * entity).  False when out of memory.
 */
static bool pend_build(sd_pend *p, sd_batch *const *batches, size_t nb)
{
    memset(p, 0, sizeof *p);
    size_t total = 0;
    for (size_t k = 0; k < nb; k++)
        total += batches[k]->n;
    p->ops = malloc((total ? total : 1) * sizeof *p->ops);
    p->next = malloc((total ? total : 1) * sizeof *p->next);
    if (!p->ops || !p->next)
        return false;
    for (size_t k = 0; k < nb; k++)
        for (size_t i = 0; i < batches[k]->n; i++)
            if (batches[k]->ops[i])
                p->ops[p->n++] = batches[k]->ops[i];
    sd_idmap later;
    memset(&later, 0, sizeof later);
    bool ok = true;
    for (size_t i = p->n; i-- > 0 && ok;) {
        const Scpb__Op *op = p->ops[i]->op;
        p->next[i] = SIZE_MAX;
        if (op->entity.len != SC_ID_LEN)
            continue;
        void **slot = sd_idmap_find(&later, op->entity.data);
        if (slot)
            p->next[i] = (size_t)(uintptr_t)*slot - 1;
        ok = sd_idmap_put(&later, op->entity.data, (void *)(uintptr_t)(i + 1));
    }
    sd_idmap_dispose(&later);
    return ok;
}

static void pend_dispose(sd_pend *p)
{
    free(p->ops);
    free(p->next);
    memset(p, 0, sizeof *p);
}

static sc_status judge_batch(sd_txn *t, sd_batch *b)
{
    sd_actor a;
    memset(&a, 0, sizeof a);
    sc_err perr;
    sc_err_clear(&perr);
    sc_status rc = sd_principal_load(t->r, t->s, b->who->device, &a.p, &perr);
    if (rc == SC_ERR_NOT_FOUND) {
        a.unknown = true;
        memcpy(a.p.device, b->who->device, SC_KEY_LEN);
    } else if (rc != SC_OK) {
        if (t->err)
            *t->err = perr;
        return sd_txn_fail(t, rc);
    }
    for (size_t i = 0; i < b->n; i++) {
        if (!b->ops[i])
            continue;
        bool taken;
        rc = sd_judge_op(t, &a, b->ops[i], false, b->received_ms, &b->results[i], &taken);
        if (rc != SC_OK)
            return rc;
        if (sd_rejected(&b->results[i]))
            sd_refused_add(t, b->ops[i]->id);
        if (t->pend)
            t->pend->cur++;
    }
    return SC_OK;
}

/* After a failed commit: nothing is stored, so nothing may read as accepted. */
static void results_fail(sd_batch *const *batches, size_t nb, uint64_t start, const char *why)
{
    for (size_t k = 0; k < nb; k++) {
        sd_batch *b = batches[k];
        for (size_t i = 0; i < b->n; i++) {
            if (!b->ops[i])
                continue;
            sd_result *res = &b->results[i];
            /* Kept: real rejections, and duplicates of ops committed before. */
            bool kept = (res->status == SCPB__OP_STATUS__OP_REJECTED && res->reason != 0 &&
                         res->reason != R_(STORAGE)) ||
                        (res->status == SCPB__OP_STATUS__OP_DUPLICATE && res->log_index < start);
            bool lost = !kept;
            if (lost) {
                sd_reject(res, R_(STORAGE),
                          "the register could not store this op (%s); resend later", why);
            }
        }
    }
}

sc_status sd_register_ingest(sd_register *r, sd_batch *const *batches, size_t nb, sc_err *err)
{
    sc_err_clear(err);
    for (size_t k = 0; k < nb; k++) {
        sd_batch *b = batches[k];
        for (size_t i = 0; i < b->n; i++) {
            if (!b->ops[i])
                continue;
            memcpy(b->results[i].op_id, b->ops[i]->id, SC_HASH_LEN);
            sd_reject(&b->results[i], R_(STORAGE), "not processed");
        }
    }
    sc_err terr;
    sc_err_clear(&terr);
    sd_pend pend;
    bool have_pend = pend_build(&pend, batches, nb);
    pthread_mutex_lock(&r->wmu);
    sd_txn t;
    sc_status rc = sd_txn_begin(r, &t, &terr);
    /* Without the list (out of memory) every op is folded on its own: slower, same verdicts. */
    if (have_pend)
        t.pend = &pend;
    for (size_t k = 0; rc == SC_OK && k < nb; k++)
        rc = judge_batch(&t, batches[k]);
    if (rc == SC_OK)
        rc = sd_txn_commit(&t);
    uint64_t start = t.start;
    sd_txn_end(&t, rc != SC_OK);
    pthread_mutex_unlock(&r->wmu);
    pend_dispose(&pend);
    if (rc == SC_OK)
        return SC_OK;
    results_fail(batches, nb, start, terr.msg[0] ? terr.msg : sc_strerror(rc));
    return sc_err_set(err, SC_ERR_STORAGE, R_(STORAGE), "%s",
                      terr.msg[0] ? terr.msg : "the register could not commit");
}

/* ---- admin ops ---- */

typedef struct prepared {
    sc_op *op; /* sealed; owned */
    uint8_t entity[SC_ID_LEN];
    ProtobufCBinaryData deps[SC_DEPS_MAX];
    uint8_t dep_ids[SC_DEPS_MAX][SC_HASH_LEN];
} prepared;

/*
 * Fill in an admin op inside an open transaction and seal it.  A
 * structural problem is a rejection (SC_ERR_REJECTED with the reason in
 * err); other failures are storage failures.
 */
static sc_status admin_prepare(sd_txn *t, Scpb__Op *op, prepared *p, sc_err *err)
{
    sd_register *r = t->r;
    Scpb__Op o = *op;
    o.has_version = true;
    o.version = 1;
    o.has_author = true;
    o.author.data = r->server_key;
    o.author.len = SC_KEY_LEN;
    if (!o.has_entity) {
        sc_uuid7_new(t->env, p->entity);
        o.has_entity = true;
        o.entity.data = p->entity;
        o.entity.len = SC_ID_LEN;
    }
    uint64_t maxdep = 0;
    if (o.n_deps == 0 && !sc_op_kind_is_create(o.body_case) && o.entity.len == SC_ID_LEN) {
        sd_ent *e = sd_ent_get(t, o.entity.data);
        if (!e)
            return t->rc;
        const Scpb__EntityState *st = e->exists ? sd_ent_state(t, e) : NULL;
        if (e->exists && !st)
            return t->rc;
        size_t n = st ? st->n_heads : 0;
        for (size_t i = 0; i < n && i < SC_DEPS_MAX; i++) {
            if (st->heads[i].len != SC_HASH_LEN)
                continue;
            memcpy(p->dep_ids[o.n_deps], st->heads[i].data, SC_HASH_LEN);
            p->deps[o.n_deps].data = p->dep_ids[o.n_deps];
            p->deps[o.n_deps].len = SC_HASH_LEN;
            o.n_deps++;
        }
        o.deps = p->deps;
    }
    /* The HLC goes after the deps' (those of the entity: any other dep is refused anyway). */
    sd_ent *de = o.n_deps && o.entity.len == SC_ID_LEN ? sd_ent_get(t, o.entity.data) : NULL;
    if (o.n_deps && o.entity.len == SC_ID_LEN && (!de || sd_ent_load_ops(t, de) != SC_OK))
        return t->rc;
    for (size_t i = 0; de && i < o.n_deps; i++) {
        size_t j = o.deps[i].len == SC_HASH_LEN ? sd_ent_find_op(de, o.deps[i].data) : de->nops;
        if (j < de->nops && de->ops[j]->op->hlc > maxdep)
            maxdep = de->ops[j]->op->hlc;
    }
    sc_hlc hlc = sc_hlc_make(t->now, 0);
    if (hlc <= maxdep)
        hlc = maxdep + 1;
    o.has_hlc = true;
    o.hlc = hlc;
    o.has_device_time_ms = true;
    o.device_time_ms = t->now;
    sc_err serr;
    sc_err_clear(&serr);
    sc_status rc = sc_op_seal(t->env, r->kp, &o, &p->op, &serr);
    if (rc == SC_ERR_NOMEM)
        return sd_txn_fail(t, sc_err_set(err, SC_ERR_NOMEM, 0, "register: out of memory"));
    if (rc != SC_OK)
        return sc_err_set(err, SC_ERR_REJECTED, serr.reason ? serr.reason : R_(MALFORMED), "%s",
                          serr.msg);
    op->has_version = true;
    op->version = 1;
    op->has_author = true;
    op->author.data = r->server_key;
    op->author.len = SC_KEY_LEN;
    op->has_hlc = true;
    op->hlc = hlc;
    op->has_device_time_ms = true;
    op->device_time_ms = t->now;
    return SC_OK;
}

sc_status sd_admin_in_txn(sd_txn *t, Scpb__Op *op, uint64_t *out_index, sc_err *err)
{
    prepared p;
    memset(&p, 0, sizeof p);
    sc_status rc = admin_prepare(t, op, &p, err);
    if (rc != SC_OK)
        return rc;
    sd_actor a;
    memset(&a, 0, sizeof a);
    sd_principal_server(t->r, &a.p);
    sd_result res;
    memset(&res, 0, sizeof res);
    bool taken = false;
    rc = sd_judge_op(t, &a, p.op, true, t->now, &res, &taken);
    if (rc == SC_OK && res.status == SCPB__OP_STATUS__OP_DUPLICATE)
        rc = sc_err_set(err, SC_ERR_REJECTED, R_(ENTITY_EXISTS),
                        "the same admin op is already logged");
    else if (rc == SC_OK && sd_rejected(&res))
        rc = sc_err_set(err, SC_ERR_REJECTED, res.reason, "%s", res.message);
    if (rc == SC_OK && out_index)
        *out_index = res.log_index;
    if (!taken)
        sc_op_free(t->env, p.op);
    return rc;
}

sc_status sd_register_admin_op(sd_register *r, Scpb__Op *op, uint64_t *out_index, sc_err *err)
{
    sc_err_clear(err);
    pthread_mutex_lock(&r->wmu);
    sd_txn t;
    sc_status rc = sd_txn_begin(r, &t, err);
    if (rc == SC_OK)
        rc = sd_admin_in_txn(&t, op, out_index, err);
    if (rc == SC_OK)
        rc = sd_txn_commit(&t);
    sd_txn_end(&t, rc != SC_OK);
    pthread_mutex_unlock(&r->wmu);
    if (rc != SC_OK && rc != SC_ERR_REJECTED) {
        if (err) {
            err->code = SC_ERR_STORAGE;
            err->reason = R_(STORAGE);
        }
        rc = SC_ERR_STORAGE;
    }
    return rc;
}

sc_status sd_register_admin_ops(sd_register *r, Scpb__Op *const *ops, size_t n, bool commit,
                                sd_result *results, bool *logged, sc_err *err)
{
    sc_err_clear(err);
    *logged = false;
    pthread_mutex_lock(&r->wmu);
    sd_txn t;
    sc_status rc = sd_txn_begin(r, &t, err);
    bool all = true;
    for (size_t i = 0; rc == SC_OK && i < n; i++) {
        sd_result *res = &results[i];
        memset(res, 0, sizeof *res);
        sc_err oe;
        sc_err_clear(&oe);
        uint64_t idx = 0;
        sc_status orc = sd_admin_in_txn(&t, ops[i], &idx, &oe);
        if (orc == SC_OK) {
            res->status = SCPB__OP_STATUS__OP_ACCEPTED;
            res->log_index = idx;
        } else if (orc == SC_ERR_REJECTED) {
            all = false;
            res->status = SCPB__OP_STATUS__OP_REJECTED;
            res->reason = oe.reason;
            snprintf(res->message, sizeof res->message, "%s", oe.msg);
        } else {
            rc = orc;
            *err = oe;
        }
    }
    if (rc == SC_OK && commit && all) {
        rc = sd_txn_commit(&t);
        *logged = rc == SC_OK;
    }
    sd_txn_end(&t, !*logged);
    pthread_mutex_unlock(&r->wmu);
    if (rc != SC_OK) {
        err->code = SC_ERR_STORAGE;
        if (err->reason == R_(NONE))
            err->reason = R_(STORAGE);
        rc = SC_ERR_STORAGE;
    }
    return rc;
}
