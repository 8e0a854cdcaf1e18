/*
 * register_gov.c: what the register checks of the rectification
 * governance ops beyond the fold (docs/protocol.md §5; the fold's rules are
 * in core/merge_gov.c, and the client's replica judges them alike):
 *  - where people sit, for the fold's acceptance rule: a user's org unit
 *    and an org unit's parent, read from their states (both fixed when the
 *    entity was created);
 *  - the notice: its responsible unit is an org unit, and a defaulted one
 *    is the target's;
 *  - the responsible unit's own acts (sign-for, a plan, an extension
 *    request): a user of the responsible role speaks for the finding's
 *    responsible unit, or a unit above it;
 *  - a plan's responsible person, when a user, is one of the register;
 *  - an inspection's submission: every finding it lists is one of the
 *    inspection's own that the author can see, and carries its notice (or
 *    was fixed on the spot, or voided) in the heads it lists, unless it
 *    was made under the earlier rules (recorded by an older client before
 *    the register took these: register_judge.c).
 * Like the rest of judging, these only read, and a refusal leaves res
 * rejected and returns the txn's status.
 */
#include <stdlib.h>
#include <string.h>

#include "core/governance.h"
#include "core/ids.h"
#include "core/names.h"
#include "core/opkind.h"
#include "core/score.h"
#include "register_internal.h"

/* ---- where people sit (the fold's sc_users) ---- */

/* The created state of entity id, when it exists and is of `kind`; NULL otherwise (t->rc). */
static const Scpb__EntityState *created_of(sd_txn *t, const uint8_t id[SC_ID_LEN],
                                           Scpb__EntityState__KindCase kind)
{
    sd_ent *e = sd_ent_get(t, id);
    if (!e || !e->exists)
        return NULL;
    const Scpb__EntityState *st = sd_ent_created_state(t, e);
    return st && st->kind_case == kind ? st : NULL;
}

static sc_status txn_org_of(void *ctx, const uint8_t user[SC_ID_LEN], uint8_t org[SC_ID_LEN])
{
    sd_txn *t = ctx;
    const Scpb__EntityState *st = created_of(t, user, SCPB__ENTITY_STATE__KIND_USER);
    if (t->rc != SC_OK)
        return t->rc;
    if (!st || !st->user->has_org || st->user->org.len != SC_ID_LEN)
        return SC_ERR_NOT_FOUND;
    memcpy(org, st->user->org.data, SC_ID_LEN);
    return SC_OK;
}

static sc_status txn_parent_of(void *ctx, const uint8_t org[SC_ID_LEN], uint8_t parent[SC_ID_LEN],
                               bool *has)
{
    sd_txn *t = ctx;
    const Scpb__EntityState *st = created_of(t, org, SCPB__ENTITY_STATE__KIND_ORG);
    if (t->rc != SC_OK)
        return t->rc;
    if (!st)
        return SC_ERR_NOT_FOUND;
    *has = st->org->has_parent && st->org->parent.len == SC_ID_LEN;
    if (*has)
        memcpy(parent, st->org->parent.data, SC_ID_LEN);
    return SC_OK;
}

sc_users sd_txn_users(sd_txn *t)
{
    return (sc_users){
        .user_of = sd_txn_user_of, .ctx = t, .org_of = txn_org_of, .parent_of = txn_parent_of};
}

/* ---- the finding an op is on ---- */

/* The finding's state (current), or NULL (t->rc on a failure). */
static const Scpb__FindingState *finding_of(sd_txn *t, sd_ent *e)
{
    const Scpb__EntityState *st = sd_ent_state(t, e);
    return st && st->kind_case == SCPB__ENTITY_STATE__KIND_FINDING ? st->finding : NULL;
}

static const char *org_code(sd_txn *t, const uint8_t id[SC_ID_LEN])
{
    const Scpb__EntityState *st = created_of(t, id, SCPB__ENTITY_STATE__KIND_ORG);
    return st && st->org->code ? st->org->code : "?";
}

/* ---- the ops ---- */

sc_status sd_refs_notice(sd_txn *t, const sd_actor *a, const Scpb__Op *op, sd_ent *e,
                         sd_result *res)
{
    const Scpb__Notice *n = op->notice;
    sc_status rc = sd_self_notice(t, a, n, e, res);
    if (rc != SC_OK || res->reason != 0)
        return rc;
    if (!sd_judge_ref(t, a, &n->responsible, T_(ORG_UNIT), "responsible org unit", res))
        return t->rc;
    if (!(n->has_responsible_defaulted && n->responsible_defaulted))
        return SC_OK;
    /* A defaulted unit is the target's: the one the finding's scope is decided on. */
    if (!e->row.has_scope || memcmp(e->row.scope_org, n->responsible.data, SC_ID_LEN) != 0)
        return sd_reject(res, R_(BAD_FIELD),
                         "a defaulted responsible unit is the target's org unit (%s), not %s",
                         e->row.has_scope ? org_code(t, e->row.scope_org) : "?",
                         org_code(t, n->responsible.data));
    return t->rc;
}

bool sd_speaks_for(sd_txn *t, const sd_actor *a, const uint8_t org[SC_ID_LEN])
{
    const sd_orgtree *tree = NULL;
    sc_status rc = sd_orgcache_get(&t->c->orgs, t->s, &tree, t->err);
    if (rc != SC_OK) {
        sd_txn_fail(t, rc);
        return false;
    }
    return sd_orgtree_within(tree, org, a->p.org);
}

/*
 * A user of the responsible role acts for the finding's responsible unit:
 * their org unit is that unit or one above it.  Supervisors and the others
 * the table lets make the op are judged by scope alone, and so is a
 * report (unnamed_ok) on a finding of the earlier rules, which names no
 * unit (it has no notice).
 */
static sc_status unit_act(sd_txn *t, const sd_actor *a, const Scpb__Op *op, sd_ent *e,
                          sd_result *res, bool unnamed_ok)
{
    if (a->p.role != SCPB__ROLE__ROLE_RESPONSIBLE)
        return SC_OK;
    const Scpb__FindingState *f = finding_of(t, e);
    if (t->rc != SC_OK)
        return t->rc;
    const sc_opkind *k = sc_opkind_of(op->body_case);
    if (!f || !f->has_responsible || f->responsible.len != SC_ID_LEN)
        return unnamed_ok ? SC_OK
                          : sd_reject(res, R_(INVALID_TRANSITION),
                                      "%s: the finding names no responsible unit yet (its "
                                      "notice does)",
                                      k ? k->name : "op");
    if (!sd_speaks_for(t, a, f->responsible.data) && t->rc == SC_OK)
        return sd_reject(
            res, R_(OUT_OF_SCOPE), "%s is for the responsible unit (%s): you speak for %s",
            k ? k->name : "op", org_code(t, f->responsible.data), org_code(t, a->p.org));
    return t->rc;
}

sc_status sd_refs_unit_act(sd_txn *t, const sd_actor *a, const Scpb__Op *op, sd_ent *e,
                           sd_result *res)
{
    return unit_act(t, a, op, e, res, false);
}

/* A rectification report by a user of the responsible role is for the unit the finding names. */
sc_status sd_refs_report(sd_txn *t, const sd_actor *a, const Scpb__Op *op, sd_ent *e,
                         sd_result *res)
{
    return unit_act(t, a, op, e, res, true);
}

sc_status sd_refs_plan(sd_txn *t, const sd_actor *a, const Scpb__Op *op, sd_ent *e, sd_result *res)
{
    const Scpb__RectificationPlan *p = op->plan;
    if (p->has_person_user &&
        !sd_judge_ref(t, a, &p->person_user, T_(USER), "responsible person", res))
        return t->rc;
    return sd_refs_unit_act(t, a, op, e, res);
}

/* ---- the submission: every listed finding carries its notice ---- */

/*
 * Is a notice (or a fixed-on-the-spot creation, or a whole-entity void) in
 * the causal past of the finding's heads the submission lists?  With none
 * of its heads listed, every op of the finding counts.
 */
static bool noticed(sd_txn *t, sd_ent *fe, const Scpb__InspectionSubmit *b)
{
    bool *seen = calloc(fe->nops ? fe->nops : 1, sizeof *seen);
    size_t *stack = calloc(fe->nops ? fe->nops : 1, sizeof *stack);
    size_t n = 0;
    bool found = false;
    if (!seen || !stack) {
        sd_txn_fail(t, sc_err_set(t->err, SC_ERR_NOMEM, 0, "register: out of memory"));
        goto done;
    }
    for (size_t h = 0; h < b->n_finding_heads; h++) {
        size_t j = sd_ent_find_op(fe, b->finding_heads[h].data);
        if (j < fe->nops && !seen[j]) {
            seen[j] = true;
            stack[n++] = j;
        }
    }
    if (n == 0)
        for (size_t j = 0; j < fe->nops; j++) {
            seen[j] = true;
            stack[n++] = j;
        }
    while (n > 0 && !found) {
        const Scpb__Op *op = fe->ops[stack[--n]]->op;
        found = op->body_case == K_(NOTICE) ||
                (op->body_case == K_(FINDING_CREATE) && op->finding_create->has_fixed_on_spot &&
                 op->finding_create->fixed_on_spot) ||
                (op->body_case == K_(VOID_RECORD) && !op->void_record->has_target_op);
        for (size_t d = 0; d < op->n_deps && !found; d++) {
            size_t j = sd_ent_find_op(fe, op->deps[d].data);
            if (j < fe->nops && !seen[j]) {
                seen[j] = true;
                stack[n++] = j;
            }
        }
    }
done:
    free(seen);
    free(stack);
    return found;
}

/* Was the finding made under the earlier rules (its creation names none)? */
static bool earlier_rules(const sd_ent *fe)
{
    for (size_t j = 0; j < fe->nops; j++) {
        const Scpb__Op *op = fe->ops[j]->op;
        if (op->body_case == K_(FINDING_CREATE))
            return !op->finding_create->has_rules;
    }
    return false;
}

/* What a finding without its notice lacks, in the refusal. */
static sc_status refuse_unnoticed(sd_txn *t, sd_ent *fe, sd_result *res)
{
    char hex[SC_ID_HEX];
    sd_hex_id(fe->id, SC_ID_LEN, hex, sizeof hex);
    const Scpb__FindingState *f = finding_of(t, fe);
    if (t->rc != SC_OK)
        return t->rc;
    bool unit = f && f->has_responsible, deadline = f && f->has_deadline_day;
    if (f && f->grade == SCPB__GRADE__GRADE_MAJOR)
        return sd_reject(res, R_(INVALID_TRANSITION),
                         "finding %s is a major hazard without its notice (限期整改通知): %s", hex,
                         !unit && !deadline ? "it names no responsible unit and no deadline"
                         : !unit            ? "it names no responsible unit"
                         : !deadline        ? "it names no deadline"
                                            : "the notice naming its unit and deadline was not "
                                              "issued");
    return sd_reject(res, R_(INVALID_TRANSITION),
                     "finding %s has no notice (限期整改通知): a submission issues one for every "
                     "finding not fixed on the spot",
                     hex);
}

/*
 * An item not met that asks for a photo has one (core/score.h, as the
 * client checks before it submits), in the inspection as the register has it.
 */
static sc_status photos_required(sd_txn *t, sd_ent *e, sd_result *res)
{
    const Scpb__EntityState *st = sd_ent_state(t, e);
    if (!st || st->kind_case != SCPB__ENTITY_STATE__KIND_INSPECTION ||
        !st->inspection->has_template_ || st->inspection->template_.len != SC_ID_LEN)
        return t->rc;
    sd_ent *te = sd_ent_get(t, st->inspection->template_.data);
    const Scpb__EntityState *ts = te ? sd_ent_state(t, te) : NULL;
    if (!ts || ts->kind_case != SCPB__ENTITY_STATE__KIND_TEMPLATE)
        return t->rc;
    char why[SC_ERR_MSG_MAX];
    int reason = sc_score_check_submit(ts->template_, st, why, sizeof why);
    return reason != SC_REASON_NONE ? sd_reject(res, reason, "%s", why) : SC_OK;
}

/*
 * A finding the submission lists: one of inspection insp's findings that
 * the author can see; NULL when not (res rejected) or on a storage error.
 * An id the register does not have, a hidden entity, an entity of another
 * type and a finding of another inspection get one answer, so a listed id
 * tells nothing of what the author may not see (docs/security.md).  They
 * are refused, not skipped: the inspection's state keeps the list, and an
 * honest client lists only this inspection's findings from its replica
 * (sc_check_submit), which the register has (their creations are pushed
 * before the submission, and a refused one leaves the replica) and which
 * whoever may submit the inspection sees.
 */
static sd_ent *listed_finding(sd_txn *t, const sd_actor *a, const ProtobufCBinaryData *id,
                              const sd_ent *insp, sd_result *res)
{
    sd_ent *fe = sd_judge_ref(t, a, id, T_(FINDING), "listed finding", res);
    if (t->rc != SC_OK || (!fe && id->len != SC_ID_LEN))
        return NULL;
    if (fe && fe->row.has_inspection && memcmp(fe->row.inspection, insp->id, SC_ID_LEN) == 0)
        return fe;
    char hex[SC_ID_HEX];
    sd_hex_id(id->data, SC_ID_LEN, hex, sizeof hex);
    sd_reject(res, R_(UNKNOWN_REFERENCE),
              "listed finding %s is not a known finding of this inspection", hex);
    return NULL;
}

sc_status sd_refs_inspection_submit(sd_txn *t, const sd_actor *a, const Scpb__Op *op, sd_ent *e,
                                    sd_result *res)
{
    const Scpb__InspectionSubmit *b = op->inspection_submit;
    sc_status self = sd_self_inspection_act(t, a, op, e, res);
    if (self != SC_OK || res->reason != 0)
        return self;
    sc_status prc = photos_required(t, e, res);
    if (prc != SC_OK || res->reason != SC_REASON_NONE) /* refused: res says why */
        return prc;
    for (size_t k = 0; k < b->n_findings; k++) {
        sd_ent *fe = listed_finding(t, a, &b->findings[k], e, res);
        if (!fe)
            return t->rc;
        sc_status rc = sd_ent_load_ops(t, fe);
        if (rc != SC_OK)
            return rc;
        if (!earlier_rules(fe) && !noticed(t, fe, b))
            return t->rc != SC_OK ? t->rc : refuse_unnoticed(t, fe, res);
    }
    return t->rc;
}
