/*
 * register_accept.c: logging an op that passed judgement.  One accepted op
 * writes its log row and Merkle leaf, its entity's row (the new folded
 * state and the derived columns pulls and scope checks use: target,
 * scope_org, vis_class, released, inspection), the rows it derives in the
 * other tables (photo refs, codes, devices, assignees), and, when it is an
 * inspection's first submission, the release events that make the
 * inspection's earlier ops and its findings visible to the inspected unit.
 *
 * Invariants:
 *  - Everything here is a function of the log: `syncd audit` rebuilds the
 *    same rows by replaying it (docs/data-model.md, "What is derived").
 *  - The derived columns of an entity are fixed when it is created (from
 *    its create op and its target's row); later ops change only the state,
 *    and `released`, which never goes back.
 *  - On a storage failure the txn's sticky status is set and the caller
 *    rolls the whole transaction back; the entity cache is updated only
 *    after every write for the op succeeded.
 */
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "core/merkle.h"
#include "core/opkind.h"
#include "core/state.h"
#include "register_internal.h"
#include "tlog.h"

/*
 * The derived columns of an entity's row from its new state st, after op o.
 * st is NULL only for an existing inspection or finding (see sd_accept):
 * then the op count is its ops with o, and an inspection is submitted
 * exactly when o is a submission, since its status moves only from draft
 * to submitted and only by a valid InspectionSubmit (core/merge_rules.c,
 * judge_inspection_submit; ent_refold checks it against the state).
 */
static sc_status derive_row(sd_txn *t, sd_ent *e, const sc_op *o, const Scpb__EntityState *st,
                            int type, sd_entity_row *nr)
{
    memset(nr, 0, sizeof *nr);
    memcpy(nr->id, e->id, SC_ID_LEN);
    nr->type = type;
    nr->op_count = st ? st->op_count : (uint32_t)(e->nops + 1);
    if (!st) {
        nr->has_target = e->row.has_target;
        memcpy(nr->target, e->row.target, SC_ID_LEN);
        nr->has_scope = e->row.has_scope;
        memcpy(nr->scope_org, e->row.scope_org, SC_ID_LEN);
        nr->vis_class = e->row.vis_class;
        nr->released = e->row.released || (type == T_(INSPECTION) &&
                                           o->op->body_case == K_(INSPECTION_SUBMIT));
        nr->has_inspection = e->row.has_inspection;
        memcpy(nr->inspection, e->row.inspection, SC_ID_LEN);
        return SC_OK;
    }
    if (e->exists) {
        nr->has_target = e->row.has_target;
        memcpy(nr->target, e->row.target, SC_ID_LEN);
        nr->has_scope = e->row.has_scope;
        memcpy(nr->scope_org, e->row.scope_org, SC_ID_LEN);
        nr->vis_class = e->row.vis_class;
        nr->released = e->row.released;
        nr->has_inspection = e->row.has_inspection;
        memcpy(nr->inspection, e->row.inspection, SC_ID_LEN);
    } else {
        const ProtobufCBinaryData *target = NULL;
        nr->vis_class = SD_VIS_ALL;
        switch (st->kind_case) {
        case SCPB__ENTITY_STATE__KIND_ORG:
            if (st->org->has_parent && st->org->parent.len == SC_ID_LEN) {
                nr->has_scope = true;
                memcpy(nr->scope_org, st->org->parent.data, SC_ID_LEN);
            }
            break;
        case SCPB__ENTITY_STATE__KIND_TARGET:
            if (st->target->has_org && st->target->org.len == SC_ID_LEN) {
                nr->has_scope = true;
                memcpy(nr->scope_org, st->target->org.data, SC_ID_LEN);
            }
            break;
        case SCPB__ENTITY_STATE__KIND_ASSIGNMENT:
            target = &st->assignment->target;
            nr->vis_class = st->assignment->disclosure == SCPB__DISCLOSURE__DISCLOSURE_OPEN
                                ? SD_VIS_ASSIGNMENT_OPEN
                                : SD_VIS_ASSIGNMENT_SECRET;
            break;
        case SCPB__ENTITY_STATE__KIND_INSPECTION:
            target = &st->inspection->target;
            nr->vis_class = st->inspection->self_check ? SD_VIS_SELF_CHECK : SD_VIS_INSPECTION;
            break;
        case SCPB__ENTITY_STATE__KIND_FINDING:
            target = &st->finding->target;
            nr->vis_class = SD_VIS_FINDING_FREE;
            if (st->finding->has_inspection && st->finding->inspection.len == SC_ID_LEN) {
                nr->vis_class = SD_VIS_INSPECTION;
                nr->has_inspection = true;
                memcpy(nr->inspection, st->finding->inspection.data, SC_ID_LEN);
                sd_ent *in = sd_ent_get(t, nr->inspection);
                if (!in)
                    return t->rc;
                nr->released = in->exists && in->row.released;
                if (in->exists && in->row.vis_class == SD_VIS_SELF_CHECK)
                    nr->vis_class = SD_VIS_SELF_CHECK;
            }
            break;
        default:
            break;
        }
        if (target && target->len == SC_ID_LEN) {
            nr->has_target = true;
            memcpy(nr->target, target->data, SC_ID_LEN);
            sd_ent *tg = sd_ent_get(t, target->data);
            if (!tg)
                return t->rc;
            if (tg->exists && tg->row.has_scope) {
                nr->has_scope = true;
                memcpy(nr->scope_org, tg->row.scope_org, SC_ID_LEN);
            }
        }
    }
    if (st->kind_case == SCPB__ENTITY_STATE__KIND_INSPECTION &&
        st->inspection->status == SCPB__INSPECTION_STATUS__INSPECTION_SUBMITTED)
        nr->released = true;
    return SC_OK;
}

typedef struct rel_ctx {
    sd_txn *t;
    const uint8_t *entity;
    uint64_t before;           /* release ops logged before this index */
    uint8_t (*ids)[SC_ID_LEN]; /* collected findings */
    size_t n, cap;
    bool oom;
} rel_ctx;

/* A release event for the op at log index idx of c->entity, unless it is logged at c->before or later. */
static bool rel_idx(rel_ctx *c, uint64_t idx)
{
    sd_txn *t = c->t;
    if (idx >= c->before)
        return true;
    if (!t->rel_loaded) {
        sc_status rc = t->s->vt->release_next_seq(t->s, &t->rel_seq, t->err);
        if (rc != SC_OK) {
            sd_txn_fail(t, rc);
            return false;
        }
        t->rel_loaded = true;
    }
    sc_status rc = t->s->vt->release_put(t->s, t->rel_seq, c->entity, idx, t->err);
    if (rc != SC_OK) {
        sd_txn_fail(t, rc);
        return false;
    }
    t->rel_seq++;
    return true;
}

static bool rel_op(void *ctx, const sd_op_row *row)
{
    return rel_idx(ctx, row->idx);
}

/*
 * Release events for c->entity's ops, in log order: from the cache when it
 * holds them (the entity was judged in this transaction), else from the log.
 */
static sc_status rel_entity(rel_ctx *c)
{
    sd_txn *t = c->t;
    void **slot = sd_idmap_find(&t->ents, c->entity);
    const sd_ent *e = slot ? *slot : NULL;
    if (e && e->ops_loaded) {
        for (size_t i = 0; i < e->nops && rel_idx(c, e->idx[i]); i++)
            ;
        return t->rc;
    }
    sc_status rc = t->s->vt->entity_ops(t->s, c->entity, rel_op, c, t->err);
    return rc == SC_OK ? t->rc : rc;
}

static bool rel_finding(void *ctx, const sd_entity_row *row)
{
    rel_ctx *c = ctx;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        uint8_t(*v)[SC_ID_LEN] = realloc(c->ids, cap * sizeof *v);
        if (!v) {
            c->oom = true;
            return false;
        }
        c->ids = v;
        c->cap = cap;
    }
    memcpy(c->ids[c->n++], row->id, SC_ID_LEN);
    return true;
}

static int cmp_id16(const void *a, const void *b)
{
    return memcmp(a, b, SC_ID_LEN);
}

/* Is e a finding made in inspection insp whose row this transaction has not written yet? */
static bool unwritten_finding_of(const sd_ent *e, const uint8_t insp[SC_ID_LEN])
{
    return e->dirty && e->row.type == T_(FINDING) && e->row.has_inspection &&
           memcmp(e->row.inspection, insp, SC_ID_LEN) == 0;
}

/*
 * An inspection was just submitted (at log index submit_idx): its earlier
 * ops and all ops of its findings become visible to the inspected unit.
 * Each such op gets a release event, and the findings are marked released.
 *
 * The findings are those the database holds and those this transaction
 * made or changed without writing their rows yet (sd_txn_flush): reading
 * both instead of flushing first keeps every finding's row to one write
 * per group commit, although most findings take more ops after the
 * submission.  They are released in id order, as one query would list
 * them.
 */
static sc_status release_inspection(sd_txn *t, const uint8_t insp[SC_ID_LEN], uint64_t submit_idx)
{
    rel_ctx c = {t, insp, submit_idx, NULL, 0, 0, false};
    sc_status rc = rel_entity(&c);
    if (rc == SC_OK)
        rc = t->s->vt->entity_findings(t->s, insp, rel_finding, &c, t->err);
    for (size_t i = 0; rc == SC_OK && i < t->nall && !c.oom; i++)
        if (unwritten_finding_of(t->all[i], insp))
            rel_finding(&c, &t->all[i]->row);
    if (rc == SC_OK && c.oom)
        rc = sc_err_set(t->err, SC_ERR_NOMEM, 0, "register: out of memory");
    if (rc == SC_OK && c.n > 1) {
        qsort(c.ids, c.n, sizeof *c.ids, cmp_id16);
        size_t m = 1;
        for (size_t i = 1; i < c.n; i++)
            if (memcmp(c.ids[i], c.ids[m - 1], SC_ID_LEN) != 0)
                memcpy(c.ids[m++], c.ids[i], SC_ID_LEN);
        c.n = m;
    }
    for (size_t i = 0; rc == SC_OK && i < c.n; i++) {
        void **slot = sd_idmap_find(&t->ents, c.ids[i]);
        sd_ent *e = slot ? *slot : NULL;
        /* An unwritten row gets the flag with the rest of it, at the flush. */
        if (!e || !e->dirty)
            rc = t->s->vt->entity_set_released(t->s, c.ids[i], t->err);
        if (rc != SC_OK)
            break;
        if (e)
            e->row.released = true;
        sd_notify_released(t, c.ids[i]);
        if ((rc = t->rc) != SC_OK)
            break;
        rel_ctx f = {t, c.ids[i], UINT64_MAX, NULL, 0, 0, false};
        rc = rel_entity(&f);
    }
    free(c.ids);
    return rc == SC_OK ? SC_OK : sd_txn_fail(t, rc);
}

/* ---- the rows each kind derives (the server column of opkinds.def) ---- */

static sc_status derive_org_create(sd_txn *t, const Scpb__Op *op, uint64_t idx)
{
    sd_orgcache_invalidate(&t->c->orgs);
    return t->s->vt->code_put(t->s, T_(ORG_UNIT), op->org_create->code, 0, op->entity.data, t->err);
}

static sc_status derive_target_create(sd_txn *t, const Scpb__Op *op, uint64_t idx)
{
    return t->s->vt->code_put(t->s, T_(TARGET), op->target_create->code, 0, op->entity.data,
                              t->err);
}

static sc_status derive_user_create(sd_txn *t, const Scpb__Op *op, uint64_t idx)
{
    return t->s->vt->code_put(t->s, T_(USER), op->user_create->login, 0, op->entity.data, t->err);
}

static sc_status derive_template_publish(sd_txn *t, const Scpb__Op *op, uint64_t idx)
{
    return t->s->vt->code_put(t->s, T_(TEMPLATE), op->template_publish->code,
                              op->template_publish->version, op->entity.data, t->err);
}

static sc_status derive_device_enroll(sd_txn *t, const Scpb__Op *op, uint64_t idx)
{
    sd_device_row d;
    memset(&d, 0, sizeof d);
    memcpy(d.key, op->device_enroll->key.data, SC_KEY_LEN);
    memcpy(d.device, op->entity.data, SC_ID_LEN);
    memcpy(d.user, op->device_enroll->user.data, SC_ID_LEN);
    d.enrolled_idx = idx;
    return t->s->vt->device_put(t->s, &d, t->err);
}

static sc_status derive_device_revoke(sd_txn *t, const Scpb__Op *op, uint64_t idx)
{
    return t->s->vt->device_revoke(t->s, op->entity.data, idx, t->err);
}

/*
 * A disabled user's unused enrollment codes are revoked in the same commit,
 * so no code handed out before the disable enrolls a device later (codes
 * are not in the log: `syncd audit` does not rebuild them, and a replay of
 * the log leaves them alone).
 */
static sc_status derive_user_disable(sd_txn *t, const Scpb__Op *op, uint64_t idx)
{
    uint64_t n = 0;
    return t->s->vt->enroll_revoke_user(t->s, op->entity.data, t->now, &n, t->err);
}

static sc_status derive_assignment_create(sd_txn *t, const Scpb__Op *op, uint64_t idx)
{
    const Scpb__AssignmentCreate *b = op->assignment_create;
    for (size_t i = 0; i < b->n_inspectors; i++) {
        sc_status rc = t->s->vt->assignee_put(t->s, op->entity.data, b->inspectors[i].data, t->err);
        if (rc != SC_OK)
            return rc;
    }
    return SC_OK;
}

typedef sc_status (*derive_fn)(sd_txn *t, const Scpb__Op *op, uint64_t idx);

#define SRV_DERIVE(refs, derive) derive
static const derive_fn derive_of[] = {
#define SC_OPKIND(CASE, member, name, applies, creates, may, photos, audit, check, fold, server)   \
    SRV_DERIVE server,
#include "core/opkinds.def"
#undef SC_OPKIND
};
#undef SRV_DERIVE

/*
 * The rows an accepted op derives besides its entity: a reference for each
 * photo it names (the table's photos column), and what its kind derives
 * (codes, devices, assignees).
 */
static sc_status derive_tables(sd_txn *t, const sc_op *o, uint64_t idx)
{
    const Scpb__Op *op = o->op;
    const ProtobufCBinaryData *photos = NULL;
    size_t nphotos = sc_op_photos(op, &photos);
    for (size_t i = 0; i < nphotos; i++) {
        sc_status rc =
            photos[i].len == SC_HASH_LEN
                ? t->s->vt->photo_ref_put(t->s, photos[i].data, op->entity.data, idx, t->err)
                : SC_OK;
        if (rc != SC_OK)
            return rc;
    }
    size_t pos = sc_opkind_pos(op->body_case);
    derive_fn fn = pos < sc_opkinds_n ? derive_of[pos] : NULL;
    return fn ? fn(t, op, idx) : SC_OK;
}

sc_status sd_accept(sd_txn *t, sc_op *o, bool own, sd_ent *e, Scpb__EntityState *st,
                    int64_t received_ms, sd_result *res)
{
    const Scpb__Op *op = o->op;
    sd_store *s = t->s;
    uint64_t idx = t->size;
    sd_notify_note(t, e);
    if (t->rc != SC_OK)
        return t->rc;
    sd_op_row row;
    memset(&row, 0, sizeof row);
    row.idx = idx;
    memcpy(row.op_id, o->id, SC_HASH_LEN);
    memcpy(row.entity, op->entity.data, SC_ID_LEN);
    memcpy(row.author, op->author.data, SC_KEY_LEN);
    row.kind = (int)op->body_case;
    row.hlc = op->hlc;
    row.received_ms = received_ms;
    row.signed_op = o->signed_bytes;
    row.signed_len = o->signed_len;
    sc_merkle_leaf_hash(o->signed_bytes, o->signed_len, row.leaf_hash);
    sc_status rc = s->vt->op_append(s, &row, t->err);
    if (rc == SC_OK)
        rc = sd_tlog_append(s, &t->fr, row.leaf_hash, t->err);
    if (rc != SC_OK)
        return sd_txn_fail(t, rc);

    bool was_released = e->exists && e->row.released;
    sd_entity_row nr;
    rc = derive_row(t, e, o, st, (int)op->entity_type, &nr);
    if (rc != SC_OK)
        return sd_txn_fail(t, rc);
    nr.last_idx = idx;
    /*
     * Inspections and findings take many ops in a row (item results,
     * photos, the submission, the lifecycle): their rows are written once
     * per transaction, by sd_txn_flush, from the cache, which always holds
     * the newest row and state.  Everything else (org units, users,
     * devices, ...) is written now: other queries read those rows.
     */
    bool defer = nr.type == T_(INSPECTION) || nr.type == T_(FINDING);
    if (!st && (!defer || !e->exists || !e->ops_loaded))
        return sd_txn_fail(t, sc_err_set(t->err, SC_ERR_INTERNAL, 0,
                                         "register: an op without its state outside an "
                                         "inspection or finding"));
    if (!defer) {
        uint8_t *buf = NULL;
        size_t len = 0;
        if (sc_state_encode(t->env, st, &buf, &len) != SC_OK)
            return sd_txn_fail(t, sc_err_set(t->err, SC_ERR_NOMEM, 0, "register: out of memory"));
        nr.state = buf;
        nr.state_len = len;
        sc_sha256(buf, len, nr.state_hash);
        rc = s->vt->entity_put(s, &nr, t->err);
        sc_free(t->env, buf);
        nr.state = NULL;
        nr.state_len = 0;
    }
    /* The cache now holds the new row and state (and owes the database the row when deferred). */
    free(e->row.state);
    e->row = nr;
    e->exists = true;
    if (st) {
        sc_state_free(t->env, e->state);
        e->state = st;
    }
    e->stale = !st;
    if (defer && !e->dirty) {
        e->dirty = true;
        t->ndirty++;
    }
    if (rc == SC_OK)
        rc = derive_tables(t, o, idx);
    if (rc == SC_OK && nr.type == T_(INSPECTION) && nr.released && !was_released)
        rc = release_inspection(t, e->id, idx);
    if (rc != SC_OK)
        return sd_txn_fail(t, rc);
    if (!sd_ent_push_op(e, o, idx, own))
        return sd_txn_fail(t, sc_err_set(t->err, SC_ERR_NOMEM, 0, "register: out of memory"));
    t->cached_ops++;
    t->size++;
    res->status = SCPB__OP_STATUS__OP_ACCEPTED;
    res->log_index = idx;
    res->reason = SC_REASON_NONE;
    res->message[0] = '\0';
    return SC_OK;
}
