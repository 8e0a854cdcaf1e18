/*
 * register_esc.c: what the register checks of linked look-backs beyond the
 * fold (docs/data-model.md §4.3; docs/protocol.md §5):
 *  - an assignment's rechecks are findings the author can see, of the
 *    assignment's own target (a look-back round goes back to one place);
 *  - a revisit naming its look-back round names an assignment the author
 *    can see that re-checks this finding.
 * Escalations and stop-work orders need nothing beyond the fold and the
 * role table: they reference nothing.  Like the rest of judging, these
 * only read, and a refusal leaves res rejected and returns the txn's status.
 */
#include <string.h>

#include "core/ids.h"
#include "register_internal.h"

sc_status sd_refs_rechecks(sd_txn *t, const sd_actor *a, const Scpb__AssignmentCreate *b,
                           sd_result *res)
{
    for (size_t k = 0; k < b->n_rechecks; k++) {
        sd_ent *fe = sd_judge_ref(t, a, &b->rechecks[k], T_(FINDING), "re-checked finding", res);
        if (!fe)
            return t->rc;
        if (!fe->row.has_target || b->target.len != SC_ID_LEN ||
            memcmp(fe->row.target, b->target.data, SC_ID_LEN) != 0) {
            char hex[SC_ID_HEX];
            sd_hex_id(fe->id, SC_ID_LEN, hex, sizeof hex);
            return sd_reject(res, R_(BAD_FIELD),
                             "finding %s is of another target: a look-back round re-checks the "
                             "findings of its own target",
                             hex);
        }
    }
    return SC_OK;
}

sc_status sd_refs_revisit(sd_txn *t, const sd_actor *a, const Scpb__Op *op, sd_ent *e,
                          sd_result *res)
{
    const Scpb__Revisit *r = op->revisit;
    if (!r->has_look_back_of)
        return SC_OK;
    sd_ent *as = sd_judge_ref(t, a, &r->look_back_of, T_(ASSIGNMENT), "look-back round", res);
    if (!as)
        return t->rc;
    const Scpb__EntityState *st = sd_ent_state(t, as);
    if (!st)
        return t->rc;
    const Scpb__AssignmentState *s =
        st->kind_case == SCPB__ENTITY_STATE__KIND_ASSIGNMENT ? st->assignment : NULL;
    for (size_t k = 0; s && k < s->n_rechecks; k++)
        if (s->rechecks[k].len == SC_ID_LEN && memcmp(s->rechecks[k].data, e->id, SC_ID_LEN) == 0)
            return SC_OK;
    char hex[SC_ID_HEX];
    sd_hex_id(as->id, SC_ID_LEN, hex, sizeof hex);
    return sd_reject(res, R_(BAD_FIELD),
                     "assignment %s does not re-check this finding: a look-back belongs to a "
                     "round that names it (spotcheck assign --recheck)",
                     hex);
}
