/*
 * register_judge.c: judging one op against the register, in the order of
 * docs/protocol.md §5 (the first failing check names the reason): author
 * and device, clock, entity type and role, dependencies refused in this
 * request, the entity's existence, visibility and scope, references,
 * dependencies and HLC order, the entity's op budget, and finally the
 * transition, by folding the op into the entity's ops with the core fold.
 *
 * Invariants:
 *  - Judging only reads: nothing is written for an op until every check
 *    passed, and then only by sd_accept (register_accept.c).
 *  - Every check reads the database as this transaction has left it so
 *    far (through the txn's entity cache), so an op may build on one
 *    accepted earlier in the same commit, from any request in it.
 *  - A verdict is not a failure: a rejected op leaves res rejected and the
 *    functions return SC_OK; a storage failure is sticky in the txn.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sodium.h>
#include <string.h>

#include "core/governance.h"
#include "core/hlc.h"
#include "core/ids.h"
#include "core/merge.h"
#include "core/names.h"
#include "core/opkind.h"
#include "core/policy.h"
#include "core/score.h"
#include "register_internal.h"

sc_status sd_reject(sd_result *res, int reason, const char *fmt, ...)
{
    res->status = SCPB__OP_STATUS__OP_REJECTED;
    res->reason = reason;
    res->log_index = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->message, sizeof res->message, fmt, ap);
    va_end(ap);
    return SC_OK;
}

bool sd_rejected(const sd_result *res)
{
    return res->status == SCPB__OP_STATUS__OP_REJECTED;
}

sc_status sd_txn_user_of(void *ctx, const uint8_t key[SC_KEY_LEN], uint8_t user[SC_ID_LEN])
{
    sd_txn *t = ctx;
    sd_device_row d;
    sc_status rc = t->s->vt->device_get(t->s, key, &d, t->err);
    if (rc == SC_OK)
        memcpy(user, d.user, SC_ID_LEN);
    return rc;
}

/* org lies in the principal's subtree (admins: everywhere). */
static bool within(sd_txn *t, const sd_principal *p, const uint8_t org[SC_ID_LEN])
{
    if (sd_is_admin(p))
        return true;
    const sd_orgtree *tree = NULL;
    sc_status rc = sd_orgcache_get(&t->c->orgs, t->s, &tree, t->err);
    if (rc != SC_OK) {
        sd_txn_fail(t, rc);
        return false;
    }
    return sd_orgtree_within(tree, org, p->org);
}

/* The inspection an entity belongs to: itself, or the one a finding was made in; else NULL. */
static const uint8_t *ent_inspection(const sd_ent *e)
{
    if (e->row.type == T_(INSPECTION))
        return e->id;
    return e->row.has_inspection ? e->row.inspection : NULL;
}

/* The entity is visible to p (docs/protocol.md §6); false on a storage error (t->rc). */
static bool ent_visible(sd_txn *t, const sd_principal *p, sd_ent *e)
{
    sd_viewer v = {p, t->s, t->env, NULL, NULL};
    sd_vis_facts f = {e->id, e->row.vis_class, e->row.released,
                      e->row.has_scope ? e->row.scope_org : NULL, ent_inspection(e)};
    bool vis = false;
    sc_status rc = sd_orgcache_get(&t->c->orgs, t->s, &v.tree, t->err);
    /* Out of scope, sd_visible_to reads the inspection's state from the database. */
    if (rc == SC_OK && t->ndirty && f.vis_class == SD_VIS_INSPECTION &&
        !(f.scope_org && sd_orgtree_within(v.tree, f.scope_org, p->org)))
        rc = sd_txn_flush(t);
    if (rc == SC_OK)
        rc = sd_visible_to(&v, &f, &vis, t->err);
    if (rc != SC_OK)
        sd_txn_fail(t, rc);
    return vis;
}

/*
 * Cross-district checks (DOMAIN.md §1, docs/protocol.md §6): may p work
 * outside their scope on inspection insp (or a finding made in it),
 * because p is named on the assignment it was opened under?  False on a
 * storage error (t->rc).
 */
static bool named_on_inspection(sd_txn *t, const sd_principal *p, const uint8_t *insp)
{
    bool named = false;
    if (!insp || p->is_server)
        return false;
    /* The inspection's state is read from the database: write what this transaction holds. */
    sc_status rc = sd_txn_flush(t);
    if (rc == SC_OK)
        rc = sd_named_on_inspection(t->s, t->env, insp, p->user, &named, t->err);
    if (rc != SC_OK)
        sd_txn_fail(t, rc);
    return named;
}

/*
 * A referenced entity of `type` that the author can see; NULL when it is
 * missing, of another type or hidden from a (res rejected with
 * UNKNOWN_REFERENCE naming `what`, one message for all three, so a
 * reference cannot probe what the author may not see) or on a storage
 * error.  Entities every user sees (org units, targets, users, score
 * sheets) need no visibility check.
 */
static sd_ent *ref(sd_txn *t, const sd_actor *a, const ProtobufCBinaryData *id, int type,
                   const char *what, sd_result *res)
{
    char hex[SC_ID_HEX];
    if (id->len != SC_ID_LEN) {
        sd_reject(res, R_(UNKNOWN_REFERENCE), "%s is not an entity id", what);
        return NULL;
    }
    sd_ent *e = sd_ent_get(t, id->data);
    if (!e)
        return NULL;
    bool hidden = false;
    if (e->exists && e->row.vis_class != SD_VIS_ALL && !sd_is_admin(&a->p)) {
        hidden = !ent_visible(t, &a->p, e);
        if (t->rc != SC_OK)
            return NULL;
    }
    if (!e->exists || hidden || e->row.type != type) {
        sd_hex_id(id->data, SC_ID_LEN, hex, sizeof hex);
        sd_reject(res, R_(UNKNOWN_REFERENCE), "%s %s is not a known %s", what, hex,
                  sd_type_name(type));
        return NULL;
    }
    return e;
}

sd_ent *sd_judge_ref(sd_txn *t, const sd_actor *a, const ProtobufCBinaryData *id, int type,
                     const char *what, sd_result *res)
{
    return ref(t, a, id, type, what, res);
}

/*
 * Does a create op work under an assignment that names its author?  via is
 * the assignment an inspection_open names (via_type ASSIGNMENT), or the
 * inspection a finding_create names (via_type INSPECTION: its assignment
 * counts); it must exist and be for `target`.  False on a storage error.
 */
static bool works_under_assignment(sd_txn *t, const sd_actor *a, int via_type,
                                   const ProtobufCBinaryData *via, const uint8_t target[SC_ID_LEN])
{
    if (!via || via->len != SC_ID_LEN)
        return false;
    sd_ent *w = sd_ent_get(t, via->data);
    if (!w || !w->exists || w->row.type != via_type || !w->row.has_target ||
        memcmp(w->row.target, target, SC_ID_LEN) != 0)
        return false;
    if (via_type == T_(INSPECTION))
        return named_on_inspection(t, &a->p, w->id);
    sc_status rc = t->s->vt->assignee_has(t->s, w->id, a->p.user, t->err);
    if (rc != SC_OK && rc != SC_ERR_NOT_FOUND)
        sd_txn_fail(t, rc);
    return rc == SC_OK;
}

/*
 * The target of a create op: it exists and lies in the author's scope, or
 * (cross-district checks) the op works under an assignment naming the
 * author: see works_under_assignment; via is NULL for other ops.
 */
static sd_ent *target_in_scope(sd_txn *t, const sd_actor *a, const ProtobufCBinaryData *id,
                               int via_type, const ProtobufCBinaryData *via, sd_result *res)
{
    sd_ent *tg = ref(t, a, id, T_(TARGET), "target", res);
    if (!tg)
        return NULL;
    if (sd_is_admin(&a->p) || (tg->row.has_scope && within(t, &a->p, tg->row.scope_org)))
        return tg;
    if (t->rc == SC_OK && works_under_assignment(t, a, via_type, via, tg->id) && t->rc == SC_OK)
        return tg;
    if (t->rc == SC_OK) {
        const Scpb__EntityState *st = sd_ent_state(t, tg);
        const char *why = !via                         ? ""
                          : via_type == T_(INSPECTION) ? ", and the inspection's assignment does "
                                                         "not name you"
                                                       : ", and the assignment does not name you";
        sd_reject(res, R_(OUT_OF_SCOPE), "target %s is outside your org unit's scope%s",
                  st && st->target && st->target->code ? st->target->code : "?", why);
    }
    return NULL;
}

static sc_status code_unique(sd_txn *t, int kind, const char *code, uint32_t version,
                             sd_result *res, const char *what)
{
    uint8_t other[SC_ID_LEN];
    sc_status rc = t->s->vt->code_find(t->s, kind, code, version, other, t->err);
    if (rc == SC_OK) {
        if (kind == T_(TEMPLATE))
            return sd_reject(res, R_(DUPLICATE_CODE), "%s \"%s\" version %u already exists", what,
                             code, version);
        return sd_reject(res, R_(DUPLICATE_CODE), "%s \"%s\" is already in use", what, code);
    }
    return rc == SC_ERR_NOT_FOUND ? SC_OK : sd_txn_fail(t, rc);
}

/* The item results an op of an inspection writes (*out), and how many. */
static size_t op_item_results(const Scpb__Op *op, Scpb__ItemResult *const **out)
{
    switch (op->body_case) {
    case K_(ITEM_RESULT):
        *out = &op->item_result;
        return 1;
    case K_(INSPECTION_AMEND):
        *out = op->inspection_amend->results;
        return op->inspection_amend->n_results;
    case K_(RESOLVE):
        *out = &op->resolve->result;
        return op->resolve->field == SCPB__FIELD__FIELD_ITEM && op->resolve->result ? 1 : 0;
    default:
        return 0;
    }
}

/* The key of item code c in e->codes: SipHash under e's key, so no code is made to collide. */
static void code_key(const sd_ent *e, const char *c, uint8_t key[SC_ID_LEN])
{
    _Static_assert(crypto_shorthash_siphashx24_BYTES == SC_ID_LEN, "a code's key is an id's size");
    crypto_shorthash_siphashx24(key, (const unsigned char *)c, strlen(c), e->code_key);
}

/*
 * A free-form inspection (no score sheet) takes any item codes, and each is
 * a register that the fold looks up and the state lists.  Unbounded, 4,096
 * amendments of 500 new codes each made one inspection of two million
 * items, and each fold of it quadratic in them: at 35,000 codes a push of
 * ten amendments held the register's one writer, and every other device's
 * push, for minutes.  So it scores at most as many items as a sheet holds
 * (SC_TEMPLATE_ITEMS_MAX).  The codes its logged ops name are kept on the
 * entity for the transaction, added as ops are logged, so a check costs the
 * op's own codes.
 */
static sc_status check_free_items(sd_txn *t, sd_ent *insp, Scpb__ItemResult *const *results,
                                  size_t n, sd_result *res)
{
    uint8_t key[SC_ID_LEN];
    size_t fresh = 0;
    for (size_t i = 0; i < n; i++) {
        const char *c = results[i]->item_code ? results[i]->item_code : "";
        code_key(insp, c, key);
        bool known = sd_idmap_find(&insp->codes, key) != NULL;
        for (size_t j = 0; j < i && !known; j++)
            known = results[j]->item_code && strcmp(results[j]->item_code, c) == 0;
        fresh += !known;
    }
    if (insp->codes.n + fresh > SC_TEMPLATE_ITEMS_MAX)
        return sd_reject(res, R_(BAD_FIELD),
                         "a free-form inspection scores at most %d items, as a score sheet holds "
                         "(SC_TEMPLATE_ITEMS_MAX): it has %zu, and this op names %zu more",
                         SC_TEMPLATE_ITEMS_MAX, insp->codes.n, fresh);
    return SC_OK;
}

/*
 * The item results the inspection's logged ops wrote (insp->results_n), and
 * for a free-form one the codes they name (insp->codes), brought up to its
 * last logged op.  Kept on the entity for the transaction: a check costs
 * the ops logged since the last one.
 */
static sc_status scan_results(sd_txn *t, sd_ent *insp, bool free_form)
{
    if (insp->codes_scanned == 0)
        sc_env_random(t->env, insp->code_key, sizeof insp->code_key);
    uint8_t key[SC_ID_LEN];
    for (; insp->codes_scanned < insp->nops; insp->codes_scanned++) {
        Scpb__ItemResult *const *v = NULL;
        size_t m = op_item_results(insp->ops[insp->codes_scanned]->op, &v);
        insp->results_n += m;
        for (size_t k = 0; free_form && k < m; k++) {
            code_key(insp, v[k]->item_code ? v[k]->item_code : "", key);
            if (!sd_idmap_put(&insp->codes, key, (void *)1))
                return sd_txn_fail(t,
                                   sc_err_set(t->err, SC_ERR_NOMEM, 0, "register: out of memory"));
        }
    }
    return SC_OK;
}

/*
 * Item results against the inspection's score sheet: known item codes,
 * points within the item's maximum; and at most SC_INSPECTION_RESULTS_MAX
 * results over the inspection's life.  Each push of an op on an
 * inspection folds all of its ops again: an inspector's device amending
 * all 500 items of one inspection 4,096 times made each push cost the
 * register's one writer about 1 ms per op already logged (seconds at the
 * op limit), for 20 KB a request.
 */
static sc_status check_items(sd_txn *t, sd_ent *insp, Scpb__ItemResult *const *results, size_t n,
                             sd_result *res)
{
    /* The score sheet is the inspection's from its open: any of its states will do. */
    const Scpb__EntityState *st = sd_ent_created_state(t, insp);
    if (!st)
        return t->rc;
    bool free_form =
        st->kind_case != SCPB__ENTITY_STATE__KIND_INSPECTION || !st->inspection->has_template_;
    if (scan_results(t, insp, free_form) != SC_OK)
        return t->rc;
    if (insp->results_n + n > SC_INSPECTION_RESULTS_MAX)
        return sd_reject(res, R_(ENTITY_FULL),
                         "the inspection already holds %zu item results, and takes at most %d "
                         "over its life (SC_INSPECTION_RESULTS_MAX)",
                         insp->results_n, SC_INSPECTION_RESULTS_MAX);
    if (free_form)
        return check_free_items(t, insp, results, n, res);
    sd_ent *te = sd_ent_get(t, st->inspection->template_.data);
    if (!te)
        return t->rc;
    const Scpb__EntityState *ts = sd_ent_state(t, te);
    if (!ts || ts->kind_case != SCPB__ENTITY_STATE__KIND_TEMPLATE)
        return t->rc;
    /* The rules of core/score.h, which the client applies before it records. */
    for (size_t i = 0; i < n; i++) {
        char why[SC_ERR_MSG_MAX];
        int reason = sc_score_check_result(ts->template_, results[i], why, sizeof why);
        if (reason != SC_REASON_NONE)
            return sd_reject(res, reason, "%s", why);
    }
    return SC_OK;
}

/* A FIELD_RESPONSIBLE value: 32 hex digits naming an org unit. */
static sc_status check_responsible_text(sd_txn *t, const sd_actor *a, const char *value,
                                        sd_result *res)
{
    uint8_t id[SC_ID_LEN];
    if (!value || sc_hex_decode(value, strlen(value), id, SC_ID_LEN) != SC_OK)
        return sd_reject(res, R_(BAD_FIELD), "responsible must be 32 hex digits");
    ProtobufCBinaryData b = {SC_ID_LEN, id};
    ref(t, a, &b, T_(ORG_UNIT), "responsible org unit", res);
    return t->rc;
}

/* ---- what each kind's body references (the server column of opkinds.def) ---- */

static sc_status refs_org_create(sd_txn *t, const sd_actor *a, const Scpb__Op *op, sd_ent *e,
                                 sd_result *res)
{
    const Scpb__OrgCreate *b = op->org_create;
    if (b->has_parent && !ref(t, a, &b->parent, T_(ORG_UNIT), "parent org unit", res))
        return t->rc;
    return code_unique(t, T_(ORG_UNIT), b->code, 0, res, "org unit code");
}

/* The org unit a target or user belongs to, and the code it claims among those of its type. */
static sc_status org_and_code(sd_txn *t, const sd_actor *a, const ProtobufCBinaryData *org,
                              int type, const char *code, const char *what, sd_result *res)
{
    if (!ref(t, a, org, T_(ORG_UNIT), "org unit", res))
        return t->rc;
    return code_unique(t, type, code, 0, res, what);
}

static sc_status refs_target_create(sd_txn *t, const sd_actor *a, const Scpb__Op *op, sd_ent *e,
                                    sd_result *res)
{
    const Scpb__TargetCreate *b = op->target_create;
    return org_and_code(t, a, &b->org, T_(TARGET), b->code, "target code", res);
}

static sc_status refs_user_create(sd_txn *t, const sd_actor *a, const Scpb__Op *op, sd_ent *e,
                                  sd_result *res)
{
    const Scpb__UserCreate *b = op->user_create;
    return org_and_code(t, a, &b->org, T_(USER), b->login, "login", res);
}

static sc_status refs_device_enroll(sd_txn *t, const sd_actor *a, const Scpb__Op *op, sd_ent *e,
                                    sd_result *res)
{
    const Scpb__DeviceEnroll *b = op->device_enroll;
    sd_ent *u = ref(t, a, &b->user, T_(USER), "user", res);
    if (!u)
        return t->rc;
    const Scpb__EntityState *us = sd_ent_state(t, u);
    if (!us)
        return t->rc;
    if (us->kind_case == SCPB__ENTITY_STATE__KIND_USER && us->user->disabled)
        return sd_reject(res, R_(USER_DISABLED), "user %s is disabled: no device enrolls for it",
                         us->user->login ? us->user->login : "?");
    if (b->key.len != SC_KEY_LEN || memcmp(b->key.data, t->r->server_key, SC_KEY_LEN) == 0)
        return sd_reject(res, R_(BAD_FIELD), "the server key cannot be enrolled as a device");
    sd_device_row d;
    sc_status rc = t->s->vt->device_get(t->s, b->key.data, &d, t->err);
    if (rc == SC_OK)
        return sd_reject(res, R_(ENTITY_EXISTS), "this device key is already enrolled");
    return rc == SC_ERR_NOT_FOUND ? SC_OK : sd_txn_fail(t, rc);
}

/*
 * A change to a user (role, access) builds on every earlier op of the user:
 * its deps are exactly the user's heads.  So a user's ops are logged one
 * after another, never concurrently, and the order in which they take
 * effect for the user's devices (the log's: sd_principal_load reads the
 * state as of each request) is the order the fold gives them; core/audit.c
 * checks the same.  sd_register_admin_op fills in the heads, so `syncd
 * admin` always meets this; an admin's device that acted on an older view
 * of the user is told to look again.
 */
static sc_status refs_user_act(sd_txn *t, const sd_actor *a, const Scpb__Op *op, sd_ent *e,
                               sd_result *res)
{
    const Scpb__EntityState *st = sd_ent_state(t, e);
    if (!st)
        return t->rc;
    bool same = op->n_deps == st->n_heads;
    for (size_t i = 0; same && i < op->n_deps; i++) {
        bool found = false;
        for (size_t k = 0; k < st->n_heads && !found; k++)
            found = op->deps[i].len == SC_HASH_LEN && st->heads[k].len == SC_HASH_LEN &&
                    memcmp(op->deps[i].data, st->heads[k].data, SC_HASH_LEN) == 0;
        same = found;
    }
    if (!same)
        return sd_reject(res, R_(INVALID_TRANSITION),
                         "user %s changed since this op was made: a change to a user must build "
                         "on its latest op",
                         st->user && st->user->login ? st->user->login : "?");
    return SC_OK;
}

static sc_status refs_template_publish(sd_txn *t, const sd_actor *a, const Scpb__Op *op, sd_ent *e,
                                       sd_result *res)
{
    const Scpb__TemplatePublish *b = op->template_publish;
    return code_unique(t, T_(TEMPLATE), b->code, b->version, res, "score sheet");
}

static sc_status refs_assignment_create(sd_txn *t, const sd_actor *a, const Scpb__Op *op, sd_ent *e,
                                        sd_result *res)
{
    const Scpb__AssignmentCreate *b = op->assignment_create;
    if (!target_in_scope(t, a, &b->target, 0, NULL, res))
        return t->rc;
    for (size_t i = 0; i < b->n_inspectors; i++) {
        sd_ent *u = ref(t, a, &b->inspectors[i], T_(USER), "inspector", res);
        if (!u)
            return t->rc;
        const Scpb__EntityState *us = sd_ent_state(t, u);
        if (!us)
            return t->rc;
        if (us->kind_case == SCPB__ENTITY_STATE__KIND_USER &&
            us->user->role != SCPB__ROLE__ROLE_INSPECTOR &&
            us->user->role != SCPB__ROLE__ROLE_SUPERVISOR)
            return sd_reject(res, R_(BAD_FIELD), "%s is a %s, not an inspector or supervisor",
                             us->user->login ? us->user->login : "?",
                             sc_name_of(&sc_names_role, us->user->role));
    }
    if (b->has_template_ && !ref(t, a, &b->template_, T_(TEMPLATE), "score sheet", res))
        return t->rc;
    sc_status rc = sd_refs_rechecks(t, a, b, res);
    if (rc != SC_OK || res->reason != 0)
        return rc;
    return sd_refs_verifies(t, a, b, res);
}

static sc_status refs_inspection_open(sd_txn *t, const sd_actor *a, const Scpb__Op *op, sd_ent *e,
                                      sd_result *res)
{
    const Scpb__InspectionOpen *b = op->inspection_open;
    sc_status rc = sd_self_open(t, a, b, res);
    if (rc != SC_OK || res->reason != 0)
        return rc;
    if (!target_in_scope(t, a, &b->target, T_(ASSIGNMENT),
                         b->has_assignment ? &b->assignment : NULL, res))
        return t->rc;
    if (b->has_template_ && !ref(t, a, &b->template_, T_(TEMPLATE), "score sheet", res))
        return t->rc;
    if (b->has_assignment) {
        sd_ent *as = ref(t, a, &b->assignment, T_(ASSIGNMENT), "assignment", res);
        if (!as)
            return t->rc;
        if (!as->row.has_target || memcmp(as->row.target, b->target.data, SC_ID_LEN) != 0)
            return sd_reject(res, R_(BAD_FIELD), "the assignment is for another target");
    }
    return SC_OK;
}

static sc_status refs_finding_create(sd_txn *t, const sd_actor *a, const Scpb__Op *op, sd_ent *e,
                                     sd_result *res)
{
    const Scpb__FindingCreate *b = op->finding_create;
    /*
     * Findings logged before keep their rules; a new one follows today's
     * (core/governance.h).  One an older client recorded before this
     * register ran with them (an upgraded tablet's queue) is taken under
     * its earlier rules; after that, an older client is refused.
     */
    if (!b->has_rules && SC_HLC_MS(op->hlc) >= t->r->gov_since_ms)
        return sd_reject(res, R_(BAD_FIELD),
                         "a new finding follows the rectification rules %d (notice, plan, "
                         "sign-for, extensions, acceptance): this client is older than the "
                         "register; update it",
                         SC_GOV_RULES);
    if (!target_in_scope(t, a, &b->target, T_(INSPECTION),
                         b->has_inspection ? &b->inspection : NULL, res))
        return t->rc;
    if (b->has_inspection) {
        sd_ent *in = ref(t, a, &b->inspection, T_(INSPECTION), "inspection", res);
        if (!in)
            return t->rc;
        if (!in->row.has_target || memcmp(in->row.target, b->target.data, SC_ID_LEN) != 0)
            return sd_reject(res, R_(UNKNOWN_REFERENCE),
                             "the finding's inspection is of another target");
    }
    if (b->has_responsible &&
        !ref(t, a, &b->responsible, T_(ORG_UNIT), "responsible org unit", res))
        return t->rc;
    return sd_self_finding(t, a, b, res);
}

static sc_status refs_item_result(sd_txn *t, const sd_actor *a, const Scpb__Op *op, sd_ent *e,
                                  sd_result *res)
{
    sc_status rc = sd_self_inspection_act(t, a, op, e, res);
    if (rc != SC_OK || res->reason != 0)
        return rc;
    return check_items(t, e, &op->item_result, 1, res);
}

static sc_status refs_inspection_amend(sd_txn *t, const sd_actor *a, const Scpb__Op *op, sd_ent *e,
                                       sd_result *res)
{
    sc_status rc = sd_self_inspection_act(t, a, op, e, res);
    if (rc != SC_OK || res->reason != 0)
        return rc;
    return check_items(t, e, op->inspection_amend->results, op->inspection_amend->n_results, res);
}

static sc_status refs_field_edit(sd_txn *t, const sd_actor *a, const Scpb__Op *op, sd_ent *e,
                                 sd_result *res)
{
    if (op->field_edit->field == SCPB__FIELD__FIELD_RESPONSIBLE)
        return check_responsible_text(t, a, op->field_edit->value, res);
    return SC_OK;
}

static sc_status refs_resolve(sd_txn *t, const sd_actor *a, const Scpb__Op *op, sd_ent *e,
                              sd_result *res)
{
    if (op->resolve->field == SCPB__FIELD__FIELD_RESPONSIBLE)
        return check_responsible_text(t, a, op->resolve->value, res);
    if (op->resolve->field == SCPB__FIELD__FIELD_ITEM && e->row.type == T_(INSPECTION) &&
        op->resolve->result)
        return check_items(t, e, &op->resolve->result, 1, res);
    return SC_OK;
}

typedef sc_status (*refs_fn)(sd_txn *t, const sd_actor *a, const Scpb__Op *op, sd_ent *e,
                             sd_result *res);

#define SRV_REFS(refs, derive) refs
static const refs_fn refs_of[] = {
#define SC_OPKIND(CASE, member, name, applies, creates, may, photos, audit, check, fold, server)   \
    SRV_REFS server,
#include "core/opkinds.def"
#undef SC_OPKIND
};
#undef SRV_REFS

/* What the op's body references exists, is visible to the author and fits (the kind's refs). */
static sc_status check_refs(sd_txn *t, const sd_actor *a, const sc_op *o, sd_ent *e, sd_result *res)
{
    size_t pos = sc_opkind_pos(o->op->body_case);
    refs_fn fn = pos < sc_opkinds_n ? refs_of[pos] : NULL;
    return fn ? fn(t, a, o->op, e, res) : SC_OK;
}

/* ---- the batch fold ---- */

/*
 * The fold judges every op against its own causal past (merge.h), so one
 * fold of an entity's logged ops together with all of this group commit's
 * later ops of that entity gives, for each of them, the verdict a fold of
 * the logged ops plus that op alone would give, provided that:
 *  - the op reaches the fold step only with every dep logged (checked
 *    before), so its causal past is made of logged ops in both folds;
 *  - the set holds no second create op (a create is judged against the
 *    whole set: "already created"), so creates are left out of it;
 *  - every dep of an op in the set is in the set (else the fold refuses
 *    the whole set), so an op joins only after all its deps did.
 * An op of the set that is later refused for another reason (visibility,
 * a reference) changes nothing for the others: an op depending on it is
 * refused before its fold step, as today.  Folding each op on its own
 * instead made an entity of n ops in one commit cost n folds of up to n
 * ops.  The state after each op is no longer needed by then (sd_accept
 * leaves it stale; it is folded once when the row is written), which is
 * why only inspections and findings, whose rows are written at the end of
 * the commit, take this path.
 */

/* Is op id one of the set's ops?  (The map keys on 16 of its 32 bytes.) */
static bool set_has(const sd_idmap *m, const uint8_t id[SC_HASH_LEN])
{
    void **slot = sd_idmap_find(m, id);
    return slot && memcmp(*slot, id, SC_HASH_LEN) == 0;
}

/* Run the batch fold of e for op o (the first of its ops judged since the last run). */
static void batch_fold(sd_txn *t, sd_ent *e, sc_op *o)
{
    sd_pend *p = t->pend;
    size_t cap = e->nops;
    for (size_t j = p->cur; j != SIZE_MAX && cap < SC_ENTITY_OPS_MAX; j = p->next[j])
        cap++;
    sc_fold_input *in = malloc((cap ? cap : 1) * sizeof *in);
    sd_idmap ids;
    memset(&ids, 0, sizeof ids);
    size_t n = 0, first = e->nops;
    bool oom = !in;
    sc_fold_out fo;
    memset(&fo, 0, sizeof fo);
    for (size_t i = 0; !oom && i < e->nops; i++) {
        in[n].id = e->ops[i]->id;
        in[n++].op = e->ops[i]->op;
        oom = !sd_idmap_put(&ids, e->ops[i]->id, (void *)(uintptr_t)e->ops[i]->id);
    }
    for (size_t j = p->cur; !oom && j != SIZE_MAX && n < cap; j = p->next[j]) {
        const sc_op *m = p->ops[j];
        const Scpb__Op *op = m->op;
        bool fits = j == p->cur ? m == o
                                : !sc_op_kind_is_create(op->body_case) &&
                                      op->entity_type == (Scpb__EntityType)e->row.type &&
                                      op->author.len == SC_KEY_LEN &&
                                      op->n_deps <= SC_DEPS_MAX && !set_has(&ids, m->id);
        for (size_t d = 0; fits && d < op->n_deps; d++)
            fits = op->deps[d].len == SC_HASH_LEN && set_has(&ids, op->deps[d].data);
        if (!fits) {
            if (j == p->cur)
                break; /* o is not the op being judged: no batch fold */
            continue;
        }
        in[n].id = m->id;
        in[n++].op = op;
        oom = !sd_idmap_put(&ids, m->id, (void *)(uintptr_t)m->id);
    }
    sc_err ferr;
    sc_err_clear(&ferr);
    /* Any failure leaves e without verdicts: its ops are then folded one by one, as before. */
    sc_users users = sd_txn_users(t);
    if (!oom && n > first && sc_fold(t->env, &users, in, n, &fo, &ferr) == SC_OK) {
        /* Kept: when every op of the set is accepted, as is usual, it is the state to store. */
        e->batch_state = fo.state;
        e->batch_first = first;
        e->batch_n = n;
        fo.state = NULL;
        e->verdicts = malloc((n - first) * sizeof *e->verdicts);
        for (size_t i = first; e->verdicts && i < n; i++) {
            sd_verdict *v = &e->verdicts[e->nverdicts++];
            v->id = in[i].id;
            v->why = fo.why[i];
            if (!sd_idmap_put(&e->vmap, v->id, v)) {
                sd_idmap_dispose(&e->vmap);
                free(e->verdicts);
                e->verdicts = NULL;
                e->nverdicts = 0;
            }
        }
    }
    sc_fold_out_dispose(t->env, &fo);
    sd_idmap_dispose(&ids);
    free(in);
}

/*
 * The batch fold's verdict on o, an op of the existing inspection or
 * finding e whose deps are all logged; NULL when there is none (then o is
 * folded on its own).
 */
static const sd_verdict *batch_verdict(sd_txn *t, sd_ent *e, sc_op *o)
{
    if (!t->pend || !e->exists || (e->row.type != T_(INSPECTION) && e->row.type != T_(FINDING)))
        return NULL;
    if (!e->folded) {
        e->folded = true;
        batch_fold(t, e, o);
    }
    void **slot = sd_idmap_find(&e->vmap, o->id);
    const sd_verdict *v = slot ? *slot : NULL;
    return v && memcmp(v->id, o->id, SC_HASH_LEN) == 0 ? v : NULL;
}

/*
 * The op's own entity, for the author: visible (else answered as a
 * nonexistent one), existing exactly when the op is not a create, of the
 * type the op names, and for an assignment, inspection or finding in the
 * author's scope or worked on under an assignment that names them.  A
 * refusal leaves res rejected; returns the txn's status.
 */
static sc_status judge_entity(sd_txn *t, const sd_actor *a, const Scpb__Op *op, sd_ent *e,
                              sd_result *res)
{
    int type = (int)op->entity_type;
    bool create = sc_op_kind_is_create(op->body_case);
    char hex[SC_ID_HEX];
    sd_hex_id(op->entity.data, SC_ID_LEN, hex, sizeof hex);
    /*
     * Visibility before existence and type: an entity the author may not
     * see is answered exactly as an id the register does not have (reason
     * and message, which names only what the op itself claims), so no
     * answer tells a hidden entity from a random id, nor its type.  A
     * create on a hidden entity's id is refused, as it must be, without
     * its type: ids are the creator's UUIDv7s, so it takes the id itself
     * (never handed out) to get that far.
     */
    bool hidden = false;
    if (e->exists && !sd_is_admin(&a->p)) {
        hidden = !ent_visible(t, &a->p, e);
        if (t->rc != SC_OK)
            return t->rc;
    }
    if (!create && (!e->exists || hidden))
        return sd_reject(res, R_(UNKNOWN_ENTITY), "%s %s does not exist", sd_type_name(type), hex);
    if (create && e->exists)
        return sd_reject(res, R_(ENTITY_EXISTS), "%s %s already exists",
                         sd_type_name(hidden ? type : e->row.type), hex);
    if (!create && e->row.type != type)
        return sd_reject(res, R_(WRONG_ENTITY_TYPE), "entity %s is a %s, not a %s", hex,
                         sd_type_name(e->row.type), sd_type_name(type));

    if (!create && !sd_is_admin(&a->p)) {
        bool scoped = type == T_(ASSIGNMENT) || type == T_(INSPECTION) || type == T_(FINDING);
        /* Outside scope only an inspection of an assignment naming the author, and its findings. */
        if (scoped && !(e->row.has_scope && within(t, &a->p, e->row.scope_org)) &&
            !(t->rc == SC_OK && named_on_inspection(t, &a->p, ent_inspection(e)))) {
            if (t->rc != SC_OK)
                return t->rc;
            return sd_reject(res, R_(OUT_OF_SCOPE), "%s %s is outside your org unit's scope",
                             sd_type_name(type), hex);
        }
    }
    return t->rc;
}

/* ---- the verdict ---- */

/* The author: the device that sent the op, enrolled, not revoked, its clock not ahead. */
static sc_status judge_author(sd_txn *t, const sd_actor *a, const Scpb__Op *op, sd_result *res)
{
    if (op->author.len != SC_KEY_LEN || memcmp(op->author.data, a->p.device, SC_KEY_LEN) != 0)
        return sd_reject(res, R_(AUTHOR_MISMATCH),
                         "the op's author is not the device that sent it");
    if (a->unknown)
        return sd_reject(res, R_(UNKNOWN_DEVICE), "the author device is not enrolled");
    if (a->p.revoked)
        return sd_reject(res, R_(DEVICE_REVOKED), "the author device is revoked");
    if (a->p.disabled)
        return sd_reject(res, R_(USER_DISABLED), "the author device's user %s is disabled",
                         a->p.login);
    if (sc_hlc_is_ahead(op->hlc, t->now, t->r->cfg.clock_skew_ms))
        return sd_reject(res, R_(CLOCK_AHEAD),
                         "device clock is ahead: the op is %lld ms past the server clock (%lld "
                         "allowed)",
                         (long long)(SC_HLC_MS(op->hlc) - t->now),
                         (long long)t->r->cfg.clock_skew_ms);
    return SC_OK;
}

/*
 * The kind, as its entry in the op-kind table says: it applies to the
 * entity type, and the author's role may make it there.  Then its deps:
 * none was refused earlier in this request.
 */
static sc_status judge_kind(sd_txn *t, const sd_actor *a, const Scpb__Op *op, sd_result *res)
{
    const sc_opkind *k = sc_opkind_of(op->body_case);
    const char *kname = k ? k->name : "op";
    int type = (int)op->entity_type;
    if (!sc_op_kind_applies(op->body_case, op->entity_type))
        return sd_reject(res, R_(WRONG_ENTITY_TYPE), "%s does not apply to a %s", kname,
                         sd_type_name(type));
    if (!sc_policy_allows(a->p.role, op->body_case, op->entity_type)) {
        const char *role = sc_name_of(&sc_names_role, a->p.role);
        return sd_reject(res, R_(FORBIDDEN_ROLE), "a %s may not make %s on a %s",
                         role ? role : "user without a role", kname, sd_type_name(type));
    }
    for (size_t d = 0; d < op->n_deps; d++)
        if (op->deps[d].len == SC_HASH_LEN && sd_refused_has(t, op->deps[d].data))
            return sd_reject(res, R_(UNKNOWN_DEPENDENCY),
                             "depends on an op of this request that was rejected");
    return SC_OK;
}

/*
 * A dep must be a logged op of this entity, and those are exactly the
 * entity's ops as the cache holds them (loaded from the log, plus those
 * this transaction accepted): no lookup by id in the log is needed.  The
 * op's HLC is after each dep's, and the entity has room for it.
 */
static sc_status judge_deps(const sd_ent *e, const Scpb__Op *op, sd_result *res)
{
    int type = (int)op->entity_type;
    for (size_t d = 0; d < op->n_deps; d++) {
        size_t j = op->deps[d].len == SC_HASH_LEN ? sd_ent_find_op(e, op->deps[d].data) : e->nops;
        if (j == e->nops) {
            char dh[SC_HASH_HEX];
            sd_hex_id(op->deps[d].data, op->deps[d].len, dh, sizeof dh);
            return sd_reject(res, R_(UNKNOWN_DEPENDENCY), "dep %.16s is not a logged op of this %s",
                             dh, sd_type_name(type));
        }
        if (e->ops[j]->op->hlc >= op->hlc)
            return sd_reject(res, R_(HLC_NOT_AFTER_DEPS),
                             "the op's HLC is not after the HLC of its dep at log index %llu",
                             (unsigned long long)e->idx[j]);
    }
    if (e->exists && e->row.op_count >= SC_ENTITY_OPS_MAX)
        return sd_reject(res, R_(ENTITY_FULL), "the %s already has %d ops", sd_type_name(type),
                         SC_ENTITY_OPS_MAX);
    return SC_OK;
}

/* The transition: fold the entity's ops with o, and accept o when the fold finds it valid. */
static sc_status judge_fold(sd_txn *t, sc_op *o, bool own, sd_ent *e, int64_t received_ms,
                            sd_result *res, bool *taken)
{
    size_t n = e->nops + 1;
    sc_fold_input *in = calloc(n, sizeof *in);
    if (!in)
        return sd_txn_fail(t, sc_err_set(t->err, SC_ERR_NOMEM, 0, "register: out of memory"));
    for (size_t i = 0; i < e->nops; i++) {
        in[i].id = e->ops[i]->id;
        in[i].op = e->ops[i]->op;
    }
    in[n - 1].id = o->id;
    in[n - 1].op = o->op;
    sc_fold_out fo;
    sc_err ferr;
    sc_err_clear(&ferr);
    sc_users users = sd_txn_users(t);
    sc_status rc = sc_fold(t->env, &users, in, n, &fo, &ferr);
    free(in);
    if (rc == SC_ERR_LIMIT)
        return sd_reject(res, R_(ENTITY_FULL), "%s", ferr.msg);
    if (rc == SC_ERR_REJECTED)
        return sd_reject(res, ferr.reason ? ferr.reason : R_(UNKNOWN_DEPENDENCY), "%s", ferr.msg);
    if (rc != SC_OK)
        return sd_txn_fail(
            t, sc_err_set(t->err, rc == SC_ERR_NOMEM || rc == SC_ERR_STORAGE ? rc : SC_ERR_INTERNAL,
                          0, "register: fold failed: %s", ferr.msg));
    if (fo.why[n - 1]) {
        sd_reject(res, R_(INVALID_TRANSITION), "%s", fo.why[n - 1]);
        sc_fold_out_dispose(t->env, &fo);
        return SC_OK;
    }
    Scpb__EntityState *st = fo.state;
    fo.state = NULL;
    sc_fold_out_dispose(t->env, &fo);
    rc = sd_accept(t, o, own, e, st, received_ms, res);
    if (rc != SC_OK) {
        /* sd_accept() hands st to the cache only on success. */
        if (e->state != st)
            sc_state_free(t->env, st);
        return rc;
    }
    *taken = own;
    return SC_OK;
}

sc_status sd_judge_op(sd_txn *t, const sd_actor *a, sc_op *o, bool own, int64_t received_ms,
                      sd_result *res, bool *taken)
{
    *taken = false;
    const Scpb__Op *op = o->op;
    memcpy(res->op_id, o->id, SC_HASH_LEN);
    res->status = SCPB__OP_STATUS__OP_REJECTED;
    res->reason = SC_REASON_NONE;
    res->log_index = 0;
    res->message[0] = '\0';
    sd_txn_trim(t);

    /*
     * A duplicate is an op of the same entity (the op id hashes the entity
     * in), so the entity's ops, as the cache holds them, are where to look;
     * the dep check and the fold need them loaded anyway.
     */
    sd_ent *e = sd_ent_get(t, op->entity.data);
    if (!e)
        return t->rc;
    sc_status rc = sd_ent_load_ops(t, e);
    if (rc != SC_OK)
        return rc;
    size_t dup = sd_ent_find_op(e, o->id);
    if (dup < e->nops) {
        res->status = SCPB__OP_STATUS__OP_DUPLICATE;
        res->log_index = e->idx[dup];
        return SC_OK;
    }

    /* In the order of docs/protocol.md §5: the first failing check names the reason. */
    if ((rc = judge_author(t, a, op, res)) != SC_OK || res->reason != 0)
        return rc;
    if ((rc = judge_kind(t, a, op, res)) != SC_OK || res->reason != 0)
        return rc;
    rc = judge_entity(t, a, op, e, res);
    if (rc != SC_OK || res->reason != 0)
        return rc;

    rc = check_refs(t, a, o, e, res);
    if (rc != SC_OK)
        return sd_txn_fail(t, rc);
    if (t->rc != SC_OK)
        return t->rc;
    if (res->reason != 0)
        return SC_OK;

    if ((rc = judge_deps(e, op, res)) != SC_OK || res->reason != 0)
        return rc;
    /* Inspections and findings: the verdict of the batch fold, the state folded later. */
    const sd_verdict *v = batch_verdict(t, e, o);
    if (t->rc != SC_OK)
        return t->rc;
    if (!v)
        return judge_fold(t, o, own, e, received_ms, res, taken);
    if (v->why)
        return sd_reject(res, R_(INVALID_TRANSITION), "%s", v->why);
    rc = sd_accept(t, o, own, e, NULL, received_ms, res);
    if (rc == SC_OK)
        *taken = own;
    return rc;
}
