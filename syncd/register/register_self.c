/*
 * register_self.c: self-checks (自查) and self-reported hazards (自查自纠,
 * 及时登记) at the register (docs/data-model.md §4.4; docs/protocol.md §5,
 * §6).  The role table lets a user of the responsible role open, score and
 * submit inspections, raise findings and issue notices; here the register
 * holds them to their own:
 *  - a responsible user opens only self-checks (InspectionOpen.self_check,
 *    kind self), and only on targets of their org unit or below (the scope
 *    check every open has); nobody else opens one;
 *  - a self-check is scored, submitted and photographed by responsible
 *    users, and nobody else scores, submits or amends one; a responsible
 *    user acts on no other inspection;
 *  - a responsible user's finding is self-reported, and a self-reported
 *    finding, or any finding of a self-check, is a responsible user's;
 *  - a responsible user issues the notice of self-reported hazards only;
 *  - a spot check's verifies are self-checks of its own target.
 * Like the rest of judging, these only read, and a refusal leaves res
 * rejected and returns the txn's status.
 */
#include <string.h>

#include "core/ids.h"
#include "core/names.h"
#include "register_internal.h"

static bool is_responsible(const sd_actor *a)
{
    return a->p.role == SCPB__ROLE__ROLE_RESPONSIBLE;
}

/* The inspection's state when e is one (else NULL; t->rc on a failure). */
static const Scpb__InspectionState *inspection_of(sd_txn *t, sd_ent *e)
{
    const Scpb__EntityState *st = e && e->exists ? sd_ent_state(t, e) : NULL;
    return st && st->kind_case == SCPB__ENTITY_STATE__KIND_INSPECTION ? st->inspection : NULL;
}

sc_status sd_self_open(sd_txn *t, const sd_actor *a, const Scpb__InspectionOpen *b, sd_result *res)
{
    bool self = b->has_self_check && b->self_check;
    if (is_responsible(a) && !self)
        return sd_reject(res, R_(FORBIDDEN_ROLE),
                         "a responsible user opens self-checks (自查) only, on its own unit's "
                         "targets (check open --kind self)");
    if (!is_responsible(a) && self)
        return sd_reject(res, R_(FORBIDDEN_ROLE),
                         "a self-check (自查) is opened by the responsible unit itself; a "
                         "supervisor schedules a spot check of it (assign --verifies)");
    return SC_OK;
}

sc_status sd_self_inspection_act(sd_txn *t, const sd_actor *a, const Scpb__Op *op, sd_ent *e,
                                 sd_result *res)
{
    const Scpb__InspectionState *in = inspection_of(t, e);
    if (t->rc != SC_OK || !in)
        return t->rc;
    const sc_opkind *k = sc_opkind_of(op->body_case);
    if (is_responsible(a) && !in->self_check)
        return sd_reject(res, R_(FORBIDDEN_ROLE),
                         "%s: a responsible user works on its own self-checks (自查) only",
                         k ? k->name : "op");
    if (!is_responsible(a) && in->self_check)
        return sd_reject(res, R_(FORBIDDEN_ROLE),
                         "%s: a self-check (自查) is the responsible unit's own; a supervisor "
                         "verifies it with a spot check of its own",
                         k ? k->name : "op");
    return SC_OK;
}

sc_status sd_refs_photo_attach(sd_txn *t, const sd_actor *a, const Scpb__Op *op, sd_ent *e,
                               sd_result *res)
{
    return e->row.type == T_(INSPECTION) ? sd_self_inspection_act(t, a, op, e, res) : SC_OK;
}

sc_status sd_self_finding(sd_txn *t, const sd_actor *a, const Scpb__FindingCreate *b,
                          sd_result *res)
{
    bool self = b->has_self_reported && b->self_reported;
    if (is_responsible(a) && !self)
        return sd_reject(res, R_(BAD_FIELD),
                         "a responsible user's finding is self-reported (self_reported)");
    if (!is_responsible(a) && self)
        return sd_reject(res, R_(FORBIDDEN_ROLE),
                         "a self-reported hazard is raised by the responsible unit itself");
    if (!b->has_inspection)
        return SC_OK;
    sd_ent *ie = sd_ent_get(t, b->inspection.data);
    const Scpb__InspectionState *in = inspection_of(t, ie);
    if (t->rc != SC_OK || !in)
        return t->rc;
    if (in->self_check != self)
        return sd_reject(res, R_(FORBIDDEN_ROLE),
                         self ? "a responsible user raises hazards in its own self-checks (自查) "
                                "only"
                              : "the findings of a self-check (自查) are the responsible unit's "
                                "own");
    return SC_OK;
}

/*
 * A responsible user's notice is of its own self-reported hazard, and names
 * its own unit or one below it as responsible: a unit does not hand its
 * hazard, with its deadline, overdue flags and escalations, to another.
 */
sc_status sd_self_notice(sd_txn *t, const sd_actor *a, const Scpb__Notice *n, sd_ent *e,
                         sd_result *res)
{
    if (!is_responsible(a))
        return SC_OK;
    const Scpb__EntityState *st = sd_ent_state(t, e);
    if (!st)
        return t->rc;
    if (st->kind_case != SCPB__ENTITY_STATE__KIND_FINDING || !st->finding->self_reported)
        return sd_reject(res, R_(FORBIDDEN_ROLE),
                         "a responsible user issues the notice of its own self-reported hazards "
                         "only");
    if (!n->has_responsible || n->responsible.len != SC_ID_LEN)
        return SC_OK; /* judged as any notice: it names its unit (sd_refs_notice) */
    if (!sd_speaks_for(t, a, n->responsible.data) && t->rc == SC_OK)
        return sd_reject(res, R_(OUT_OF_SCOPE),
                         "a responsible user's notice names its own org unit or one below it as "
                         "responsible, not another");
    return t->rc;
}

sc_status sd_refs_verifies(sd_txn *t, const sd_actor *a, const Scpb__AssignmentCreate *b,
                           sd_result *res)
{
    for (size_t k = 0; k < b->n_verifies; k++) {
        sd_ent *ie = sd_judge_ref(t, a, &b->verifies[k], T_(INSPECTION), "self-check", res);
        if (!ie)
            return t->rc;
        const Scpb__InspectionState *in = inspection_of(t, ie);
        if (t->rc != SC_OK)
            return t->rc;
        char hex[SC_ID_HEX];
        sd_hex_id(ie->id, SC_ID_LEN, hex, sizeof hex);
        if (!in || !in->self_check)
            return sd_reject(res, R_(BAD_FIELD),
                             "inspection %s is not a self-check (自查): a spot check verifies "
                             "self-checks",
                             hex);
        if (!ie->row.has_target || b->target.len != SC_ID_LEN ||
            memcmp(ie->row.target, b->target.data, SC_ID_LEN) != 0)
            return sd_reject(res, R_(BAD_FIELD),
                             "self-check %s is of another target: a spot check verifies the "
                             "self-checks of its own target",
                             hex);
    }
    return SC_OK;
}
